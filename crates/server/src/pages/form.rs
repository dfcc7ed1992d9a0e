//! [`PostedForm`]: the extractor of every form a page posts back.

use super::PageError;
use crate::extract::Params;
use crate::session;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;

/// Shown when the CSRF token of a form is missing or wrong.
pub const FORM_EXPIRED: &str =
    "This form expired or was sent from another site. Go back, reload the page and try again.";

/// A form posted from one of the pages: parsed, with its CSRF token checked
/// (the double-submit cookie of [`session::csrf_token`]).
pub struct PostedForm(pub Params);

impl FromRequest<AppState> for PostedForm {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| PageError::new(e.status(), "invalid_request", e.body_text()))?;
        let params = Params::from_form(&body).map_err(PageError::oauth)?;
        if !session::csrf_ok(state, &headers, params.get("csrf")) {
            return Err(PageError::new(
                StatusCode::FORBIDDEN,
                "invalid_request",
                FORM_EXPIRED,
            ));
        }
        Ok(Self(params))
    }
}
