//! `POST /oauth/introspect` (RFC 7662) for confidential clients: whether a
//! token is active, and what it grants.
//!
//! A caller only learns about tokens that concern it (RFC 7662 §4): a token
//! is reported active only to the client it was issued to (`client_id` /
//! `azp`), or to a resource server's client, meaning a client with its own
//! client grant on one of the token's audiences (the API it protects). To
//! anyone else every token is `{"active": false}`, as if unknown. Refresh
//! tokens are only ever reported to their own client.

use super::token::client_auth::authenticate_limited;
use crate::bearer;
use crate::error::ApiError;
use crate::extract::{Params, PeerIp};
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_core::error::messages::CLIENT_AUTH_FAILED;
use gatehouse_core::secret::hash_token;
use gatehouse_core::OAuthError;
use serde_json::{json, Value};

pub async fn introspect(
    State(state): State<AppState>,
    PeerIp(peer): PeerIp,
    headers: HeaderMap,
    params: Params,
) -> Response {
    match run(&state, &headers, &params, peer).await {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn run(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    peer: Option<std::net::IpAddr>,
) -> Result<Value, ApiError> {
    let now = state.now();
    let token = params.require("token")?.to_string();
    let client = authenticate_limited(state, headers, params, peer, now).await?;
    if client.is_public() {
        return Err(OAuthError::invalid_client(CLIENT_AUTH_FAILED).into());
    }
    let prefers_refresh = params.get("token_type_hint") == Some("refresh_token");
    let inactive = json!({ "active": false });
    if prefers_refresh || token.split('.').count() != 3 {
        if let Some(body) = refresh_token_info(state, &client.client_id, &token, now).await? {
            return Ok(body);
        }
    }
    let Some(access) = bearer::validate(state, &token, now).await? else {
        return Ok(inactive);
    };
    if !may_introspect(state, &client.client_id, &access).await? {
        return Ok(inactive);
    }
    let mut body = json!({
        "active": true,
        "token_type": "Bearer",
        "scope": access.scope.to_string(),
        "client_id": access.client_id,
        "sub": access.subject,
        "aud": access.audiences,
        "iss": state.issuer(),
        "exp": access.expires_at,
    });
    if let Some(iat) = access.issued_at {
        body["iat"] = json!(iat);
    }
    if let Some(perms) = access.claims.as_ref().and_then(|c| c.get("permissions")) {
        body["permissions"] = perms.clone();
    }
    Ok(body)
}

/// Whether `caller` may see `access`: see the module docs.
async fn may_introspect(
    state: &AppState,
    caller: &str,
    access: &bearer::AccessToken,
) -> Result<bool, ApiError> {
    if access.client_id == caller {
        return Ok(true);
    }
    let userinfo = gatehouse_core::claims::userinfo_audience(state.issuer());
    for audience in access.audiences.iter().filter(|a| **a != userinfo) {
        let grants = state.store().client_grants_for(caller, audience).await?;
        if grants
            .iter()
            .any(|g| g.client_id.as_deref() == Some(caller) && g.audience == *audience)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A refresh token is active while its family is, and only its own client may ask.
async fn refresh_token_info(
    state: &AppState,
    client_id: &str,
    token: &str,
    now: i64,
) -> Result<Option<Value>, ApiError> {
    let Some((record, family)) = state.store().refresh_token(&hash_token(token)).await? else {
        return Ok(None);
    };
    let active = family.client_id == client_id
        && family.revoked_at.is_none()
        && record.rotated_at.is_none()
        && family.expires_at.is_none_or(|at| at > now);
    if !active {
        return Ok(Some(json!({ "active": false })));
    }
    let mut body = json!({
        "active": true,
        "token_type": "refresh_token",
        "client_id": family.client_id,
        "sub": family.user_id,
        "scope": family.scope,
        "iss": state.issuer(),
        "iat": record.created_at,
    });
    if let Some(exp) = family.expires_at {
        body["exp"] = json!(exp);
    }
    Ok(Some(body))
}
