//! Tenant settings in the dashboard: the default audience, audience
//! inference from scope, the SSO session lifetimes, and the signing keys
//! (list, rotate, revoke). Writes go through the Management API's handlers
//! (`tenants::update_settings`, `keys::rotate`, `keys::revoke`).

use super::applications::AdminPath;
use super::changes;
use super::form::{AdminForm, FieldErrors, Fields};
use super::render::{self, page_with_status, AdminError, AdminResult, Confirm};
use super::session::Admin;
use crate::routes::management::extract::{MJson, MPath};
use crate::routes::management::{keys, tenants};
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use gatehouse_core::model::{ResourceServer, TenantSettings};
use gatehouse_core::time::iso8601;
use gatehouse_store::{Page, StoredKey};
use minijinja::context;
use serde::Serialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/settings", get(show).post(save))
        .route(
            "/admin/settings/keys/rotate",
            get(confirm_rotate).post(rotate),
        )
        .route(
            "/admin/settings/keys/{kid}/revoke",
            get(confirm_revoke).post(revoke),
        )
}

/// The longest session lifetime the Management API accepts, in hours.
const MAX_HOURS: u64 = 8760;

/// The settings form's values, as stored or as typed.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsValues {
    pub default_audience: String,
    pub infer_audience_from_scope: bool,
    pub session_lifetime: String,
    pub idle_session_lifetime: String,
}

impl SettingsValues {
    pub fn of(s: &TenantSettings) -> Self {
        Self {
            default_audience: s.default_audience.clone().unwrap_or_default(),
            infer_audience_from_scope: s.infer_audience_from_scope,
            session_lifetime: s.session_lifetime.to_string(),
            idle_session_lifetime: s.idle_session_lifetime.to_string(),
        }
    }

    pub fn typed(f: &Fields) -> Self {
        Self {
            default_audience: f.text("default_audience"),
            infer_audience_from_scope: f.checked("infer_audience_from_scope"),
            session_lifetime: f.text("session_lifetime"),
            idle_session_lifetime: f.text("idle_session_lifetime"),
        }
    }
}

