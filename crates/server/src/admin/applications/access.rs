//! The APIs tab of an application: which APIs it may call with client
//! credentials, and with which of their scopes (Auth0's client grants).
//! Authorizing, changing scopes and removing access (which asks first) go
//! through [`crate::admin::grants`], the Management API's client-grant handlers.

use super::{ensure_not_outranked, load, plausible_id, show, AdminPath, Extra, Loaded, Tab};
use crate::admin::form::{AdminForm, FieldErrors};
use crate::admin::grants;
use crate::admin::render::{self, AdminError, AdminResult, Confirm};
use crate::admin::session::{first_not_held, not_held_message, Admin};
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use gatehouse_core::model::{Client, ClientGrant, ResourceServer};
use gatehouse_store::Page;
use minijinja::context;
use serde::Serialize;

/// An access form as typed, with its errors: shown again on its API's card.
pub struct Typed {
    pub api_id: String,
    pub scopes: Vec<String>,
    pub errors: FieldErrors,
}

#[derive(Debug, Serialize)]
struct ScopeView {
    value: String,
    description: String,
    checked: bool,
}

#[derive(Debug, Serialize)]
struct ApiCard {
    id: String,
    name: String,
    identifier: String,
    is_system: bool,
    authorized: bool,
    scopes: Vec<ScopeView>,
    errors: Option<FieldErrors>,
}

/// The client's own grant on `audience` (not a `default_for` one).
async fn grant_of(
    state: &AppState,
    client_id: &str,
    audience: &str,
) -> Result<Option<ClientGrant>, AdminError> {
    Ok(state
        .store()
        .client_grants_for(client_id, audience)
        .await?
        .into_iter()
        .find(|g| g.client_id.as_deref() == Some(client_id)))
}

/// The APIs tab's content: a card per API.
pub async fn panel(
    state: &AppState,
    client: &Client,
    typed: Option<Typed>,
) -> Result<minijinja::Value, AdminError> {
    let mut apis = state.store().resource_servers(Page::ALL).await?;
    // The tenant's own APIs first; the Management API, with its many scopes, last.
    apis.sort_by_key(|a| a.is_system);
    let mut typed = typed;
    let mut cards = Vec::with_capacity(apis.len());
    for api in apis {
        let grant = grant_of(state, &client.client_id, &api.identifier).await?;
        let mine = typed
            .as_ref()
            .is_some_and(|t| t.api_id == api.id)
            .then(|| typed.take())
            .flatten();
        let checked: Vec<String> = match (&mine, &grant) {
            (Some(t), _) => t.scopes.clone(),
            (None, Some(g)) => g.scope.clone(),
            (None, None) => Vec::new(),
        };
        cards.push(ApiCard {
            scopes: api
                .scopes
                .iter()
                .map(|s| ScopeView {
                    value: s.value.clone(),
                    description: s.description.clone(),
                    checked: checked.contains(&s.value),
                })
                .collect(),
            id: api.id,
            name: api.name,
            identifier: api.identifier,
            is_system: api.is_system,
            authorized: grant.is_some(),
            errors: mine.map(|t| t.errors),
        });
    }
    Ok(context! { cards })
}

/// `GET /admin/applications/{id}/apis`.
pub async fn tab(
    State(state): State<AppState>,
    admin: Admin,
    AdminPath(id): AdminPath<String>,
    RawQuery(q): RawQuery,
) -> AdminResult {
    let loaded = load(&state, &id).await?;
    let extra = Extra {
        notice: super::done_notice(&q),
        ..Extra::default()
    };
    show(&state, &admin, &loaded, Tab::Apis, extra).await
}

async fn load_api(state: &AppState, api_id: &str) -> Result<ResourceServer, AdminError> {
    let missing = || AdminError::not_found("This API");
    if !plausible_id(api_id) {
        return Err(missing());
    }
    state
        .store()
        .resource_server(api_id)
        .await?
        .ok_or_else(missing)
}

