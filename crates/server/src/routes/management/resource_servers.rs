//! `/api/v2/resource-servers`: APIs. The identifier is the audience and never
//! changes; HS256 APIs get a generated `signing_secret`; the system API
//! (`<issuer>api/v2/`) cannot be changed or deleted.

use super::error::{deleted, written, Managed, ManagementError, MgmtResult};
use super::extract::{MJson, MPath, MQuery};
use super::pagination::{paginate, Paging};
use super::render::check_id;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gatehouse_core::ids;
use gatehouse_core::model::{
    ResourceServer, ScopeDefinition, SigningAlg, SubjectTypeAuthorization, TokenDialect,
    MAX_ACCESS_TOKEN_LIFETIME,
};
use gatehouse_store::Page;
use serde::Deserialize;
use serde_json::Value;

impl Managed for ResourceServer {
    fn missing() -> ManagementError {
        ManagementError::not_found(
            "The resource server does not exist",
            "inexistent_resource_server",
        )
    }
    fn duplicate(&self) -> ManagementError {
        ManagementError::conflict(
            "A resource server with the same identifier already exists",
            "resource_server_conflict",
        )
    }
}

/// `POST /resource-servers`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateResourceServer {
    pub identifier: String,
    pub name: Option<String>,
    #[serde(default)]
    pub scopes: Vec<ScopeDefinition>,
    pub signing_alg: Option<SigningAlg>,
    pub signing_secret: Option<String>,
    pub allow_offline_access: Option<bool>,
    pub skip_consent_for_verifiable_first_party_clients: Option<bool>,
    pub token_lifetime: Option<u64>,
    pub token_lifetime_for_web: Option<u64>,
    pub enforce_policies: Option<bool>,
    pub token_dialect: Option<TokenDialect>,
    pub subject_type_authorization: Option<SubjectTypeAuthorization>,
}

/// `PATCH /resource-servers/{id}`: everything but the identifier.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateResourceServer {
    /// Present only to answer a clear 400: identifiers are immutable.
    pub identifier: Option<Value>,
    pub name: Option<String>,
    pub scopes: Option<Vec<ScopeDefinition>>,
    pub signing_alg: Option<SigningAlg>,
    pub signing_secret: Option<String>,
    pub allow_offline_access: Option<bool>,
    pub skip_consent_for_verifiable_first_party_clients: Option<bool>,
    pub token_lifetime: Option<u64>,
    pub token_lifetime_for_web: Option<u64>,
    pub enforce_policies: Option<bool>,
    pub token_dialect: Option<TokenDialect>,
    pub subject_type_authorization: Option<SubjectTypeAuthorization>,
}

pub async fn list(
    State(state): State<AppState>,
    MQuery(paging): MQuery<Paging>,
) -> MgmtResult<Json<Value>> {
    let window = paging.window()?;
    let all = state.store().resource_servers(Page::ALL).await?;
    Ok(Json(paginate(all, window, "resource_servers")))
}

/// An API by its id or, as Auth0 allows, by its identifier.
pub async fn find(state: &AppState, id: &str) -> MgmtResult<ResourceServer> {
    check_id(id, "id")?;
    if let Some(api) = state.store().resource_server(id).await? {
        return Ok(api);
    }
    state
        .store()
        .resource_server_by_identifier(id)
        .await?
        .ok_or_else(ResourceServer::missing)
}

