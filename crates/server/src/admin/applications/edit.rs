//! The application forms as data: what each form shows, and checking what
//! was typed before anything is written. Pure functions; the handlers in
//! [`super`] call the Management API with what these produce.

use crate::admin::form::{FieldErrors, Fields};
use crate::routes::management::clients::{CreateClient, UpdateClient};
use gatehouse_core::model::{
    AppType, Client, ExpirationType, RotationType, MAX_REFRESH_TOKEN_LIFETIME,
};
use gatehouse_core::request;
use serde::Serialize;

/// The four kinds of application, in the order the create form offers them.
pub const APP_TYPES: [AppType; 4] = [
    AppType::Spa,
    AppType::RegularWeb,
    AppType::Native,
    AppType::NonInteractive,
];

/// The API name of a type (`spa`, `regular_web`, …).
pub fn type_key(t: AppType) -> &'static str {
    match t {
        AppType::Spa => "spa",
        AppType::Native => "native",
        AppType::RegularWeb => "regular_web",
        AppType::NonInteractive => "non_interactive",
    }
}

pub fn type_label(t: AppType) -> &'static str {
    match t {
        AppType::Spa => "Single-page app",
        AppType::Native => "Native",
        AppType::RegularWeb => "Regular web app",
        AppType::NonInteractive => "Machine to machine",
    }
}

pub fn type_description(t: AppType) -> &'static str {
    match t {
        AppType::Spa => "Runs in the browser: Angular, React, Vue. No secret; code flow with PKCE.",
        AppType::Native => "Mobile or desktop apps. No secret; code flow with PKCE.",
        AppType::RegularWeb => "Server-rendered web apps that keep a client secret.",
        AppType::NonInteractive => "Scripts, daemons and backends calling an API as themselves.",
    }
}

pub fn parse_type(key: &str) -> Option<AppType> {
    APP_TYPES.into_iter().find(|t| type_key(*t) == key)
}

/// A type card on the create form.
#[derive(Debug, Serialize)]
pub struct TypeChoice {
    pub key: &'static str,
    pub label: &'static str,
    pub description: &'static str,
}

pub fn type_choices() -> Vec<TypeChoice> {
    APP_TYPES
        .into_iter()
        .map(|t| TypeChoice {
            key: type_key(t),
            label: type_label(t),
            description: type_description(t),
        })
        .collect()
}

/// The create form checked: the Management API's `POST /clients` body.
pub fn new_application(fields: &Fields) -> Result<CreateClient, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = fields.text("name");
    check_name(&name, &mut errors);
    let app_type = parse_type(&fields.text("app_type"));
    if app_type.is_none() {
        errors.add("app_type", "Choose the kind of application.");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CreateClient {
        name,
        description: None,
        app_type,
        is_first_party: None,
        oidc_conformant: None,
        token_endpoint_auth_method: None,
        grant_types: None,
        callbacks: None,
        allowed_logout_urls: None,
        web_origins: None,
        allowed_origins: None,
        jwt_configuration: None,
        refresh_token: None,
        allow_plain_pkce: None,
        token_endpoint_ip_header_trusted: None,
    })
}

const MAX_NAME: usize = 100;
/// Auth0's limit for a client's description.
const MAX_DESCRIPTION: usize = 140;

fn check_name(name: &str, errors: &mut FieldErrors) {
    if name.is_empty() {
        errors.add("name", "Enter a name.");
    } else if name.chars().count() > MAX_NAME {
        errors.add("name", format!("Use at most {MAX_NAME} characters."));
    } else if name.chars().any(char::is_control) {
        errors.add("name", "The name cannot contain control characters.");
    }
}

/// A grant type the settings form can tick, with its label.
pub fn grant_label(grant: &str) -> &str {
    match grant {
        request::AUTHORIZATION_CODE => "Authorization Code",
        request::IMPLICIT => "Implicit",
        request::REFRESH_TOKEN => "Refresh Token",
        request::CLIENT_CREDENTIALS => "Client Credentials",
        request::PASSWORD => "Password",
        request::PASSWORD_REALM => "Password (realm)",
        request::DEVICE_CODE => "Device Code",
        other => other,
    }
}

