//! Sending the authorization response back to the application, through the
//! response mode (OAuth 2.0 Multiple Response Types §2.1, Form Post Response
//! Mode, and Auth0's `web_message`; auth0-compat.md §1 "Responses").
//!
//! Success and error travel the same way: `error`, `error_description` and
//! `state` on failure. Only a [`Target`] built from a registered redirect URI
//! exists, so nothing here can redirect anywhere else.

use crate::pages;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::OAuthError;
use serde_json::{Map, Value};

pub use gatehouse_core::grant::authorize::ResponseMode;

/// Where and how the response goes: a registered redirect URI, the mode, the
/// `state` to echo and, for `web_message`, the origin allowed to receive it.
#[derive(Debug, Clone)]
pub struct Target {
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub state: Option<String>,
    /// The origin `postMessage` targets (checked against the client's web origins).
    pub web_origin: String,
}

/// The success response with `params` (`code`, tokens, …).
pub fn success(target: &Target, params: Vec<(&'static str, String)>) -> Response {
    deliver(target, params)
}

/// An OAuth error through the response mode.
pub fn error(target: &Target, err: &OAuthError) -> Response {
    deliver(
        target,
        vec![
            ("error", err.error.as_str().to_string()),
            ("error_description", err.error_description.clone()),
        ],
    )
}

fn deliver(target: &Target, mut params: Vec<(&'static str, String)>) -> Response {
    if let Some(state) = &target.state {
        params.push(("state", state.clone()));
    }
    match target.mode {
        ResponseMode::Query => redirect(&with_query(&target.redirect_uri, &params)),
        ResponseMode::Fragment => redirect(&format!("{}#{}", target.redirect_uri, encode(&params))),
        ResponseMode::FormPost => pages::html_with_csp(
            StatusCode::OK,
            "form_post.html",
            minijinja::context! { action => target.redirect_uri, params },
            "default-src 'none'; script-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
        ResponseMode::WebMessage => {
            let response: Map<String, Value> = params
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::String(v)))
                .collect();
            let message = serde_json::json!({
                "type": "authorization_response",
                "response": response,
            });
            let nonce = gatehouse_core::ids::random_token(16);
            let csp = format!(
                "default-src 'none'; script-src 'nonce-{nonce}'; frame-ancestors {}",
                target.web_origin
            );
            pages::html_with_csp(
                StatusCode::OK,
                "web_message.html",
                minijinja::context! { message, origin => target.web_origin, nonce },
                &csp,
            )
        }
    }
}

/// `url` with `params` added to its query (after `?`, or `&` if it has one).
pub fn with_query(url: &str, params: &[(&'static str, String)]) -> String {
    if params.is_empty() {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{}", encode(params))
}

fn encode(params: &[(&'static str, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A `302 Found` to `location`, never cached.
pub fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => {
            let mut response = StatusCode::FOUND.into_response();
            let h = response.headers_mut();
            h.insert(header::LOCATION, value);
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        // Registered URIs and our own paths are valid header values; a
        // control character can only come from a corrupt registration.
        Err(_) => (StatusCode::BAD_REQUEST, "invalid redirect").into_response(),
    }
}
