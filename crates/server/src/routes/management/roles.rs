//! `/api/v2/roles`: roles, their permissions and their users.

use super::error::{deleted, written, Managed, ManagementError, MgmtResult};
use super::extract::{require_items, MJson, MPath, MQuery};
use super::pagination::{paginate, shape_page, Paging};
use super::render::{self, check_id};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gatehouse_core::ids;
use gatehouse_core::model::{Permission, Role};
use gatehouse_store::Page;
use serde::Deserialize;
use serde_json::{json, Value};

/// `POST /roles`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRole {
    pub name: String,
    pub description: Option<String>,
}

/// `PATCH /roles/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRole {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// One permission in an assignment body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionRef {
    pub resource_server_identifier: String,
    pub permission_name: String,
}

/// `{"permissions": [...]}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionsBody {
    pub permissions: Vec<PermissionRef>,
}

/// `{"users": [...]}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsersBody {
    pub users: Vec<String>,
}

/// `name_filter`: case-insensitive substring of the name.
#[derive(Debug, Default, Deserialize)]
pub struct RoleFilter {
    pub name_filter: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    MQuery(paging): MQuery<Paging>,
    MQuery(filter): MQuery<RoleFilter>,
) -> MgmtResult<Json<Value>> {
    let window = paging.window()?;
    let needle = filter.name_filter.unwrap_or_default().to_lowercase();
    let all: Vec<Role> = state
        .store()
        .roles(Page::ALL)
        .await?
        .into_iter()
        .filter(|r| r.name.to_lowercase().contains(&needle))
        .collect();
    Ok(Json(paginate(all, window, "roles")))
}

/// A role by id, or 404 `inexistent_role`.
pub async fn find(state: &AppState, id: &str) -> MgmtResult<Role> {
    check_id(id, "id")?;
    state.store().role(id).await?.ok_or_else(Role::missing)
}

impl Managed for Role {
    fn missing() -> ManagementError {
        ManagementError::not_found("The role does not exist.", "inexistent_role")
    }
    fn duplicate(&self) -> ManagementError {
        ManagementError::conflict(
            format!("A role with the name '{}' already exists.", self.name),
            "role_conflict",
        )
    }
}

fn check_name(name: &str) -> MgmtResult<()> {
    if name.trim().is_empty() || name.len() > 50 {
        return Err(ManagementError::invalid_body(
            "Payload validation error: 'name' must be 1 to 50 characters.",
        ));
    }
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    MJson(body): MJson<CreateRole>,
) -> MgmtResult<Json<Role>> {
    check_name(&body.name)?;
    let role = Role {
        id: ids::prefixed("rol"),
        name: body.name,
        description: body.description.unwrap_or_default(),
    };
    let now = state.now();
    written(state.store().create_role(&role, now).await, &role)?;
    Ok(Json(role))
}

pub async fn get_one(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<Json<Role>> {
    Ok(Json(find(&state, &id).await?))
}

pub async fn update(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<UpdateRole>,
) -> MgmtResult<Json<Role>> {
    let mut role = find(&state, &id).await?;
    if let Some(name) = body.name {
        check_name(&name)?;
        role.name = name;
    }
    if let Some(description) = body.description {
        role.description = description;
    }
    written(state.store().update_role(&role).await, &role)?;
    Ok(Json(role))
}

pub async fn delete(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<StatusCode> {
    find(&state, &id).await?;
    // Auth0 answers 200 here, not 204.
    deleted(state.store().delete_role(&id).await)?;
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
    let all: Vec<Value> = state
        .store()
        .role_permissions(&id)
        .await?
        .iter()
        .map(|p| render::permission(p, &apis))
        .collect();
    Ok(Json(paginate(all, window, "permissions")))
}

/// Checks that every permission names a scope its API defines.
pub async fn resolve_permissions(
    state: &AppState,
    refs: Vec<PermissionRef>,
) -> MgmtResult<Vec<Permission>> {
    require_items(&refs, "permissions")?;
    let mut out = Vec::with_capacity(refs.len());
    for r in refs {
        let api = state
            .store()
            .resource_server_by_identifier(&r.resource_server_identifier)
            .await?
            .ok_or_else(|| {
                ManagementError::not_found(
                    format!(
                        "Resource server {:?} does not exist.",
                        r.resource_server_identifier
                    ),
                    "inexistent_resource_server",
                )
            })?;
        if !api.defines_scope(&r.permission_name) {
            return Err(ManagementError::invalid_body(format!(
                "Permission {:?} does not exist on resource server {:?}.",
                r.permission_name, r.resource_server_identifier
            )));
        }
        out.push(Permission {
            resource_server_identifier: r.resource_server_identifier,
            permission_name: r.permission_name,
        });
    }
    Ok(out)
}

/// The permissions named in a removal body: at least one; they need not
/// exist any more (removing what is gone is not an error).
pub fn permissions_to_remove(refs: Vec<PermissionRef>) -> MgmtResult<Vec<Permission>> {
    require_items(&refs, "permissions")?;
    Ok(refs
        .into_iter()
        .map(|r| Permission {
            resource_server_identifier: r.resource_server_identifier,
            permission_name: r.permission_name,
        })
        .collect())
}

pub async fn add_permissions(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<PermissionsBody>,
) -> MgmtResult<StatusCode> {
    find(&state, &id).await?;
    let perms = resolve_permissions(&state, body.permissions).await?;
    state.store().add_role_permissions(&id, &perms).await?;
    Ok(StatusCode::OK)
}

pub async fn remove_permissions(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<PermissionsBody>,
) -> MgmtResult<StatusCode> {
    find(&state, &id).await?;
    let perms = permissions_to_remove(body.permissions)?;
    state.store().remove_role_permissions(&id, &perms).await?;
    Ok(StatusCode::OK)
}

pub async fn users(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MQuery(paging): MQuery<Paging>,
) -> MgmtResult<Json<Value>> {
    let window = paging.window()?;
    find(&state, &id).await?;
    let users: Vec<Value> = state
        .store()
        .role_users(&id, window.page())
        .await?
        .iter()
        .map(|s| {
            json!({
                "user_id": s.user.user_id,
                "email": s.user.email,
                "name": s.user.name,
                "picture": s.user.picture,
            })
        })
        .collect();
    let total = if window.include_totals {
        Some(state.store().count_role_users(&id).await?)
    } else {
        None
    };
    Ok(Json(shape_page(users, total, window, "users")))
}

pub async fn assign_users(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<UsersBody>,
) -> MgmtResult<StatusCode> {
    find(&state, &id).await?;
    require_items(&body.users, "users")?;
    for user_id in &body.users {
        check_id(user_id, "users")?;
        if state.store().user(user_id).await?.is_none() {
            return Err(ManagementError::not_found(
                format!("The user {user_id:?} does not exist."),
                "inexistent_user",
            ));
        }
    }
    state.store().add_role_users(&id, &body.users).await?;
    Ok(StatusCode::OK)
}