/// The grant types that make sense for `app_type` (public applications
/// cannot use client credentials; machine-to-machine ones have no user to
/// send to a login page), plus any the application has already.
pub fn grant_options(app_type: AppType, current: &[String]) -> Vec<String> {
    use request::*;
    let valid: &[&str] = match app_type {
        AppType::Spa => &[AUTHORIZATION_CODE, IMPLICIT, REFRESH_TOKEN],
        AppType::Native => &[
            AUTHORIZATION_CODE,
            IMPLICIT,
            REFRESH_TOKEN,
            DEVICE_CODE,
            PASSWORD,
        ],
        AppType::RegularWeb => &[
            AUTHORIZATION_CODE,
            IMPLICIT,
            REFRESH_TOKEN,
            CLIENT_CREDENTIALS,
            PASSWORD,
        ],
        AppType::NonInteractive => &[CLIENT_CREDENTIALS, PASSWORD, REFRESH_TOKEN],
    };
    let mut options: Vec<String> = valid.iter().map(|g| g.to_string()).collect();
    for g in current {
        if !options.contains(g) {
            options.push(g.clone());
        }
    }
    options
}

/// The settings form's values, as stored or as typed.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsValues {
    pub name: String,
    pub description: String,
    pub callbacks: String,
    pub web_origins: String,
    pub allowed_logout_urls: String,
    pub grant_types: Vec<String>,
    pub rotation_type: String,
    pub token_lifetime: String,
    pub infinite_token_lifetime: bool,
    pub idle_token_lifetime: String,
    pub infinite_idle_token_lifetime: bool,
}

impl SettingsValues {
    pub fn of(client: &Client) -> Self {
        let r = &client.refresh_token;
        let expiring = r.expiration_type == ExpirationType::Expiring;
        Self {
            name: client.name.clone(),
            description: client.description.clone(),
            callbacks: client.callbacks.join("\n"),
            web_origins: client.web_origins.join("\n"),
            allowed_logout_urls: client.allowed_logout_urls.join("\n"),
            grant_types: client.grant_types.clone(),
            rotation_type: rotation_key(r.rotation_type).to_string(),
            token_lifetime: r.token_lifetime.to_string(),
            infinite_token_lifetime: !expiring || r.infinite_token_lifetime,
            idle_token_lifetime: r.idle_token_lifetime.to_string(),
            infinite_idle_token_lifetime: !expiring || r.infinite_idle_token_lifetime,
        }
    }

    pub fn typed(fields: &Fields) -> Self {
        Self {
            name: fields.text("name"),
            description: fields.text("description"),
            callbacks: fields.get("callbacks").unwrap_or("").to_string(),
            web_origins: fields.get("web_origins").unwrap_or("").to_string(),
            allowed_logout_urls: fields.get("allowed_logout_urls").unwrap_or("").to_string(),
            grant_types: fields.all("grant_types"),
            rotation_type: fields.text("rotation_type"),
            token_lifetime: fields.text("token_lifetime"),
            infinite_token_lifetime: fields.checked("infinite_token_lifetime"),
            idle_token_lifetime: fields.text("idle_token_lifetime"),
            infinite_idle_token_lifetime: fields.checked("infinite_idle_token_lifetime"),
        }
    }
}

fn rotation_key(r: RotationType) -> &'static str {
    match r {
        RotationType::Rotating => "rotating",
        RotationType::NonRotating => "non-rotating",
    }
}

/// The settings form's field names, for the Management API's messages.
pub const SETTINGS_FIELDS: &[&str] = &[
    "name",
    "description",
    "callbacks",
    "web_origins",
    "allowed_logout_urls",
    "grant_types",
];

