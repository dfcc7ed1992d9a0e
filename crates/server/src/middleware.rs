//! Cross-cutting HTTP behaviour, as tower-http layers around every route: a
//! request id on each request and its response, one log line per request in a
//! span that carries the id (so every line logged while serving it does too),
//! and the security headers every response carries.

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::Response;
use axum::Router;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

/// The header that carries a request's id, in both directions.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps `router` in the layers of the module doc. A caller's `X-Request-Id`
/// is kept (for tracing across services) when it is short printable ASCII;
/// otherwise the request gets a random id.
pub fn wrap<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(
        ServiceBuilder::new()
            .map_request(drop_unusable_request_id)
            .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), RandomRequestId))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_request(())
                    .on_response(log_response)
                    .on_eos(())
                    .on_failure(()),
            )
            .layer(SetResponseHeaderLayer::overriding(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            )),
    )
}

fn usable_request_id(id: &HeaderValue) -> bool {
    !id.is_empty() && id.len() <= 64 && id.as_bytes().iter().all(u8::is_ascii_graphic)
}

fn drop_unusable_request_id(mut request: Request) -> Request {
    if !request
        .headers()
        .get(&REQUEST_ID)
        .is_none_or(usable_request_id)
    {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// Ids for requests that come without a usable one: 64 random bits in hex.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&gatehouse_core::ids::random_hex(8))
            .ok()
            .map(RequestId::new)
    }
}

fn request_span(request: &Request) -> Span {
    let id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}

fn log_response(response: &Response, latency: Duration, _: &Span) {
    tracing::info!(
        status = response.status().as_u16(),
        ms = %format_args!("{:.3}", latency.as_secs_f64() * 1000.0),
        "response"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_printable_request_ids_are_kept() {
        for kept in ["caller-id-123", &"x".repeat(64)] {
            assert!(
                usable_request_id(&HeaderValue::from_str(kept).unwrap()),
                "{kept}"
            );
        }
        for dropped in ["", "a b", "tab\there", &"x".repeat(65)] {
            assert!(
                !usable_request_id(&HeaderValue::from_str(dropped).unwrap()),
                "{dropped:?}"
            );
        }
        assert!(!usable_request_id(
            &HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()
        ));
    }
}
