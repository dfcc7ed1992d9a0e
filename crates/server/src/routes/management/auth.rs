//! Who may call the Management API: Bearer JWTs that Gatehouse issued to
//! itself for the audience `<issuer>api/v2/` (SPEC.md §2), checked with the
//! same validation as every other token ([`crate::bearer::validate`]), then
//! the endpoint's scopes ("any of", as Auth0 does), then the caller's rate
//! limit (requests per client, [`crate::rate_limit`]).

use super::error::{messages, ManagementError, MgmtResult};
use crate::audit;
use crate::bearer::{self, AccessToken};
use crate::rate_limit::{Bucket, Hit, RateLimiter};
use crate::state::AppState;
use axum::extract::{OriginalUri, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_core::jose::decode_unverified;
use gatehouse_store::StoreError;

/// `<issuer>api/v2/`: the audience of management tokens.
pub fn management_audience(issuer: &str) -> String {
    format!("{issuer}api/v2/")
}

/// The per-route guard's state: the app and the scopes the route accepts.
#[derive(Clone)]
pub struct Guard {
    pub state: AppState,
    pub scopes: &'static [&'static str],
}

/// Middleware: authenticates, checks scopes, then runs the handler with the
/// caller's token in the request extensions. Successful writes are logged
/// as `sapi` events (auth0-compat.md §7).
pub async fn require_scopes(State(guard): State<Guard>, mut req: Request, next: Next) -> Response {
    let token = match authorize(&guard.state, req.headers(), guard.scopes).await {
        Ok(token) => token,
        Err(e) => return e.into_response(),
    };
    let window = match count_request(&guard.state, &token.client_id).await {
        Ok(Hit::Within(window)) => window,
        Ok(Hit::Over(throttled)) => return throttled.management_response(),
        Err(e) => return ManagementError::from(e).into_response(),
    };
    let method = req.method().clone();
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_string(), |o| o.path().to_string());
    req.extensions_mut().insert(token.clone());
    let mut response = next.run(req).await;
    if let Some(window) = window {
        window.set_headers(response.headers_mut());
    }
    if method != Method::GET && response.status().is_success() {
        audit::record(
            &guard.state,
            audit::Event {
                code: audit::codes::MANAGEMENT_API_WRITE,
                description: format!("Management API: {method} {path}"),
                client_id: Some(&token.client_id),
                user_id: None,
                jti: token
                    .claims
                    .as_ref()
                    .and_then(|c| c.get("jti"))
                    .and_then(serde_json::Value::as_str),
                trace: None,
                extra: serde_json::json!({"method": method.as_str(), "path": path}),
            },
        )
        .await;
    }
    response
}

/// Counts a request against the calling client's rate limit.
async fn count_request(state: &AppState, client_id: &str) -> Result<Hit, StoreError> {
    let now = gatehouse_core::time::now();
    let limiter = RateLimiter::load(state, Some(client_id), now).await?;
    limiter.hit(Bucket::ManagementClient(client_id)).await
}

/// Validates the caller and its scopes.
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    scopes: &[&str],
) -> MgmtResult<AccessToken> {
    let header = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ManagementError::unauthorized(messages::MISSING_AUTHENTICATION))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|h| {
            let (scheme, rest) = h.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ManagementError::unauthorized(messages::BAD_AUTH_HEADER))?;
    let now = gatehouse_core::time::now();
    let Some(access) = bearer::validate(state, token, now).await? else {
        let message = if is_expired(state, token, now).await {
            messages::EXPIRED_TOKEN
        } else {
            messages::INVALID_TOKEN
        };
        return Err(ManagementError::unauthorized(message));
    };
    let audience = management_audience(state.issuer());
    if access.claims.is_none() || !access.audiences.contains(&audience) {
        return Err(ManagementError::unauthorized(messages::INVALID_TOKEN));
    }
    if !scopes.iter().any(|s| access.scope.contains(s)) {
        return Err(ManagementError::insufficient_scope(scopes));
    }
    Ok(access)
}

/// True when the token is one of ours, authentic, and only its `exp` has
/// passed: it validates as of one second before it expired.
async fn is_expired(state: &AppState, token: &str, now: i64) -> bool {
    let Ok((_, claims)) = decode_unverified(token) else {
        return false;
    };
    let Some(exp) = claims.get("exp").and_then(serde_json::Value::as_i64) else {
        return false;
    };
    exp <= now && matches!(bearer::validate(state, token, exp - 1).await, Ok(Some(_)))
}
