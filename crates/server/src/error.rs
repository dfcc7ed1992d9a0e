//! Rendering errors, in one place.
//!
//! Handlers return `Result<_, ApiError>`. An [`OAuthError`] becomes
//! `{error, error_description}` with Auth0's status; anything internal is
//! logged with its cause and rendered as a generic `server_error`, so a
//! database message never reaches a client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_core::OAuthError;
use gatehouse_store::StoreError;

/// What a handler can fail with.
#[derive(Debug)]
pub enum ApiError {
    OAuth(OAuthError),
    /// 429 `too_many_requests` with the rate-limit headers.
    RateLimited(crate::rate_limit::Throttled),
    /// An internal failure; the string is logged, never sent.
    Internal(String),
}

impl From<OAuthError> for ApiError {
    fn from(e: OAuthError) -> Self {
        Self::OAuth(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidText => Self::OAuth(OAuthError::invalid_request(NUL_MESSAGE)),
            e => Self::Internal(format!("store: {e}")),
        }
    }
}

/// The answer to text with a NUL character, wherever it is sent.
pub const NUL_MESSAGE: &str = "The request contains a NUL character, which is not allowed.";

impl From<gatehouse_core::jose::JoseError> for ApiError {
    fn from(e: gatehouse_core::jose::JoseError) -> Self {
        Self::Internal(format!("jose: {e}"))
    }
}

impl ApiError {
    pub fn internal(what: impl std::fmt::Display) -> Self {
        Self::Internal(what.to_string())
    }
}

/// Renders an OAuth error body with its status and `Cache-Control: no-store`.
pub fn oauth_error_response(err: &OAuthError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, Json(err)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::OAuth(err) => oauth_error_response(&err),
            ApiError::RateLimited(throttled) => throttled.oauth_response(),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                oauth_error_response(&OAuthError::server_error())
            }
        }
    }
}
