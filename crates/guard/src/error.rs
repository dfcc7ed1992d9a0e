//! Why a request is refused, and its RFC 6750 answer.
//!
//! | case | status | `WWW-Authenticate` |
//! | --- | --- | --- |
//! | no bearer token | 401 | `Bearer realm="…"` (no error code, RFC 6750 §3.1) |
//! | a malformed `Authorization` header | 400 | `Bearer realm="…", error="invalid_request", …` |
//! | an invalid token ([`TokenError`]) | 401 | `Bearer realm="…", error="invalid_token", error_description="…"` |
//! | a missing scope or permission | 403 | `Bearer realm="…", error="insufficient_scope", error_description="…", scope="…"` |
//!
//! The body is JSON: `{"error": "…", "error_description": "…"}` (the error is
//! `unauthorized` when no token was sent). Descriptions are fixed sentences:
//! nothing from the token is echoed, so a header value can never be forged
//! by a client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt;
use std::sync::Arc;

/// Why a bearer token is refused: each failed check has its own variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Longer than the configured cap; refused before any decoding.
    #[error("the token is too large")]
    TooLarge,
    /// Not three base64url parts separated by dots.
    #[error("the token is not a compact JWS (three base64url parts)")]
    Malformed,
    /// The header is not base64url-encoded JSON with a string `alg`.
    #[error("the token header is not valid")]
    MalformedHeader,
    /// The header has `crit`: no extension is understood (RFC 7515 §4.1.11).
    #[error("the token header has a crit member")]
    CriticalHeader,
    /// `alg` is `none`, HMAC, unknown, or not in the allow-list.
    #[error("the token's signing algorithm is not allowed")]
    AlgorithmNotAllowed,
    /// The header `typ` is not that of an access token.
    #[error("the token's typ is not that of an access token")]
    WrongType,
    /// No key of the issuer has the token's `kid` (and fits its `alg`).
    #[error("no signing key of the issuer matches the token")]
    UnknownKey,
    /// The issuer's keys could not be fetched, and none are cached.
    #[error("the issuer's signing keys could not be fetched")]
    KeysUnavailable,
    /// The signature does not verify with the issuer's key.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// The payload is not a JSON object.
    #[error("the token's claims are not a JSON object")]
    MalformedClaims,
    /// A required claim is missing or has the wrong type.
    #[error("the token lacks a valid {0} claim")]
    MissingClaim(&'static str),
    /// `iss` is not the configured issuer.
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    /// `aud` names none of the configured audiences.
    #[error("the token is not meant for this API (aud)")]
    WrongAudience,
    /// `exp` has passed (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is still ahead (beyond the leeway).
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
}

/// What went wrong, without the rendering details.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// No `Authorization: Bearer …` header, or one with nothing after
    /// `Bearer`.
    MissingToken,
    /// An `Authorization` header that cannot be read (several, or not
    /// ASCII).
    InvalidRequest(&'static str),
    /// The token failed a check.
    InvalidToken(TokenError),
    /// The token is valid but does not grant this scope or permission.
    InsufficientScope(String),
}

/// A refused request: converts into the RFC 6750 response (axum's
/// [`IntoResponse`]), so handlers can use `?`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthError {
    kind: AuthErrorKind,
    realm: Option<Arc<str>>,
}

impl AuthError {
    pub(crate) fn new(kind: AuthErrorKind, realm: Option<Arc<str>>) -> Self {
        Self { kind, realm }
    }

    /// What went wrong.
    pub fn kind(&self) -> &AuthErrorKind {
        &self.kind
    }

    /// 401, 400 or 403.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            AuthErrorKind::MissingToken | AuthErrorKind::InvalidToken(_) => {
                StatusCode::UNAUTHORIZED
            }
            AuthErrorKind::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            AuthErrorKind::InsufficientScope(_) => StatusCode::FORBIDDEN,
        }
    }

    /// The RFC 6750 error code; `None` when no token was sent.
    pub fn error_code(&self) -> Option<&'static str> {
        match self.kind {
            AuthErrorKind::MissingToken => None,
            AuthErrorKind::InvalidRequest(_) => Some("invalid_request"),
            AuthErrorKind::InvalidToken(_) => Some("invalid_token"),
            AuthErrorKind::InsufficientScope(_) => Some("insufficient_scope"),
        }
    }

    /// A sentence for people: why the request was refused.
    pub fn description(&self) -> String {
        match &self.kind {
            AuthErrorKind::MissingToken => "no bearer token in the Authorization header".into(),
            AuthErrorKind::InvalidRequest(why) => (*why).into(),
            AuthErrorKind::InvalidToken(why) => why.to_string(),
            AuthErrorKind::InsufficientScope(scope) => {
                format!("the token does not grant {}", quotable(scope))
            }
        }
    }

    /// The `WWW-Authenticate` header value (RFC 6750 §3).
    pub fn www_authenticate(&self) -> String {
        let mut params = Vec::new();
        if let Some(realm) = &self.realm {
            params.push(format!("realm=\"{}\"", quotable(realm)));
        }
        if let Some(code) = self.error_code() {
            params.push(format!("error=\"{code}\""));
            params.push(format!(
                "error_description=\"{}\"",
                quotable(&self.description())
            ));
        }
        if let AuthErrorKind::InsufficientScope(scope) = &self.kind {
            params.push(format!("scope=\"{}\"", quotable(scope)));
        }
        if params.is_empty() {
            "Bearer".into()
        } else {
            format!("Bearer {}", params.join(", "))
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description())
    }
}

impl std::error::Error for AuthError {}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": self.error_code().unwrap_or("unauthorized"),
            "error_description": self.description(),
        });
        let challenge = HeaderValue::from_str(&self.www_authenticate())
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
        let mut response = (self.status(), axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
        response
    }
}

/// `text` with only the characters RFC 6750 §3 allows inside its quoted
/// values (printable ASCII without `"` and `\`).
fn quotable(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, ' ' | '!' | '#'..='[' | ']'..='~'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn realm() -> Option<Arc<str>> {
        Some(Arc::from("https://api.example/"))
    }

    #[test]
    fn no_token_has_no_error_code() {
        let error = AuthError::new(AuthErrorKind::MissingToken, realm());
        assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            error.www_authenticate(),
            "Bearer realm=\"https://api.example/\""
        );
        assert_eq!(
            AuthError::new(AuthErrorKind::MissingToken, None).www_authenticate(),
            "Bearer"
        );
    }

    #[test]
    fn invalid_token_names_the_reason() {
        let error = AuthError::new(AuthErrorKind::InvalidToken(TokenError::Expired), realm());
        assert_eq!(
            error.www_authenticate(),
            "Bearer realm=\"https://api.example/\", error=\"invalid_token\", \
             error_description=\"the token has expired\""
        );
    }

    #[test]
    fn insufficient_scope_names_the_scope_and_strips_quotes() {
        let error = AuthError::new(
            AuthErrorKind::InsufficientScope("read:\"x\\y\"\n".into()),
            None,
        );
        assert_eq!(error.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            error.www_authenticate(),
            "Bearer error=\"insufficient_scope\", \
             error_description=\"the token does not grant read:xy\", scope=\"read:xy\""
        );
    }
}
