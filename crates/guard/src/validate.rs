//! Token validation as small named steps, with no I/O and the clock passed in.
//!
//! [`parse`] runs before any key is looked up, so a token that cannot be
//! valid costs no fetch: size cap, three base64url parts, a JSON header with
//! no `crit`, `alg` in the allow-list, `typ` of an access token. Then
//! [`verify_signature`] with the key the cache found for the header's `kid`,
//! and [`check_claims`]: `iss`, `aud`, `exp`, `nbf`.

use crate::algorithm::Algorithm;
use crate::claims::{numeric_date, Claims, Round};
use crate::config::GuardConfig;
use crate::error::TokenError;
use crate::jwk::VerificationKey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};
use std::sync::Arc;

/// A token whose shape and header passed; its signature is not checked yet.
#[derive(Debug)]
pub(crate) struct ParsedToken<'a> {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
    /// `header.payload`: the bytes the signature covers.
    signing_input: &'a str,
    payload: &'a str,
    signature: &'a str,
}

/// The checks that need no key, in order.
pub(crate) fn parse<'a>(
    token: &'a str,
    config: &GuardConfig,
) -> Result<ParsedToken<'a>, TokenError> {
    check_size(token, config.max_token_bytes)?;
    let (header, payload, signature) = split(token)?;
    let header = decode_header(header)?;
    let alg = check_alg(&header, &config.algorithms)?;
    check_typ(&header, config.require_at_jwt)?;
    let kid = optional_header_string(&header, "kid")?;
    let signing_input = token
        .get(..token.len() - signature.len() - 1)
        .ok_or(TokenError::Malformed)?;
    Ok(ParsedToken {
        alg,
        kid,
        signing_input,
        payload,
        signature,
    })
}

/// A cheap refusal of oversized input, before it is decoded at all.
fn check_size(token: &str, max_bytes: usize) -> Result<(), TokenError> {
    if token.len() > max_bytes {
        return Err(TokenError::TooLarge);
    }
    Ok(())
}

/// RFC 7515 §7.1: `header.payload.signature`, each non-empty base64url.
fn split(token: &str) -> Result<(&str, &str, &str), TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let is_base64url = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if [header, payload, signature].into_iter().all(is_base64url) {
        Ok((header, payload, signature))
    } else {
        Err(TokenError::Malformed)
    }
}

fn decode_json_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn decode_header(part: &str) -> Result<Map<String, Value>, TokenError> {
    let header = decode_json_object(part).ok_or(TokenError::MalformedHeader)?;
    // RFC 7515 §4.1.11: an extension the recipient does not understand
    // makes the token invalid, and this guard understands none.
    if header.contains_key("crit") {
        return Err(TokenError::CriticalHeader);
    }
    Ok(header)
}

fn optional_header_string(
    header: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, TokenError> {
    match header.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(TokenError::MalformedHeader),
    }
}

/// RFC 8725 §3.1: the algorithm must be one the API expects; `none` and
/// HMAC are never among them.
fn check_alg(header: &Map<String, Value>, allowed: &[Algorithm]) -> Result<Algorithm, TokenError> {
    let name = optional_header_string(header, "alg")?.ok_or(TokenError::MalformedHeader)?;
    Algorithm::from_name(&name)
        .filter(|alg| allowed.contains(alg))
        .ok_or(TokenError::AlgorithmNotAllowed)
}

/// RFC 9068 §2.1 (`at+jwt`, with or without `application/`), RFC 8725 §3.11
/// (explicit typing keeps other kinds of JWT out).
fn check_typ(header: &Map<String, Value>, require_at_jwt: bool) -> Result<(), TokenError> {
    let typ = optional_header_string(header, "typ")?.map(|t| t.to_ascii_lowercase());
    let typ = typ
        .as_deref()
        .map(|t| t.strip_prefix("application/").unwrap_or(t));
    let accepted = match typ {
        Some("at+jwt") => true,
        Some("jwt") | None => !require_at_jwt,
        Some(_) => false,
    };
    if accepted {
        Ok(())
    } else {
        Err(TokenError::WrongType)
    }
}

/// The signature, with a key that [`VerificationKey::fits`] the token's `alg`.
pub(crate) fn verify_signature(
    token: &ParsedToken<'_>,
    key: &VerificationKey,
) -> Result<(), TokenError> {
    if !key.fits(token.alg) {
        return Err(TokenError::UnknownKey);
    }
    match jsonwebtoken::crypto::verify(
        token.signature,
        token.signing_input.as_bytes(),
        &key.key,
        token.alg.to_jsonwebtoken(),
    ) {
        Ok(true) => Ok(()),
        Ok(false) | Err(_) => Err(TokenError::BadSignature),
    }
}

/// The claims of a token whose signature verified: `iss` exactly, `aud`
/// naming a configured audience, `exp` and `nbf` against `now` (seconds
/// since the epoch) with the leeway.
pub(crate) fn check_claims(
    token: &ParsedToken<'_>,
    config: &GuardConfig,
    realm: Option<Arc<str>>,
    now: i64,
) -> Result<Claims, TokenError> {
    let payload = decode_json_object(token.payload).ok_or(TokenError::MalformedClaims)?;
    let not_before = numeric_date(&payload, "nbf", Round::Up)?;
    let claims = Claims::from_payload(payload, realm)?;
    check_issuer(&claims, &config.issuer)?;
    check_audience(&claims, &config.audiences)?;
    check_lifetime(claims.expires_at(), not_before, now, config.leeway_seconds)?;
    Ok(claims)
}

