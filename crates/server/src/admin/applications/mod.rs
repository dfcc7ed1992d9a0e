//! Applications in the dashboard: the list, creating one by type with
//! Auth0's defaults, and each application's tabs: Settings, Quickstart,
//! APIs (what it may call with client credentials) and the danger zone
//! (rotate the secret, delete).
//!
//! Every write goes through the Management API's own handlers
//! ([`clients`], [`client_grants`]), so the dashboard cannot accept what the
//! API refuses. A client secret is shown once: in the page that answers the
//! create or the rotation, never stored for later.
//!
//! - [`edit`]: the forms as data, checked before anything is written.
//! - [`access`]: the APIs tab.
//! - [`quickstart`]: the SDK samples, filled with this tenant's values.

pub mod access;
pub mod edit;
pub mod quickstart;

use super::changes;
use super::form::{AdminForm, FieldErrors};
use super::render::{self, page, page_with_status, AdminError, AdminResult, Confirm};
use super::session::{client_beyond_admin, Admin};
use crate::routes::management::auth::management_audience;
use crate::routes::management::clients;
use crate::routes::management::extract::{MJson, MPath};
use crate::state::AppState;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use edit::{SettingsValues, SETTINGS_FIELDS};
use gatehouse_core::model::{AppType, Client};
use gatehouse_store::{Page, StoreError, StoredClient};
use minijinja::context;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;

/// Applications per page of the list.
const PER_PAGE: i64 = 25;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/applications", get(list))
        .route("/admin/applications/new", get(new_form).post(create))
        .route(
            "/admin/applications/{id}",
            get(settings_tab).post(save_settings),
        )
        .route("/admin/applications/{id}/quickstart", get(quickstart_tab))
        .route("/admin/applications/{id}/apis", get(access::tab))
        .route(
            "/admin/applications/{id}/apis/{api}",
            axum::routing::post(access::save),
        )
        .route(
            "/admin/applications/{id}/apis/{api}/remove",
            get(access::confirm_remove).post(access::remove),
        )
        .route("/admin/applications/{id}/danger", get(danger_tab))
        .route(
            "/admin/applications/{id}/rotate-secret",
            get(confirm_rotate).post(rotate),
        )
        .route(
            "/admin/applications/{id}/delete",
            get(confirm_delete).post(delete),
        )
}

/// The fixed notice for a `done` code in the query (never free text).
fn done_notice(query: &Option<String>) -> Option<&'static str> {
    Some(match param(query, "done")?.as_str() {
        "created" => "Application created.",
        "saved" => "Settings saved.",
        "deleted" => "Application deleted.",
        "access_saved" => "API access saved.",
        "access_removed" => "API access removed.",
        _ => return None,
    })
}

/// One value of the query string.
pub(crate) fn param(query: &Option<String>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Applications Gatehouse relies on: marked, and never deleted from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Managed {
    /// The dashboard's own client.
    Dashboard,
    /// The Management API client created at bootstrap.
    Management,
}

impl Managed {
    fn label(self) -> &'static str {
        match self {
            Self::Dashboard => "Dashboard",
            Self::Management => "System",
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Self::Dashboard => {
                "Gatehouse signs administrators in to this dashboard with this application, and \
                 manages its settings itself. Deleting or changing it would lock every \
                 administrator out, so the dashboard does not offer it."
            }
            Self::Management => {
                "This is the Management API client created when the tenant was set up: the CLI \
                 and your scripts may use its credentials to manage the tenant. Deleting it \
                 could lock them out, so the dashboard does not offer it."
            }
        }
    }
}

/// The ids of the [`Managed`] applications.
struct ManagedIds {
    dashboard: Option<String>,
    management: Option<String>,
}

impl ManagedIds {
    async fn load(state: &AppState) -> Result<Self, StoreError> {
        let store = state.store();
        let dashboard = state.dashboard_client_id().await?;
        // The bootstrap client holds the first grant on the Management API.
        let audience = management_audience(state.issuer());
        let management = store
            .client_grants(Page::ALL)
            .await?
            .into_iter()
            .find(|g| g.audience == audience && g.client_id.is_some())
            .and_then(|g| g.client_id);
        Ok(Self {
            dashboard,
            management,
        })
    }