pub async fn get_one(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<Json<ResourceServer>> {
    Ok(Json(find(&state, &id).await?))
}

pub async fn create(
    State(state): State<AppState>,
    MJson(body): MJson<CreateResourceServer>,
) -> MgmtResult<(StatusCode, Json<ResourceServer>)> {
    let identifier = body.identifier.trim().to_string();
    if identifier.is_empty() || identifier.len() > 600 {
        return Err(ManagementError::invalid_body(
            "Payload validation error: 'identifier' must be a non-empty string of at most 600 characters.",
        ));
    }
    let name = body.name.clone().unwrap_or_else(|| identifier.clone());
    let mut api = ResourceServer::new(ids::random_hex(12), name, identifier);
    api.scopes = body.scopes;
    apply(
        &mut api,
        Changes {
            signing_alg: body.signing_alg,
            signing_secret: body.signing_secret,
            allow_offline_access: body.allow_offline_access,
            skip_consent: body.skip_consent_for_verifiable_first_party_clients,
            token_lifetime: body.token_lifetime,
            token_lifetime_for_web: body.token_lifetime_for_web,
            enforce_policies: body.enforce_policies,
            token_dialect: body.token_dialect,
            subject_type_authorization: body.subject_type_authorization,
        },
    )?;
    validate(&api)?;
    let now = state.now();
    written(state.store().create_resource_server(&api, now).await, &api)?;
    Ok((StatusCode::CREATED, Json(api)))
}

pub async fn update(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<UpdateResourceServer>,
) -> MgmtResult<Json<ResourceServer>> {
    let mut api = find(&state, &id).await?;
    if body.identifier.is_some() {
        return Err(ManagementError::invalid_body(
            "Payload validation error: 'identifier' cannot be changed.",
        ));
    }
    refuse_system(&api)?;
    if let Some(name) = body.name {
        api.name = name;
    }
    if let Some(scopes) = body.scopes {
        api.scopes = scopes;
    }
    apply(
        &mut api,
        Changes {
            signing_alg: body.signing_alg,
            signing_secret: body.signing_secret,
            allow_offline_access: body.allow_offline_access,
            skip_consent: body.skip_consent_for_verifiable_first_party_clients,
            token_lifetime: body.token_lifetime,
            token_lifetime_for_web: body.token_lifetime_for_web,
            enforce_policies: body.enforce_policies,
            token_dialect: body.token_dialect,
            subject_type_authorization: body.subject_type_authorization,
        },
    )?;
    validate(&api)?;
    written(state.store().update_resource_server(&api).await, &api)?;
    Ok(Json(api))
}

pub async fn delete(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<StatusCode> {
    let api = find(&state, &id).await?;
    refuse_system(&api)?;
    deleted(state.store().delete_resource_server(&api.id).await)
}

fn refuse_system(api: &ResourceServer) -> MgmtResult<()> {
    if api.is_system {
        return Err(ManagementError::new(
            StatusCode::FORBIDDEN,
            "The system API cannot be modified or deleted.",
            "operation_not_supported",
        ));
    }
    Ok(())
}

struct Changes {
    signing_alg: Option<SigningAlg>,
    signing_secret: Option<String>,
    allow_offline_access: Option<bool>,
    skip_consent: Option<bool>,
    token_lifetime: Option<u64>,
    token_lifetime_for_web: Option<u64>,
    enforce_policies: Option<bool>,
    token_dialect: Option<TokenDialect>,
    subject_type_authorization: Option<SubjectTypeAuthorization>,
}

fn apply(api: &mut ResourceServer, c: Changes) -> MgmtResult<()> {
    if let Some(alg) = c.signing_alg {
        api.signing_alg = alg;
    }
    if let Some(secret) = c.signing_secret {
        if secret.len() < 16 {
            return Err(ManagementError::invalid_body(
                "Payload validation error: 'signing_secret' must be at least 16 characters.",
            ));
        }
        api.signing_secret = Some(secret);
    }
    if api.signing_alg == SigningAlg::HS256 {
        if api.signing_secret.is_none() {
            api.signing_secret = Some(ids::random_token(32));
        }
    } else {
        api.signing_secret = None;
    }
    if let Some(v) = c.allow_offline_access {
        api.allow_offline_access = v;
    }
    if let Some(v) = c.skip_consent {
        api.skip_consent_for_verifiable_first_party_clients = v;
    }
    if let Some(v) = c.token_lifetime {
        api.token_lifetime = v;
        api.token_lifetime_for_web = api.token_lifetime_for_web.min(v);
    }
    if let Some(v) = c.token_lifetime_for_web {
        api.token_lifetime_for_web = v;
    }
    if let Some(v) = c.enforce_policies {
        api.enforce_policies = v;
    }
    if let Some(v) = c.token_dialect {
        api.token_dialect = v;
    }
    if let Some(v) = c.subject_type_authorization {
        api.subject_type_authorization = v;
    }
    Ok(())
}

/// Auth0's limits: lifetimes, web lifetime ≤ lifetime, scope values unique
/// and free of spaces.
fn validate(api: &ResourceServer) -> MgmtResult<()> {
    if api.token_lifetime == 0 || api.token_lifetime > MAX_ACCESS_TOKEN_LIFETIME {
        return Err(ManagementError::invalid_body(format!(
            "Payload validation error: 'token_lifetime' must be between 1 and {MAX_ACCESS_TOKEN_LIFETIME}."
        )));
    }
    if api.token_lifetime_for_web == 0 || api.token_lifetime_for_web > api.token_lifetime {
        return Err(ManagementError::invalid_body(
            "Payload validation error: 'token_lifetime_for_web' must be between 1 and token_lifetime.",
        ));
    }
    for (i, scope) in api.scopes.iter().enumerate() {
        if scope.value.is_empty() || scope.value.contains(char::is_whitespace) {
            return Err(ManagementError::invalid_body(format!(
                "Payload validation error: scope value {:?} must be non-empty and contain no spaces.",
                scope.value
            )));
        }
        if api.scopes[..i].iter().any(|s| s.value == scope.value) {
            return Err(ManagementError::invalid_body(format!(
                "Payload validation error: duplicate scope {:?}.",
                scope.value
            )));
        }
    }
    Ok(())
}
