//! `/api/v2/clients`: applications. Secrets are stored only as SHA-256
//! hashes, so the plaintext `client_secret` appears exactly once: in the
//! reply to create and to `POST /clients/{id}/rotate-secret`.

use super::error::{deleted, written, Managed, ManagementError, MgmtResult};
use super::extract::{MJson, MPath, MQuery};
use super::pagination::{paginate, Paging};
use super::render::{check_id, FieldsQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gatehouse_core::ids;
use gatehouse_core::model::{
    default_grant_types, AppType, Client, JwtConfiguration, RefreshTokenSettings,
    TokenEndpointAuthMethod, MAX_REFRESH_TOKEN_LIFETIME,
};
use gatehouse_core::secret::hash_token;
use gatehouse_store::{Page, StoredClient};
use serde::Deserialize;
use serde_json::{json, Value};

impl Managed for StoredClient {
    fn missing() -> ManagementError {
        ManagementError::not_found("The client does not exist", "inexistent_client")
    }
}

use gatehouse_core::request::GRANT_TYPES as KNOWN_GRANT_TYPES;

/// `POST /clients`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    pub name: String,
    pub description: Option<String>,
    pub app_type: Option<AppType>,
    pub is_first_party: Option<bool>,
    /// Accepted for compatibility; Gatehouse is always OIDC-conformant.
    pub oidc_conformant: Option<bool>,
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    pub grant_types: Option<Vec<String>>,
    pub callbacks: Option<Vec<String>>,
    pub allowed_logout_urls: Option<Vec<String>>,
    pub web_origins: Option<Vec<String>>,
    pub allowed_origins: Option<Vec<String>>,
    pub jwt_configuration: Option<JwtConfiguration>,
    pub refresh_token: Option<RefreshTokenSettings>,
    pub allow_plain_pkce: Option<bool>,
    pub token_endpoint_ip_header_trusted: Option<bool>,
}

/// `PATCH /clients/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClient {
    pub name: Option<String>,
    pub description: Option<String>,
    pub app_type: Option<AppType>,
    pub is_first_party: Option<bool>,
    pub oidc_conformant: Option<bool>,
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    pub grant_types: Option<Vec<String>>,
    pub callbacks: Option<Vec<String>>,
    pub allowed_logout_urls: Option<Vec<String>>,
    pub web_origins: Option<Vec<String>>,
    pub allowed_origins: Option<Vec<String>>,
    pub jwt_configuration: Option<JwtConfiguration>,
    pub refresh_token: Option<RefreshTokenSettings>,
    pub allow_plain_pkce: Option<bool>,
    pub token_endpoint_ip_header_trusted: Option<bool>,
}

/// List filters.
#[derive(Debug, Default, Deserialize)]
pub struct ClientFilter {
    pub app_type: Option<String>,
    pub is_first_party: Option<bool>,
}

fn render(client: &Client, secret: Option<&str>) -> Value {
    let mut value = serde_json::to_value(client).unwrap_or(Value::Null);
    if let Some(secret) = secret {
        value["client_secret"] = json!(secret);
    }
    value
}

pub async fn list(
    State(state): State<AppState>,
    MQuery(paging): MQuery<Paging>,
    MQuery(filter): MQuery<ClientFilter>,
    MQuery(fields): MQuery<FieldsQuery>,
) -> MgmtResult<Json<Value>> {
    let window = paging.window()?;
    let app_types: Option<Vec<AppType>> = match filter.app_type.as_deref() {
        None | Some("") => None,
        Some(list) => Some(
            list.split(',')
                .map(|t| {
                    serde_json::from_value(json!(t.trim())).map_err(|_| {
                        ManagementError::invalid_query(format!(
                            "Query validation error: unknown app_type {t:?}."
                        ))
                    })
                })
                .collect::<MgmtResult<_>>()?,
        ),
    };
    let all: Vec<Value> = state
        .store()
        .clients(Page::ALL)
        .await?
        .into_iter()
        .map(|s| s.client)
        .filter(|c| app_types.as_ref().is_none_or(|t| t.contains(&c.app_type)))
        .filter(|c| filter.is_first_party.is_none_or(|f| c.is_first_party == f))
        .map(|c| fields.project(render(&c, None)))
        .collect();
    Ok(Json(paginate(all, window, "clients")))
}

