//! `/api/v2/user-blocks`: the brute-force blocks of a user (by id) or of an
//! identifier (email), as Auth0 lists and removes them: `{"blocked_for":
//! [{identifier, ip, connection}]}`. Blocks are keyed by the lowercased
//! identifier that was typed at login.

use super::error::{ManagementError, MgmtResult};
use super::extract::{MPath, MQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gatehouse_core::model::DEFAULT_CONNECTION;
use serde::Deserialize;
use serde_json::{json, Value};

/// `?identifier=` of the identifier variants.
#[derive(Debug, Deserialize)]
pub struct IdentifierQuery {
    pub identifier: Option<String>,
}

impl IdentifierQuery {
    fn required(self) -> MgmtResult<String> {
        self.identifier
            .filter(|i| !i.trim().is_empty())
            .ok_or_else(|| {
                ManagementError::invalid_query(
                    "Query validation error: 'Missing required property: identifier' on property identifier.",
                )
            })
    }
}

/// Removes every block of `identifier` (an email or username as typed).
pub async fn unblock(state: &AppState, identifier: &str) -> MgmtResult<()> {
    state
        .store()
        .clear_login_blocks(&identifier.trim().to_lowercase())
        .await?;
    Ok(())
}

async fn blocked_for(state: &AppState, identifier: &str) -> MgmtResult<Json<Value>> {
    let key = identifier.trim().to_lowercase();
    let now = state.now();
    let ips = state.store().login_blocks(&key, now).await?;
    let blocks: Vec<Value> = ips
        .into_iter()
        .map(|ip| json!({"identifier": key, "ip": ip, "connection": DEFAULT_CONNECTION}))
        .collect();
    Ok(Json(json!({ "blocked_for": blocks })))
}

/// The identifier a user logs in with.
async fn user_identifier(state: &AppState, id: &str) -> MgmtResult<Option<String>> {
    let stored = super::users::find(state, id).await?;
    Ok(stored.user.email)
}

/// `GET /user-blocks/{id}`.
pub async fn get_for_user(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<Json<Value>> {
    match user_identifier(&state, &id).await? {
        Some(email) => blocked_for(&state, &email).await,
        None => Ok(Json(json!({ "blocked_for": [] }))),
    }
}

/// `DELETE /user-blocks/{id}`.
pub async fn delete_for_user(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<StatusCode> {
    if let Some(email) = user_identifier(&state, &id).await? {
        unblock(&state, &email).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /user-blocks?identifier=`.
pub async fn get_for_identifier(
    State(state): State<AppState>,
    MQuery(query): MQuery<IdentifierQuery>,
) -> MgmtResult<Json<Value>> {
    let identifier = query.required()?;
    blocked_for(&state, &identifier).await
}

/// `DELETE /user-blocks?identifier=`.
pub async fn delete_for_identifier(
    State(state): State<AppState>,
    MQuery(query): MQuery<IdentifierQuery>,
) -> MgmtResult<StatusCode> {
    let identifier = query.required()?;
    unblock(&state, &identifier).await?;
    Ok(StatusCode::NO_CONTENT)
}
