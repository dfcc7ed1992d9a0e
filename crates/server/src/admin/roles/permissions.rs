//! A role's Permissions tab: what it grants, adding permissions picked from
//! each API's scopes, and removing one after a confirmation
//! (`roles::add_permissions`, `roles::remove_permissions`).

use super::{header, load, load_outranked};
use crate::admin::apis::m2m::encode;
use crate::admin::changes;
use crate::admin::form::{AdminForm, FieldErrors, Fields};
use crate::admin::render::{self, page_with_status, AdminError, AdminResult, Confirm};
use crate::admin::session::{first_not_held, not_held_message, Admin};
use crate::routes::management::extract::{MJson, MPath};
use crate::routes::management::roles::{self, PermissionRef, PermissionsBody};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::model::{Permission, ResourceServer, Role};
use gatehouse_store::Page;
use minijinja::context;
use serde::Serialize;
use std::collections::HashMap;

/// A permission the role grants, as listed.
#[derive(Serialize)]
struct Granted {
    scope: String,
    api_name: String,
    identifier: String,
    description: String,
    remove: String,
}

/// An API with the scopes the role does not grant yet, for the add form.
#[derive(Serialize)]
struct Offer {
    name: String,
    identifier: String,
    is_system: bool,
    scopes: Vec<(String, String, String)>,
}

/// A permission as a form value: `scope identifier` (a scope has no spaces).
fn form_value(scope: &str, identifier: &str) -> String {
    format!("{scope} {identifier}")
}

/// The permissions ticked on the add form, each one a scope its API defines.
pub fn picked(fields: &Fields) -> Result<Vec<PermissionRef>, FieldErrors> {
    let mut errors = FieldErrors::default();
    let values = fields.all("permission");
    if values.is_empty() {
        errors.add("permission", "Tick at least one permission to add.");
    }
    let refs: Vec<PermissionRef> = values
        .iter()
        .filter_map(|v| v.split_once(' '))
        .map(|(scope, identifier)| PermissionRef {
            resource_server_identifier: identifier.to_string(),
            permission_name: scope.to_string(),
        })
        .collect();
    if refs.len() != values.len() {
        errors.add("permission", "Pick permissions from the list.");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(refs)
}

/// `GET /admin/roles/{id}/permissions`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> AdminResult {
    let role = load(&state, &id).await?;
    let done = query.get("done").map(String::as_str);
    tab(
        &state,
        &admin,
        StatusCode::OK,
        &role,
        &FieldErrors::default(),
        done,
    )
    .await
}

async fn tab(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    role: &Role,
    errors: &FieldErrors,
    done: Option<&str>,
) -> AdminResult {
    let mut apis = state.store().resource_servers(Page::ALL).await?;
    apis.sort_by_key(|a| (a.is_system, a.name.to_lowercase()));
    let held = state.store().role_permissions(&role.id).await?;
    Ok(permissions_page(
        admin, status, role, &apis, &held, errors, done,
    ))
}

fn permissions_page(
    admin: &Admin,
    status: StatusCode,
    role: &Role,
    apis: &[ResourceServer],
    held: &[Permission],
    errors: &FieldErrors,
    done: Option<&str>,
) -> Response {
    let granted: Vec<Granted> = held
        .iter()
        .map(|p| {
            let api = apis
                .iter()
                .find(|a| a.identifier == p.resource_server_identifier);
            Granted {
                scope: p.permission_name.clone(),
                api_name: api
                    .map_or_else(|| p.resource_server_identifier.clone(), |a| a.name.clone()),
                identifier: p.resource_server_identifier.clone(),
                description: api
                    .and_then(|a| a.scopes.iter().find(|s| s.value == p.permission_name))
                    .map(|s| s.description.clone())
                    .unwrap_or_default(),
                remove: format!(
                    "/admin/roles/{}/permissions/remove?api={}&scope={}",
                    role.id,
                    encode(&p.resource_server_identifier),
                    encode(&p.permission_name)
                ),
            }
        })
        .collect();
    let offers: Vec<Offer> = apis
        .iter()
        .map(|api| Offer {
            name: api.name.clone(),
            identifier: api.identifier.clone(),
            is_system: api.is_system,
            scopes: api
                .scopes
                .iter()
                .filter(|s| {
                    !held.iter().any(|p| {
                        p.resource_server_identifier == api.identifier
                            && p.permission_name == s.value
                    })
                })
                .map(|s| {
                    (
                        form_value(&s.value, &api.identifier),
                        s.value.clone(),
                        s.description.clone(),
                    )
                })
                .collect(),
        })
        .filter(|o| !o.scopes.is_empty())
        .collect();
    page_with_status(
        status,
        admin,
        "roles",
        "roles_permissions.html",
        context! {
            granted => granted,
            has_apis => apis.iter().any(|a| !a.is_system && !a.scopes.is_empty()),
            has_own_offers => offers.iter().any(|o| !o.is_system),
            offers => offers,
            errors => errors,
            ..header(role, "permissions", done)
        },
    )
}

