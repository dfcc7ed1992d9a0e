//! `POST /oauth/token` (RFC 6749 §3.2, auth0-compat.md §2).
//!
//! The handler parses the request into a [`GrantRequest`], authenticates the
//! client, checks the client may use the grant, and hands over to one module
//! per grant. Each grant module gathers facts, lets the grant decision decide,
//! mints tokens and reports the outcome through [`finish`], which records the
//! log event (with the decision trace, and the [`RefusalTrace`] of a refusal)
//! for successes and failures alike. Every answer records one event (a
//! malformed request or a failed client authentication too, with the grant's
//! failure code), named by the `Gatehouse-Log-Id` header, which a browser on
//! an allowed origin may read; a call from an origin the client does not
//! allow is also logged as `fco`.

pub(crate) mod authorization_code;
pub mod client_auth;
pub(crate) mod client_credentials;
pub(crate) mod device_code;
pub(crate) mod password;
pub(crate) mod refresh_token;
pub(crate) mod user_grant;

use crate::actions::RequestFacts;
use crate::audit::{self, codes, Event};
use crate::cors;
use crate::decision::DecisionFailure;
use crate::error::ApiError;
use crate::extract::{counted_ip, Params, PeerIp};
use crate::issue::{Minted, TokenResponse};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_core::grant::refusals::{self, OriginCheck};
use gatehouse_core::grant::{RefusalRule, RefusalTrace, ScopeRule, Trace};
use gatehouse_core::model::{Client, User};
use gatehouse_core::redact::Secret;
use gatehouse_core::request::{
    GrantRequest, AUTHORIZATION_CODE, CLIENT_CREDENTIALS, DEVICE_CODE, PASSWORD, PASSWORD_REALM,
    REFRESH_TOKEN,
};
use gatehouse_core::scope::OFFLINE_ACCESS;
use gatehouse_core::{ErrorCode, OAuthError};
use serde_json::{json, Value};

/// Success and failure event codes of one grant.
pub(crate) struct EventCodes {
    pub ok: &'static str,
    pub failed: &'static str,
}

/// What a grant's log event names besides the outcome: the client, the user
/// once known, and the audience and scope the request asked for (a failure's
/// event names those; a success's names what was granted).
pub(crate) struct Attempt<'a> {
    pub codes: EventCodes,
    pub client: &'a Client,
    pub user: Option<&'a User>,
    pub requested_audience: Option<String>,
    pub requested_scope: Option<String>,
    /// The end user's address when it is not the caller's (a trusted
    /// `auth0-forwarded-for`).
    pub ip: Option<String>,
    /// Auth0's per-type `details` (a masked `code`, `requested_client_id`, …).
    pub extra: Value,
}

impl<'a> Attempt<'a> {
    pub fn new(codes: EventCodes, client: &'a Client) -> Self {
        Self {
            codes,
            client,
            user: None,
            requested_audience: None,
            requested_scope: None,
            ip: None,
            extra: json!({}),
        }
    }
}

pub async fn token(
    State(state): State<AppState>,
    PeerIp(peer): PeerIp,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let origin = cors::request_origin(&headers);
    let now = state.now();
    let (mut response, client) = match handle(&state, &headers, &params, peer, now).await {
        Ok((body, client)) => (success(body), Some(client)),
        Err((error, client)) => {
            // A device waiting on schedule is not failing; a rate-limited
            // caller was logged once per window (`api_limit`) already.
            let unlogged = match &error {
                ApiError::OAuth(e) => is_keep_polling(e),
                ApiError::RateLimited(_) => true,
                ApiError::Internal(_) => false,
            };
            if !audit::recorded_in_request() && !unlogged {
                record_failure(&state, &headers, &params, client.as_ref(), &error).await;
            }
            (error.into_response(), client)
        }
    };
    cors::allow(&mut response, origin.as_deref(), client.as_ref());
    if response
        .headers()
        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    {
        response.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Gatehouse-Log-Id"),
        );
    }
    if let (Some(origin), Some(client)) = (origin.as_deref(), client.as_ref()) {
        if !cors::client_allows_origin(client, origin) {
            record_cors_refusal(&state, client, origin).await;
        }
    }
    response
}

/// Auth0's `fco`: the answer is unchanged (the browser cannot read it), the
/// event says which origin to allow.
async fn record_cors_refusal(state: &AppState, client: &Client, origin: &str) {
    let refusal = refusals::origin_not_allowed(client, origin, OriginCheck::TokenEndpoint);
    audit::record(
        state,
        Event {
            code: audit::codes::CORS_REFUSED,
            description: String::new(),
            client_id: Some(&client.client_id),
            client_name: Some(&client.name),
            refusal: Some(&refusal),
            extra: json!({ "origin": origin }),
            ..Event::default()
        },
    )
    .await;
}

