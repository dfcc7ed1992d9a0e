//! `POST /oauth/device/code` (RFC 8628 §3.1–3.2): starts a device flow.

use super::token::client_auth::authenticate_limited;
use crate::cors;
use crate::error::ApiError;
use crate::extract::{Params, PeerIp};
use crate::pages::paths::ACTIVATE_PATH;
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_core::request::{audience_param, DEVICE_CODE};
use gatehouse_core::secret::hash_token;
use gatehouse_core::{ids, OAuthError, ScopeSet};
use gatehouse_store::{DeviceCode, DeviceRequest, DeviceStatus};
use serde_json::json;

/// How long a device code lives, and the minimum polling interval (seconds).
pub const DEVICE_CODE_LIFETIME: i64 = 900;
pub const POLL_INTERVAL: i64 = 5;

pub async fn device_code(
    State(state): State<AppState>,
    PeerIp(peer): PeerIp,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let origin = cors::request_origin(&headers);
    let now = state.now();
    match start(&state, &headers, &params, peer, now).await {
        Ok((body, client)) => {
            let mut response = Json(body).into_response();
            cors::allow(&mut response, origin.as_deref(), Some(&client));
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn start(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    peer: Option<std::net::IpAddr>,
    now: i64,
) -> Result<(serde_json::Value, gatehouse_core::model::Client), ApiError> {
    let client = authenticate_limited(state, headers, params, peer, now).await?;
    if !client.allows_grant(DEVICE_CODE) {
        return Err(OAuthError::grant_type_not_allowed(DEVICE_CODE).into());
    }
    let audience = audience_param(&|name| params.get(name).map(str::to_string))?;
    if let Some(aud) = &audience {
        if state
            .store()
            .resource_server_by_identifier(aud.value())
            .await?
            .is_none()
        {
            return Err(OAuthError::service_not_found(aud.value()).into());
        }
    }
    let scope = ScopeSet::parse(params.get("scope").unwrap_or(""));
    let device_code = ids::random_token(32);
    let record = DeviceCode {
        device_code_hash: hash_token(&device_code),
        user_code: ids::user_code(),
        client_id: client.client_id.clone(),
        request: DeviceRequest {
            scope: scope.to_string(),
            audience: audience.map(|a| a.value().to_string()),
            interval: POLL_INTERVAL,
        },
        status: DeviceStatus::Pending,
        user_id: None,
        expires_at: now + DEVICE_CODE_LIFETIME,
        last_polled_at: None,
    };
    state.store().insert_device_code(&record).await?;
    let verification_uri = format!("{}{ACTIVATE_PATH}", state.base_url());
    Ok((
        json!({
            "device_code": device_code,
            "user_code": record.user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": format!("{verification_uri}?user_code={}", record.user_code),
            "expires_in": DEVICE_CODE_LIFETIME,
            "interval": POLL_INTERVAL,
        }),
        client,
    ))
}
