//! `/api/v2/tenants/settings`: tenant-wide settings, including Gatehouse's
//! `infer_audience_from_scope` and Auth0's `default_audience` (SPEC.md story 2)
//! and Gatehouse's `rate_limits`.

use super::error::{ManagementError, MgmtResult};
use super::extract::{MJson, MQuery};
use super::render::FieldsQuery;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use gatehouse_core::model::{RateLimits, TenantSettings, DEFAULT_CONNECTION};
use serde::Deserialize;
use serde_json::Value;

/// `PATCH /tenants/settings`: any subset of the settings.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSettings {
    pub friendly_name: Option<String>,
    /// An empty string clears it, as in Auth0.
    pub default_audience: Option<String>,
    pub infer_audience_from_scope: Option<bool>,
    pub default_directory: Option<String>,
    pub session_lifetime: Option<u64>,
    pub idle_session_lifetime: Option<u64>,
    pub allowed_logout_urls: Option<Vec<String>>,
    pub flags: Option<UpdateFlags>,
    pub rate_limits: Option<UpdateRateLimits>,
}

/// `rate_limits` in `PATCH /tenants/settings` (a Gatehouse extension): any
/// subset; windows are 1 to 86400 seconds, limits 1 to 1000000 per window.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRateLimits {
    pub enabled: Option<bool>,
    pub window_seconds: Option<u32>,
    pub failed_logins_per_ip: Option<u32>,
    pub failed_logins_per_account: Option<u32>,
    pub signups_per_ip: Option<u32>,
    pub management_requests_per_client: Option<u32>,
    pub emails_per_ip: Option<u32>,
    pub emails_per_address: Option<u32>,
}

impl UpdateRateLimits {
    fn apply(self, limits: &mut RateLimits) -> Result<(), ManagementError> {
        if let Some(v) = self.enabled {
            limits.enabled = v;
        }
        let ranged = [
            (
                &mut limits.window_seconds,
                self.window_seconds,
                "window_seconds",
                86_400,
            ),
            (
                &mut limits.failed_logins_per_ip,
                self.failed_logins_per_ip,
                "failed_logins_per_ip",
                1_000_000,
            ),
            (
                &mut limits.failed_logins_per_account,
                self.failed_logins_per_account,
                "failed_logins_per_account",
                1_000_000,
            ),
            (
                &mut limits.signups_per_ip,
                self.signups_per_ip,
                "signups_per_ip",
                1_000_000,
            ),
            (
                &mut limits.management_requests_per_client,
                self.management_requests_per_client,
                "management_requests_per_client",
                1_000_000,
            ),
            (
                &mut limits.emails_per_ip,
                self.emails_per_ip,
                "emails_per_ip",
                1_000_000,
            ),
            (
                &mut limits.emails_per_address,
                self.emails_per_address,
                "emails_per_address",
                1_000_000,
            ),
        ];
        for (target, value, name, max) in ranged {
            if let Some(v) = value {
                if v == 0 || v > max {
                    return Err(ManagementError::invalid_body(format!(
                        "Payload validation error: 'rate_limits.{name}' must be between 1 and {max}."
                    )));
                }
                *target = v;
            }
        }
        Ok(())
    }
}

/// `flags` in `PATCH /tenants/settings`: the flags Gatehouse acts on.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFlags {
    pub rp_logout_end_session_endpoint_discovery: Option<bool>,
    pub enable_public_signup_user_exists_error: Option<bool>,
}

pub async fn get_settings(
    State(state): State<AppState>,
    MQuery(fields): MQuery<FieldsQuery>,
) -> MgmtResult<Json<Value>> {
    let settings = state.store().tenant_settings().await?;
    Ok(Json(fields.project(
        serde_json::to_value(settings).unwrap_or(Value::Null),
    )))
}

pub async fn update_settings(
    State(state): State<AppState>,
    MJson(body): MJson<UpdateSettings>,
) -> MgmtResult<Json<TenantSettings>> {
    let mut s = state.store().tenant_settings().await?;
    if let Some(v) = body.friendly_name {
        s.friendly_name = v;
    }
    if let Some(v) = body.default_audience {
        s.default_audience = Some(v).filter(|a| !a.is_empty());
    }
    if let Some(v) = body.infer_audience_from_scope {
        s.infer_audience_from_scope = v;
    }
    if let Some(v) = body.default_directory {
        if v != DEFAULT_CONNECTION {
            return Err(ManagementError::invalid_body(format!(
                "The connection does not exist: {v:?} (the only database connection is {DEFAULT_CONNECTION:?})."
            )));
        }
        s.default_directory = v;
    }
    for (target, value, name) in [
        (
            &mut s.session_lifetime,
            body.session_lifetime,
            "session_lifetime",
        ),
        (
            &mut s.idle_session_lifetime,
            body.idle_session_lifetime,
            "idle_session_lifetime",
        ),
    ] {
        if let Some(v) = value {
            if v == 0 || v > 8760 {
                return Err(ManagementError::invalid_body(format!(
                    "Payload validation error: '{name}' must be between 1 and 8760 hours."
                )));
            }
            *target = v;
        }
    }
    if let Some(v) = body.allowed_logout_urls {
        s.allowed_logout_urls = v;
    }
    if let Some(flags) = body.flags {
        if let Some(v) = flags.rp_logout_end_session_endpoint_discovery {
            s.flags.rp_logout_end_session_endpoint_discovery = v;
        }
        if let Some(v) = flags.enable_public_signup_user_exists_error {
            s.flags.enable_public_signup_user_exists_error = v;
        }
    }
    if let Some(v) = body.rate_limits {
        v.apply(&mut s.rate_limits)?;
    }
    state.store().put_tenant_settings(&s).await?;
    Ok(Json(s))
}