/// The event of an answer no grant recorded (a malformed request, a failed
/// client authentication): the grant's failure code, the error's description.
async fn record_failure(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    client: Option<&Client>,
    error: &ApiError,
) {
    let claimed = client_auth::claimed_client_id(headers, params);
    let client_id = client.map(|c| c.client_id.clone()).or(claimed);
    let (description, details) = match error {
        ApiError::OAuth(e) => (
            e.error_description.clone(),
            json!({ "error": { "oauthError": e.error.as_str(), "message": e.error_description } }),
        ),
        ApiError::RateLimited(_) => (String::new(), json!({})),
        ApiError::Internal(_) => ("Internal error".to_string(), json!({})),
    };
    audit::record(
        state,
        Event {
            code: failure_code(params.get("grant_type")),
            description,
            client_id: client_id.as_deref(),
            client_name: client.map(|c| c.name.as_str()),
            audience: params.get("audience").or(params.get("resource")),
            scope: params.get("scope"),
            extra: details,
            ..Event::default()
        },
    )
    .await;
}

/// The failure event code of a grant type (`f` for an unknown one).
fn failure_code(grant_type: Option<&str>) -> &'static str {
    match grant_type {
        Some(AUTHORIZATION_CODE) => codes::CODE_EXCHANGE_FAILED,
        Some(CLIENT_CREDENTIALS) => codes::CLIENT_CREDENTIALS_FAILED,
        Some(PASSWORD | PASSWORD_REALM) => codes::PASSWORD_EXCHANGE_FAILED,
        Some(REFRESH_TOKEN) => codes::REFRESH_EXCHANGE_FAILED,
        Some(DEVICE_CODE) => codes::DEVICE_EXCHANGE_FAILED,
        _ => codes::LOGIN_FAILED,
    }
}

fn success(body: TokenResponse) -> Response {
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

type Failure = (ApiError, Option<Client>);

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    peer: Option<std::net::IpAddr>,
    now: i64,
) -> Result<(TokenResponse, Client), Failure> {
    let request = GrantRequest::parse(&|name| params.get(name).map(str::to_string))
        .map_err(|e| (e.into(), None))?;
    let client = client_auth::authenticate_limited(state, headers, params, peer, now)
        .await
        .map_err(|e| (e, None))?;
    if let Err(e) = check_grant_logged(state, &client, params, request.grant_type()).await {
        return Err((e.into(), Some(client)));
    }
    let facts = RequestFacts::post(params);
    let result = match request {
        GrantRequest::ClientCredentials { audience, scope } => {
            client_credentials::exchange(state, &client, audience, scope, &facts, now).await
        }
        GrantRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            authorization_code::exchange(
                state,
                &client,
                code.expose(),
                redirect_uri.as_deref(),
                code_verifier.as_ref().map(Secret::expose_str),
                now,
            )
            .await
        }
        GrantRequest::RefreshToken {
            refresh_token,
            scope,
        } => {
            refresh_token::exchange(state, &client, refresh_token.expose(), scope, &facts, now)
                .await
        }
        GrantRequest::Password {
            username,
            password,
            realm,
            audience,
            scope,
            grant_type,
        } => {
            password::exchange(
                state,
                &client,
                password::Credentials {
                    username,
                    password,
                    realm,
                    ip: end_user_ip(headers, &client, peer),
                },
                audience,
                scope,
                grant_type,
                &facts,
                now,
            )
            .await
        }
        GrantRequest::DeviceCode { device_code } => {
            device_code::exchange(state, &client, device_code.expose(), &facts, now).await
        }
    };
    match result {
        Ok(body) => Ok((body, client)),
        Err(e) => Err((e, Some(client))),
    }
}

