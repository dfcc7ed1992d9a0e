//! The OAuth error every authentication-API endpoint renders.
//!
//! One type, one status mapping (auth0-compat.md §2): Auth0 answers 403 for
//! `invalid_grant`, `unauthorized_client` and `access_denied`, 401 for
//! `invalid_client`, 429 for the rate-limit family. The HTTP layer turns an
//! [`OAuthError`] into `{"error", "error_description"}` and nothing else; internal
//! causes are logged where they happen and never reach the client.

use serde::Serialize;

/// The `error` codes Gatehouse emits, RFC 6749 §5.2 plus Auth0's additions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    InvalidToken,
    InsufficientScope,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    TooManyAttempts,
    TooManyRequests,
    MfaRequired,
}

impl ErrorCode {
    /// The wire string (`error` member).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::TooManyAttempts => "too_many_attempts",
            Self::TooManyRequests => "too_many_requests",
            Self::MfaRequired => "mfa_required",
        }
    }

    /// The HTTP status Auth0 uses for this code at the token endpoint (§2 table).
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidClient | Self::InvalidToken => 401,
            Self::InvalidGrant
            | Self::UnauthorizedClient
            | Self::AccessDenied
            | Self::AuthorizationPending
            | Self::ExpiredToken
            | Self::InsufficientScope
            | Self::MfaRequired
            | Self::LoginRequired
            | Self::ConsentRequired
            | Self::InteractionRequired => 403,
            Self::SlowDown | Self::TooManyAttempts | Self::TooManyRequests => 429,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            Self::InvalidRequest
            | Self::UnsupportedGrantType
            | Self::UnsupportedResponseType
            | Self::InvalidScope => 400,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Descriptions that SDKs match on. Byte-exact; each is pinned by a test.
pub mod messages {
    /// auth0-spa-js falls back to the iframe when the description contains
    /// `invalid refresh token` (case-insensitive).
    pub const INVALID_REFRESH_TOKEN: &str = "Unknown or invalid refresh token.";
    pub const WRONG_EMAIL_OR_PASSWORD: &str = "Wrong email or password.";
    /// auth0-spa-js logs the user out when the description contains `user is blocked`.
    pub const USER_IS_BLOCKED: &str = "user is blocked";
    pub const INVALID_AUTHORIZATION_CODE: &str = "Invalid authorization code";
    pub const INVALID_CODE_VERIFIER: &str = "Failed to verify code verifier";
    pub const AUTHORIZATION_PENDING: &str = "User has yet to authorize device code.";
    pub const SLOW_DOWN: &str = "You are polling faster than allowed. Try again in 10 seconds.";
    pub const EXPIRED_TOKEN: &str = "The device code has expired.";
    pub const INVALID_DEVICE_CODE: &str = "Invalid or expired device code.";
    pub const TOO_MANY_ATTEMPTS: &str =
        "Your account has been blocked after multiple consecutive login attempts.";
    pub const CLIENT_AUTH_FAILED: &str = "Client authentication failed.";
    pub const SERVER_ERROR: &str =
        "Something went wrong on our side. The incident has been logged.";
}

/// An OAuth protocol error: a code and a human-readable description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{error}: {error_description}")]
pub struct OAuthError {
    #[serde(serialize_with = "serialize_code")]
    pub error: ErrorCode,
    pub error_description: String,
}

fn serialize_code<S: serde::Serializer>(code: &ErrorCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(code.as_str())
}

impl OAuthError {
    pub fn new(error: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            error,
            error_description: description.into(),
        }
    }
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, d)
    }
    pub fn access_denied(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::AccessDenied, d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidScope, d)
    }
    /// `Grant type '<g>' not allowed for the client.` (ruby-auth0#190).
    pub fn grant_type_not_allowed(grant_type: &str) -> Self {
        Self::new(
            ErrorCode::UnauthorizedClient,
            format!("Grant type '{grant_type}' not allowed for the client."),
        )
    }
    /// `Service not found: <aud>` for an audience no API has.
    pub fn service_not_found(audience: &str) -> Self {
        Self::access_denied(format!("Service not found: {audience}"))
    }
    /// Client credentials without a client grant (ruby-auth0#610).
    pub fn client_not_authorized_for(audience: &str) -> Self {
        Self::access_denied(format!(
            "Client is not authorized to access \"{audience}\". You need to create a \"client-grant\" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants"
        ))
    }
    pub fn server_error() -> Self {
        Self::new(ErrorCode::ServerError, messages::SERVER_ERROR)
    }
    pub fn status(&self) -> u16 {
        self.error.http_status()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_auth0() {
        assert_eq!(ErrorCode::InvalidRequest.http_status(), 400);
        assert_eq!(ErrorCode::InvalidScope.http_status(), 400);
        assert_eq!(ErrorCode::InvalidClient.http_status(), 401);
        assert_eq!(ErrorCode::UnauthorizedClient.http_status(), 403);
        assert_eq!(ErrorCode::AccessDenied.http_status(), 403);
        assert_eq!(ErrorCode::InvalidGrant.http_status(), 403);
        assert_eq!(ErrorCode::AuthorizationPending.http_status(), 403);
        assert_eq!(ErrorCode::ExpiredToken.http_status(), 403);
        assert_eq!(ErrorCode::SlowDown.http_status(), 429);
        assert_eq!(ErrorCode::TooManyAttempts.http_status(), 429);
        assert_eq!(ErrorCode::TooManyRequests.http_status(), 429);
    }

    #[test]
    fn sdk_matched_strings_are_pinned() {
        assert_eq!(
            messages::INVALID_REFRESH_TOKEN,
            "Unknown or invalid refresh token."
        );
        assert!(messages::INVALID_REFRESH_TOKEN
            .to_lowercase()
            .contains("invalid refresh token"));
        assert_eq!(
            messages::WRONG_EMAIL_OR_PASSWORD,
            "Wrong email or password."
        );
        assert_eq!(
            OAuthError::grant_type_not_allowed("password").error_description,
            "Grant type 'password' not allowed for the client."
        );
        assert_eq!(
            OAuthError::service_not_found("https://x/").error_description,
            "Service not found: https://x/"
        );
        assert!(OAuthError::client_not_authorized_for("https://x/")
            .error_description
            .starts_with("Client is not authorized to access \"https://x/\". You need to create a \"client-grant\" associated to this API."));
    }

    #[test]
    fn serializes_as_error_and_description() {
        let json = serde_json::to_value(OAuthError::invalid_request("missing code")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": "invalid_request", "error_description": "missing code"})
        );
    }
}
