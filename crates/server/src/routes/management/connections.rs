//! `/api/v2/connections`: the one built-in database connection,
//! `Username-Password-Authentication` (auth0-compat.md §8), enabled for
//! every client. Of Auth0's connection `options`, `disable_signup` can be
//! changed (`PATCH /connections/{id}`); the options live in the store's
//! server values, shared by all nodes.

use super::error::{ManagementError, MgmtResult};
use super::extract::{MJson, MPath, MQuery};
use super::pagination::{paginate, Paging};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use gatehouse_core::model::DEFAULT_CONNECTION;
use gatehouse_store::{server_values, Page, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The built-in connection's fixed id.
pub const DEFAULT_CONNECTION_ID: &str = "con_Gatehouse0Database";

#[derive(Debug, Default, Deserialize)]
pub struct ConnectionFilter {
    pub name: Option<String>,
    pub strategy: Option<String>,
}

/// The database connection's changeable options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionOptions {
    /// Refuse new users from the signup page.
    pub disable_signup: bool,
}

impl ConnectionOptions {
    /// The password policy new passwords must meet.
    pub fn password_policy(&self) -> gatehouse_core::password_policy::PasswordPolicy {
        gatehouse_core::password_policy::PasswordPolicy::default()
    }
}

/// The database connection's options as stored (defaults when never set).
pub async fn database_options(state: &AppState) -> Result<ConnectionOptions, StoreError> {
    match state
        .store()
        .server_value(server_values::DATABASE_CONNECTION_OPTIONS)
        .await?
    {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("connection options: {e}"))),
        None => Ok(ConnectionOptions::default()),
    }
}

/// `PATCH /connections/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateConnection {
    pub options: Option<UpdateOptions>,
}

/// `options` in `PATCH /connections/{id}`: the options Gatehouse acts on.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOptions {
    pub disable_signup: Option<bool>,
}

/// A connection as the Management API renders it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Connection {
    pub id: String,
    pub name: String,
    /// Always `auth0` (a database connection).
    pub strategy: String,
    /// Every client: the connection is enabled for all of them.
    pub enabled_clients: Vec<String>,
    pub realms: Vec<String>,
    pub is_domain_connection: bool,
    pub options: ConnectionOptionsView,
}

/// A connection's `options`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ConnectionOptions)]
pub struct ConnectionOptionsView {
    /// Always on.
    pub brute_force_protection: bool,
    pub disable_signup: bool,
}

async fn builtin(state: &AppState) -> MgmtResult<Value> {
    let options = database_options(state).await?;
    let clients: Vec<String> = state
        .store()
        .clients(Page::ALL)
        .await?
        .into_iter()
        .map(|c| c.client.client_id)
        .collect();
    let connection = Connection {
        id: DEFAULT_CONNECTION_ID.into(),
        name: DEFAULT_CONNECTION.into(),
        strategy: "auth0".into(),
        enabled_clients: clients,
        realms: vec![DEFAULT_CONNECTION.into()],
        is_domain_connection: false,
        options: ConnectionOptionsView {
            brute_force_protection: true,
            disable_signup: options.disable_signup,
        },
    };
    serde_json::to_value(connection).map_err(ManagementError::internal)
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

fn check_id(id: &str) -> MgmtResult<()> {
    if id != DEFAULT_CONNECTION_ID {
        return Err(ManagementError::not_found(
            "The connection does not exist",
            "inexistent_connection",
        ));
    }
    Ok(())
}

pub async fn get_one(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<Json<Value>> {
    check_id(&id)?;
    Ok(Json(builtin(&state).await?))
}

pub async fn update(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<UpdateConnection>,
) -> MgmtResult<Json<Value>> {
    check_id(&id)?;
    let mut options = database_options(&state).await?;
    if let Some(disable_signup) = body.options.and_then(|o| o.disable_signup) {
        options.disable_signup = disable_signup;
    }
    let text = serde_json::to_string(&options).map_err(ManagementError::internal)?;
    state
        .store()
        .put_server_value(server_values::DATABASE_CONNECTION_OPTIONS, &text)
        .await?;
    Ok(Json(builtin(&state).await?))
}
