//! An API's Machine-to-machine tab: each machine-to-machine application,
//! whether it may get tokens for this API through client credentials, and
//! with which of its scopes — the client grants (`subject_type` `client`),
//! written with `routes::management::client_grants`. Taking the
//! authorization away asks first.

use super::{header, load};
use crate::admin::applications::ensure_not_outranked;
use crate::admin::form::{AdminForm, FieldErrors, Fields};
use crate::admin::grants::{self, Saved};
use crate::admin::render::{self, page_with_status, AdminError, AdminResult, Confirm};
use crate::admin::session::{first_not_held, not_held_message, Admin};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gatehouse_core::model::{AppType, Client, ClientGrant, ResourceServer, SubjectType};
use gatehouse_store::Page;
use minijinja::context;
use serde::Serialize;
use std::collections::HashMap;

/// One application on the tab.
#[derive(Serialize)]
struct AppRow {
    client_id: String,
    /// The client id as a path segment.
    segment: String,
    name: String,
    authorized: bool,
    scopes: Vec<ScopeBox>,
    /// Scopes granted that the API no longer defines.
    stale: Vec<String>,
}

#[derive(Serialize)]
struct ScopeBox {
    value: String,
    description: String,
    checked: bool,
}

/// The client-credentials grant of `client_id` on this API, if any.
fn grant_of<'a>(grants: &'a [ClientGrant], client_id: &str) -> Option<&'a ClientGrant> {
    grants.iter().find(|g| {
        g.client_id.as_deref() == Some(client_id) && g.subject_type == SubjectType::Client
    })
}

fn row(
    api: &ResourceServer,
    client: &Client,
    grant: Option<&ClientGrant>,
    typed: Option<&Fields>,
) -> AppRow {
    let granted: Vec<String> = match typed {
        Some(fields) => fields.all("scope"),
        None => grant.map(|g| g.scope.clone()).unwrap_or_default(),
    };
    AppRow {
        client_id: client.client_id.clone(),
        segment: encode(&client.client_id),
        name: client.name.clone(),
        authorized: typed.map_or(grant.is_some(), |f| f.checked("authorized")),
        scopes: api
            .scopes
            .iter()
            .map(|s| ScopeBox {
                value: s.value.clone(),
                description: s.description.clone(),
                checked: granted.contains(&s.value),
            })
            .collect(),
        stale: granted
            .iter()
            .filter(|s| !api.defines_scope(s))
            .cloned()
            .collect(),
    }
}

async fn grants_on(state: &AppState, api: &ResourceServer) -> Result<Vec<ClientGrant>, AdminError> {
    Ok(state
        .store()
        .client_grants(Page::ALL)
        .await?
        .into_iter()
        .filter(|g| g.audience == api.identifier)
        .collect())
}

/// `GET /admin/apis/{id}/m2m`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> AdminResult {
    let api = load(&state, &id).await?;
    let done = query.get("done").map(String::as_str);
    m2m_page(&state, &admin, StatusCode::OK, &api, None, done).await
}

/// The tab; `failed` is the application whose form is shown again with its errors.
async fn m2m_page(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    api: &ResourceServer,
    failed: Option<(&str, &Fields, &FieldErrors)>,
    done: Option<&str>,
) -> AdminResult {
    let grants = grants_on(state, api).await?;
    let rows: Vec<AppRow> = state
        .store()
        .clients(Page::ALL)
        .await?
        .iter()
        .map(|c| &c.client)
        .filter(|c| {
            c.app_type == AppType::NonInteractive || grant_of(&grants, &c.client_id).is_some()
        })
        .map(|c| {
            let typed = failed
                .filter(|(id, _, _)| *id == c.client_id)
                .map(|(_, f, _)| f);
            row(api, c, grant_of(&grants, &c.client_id), typed)
        })
        .collect();
    Ok(page_with_status(
        status,
        admin,
        "apis",
        "apis_m2m.html",
        context! {
            apps => rows,
            failed => failed.map(|(id, _, _)| id),
            errors => failed.map(|(_, _, e)| e),
            ..header(api, "m2m", done)
        },
    ))
}

