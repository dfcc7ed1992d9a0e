//! The one error of the HTML pages. Every page handler returns
//! `Result<Response, PageError>`; the error page is rendered here, in one
//! place, and an internal cause is logged, never shown.

use crate::error::{ApiError, NUL_MESSAGE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_core::error::messages::SERVER_ERROR;
use gatehouse_core::OAuthError;
use gatehouse_store::StoreError;

/// A page that cannot be shown: the error page instead, with its status.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// Logged, never shown.
    cause: Option<String>,
}

impl PageError {
    /// An error shown with `status`, an OAuth-style `error` code and a
    /// description for the person.
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            cause: None,
        }
    }

    /// 400 `invalid_request`.
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// An OAuth error shown on a page (400): used where the redirect target
    /// cannot be trusted, so the error cannot go back to the application.
    pub fn oauth(error: OAuthError) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            error.error.as_str(),
            error.error_description,
        )
    }

    /// A failure of ours: logged with `cause`, shown as `server_error`.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self {
            cause: Some(cause.to_string()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                SERVER_ERROR,
            )
        }
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidText => Self::bad_request(NUL_MESSAGE),
            e => Self::internal(format!("store: {e}")),
        }
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::OAuth(e) if e.status() < 500 => Self::oauth(e),
            e => Self::internal(format!("{e:?}")),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(%cause, "page failed");
        }
        error_page(self.status, self.error, &self.description)
    }
}

/// The error page itself; also the "nothing happened" notice of a cancelled
/// logout, which is not an error but looks like one.
pub fn error_page(status: StatusCode, error: &str, description: &str) -> Response {
    super::html(
        status,
        "error.html",
        minijinja::context! { error, description },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_failures_are_internal_except_nul_text() {
        let nul = PageError::from(StoreError::InvalidText);
        assert_eq!(nul.status, StatusCode::BAD_REQUEST);
        assert_eq!(nul.description, NUL_MESSAGE);
        let corrupt = PageError::from(StoreError::Corrupt("secret detail".into()));
        assert_eq!(corrupt.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(corrupt.description, SERVER_ERROR);
        assert!(corrupt.cause.is_some_and(|c| c.contains("secret detail")));
    }
}
