//! Forms posted by the dashboard: [`AdminForm`] (the signed-in admin, the
//! fields, the CSRF token checked) and [`FieldErrors`] (a message per field,
//! shown next to it when the form is rendered again with what was typed).

use super::render::AdminError;
use super::session::{csrf_ok, Admin};
use crate::routes::management::error::ManagementError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;

/// Shown when a form's CSRF token is missing or belongs to another session.
pub const FORM_EXPIRED: &str =
    "This form expired or was sent from another site, so nothing was changed. \
     Reload the page and try again.";

/// A dashboard form: the admin who sent it and its fields, accepted only
/// with this session's CSRF token and, when the browser names one, from the
/// dashboard's own origin.
pub struct AdminForm {
    pub admin: Admin,
    pub fields: Fields,
}

impl FromRequest<AppState> for AdminForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let admin = Admin::from_request_parts(&mut parts, state).await?;
        if !same_origin(state, &parts.headers) {
            return Err(expired());
        }
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| AdminError::new(e.status(), e.body_text()).into_response())?;
        let fields = Fields::parse(&bytes);
        if !csrf_ok(&admin, fields.get("csrf")) {
            return Err(expired());
        }
        Ok(Self { admin, fields })
    }
}

fn expired() -> Response {
    AdminError::new(StatusCode::FORBIDDEN, FORM_EXPIRED).into_response()
}

/// False when the browser says the form came from another origin.
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            origin == state.base_url() || state.issuer().starts_with(&format!("{origin}/"))
        }
    }
}

/// The fields of a posted form, in order; a name may repeat (checkboxes).
#[derive(Debug, Default, Clone)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, as sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").trim().to_string()
    }

    /// The trimmed value of `name`, `None` when absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.text(name)).filter(|v| !v.is_empty())
    }

    /// Whether a checkbox named `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| !v.is_empty() && v != "false")
    }

    /// Every non-blank value of `name` (a group of checkboxes, a multi-select).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// A textarea of values, one per line or separated by commas (URL lists).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .unwrap_or("")
            .split(['\n', ','])
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Every field but the CSRF token, to render a form again as it was typed.
    pub fn typed(&self) -> BTreeMap<String, String> {
        let mut typed = BTreeMap::new();
        for (k, v) in self.0.iter().filter(|(k, _)| k != "csrf") {
            typed.entry(k.clone()).or_insert_with(|| v.clone());
        }
        typed
    }
}

/// Messages for a form: one per field, and the ones that belong to no field.
#[derive(Debug, Default, Clone, Serialize)]
pub struct FieldErrors {
    pub fields: BTreeMap<String, String>,
    pub general: Vec<String>,
}

impl FieldErrors {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }

    /// Records `message` for `field` (the first message of a field wins).
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields
            .entry(field.to_string())
            .or_insert_with(|| message.into());
    }

    /// A message about the whole form.
    pub fn general(&mut self, message: impl Into<String>) {
        self.general.push(message.into());
    }

    /// A Management API refusal, placed next to the field it names (Auth0's
    /// messages end with `on property <field>`) when that field is on the
    /// form, otherwise above the form. A failure of ours is not shown.
    pub fn from_management(error: &ManagementError, form_fields: &[&str]) -> Self {
        let mut errors = Self::default();
        if error.status.is_server_error() {
            errors.general("Something went wrong on the server; nothing was changed.");
            return errors;
        }
        match property_named(&error.message, form_fields) {
            Some(field) => errors.add(field, readable(&error.message)),
            None => errors.general(readable(&error.message)),
        }
        errors
    }
}

/// The form field a Management API message is about.
fn property_named<'a>(message: &str, form_fields: &[&'a str]) -> Option<&'a str> {
    let property = message.rsplit_once("on property ")?.1;
    let root = property
        .split(['.', '[', ' ', ')'])
        .next()
        .unwrap_or(property);
    form_fields.iter().copied().find(|f| *f == root)
}

/// A Management API message without its machine prefix.
fn readable(message: &str) -> String {
    message
        .strip_prefix("Payload validation error: ")
        .unwrap_or(message)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_repeats_and_trim() {
        let f =
            Fields::parse(b"a=+x+&g=one&g=two&g=&cb=https%3A%2F%2Fa%0Ahttps%3A%2F%2Fb%2C+c&t=on");
        assert_eq!(f.text("a"), "x");
        assert_eq!(f.all("g"), ["one", "two"]);
        assert_eq!(f.list("cb"), ["https://a", "https://b", "c"]);
        assert!(f.checked("t"));
        assert!(!f.checked("nope"));
        assert_eq!(f.opt("missing"), None);
    }

    #[test]
    fn management_messages_find_their_field() {
        let e = ManagementError::invalid_body(
            "Payload validation error: 'Object didn't pass validation for format absolute-uri-or-empty: x' on property callbacks[0] (Allowed Callback URLs).",
        );
        let errors = FieldErrors::from_management(&e, &["name", "callbacks"]);
        assert!(
            errors.fields["callbacks"].starts_with("'Object"),
            "{errors:?}"
        );
        let other = FieldErrors::from_management(&e, &["name"]);
        assert_eq!(other.general.len(), 1);
        let internal = FieldErrors::from_management(&ManagementError::internal("db down"), &[]);
        assert!(!internal.general[0].contains("db down"));
    }
}
