//! `/api/v2/client-grants`: which scopes of an API a client may get through
//! client credentials. Lists support both Auth0 paginations (auth0-compat.md
//! §6): `page`/`per_page` (auth0-python v4) and the checkpoint `from`/`take`
//! (v5), replying `{next, client_grants}`.

use super::error::{deleted, written, Managed, ManagementError, MgmtResult};
use super::extract::{MJson, MPath, MQuery};
use super::pagination::{paginate, Paging, MAX_PER_PAGE};
use super::render::check_id;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gatehouse_core::ids;
use gatehouse_core::model::{ClientGrant, ResourceServer, SubjectType};
use gatehouse_store::{Page, StoredClient};
use serde::Deserialize;
use serde_json::{json, Value};

impl Managed for ClientGrant {
    fn missing() -> ManagementError {
        ManagementError::not_found("The client grant does not exist", "inexistent_client_grant")
    }
    fn duplicate(&self) -> ManagementError {
        ManagementError::conflict(
            "A client grant for this client and audience already exists.",
            "client_grant_conflict",
        )
    }
}

/// `POST /client-grants`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGrant {
    pub client_id: String,
    pub audience: String,
    pub scope: Vec<String>,
    pub subject_type: Option<SubjectType>,
    pub allow_all_scopes: Option<bool>,
    /// Organizations are not supported: only `deny` is accepted.
    pub organization_usage: Option<String>,
    /// Organizations are not supported: only `false` is accepted.
    pub allow_any_organization: Option<bool>,
}

/// `PATCH /client-grants/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGrant {
    pub scope: Option<Vec<String>>,
    pub allow_all_scopes: Option<bool>,
    pub organization_usage: Option<String>,
    pub allow_any_organization: Option<bool>,
}

/// List filters and the checkpoint pagination.
#[derive(Debug, Default, Deserialize)]
pub struct GrantFilter {
    pub audience: Option<String>,
    pub client_id: Option<String>,
    pub from: Option<String>,
    pub take: Option<u64>,
}

fn render(grant: &ClientGrant) -> Value {
    let mut value = serde_json::to_value(grant).unwrap_or(Value::Null);
    value["organization_usage"] = json!("deny");
    value["allow_any_organization"] = json!(false);
    value
}

fn check_organizations(usage: Option<&str>, any: Option<bool>) -> MgmtResult<()> {
    if usage.is_some_and(|u| u != "deny") || any == Some(true) {
        return Err(ManagementError::invalid_body(
            "Organizations are not supported: organization_usage must be 'deny' and allow_any_organization false.",
        ));
    }
    Ok(())
}

fn check_scopes(scopes: &[String], api: &ResourceServer) -> MgmtResult<()> {
    match scopes.iter().find(|s| !api.defines_scope(s)) {
        Some(bad) => Err(ManagementError::invalid_body(format!(
            "Payload validation error: scope {bad:?} is not defined by the resource server {}.",
            api.identifier
        ))),
        None => Ok(()),
    }
}

pub async fn list(
    State(state): State<AppState>,
    MQuery(paging): MQuery<Paging>,
    MQuery(filter): MQuery<GrantFilter>,
) -> MgmtResult<Json<Value>> {
    let all: Vec<Value> = state
        .store()
        .client_grants(Page::ALL)
        .await?
        .iter()
        .filter(|g| filter.audience.as_ref().is_none_or(|a| &g.audience == a))
        .filter(|g| {
            filter
                .client_id
                .as_ref()
                .is_none_or(|c| g.client_id.as_ref() == Some(c))
        })
        .map(render)
        .collect();
    if filter.from.is_some() || filter.take.is_some() {
        return checkpoint(all, filter.from.as_deref(), filter.take).map(Json);
    }
    Ok(Json(paginate(all, paging.window()?, "client_grants")))
}

/// `from` is the offset of the next item, as an opaque string; `next` is
/// absent after the last page.
fn checkpoint(all: Vec<Value>, from: Option<&str>, take: Option<u64>) -> MgmtResult<Value> {
    let start: usize = match from.filter(|f| !f.is_empty()) {
        None => 0,
        Some(f) => f.parse().map_err(|_| {
            ManagementError::invalid_query(
                "Query validation error: 'from' is not a valid checkpoint.",
            )
        })?,
    };
    let take = take.unwrap_or(MAX_PER_PAGE);
    if take == 0 || take > MAX_PER_PAGE {
        return Err(ManagementError::invalid_query(format!(
            "Query validation error: 'take' must be between 1 and {MAX_PER_PAGE}."
        )));
    }
    let total = all.len();
    let page: Vec<Value> = all
        .into_iter()
        .skip(start)
        .take(usize::try_from(take).unwrap_or(usize::MAX))
        .collect();
    let end = start.saturating_add(page.len());
    let mut body = json!({ "client_grants": page });
    if end < total {
        body["next"] = json!(end.to_string());
    }
    Ok(body)
}

async fn find(state: &AppState, id: &str) -> MgmtResult<ClientGrant> {
    check_id(id, "id")?;
    state
        .store()
        .client_grant(id)
        .await?
        .ok_or_else(ClientGrant::missing)
}

pub async fn get_one(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<Json<Value>> {
    Ok(Json(render(&find(&state, &id).await?)))
}

pub async fn create(
    State(state): State<AppState>,
    MJson(body): MJson<CreateGrant>,
) -> MgmtResult<(StatusCode, Json<Value>)> {
    check_organizations(
        body.organization_usage.as_deref(),
        body.allow_any_organization,
    )?;
    if state.store().client(&body.client_id).await?.is_none() {
        return Err(StoredClient::missing());
    }
    let api = state
        .store()
        .resource_server_by_identifier(&body.audience)
        .await?
        .ok_or_else(|| {
            ManagementError::not_found(
                "No resource server found by that identifier",
                "inexistent_resource_server",
            )
        })?;
    check_scopes(&body.scope, &api)?;
    let grant = ClientGrant {
        id: ids::prefixed("cgr"),
        client_id: Some(body.client_id),
        default_for: None,
        audience: body.audience,
        scope: body.scope,
        subject_type: body.subject_type.unwrap_or_default(),
        allow_all_scopes: body.allow_all_scopes.unwrap_or(false),
    };
    let now = state.now();
    written(state.store().create_client_grant(&grant, now).await, &grant)?;
    Ok((StatusCode::CREATED, Json(render(&grant))))
}

pub async fn update(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<UpdateGrant>,
) -> MgmtResult<Json<Value>> {
    let mut grant = find(&state, &id).await?;
    check_organizations(
        body.organization_usage.as_deref(),
        body.allow_any_organization,
    )?;
    if let Some(scope) = body.scope {
        let api = state
            .store()
            .resource_server_by_identifier(&grant.audience)
            .await?
            .ok_or_else(|| {
                ManagementError::not_found(
                    "No resource server found by that identifier",
                    "inexistent_resource_server",
                )
            })?;
        check_scopes(&scope, &api)?;
        grant.scope = scope;
    }
    if let Some(v) = body.allow_all_scopes {
        grant.allow_all_scopes = v;
    }
    written(state.store().update_client_grant(&grant).await, &grant)?;
    Ok(Json(render(&grant)))
}

pub async fn delete(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<StatusCode> {
    find(&state, &id).await?;
    deleted(state.store().delete_client_grant(&id).await)
}
