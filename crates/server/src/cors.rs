//! CORS for the endpoints browsers call directly (`/oauth/token`,
//! `/oauth/revoke`, `/userinfo`): an origin is allowed when the client lists it
//! in `web_origins` or `allowed_origins`, or when it is the origin of one of the
//! client's callbacks (auth0-compat.md §2). Preflights are answered for any
//! origin (the client is not known yet); the real response carries
//! `Access-Control-Allow-Origin` only for an allowed origin, so a browser on
//! another origin cannot read it.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::model::Client;

/// `scheme://host[:port]` of a URL, lowercased.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() {
        return None;
    }
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    ))
}

/// Whether `client` allows browser calls from `origin`.
pub fn client_allows_origin(client: &Client, origin: &str) -> bool {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    let listed = client
        .web_origins
        .iter()
        .chain(&client.allowed_origins)
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(&origin));
    listed
        || client
            .callbacks
            .iter()
            .filter_map(|c| origin_of(c))
            .any(|o| o == origin)
}

/// The request's `Origin`, if any.
pub fn request_origin(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Adds the CORS headers to a response when `client` allows `origin`.
pub fn allow(response: &mut Response, origin: Option<&str>, client: Option<&Client>) {
    let (Some(origin), Some(client)) = (origin, client) else {
        return;
    };
    if !client_allows_origin(client, origin) {
        tracing::info!(origin, client_id = %client.client_id, "CORS origin not allowed (fco)");
        return;
    }
    if let Ok(value) = HeaderValue::from_str(origin) {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// Answers a preflight request.
pub async fn preflight(headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = request_origin(&headers).and_then(|o| HeaderValue::from_str(&o).ok()) {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Auth0-Client, Content-Type, DPoP, Authorization"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::model::AppType;

    #[test]
    fn origins_from_lists_and_callbacks() {
        let mut c = Client::new("c", "SPA", AppType::Spa);
        c.callbacks = vec!["http://localhost:3000/callback".into()];
        c.web_origins = vec!["https://app.example.com".into()];
        assert!(client_allows_origin(&c, "http://localhost:3000"));
        assert!(client_allows_origin(&c, "https://app.example.com"));
        assert!(!client_allows_origin(&c, "http://localhost:3001"));
        assert!(!client_allows_origin(&c, "https://evil.example.com"));
        assert_eq!(
            origin_of("HTTP://A.example:8080/x?y").as_deref(),
            Some("http://a.example:8080")
        );
    }
}
