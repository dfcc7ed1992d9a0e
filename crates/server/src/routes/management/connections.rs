//! `/api/v2/connections`: the one built-in database connection,
//! `Username-Password-Authentication` (auth0-compat.md §8), enabled for
//! every client.

use super::error::{ManagementError, MgmtResult};
use super::extract::{MPath, MQuery};
use super::pagination::{paginate, Paging};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use gatehouse_core::model::DEFAULT_CONNECTION;
use gatehouse_store::Page;
use serde::Deserialize;
use serde_json::{json, Value};

/// The built-in connection's fixed id.
pub const DEFAULT_CONNECTION_ID: &str = "con_Gatehouse0Database";

#[derive(Debug, Default, Deserialize)]
pub struct ConnectionFilter {
    pub name: Option<String>,
    pub strategy: Option<String>,
}

async fn builtin(state: &AppState) -> MgmtResult<Value> {
    let clients: Vec<String> = state
        .store()
        .clients(Page::ALL)
        .await?
        .into_iter()
        .map(|c| c.client.client_id)
        .collect();
    Ok(json!({
        "id": DEFAULT_CONNECTION_ID,
        "name": DEFAULT_CONNECTION,
        "strategy": "auth0",
        "enabled_clients": clients,
        "realms": [DEFAULT_CONNECTION],
        "is_domain_connection": false,
        "options": {"brute_force_protection": true},
    }))
}

pub async fn list(
    State(state): State<AppState>,
    MQuery(paging): MQuery<Paging>,
    MQuery(filter): MQuery<ConnectionFilter>,
) -> MgmtResult<Json<Value>> {
    let window = paging.window()?;
    let matches = filter
        .name
        .as_deref()
        .is_none_or(|n| n == DEFAULT_CONNECTION)
        && filter.strategy.as_deref().is_none_or(|s| s == "auth0");
    let all = if matches {
        vec![builtin(&state).await?]
    } else {
        Vec::new()
    };
    Ok(Json(paginate(all, window, "connections")))
}

pub async fn get_one(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<Json<Value>> {
    if id != DEFAULT_CONNECTION_ID {
        return Err(ManagementError::not_found(
            "The connection does not exist",
            "inexistent_connection",
        ));
    }
    Ok(Json(builtin(&state).await?))
}