    fn of(&self, client_id: &str) -> Option<Managed> {
        if self.dashboard.as_deref() == Some(client_id) {
            Some(Managed::Dashboard)
        } else if self.management.as_deref() == Some(client_id) {
            Some(Managed::Management)
        } else {
            None
        }
    }
}

/// An application as the templates show it.
#[derive(Debug, Serialize)]
pub struct AppView {
    client_id: String,
    name: String,
    description: String,
    type_key: &'static str,
    type_label: &'static str,
    has_secret: bool,
    allows_client_credentials: bool,
    managed: Option<&'static str>,
    managed_reason: Option<&'static str>,
}

impl AppView {
    fn of(client: &Client, managed: Option<Managed>) -> Self {
        Self {
            client_id: client.client_id.clone(),
            name: client.name.clone(),
            description: client.description.clone(),
            type_key: edit::type_key(client.app_type),
            type_label: edit::type_label(client.app_type),
            has_secret: !client.is_public(),
            allows_client_credentials: client.allows_grant("client_credentials"),
            managed: managed.map(Managed::label),
            managed_reason: managed.map(Managed::reason),
        }
    }
}

/// An application of this tenant and whether Gatehouse relies on it.
pub struct Loaded {
    pub stored: StoredClient,
    pub managed: Option<Managed>,
}

impl Loaded {
    pub fn client(&self) -> &Client {
        &self.stored.client
    }
}

/// The path parameters of a dashboard page. A path that does not decode
/// (say `%FF`) is the dashboard's 404 page after sign-in, never axum's
/// plain-text refusal.
pub struct AdminPath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for AdminPath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(_) => {
                Admin::from_request_parts(parts, state).await?;
                Err(AdminError::not_found("This page").into_response())
            }
        }
    }
}

/// Whether `id` can name anything: never a 500 for a strange path.
pub(crate) fn plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && !id.chars().any(char::is_control)
}

/// The application `id`, or the dashboard's 404 page.
pub async fn load(state: &AppState, id: &str) -> Result<Loaded, AdminError> {
    let missing = || AdminError::not_found("This application");
    if !plausible_id(id) {
        return Err(missing());
    }
    let stored = state.store().client(id).await?.ok_or_else(missing)?;
    let managed = ManagedIds::load(state).await?.of(id);
    Ok(Loaded { stored, managed })
}

/// Refuses a change to application `client_id` when it holds a Management
/// API permission the admin lacks ([`client_beyond_admin`]): its new secret
/// would be more than the admin has, and changing or revoking its access
/// could lock out the scripts of an administrator who holds more.
pub async fn ensure_not_outranked(
    state: &AppState,
    admin: &Admin,
    client_id: &str,
) -> Result<(), AdminError> {
    match client_beyond_admin(admin, state, client_id).await? {
        None => Ok(()),
        Some(missing) => Err(AdminError::new(
            StatusCode::FORBIDDEN,
            format!(
                "This application holds the permission {missing} on the Gatehouse Management \
                 API, which your own account does not, so you cannot change it or its secret. \
                 An administrator who holds it can."
            ),
        )),
    }
}

/// `GET /admin/applications`.
async fn list(State(state): State<AppState>, admin: Admin, RawQuery(q): RawQuery) -> AdminResult {
    let page_no = param(&q, "page")
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (0..1_000_000).contains(p))
        .unwrap_or(0);
    let mut rows = state
        .store()
        .clients(Page {
            offset: page_no * PER_PAGE,
            limit: PER_PAGE + 1,
        })
        .await?;
    let has_next = rows.len() > PER_PAGE as usize;
    rows.truncate(PER_PAGE as usize);
    let managed = ManagedIds::load(&state).await?;
    let apps: Vec<AppView> = rows
        .iter()
        .map(|s| AppView::of(&s.client, managed.of(&s.client.client_id)))
        .collect();
    Ok(page(
        &admin,
        "applications",
        "applications_list.html",
        context! {
            apps,
            page => page_no,
            prev => (page_no > 0).then(|| page_no - 1),
            next => has_next.then_some(page_no + 1),
            notice => done_notice(&q),
        },
    ))
}