/// The scopes ticked on the form, each one the API's own.
fn chosen_scopes(scopes: &[String], api: &ResourceServer) -> Result<(), FieldErrors> {
    match scopes.iter().find(|s| !api.defines_scope(s)) {
        None => Ok(()),
        Some(bad) => {
            let mut errors = FieldErrors::default();
            errors.add(
                "scope",
                format!("{bad:?} is not a permission of {}.", api.name),
            );
            Err(errors)
        }
    }
}

/// `POST /admin/applications/{id}/apis/{api}`: authorizes the application
/// on the API, or changes its scopes there.
pub async fn save(
    State(state): State<AppState>,
    AdminPath((id, api_id)): AdminPath<(String, String)>,
    form: AdminForm,
) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let loaded = load(&state, &id).await?;
    ensure_not_outranked(&state, &admin, &id).await?;
    let api = load_api(&state, &api_id).await?;
    let scopes = fields.all("scope");
    if let Err(errors) = chosen_scopes(&scopes, &api) {
        return refused(&state, &admin, &loaded, api_id, scopes, errors).await;
    }
    let beyond = scopes.iter().map(|s| (api.identifier.as_str(), s.as_str()));
    if let Some(missing) = first_not_held(&admin, &state, beyond) {
        let mut errors = FieldErrors::default();
        errors.add("scope", not_held_message(missing));
        return refused(&state, &admin, &loaded, api_id, scopes, errors).await;
    }
    let existing = grant_of(&state, &id, &api.identifier).await?;
    let saved = grants::save(
        &state,
        &admin,
        &id,
        &api.identifier,
        existing.as_ref(),
        scopes.clone(),
    )
    .await;
    match saved {
        Ok(_) => Ok(render::see_other(&format!(
            "/admin/applications/{id}/apis?done=access_saved"
        ))),
        Err(e) => {
            let errors = FieldErrors::from_management(&e, &["scope"]);
            refused(&state, &admin, &loaded, api_id, scopes, errors).await
        }
    }
}

async fn refused(
    state: &AppState,
    admin: &Admin,
    loaded: &Loaded,
    api_id: String,
    scopes: Vec<String>,
    errors: FieldErrors,
) -> AdminResult {
    let extra = Extra {
        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
        access: Some(Typed {
            api_id,
            scopes,
            errors,
        }),
        ..Extra::default()
    };
    show(state, admin, loaded, Tab::Apis, extra).await
}

/// The application, the API and the grant between them, or the 404 page.
async fn granted(
    state: &AppState,
    id: &str,
    api_id: &str,
) -> Result<(Loaded, ResourceServer, ClientGrant), AdminError> {
    let loaded = load(state, id).await?;
    let api = load_api(state, api_id).await?;
    let grant = grant_of(state, id, &api.identifier)
        .await?
        .ok_or_else(|| AdminError::not_found("This application's access to the API"))?;
    Ok((loaded, api, grant))
}

/// `GET /admin/applications/{id}/apis/{api}/remove`: asks first.
pub async fn confirm_remove(
    State(state): State<AppState>,
    admin: Admin,
    AdminPath((id, api_id)): AdminPath<(String, String)>,
) -> AdminResult {
    let (loaded, api, _) = granted(&state, &id, &api_id).await?;
    Ok(render::confirm(
        &admin,
        Confirm {
            section: "applications",
            title: "Remove API access?",
            message: format!(
                "{} can no longer get tokens for {} ({}) with client credentials. Tokens it \
                 already has stay valid until they expire.",
                loaded.client().name,
                api.name,
                api.identifier
            ),
            action: format!("/admin/applications/{id}/apis/{api_id}/remove"),
            button: "Remove access",
            back: format!("/admin/applications/{id}/apis"),
        },
    ))
}

/// `POST /admin/applications/{id}/apis/{api}/remove`.
pub async fn remove(
    State(state): State<AppState>,
    AdminPath((id, api_id)): AdminPath<(String, String)>,
    form: AdminForm,
) -> AdminResult {
    let (_, _, grant) = granted(&state, &id, &api_id).await?;
    ensure_not_outranked(&state, &form.admin, &id).await?;
    grants::remove(&state, &form.admin, &grant).await?;
    Ok(render::see_other(&format!(
        "/admin/applications/{id}/apis?done=access_removed"
    )))
}
