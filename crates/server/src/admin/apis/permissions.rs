//! An API's Permissions tab: the scopes it defines, adding one (value and
//! description) and removing one after a confirmation. Both write the whole
//! scope list through `resource_servers::update`, as Auth0's dashboard does.

use super::m2m::encode;
use super::{header, load, load_editable};
use crate::admin::changes;
use crate::admin::form::{AdminForm, FieldErrors, Fields};
use crate::admin::render::{self, page_with_status, AdminError, AdminResult, Confirm};
use crate::admin::session::Admin;
use crate::routes::management::extract::{MJson, MPath};
use crate::routes::management::resource_servers::{self, UpdateResourceServer};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::model::{ResourceServer, ScopeDefinition};
use minijinja::context;
use std::collections::HashMap;

/// The longest description shown on a consent page that we accept.
const MAX_DESCRIPTION: usize = 500;

/// `GET /admin/apis/{id}/permissions`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> AdminResult {
    let api = load(&state, &id).await?;
    let done = query.get("done").map(String::as_str);
    Ok(permissions_page(
        &admin,
        StatusCode::OK,
        &api,
        &Fields::default(),
        &FieldErrors::default(),
        done,
    ))
}

fn permissions_page(
    admin: &Admin,
    status: StatusCode,
    api: &ResourceServer,
    typed: &Fields,
    errors: &FieldErrors,
    done: Option<&str>,
) -> Response {
    page_with_status(
        status,
        admin,
        "apis",
        "apis_permissions.html",
        context! {
            scopes => rows(api),
            form => typed.typed(),
            errors => errors,
            ..header(api, "permissions", done)
        },
    )
}

/// The scopes with the link that removes each.
fn rows(api: &ResourceServer) -> Vec<minijinja::Value> {
    api.scopes
        .iter()
        .map(|s| {
            context! {
                value => &s.value,
                description => &s.description,
                remove => format!("/admin/apis/{}/permissions/remove?value={}", api.id, encode(&s.value)),
            }
        })
        .collect()
}

/// The new permission, checked against the form and the API's other scopes.
pub fn new_scope(fields: &Fields, api: &ResourceServer) -> Result<ScopeDefinition, FieldErrors> {
    let mut errors = FieldErrors::default();
    let value = fields.text("value");
    if value.is_empty() {
        errors.add("value", "Enter the permission, e.g. read:measurements.");
    } else if value.contains(char::is_whitespace) {
        errors.add(
            "value",
            "A permission is one word without spaces, e.g. read:measurements.",
        );
    } else if api.defines_scope(&value) {
        errors.add(
            "value",
            format!("This API already has the permission {value}."),
        );
    }
    let description = fields.text("description");
    if description.chars().count() > MAX_DESCRIPTION {
        errors.add(
            "description",
            format!("At most {MAX_DESCRIPTION} characters."),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ScopeDefinition { value, description })
}

/// The update body that sets `scopes` and nothing else.
fn scopes_only(scopes: Vec<ScopeDefinition>) -> UpdateResourceServer {
    UpdateResourceServer {
        identifier: None,
        name: None,
        scopes: Some(scopes),
        signing_alg: None,
        signing_secret: None,
        allow_offline_access: None,
        skip_consent_for_verifiable_first_party_clients: None,
        token_lifetime: None,
        token_lifetime_for_web: None,
        enforce_policies: None,
        token_dialect: None,
        subject_type_authorization: None,
    }
}

/// `POST /admin/apis/{id}/permissions`.
pub async fn add(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let api = load_editable(&state, &id).await?;
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let scope = match new_scope(&fields, &api) {
        Ok(scope) => scope,
        Err(errors) => {
            return Ok(permissions_page(
                &admin, refused, &api, &fields, &errors, None,
            ))
        }
    };
    let mut scopes = api.scopes.clone();
    scopes.push(scope);
    let result = resource_servers::update(
        State(state.clone()),
        MPath(api.id.clone()),
        MJson(scopes_only(scopes)),
    )
    .await;
    if let Err(e) = result {
        let errors = FieldErrors::from_management(&e, &["value", "description"]);
        return Ok(permissions_page(
            &admin, refused, &api, &fields, &errors, None,
        ));
    }
    changes::record(
        &state,
        &admin,
        "PATCH",
        &format!("/resource-servers/{}", api.id),
    )
    .await;
    Ok(render::see_other(&format!(
        "/admin/apis/{}/permissions?done=permission_added",
        api.id
    )))
}

/// The permission a removal names, which must exist.
fn named_scope(api: &ResourceServer, value: Option<&str>) -> Result<String, AdminError> {
    value
        .filter(|v| api.defines_scope(v))
        .map(str::to_string)
        .ok_or_else(|| AdminError::not_found("This permission"))
}

/// `GET /admin/apis/{id}/permissions/remove?value=…`.
pub async fn confirm_remove(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> AdminResult {
    let api = load_editable(&state, &id).await?;
    let value = named_scope(&api, query.get("value").map(String::as_str))?;
    let encoded = encode(&value);
    Ok(render::confirm(
        &admin,
        Confirm {
            section: "apis",
            title: "Remove this permission?",
            message: format!(
                "{value} will no longer be a permission of {}. Roles and users that hold it keep the assignment, but tokens stop carrying it.",
                api.name
            ),
            action: format!("/admin/apis/{}/permissions/remove?value={encoded}", api.id),
            button: "Remove permission",
            back: format!("/admin/apis/{}/permissions", api.id),
        },
    ))
}

/// `POST /admin/apis/{id}/permissions/remove?value=…`.
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    form: AdminForm,
) -> AdminResult {
    let api = load_editable(&state, &id).await?;
    let value = named_scope(&api, query.get("value").map(String::as_str))?;
    let scopes = api
        .scopes
        .iter()
        .filter(|s| s.value != value)
        .cloned()
        .collect();
    let body = MJson(scopes_only(scopes));
    let _saved =
        resource_servers::update(State(state.clone()), MPath(api.id.clone()), body).await?;
    changes::record(
        &state,
        &form.admin,
        "PATCH",
        &format!("/resource-servers/{}", api.id),
    )
    .await;
    Ok(render::see_other(&format!(
        "/admin/apis/{}/permissions?done=permission_removed",
        api.id
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_permission_is_one_new_word() {
        let mut api = ResourceServer::new("id", "M", "https://m");
        api.scopes.push(ScopeDefinition {
            value: "read:m".into(),
            description: String::new(),
        });
        let check = |body: &str| new_scope(&Fields::parse(body.as_bytes()), &api);
        assert!(check("value=").unwrap_err().fields["value"].contains("Enter"));
        assert!(check("value=read+m").unwrap_err().fields["value"].contains("spaces"));
        assert!(check("value=read%3Am").unwrap_err().fields["value"].contains("already"));
        let long = format!("value=w&description={}", "x".repeat(501));
        assert!(check(&long).unwrap_err().fields.contains_key("description"));
        let ok = check("value=write%3Am&description=Write+them").unwrap();
        assert_eq!(
            (ok.value.as_str(), ok.description.as_str()),
            ("write:m", "Write them")
        );
    }
}
