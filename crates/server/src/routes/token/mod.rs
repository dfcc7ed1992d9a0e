//! `POST /oauth/token` (RFC 6749 §3.2, auth0-compat.md §2).
//!
//! The handler parses the request into a [`GrantRequest`], authenticates the
//! client, checks the client may use the grant, and hands over to one module
//! per grant. Each grant module gathers facts, lets the grant decision decide,
//! mints tokens and reports the outcome through [`finish`], which records the
//! log event (with the decision trace) for successes and failures alike.

pub(crate) mod authorization_code;
pub mod client_auth;
pub(crate) mod client_credentials;
pub(crate) mod device_code;
pub(crate) mod password;
pub(crate) mod refresh_token;
pub(crate) mod user_grant;

use crate::audit::{self, Event};
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
use gatehouse_core::grant::Trace;
use gatehouse_core::model::Client;
use gatehouse_core::redact::Secret;
use gatehouse_core::request::{GrantRequest, PASSWORD, PASSWORD_REALM};
use gatehouse_core::OAuthError;

/// Success and failure event codes of one grant.
pub(crate) struct EventCodes {
    pub ok: &'static str,
    pub failed: &'static str,
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
        Err((error, client)) => (error.into_response(), client),
    };
    cors::allow(&mut response, origin.as_deref(), client.as_ref());
    response
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
    check_grant_allowed(&client, request.grant_type())
        .map_err(|e| (e.into(), Some(client.clone())))?;
    let result = match request {
        GrantRequest::ClientCredentials { audience, scope } => {
            client_credentials::exchange(state, &client, audience, scope, now).await
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
        } => refresh_token::exchange(state, &client, refresh_token.expose(), scope, now).await,
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
                now,
            )
            .await
        }
        GrantRequest::DeviceCode { device_code } => {
            device_code::exchange(state, &client, device_code.expose(), now).await
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
/// password-realm rides on the `password` grant type.
pub(crate) fn check_grant_allowed(client: &Client, grant_type: &str) -> Result<(), OAuthError> {
    let allowed = client.allows_grant(grant_type)
        || (grant_type == PASSWORD_REALM && client.allows_grant(PASSWORD));
    if allowed {
        Ok(())
    } else {
        Err(OAuthError::grant_type_not_allowed(grant_type))
    }
}

/// Records the outcome of a grant and turns it into the handler's result.
pub(crate) async fn finish(
    state: &AppState,
    codes: EventCodes,
    client: &Client,
    user_id: Option<&str>,
    result: Result<(Minted, Trace), DecisionFailure>,
) -> Result<TokenResponse, ApiError> {
    match result {
        Ok((minted, trace)) => {
            audit::record(
                state,
                Event {
                    code: codes.ok,
                    description: String::new(),
                    client_id: Some(&client.client_id),
                    user_id,
                    jti: minted.jti.as_deref(),
                    trace: Some(&trace),
                    extra: serde_json::json!({ "scope": minted.response.scope }),
                    ..Event::default()
                },
            )
            .await;
            Ok(minted.response)
        }
        Err(failure) => {
            if let Some(description) = match &failure {
                DecisionFailure::Refused(r) => Some(r.error.error_description.clone()),
                DecisionFailure::Internal(ApiError::OAuth(e)) => Some(e.error_description.clone()),
                DecisionFailure::Internal(ApiError::Internal(_) | ApiError::RateLimited(_)) => None,
            } {
                audit::record(
                    state,
                    Event {
                        code: codes.failed,
                        description,
                        client_id: Some(&client.client_id),
                        user_id,
                        jti: None,
                        trace: failure.trace(),
                        extra: serde_json::json!({}),
                        ..Event::default()
                    },
                )
                .await;
            }
            Err(failure.into_api_error())
        }
    }
}
