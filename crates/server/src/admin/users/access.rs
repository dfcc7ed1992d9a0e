//! The Roles and Permissions tabs of a user: assign and remove roles, add
//! and remove direct permissions (the Management API's
//! `/users/{id}/roles` and `/users/{id}/permissions`), and the effective
//! permissions on every API with where each comes from, read the way the
//! grant decision reads them.

use super::super::changes;
use super::super::form::{AdminForm, FieldErrors};
use super::super::render::{
    confirm, page_with_status, see_other, AdminError, AdminResult, Confirm,
};
use super::super::session::{first_not_held, not_held_message, role_beyond_admin, Admin};
use super::{done_notice, encode, load, load_outranked, tabs, user_path, DoneQuery, UserSummary};
use crate::routes::management::error::ManagementError;
use crate::routes::management::extract::{MJson, MPath};
use crate::routes::management::roles::{PermissionRef, PermissionsBody};
use crate::routes::management::user_links::{self, RolesBody};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gatehouse_core::model::{PermissionSource, ResourceServer, Role, User};
use gatehouse_store::Page;
use minijinja::context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A role the user holds.
#[derive(Debug, Serialize)]
struct RoleRow {
    name: String,
    description: String,
    href: String,
    remove: String,
    grants: Vec<Grant>,
}

/// A permission a role grants, with its API's name.
#[derive(Debug, Serialize)]
struct Grant {
    permission: String,
    api: String,
}

/// `GET /admin/users/{id}/roles`.
pub async fn roles(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(done): Query<DoneQuery>,
) -> AdminResult {
    let user = load(&state, &id).await?;
    let notice = done_notice(done.done.as_deref());
    roles_page(
        &state,
        &admin,
        &user,
        StatusCode::OK,
        FieldErrors::default(),
        notice,
    )
    .await
}

async fn roles_page(
    state: &AppState,
    admin: &Admin,
    user: &User,
    status: StatusCode,
    errors: FieldErrors,
    notice: Option<&str>,
) -> AdminResult {
    let store = state.store();
    let assigned = store.user_roles(&user.user_id).await?;
    let apis = store.resource_servers(Page::ALL).await?;
    let api_name = |identifier: &str| {
        apis.iter()
            .find(|a| a.identifier == identifier)
            .map_or_else(|| identifier.to_string(), |a| a.name.clone())
    };
    let mut rows = Vec::with_capacity(assigned.len());
    for role in &assigned {
        let grants = store
            .role_permissions(&role.id)
            .await?
            .into_iter()
            .map(|p| Grant {
                api: api_name(&p.resource_server_identifier),
                permission: p.permission_name,
            })
            .collect();
        rows.push(RoleRow {
            name: role.name.clone(),
            description: role.description.clone(),
            href: format!("/admin/roles/{}", encode(&role.id)),
            remove: user_path(
                &user.user_id,
                &format!("/roles/{}/remove", encode(&role.id)),
            ),
            grants,
        });
    }
    let mut options: Vec<(String, String)> = store
        .roles(Page::ALL)
        .await?
        .into_iter()
        .filter(|r| !assigned.iter().any(|a| a.id == r.id))
        .map(|r| (r.id, r.name))
        .collect();
    options.sort_by_key(|a| a.1.to_lowercase());
    options.insert(0, (String::new(), "Choose a role".into()));
    Ok(page_with_status(
        status,
        admin,
        "users",
        "users_roles.html",
        context! {
            user => UserSummary::of(user),
            tabs => tabs(&user.user_id),
            tab => "roles",
            roles => rows,
            options => options,
            errors => errors,
            notice => notice,
        },
    ))
}

