//! `/api/v2/emails/provider`: the tenant's SMTP server, which takes
//! precedence over the node's `--smtp-url` while it is enabled.
//!
//! Only Auth0's `smtp` provider exists here. `credentials.smtp_pass` is
//! write-only: sealed under the master key when written, never answered.
//! Pointing the stored credentials at another host, port or user needs the
//! password again, so an API client that may update the provider but does
//! not know the password cannot have Gatehouse hand it to a server of its
//! choosing.

use super::error::{ManagementError, MgmtResult};
use super::extract::{MJson, MQuery};
use super::render::FieldsQuery;
use crate::email::settings::{self, EmailProvider, SMTP_PROVIDER};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gatehouse_mail::SmtpSettings;
use serde::{Deserialize, Serialize};
use serde_json::Value;

const DEFAULT_PORT: u16 = 587;
const MAX_USER_LEN: usize = 256;
const MAX_PASSWORD_LEN: usize = 1024;
const MAX_FROM_LEN: usize = 320;

/// The provider as Auth0 shows it (never the password).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProviderView {
    /// Always `smtp`.
    pub name: String,
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_from_address: Option<String>,
    pub credentials: CredentialsView,
}

/// The SMTP server; the password is write-only and never shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CredentialsView {
    pub smtp_host: String,
    pub smtp_port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_user: Option<String>,
}

impl From<&EmailProvider> for ProviderView {
    fn from(p: &EmailProvider) -> Self {
        Self {
            name: SMTP_PROVIDER.into(),
            enabled: p.enabled,
            default_from_address: p.default_from_address.clone(),
            credentials: CredentialsView {
                smtp_host: p.smtp_host.clone(),
                smtp_port: p.smtp_port,
                smtp_user: p.smtp_user.clone(),
            },
        }
    }
}

/// `POST /emails/provider`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProvider {
    /// Only `smtp`.
    pub name: String,
    /// Default `true`.
    pub enabled: Option<bool>,
    pub default_from_address: Option<String>,
    #[schema(value_type = CredentialsBody)]
    pub credentials: Value,
    /// Accepted and ignored (Auth0's provider-specific settings).
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
}

/// `PATCH /emails/provider`: any subset; `credentials` merge into the stored ones.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProvider {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    /// An empty string clears it.
    pub default_from_address: Option<String>,
    #[schema(value_type = Option<CredentialsBody>)]
    pub credentials: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
}

/// The SMTP credentials of a write.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsBody {
    /// Required when creating.
    pub smtp_host: Option<String>,
    /// Default 587 (STARTTLS); 465 is TLS from the first byte.
    pub smtp_port: Option<u16>,
    /// An empty string clears it (and the password).
    pub smtp_user: Option<String>,
    /// Write-only. Required to change the host, port or user of stored credentials.
    pub smtp_pass: Option<String>,
}

fn invalid(message: impl std::fmt::Display) -> ManagementError {
    ManagementError::invalid_body(format!("Payload validation error: {message}"))
}

fn missing_provider() -> ManagementError {
    ManagementError::not_found(
        "There is no configured email provider",
        "inexistent_email_provider",
    )
}

pub async fn get_one(
    State(state): State<AppState>,
    MQuery(fields): MQuery<FieldsQuery>,
) -> MgmtResult<Json<Value>> {
    let provider = settings::provider(&state)
        .await?
        .ok_or_else(missing_provider)?;
    let view =
        serde_json::to_value(ProviderView::from(&provider)).map_err(ManagementError::internal)?;
    Ok(Json(fields.project(view)))
}

pub async fn create(
    State(state): State<AppState>,
    MJson(body): MJson<CreateProvider>,
) -> MgmtResult<(StatusCode, Json<ProviderView>)> {
    check_name(&body.name)?;
    let credentials = parse_credentials(body.credentials)?;
    let Some(host) = credentials.smtp_host.as_deref() else {
        return Err(invalid(
            "'Missing required property: credentials.smtp_host'.",
        ));
    };
    let mut provider = EmailProvider {
        enabled: body.enabled.unwrap_or(true),
        default_from_address: None,
        smtp_host: check_host(host)?,
        smtp_port: check_port(credentials.smtp_port.unwrap_or(DEFAULT_PORT))?,
        smtp_user: None,
        smtp_pass_sealed: None,
    };
    set_from(&mut provider, body.default_from_address)?;
    set_login(
        &state,
        &mut provider,
        credentials.smtp_user,
        credentials.smtp_pass,
    )?;
    if !settings::create_provider(&state, &provider).await? {
        return Err(ManagementError::conflict(
            "An email provider is already configured.",
            "email_provider_conflict",
        ));
    }
    Ok((StatusCode::CREATED, Json(ProviderView::from(&provider))))
}

