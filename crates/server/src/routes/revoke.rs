//! `POST /oauth/revoke` (RFC 7009; auth0-compat.md §5): revokes a refresh
//! token's family. Answers 200 with an empty body even when the token was
//! unknown or already revoked.

use super::token::client_auth::authenticate_limited;
use crate::audit::{self, codes, Event};
use crate::cors;
use crate::error::ApiError;
use crate::extract::{Params, PeerIp};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::secret::hash_token;

pub async fn revoke(
    State(state): State<AppState>,
    PeerIp(peer): PeerIp,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let origin = cors::request_origin(&headers);
    match run(&state, &headers, &params, peer).await {
        Ok(client) => {
            let mut response = StatusCode::OK.into_response();
            cors::allow(&mut response, origin.as_deref(), Some(&client));
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn run(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    peer: Option<std::net::IpAddr>,
) -> Result<gatehouse_core::model::Client, ApiError> {
    let now = state.now();
    let token = params.require("token")?.to_string();
    let client = authenticate_limited(state, headers, params, peer, now).await?;
    if let Some((_, family)) = state.store().refresh_token(&hash_token(&token)).await? {
        if family.client_id == client.client_id && family.revoked_at.is_none() {
            state.store().revoke_refresh_family(&family.id, now).await?;
            audit::record(
                state,
                Event {
                    code: codes::REFRESH_TOKEN_REVOKED,
                    description: String::new(),
                    client_id: Some(&client.client_id),
                    user_id: Some(&family.user_id),
                    jti: None,
                    trace: None,
                    extra: serde_json::json!({ "family_id": family.id }),
                    ..Event::default()
                },
            )
            .await;
        }
    }
    Ok(client)
}