/// `POST /admin/users/{id}/roles`: assigns the chosen role.
pub async fn assign_role(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let user = load(&state, &id).await?;
    let mut errors = FieldErrors::default();
    match fields.opt("role") {
        None => errors.add("role", "Choose a role to assign."),
        Some(role) => {
            if let Some(missing) = role_beyond_admin(&admin, &state, &role).await? {
                errors.add("role", not_held_message(&missing));
                let status = StatusCode::FORBIDDEN;
                return roles_page(&state, &admin, &user, status, errors, None).await;
            }
            let body = RolesBody { roles: vec![role] };
            match user_links::assign_roles(State(state.clone()), MPath(id.clone()), MJson(body))
                .await
            {
                Ok(_) => {
                    let path = format!("/users/{}/roles", encode(&id));
                    changes::record(&state, &admin, "POST", &path).await;
                    return Ok(see_other(&user_path(&id, "/roles?done=role-assigned")));
                }
                Err(e) if !e.status.is_server_error() => errors.add("role", e.message),
                Err(e) => return Err(e.into()),
            }
        }
    }
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    roles_page(&state, &admin, &user, status, errors, None).await
}

/// The user's role `role_id`, or the 404 page.
async fn assigned_role(state: &AppState, user_id: &str, role_id: &str) -> Result<Role, AdminError> {
    state
        .store()
        .user_roles(user_id)
        .await?
        .into_iter()
        .find(|r| r.id == role_id)
        .ok_or_else(|| AdminError::not_found("This role assignment"))
}

/// `GET /admin/users/{id}/roles/{role_id}/remove`.
pub async fn confirm_remove_role(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, role_id)): Path<(String, String)>,
) -> AdminResult {
    let user = load(&state, &id).await?;
    let role = assigned_role(&state, &id, &role_id).await?;
    let summary = UserSummary::of(&user);
    Ok(confirm(
        &admin,
        Confirm {
            section: "users",
            title: "Remove this role?",
            message: format!(
                "{} will lose the role {} and the permissions that come only with it. Tokens already issued keep their scopes until they expire.",
                summary.title, role.name
            ),
            action: user_path(&id, &format!("/roles/{}/remove", encode(&role_id))),
            button: "Remove role",
            back: user_path(&id, "/roles"),
        },
    ))
}

/// `POST /admin/users/{id}/roles/{role_id}/remove`.
pub async fn remove_role(
    State(state): State<AppState>,
    Path((id, role_id)): Path<(String, String)>,
    form: AdminForm,
) -> AdminResult {
    load_outranked(&state, &form.admin, &id).await?;
    assigned_role(&state, &id, &role_id).await?;
    let body = RolesBody {
        roles: vec![role_id],
    };
    user_links::remove_roles(State(state.clone()), MPath(id.clone()), MJson(body)).await?;
    let path = format!("/users/{}/roles", encode(&id));
    changes::record(&state, &form.admin, "DELETE", &path).await;
    Ok(see_other(&user_path(&id, "/roles?done=role-removed")))
}

/// One effective permission on an API.
#[derive(Debug, Serialize)]
struct EffectiveRow {
    permission: String,
    description: String,
    /// "direct" or "role Reader", one per way the user holds it.
    sources: Vec<String>,
}

/// An API with the user's effective permissions on it.
#[derive(Debug, Serialize)]
struct ApiPermissions {
    name: String,
    identifier: String,
    href: String,
    rbac: bool,
    is_system: bool,
    effective: Vec<EffectiveRow>,
}

/// A direct permission, with its removal link.
#[derive(Debug, Serialize)]
struct DirectRow {
    api_name: String,
    identifier: String,
    permission: String,
    remove: String,
}

/// Where a permission comes from, in the dashboard's words.
fn source_label(source: &PermissionSource) -> String {
    match source {
        PermissionSource::Direct => "direct".to_string(),
        PermissionSource::Role { role_name, .. } => format!("role {role_name}"),
    }
}

/// The APIs in the order shown: the tenant's own by name, the Management API last.
fn sorted_apis(mut apis: Vec<ResourceServer>) -> Vec<ResourceServer> {
    apis.sort_by(|a, b| {
        (a.is_system, a.name.to_lowercase()).cmp(&(b.is_system, b.name.to_lowercase()))
    });
    apis
}

/// `GET /admin/users/{id}/permissions`.
pub async fn permissions(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(done): Query<DoneQuery>,
) -> AdminResult {
    let user = load(&state, &id).await?;
    let notice = done_notice(done.done.as_deref());
    let forms = PermissionForm {
        notice,
        ..PermissionForm::default()
    };
    permissions_page(&state, &admin, &user, StatusCode::OK, forms).await
}