/// `GET /admin/applications/new`.
async fn new_form(admin: Admin, RawQuery(q): RawQuery) -> AdminResult {
    let mut typed = BTreeMap::new();
    if let Some(t) = param(&q, "type").filter(|t| edit::parse_type(t).is_some()) {
        typed.insert("app_type".to_string(), t);
    }
    Ok(new_page(
        &admin,
        StatusCode::OK,
        &typed,
        &FieldErrors::default(),
    ))
}

fn new_page(
    admin: &Admin,
    status: StatusCode,
    typed: &BTreeMap<String, String>,
    errors: &FieldErrors,
) -> Response {
    page_with_status(
        status,
        admin,
        "applications",
        "applications_new.html",
        context! { types => edit::type_choices(), typed, errors },
    )
}

/// `POST /admin/applications/new`: creates it, then shows its quickstart,
/// with the secret this once.
async fn create(State(state): State<AppState>, form: AdminForm) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let unprocessable = |errors: &FieldErrors| {
        new_page(
            &admin,
            StatusCode::UNPROCESSABLE_ENTITY,
            &fields.typed(),
            errors,
        )
    };
    let body = match edit::new_application(&fields) {
        Ok(body) => body,
        Err(errors) => return Ok(unprocessable(&errors)),
    };
    let created = match clients::create(State(state.clone()), MJson(body)).await {
        Ok((_, Json(created))) => created,
        Err(e) => {
            return Ok(unprocessable(&FieldErrors::from_management(
                &e,
                &["name", "app_type"],
            )))
        }
    };
    changes::record(&state, &admin, "POST", "/clients").await;
    let id = created["client_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    match created["client_secret"].as_str() {
        Some(secret) => {
            let loaded = load(&state, &id).await?;
            let extra = Extra {
                notice: Some("Application created."),
                secret: Some(secret.to_string()),
                ..Extra::default()
            };
            show(&state, &admin, &loaded, Tab::Quickstart, extra).await
        }
        None => Ok(render::see_other(&format!(
            "/admin/applications/{id}/quickstart?done=created"
        ))),
    }
}

/// The tabs of an application's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Settings,
    Quickstart,
    Apis,
    Danger,
}

impl Tab {
    fn key(self) -> &'static str {
        match self {
            Self::Settings => "settings",
            Self::Quickstart => "quickstart",
            Self::Apis => "apis",
            Self::Danger => "danger",
        }
    }
}

/// What a page shows besides the stored application.
#[derive(Default)]
pub struct Extra {
    pub status: Option<StatusCode>,
    pub notice: Option<&'static str>,
    /// A secret just issued: shown this once.
    pub secret: Option<String>,
    /// The settings form as typed, with its errors.
    pub settings: Option<(SettingsValues, FieldErrors)>,
    /// An access form of the APIs tab as typed, with its errors.
    pub access: Option<access::Typed>,
    /// The API the quickstart is for (`?audience=`).
    pub audience: Option<String>,
}

/// An application's page at `tab`.
pub async fn show(
    state: &AppState,
    admin: &Admin,
    loaded: &Loaded,
    tab: Tab,
    extra: Extra,
) -> AdminResult {
    let client = loaded.client();
    let app = AppView::of(client, loaded.managed);
    let panel = match tab {
        Tab::Settings => settings_panel(loaded, extra.settings),
        Tab::Quickstart => {
            quickstart_panel(
                state,
                client,
                extra.audience.as_deref(),
                extra.secret.as_deref(),
            )
            .await?
        }
        Tab::Apis => access::panel(state, client, extra.access).await?,
        Tab::Danger => minijinja::Value::UNDEFINED,
    };
    Ok(page_with_status(
        extra.status.unwrap_or(StatusCode::OK),
        admin,
        "applications",
        "applications_show.html",
        context! {
            app,
            tab => tab.key(),
            panel,
            secret => extra.secret,
            notice => extra.notice,
        },
    ))
}