/// What the form asks, checked: `Some(scopes)` to authorize with them,
/// `None` to take the authorization away.
pub fn requested(
    fields: &Fields,
    api: &ResourceServer,
) -> Result<Option<Vec<String>>, FieldErrors> {
    let scopes = fields.all("scope");
    let mut errors = FieldErrors::default();
    if let Some(bad) = scopes.iter().find(|s| !api.defines_scope(s)) {
        errors.general(format!("{bad} is not a permission of this API."));
    }
    if !fields.checked("authorized") && !scopes.is_empty() {
        errors.general("Tick Authorized to let this application get tokens for this API with these permissions.");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(fields.checked("authorized").then_some(scopes))
}

async fn load_client(state: &AppState, client_id: &str) -> Result<Client, AdminError> {
    let found = match crate::routes::management::render::check_id(client_id, "client_id") {
        Ok(()) => state.store().client(client_id).await?,
        Err(_) => None,
    };
    found
        .map(|c| c.client)
        .ok_or_else(|| AdminError::not_found("This application"))
}

/// `POST /admin/apis/{id}/m2m/{client_id}`.
pub async fn save(
    State(state): State<AppState>,
    Path((id, client_id)): Path<(String, String)>,
    form: AdminForm,
) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let api = load(&state, &id).await?;
    let client = load_client(&state, &client_id).await?;
    ensure_not_outranked(&state, &admin, &client.client_id).await?;
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let wanted = match requested(&fields, &api) {
        Ok(wanted) => wanted,
        Err(errors) => {
            let failed = Some((client.client_id.as_str(), &fields, &errors));
            return m2m_page(&state, &admin, refused, &api, failed, None).await;
        }
    };
    let beyond = wanted
        .iter()
        .flatten()
        .map(|s| (api.identifier.as_str(), s.as_str()));
    if let Some(missing) = first_not_held(&admin, &state, beyond) {
        let mut errors = FieldErrors::default();
        errors.general(not_held_message(missing));
        let failed = Some((client.client_id.as_str(), &fields, &errors));
        return m2m_page(&state, &admin, StatusCode::FORBIDDEN, &api, failed, None).await;
    }
    let grants = grants_on(&state, &api).await?;
    let existing = grant_of(&grants, &client.client_id);
    let tab = format!("/admin/apis/{}/m2m", api.id);
    let scope = match (wanted, existing) {
        (None, None) => return Ok(render::see_other(&tab)),
        (None, Some(_)) => {
            let revoke = format!("{tab}/{}/revoke", encode(&client.client_id));
            return Ok(render::see_other(&revoke));
        }
        (Some(scope), _) => scope,
    };
    let saved = grants::save(
        &state,
        &admin,
        &client.client_id,
        &api.identifier,
        existing,
        scope,
    )
    .await;
    match saved {
        Ok(Saved::Created) => Ok(render::see_other(&format!("{tab}?done=authorized"))),
        Ok(Saved::Updated) => Ok(render::see_other(&format!("{tab}?done=grant_saved"))),
        Err(e) => {
            let errors = FieldErrors::from_management(&e, &[]);
            let failed = Some((client.client_id.as_str(), &fields, &errors));
            m2m_page(&state, &admin, refused, &api, failed, None).await
        }
    }
}

/// `value` percent-encoded for a path segment or a query value.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// The API, the application and its grant on the API, or the 404 page.
async fn authorization(
    state: &AppState,
    id: &str,
    client_id: &str,
) -> Result<(ResourceServer, Client, ClientGrant), AdminError> {
    let api = load(state, id).await?;
    let client = load_client(state, client_id).await?;
    let grants = grants_on(state, &api).await?;
    let grant = grant_of(&grants, &client.client_id)
        .cloned()
        .ok_or_else(|| AdminError::not_found("This authorization"))?;
    Ok((api, client, grant))
}

/// `GET /admin/apis/{id}/m2m/{client_id}/revoke`.
pub async fn confirm_revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, client_id)): Path<(String, String)>,
) -> AdminResult {
    let (api, client, _) = authorization(&state, &id, &client_id).await?;
    Ok(render::confirm(
        &admin,
        Confirm {
            section: "apis",
            title: "Stop authorizing this application?",
            message: format!(
                "{} will no longer get tokens for {} through client credentials: its next token request gets 403 access_denied. Tokens it already has stay valid until they expire.",
                client.name, api.name
            ),
            action: format!("/admin/apis/{}/m2m/{}/revoke", api.id, encode(&client.client_id)),
            button: "Stop authorizing",
            back: format!("/admin/apis/{}/m2m", api.id),
        },
    ))
}

/// `POST /admin/apis/{id}/m2m/{client_id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    Path((id, client_id)): Path<(String, String)>,
    form: AdminForm,
) -> AdminResult {
    let (api, client, grant) = authorization(&state, &id, &client_id).await?;
    ensure_not_outranked(&state, &form.admin, &client.client_id).await?;
    grants::remove(&state, &form.admin, &grant).await?;
    Ok(render::see_other(&format!(
        "/admin/apis/{}/m2m?done=revoked",
        api.id
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::model::ScopeDefinition;

    #[test]
    fn the_form_says_authorize_with_scopes_or_take_it_away() {
        let mut api = ResourceServer::new("id", "M", "https://m");
        api.scopes.push(ScopeDefinition {
            value: "read:m".into(),
            description: String::new(),
        });
        let ask = |body: &str| requested(&Fields::parse(body.as_bytes()), &api);
        assert_eq!(
            ask("authorized=on&scope=read%3Am").unwrap(),
            Some(vec!["read:m".to_string()])
        );
        assert_eq!(ask("authorized=on").unwrap(), Some(vec![]));
        assert_eq!(ask("").unwrap(), None);
        assert!(ask("authorized=on&scope=write%3Am").is_err());
        assert!(ask("scope=read%3Am").is_err());
    }
}
