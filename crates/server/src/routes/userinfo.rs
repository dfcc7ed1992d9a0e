//! `GET|POST /userinfo` (OIDC Core §5.3; auth0-compat.md §5): the profile
//! claims the access token's scopes allow.

use crate::bearer;
use crate::cors;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_core::claims::userinfo;
use serde_json::json;

fn unauthorized(description: &str) -> Response {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "invalid_token", "error_description": description})),
    )
        .into_response();
    let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{description}\"");
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

pub async fn userinfo_handler(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match answer(&state, &headers).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn answer(state: &AppState, headers: &HeaderMap) -> Result<Response, ApiError> {
    let Some(token) = bearer_token(headers) else {
        return Ok(unauthorized("Missing access token"));
    };
    let now = state.now();
    let Some(access) = bearer::validate(state, token, now).await? else {
        return Ok(unauthorized("Invalid or expired access token"));
    };
    if !access.allows_userinfo(state.issuer()) {
        return Ok(unauthorized(
            "The access token is not valid for /userinfo (openid scope required)",
        ));
    }
    let Some(user) = state.store().user(&access.subject).await? else {
        return Ok(unauthorized("The user no longer exists"));
    };
    let mut response = Json(userinfo(&user.user, &access.scope)).into_response();
    let client = state
        .store()
        .client(&access.client_id)
        .await?
        .map(|c| c.client);
    cors::allow(
        &mut response,
        cors::request_origin(headers).as_deref(),
        client.as_ref(),
    );
    Ok(response)
}