/// The add-permission form as typed, its errors, and the page's notice.
#[derive(Default)]
struct PermissionForm {
    typed: BTreeMap<String, String>,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

async fn permissions_page(
    state: &AppState,
    admin: &Admin,
    user: &User,
    status: StatusCode,
    form: PermissionForm,
) -> AdminResult {
    let store = state.store();
    let apis = sorted_apis(store.resource_servers(Page::ALL).await?);
    let mut per_api = Vec::with_capacity(apis.len());
    for api in &apis {
        let effective = store
            .effective_permissions(&user.user_id, &api.identifier)
            .await?
            .into_iter()
            .map(|p| EffectiveRow {
                description: api
                    .scopes
                    .iter()
                    .find(|s| s.value == p.permission_name)
                    .map(|s| s.description.clone())
                    .unwrap_or_default(),
                sources: p.sources.iter().map(source_label).collect(),
                permission: p.permission_name,
            })
            .collect();
        per_api.push(ApiPermissions {
            name: api.name.clone(),
            identifier: api.identifier.clone(),
            href: format!("/admin/apis/{}", encode(&api.id)),
            rbac: api.enforce_policies,
            is_system: api.is_system,
            effective,
        });
    }
    let direct: Vec<DirectRow> = store
        .user_direct_permissions(&user.user_id)
        .await?
        .into_iter()
        .map(|p| DirectRow {
            api_name: apis
                .iter()
                .find(|a| a.identifier == p.resource_server_identifier)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            remove: user_path(
                &user.user_id,
                &format!(
                    "/permissions/remove?api={}&permission={}",
                    encode(&p.resource_server_identifier),
                    encode(&p.permission_name)
                ),
            ),
            identifier: p.resource_server_identifier,
            permission: p.permission_name,
        })
        .collect();
    let api_options: Vec<(String, String)> =
        std::iter::once((String::new(), "Choose an API".into()))
            .chain(apis.iter().map(|a| {
                (
                    a.identifier.clone(),
                    format!("{} ({})", a.name, a.identifier),
                )
            }))
            .collect();
    // Suggestions: the tenant's own scopes and the dashboard's; the
    // Management API's forty others can still be typed.
    let mut scopes: Vec<&str> = apis
        .iter()
        .filter(|a| !a.is_system)
        .flat_map(|a| a.scopes.iter().map(|s| s.value.as_str()))
        .chain([super::super::session::PERMISSION])
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    Ok(page_with_status(
        status,
        admin,
        "users",
        "users_permissions.html",
        context! {
            user => UserSummary::of(user),
            tabs => tabs(&user.user_id),
            tab => "permissions",
            apis => per_api,
            direct => direct,
            api_options => api_options,
            scopes => scopes,
            v => form.typed,
            errors => form.errors,
            notice => form.notice,
        },
    ))
}

/// `POST /admin/users/{id}/permissions`: adds a direct permission.
pub async fn add_permission(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let user = load(&state, &id).await?;
    let (api, permission) = (fields.text("api"), fields.text("permission"));
    let mut errors = FieldErrors::default();
    if api.is_empty() {
        errors.add("api", "Choose the API the permission belongs to.");
    }
    if permission.is_empty() {
        errors.add(
            "permission",
            "Enter a permission the API defines, like read:measurements.",
        );
    }
    if let Some(missing) = first_not_held(&admin, &state, [(api.as_str(), permission.as_str())]) {
        errors.add("permission", not_held_message(missing));
    }
    if errors.is_empty() {
        let body = PermissionsBody {
            permissions: vec![PermissionRef {
                resource_server_identifier: api,
                permission_name: permission,
            }],
        };
        let added =
            user_links::add_permissions(State(state.clone()), MPath(id.clone()), MJson(body)).await;
        match added {
            Ok(_) => {
                let path = format!("/users/{}/permissions", encode(&id));
                changes::record(&state, &admin, "POST", &path).await;
                return Ok(see_other(&user_path(
                    &id,
                    "/permissions?done=permission-added",
                )));
            }
            Err(e) if !e.status.is_server_error() => errors = permission_error(e),
            Err(e) => return Err(e.into()),
        }
    }
    let form = PermissionForm {
        typed: fields.typed(),
        errors,
        notice: None,
    };
    permissions_page(
        &state,
        &admin,
        &user,
        StatusCode::UNPROCESSABLE_ENTITY,
        form,
    )
    .await
}

/// An unknown API belongs next to the API select, anything else next to
/// the permission.
fn permission_error(e: ManagementError) -> FieldErrors {
    let mut errors = FieldErrors::default();
    let field = if e.error_code == Some("inexistent_resource_server") {
        "api"
    } else {
        "permission"
    };
    errors.add(field, e.message);
    errors
}

/// `?api=&permission=` of a direct permission to remove.
#[derive(Debug, Default, Deserialize)]
pub struct PermissionQuery {
    api: Option<String>,
    permission: Option<String>,
}

/// The user's direct permission named by the query, or the 404 page.
async fn direct_permission(
    state: &AppState,
    user_id: &str,
    query: &PermissionQuery,
) -> Result<(String, String), AdminError> {
    let (Some(api), Some(permission)) = (query.api.as_deref(), query.permission.as_deref()) else {
        return Err(AdminError::not_found("This permission"));
    };
    state
        .store()
        .user_direct_permissions(user_id)
        .await?
        .into_iter()
        .find(|p| p.resource_server_identifier == api && p.permission_name == permission)
        .map(|p| (p.resource_server_identifier, p.permission_name))
        .ok_or_else(|| AdminError::not_found("This permission"))
}

/// `GET /admin/users/{id}/permissions/remove?api=&permission=`.
pub async fn confirm_remove_permission(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(query): Query<PermissionQuery>,
) -> AdminResult {
    let user = load(&state, &id).await?;
    let (api, permission) = direct_permission(&state, &id, &query).await?;
    let summary = UserSummary::of(&user);
    Ok(confirm(
        &admin,
        Confirm {
            section: "users",
            title: "Remove this permission?",
            message: format!(
                "{} will no longer hold {permission} on {api} directly. A role may still grant it.",
                summary.title
            ),
            action: user_path(
                &id,
                &format!(
                    "/permissions/remove?api={}&permission={}",
                    encode(&api),
                    encode(&permission)
                ),
            ),
            button: "Remove permission",
            back: user_path(&id, "/permissions"),
        },
    ))
}

/// `POST /admin/users/{id}/permissions/remove?api=&permission=`.
pub async fn remove_permission(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PermissionQuery>,
    form: AdminForm,
) -> AdminResult {
    load_outranked(&state, &form.admin, &id).await?;
    let (api, permission) = direct_permission(&state, &id, &query).await?;
    let body = PermissionsBody {
        permissions: vec![PermissionRef {
            resource_server_identifier: api,
            permission_name: permission,
        }],
    };
    user_links::remove_permissions(State(state.clone()), MPath(id.clone()), MJson(body)).await?;
    let path = format!("/users/{}/permissions", encode(&id));
    changes::record(&state, &form.admin, "DELETE", &path).await;
    Ok(see_other(&user_path(
        &id,
        "/permissions?done=permission-removed",
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_read_as_words() {
        assert_eq!(source_label(&PermissionSource::Direct), "direct");
        let role = PermissionSource::Role {
            role_id: "rol_1".into(),
            role_name: "Reader".into(),
        };
        assert_eq!(source_label(&role), "role Reader");
    }

    #[test]
    fn unknown_apis_point_at_the_api_select() {
        let e = ManagementError::not_found(
            "Resource server \"x\" does not exist.",
            "inexistent_resource_server",
        );
        assert!(permission_error(e).fields.contains_key("api"));
        let e = ManagementError::invalid_body(
            "Permission \"p\" does not exist on resource server \"x\".",
        );
        assert!(permission_error(e).fields.contains_key("permission"));
    }
}
