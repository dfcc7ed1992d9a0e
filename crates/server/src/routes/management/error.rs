//! The Management API's error, rendered in one place as Auth0 does:
//! `{statusCode, error, message, errorCode}` (auth0-compat.md §6).
//!
//! Internal causes (store failures) are logged and answered with a generic
//! 500; their text never reaches the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_store::StoreError;
use serde_json::json;

/// Messages and error codes that SDKs and scripts match on.
pub mod messages {
    pub const INVALID_TOKEN: &str = "Invalid token";
    pub const EXPIRED_TOKEN: &str = "Expired token received for JSON Web Token validation";
    pub const MISSING_AUTHENTICATION: &str = "Missing authentication";
    pub const BAD_AUTH_HEADER: &str = "Bad HTTP authentication header format";
    pub const INSUFFICIENT_SCOPE_PREFIX: &str = "Insufficient scope, expected any of: ";
    pub const USER_EXISTS: &str = "The user already exists.";
    pub const INVALID_JSON: &str = "Invalid request payload JSON format";
}

/// A Management API failure.
#[derive(Debug)]
pub struct ManagementError {
    pub status: StatusCode,
    pub message: String,
    pub error_code: Option<&'static str>,
    /// Logged, never sent.
    pub internal: Option<String>,
}

pub type MgmtResult<T> = Result<T, ManagementError>;

impl ManagementError {
    pub fn new(status: StatusCode, message: impl Into<String>, code: &'static str) -> Self {
        Self {
            status,
            message: message.into(),
            error_code: Some(code),
            internal: None,
        }
    }
    /// 400 for a body that does not validate.
    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message, "invalid_body")
    }
    /// 400 for a query string that does not validate.
    pub fn invalid_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message, "invalid_query_string")
    }
    /// 400 for a path parameter that does not validate.
    pub fn invalid_uri(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message, "invalid_uri")
    }
    /// 404 with an `inexistent_*` code.
    pub fn not_found(message: impl Into<String>, code: &'static str) -> Self {
        Self::new(StatusCode::NOT_FOUND, message, code)
    }
    pub fn conflict(message: impl Into<String>, code: &'static str) -> Self {
        Self::new(StatusCode::CONFLICT, message, code)
    }
    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message, "invalid_token")
    }
    /// 403 `Insufficient scope, expected any of: a,b`.
    pub fn insufficient_scope(expected: &[&str]) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            format!(
                "{}{}",
                messages::INSUFFICIENT_SCOPE_PREFIX,
                expected.join(",")
            ),
            "insufficient_scope",
        )
    }
    /// A failure of ours: logged with `cause`, rendered as a bare 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "Internal error".into(),
            error_code: None,
            internal: Some(cause.to_string()),
        }
    }
}

/// The answer to a delete: 204, also when a concurrent request deleted the
/// object between the lookup and the delete (gone is gone).
pub fn deleted(result: Result<(), StoreError>) -> MgmtResult<axum::http::StatusCode> {
    match result {
        Ok(()) | Err(StoreError::NotFound) => Ok(axum::http::StatusCode::NO_CONTENT),
        Err(e) => Err(e.into()),
    }
}

impl From<StoreError> for ManagementError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidText => Self::invalid_body(crate::error::NUL_MESSAGE),
            e => Self::internal(format!("store: {e}")),
        }
    }
}

impl From<crate::error::ApiError> for ManagementError {
    fn from(e: crate::error::ApiError) -> Self {
        Self::internal(format!("{e:?}"))
    }
}

impl IntoResponse for ManagementError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.internal {
            tracing::error!(%cause, "management API internal error");
        }
        let mut body = json!({
            "statusCode": self.status.as_u16(),
            "error": self.status.canonical_reason().unwrap_or("Error"),
            "message": self.message,
        });
        if let Some(code) = self.error_code {
            body["errorCode"] = json!(code);
        }
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_strings() {
        assert_eq!(messages::INVALID_TOKEN, "Invalid token");
        assert_eq!(
            messages::EXPIRED_TOKEN,
            "Expired token received for JSON Web Token validation"
        );
        let e = ManagementError::insufficient_scope(&["read:users", "read:roles"]);
        assert_eq!(
            e.message,
            "Insufficient scope, expected any of: read:users,read:roles"
        );
        assert_eq!(e.error_code, Some("insufficient_scope"));
        assert_eq!(messages::USER_EXISTS, "The user already exists.");
    }
}