async fn find(state: &AppState, id: &str) -> MgmtResult<StoredClient> {
    check_id(id, "id")?;
    state
        .store()
        .client(id)
        .await?
        .ok_or_else(StoredClient::missing)
}

pub async fn get_one(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MQuery(fields): MQuery<FieldsQuery>,
) -> MgmtResult<Json<Value>> {
    let stored = find(&state, &id).await?;
    Ok(Json(fields.project(render(&stored.client, None))))
}

pub async fn create(
    State(state): State<AppState>,
    MJson(body): MJson<CreateClient>,
) -> MgmtResult<(StatusCode, Json<Value>)> {
    if body.name.trim().is_empty() {
        return Err(ManagementError::invalid_body(
            "Payload validation error: 'name' must not be empty.",
        ));
    }
    let app_type = body.app_type.unwrap_or(AppType::RegularWeb);
    let mut client = Client::new(ids::client_id(), body.name.clone(), app_type);
    if body.grant_types.is_none() {
        client.grant_types = default_grant_types(app_type);
    }
    apply(
        &mut client,
        UpdateClient {
            name: None,
            description: body.description,
            app_type: None,
            is_first_party: body.is_first_party,
            oidc_conformant: body.oidc_conformant,
            token_endpoint_auth_method: body.token_endpoint_auth_method,
            grant_types: body.grant_types,
            callbacks: body.callbacks,
            allowed_logout_urls: body.allowed_logout_urls,
            web_origins: body.web_origins,
            allowed_origins: body.allowed_origins,
            jwt_configuration: body.jwt_configuration,
            refresh_token: body.refresh_token,
            allow_plain_pkce: body.allow_plain_pkce,
            token_endpoint_ip_header_trusted: body.token_endpoint_ip_header_trusted,
        },
    )?;
    let secret = (!client.is_public()).then(ids::client_secret);
    let stored = StoredClient {
        client: client.clone(),
        secret_hash: secret.as_deref().map(hash_token),
    };
    let now = state.now();
    written(state.store().create_client(&stored, now).await, &stored)?;
    Ok((
        StatusCode::CREATED,
        Json(render(&client, secret.as_deref())),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<UpdateClient>,
) -> MgmtResult<Json<Value>> {
    let mut stored = find(&state, &id).await?;
    let was_public = stored.client.is_public();
    apply(&mut stored.client, body)?;
    // A client that becomes confidential needs a secret: hand out a new one.
    let secret = (was_public && !stored.client.is_public()).then(ids::client_secret);
    if let Some(secret) = &secret {
        stored.secret_hash = Some(hash_token(secret));
    }
    written(state.store().update_client(&stored).await, &stored)?;
    Ok(Json(render(&stored.client, secret.as_deref())))
}

pub async fn delete(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<StatusCode> {
    find(&state, &id).await?;
    deleted(state.store().delete_client(&id).await)
}

/// Issues a new secret; the old one stops working at once.
pub async fn rotate_secret(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<Json<Value>> {
    let mut stored = find(&state, &id).await?;
    if stored.client.is_public() {
        return Err(ManagementError::invalid_body(
            "A client with token_endpoint_auth_method 'none' has no secret to rotate.",
        ));
    }
    let secret = ids::client_secret();
    stored.secret_hash = Some(hash_token(&secret));
    state.store().update_client(&stored).await?;
    Ok(Json(render(&stored.client, Some(&secret))))
}

fn apply(client: &mut Client, c: UpdateClient) -> MgmtResult<()> {
    if let Some(name) = c.name {
        if name.trim().is_empty() {
            return Err(ManagementError::invalid_body(
                "Payload validation error: 'name' must not be empty.",
            ));
        }
        client.name = name;
    }
    if let Some(v) = c.description {
        client.description = v;
    }
    if let Some(v) = c.app_type {
        client.app_type = v;
    }
    if let Some(v) = c.is_first_party {
        client.is_first_party = v;
    }
    if let Some(v) = c.token_endpoint_auth_method {
        client.token_endpoint_auth_method = v;
    }
    if let Some(grants) = c.grant_types {
        if let Some(bad) = grants
            .iter()
            .find(|g| !KNOWN_GRANT_TYPES.contains(&g.as_str()))
        {
            return Err(ManagementError::invalid_body(format!(
                "Payload validation error: unsupported grant type {bad:?}."
            )));
        }
        client.grant_types = grants;
    }
    for (target, value) in [
        (&mut client.callbacks, c.callbacks),
        (&mut client.allowed_logout_urls, c.allowed_logout_urls),
        (&mut client.web_origins, c.web_origins),
        (&mut client.allowed_origins, c.allowed_origins),
    ] {
        if let Some(v) = value {
            *target = v;
        }
    }
    if let Some(v) = c.jwt_configuration {
        client.jwt_configuration = v;
    }
    if let Some(v) = c.refresh_token {
        check_refresh_lifetimes(&v)?;
        client.refresh_token = v;
    }
    if let Some(v) = c.allow_plain_pkce {
        client.allow_plain_pkce = v;
    }
    if let Some(v) = c.token_endpoint_ip_header_trusted {
        client.token_endpoint_ip_header_trusted = v;
    }
    Ok(())
}

/// Refresh-token lifetimes are 1 second to one year (auth0-compat.md §2).
fn check_refresh_lifetimes(r: &RefreshTokenSettings) -> MgmtResult<()> {
    for (value, name) in [
        (r.token_lifetime, "token_lifetime"),
        (r.idle_token_lifetime, "idle_token_lifetime"),
    ] {
        if !(1..=MAX_REFRESH_TOKEN_LIFETIME).contains(&value) {
            return Err(ManagementError::invalid_body(format!(
                "Payload validation error: 'refresh_token.{name}' must be between 1 and \
                 {MAX_REFRESH_TOKEN_LIFETIME} seconds."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_refresh(r: RefreshTokenSettings) -> UpdateClient {
        UpdateClient {
            name: None,
            description: None,
            app_type: None,
            is_first_party: None,
            oidc_conformant: None,
            token_endpoint_auth_method: None,
            grant_types: None,
            callbacks: None,
            allowed_logout_urls: None,
            web_origins: None,
            allowed_origins: None,
            jwt_configuration: None,
            refresh_token: Some(r),
            allow_plain_pkce: None,
            token_endpoint_ip_header_trusted: None,
        }
    }

    #[test]
    fn refresh_token_lifetimes_are_a_second_to_a_year() {
        let mut client = Client::new("c", "App", AppType::Spa);
        let good = RefreshTokenSettings {
            token_lifetime: MAX_REFRESH_TOKEN_LIFETIME,
            idle_token_lifetime: 1,
            ..RefreshTokenSettings::for_spa()
        };
        assert!(apply(&mut client, with_refresh(good.clone())).is_ok());
        for bad in [
            RefreshTokenSettings {
                token_lifetime: 0,
                ..good.clone()
            },
            RefreshTokenSettings {
                token_lifetime: MAX_REFRESH_TOKEN_LIFETIME + 1,
                ..good.clone()
            },
            RefreshTokenSettings {
                idle_token_lifetime: 0,
                ..good.clone()
            },
        ] {
            let e = apply(&mut client, with_refresh(bad)).unwrap_err();
            assert!(e.message.contains("refresh_token."), "{}", e.message);
        }
        assert_eq!(client.refresh_token, good, "a refusal changes nothing");
    }
}
