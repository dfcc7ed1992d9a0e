//! What was pasted: a JWT, or a handle (an opaque token, a `jti` or a log id)
//! to look up, or something that is none of these, said in one line.

use crate::jose::{decode_unverified, Header};
use serde_json::Value;

/// Longer than any token, jti or log id Gatehouse (or Auth0) writes.
pub const MAX_INPUT_LEN: usize = 16 * 1024;

/// A pasted string, recognised.
#[derive(Debug, Clone, PartialEq)]
pub enum Pasted<'a> {
    /// A compact JWS, decoded without trusting it.
    Jwt {
        /// The token as pasted (whitespace and `Bearer ` removed).
        token: &'a str,
        /// Its header.
        header: Header,
        /// Its claims.
        claims: Value,
    },
    /// Characters an opaque token, a `jti` or a log id is made of: look it up.
    Handle(&'a str),
}

/// Recognises a pasted string; `Err` is the one-line reason it is nothing
/// Gatehouse could have written.
pub fn classify(input: &str) -> Result<Pasted<'_>, String> {
    let text = input.trim();
    let text = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .map_or(text, str::trim);
    if text.is_empty() {
        return Err(
            "nothing to explain: the input is empty (paste a token, a jti or a log id)".into(),
        );
    }
    if text.len() > MAX_INPUT_LEN {
        return Err(format!(
            "not a token: the input is {} bytes long, more than any token, jti or log id \
             (at most {MAX_INPUT_LEN})",
            text.len()
        ));
    }
    if let Some(bad) = text.chars().find(|c| !is_token_char(*c)) {
        return Err(format!(
            "not a token: it contains {}, which no token, jti or log id has",
            describe_char(bad)
        ));
    }
    match text.matches('.').count() {
        0 => Ok(Pasted::Handle(text)),
        2 => jwt(text),
        4 => Err(
            "an encrypted token (JWE, five parts): Gatehouse issues signed JWTs only, \
                  and cannot read what is inside"
                .into(),
        ),
        n => Err(format!(
            "not a token: a JWT has three parts separated by two dots, this has {}",
            n + 1
        )),
    }
}

fn jwt(token: &str) -> Result<Pasted<'_>, String> {
    let (header, claims) = decode_unverified(token)
        .map_err(|e| format!("looks like a JWT (three parts) but cannot be decoded: {e}"))?;
    if header.alg.eq_ignore_ascii_case("none") {
        return Err(
            "an unsigned JWT (alg \"none\"): anyone can write one, so nothing in it \
                    can be trusted; Gatehouse never issues or accepts such tokens"
                .into(),
        );
    }
    if !claims.is_object() {
        return Err("looks like a JWT but its claims are not a JSON object".into());
    }
    Ok(Pasted::Jwt {
        token,
        header,
        claims,
    })
}

/// base64url, the JWT dots, and what log ids and jtis use.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

fn describe_char(c: char) -> String {
    if c.is_whitespace() {
        "whitespace in the middle".into()
    } else if c.is_control() {
        format!("a control character (U+{:04X})", u32::from(c))
    } else {
        format!("the character {c:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn refuses_what_is_not_a_token_in_one_line() {
        let garbage = "x".repeat(100_000);
        let none = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(r#"{"sub":"a"}"#));
        let cases: Vec<(&str, &str)> = vec![
            ("", "input is empty"),
            ("   \n", "input is empty"),
            (&garbage, "100000 bytes long"),
            ("hello world", "whitespace in the middle"),
            ("{\"access_token\":1}", "the character '{'"),
            ("a\u{0}b", "control character (U+0000)"),
            ("a.b", "this has 2"),
            ("a.b.c.d.e", "encrypted token (JWE"),
            ("aaa.bbb.ccc", "cannot be decoded"),
            (&none, "unsigned JWT (alg \"none\")"),
        ];
        for (input, words) in cases {
            let err = classify(input).expect_err(input);
            assert!(err.contains(words), "{input:.40}: {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn recognises_jwts_and_handles() {
        let token = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"RS256","kid":"k1"}"#),
            b64(r#"{"sub":"auth0|1"}"#)
        );
        let padded = format!("  Bearer {token}\n");
        let pasted = classify(&padded).unwrap();
        match pasted {
            Pasted::Jwt { header, claims, .. } => {
                assert_eq!(header.kid.as_deref(), Some("k1"));
                assert_eq!(claims["sub"], "auth0|1");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            classify("90020261201abcdef").unwrap(),
            Pasted::Handle("90020261201abcdef")
        );
    }
}
