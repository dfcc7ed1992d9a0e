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
use gatehouse_core::model::Permission;
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
    let apis = state.store().resource_servers(Page::ALL).await?;
    let mut merged: Vec<(Permission, Vec<Value>)> = Vec::new();
    let mut add = |p: Permission, source: Value| match merged.iter_mut().find(|(q, _)| q == &p) {
        Some((_, sources)) => sources.push(source),
        None => merged.push((p, vec![source])),
    };
    for p in state.store().user_direct_permissions(&id).await? {
        add(
            p,
            json!({"source_id": "", "source_name": "", "source_type": "DIRECT"}),
        );
    }
    for role in state.store().user_roles(&id).await? {
        for p in state.store().role_permissions(&role.id).await? {
            add(
                p,
                json!({"source_id": role.id, "source_name": role.name, "source_type": "ROLE"}),
            );
        }
    }
    merged.sort_by(|a, b| a.0.cmp(&b.0));
    let all: Vec<Value> = merged
        .into_iter()
        .map(|(p, sources)| {
            let mut value = render::permission(&p, &apis);
            value["sources"] = Value::Array(sources);
            value
        })
        .collect();
    Ok(Json(paginate(all, window, "permissions")))
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