pub async fn update(
    State(state): State<AppState>,
    MJson(body): MJson<UpdateProvider>,
) -> MgmtResult<Json<ProviderView>> {
    if let Some(name) = &body.name {
        check_name(name)?;
    }
    let credentials = body.credentials.map(parse_credentials).transpose()?;
    let current = settings::provider(&state)
        .await?
        .ok_or_else(missing_provider)?;
    let mut provider = current.clone();
    if let Some(enabled) = body.enabled {
        provider.enabled = enabled;
    }
    if body.default_from_address.is_some() {
        set_from(&mut provider, body.default_from_address)?;
    }
    if let Some(c) = credentials {
        if let Some(host) = &c.smtp_host {
            provider.smtp_host = check_host(host)?;
        }
        if let Some(port) = c.smtp_port {
            provider.smtp_port = check_port(port)?;
        }
        let user = c.smtp_user.or_else(|| current.smtp_user.clone());
        match c.smtp_pass {
            Some(pass) => set_login(&state, &mut provider, user, Some(pass))?,
            None => {
                provider.smtp_user = check_user(user)?;
                if provider.smtp_user.is_none() {
                    provider.smtp_pass_sealed = None;
                }
            }
        }
        let moved = provider.smtp_host != current.smtp_host
            || provider.smtp_port != current.smtp_port
            || provider.smtp_user != current.smtp_user;
        if moved
            && provider.smtp_pass_sealed.is_some()
            && provider.smtp_pass_sealed == current.smtp_pass_sealed
        {
            return Err(invalid(
                "'credentials.smtp_pass' is required to change the host, port or user of the stored credentials.",
            ));
        }
    }
    settings::put_provider(&state, &provider).await?;
    Ok(Json(ProviderView::from(&provider)))
}

pub async fn delete(State(state): State<AppState>) -> MgmtResult<StatusCode> {
    if settings::provider(&state).await?.is_none() {
        return Err(missing_provider());
    }
    settings::delete_provider(&state).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn check_name(name: &str) -> MgmtResult<()> {
    if name == SMTP_PROVIDER {
        return Ok(());
    }
    Err(invalid(format!(
        "'name' must be \"{SMTP_PROVIDER}\": Gatehouse sends mail over SMTP only."
    )))
}

fn parse_credentials(value: Value) -> MgmtResult<CredentialsBody> {
    if !value.is_object() {
        return Err(invalid("'credentials' must be an object."));
    }
    serde_json::from_value(value).map_err(|e| {
        let text = e.to_string();
        match text.strip_prefix("unknown field `") {
            Some(rest) => invalid(format!(
                "'Additional properties not allowed: credentials.{}'.",
                rest.split('`').next().unwrap_or(rest)
            )),
            None => invalid(format!("'credentials': {text}.")),
        }
    })
}

fn check_host(host: &str) -> MgmtResult<String> {
    SmtpSettings::check_host(host.trim())
        .map_err(|e| invalid(format!("'credentials.smtp_host': {}.", e.0)))
}

fn check_port(port: u16) -> MgmtResult<u16> {
    if port == 0 {
        return Err(invalid(
            "'credentials.smtp_port' must be between 1 and 65535.",
        ));
    }
    Ok(port)
}

/// A user name: `None` for none (an empty string clears it).
fn check_user(user: Option<String>) -> MgmtResult<Option<String>> {
    let Some(user) = user.filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    if user.len() > MAX_USER_LEN || user.chars().any(char::is_control) {
        return Err(invalid(format!(
            "'credentials.smtp_user' must be at most {MAX_USER_LEN} characters, without control characters."
        )));
    }
    Ok(Some(user))
}

/// Sets the user and password (sealed); a password needs a user.
fn set_login(
    state: &AppState,
    provider: &mut EmailProvider,
    user: Option<String>,
    pass: Option<String>,
) -> MgmtResult<()> {
    provider.smtp_user = check_user(user)?;
    let pass = pass.filter(|p| !p.is_empty());
    if let Some(pass) = &pass {
        if pass.len() > MAX_PASSWORD_LEN {
            return Err(invalid(format!(
                "'credentials.smtp_pass' is longer than {MAX_PASSWORD_LEN} bytes."
            )));
        }
        if provider.smtp_user.is_none() {
            return Err(invalid(
                "'credentials.smtp_pass' needs 'credentials.smtp_user'.",
            ));
        }
    }
    provider.smtp_pass_sealed =
        pass.map(|p| settings::seal_password(state.keys().master_key(), &p));
    Ok(())
}

/// Sets the default sender; an empty string clears it.
fn set_from(provider: &mut EmailProvider, from: Option<String>) -> MgmtResult<()> {
    let from = from.map(|f| f.trim().to_string()).filter(|f| !f.is_empty());
    if let Some(address) = &from {
        if address.len() > MAX_FROM_LEN {
            return Err(invalid(format!(
                "'default_from_address' is longer than {MAX_FROM_LEN} characters."
            )));
        }
        gatehouse_mail::check_address(address)
            .map_err(|e| invalid(format!("'default_from_address': {e}.")))?;
    }
    provider.default_from_address = from;
    Ok(())
}