fn settings_panel(
    loaded: &Loaded,
    typed: Option<(SettingsValues, FieldErrors)>,
) -> minijinja::Value {
    let client = loaded.client();
    let (values, errors) =
        typed.unwrap_or_else(|| (SettingsValues::of(client), FieldErrors::default()));
    let grants: Vec<(String, String, bool)> =
        edit::grant_options(client.app_type, &client.grant_types)
            .into_iter()
            .map(|g| {
                let checked = values.grant_types.contains(&g);
                (edit::grant_label(&g).to_string(), g, checked)
            })
            .collect();
    context! {
        values,
        errors,
        grants,
        readonly => loaded.managed == Some(Managed::Dashboard),
    }
}

/// `GET /admin/applications/{id}`.
async fn settings_tab(
    State(state): State<AppState>,
    admin: Admin,
    AdminPath(id): AdminPath<String>,
    RawQuery(q): RawQuery,
) -> AdminResult {
    let loaded = load(&state, &id).await?;
    let extra = Extra {
        notice: done_notice(&q),
        ..Extra::default()
    };
    show(&state, &admin, &loaded, Tab::Settings, extra).await
}

/// `POST /admin/applications/{id}`: the settings form.
async fn save_settings(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<String>,
    form: AdminForm,
) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let loaded = load(&state, &id).await?;
    ensure_not_outranked(&state, &admin, &id).await?;
    if let Some(Managed::Dashboard) = loaded.managed {
        return Err(AdminError::new(
            StatusCode::FORBIDDEN,
            Managed::Dashboard.reason(),
        ));
    }
    let values = SettingsValues::typed(&fields);
    let refused = |values: SettingsValues, errors: FieldErrors| Extra {
        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
        settings: Some((values, errors)),
        ..Extra::default()
    };
    let update = match edit::settings_update(&values, loaded.client()) {
        Ok(update) => update,
        Err(errors) => {
            return show(
                &state,
                &admin,
                &loaded,
                Tab::Settings,
                refused(values, errors),
            )
            .await
        }
    };
    if let Err(e) = clients::update(State(state.clone()), MPath(id.clone()), MJson(update)).await {
        let errors = FieldErrors::from_management(&e, SETTINGS_FIELDS);
        return show(
            &state,
            &admin,
            &loaded,
            Tab::Settings,
            refused(values, errors),
        )
        .await;
    }
    changes::record(&state, &admin, "PATCH", &format!("/clients/{id}")).await;
    Ok(render::see_other(&format!(
        "/admin/applications/{id}?done=saved"
    )))
}

/// The quickstart: facts, the audience chooser and the samples.
async fn quickstart_panel(
    state: &AppState,
    client: &Client,
    audience: Option<&str>,
    secret: Option<&str>,
) -> Result<minijinja::Value, AdminError> {
    let apis: Vec<_> = state
        .store()
        .resource_servers(Page::ALL)
        .await?
        .into_iter()
        .filter(|a| !a.is_system)
        .collect();
    let chosen = audience
        .and_then(|a| apis.iter().find(|api| api.identifier == a))
        .or_else(|| apis.first());
    let scopes: Vec<String> = chosen
        .map(|a| a.scopes.iter().map(|s| s.value.clone()).collect())
        .unwrap_or_default();
    let issuer = state.issuer();
    let target = quickstart::Target {
        issuer,
        client_id: &client.client_id,
        app_type: client.app_type,
        audience: chosen.map(|a| a.identifier.as_str()),
        scopes: &scopes,
        secret,
    };
    let options: Vec<(String, String)> = apis
        .iter()
        .map(|a| {
            (
                a.identifier.clone(),
                format!("{} ({})", a.name, a.identifier),
            )
        })
        .collect();
    Ok(context! {
        snippets => quickstart::snippets(&target),
        domain => quickstart::sdk_domain(issuer),
        issuer,
        discovery => format!("{issuer}.well-known/openid-configuration"),
        audience => chosen.map(|a| a.identifier.clone()),
        options,
        user_facing => client.app_type != AppType::NonInteractive,
    })
}