/// The settings form checked against `client`: the `PATCH /clients/{id}` body.
pub fn settings_update(v: &SettingsValues, client: &Client) -> Result<UpdateClient, FieldErrors> {
    let mut errors = FieldErrors::default();
    check_name(&v.name, &mut errors);
    if v.description.chars().count() > MAX_DESCRIPTION {
        errors.add(
            "description",
            format!("Use at most {MAX_DESCRIPTION} characters."),
        );
    }
    let callbacks = urls(&v.callbacks, "callbacks", &mut errors);
    let logout = urls(&v.allowed_logout_urls, "allowed_logout_urls", &mut errors);
    let origins = origins(&v.web_origins, &mut errors);
    let options = grant_options(client.app_type, &client.grant_types);
    if let Some(bad) = v.grant_types.iter().find(|g| !options.contains(g)) {
        errors.add(
            "grant_types",
            format!(
                "{bad:?} is not a grant type a {} can use.",
                type_label(client.app_type).to_lowercase()
            ),
        );
    }
    let rotation = match v.rotation_type.as_str() {
        "rotating" => Some(RotationType::Rotating),
        "non-rotating" => Some(RotationType::NonRotating),
        _ => {
            errors.add("rotation_type", "Choose rotating or non-rotating.");
            None
        }
    };
    let token_lifetime = seconds(&v.token_lifetime, "token_lifetime", &mut errors);
    let idle = seconds(&v.idle_token_lifetime, "idle_token_lifetime", &mut errors);
    if let (Some(absolute), Some(idle)) = (token_lifetime, idle) {
        if !v.infinite_token_lifetime && !v.infinite_idle_token_lifetime && idle > absolute {
            errors.add(
                "idle_token_lifetime",
                "The idle lifetime cannot be longer than the absolute lifetime.",
            );
        }
    }
    let (Some(rotation), Some(token_lifetime), Some(idle)) = (rotation, token_lifetime, idle)
    else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut refresh = client.refresh_token.clone();
    refresh.rotation_type = rotation;
    refresh.token_lifetime = token_lifetime;
    refresh.idle_token_lifetime = idle;
    refresh.infinite_token_lifetime = v.infinite_token_lifetime;
    refresh.infinite_idle_token_lifetime = v.infinite_idle_token_lifetime;
    refresh.expiration_type = if v.infinite_token_lifetime && v.infinite_idle_token_lifetime {
        ExpirationType::NonExpiring
    } else {
        ExpirationType::Expiring
    };
    Ok(UpdateClient {
        name: Some(v.name.clone()),
        description: Some(v.description.clone()),
        app_type: None,
        is_first_party: None,
        oidc_conformant: None,
        token_endpoint_auth_method: None,
        grant_types: Some(v.grant_types.clone()),
        callbacks: Some(callbacks),
        allowed_logout_urls: Some(logout),
        web_origins: Some(origins),
        allowed_origins: None,
        jwt_configuration: None,
        refresh_token: Some(refresh),
        allow_plain_pkce: None,
        token_endpoint_ip_header_trusted: None,
    })
}

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, l)| (i + 1, l))
}

