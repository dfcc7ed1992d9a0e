//! The APIs section: the list, creating an API, and each API's tabs —
//! [`settings`] (RBAC, the token dialect, lifetimes), [`permissions`] (its
//! scopes) and [`m2m`] (which machine-to-machine applications may call it).
//! The system API (the Management API) is listed and readable, never
//! editable. Every write goes through `routes::management::resource_servers`
//! or `client_grants`, so it is validated as the Management API validates.

pub mod m2m;
pub mod permissions;
pub mod settings;

use super::changes;
use super::form::{AdminForm, FieldErrors, Fields};
use super::listing::{page_number, Pager, PER_PAGE};
use super::render::{self, page, page_with_status, AdminError, AdminResult, Confirm};
use super::session::Admin;
use crate::routes::management::extract::{MJson, MPath, MQuery};
use crate::routes::management::pagination::Paging;
use crate::routes::management::resource_servers::{self, CreateResourceServer};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use gatehouse_core::model::{ResourceServer, TokenDialect};
use minijinja::context;
use serde::Serialize;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/apis", get(list))
        .route("/admin/apis/new", get(new).post(create))
        .route("/admin/apis/{id}", get(settings::show).post(settings::save))
        .route(
            "/admin/apis/{id}/permissions",
            get(permissions::show).post(permissions::add),
        )
        .route(
            "/admin/apis/{id}/permissions/remove",
            get(permissions::confirm_remove).post(permissions::remove),
        )
        .route("/admin/apis/{id}/m2m", get(m2m::show))
        .route(
            "/admin/apis/{id}/m2m/{client_id}",
            axum::routing::post(m2m::save),
        )
        .route(
            "/admin/apis/{id}/m2m/{client_id}/revoke",
            get(m2m::confirm_revoke).post(m2m::revoke),
        )
        .route("/admin/apis/{id}/delete", get(confirm_delete).post(delete))
}

/// The signing algorithms offered, with what each is for.
pub const ALGORITHMS: &[(&str, &str)] = &[
    ("RS256", "RS256 (recommended: every SDK verifies it)"),
    ("PS256", "PS256 (RSA-PSS)"),
    ("ES256", "ES256 (ECDSA P-256)"),
    ("EdDSA", "EdDSA (Ed25519)"),
    ("HS256", "HS256 (a shared secret; only your API can verify)"),
];

/// A row of the list.
#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    identifier: String,
    is_system: bool,
    rbac: bool,
    permissions_in_token: bool,
    dialect: &'static str,
    scopes: usize,
}

impl From<&ResourceServer> for Row {
    fn from(api: &ResourceServer) -> Self {
        Self {
            id: api.id.clone(),
            name: api.name.clone(),
            identifier: api.identifier.clone(),
            is_system: api.is_system,
            rbac: api.enforce_policies,
            permissions_in_token: settings::adds_permissions(api.token_dialect),
            dialect: dialect_name(api.token_dialect),
            scopes: api.scopes.len(),
        }
    }
}

/// The `token_dialect` value, as the Management API spells it.
pub fn dialect_name(dialect: TokenDialect) -> &'static str {
    match dialect {
        TokenDialect::AccessToken => "access_token",
        TokenDialect::AccessTokenAuthz => "access_token_authz",
        TokenDialect::Rfc9068Profile => "rfc9068_profile",
        TokenDialect::Rfc9068ProfileAuthz => "rfc9068_profile_authz",
    }
}

/// `GET /admin/apis`.
async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<HashMap<String, String>>,
) -> AdminResult {
    let page_no = page_number(query.get("page").map(String::as_str));
    let paging = Paging {
        page: Some(page_no),
        per_page: Some(PER_PAGE),
        include_totals: Some(true),
    };
    let reply = resource_servers::list(State(state), MQuery(paging))
        .await?
        .0;
    let apis: Vec<ResourceServer> =
        serde_json::from_value(reply["resource_servers"].clone()).map_err(AdminError::internal)?;
    let total = reply["total"].as_u64().unwrap_or(0);
    let rows: Vec<Row> = apis.iter().map(Row::from).collect();
    Ok(page(
        &admin,
        "apis",
        "apis_list.html",
        context! {
            apis => rows,
            pager => Pager::new("/admin/apis", page_no, PER_PAGE, total),
            notice => notice(query.get("done").map(String::as_str)),
        },
    ))
}

/// The fixed notice of a `done` code (free text from the query is never shown).
fn notice(done: Option<&str>) -> &'static str {
    match done {
        Some("created") => "API created. Next: add its permissions, then decide on RBAC below.",
        Some("saved") => "Settings saved.",
        Some("permission_added") => "Permission added.",
        Some("permission_removed") => "Permission removed.",
        Some("authorized") => "Application authorized.",
        Some("grant_saved") => "Scopes saved.",
        Some("revoked") => "Application no longer authorized.",
        Some("deleted") => "API deleted.",
        _ => "",
    }
}

/// `GET /admin/apis/new`.
async fn new(admin: Admin) -> AdminResult {
    Ok(new_form(
        &admin,
        StatusCode::OK,
        &Fields::default(),
        &FieldErrors::default(),
    ))
}

