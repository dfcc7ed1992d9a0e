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
    /// A parameter is missing, repeated or malformed.
    InvalidRequest,
    /// Client authentication failed.
    InvalidClient,
    /// The code, refresh token, device code or password is invalid or expired.
    InvalidGrant,
    /// The client may not use this grant type.
    UnauthorizedClient,
    /// The grant type is unknown.
    UnsupportedGrantType,
    /// The `/authorize` response type is unknown or not allowed.
    UnsupportedResponseType,
    /// A requested scope is unknown or not allowed.
    InvalidScope,
    /// The user, the API or the client grant refuses the request.
    AccessDenied,
    /// An internal failure; the cause is logged, not sent.
    ServerError,
    /// The server cannot answer now (e.g. its database is down).
    TemporarilyUnavailable,
    /// Device flow: the user has not approved yet.
    AuthorizationPending,
    /// Device flow: the client polls too fast.
    SlowDown,
    /// Device flow: the device code expired.
    ExpiredToken,
    /// A bearer token is missing, malformed or expired.
    InvalidToken,
    /// A bearer token lacks a scope the endpoint needs.
    InsufficientScope,
    /// `prompt=none` without a session.
    LoginRequired,
    /// `prompt=none` without the consent it needs.
    ConsentRequired,
    /// `prompt=none` when the user must act.
    InteractionRequired,
    /// The account is blocked after failed logins.
    TooManyAttempts,
    /// A rate limit refused the request.
    TooManyRequests,
    /// The user must complete multi-factor authentication.
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
    /// A failed password check, whether the email or the password is wrong.
    pub const WRONG_EMAIL_OR_PASSWORD: &str = "Wrong email or password.";
    /// auth0-spa-js logs the user out when the description contains `user is blocked`.
    pub const USER_IS_BLOCKED: &str = "user is blocked";
    /// An unknown, used, expired or foreign authorization code.
    pub const INVALID_AUTHORIZATION_CODE: &str = "Invalid authorization code";
    /// A PKCE verifier that does not match the challenge.
    pub const INVALID_CODE_VERIFIER: &str = "Failed to verify code verifier";
    /// [`super::ErrorCode::AuthorizationPending`].
    pub const AUTHORIZATION_PENDING: &str = "User has yet to authorize device code.";
    /// [`super::ErrorCode::SlowDown`].
    pub const SLOW_DOWN: &str = "You are polling faster than allowed. Try again in 10 seconds.";
    /// [`super::ErrorCode::ExpiredToken`].
    pub const EXPIRED_TOKEN: &str = "The device code has expired.";
    /// An unknown or used device code.
    pub const INVALID_DEVICE_CODE: &str = "Invalid or expired device code.";
    /// [`super::ErrorCode::TooManyAttempts`].
    pub const TOO_MANY_ATTEMPTS: &str =
        "Your account has been blocked after multiple consecutive login attempts.";
    /// [`super::ErrorCode::InvalidClient`], whatever the cause.
    pub const CLIENT_AUTH_FAILED: &str = "Client authentication failed.";
    /// [`super::ErrorCode::ServerError`].
    pub const SERVER_ERROR: &str =
        "Something went wrong on our side. The incident has been logged.";
}

/// An OAuth protocol error: a code and a human-readable description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{error}: {error_description}")]
pub struct OAuthError {
    /// The `error` member.
    #[serde(serialize_with = "serialize_code")]
    pub error: ErrorCode,
    /// The `error_description` member.
    pub error_description: String,
}

fn serialize_code<S: serde::Serializer>(code: &ErrorCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(code.as_str())
}

impl OAuthError {
    /// An error with `error` and its description.
    pub fn new(error: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            error,
            error_description: description.into(),
        }
    }
    /// `invalid_request`.
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }
    /// `invalid_client`.
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }
    /// `invalid_grant`.
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, d)
    }
    /// `access_denied`.
    pub fn access_denied(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::AccessDenied, d)
    }
    /// `invalid_scope`.
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
    /// `server_error` with [`messages::SERVER_ERROR`].
    pub fn server_error() -> Self {
        Self::new(ErrorCode::ServerError, messages::SERVER_ERROR)
    }
    /// The HTTP status of this error ([`ErrorCode::http_status`]).
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