/// `scheme://rest` with a scheme as RFC 3986 spells it (custom schemes are
/// how native apps receive callbacks) and no spaces.
fn is_absolute_url(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once("://") else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !rest.starts_with('/')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn urls(text: &str, field: &str, errors: &mut FieldErrors) -> Vec<String> {
    let mut out = Vec::new();
    for (n, url) in lines(text) {
        if !is_absolute_url(url) {
            errors.add(
                field,
                format!("Entry {n} ({url}) is not an absolute URL such as https://app.example.com/callback."),
            );
        }
        out.push(url.to_string());
    }
    out
}

/// Web origins are `scheme://host[:port]`: no path, query or fragment.
fn origins(text: &str, errors: &mut FieldErrors) -> Vec<String> {
    let mut out = Vec::new();
    for (n, origin) in lines(text) {
        let trimmed = origin.strip_suffix('/').unwrap_or(origin);
        let host = trimmed.split_once("://").map_or("", |(_, h)| h);
        let ok = (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
            && is_absolute_url(trimmed)
            && !host.contains(['/', '?', '#']);
        if !ok {
            errors.add(
                "web_origins",
                format!("Entry {n} ({origin}) is not an origin such as https://app.example.com (no path)."),
            );
        }
        out.push(trimmed.to_string());
    }
    out
}

fn seconds(text: &str, field: &str, errors: &mut FieldErrors) -> Option<u64> {
    match text.parse::<u64>() {
        Ok(v) if (1..=MAX_REFRESH_TOKEN_LIFETIME).contains(&v) => Some(v),
        _ => {
            errors.add(
                field,
                format!("Enter a whole number of seconds from 1 to {MAX_REFRESH_TOKEN_LIFETIME} (one year)."),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Fields::parse(body.as_bytes())
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("name", "Shop"),
            ("description", "The shop"),
            (
                "callbacks",
                "http://localhost:4200/\ncom.example.app://callback",
            ),
            ("web_origins", "http://localhost:4200"),
            ("allowed_logout_urls", "http://localhost:4200/"),
            ("grant_types", "authorization_code"),
            ("grant_types", "refresh_token"),
            ("rotation_type", "rotating"),
            ("token_lifetime", "2592000"),
            ("idle_token_lifetime", "1296000"),
        ]
    }

    #[test]
    fn a_good_settings_form_becomes_an_update() {
        let client = Client::new("c", "Shop", AppType::Spa);
        let update = settings_update(&SettingsValues::typed(&fields(&good())), &client).unwrap();
        assert_eq!(update.callbacks.unwrap().len(), 2);
        assert_eq!(update.web_origins.unwrap(), ["http://localhost:4200"]);
        let refresh = update.refresh_token.unwrap();
        assert_eq!(refresh.rotation_type, RotationType::Rotating);
        assert_eq!(refresh.expiration_type, ExpirationType::Expiring);
        assert!(!refresh.infinite_token_lifetime);
    }

    #[test]
    fn every_bad_value_gets_its_own_message() {
        let client = Client::new("c", "Shop", AppType::Spa);
        let bad = [
            ("name", ""),
            ("description", &"x".repeat(141)),
            ("callbacks", "http://ok/\nnot a url"),
            ("web_origins", "https://a.example/path"),
            ("allowed_logout_urls", "/relative"),
            ("grant_types", "client_credentials"),
            ("rotation_type", "sometimes"),
            ("token_lifetime", "-5"),
            ("idle_token_lifetime", "99999999999"),
        ];
        let errors = settings_update(&SettingsValues::typed(&fields(&bad)), &client).unwrap_err();
        for (field, _) in bad {
            assert!(errors.fields.contains_key(field), "{field}: {errors:?}");
        }
        assert!(errors.fields["callbacks"].contains("Entry 2"));
    }

    #[test]
    fn the_idle_lifetime_fits_in_the_absolute_one() {
        let client = Client::new("c", "Shop", AppType::Spa);
        let mut pairs = good();
        pairs.retain(|(k, _)| *k != "idle_token_lifetime");
        pairs.push(("idle_token_lifetime", "3000000"));
        let errors = settings_update(&SettingsValues::typed(&fields(&pairs)), &client).unwrap_err();
        assert!(errors.fields.contains_key("idle_token_lifetime"));
        pairs.push(("infinite_token_lifetime", "on"));
        assert!(settings_update(&SettingsValues::typed(&fields(&pairs)), &client).is_ok());
    }

    #[test]
    fn grant_options_fit_the_type_and_keep_what_is_set() {
        assert!(!grant_options(AppType::Spa, &[]).contains(&"client_credentials".to_string()));
        assert!(grant_options(AppType::Spa, &["client_credentials".into()])
            .contains(&"client_credentials".to_string()));
        assert_eq!(
            grant_options(AppType::NonInteractive, &[])[0],
            "client_credentials"
        );
    }

    #[test]
    fn the_create_form_needs_a_name_and_a_type() {
        let errors = new_application(&fields(&[("name", " "), ("app_type", "robot")])).unwrap_err();
        assert!(errors.fields.contains_key("name"));
        assert!(errors.fields.contains_key("app_type"));
        let ok =
            new_application(&fields(&[("name", "CLI"), ("app_type", "non_interactive")])).unwrap();
        assert_eq!(ok.app_type, Some(AppType::NonInteractive));
    }

    #[test]
    fn stored_settings_show_as_they_are() {
        let spa = SettingsValues::of(&Client::new("c", "Shop", AppType::Spa));
        assert_eq!(spa.rotation_type, "rotating");
        assert!(!spa.infinite_token_lifetime);
        let web = SettingsValues::of(&Client::new("c", "Site", AppType::RegularWeb));
        assert_eq!(web.rotation_type, "non-rotating");
        assert!(web.infinite_token_lifetime && web.infinite_idle_token_lifetime);
    }
}
