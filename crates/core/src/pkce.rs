//! PKCE (RFC 7636): checking a `code_verifier` against the stored challenge.

use crate::error::messages::INVALID_CODE_VERIFIER;
use crate::error::OAuthError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The challenge methods; `plain` only when the client allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `BASE64URL(SHA-256(verifier))`.
    S256,
    /// The verifier itself.
    Plain,
}

impl Method {
    /// The method named by `code_challenge_method`, if known.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "S256" => Some(Self::S256),
            "plain" => Some(Self::Plain),
            _ => None,
        }
    }

    /// The method as `code_challenge_method` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Z] [a-z] [0-9] - . _ ~`.
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The S256 challenge of a verifier: BASE64URL(SHA256(verifier)).
pub fn s256_challenge(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// RFC 7636 §4.6: the verifier must reproduce the challenge.
pub fn check_code_verifier(
    challenge: &str,
    method: Method,
    verifier: Option<&str>,
) -> Result<(), OAuthError> {
    let verifier = verifier
        .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: code_verifier"))?;
    if !is_valid_verifier(verifier) {
        return Err(OAuthError::invalid_grant(INVALID_CODE_VERIFIER));
    }
    let computed = match method {
        Method::S256 => s256_challenge(verifier),
        Method::Plain => verifier.to_string(),
    };
    if crate::secret::constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
        Ok(())
    } else {
        Err(OAuthError::invalid_grant(INVALID_CODE_VERIFIER))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            s256_challenge(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let challenge = s256_challenge(verifier);
        assert!(check_code_verifier(&challenge, Method::S256, Some(verifier)).is_ok());
        assert!(check_code_verifier(&challenge, Method::S256, Some(&"a".repeat(43))).is_err());
        assert!(check_code_verifier(&challenge, Method::S256, Some("short")).is_err());
        assert!(check_code_verifier(&challenge, Method::S256, None).is_err());
        assert!(check_code_verifier(verifier, Method::Plain, Some(verifier)).is_ok());
    }
}
