//! The Roles section: the list (filtered by name as you type), creating a
//! role, and each role's tabs — Settings (here), [`permissions`] (which API
//! scopes it grants) and [`members`] (who holds it). Every write goes
//! through `routes::management::roles` (and `user_links` to take a role
//! from a user), so it is validated as the Management API validates.

pub mod members;
pub mod permissions;

use super::changes;
use super::form::{AdminForm, FieldErrors, Fields};
use super::listing::{page_number, Pager, PER_PAGE};
use super::render::{self, page, page_with_status, AdminError, AdminResult, Confirm};
use super::session::{self, Admin};
use crate::routes::management::error::ManagementError;
use crate::routes::management::extract::{MJson, MPath, MQuery};
use crate::routes::management::pagination::Paging;
use crate::routes::management::roles::{self, CreateRole, RoleFilter, UpdateRole};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use gatehouse_core::model::Role;
use minijinja::context;
use std::collections::HashMap;

/// The longest role name Auth0 accepts.
const MAX_NAME: usize = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/roles", get(list))
        .route("/admin/roles/new", get(new).post(create))
        .route("/admin/roles/{id}", get(show).post(save))
        .route(
            "/admin/roles/{id}/permissions",
            get(permissions::show).post(permissions::add),
        )
        .route(
            "/admin/roles/{id}/permissions/remove",
            get(permissions::confirm_remove).post(permissions::remove),
        )
        .route(
            "/admin/roles/{id}/users",
            get(members::show).post(members::add),
        )
        .route(
            "/admin/roles/{id}/users/remove",
            get(members::confirm_remove).post(members::remove),
        )
        .route("/admin/roles/{id}/delete", get(confirm_delete).post(delete))
}

/// The fixed notice of a `done` code.
fn notice(done: Option<&str>) -> &'static str {
    match done {
        Some("created") => "Role created. Next: give it permissions, then add users.",
        Some("saved") => "Role saved.",
        Some("permissions_added") => {
            "Permissions added. Users with this role get them in their next token."
        }
        Some("permission_removed") => "Permission removed from the role.",
        Some("member_added") => "User added. Their next token carries the role's permissions.",
        Some("member_removed") => "User removed from the role.",
        Some("deleted") => "Role deleted.",
        _ => "",
    }
}

/// `GET /admin/roles?q=…`.
async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<HashMap<String, String>>,
) -> AdminResult {
    let filter = query
        .get("q")
        .map(|q| q.trim().to_string())
        .unwrap_or_default();
    let page_no = page_number(query.get("page").map(String::as_str));
    let paging = Paging {
        page: Some(page_no),
        per_page: Some(PER_PAGE),
        include_totals: Some(true),
    };
    let name_filter = RoleFilter {
        name_filter: Some(filter.clone()),
    };
    let reply = roles::list(State(state), MQuery(paging), MQuery(name_filter))
        .await?
        .0;
    let rows: Vec<Role> =
        serde_json::from_value(reply["roles"].clone()).map_err(AdminError::internal)?;
    let total = reply["total"].as_u64().unwrap_or(0);
    let base = if filter.is_empty() {
        "/admin/roles".to_string()
    } else {
        format!("/admin/roles?q={}", super::apis::m2m::encode(&filter))
    };
    Ok(page(
        &admin,
        "roles",
        "roles_list.html",
        context! {
            roles => rows,
            q => filter,
            pager => Pager::new(&base, page_no, PER_PAGE, total),
            notice => notice(query.get("done").map(String::as_str)),
        },
    ))
}

/// `GET /admin/roles/new`.
async fn new(admin: Admin) -> AdminResult {
    Ok(new_form(
        &admin,
        StatusCode::OK,
        &Fields::default(),
        &FieldErrors::default(),
    ))
}

fn new_form(admin: &Admin, status: StatusCode, fields: &Fields, errors: &FieldErrors) -> Response {
    page_with_status(
        status,
        admin,
        "roles",
        "roles_new.html",
        context! { form => fields.typed(), errors => errors },
    )
}

/// The name and description of a role form, checked.
pub fn role_form(fields: &Fields) -> Result<(String, String), FieldErrors> {
    let name = fields.text("name");
    let mut errors = FieldErrors::default();
    if name.is_empty() {
        errors.add("name", "Give the role a name, e.g. reader.");
    } else if name.chars().count() > MAX_NAME {
        errors.add("name", format!("At most {MAX_NAME} characters."));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((name, fields.text("description")))
}

/// A refusal of the Management API next to its field; a duplicate name is
/// the name's problem.
fn refusal(e: &ManagementError) -> FieldErrors {
    if e.error_code == Some("role_conflict") {
        let mut errors = FieldErrors::default();
        errors.add("name", e.message.clone());
        return errors;
    }
    FieldErrors::from_management(e, &["name", "description"])
}

/// `POST /admin/roles/new`.
async fn create(State(state): State<AppState>, form: AdminForm) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let (name, description) = match role_form(&fields) {
        Ok(checked) => checked,
        Err(errors) => return Ok(new_form(&admin, refused, &fields, &errors)),
    };
    let body = CreateRole {
        name,
        description: Some(description),
    };
    match roles::create(State(state.clone()), MJson(body)).await {
        Ok(role) => {
            changes::record(&state, &admin, "POST", "/roles").await;
            Ok(render::see_other(&format!(
                "/admin/roles/{}/permissions?done=created",
                role.0.id
            )))
        }
        Err(e) => Ok(new_form(&admin, refused, &fields, &refusal(&e))),
    }
}