/// The end user's IP: a confidential client with
/// `token_endpoint_ip_header_trusted` relays it in `auth0-forwarded-for`
/// (auth0-compat.md §2 `password`); from any other client the header is
/// ignored (it would let the caller pick the IP that brute-force protection
/// and rate limits count) and the peer address counts.
fn end_user_ip(headers: &HeaderMap, client: &Client, peer: Option<std::net::IpAddr>) -> String {
    let forwarded = headers
        .get("auth0-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .and_then(|v| v.parse::<std::net::IpAddr>().ok())
        .filter(|_| client.trusts_forwarded_ip());
    counted_ip(forwarded.or(peer))
}

/// `unauthorized_client` unless the grant type is enabled for the client;
/// password-realm rides on the `password` grant type. The simulation asks
/// the same question.
pub(crate) fn check_grant_allowed(client: &Client, grant_type: &str) -> Result<(), OAuthError> {
    let allowed = client.allows_grant(grant_type)
        || (grant_type == PASSWORD_REALM && client.allows_grant(PASSWORD));
    if allowed {
        Ok(())
    } else {
        Err(OAuthError::grant_type_not_allowed(grant_type))
    }
}

/// [`check_grant_allowed`], logging a refusal with the grant's failure code
/// and the rule.
async fn check_grant_logged(
    state: &AppState,
    client: &Client,
    params: &Params,
    grant_type: &str,
) -> Result<(), OAuthError> {
    let Err(error) = check_grant_allowed(client, grant_type) else {
        return Ok(());
    };
    let refusal = refusals::grant_type_not_enabled(client, grant_type);
    audit::record(
        state,
        Event {
            code: failure_code(Some(grant_type)),
            description: error.error_description.clone(),
            client_id: Some(&client.client_id),
            client_name: Some(&client.name),
            audience: params.get("audience").or(params.get("resource")),
            scope: params.get("scope"),
            refusal: Some(&refusal),
            extra: json!({ "grant_type": grant_type }),
            ..Event::default()
        },
    )
    .await;
    Err(error)
}

/// A device polling on schedule (`authorization_pending`, `slow_down`) is
/// waiting, not failing: logging every poll would write a row every few
/// seconds per device and bury the events worth reading.
fn is_keep_polling(error: &OAuthError) -> bool {
    matches!(
        error.error,
        ErrorCode::AuthorizationPending | ErrorCode::SlowDown
    )
}

/// Records the outcome of a grant (success or failure; not a device's wait) and turns it
/// into the handler's result.
pub(crate) async fn finish(
    state: &AppState,
    attempt: Attempt<'_>,
    result: Result<(Minted, Trace), DecisionFailure>,
) -> Result<TokenResponse, ApiError> {
    let client = attempt.client;
    let user_id = attempt.user.map(|u| u.user_id.as_str());
    let user_name = attempt.user.and_then(audit::user_name);
    match result {
        Ok((minted, trace)) => {
            let mut extra = attempt.extra;
            if attempt.codes.ok == codes::CODE_EXCHANGE_OK {
                merge(&mut extra, json!({ "access_token_jti": minted.jti }));
            }
            merge(&mut extra, json!({ "scope": minted.response.scope }));
            let offline = offline_access_refusal(&trace);
            audit::record(
                state,
                Event {
                    code: attempt.codes.ok,
                    description: String::new(),
                    client_id: Some(&client.client_id),
                    client_name: Some(&client.name),
                    user_id,
                    user_name,
                    audience: trace.audience.chosen.as_deref(),
                    scope: Some(&minted.response.scope),
                    jti: minted.jti.as_deref(),
                    trace: Some(&trace),
                    refusal: offline.as_ref(),
                    ip: attempt.ip.as_deref(),
                    user_agent: None,
                    extra,
                },
            )
            .await;
            Ok(minted.response)
        }
        Err(failure) if failure.oauth_error().is_some_and(is_keep_polling) => {
            Err(failure.into_api_error())
        }
        Err(failure) => {
            let description = failure
                .oauth_error()
                .map(|e| e.error_description.clone())
                .unwrap_or_default();
            let code = match &failure {
                DecisionFailure::Explained(e) => e.event_code.unwrap_or(attempt.codes.failed),
                _ => attempt.codes.failed,
            };
            let mut extra = attempt.extra;
            if let Some(e) = failure.oauth_error() {
                merge(
                    &mut extra,
                    json!({ "error": { "oauthError": e.error.as_str(), "message": e.error_description } }),
                );
            }
            audit::record(
                state,
                Event {
                    code,
                    description,
                    client_id: Some(&client.client_id),
                    client_name: Some(&client.name),
                    user_id,
                    user_name,
                    audience: attempt.requested_audience.as_deref(),
                    scope: attempt.requested_scope.as_deref(),
                    trace: failure.trace(),
                    refusal: failure.refusal(),
                    ip: attempt.ip.as_deref(),
                    extra,
                    ..Event::default()
                },
            )
            .await;
            Err(failure.into_api_error())
        }
    }
}

/// `offline_access` dropped because the API does not allow offline access:
/// the token is issued, and the event says why there is no refresh token.
fn offline_access_refusal(trace: &Trace) -> Option<RefusalTrace> {
    let dropped = trace
        .scope(OFFLINE_ACCESS)
        .filter(|s| s.rule == ScopeRule::OfflineAccessNotAllowed)?;
    Some(RefusalTrace {
        rule: RefusalRule::OfflineAccessNotAllowed,
        explanation: dropped.explanation.clone(),
        fix: dropped.fix.clone(),
    })
}

/// Adds the members of `more` to the object `target`.
fn merge(target: &mut Value, more: Value) {
    if let (Value::Object(target), Value::Object(more)) = (target, more) {
        target.extend(more);
    } else {
        tracing::debug!("log details are not an object");
    }
}
