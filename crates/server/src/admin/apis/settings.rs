//! An API's Settings tab: name, RBAC, "Add Permissions in the Access Token"
//! (the `_authz` token dialects), the token profile, the signing algorithm,
//! offline access, lifetimes and consent. The form is read into
//! [`SettingsForm`], checked value by value, then saved with
//! `resource_servers::update`.

use super::{header, load, load_editable, ALGORITHMS};
use crate::admin::changes;
use crate::admin::form::{AdminForm, FieldErrors, Fields};
use crate::admin::render::{self, page_with_status, AdminResult};
use crate::admin::session::Admin;
use crate::routes::management::extract::{MJson, MPath};
use crate::routes::management::resource_servers::{self, UpdateResourceServer};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::model::{ResourceServer, SigningAlg, TokenDialect, MAX_ACCESS_TOKEN_LIFETIME};
use minijinja::context;
use serde::Serialize;
use std::collections::HashMap;

/// The Settings form as shown: from the API, or as typed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SettingsForm {
    pub name: String,
    pub rbac: bool,
    pub add_permissions: bool,
    /// `auth0` or `rfc9068`.
    pub profile: String,
    pub signing_alg: String,
    pub allow_offline_access: bool,
    pub token_lifetime: String,
    pub token_lifetime_for_web: String,
    pub skip_consent: bool,
}

/// Whether a dialect puts `permissions` in the token.
pub fn adds_permissions(dialect: TokenDialect) -> bool {
    matches!(
        dialect,
        TokenDialect::AccessTokenAuthz | TokenDialect::Rfc9068ProfileAuthz
    )
}

/// The dialect of a token profile, with or without `permissions`.
pub fn dialect(rfc9068: bool, with_permissions: bool) -> TokenDialect {
    match (rfc9068, with_permissions) {
        (false, false) => TokenDialect::AccessToken,
        (false, true) => TokenDialect::AccessTokenAuthz,
        (true, false) => TokenDialect::Rfc9068Profile,
        (true, true) => TokenDialect::Rfc9068ProfileAuthz,
    }
}

impl SettingsForm {
    pub fn from_api(api: &ResourceServer) -> Self {
        let rfc9068 = matches!(
            api.token_dialect,
            TokenDialect::Rfc9068Profile | TokenDialect::Rfc9068ProfileAuthz
        );
        Self {
            name: api.name.clone(),
            rbac: api.enforce_policies,
            add_permissions: adds_permissions(api.token_dialect),
            profile: if rfc9068 { "rfc9068" } else { "auth0" }.into(),
            signing_alg: api.signing_alg.as_str().into(),
            allow_offline_access: api.allow_offline_access,
            token_lifetime: api.token_lifetime.to_string(),
            token_lifetime_for_web: api.token_lifetime_for_web.to_string(),
            skip_consent: api.skip_consent_for_verifiable_first_party_clients,
        }
    }

    pub fn from_fields(f: &Fields) -> Self {
        Self {
            name: f.text("name"),
            rbac: f.checked("rbac"),
            add_permissions: f.checked("add_permissions"),
            profile: f.text("profile"),
            signing_alg: f.text("signing_alg"),
            allow_offline_access: f.checked("allow_offline_access"),
            token_lifetime: f.text("token_lifetime"),
            token_lifetime_for_web: f.text("token_lifetime_for_web"),
            skip_consent: f.checked("skip_consent"),
        }
    }