/// `GET /admin/applications/{id}/quickstart`.
async fn quickstart_tab(
    State(state): State<AppState>,
    admin: Admin,
    AdminPath(id): AdminPath<String>,
    RawQuery(q): RawQuery,
) -> AdminResult {
    let loaded = load(&state, &id).await?;
    let extra = Extra {
        notice: done_notice(&q),
        audience: param(&q, "audience"),
        ..Extra::default()
    };
    show(&state, &admin, &loaded, Tab::Quickstart, extra).await
}

/// `GET /admin/applications/{id}/danger`.
async fn danger_tab(
    State(state): State<AppState>,
    admin: Admin,
    AdminPath(id): AdminPath<String>,
) -> AdminResult {
    let loaded = load(&state, &id).await?;
    show(&state, &admin, &loaded, Tab::Danger, Extra::default()).await
}

/// `GET /admin/applications/{id}/rotate-secret`: asks first.
async fn confirm_rotate(
    State(state): State<AppState>,
    admin: Admin,
    AdminPath(id): AdminPath<String>,
) -> AdminResult {
    let loaded = load(&state, &id).await?;
    let client = loaded.client();
    if client.is_public() {
        return Err(no_secret());
    }
    Ok(render::confirm(
        &admin,
        Confirm {
            section: "applications",
            title: "Rotate the client secret?",
            message: format!(
                "{} gets a new client secret. The current one stops working at once: every \
                 server or script that uses it fails until you give it the new one.",
                client.name
            ),
            action: format!("/admin/applications/{id}/rotate-secret"),
            button: "Rotate secret",
            back: format!("/admin/applications/{id}/danger"),
        },
    ))
}

fn no_secret() -> AdminError {
    AdminError::new(
        StatusCode::BAD_REQUEST,
        "This application is public (a single-page or native app): it has no secret to rotate.",
    )
}

/// `POST /admin/applications/{id}/rotate-secret`: shows the new secret once.
async fn rotate(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<String>,
    form: AdminForm,
) -> AdminResult {
    let admin = form.admin;
    let loaded = load(&state, &id).await?;
    if loaded.client().is_public() {
        return Err(no_secret());
    }
    ensure_not_outranked(&state, &admin, &id).await?;
    let Json(rotated) = clients::rotate_secret(State(state.clone()), MPath(id.clone())).await?;
    changes::record(
        &state,
        &admin,
        "POST",
        &format!("/clients/{id}/rotate-secret"),
    )
    .await;
    let extra = Extra {
        notice: Some("Secret rotated: the old secret no longer works."),
        secret: rotated["client_secret"].as_str().map(str::to_string),
        ..Extra::default()
    };
    show(&state, &admin, &loaded, Tab::Quickstart, extra).await
}

fn undeletable(managed: Managed) -> AdminError {
    AdminError::new(StatusCode::FORBIDDEN, managed.reason())
}

/// `GET /admin/applications/{id}/delete`: asks first.
async fn confirm_delete(
    State(state): State<AppState>,
    admin: Admin,
    AdminPath(id): AdminPath<String>,
) -> AdminResult {
    let loaded = load(&state, &id).await?;
    if let Some(managed) = loaded.managed {
        return Err(undeletable(managed));
    }
    Ok(render::confirm(
        &admin,
        Confirm {
            section: "applications",
            title: "Delete this application?",
            message: format!(
                "{} is deleted with its API access. Its users can no longer log in through it, \
                 and this cannot be undone.",
                loaded.client().name
            ),
            action: format!("/admin/applications/{id}/delete"),
            button: "Delete application",
            back: format!("/admin/applications/{id}/danger"),
        },
    ))
}

/// `POST /admin/applications/{id}/delete`.
async fn delete(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<String>,
    form: AdminForm,
) -> AdminResult {
    let loaded = load(&state, &id).await?;
    if let Some(managed) = loaded.managed {
        return Err(undeletable(managed));
    }
    ensure_not_outranked(&state, &form.admin, &id).await?;
    clients::delete(State(state.clone()), MPath(id.clone())).await?;
    changes::record(&state, &form.admin, "DELETE", &format!("/clients/{id}")).await;
    Ok(render::see_other("/admin/applications?done=deleted"))
}
