//! `/api/v2/email-templates`: the Liquid templates of the mails Gatehouse
//! sends (`verify_email`, `reset_email`, `welcome_email`), in Auth0's shape.
//! Reading one that was never written gives Gatehouse's default; a write is
//! checked (Liquid that parses, bounded sizes, a sender address, an absolute
//! `resultUrl`) before anything is stored.

use super::error::{ManagementError, MgmtResult};
use super::extract::{MJson, MPath};
use crate::email::settings;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use gatehouse_mail::templates::{self, EmailTemplate, NAMES};
use serde::{Deserialize, Deserializer, Serialize};

/// The longest `urlLifetimeInSeconds`: 30 days, as in Auth0.
const MAX_URL_LIFETIME: i64 = 2_592_000;
const MAX_FROM_LEN: usize = 320;

/// A template as Auth0 shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateView {
    /// `verify_email`, `reset_email` or `welcome_email`.
    pub template: String,
    /// Liquid HTML.
    pub body: String,
    /// The sender; empty for the provider's or the server's default.
    pub from: String,
    /// Liquid text.
    pub subject: String,
    /// Always `liquid`.
    pub syntax: String,
    pub result_url: Option<String>,
    pub url_lifetime_in_seconds: Option<i64>,
    pub include_email_in_redirect: bool,
    pub enabled: bool,
}

impl From<EmailTemplate> for TemplateView {
    fn from(t: EmailTemplate) -> Self {
        Self {
            template: t.template,
            body: t.body,
            from: t.from,
            subject: t.subject,
            syntax: t.syntax,
            result_url: t.result_url,
            url_lifetime_in_seconds: t.url_lifetime_in_seconds,
            include_email_in_redirect: t.include_email_in_redirect,
            enabled: t.enabled,
        }
    }
}

/// The fields of a write; `PATCH` changes those given, `PUT` and `POST`
/// start from Gatehouse's default. `null` clears `resultUrl` and
/// `urlLifetimeInSeconds`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TemplateBody {
    /// Required by `POST`; elsewhere it must match the path.
    pub template: Option<String>,
    pub body: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    /// Only `liquid`.
    pub syntax: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub result_url: Option<Option<String>>,
    /// 1 to 2592000.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub url_lifetime_in_seconds: Option<Option<i64>>,
    pub include_email_in_redirect: Option<bool>,
    pub enabled: Option<bool>,
}

/// Tells a field set to `null` (`Some(None)`) from one left out (`None`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

fn missing_template() -> ManagementError {
    ManagementError::not_found(
        "The email template does not exist.",
        "inexistent_email_template",
    )
}

/// The path's template name, when it is one Gatehouse sends.
fn known(name: &str) -> MgmtResult<&str> {
    NAMES
        .iter()
        .copied()
        .find(|n| *n == name)
        .ok_or_else(missing_template)
}

pub async fn get_one(
    State(state): State<AppState>,
    MPath(name): MPath<String>,
) -> MgmtResult<Json<TemplateView>> {
    let name = known(&name)?;
    let template = settings::template(&state, name)
        .await?
        .ok_or_else(missing_template)?;
    Ok(Json(template.into()))
}

pub async fn update(
    State(state): State<AppState>,
    MPath(name): MPath<String>,
    MJson(body): MJson<TemplateBody>,
) -> MgmtResult<Json<TemplateView>> {
    let name = known(&name)?;
    let current = settings::template(&state, name)
        .await?
        .ok_or_else(missing_template)?;
    let template = apply(current, body, name)?;
    settings::put_template(&state, &template).await?;
    Ok(Json(template.into()))
}

pub async fn replace(
    State(state): State<AppState>,
    MPath(name): MPath<String>,
    MJson(body): MJson<TemplateBody>,
) -> MgmtResult<Json<TemplateView>> {
    let name = known(&name)?;
    require_content(&body)?;
    let template = apply(default_of(name)?, body, name)?;
    settings::put_template(&state, &template).await?;
    Ok(Json(template.into()))
}