fn check_issuer(claims: &Claims, issuer: &str) -> Result<(), TokenError> {
    if claims.issuer() == issuer {
        Ok(())
    } else {
        Err(TokenError::WrongIssuer)
    }
}

/// RFC 7519 §4.1.3: the recipient must identify itself with a value in `aud`.
fn check_audience(claims: &Claims, audiences: &[String]) -> Result<(), TokenError> {
    if claims.audiences().iter().any(|aud| audiences.contains(aud)) {
        Ok(())
    } else {
        Err(TokenError::WrongAudience)
    }
}

/// RFC 7519 §4.1.4–4.1.5: valid from `nbf` and before `exp`, each widened
/// by the leeway.
fn check_lifetime(
    expires_at: i64,
    not_before: Option<i64>,
    now: i64,
    leeway: i64,
) -> Result<(), TokenError> {
    if now >= expires_at.saturating_add(leeway) {
        return Err(TokenError::Expired);
    }
    if not_before.is_some_and(|nbf| now < nbf.saturating_sub(leeway)) {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn config() -> GuardConfig {
        GuardConfig::new("https://issuer.example/", "https://api.example/")
    }

    fn b64(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn token(header: Value) -> String {
        format!("{}.{}.c2ln", b64(&header), b64(&json!({"sub": "x"})))
    }

    #[test]
    fn shape_errors() {
        let config = config();
        for bad in [
            "", ".", "..", "a.b", "a.b.c.d", "a..c", "a.b.", "a+b.c.d", "a.b.c=", "é.b.c",
        ] {
            assert_eq!(
                parse(bad, &config).unwrap_err(),
                TokenError::Malformed,
                "{bad:?}"
            );
        }
        assert_eq!(
            parse("a.b.c", &config).unwrap_err(),
            TokenError::MalformedHeader
        );
    }

    #[test]
    fn size_is_checked_first() {
        let huge = "a".repeat(DEFAULT_MAX_TOKEN_BYTES_FOR_TEST + 1);
        assert_eq!(parse(&huge, &config()).unwrap_err(), TokenError::TooLarge);
    }
    const DEFAULT_MAX_TOKEN_BYTES_FOR_TEST: usize = crate::config::DEFAULT_MAX_TOKEN_BYTES;

    #[test]
    fn algorithms() {
        let config = config();
        for alg in ["none", "HS256", "RS384", "rs256", ""] {
            let t = token(json!({"alg": alg, "kid": "k"}));
            assert_eq!(
                parse(&t, &config).unwrap_err(),
                TokenError::AlgorithmNotAllowed,
                "{alg}"
            );
        }
        let t = token(json!({"alg": 256}));
        assert_eq!(parse(&t, &config).unwrap_err(), TokenError::MalformedHeader);
        let t = token(json!({"typ": "JWT"}));
        assert_eq!(parse(&t, &config).unwrap_err(), TokenError::MalformedHeader);
        let t = token(json!({"alg": "RS256", "crit": ["exp"]}));
        assert_eq!(parse(&t, &config).unwrap_err(), TokenError::CriticalHeader);
        let t = token(json!({"alg": "ES256", "kid": "k"}));
        let parsed = parse(&t, &config).unwrap();
        assert_eq!(parsed.alg, Algorithm::ES256);
        assert_eq!(parsed.kid.as_deref(), Some("k"));
    }

    #[test]
    fn typ_of_an_access_token() {
        let plain = config();
        let strict = config().require_rfc9068_typ(true);
        for (typ, plain_ok, strict_ok) in [
            (json!("JWT"), true, false),
            (json!("jwt"), true, false),
            (json!("at+jwt"), true, true),
            (json!("application/at+jwt"), true, true),
            (json!("AT+JWT"), true, true),
            (json!("logout+jwt"), false, false),
            (json!("dpop+jwt"), false, false),
            (Value::Null, true, false),
        ] {
            let mut header = json!({"alg": "RS256"});
            if !typ.is_null() {
                header["typ"] = typ.clone();
            }
            let t = token(header);
            assert_eq!(parse(&t, &plain).is_ok(), plain_ok, "{typ}");
            assert_eq!(parse(&t, &strict).is_ok(), strict_ok, "strict {typ}");
        }
    }

    #[test]
    fn lifetime_with_leeway() {
        assert_eq!(check_lifetime(1000, None, 999, 0), Ok(()));
        assert_eq!(
            check_lifetime(1000, None, 1000, 0),
            Err(TokenError::Expired)
        );
        assert_eq!(check_lifetime(1000, None, 1059, 60), Ok(()));
        assert_eq!(
            check_lifetime(1000, None, 1060, 60),
            Err(TokenError::Expired)
        );
        assert_eq!(
            check_lifetime(1000, Some(500), 499, 0),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(check_lifetime(1000, Some(500), 440, 60), Ok(()));
        assert_eq!(
            check_lifetime(i64::MAX, Some(i64::MIN), 0, i64::MAX),
            Ok(())
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(token in ".{0,300}") {
            let _ = parse(&token, &config());
        }

        #[test]
        fn parse_never_panics_on_dotted_base64ish(token in "[A-Za-z0-9_\\-=.]{0,300}") {
            let _ = parse(&token, &config());
        }
    }
}