/// `POST /admin/roles/{id}/permissions`.
pub async fn add(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let role = load(&state, &id).await?;
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let permissions = match picked(&fields) {
        Ok(refs) => refs,
        Err(errors) => return tab(&state, &admin, refused, &role, &errors, None).await,
    };
    let wanted = permissions.iter().map(|p| {
        (
            p.resource_server_identifier.as_str(),
            p.permission_name.as_str(),
        )
    });
    if let Some(missing) = first_not_held(&admin, &state, wanted) {
        let mut errors = FieldErrors::default();
        errors.add("permission", not_held_message(missing));
        return tab(&state, &admin, StatusCode::FORBIDDEN, &role, &errors, None).await;
    }
    let body = PermissionsBody { permissions };
    if let Err(e) =
        roles::add_permissions(State(state.clone()), MPath(role.id.clone()), MJson(body)).await
    {
        let errors = FieldErrors::from_management(&e, &[]);
        return tab(&state, &admin, refused, &role, &errors, None).await;
    }
    changes::record(
        &state,
        &admin,
        "POST",
        &format!("/roles/{}/permissions", role.id),
    )
    .await;
    Ok(render::see_other(&format!(
        "/admin/roles/{}/permissions?done=permissions_added",
        role.id
    )))
}

/// The permission a removal names, which the role must hold.
async fn named(
    state: &AppState,
    role: &Role,
    query: &HashMap<String, String>,
) -> Result<Permission, AdminError> {
    let wanted = Permission {
        resource_server_identifier: query.get("api").cloned().unwrap_or_default(),
        permission_name: query.get("scope").cloned().unwrap_or_default(),
    };
    let held = state.store().role_permissions(&role.id).await?;
    held.into_iter()
        .find(|p| *p == wanted)
        .ok_or_else(|| AdminError::not_found("This permission of the role"))
}

/// `GET /admin/roles/{id}/permissions/remove?api=…&scope=…`.
pub async fn confirm_remove(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> AdminResult {
    let role = load(&state, &id).await?;
    let p = named(&state, &role, &query).await?;
    let caveat = if p.permission_name == crate::admin::session::PERMISSION {
        super::dashboard_caveat(&state, &role).await?
    } else {
        ""
    };
    Ok(render::confirm(
        &admin,
        Confirm {
            section: "roles",
            title: "Remove this permission from the role?",
            message: format!(
                "Users with the role {} lose {} on {} from their next token on, unless another role or a direct assignment gives it to them.{caveat}",
                role.name, p.permission_name, p.resource_server_identifier
            ),
            action: format!(
                "/admin/roles/{}/permissions/remove?api={}&scope={}",
                role.id,
                encode(&p.resource_server_identifier),
                encode(&p.permission_name)
            ),
            button: "Remove permission",
            back: format!("/admin/roles/{}/permissions", role.id),
        },
    ))
}

/// `POST /admin/roles/{id}/permissions/remove?api=…&scope=…`.
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    form: AdminForm,
) -> AdminResult {
    let role = load_outranked(&state, &form.admin, &id).await?;
    let p = named(&state, &role, &query).await?;
    let body = PermissionsBody {
        permissions: vec![PermissionRef {
            resource_server_identifier: p.resource_server_identifier,
            permission_name: p.permission_name,
        }],
    };
    roles::remove_permissions(State(state.clone()), MPath(role.id.clone()), MJson(body)).await?;
    changes::record(
        &state,
        &form.admin,
        "DELETE",
        &format!("/roles/{}/permissions", role.id),
    )
    .await;
    Ok(render::see_other(&format!(
        "/admin/roles/{}/permissions?done=permission_removed",
        role.id
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticked_permissions_name_scope_and_api() {
        let f = Fields::parse(
            b"permission=read%3Am+https%3A%2F%2Fm.example%2Fa+b&permission=write%3Am+x",
        );
        let refs = picked(&f).unwrap();
        assert_eq!(refs[0].permission_name, "read:m");
        assert_eq!(refs[0].resource_server_identifier, "https://m.example/a b");
        assert_eq!(refs[1].resource_server_identifier, "x");
        assert!(picked(&Fields::parse(b""))
            .unwrap_err()
            .fields
            .contains_key("permission"));
        assert!(picked(&Fields::parse(b"permission=nospace")).is_err());
    }
}
