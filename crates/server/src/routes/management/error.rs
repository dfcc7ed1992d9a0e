//! The Management API's error, rendered in one place as Auth0 does:
//! `{statusCode, error, message, errorCode}` (auth0-compat.md §6).
//!
//! A store's `NotFound` is a 404 and its `Conflict` a 409 wherever they
//! happen; [`written`] and the [`Managed`] kinds of object refine them into
//! Auth0's `inexistent_*` and `*_conflict` answers. Internal causes (other
//! store failures) are logged and answered with a generic 500; their text
//! never reaches the client.

use crate::error::ApiError;
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

/// A kind of object the Management API manages, with Auth0's answers for
/// an id that names none (404) and for a write that would duplicate another
/// one (409).
pub trait Managed {
    /// 404 with the `inexistent_*` code.
    fn missing() -> ManagementError;
    /// 409 for a unique name, identifier or pair already taken.
    fn duplicate(&self) -> ManagementError {
        ManagementError::conflict(CONFLICT_MESSAGE, "conflict")
    }
}

/// The answer to a create or update of `object`: the store's `NotFound` and
/// `Conflict` become its [`Managed`] 404 and 409.
pub fn written<T: Managed>(result: Result<(), StoreError>, object: &T) -> MgmtResult<()> {
    result.map_err(|e| match e {
        StoreError::NotFound => T::missing(),
        StoreError::Conflict(_) => object.duplicate(),
        e => e.into(),
    })
}

/// The 404 of an object that is not one of the [`Managed`] kinds.
const NOT_FOUND_MESSAGE: &str = "The object does not exist.";
/// The 409 of an object that is not one of the [`Managed`] kinds.
const CONFLICT_MESSAGE: &str = "The object conflicts with an existing one.";

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

impl From<gatehouse_core::user_query::UserQueryError> for ManagementError {
    fn from(e: gatehouse_core::user_query::UserQueryError) -> Self {
        Self::invalid_query(e.0)
    }
}

impl From<StoreError> for ManagementError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(NOT_FOUND_MESSAGE, "not_found"),
            StoreError::Conflict(_) => Self::conflict(CONFLICT_MESSAGE, "conflict"),
            StoreError::InvalidText => Self::invalid_body(crate::error::NUL_MESSAGE),
            e => Self::internal(format!("store: {e}")),
        }
    }
}

/// An OAuth error keeps its code, description and client-error status (401
/// for a token or client that does not authenticate, 403, 429, else 400).
impl From<ApiError> for ManagementError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::OAuth(e) if e.status() < 500 => Self::new(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
                e.error_description,
                e.error.as_str(),
            ),
            e => Self::internal(format!("{e:?}")),
        }
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

    #[test]
    fn store_and_oauth_errors_keep_their_status() {
        use gatehouse_core::OAuthError;
        let status = |e: ManagementError| (e.status.as_u16(), e.error_code);
        assert_eq!(
            status(StoreError::NotFound.into()),
            (404, Some("not_found"))
        );
        assert_eq!(
            status(StoreError::Conflict("role name".into()).into()),
            (409, Some("conflict"))
        );
        assert_eq!(
            status(StoreError::InvalidText.into()),
            (400, Some("invalid_body"))
        );
        let bad_token = OAuthError::new(gatehouse_core::ErrorCode::InvalidToken, "x");
        assert_eq!(
            status(ApiError::OAuth(bad_token).into()),
            (401, Some("invalid_token"))
        );
        assert_eq!(
            status(ApiError::OAuth(OAuthError::invalid_request("x")).into()),
            (400, Some("invalid_request"))
        );
        assert_eq!(
            status(ApiError::OAuth(OAuthError::server_error()).into()),
            (500, None)
        );
    }

    #[test]
    fn written_answers_as_the_kind_of_object() {
        struct Thing;
        impl Managed for Thing {
            fn missing() -> ManagementError {
                ManagementError::not_found("gone", "inexistent_thing")
            }
        }
        let answer = |r| written(r, &Thing).map_err(|e| (e.status.as_u16(), e.error_code));
        assert_eq!(answer(Ok(())), Ok(()));
        assert_eq!(
            answer(Err(StoreError::NotFound)),
            Err((404, Some("inexistent_thing")))
        );
        assert_eq!(
            answer(Err(StoreError::Conflict("x".into()))),
            Err((409, Some("conflict")))
        );
        assert_eq!(
            answer(Err(StoreError::Corrupt("x".into()))),
            Err((500, None))
        );
    }
}