    /// Every value checked, each bad one with its own message; then the
    /// Management API's update body.
    pub fn to_update(&self) -> Result<UpdateResourceServer, FieldErrors> {
        let mut errors = FieldErrors::default();
        if self.name.is_empty() {
            errors.add("name", "Give the API a name.");
        }
        let signing_alg = SigningAlg::parse(&self.signing_alg);
        if signing_alg.is_none() {
            errors.add("signing_alg", "Choose one of the listed algorithms.");
        }
        let rfc9068 = match self.profile.as_str() {
            "auth0" => false,
            "rfc9068" => true,
            _ => {
                errors.add("profile", "Choose Auth0 or RFC 9068.");
                false
            }
        };
        if self.add_permissions && !self.rbac {
            errors.add(
                "add_permissions",
                "Permissions are only added to the token when RBAC is on: enable RBAC too, or untick this.",
            );
        }
        let lifetime = seconds(&self.token_lifetime, MAX_ACCESS_TOKEN_LIFETIME)
            .map_err(|m| errors.add("token_lifetime", m))
            .ok();
        let web = seconds(&self.token_lifetime_for_web, MAX_ACCESS_TOKEN_LIFETIME)
            .map_err(|m| errors.add("token_lifetime_for_web", m))
            .ok();
        if let (Some(lifetime), Some(web)) = (lifetime, web) {
            if web > lifetime {
                errors.add(
                    "token_lifetime_for_web",
                    format!("At most the token lifetime ({lifetime} seconds)."),
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(UpdateResourceServer {
            identifier: None,
            name: Some(self.name.clone()),
            scopes: None,
            signing_alg,
            signing_secret: None,
            allow_offline_access: Some(self.allow_offline_access),
            skip_consent_for_verifiable_first_party_clients: Some(self.skip_consent),
            token_lifetime: lifetime,
            token_lifetime_for_web: web,
            enforce_policies: Some(self.rbac),
            token_dialect: Some(dialect(rfc9068, self.add_permissions)),
            subject_type_authorization: None,
        })
    }
}

/// A lifetime in whole seconds between 1 and `max`.
fn seconds(typed: &str, max: u64) -> Result<u64, String> {
    let n: u64 = typed
        .parse()
        .map_err(|_| "Enter a whole number of seconds, e.g. 86400 for one day.".to_string())?;
    if n == 0 || n > max {
        return Err(format!(
            "Between 1 and {max} seconds ({} days).",
            max / 86_400
        ));
    }
    Ok(n)
}

/// The `signing_alg` of a form, or its message.
pub fn algorithm(fields: &Fields, errors: &mut FieldErrors) -> Option<SigningAlg> {
    let alg = SigningAlg::parse(&fields.text("signing_alg"));
    if alg.is_none() {
        errors.add("signing_alg", "Choose one of the listed algorithms.");
    }
    alg
}

/// `GET /admin/apis/{id}`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> AdminResult {
    let api = load(&state, &id).await?;
    let form = SettingsForm::from_api(&api);
    let done = query.get("done").map(String::as_str);
    Ok(settings_page(
        &admin,
        StatusCode::OK,
        &api,
        &form,
        &FieldErrors::default(),
        done,
    ))
}

fn settings_page(
    admin: &Admin,
    status: StatusCode,
    api: &ResourceServer,
    form: &SettingsForm,
    errors: &FieldErrors,
    done: Option<&str>,
) -> Response {
    let example = api
        .scopes
        .first()
        .map_or("read:measurements", |s| s.value.as_str());
    page_with_status(
        status,
        admin,
        "apis",
        "apis_settings.html",
        context! {
            form => form,
            errors => errors,
            algorithms => ALGORITHMS,
            saved_rbac => api.enforce_policies,
            saved_permissions => adds_permissions(api.token_dialect),
            example_scope => example,
            ..header(api, "settings", done)
        },
    )
}

/// `POST /admin/apis/{id}`.
pub async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let api = load_editable(&state, &id).await?;
    let typed = SettingsForm::from_fields(&fields);
    let body = match typed.to_update() {
        Ok(body) => body,
        Err(errors) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(settings_page(&admin, status, &api, &typed, &errors, None));
        }
    };
    let result =
        resource_servers::update(State(state.clone()), MPath(api.id.clone()), MJson(body)).await;
    if let Err(e) = result {
        let errors = FieldErrors::from_management(
            &e,
            &[
                "name",
                "signing_alg",
                "token_lifetime",
                "token_lifetime_for_web",
            ],
        );
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(settings_page(&admin, status, &api, &typed, &errors, None));
    }
    changes::record(
        &state,
        &admin,
        "PATCH",
        &format!("/resource-servers/{}", api.id),
    )
    .await;
    Ok(render::see_other(&format!(
        "/admin/apis/{}?done=saved",
        api.id
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(body: &str) -> SettingsForm {
        SettingsForm::from_fields(&Fields::parse(body.as_bytes()))
    }

    const GOOD: &str = "name=M&rbac=on&add_permissions=on&profile=auth0&signing_alg=RS256&token_lifetime=86400&token_lifetime_for_web=7200";

    #[test]
    fn a_good_form_is_the_update_body() {
        let body = typed(GOOD).to_update().unwrap();
        assert_eq!(body.enforce_policies, Some(true));
        assert_eq!(body.token_dialect, Some(TokenDialect::AccessTokenAuthz));
        assert_eq!(body.token_lifetime, Some(86_400));
        assert_eq!(body.allow_offline_access, Some(false));
        let plain = typed(
            &GOOD
                .replace("add_permissions=on&", "")
                .replace("auth0", "rfc9068"),
        );
        assert_eq!(
            plain.to_update().unwrap().token_dialect,
            Some(TokenDialect::Rfc9068Profile)
        );
    }

    #[test]
    fn each_bad_value_has_its_own_message() {
        let bad = typed("name=&add_permissions=on&profile=x&signing_alg=none&token_lifetime=abc&token_lifetime_for_web=0");
        let errors = bad.to_update().unwrap_err();
        for field in [
            "name",
            "add_permissions",
            "profile",
            "signing_alg",
            "token_lifetime",
            "token_lifetime_for_web",
        ] {
            assert!(errors.fields.contains_key(field), "{field}: {errors:?}");
        }
        let longer = typed(&GOOD.replace("7200", "90000"))
            .to_update()
            .unwrap_err();
        assert!(longer.fields["token_lifetime_for_web"].contains("86400"));
        let too_long = typed(&GOOD.replace("86400", "2592001"))
            .to_update()
            .unwrap_err();
        assert!(too_long.fields["token_lifetime"].contains("30 days"));
    }

    #[test]
    fn an_api_reads_back_as_the_form_it_came_from() {
        let mut api = ResourceServer::new("id", "M", "https://m");
        api.enforce_policies = true;
        api.token_dialect = TokenDialect::Rfc9068ProfileAuthz;
        let form = SettingsForm::from_api(&api);
        assert!(form.rbac && form.add_permissions);
        assert_eq!(form.profile, "rfc9068");
        let body = form.to_update().unwrap();
        assert_eq!(body.token_dialect, Some(api.token_dialect));
    }
}
