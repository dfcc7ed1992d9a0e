//! A user's roles and permissions: `/api/v2/users/{id}/roles` and
//! `/api/v2/users/{id}/permissions`.
//!
//! The permission list carries direct permissions and those inherited from
//! roles, each with its `sources` (`DIRECT` or `ROLE`), so "why does bob not
//! have read:measurements" is answered by one request.

use super::error::MgmtResult;
use super::extract::{require_items, MJson, MPath, MQuery};
use super::pagination::{paginate, Paging};
use super::render;
use super::roles::{permissions_to_remove, resolve_permissions, PermissionsBody};
use super::users::find;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gatehouse_core::model::{Permission, PermissionSource};
use gatehouse_store::Page;
use serde::Deserialize;
use serde_json::{json, Value};

/// `{"roles": ["rol_…"]}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesBody {
    pub roles: Vec<String>,
}

pub async fn roles(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MQuery(paging): MQuery<Paging>,
) -> MgmtResult<Json<Value>> {
    let window = paging.window()?;
    find(&state, &id).await?;
    let roles = state.store().user_roles(&id).await?;
    Ok(Json(paginate(roles, window, "roles")))
}

async fn checked_roles(state: &AppState, body: RolesBody) -> MgmtResult<Vec<String>> {
    require_items(&body.roles, "roles")?;
    for role_id in &body.roles {
        super::roles::find(state, role_id).await?;
    }
    Ok(body.roles)
}

pub async fn assign_roles(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<RolesBody>,
) -> MgmtResult<StatusCode> {
    find(&state, &id).await?;
    let roles = checked_roles(&state, body).await?;
    state.store().assign_user_roles(&id, &roles).await?;
    Ok(StatusCode::OK)
}

pub async fn remove_roles(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<RolesBody>,
) -> MgmtResult<StatusCode> {
    find(&state, &id).await?;
    require_items(&body.roles, "roles")?;
    state.store().remove_user_roles(&id, &body.roles).await?;
    Ok(StatusCode::OK)
}

pub async fn permissions(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MQuery(paging): MQuery<Paging>,
) -> MgmtResult<Json<Value>> {
    let window = paging.window()?;
    find(&state, &id).await?;
    let mut apis = state.store().resource_servers(Page::ALL).await?;
    apis.sort_by(|a, b| a.identifier.cmp(&b.identifier));
    let mut all = Vec::new();
    // The same reads the grant decision makes, so the answer is what it sees.
    for api in &apis {
        for effective in state
            .store()
            .effective_permissions(&id, &api.identifier)
            .await?
        {
            let permission = Permission {
                resource_server_identifier: api.identifier.clone(),
                permission_name: effective.permission_name,
            };
            let mut value = render::permission(&permission, &apis);
            value["sources"] = effective.sources.iter().map(source).collect();
            all.push(value);
        }
    }
    Ok(Json(paginate(all, window, "permissions")))
}

/// Where a permission comes from, as Auth0 writes it.
fn source(source: &PermissionSource) -> Value {
    match source {
        PermissionSource::Direct => {
            json!({"source_id": "", "source_name": "", "source_type": "DIRECT"})
        }
        PermissionSource::Role { role_id, role_name } => {
            json!({"source_id": role_id, "source_name": role_name, "source_type": "ROLE"})
        }
    }
}

pub async fn add_permissions(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<PermissionsBody>,
) -> MgmtResult<StatusCode> {
    find(&state, &id).await?;
    let perms = resolve_permissions(&state, body.permissions).await?;
    state.store().add_user_permissions(&id, &perms).await?;
    Ok(StatusCode::OK)
}

pub async fn remove_permissions(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<PermissionsBody>,
) -> MgmtResult<StatusCode> {
    find(&state, &id).await?;
    let perms = permissions_to_remove(body.permissions)?;
    state.store().remove_user_permissions(&id, &perms).await?;
    Ok(StatusCode::OK)
}