fn new_form(
    admin: &Admin,
    status: StatusCode,
    fields: &Fields,
    errors: &FieldErrors,
) -> axum::response::Response {
    let mut typed = fields.typed();
    typed
        .entry("signing_alg".into())
        .or_insert_with(|| "RS256".into());
    page_with_status(
        status,
        admin,
        "apis",
        "apis_new.html",
        context! { form => typed, errors => errors, algorithms => ALGORITHMS },
    )
}

/// The create form, checked: the Management API's create body.
pub fn create_body(fields: &Fields) -> Result<CreateResourceServer, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = fields.text("name");
    if name.is_empty() {
        errors.add("name", "Give the API a name, e.g. Measurements API.");
    }
    let identifier = fields.text("identifier");
    if identifier.is_empty() {
        errors.add(
            "identifier",
            "Enter the identifier, e.g. https://measurements.example.com. Apps ask for it as their audience.",
        );
    }
    let signing_alg = settings::algorithm(fields, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CreateResourceServer {
        identifier,
        name: Some(name),
        scopes: Vec::new(),
        signing_alg,
        signing_secret: None,
        allow_offline_access: None,
        skip_consent_for_verifiable_first_party_clients: None,
        token_lifetime: None,
        token_lifetime_for_web: None,
        enforce_policies: None,
        token_dialect: None,
        subject_type_authorization: None,
    })
}

/// `POST /admin/apis/new`.
async fn create(State(state): State<AppState>, form: AdminForm) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let body = match create_body(&fields) {
        Ok(body) => body,
        Err(errors) => {
            return Ok(new_form(
                &admin,
                StatusCode::UNPROCESSABLE_ENTITY,
                &fields,
                &errors,
            ))
        }
    };
    match resource_servers::create(State(state.clone()), MJson(body)).await {
        Ok((_, api)) => {
            changes::record(&state, &admin, "POST", "/resource-servers").await;
            Ok(render::see_other(&format!(
                "/admin/apis/{}?done=created",
                api.0.id
            )))
        }
        Err(e) => {
            let errors = FieldErrors::from_management(&e, &["name", "identifier", "signing_alg"]);
            Ok(new_form(
                &admin,
                StatusCode::UNPROCESSABLE_ENTITY,
                &fields,
                &errors,
            ))
        }
    }
}

/// An API by its id, or the dashboard's 404 page.
pub async fn load(state: &AppState, id: &str) -> Result<ResourceServer, AdminError> {
    match resource_servers::find(state, id).await {
        Ok(api) => Ok(api),
        Err(e) if e.status.is_client_error() => Err(AdminError::not_found("This API")),
        Err(e) => Err(e.into()),
    }
}

/// [`load`], refusing the system API for a write.
pub async fn load_editable(state: &AppState, id: &str) -> Result<ResourceServer, AdminError> {
    let api = load(state, id).await?;
    if api.is_system {
        return Err(AdminError::new(
            StatusCode::FORBIDDEN,
            "The system API is the Management API itself: it is read-only and cannot be deleted.",
        ));
    }
    Ok(api)
}

/// What every tab of an API shows above itself.
pub fn header(api: &ResourceServer, tab: &str, done: Option<&str>) -> minijinja::Value {
    context! {
        api => Row::from(api),
        tab => tab,
        notice => notice(done),
    }
}

/// `GET /admin/apis/{id}/delete`.
async fn confirm_delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AdminResult {
    let api = load_editable(&state, &id).await?;
    Ok(render::confirm(
        &admin,
        Confirm {
            section: "apis",
            title: "Delete this API?",
            message: format!(
                "{} ({}) and its permissions will be deleted. Apps that ask for this audience will get errors, and tokens already issued stay valid until they expire.",
                api.name, api.identifier
            ),
            action: format!("/admin/apis/{}/delete", api.id),
            button: "Delete API",
            back: format!("/admin/apis/{}", api.id),
        },
    ))
}

/// `POST /admin/apis/{id}/delete`.
async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    let api = load_editable(&state, &id).await?;
    resource_servers::delete(State(state.clone()), MPath(api.id.clone())).await?;
    changes::record(
        &state,
        &form.admin,
        "DELETE",
        &format!("/resource-servers/{}", api.id),
    )
    .await;
    Ok(render::see_other("/admin/apis?done=deleted"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::model::SigningAlg;

    #[test]
    fn the_create_form_names_each_missing_value() {
        let errors =
            create_body(&Fields::parse(b"name=&identifier=+&signing_alg=XX256")).unwrap_err();
        for field in ["name", "identifier", "signing_alg"] {
            assert!(errors.fields.contains_key(field), "{field}: {errors:?}");
        }
        let body = create_body(&Fields::parse(
            b"name=Measurements&identifier=https%3A%2F%2Fm.example&signing_alg=HS256",
        ))
        .unwrap();
        assert_eq!(body.identifier, "https://m.example");
        assert_eq!(body.signing_alg, Some(SigningAlg::HS256));
    }
}