/// The form checked: the `PATCH /tenants/settings` body. `audiences` are
/// the identifiers a default audience may name.
pub fn settings_update(
    v: &SettingsValues,
    audiences: &[String],
) -> Result<tenants::UpdateSettings, FieldErrors> {
    let mut errors = FieldErrors::default();
    if !v.default_audience.is_empty() && !audiences.contains(&v.default_audience) {
        errors.add("default_audience", "Choose one of your APIs, or none.");
    }
    let session = hours(&v.session_lifetime, "session_lifetime", &mut errors);
    let idle = hours(
        &v.idle_session_lifetime,
        "idle_session_lifetime",
        &mut errors,
    );
    if let (Some(session), Some(idle)) = (session, idle) {
        if idle > session {
            errors.add(
                "idle_session_lifetime",
                "The idle lifetime cannot be longer than the session lifetime.",
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(tenants::UpdateSettings {
        friendly_name: None,
        default_audience: Some(v.default_audience.clone()),
        infer_audience_from_scope: Some(v.infer_audience_from_scope),
        default_directory: None,
        session_lifetime: session,
        idle_session_lifetime: idle,
        allowed_logout_urls: None,
        flags: None,
        rate_limits: None,
    })
}

fn hours(text: &str, field: &str, errors: &mut FieldErrors) -> Option<u64> {
    match text.parse::<u64>() {
        Ok(v) if (1..=MAX_HOURS).contains(&v) => Some(v),
        _ => {
            errors.add(
                field,
                format!("Enter a whole number of hours from 1 to {MAX_HOURS} (one year)."),
            );
            None
        }
    }
}

/// A signing key as the table shows it.
#[derive(Debug, Serialize)]
struct KeyView {
    kid: String,
    alg: &'static str,
    state: String,
    created: String,
    changed: String,
    revocable: bool,
}

fn state_rank(state: &str) -> u8 {
    match state {
        "current" => 0,
        "next" => 1,
        "previous" => 2,
        _ => 3,
    }
}

fn key_views(mut keys: Vec<StoredKey>) -> Vec<KeyView> {
    keys.sort_by(|a, b| {
        (state_rank(&a.state), a.alg, -a.state_changed_at).cmp(&(
            state_rank(&b.state),
            b.alg,
            -b.state_changed_at,
        ))
    });
    keys.into_iter()
        .map(|k| KeyView {
            revocable: k.state == "previous",
            alg: k.alg.as_str(),
            created: readable_time(k.created_at),
            changed: readable_time(k.state_changed_at),
            kid: k.kid,
            state: k.state,
        })
        .collect()
}

/// `2026-12-07T13:10:38.000Z` as `2026-12-07 13:10 UTC`.
fn readable_time(epoch: i64) -> String {
    let iso = iso8601(epoch);
    match (iso.get(..10), iso.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => iso,
    }
}

fn done_notice(query: &Option<String>) -> Option<&'static str> {
    Some(
        match super::applications::param(query, "done")?.as_str() {
            "saved" => "Settings saved.",
            "rotated" => "Keys rotated: new tokens are signed with the new key; the old one stays published until you revoke it.",
            "revoked" => "Key revoked: it left the JWKS, and tokens it signed no longer verify.",
            _ => return None,
        },
    )
}

async fn apis(state: &AppState) -> Result<Vec<ResourceServer>, AdminError> {
    Ok(state.store().resource_servers(Page::ALL).await?)
}

async fn render_page(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    typed: Option<(SettingsValues, FieldErrors)>,
    notice: Option<&'static str>,
) -> AdminResult {
    let settings = state.store().tenant_settings().await?;
    let (values, errors) =
        typed.unwrap_or_else(|| (SettingsValues::of(&settings), FieldErrors::default()));
    let mut options = vec![(
        String::new(),
        "None: a request must name its API".to_string(),
    )];
    for api in apis(state).await? {
        if !api.is_system || settings.default_audience.as_deref() == Some(&api.identifier) {
            options.push((
                api.identifier.clone(),
                format!("{} ({})", api.name, api.identifier),
            ));
        }
    }
    let keys = key_views(state.store().signing_keys().await?);
    Ok(page_with_status(
        status,
        admin,
        "settings",
        "settings.html",
        context! { values, errors, options, keys, notice },
    ))
}

/// `GET /admin/settings`.
async fn show(State(state): State<AppState>, admin: Admin, RawQuery(q): RawQuery) -> AdminResult {
    render_page(&state, &admin, StatusCode::OK, None, done_notice(&q)).await
}

/// `POST /admin/settings`.
async fn save(State(state): State<AppState>, form: AdminForm) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let values = SettingsValues::typed(&fields);
    let audiences: Vec<String> = apis(&state)
        .await?
        .into_iter()
        .map(|a| a.identifier)
        .collect();
    let refused = |errors| Some((values.clone(), errors));
    let body = match settings_update(&values, &audiences) {
        Ok(body) => body,
        Err(errors) => {
            return render_page(
                &state,
                &admin,
                StatusCode::UNPROCESSABLE_ENTITY,
                refused(errors),
                None,
            )
            .await
        }
    };
    if let Err(e) = tenants::update_settings(State(state.clone()), MJson(body)).await {
        let errors = FieldErrors::from_management(
            &e,
            &[
                "default_audience",
                "session_lifetime",
                "idle_session_lifetime",
            ],
        );
        return render_page(
            &state,
            &admin,
            StatusCode::UNPROCESSABLE_ENTITY,
            refused(errors),
            None,
        )
        .await;
    }
    changes::record(&state, &admin, "PATCH", "/tenants/settings").await;
    Ok(render::see_other("/admin/settings?done=saved"))
}

/// `GET /admin/settings/keys/rotate`: asks first.
async fn confirm_rotate(admin: Admin) -> AdminResult {
    Ok(render::confirm(
        &admin,
        Confirm {
            section: "settings",
            title: "Rotate the signing keys?",
            message: "The next key becomes current and signs every new token; the current key \
                      becomes previous and stays in the JWKS, so tokens it signed keep verifying \
                      until you revoke it. APIs that cache the JWKS pick up the new key when they \
                      refetch it."
                .to_string(),
            action: "/admin/settings/keys/rotate".to_string(),
            button: "Rotate keys",
            back: "/admin/settings#keys".to_string(),
        },
    ))
}

/// `POST /admin/settings/keys/rotate`.
async fn rotate(State(state): State<AppState>, form: AdminForm) -> AdminResult {
    let _new_key = keys::rotate(State(state.clone())).await?;
    changes::record(&state, &form.admin, "POST", "/keys/signing/rotate").await;
    Ok(render::see_other("/admin/settings?done=rotated#keys"))
}

/// The `previous` key `kid`, or the 404 page (other keys cannot be revoked).
async fn previous_key(state: &AppState, kid: &str) -> Result<StoredKey, AdminError> {
    state
        .store()
        .signing_keys()
        .await?
        .into_iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| AdminError::not_found("This signing key"))
        .and_then(|k| {
            if k.state == "previous" {
                Ok(k)
            } else {
                Err(AdminError::new(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "Only a previous key can be revoked; this key is {}.",
                        k.state
                    ),
                ))
            }
        })
}

