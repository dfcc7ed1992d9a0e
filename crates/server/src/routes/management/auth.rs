//! Who may call the Management API: Bearer JWTs that Gatehouse issued to
//! itself for the audience `<issuer>api/v2/` (SPEC.md §2), checked with the
//! same validation as every other token ([`crate::bearer::validate`]), then
//! the endpoint's scopes ("any of", as Auth0 does), then the caller's rate
//! limit ([`crate::rate_limit`]: per client for client credentials, per
//! (client, user) for a user's token).
//!
//! A user's token from a user flow may also carry Auth0's end-user scopes
//! (`read:current_user`, …; auth0-compat.md §9). They open only the routes
//! that list them as `self_service`, and only for the user's own `{id}`; the
//! handler then sees a [`SelfService`] marker and narrows what it allows.

use super::error::{messages, ManagementError, MgmtResult};
use crate::audit;
use crate::bearer::{self, AccessToken};
use crate::rate_limit::{Bucket, Hit, RateLimiter};
use crate::state::AppState;
use axum::extract::{OriginalUri, RawPathParams, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::RequestExt;
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
    /// End-user scopes that open the route for the user's own `{id}`.
    pub self_service: &'static [&'static str],
}

/// In the request extensions when the caller got in only through an
/// end-user scope: a user acting on their own record.
#[derive(Debug, Clone)]
pub struct SelfService {
    pub user_id: String,
}

/// Middleware: authenticates, checks scopes, then runs the handler with the
/// caller's token in the request extensions. Successful writes are logged
/// as `sapi` events (auth0-compat.md §7).
pub async fn require_scopes(State(guard): State<Guard>, mut req: Request, next: Next) -> Response {
    let token = match authenticate(&guard.state, req.headers()).await {
        Ok(token) => token,
        Err(e) => return e.into_response(),
    };
    if !holds_any(&token, guard.scopes) {
        let own_id = if holds_any(&token, guard.self_service) {
            own_record(&token, &mut req).await
        } else {
            None
        };
        let Some(user_id) = own_id else {
            return ManagementError::insufficient_scope(guard.scopes).into_response();
        };
        req.extensions_mut().insert(SelfService { user_id });
    }
    let window = match count_request(&guard.state, &token).await {
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
    if is_write(&method, &path) && response.status().is_success() {
        let token_jti = token
            .claims
            .as_ref()
            .and_then(|c| c.get("jti"))
            .and_then(serde_json::Value::as_str);
        audit::record(
            &guard.state,
            audit::Event {
                code: audit::codes::MANAGEMENT_API_WRITE,
                description: format!("Management API: {method} {path}"),
                client_id: Some(&token.client_id),
                // The caller's token, in details: the jti column keys issuances.
                extra: serde_json::json!({
                    "method": method.as_str(),
                    "path": path,
                    "token_jti": token_jti,
                }),
                ..audit::Event::default()
            },
        )
        .await;
    }
    response
}

/// Whether a request changes the tenant (Auth0 logs those as `sapi`): every
/// method but GET, except Gatehouse's read-only POSTs (explain, simulate).
fn is_write(method: &Method, path: &str) -> bool {
    method != Method::GET && !path.starts_with("/api/v2/x-gatehouse/")
}

/// Counts a request against the caller's rate limit: the client's for
/// client credentials, else the (client, user) pair's, so one end user of an
/// application cannot use up the application's limit.
async fn count_request(state: &AppState, token: &AccessToken) -> Result<Hit, StoreError> {
    let now = state.now();
    let client_id = token.client_id.as_str();
    let limiter = RateLimiter::load(state, Some(client_id), now).await?;
    let bucket = if is_client_credentials(token) {
        Bucket::ManagementClient(client_id)
    } else {
        Bucket::ManagementUser(client_id, &token.subject)
    };
    limiter.hit(bucket).await
}

fn is_client_credentials(token: &AccessToken) -> bool {
    token
        .claims
        .as_ref()
        .and_then(|c| c.get("gty"))
        .and_then(serde_json::Value::as_str)
        == Some("client-credentials")
}

fn holds_any(token: &AccessToken, scopes: &[&str]) -> bool {
    scopes.iter().any(|s| token.scope.contains(s))
}

/// The token's user id when the token acts for a user (not client
/// credentials) and the route's `{id}` is that user.
async fn own_record(token: &AccessToken, req: &mut Request) -> Option<String> {
    if token.claims.is_none() || is_client_credentials(token) {
        return None;
    }
    let params = req.extract_parts::<RawPathParams>().await.ok()?;
    let id = params.iter().find(|(name, _)| *name == "id")?.1;
    (id == token.subject).then(|| token.subject.clone())
}

/// Validates the caller's token: ours, unexpired, for the Management API.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> MgmtResult<AccessToken> {
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
    let now = state.now();
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
    Ok(access)
}

/// True when the token is one of ours, authentic, and only its `exp` has
/// passed: it validates as of one second before it expired. `exp` is read
/// before any signature check, so it may be anything (even `i64::MIN`).
async fn is_expired(state: &AppState, token: &str, now: i64) -> bool {
    let Ok((_, claims)) = decode_unverified(token) else {
        return false;
    };
    let Some(exp) = claims.get("exp").and_then(serde_json::Value::as_i64) else {
        return false;
    };
    exp <= now
        && matches!(
            bearer::validate(state, token, exp.saturating_sub(1)).await,
            Ok(Some(_))
        )
}