/// A role by its id, or the dashboard's 404 page.
pub async fn load(state: &AppState, id: &str) -> Result<Role, AdminError> {
    match roles::find(state, id).await {
        Ok(role) => Ok(role),
        Err(e) if e.status.is_client_error() => Err(AdminError::not_found("This role")),
        Err(e) => Err(e.into()),
    }
}

/// What every tab of a role shows above itself.
pub fn header(role: &Role, tab: &str, done: Option<&str>) -> minijinja::Value {
    context! { role => role, tab => tab, notice => notice(done) }
}

/// `GET /admin/roles/{id}`.
async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> AdminResult {
    let role = load(&state, &id).await?;
    let form = context! { name => &role.name, description => &role.description };
    let done = query.get("done").map(String::as_str);
    Ok(settings_page(
        &admin,
        StatusCode::OK,
        &role,
        form,
        &FieldErrors::default(),
        done,
    ))
}

fn settings_page(
    admin: &Admin,
    status: StatusCode,
    role: &Role,
    form: minijinja::Value,
    errors: &FieldErrors,
    done: Option<&str>,
) -> Response {
    page_with_status(
        status,
        admin,
        "roles",
        "roles_settings.html",
        context! { form => form, errors => errors, ..header(role, "settings", done) },
    )
}

/// `POST /admin/roles/{id}`.
async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let role = load_outranked(&state, &admin, &id).await?;
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let typed = minijinja::Value::from_serialize(fields.typed());
    let (name, description) = match role_form(&fields) {
        Ok(checked) => checked,
        Err(errors) => return Ok(settings_page(&admin, refused, &role, typed, &errors, None)),
    };
    let body = UpdateRole {
        name: Some(name),
        description: Some(description),
    };
    if let Err(e) = roles::update(State(state.clone()), MPath(role.id.clone()), MJson(body)).await {
        return Ok(settings_page(
            &admin,
            refused,
            &role,
            typed,
            &refusal(&e),
            None,
        ));
    }
    changes::record(&state, &admin, "PATCH", &format!("/roles/{}", role.id)).await;
    Ok(render::see_other(&format!(
        "/admin/roles/{}?done=saved",
        role.id
    )))
}

/// Said before a change that may lock people out: the role holds the
/// permission that opens the dashboard.
pub async fn dashboard_caveat(state: &AppState, role: &Role) -> Result<&'static str, AdminError> {
    let opens = state
        .store()
        .role_permissions(&role.id)
        .await?
        .iter()
        .any(|p| p.permission_name == session::PERMISSION);
    Ok(if opens {
        " This role opens the dashboard: whoever has the dashboard only through it, possibly you, loses access."
    } else {
        ""
    })
}

/// [`load`] for a change: refused when the role holds a Management API
/// permission the admin lacks, so a narrow admin cannot strip or delete the
/// Admin role (or take its members out of it).
pub async fn load_outranked(state: &AppState, admin: &Admin, id: &str) -> Result<Role, AdminError> {
    let role = load(state, id).await?;
    if let Some(missing) = session::role_beyond_admin(admin, state, &role.id).await? {
        return Err(AdminError::new(
            StatusCode::FORBIDDEN,
            format!(
                "This role holds the permission {missing} on the Gatehouse Management API, \
                 which your own account does not, so you cannot change it. An administrator \
                 who holds it can."
            ),
        ));
    }
    Ok(role)
}

/// `GET /admin/roles/{id}/delete`.
async fn confirm_delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AdminResult {
    let role = load(&state, &id).await?;
    let caveat = dashboard_caveat(&state, &role).await?;
    Ok(render::confirm(
        &admin,
        Confirm {
            section: "roles",
            title: "Delete this role?",
            message: format!(
                "The role {} will be deleted. Its users lose the permissions it gave them from their next token on.{caveat}",
                role.name
            ),
            action: format!("/admin/roles/{}/delete", role.id),
            button: "Delete role",
            back: format!("/admin/roles/{}", role.id),
        },
    ))
}

/// `POST /admin/roles/{id}/delete`.
async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    let role = load_outranked(&state, &form.admin, &id).await?;
    roles::delete(State(state.clone()), MPath(role.id.clone())).await?;
    changes::record(
        &state,
        &form.admin,
        "DELETE",
        &format!("/roles/{}", role.id),
    )
    .await;
    Ok(render::see_other("/admin/roles?done=deleted"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_needs_a_short_name() {
        let check = |body: &str| role_form(&Fields::parse(body.as_bytes()));
        assert!(check("name=+&description=x")
            .unwrap_err()
            .fields
            .contains_key("name"));
        let long = format!("name={}", "r".repeat(51));
        assert!(check(&long).unwrap_err().fields["name"].contains("50"));
        assert_eq!(
            check("name=reader&description=Reads").unwrap(),
            ("reader".to_string(), "Reads".to_string())
        );
    }
}
