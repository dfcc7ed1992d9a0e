//! Request body limits, per surface: one size limit and one deadline for the
//! whole body, answered in the surface's own error format.
//!
//! - OAuth endpoints and everything else: 64 kB, `{error: "invalid_request", …}`;
//! - the login, signup, consent, device and logout pages: 64 kB, an HTML error page;
//! - the Management API: 1 MB (Auth0's limit), `{statusCode, error, message, errorCode}`.
//!
//! A declared `Content-Length` over the limit is refused before any of the body
//! is read, so a client learns it at once and a server never buffers it. The
//! body of every other request is read here, completely, within the
//! [`BodyDeadline`] ([`crate::serve`] sets it from its options), else 408.
//! Both refusals close the connection.

use crate::error::oauth_error_response;
use crate::pages::{paths, PageError};
use crate::routes::management::error::ManagementError;
use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::header::{CONNECTION, CONTENT_LENGTH};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_core::OAuthError;
use std::time::Duration;

/// Largest body of an OAuth endpoint or a page form.
pub const SMALL_BODY_BYTES: usize = 64 * 1024;
/// Largest Management API body.
pub const MANAGEMENT_BODY_BYTES: usize = crate::routes::management::extract::MAX_BODY_BYTES;

/// How long a request body may take to arrive; a request extension.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline(pub Duration);

/// Which error format a path answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    OAuth,
    Page,
    Management,
}

impl Surface {
    pub fn of(path: &str) -> Self {
        let management = path
            .strip_prefix(crate::routes::MANAGEMENT_BASE)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if management {
            Surface::Management
        } else if paths::is_page(path) {
            Surface::Page
        } else {
            Surface::OAuth
        }
    }

    pub fn max_body_bytes(self) -> usize {
        match self {
            Surface::Management => MANAGEMENT_BODY_BYTES,
            Surface::OAuth | Surface::Page => SMALL_BODY_BYTES,
        }
    }

    fn refuse(self, status: StatusCode, message: &str) -> Response {
        let mut response = match self {
            Surface::OAuth => {
                let mut response = oauth_error_response(&OAuthError::invalid_request(message));
                *response.status_mut() = status;
                response
            }
            Surface::Page => PageError::new(status, "invalid_request", message).into_response(),
            Surface::Management => {
                let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "payload_too_large"
                } else {
                    "request_timeout"
                };
                ManagementError::new(status, message, code).into_response()
            }
        };
        // The rest of the body is not wanted: do not wait for it.
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        response
    }

    fn too_large(self) -> Response {
        let message = match self {
            Surface::Management => "Payload too large: the limit is 1 MB.",
            Surface::OAuth | Surface::Page => "The request body is too large: the limit is 64 kB.",
        };
        self.refuse(StatusCode::PAYLOAD_TOO_LARGE, message)
    }
}

/// Why a body was not read.
enum BodyFailure {
    TooLarge,
    Broken,
}

/// The middleware; see the module docs.
pub async fn limit_body(req: Request, next: Next) -> Response {
    let surface = Surface::of(req.uri().path());
    let limit = surface.max_body_bytes();
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return surface.too_large();
    }
    if !has_body(&req) {
        return next.run(req).await;
    }
    let deadline = req
        .extensions()
        .get::<BodyDeadline>()
        .map_or(crate::serve::DEFAULT_BODY_TIMEOUT, |d| d.0);
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(deadline, read_body(body, limit)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(BodyFailure::TooLarge)) => surface.too_large(),
        Ok(Err(BodyFailure::Broken)) => surface.refuse(
            StatusCode::BAD_REQUEST,
            "The request body could not be read.",
        ),
        Err(_) => surface.refuse(
            StatusCode::REQUEST_TIMEOUT,
            "The request body did not arrive in time.",
        ),
    }
}

/// Whether a request has a body to read, decided from the body itself: an
/// HTTP/2 request declares neither `Content-Length` nor `Transfer-Encoding`.
fn has_body(req: &Request) -> bool {
    !req.body().is_end_stream()
}

async fn read_body(mut body: Body, limit: usize) -> Result<Vec<u8>, BodyFailure> {
    let mut bytes = Vec::new();
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame = frame.map_err(|_| BodyFailure::Broken)?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > limit {
                return Err(BodyFailure::TooLarge);
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surfaces_follow_the_path() {
        assert_eq!(Surface::of("/api/v2/clients"), Surface::Management);
        assert_eq!(Surface::of("/api/v2"), Surface::Management);
        assert_eq!(Surface::of("/api/v2x"), Surface::OAuth);
        assert_eq!(Surface::of("/u/login"), Surface::Page);
        assert_eq!(Surface::of("/activate"), Surface::Page);
        assert_eq!(Surface::of("/oidc/logout"), Surface::Page);
        assert_eq!(Surface::of("/oidc/logout/confirm"), Surface::Page);
        assert_eq!(Surface::of("/oauth/token"), Surface::OAuth);
        assert_eq!(Surface::of("/userinfo"), Surface::OAuth);
        assert_eq!(Surface::max_body_bytes(Surface::Page), 64 * 1024);
        assert_eq!(Surface::max_body_bytes(Surface::Management), 1024 * 1024);
    }

    #[test]
    fn a_streaming_body_without_length_headers_is_a_body() {
        let streaming = Request::post("/oauth/token")
            .body(Body::from_stream(Body::from("a=b").into_data_stream()))
            .expect("request");
        assert!(streaming.headers().is_empty());
        assert!(has_body(&streaming));
        let empty = Request::post("/oauth/token")
            .body(Body::empty())
            .expect("request");
        assert!(!has_body(&empty));
    }
}