/// `GET /admin/settings/keys/{kid}/revoke`: asks first.
async fn confirm_revoke(
    State(state): State<AppState>,
    admin: Admin,
    AdminPath(kid): AdminPath<String>,
) -> AdminResult {
    let key = previous_key(&state, &kid).await?;
    Ok(render::confirm(
        &admin,
        Confirm {
            section: "settings",
            title: "Revoke this signing key?",
            message: format!(
                "Key {} ({}) leaves the JWKS. Every token it signed stops verifying at once, \
                 including refresh-issued access tokens that have not expired yet.",
                key.kid,
                key.alg.as_str()
            ),
            action: format!("/admin/settings/keys/{}/revoke", key.kid),
            button: "Revoke key",
            back: "/admin/settings#keys".to_string(),
        },
    ))
}

/// `POST /admin/settings/keys/{kid}/revoke`.
async fn revoke(
    State(state): State<AppState>,
    AdminPath(kid): AdminPath<String>,
    form: AdminForm,
) -> AdminResult {
    let key = previous_key(&state, &kid).await?;
    let _revoked = keys::revoke(State(state.clone()), MPath(key.kid.clone())).await?;
    changes::record(
        &state,
        &form.admin,
        "PUT",
        &format!("/keys/signing/{}/revoke", key.kid),
    )
    .await;
    Ok(render::see_other("/admin/settings?done=revoked#keys"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(aud: &str, session: &str, idle: &str) -> SettingsValues {
        SettingsValues {
            default_audience: aud.into(),
            infer_audience_from_scope: true,
            session_lifetime: session.into(),
            idle_session_lifetime: idle.into(),
        }
    }

    #[test]
    fn good_settings_become_an_update() {
        let apis = ["https://api".to_string()];
        let body = settings_update(&values("https://api", "72", "24"), &apis).unwrap();
        assert_eq!(body.session_lifetime, Some(72));
        assert_eq!(body.default_audience.as_deref(), Some("https://api"));
        let cleared = settings_update(&values("", "72", "72"), &apis).unwrap();
        assert_eq!(cleared.default_audience.as_deref(), Some(""));
    }

    #[test]
    fn each_bad_value_is_named() {
        let errors = settings_update(&values("https://nope", "-1", "9000"), &[]).unwrap_err();
        for f in [
            "default_audience",
            "session_lifetime",
            "idle_session_lifetime",
        ] {
            assert!(errors.fields.contains_key(f), "{f}");
        }
        let errors = settings_update(&values("", "10", "20"), &[]).unwrap_err();
        assert!(errors.fields["idle_session_lifetime"].contains("longer"));
    }

    #[test]
    fn times_read_as_minutes() {
        assert_eq!(readable_time(0), "1970-01-01 00:00 UTC");
    }
}