pub async fn create(
    State(state): State<AppState>,
    MJson(body): MJson<TemplateBody>,
) -> MgmtResult<Json<TemplateView>> {
    let Some(name) = body.template.as_deref() else {
        return Err(ManagementError::invalid_body(
            "Payload validation error: 'Missing required property: template'.",
        ));
    };
    let name = NAMES.iter().copied().find(|n| *n == name).ok_or_else(|| {
        ManagementError::invalid_body(format!(
            "Payload validation error: 'template' must be one of {}.",
            NAMES.join(", ")
        ))
    })?;
    require_content(&body)?;
    let template = apply(default_of(name)?, body, name)?;
    if !settings::create_template(&state, &template).await? {
        return Err(ManagementError::conflict(
            format!("The email template {name} already exists."),
            "email_template_conflict",
        ));
    }
    Ok(Json(template.into()))
}

fn default_of(name: &str) -> MgmtResult<EmailTemplate> {
    templates::default_template(name).ok_or_else(missing_template)
}

/// `PUT` and `POST` carry the template's content.
fn require_content(body: &TemplateBody) -> MgmtResult<()> {
    for (field, value) in [("body", &body.body), ("subject", &body.subject)] {
        if value.is_none() {
            return Err(ManagementError::invalid_body(format!(
                "Payload validation error: 'Missing required property: {field}'."
            )));
        }
    }
    Ok(())
}

/// `current` with the fields of `body`, checked.
fn apply(mut t: EmailTemplate, body: TemplateBody, name: &str) -> MgmtResult<EmailTemplate> {
    if body.template.as_deref().is_some_and(|given| given != name) {
        return Err(ManagementError::invalid_body(format!(
            "Payload validation error: 'template' must be {name:?}, the template of the path."
        )));
    }
    if let Some(v) = body.body {
        t.body = v;
    }
    if let Some(v) = body.from {
        t.from = v.trim().to_string();
    }
    if let Some(v) = body.subject {
        t.subject = v;
    }
    if let Some(v) = body.syntax {
        t.syntax = v;
    }
    if let Some(v) = body.result_url {
        t.result_url = v.filter(|u| !u.is_empty());
    }
    if let Some(v) = body.url_lifetime_in_seconds {
        t.url_lifetime_in_seconds = v;
    }
    if let Some(v) = body.include_email_in_redirect {
        t.include_email_in_redirect = v;
    }
    if let Some(v) = body.enabled {
        t.enabled = v;
    }
    validate(&t)?;
    Ok(t)
}

fn validate(t: &EmailTemplate) -> MgmtResult<()> {
    let invalid =
        |m: String| ManagementError::invalid_body(format!("Payload validation error: {m}"));
    if t.syntax != "liquid" {
        return Err(invalid("'syntax' must be \"liquid\".".into()));
    }
    if !t.from.is_empty() {
        if t.from.len() > MAX_FROM_LEN {
            return Err(invalid(format!(
                "'from' is longer than {MAX_FROM_LEN} characters."
            )));
        }
        gatehouse_mail::check_address(&t.from).map_err(|e| invalid(format!("'from': {e}.")))?;
    }
    if let Some(url) = &t.result_url {
        if !super::tickets::is_http_url(url) {
            return Err(invalid(
                "'resultUrl' must be an absolute http or https URL.".into(),
            ));
        }
    }
    if let Some(seconds) = t.url_lifetime_in_seconds {
        if !(1..=MAX_URL_LIFETIME).contains(&seconds) {
            return Err(invalid(format!(
                "'urlLifetimeInSeconds' must be between 1 and {MAX_URL_LIFETIME}."
            )));
        }
    }
    templates::check(t).map_err(|e| {
        ManagementError::invalid_body(format!("The template is not valid Liquid: {e}"))
    })
}
