//! Rendering dashboard pages: the MiniJinja templates of `templates/` (the
//! engine of the login pages, auto-escaping on), the layout every page
//! shares, the dashboard's Content-Security-Policy, and [`AdminError`], the
//! one error of every dashboard handler.

use super::session::Admin;
use crate::routes::management::error::ManagementError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use gatehouse_store::StoreError;
use minijinja::{context, Environment, Value};
use serde::Serialize;
use std::sync::OnceLock;

/// Scripts and styles only from the dashboard itself; no inline script, no
/// eval, no framing; forms post only to this origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates![
    "layout.html",
    "macros.html",
    "sign_in.html",
    "error.html",
    "confirm.html",
    "home.html",
    "apis_list.html",
    "apis_new.html",
    "apis_header.html",
    "apis_settings.html",
    "apis_permissions.html",
    "apis_m2m.html",
    "roles_list.html",
    "roles_new.html",
    "roles_header.html",
    "roles_settings.html",
    "roles_permissions.html",
    "roles_users.html",
    "users_header.html",
    "users_list.html",
    "users_new.html",
    "users_profile.html",
    "users_roles.html",
    "users_permissions.html",
    "users_logs.html",
    "logs_list.html",
    "logs_event.html",
    "why.html",
    "applications_list.html",
    "applications_new.html",
    "applications_show.html",
    "settings.html",
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_global("tenant", crate::pages::TENANT_NAME);
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "bad dashboard template");
            }
        }
        env
    })
}

/// Renders `template` with `ctx`, or a plain 500 when a template is broken.
fn html(status: StatusCode, template: &str, ctx: Value) -> Response {
    let (status, body) = match env().get_template(template).and_then(|t| t.render(ctx)) {
        Ok(body) => (status, body),
        Err(e) => {
            tracing::error!(template, error = %e, "dashboard rendering failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>Error</title><p>Something went wrong.</p>".to_string(),
            )
        }
    };
    with_headers((status, body).into_response())
}

fn with_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    response
}

/// A dashboard page for a signed-in admin, in the shared layout. `section`
/// marks the current navigation entry (`applications`, `apis`, `users`, …).
pub fn page(admin: &Admin, section: &str, template: &str, ctx: impl Serialize) -> Response {
    page_with_status(StatusCode::OK, admin, section, template, ctx)
}

/// [`page`] with another status (422 for a form shown again with errors).
pub fn page_with_status(
    status: StatusCode,
    admin: &Admin,
    section: &str,
    template: &str,
    ctx: impl Serialize,
) -> Response {
    let ctx = context! {
        open => open_sections(admin),
        admin => admin.display_name(),
        admin_id => &admin.user.user_id,
        csrf => &admin.csrf,
        section => section,
        ..Value::from_serialize(ctx)
    };
    html(status, template, ctx)
}

/// The sections whose pages the admin may read: the navigation shows only those.
fn open_sections(admin: &Admin) -> Vec<&'static str> {
    const SECTIONS: &[&str] = &[
        "applications",
        "apis",
        "users",
        "roles",
        "logs",
        "why",
        "settings",
    ];
    SECTIONS
        .iter()
        .copied()
        .filter(|section| {
            super::session::required_permissions(
                &axum::http::Method::GET,
                &format!("/admin/{section}"),
            )
            .iter()
            .all(|p| admin.holds(p))
        })
        .collect()
}

/// A page outside the layout (sign-in, errors).
pub fn bare(status: StatusCode, template: &str, ctx: impl Serialize) -> Response {
    html(status, template, Value::from_serialize(ctx))
}

/// After a successful POST: see the result at `path` (303, so a reload does
/// not post again).
pub fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

/// What a destructive action asks before it happens: the confirmation page,
/// whose form posts to `action`.
pub struct Confirm<'a> {
    pub section: &'a str,
    pub title: &'a str,
    pub message: String,
    pub action: String,
    pub button: &'a str,
    pub back: String,
}

/// The confirmation page of a destructive action (works without scripts).
pub fn confirm(admin: &Admin, c: Confirm<'_>) -> Response {
    page(
        admin,
        c.section,
        "confirm.html",
        context! {
            title => c.title,
            message => c.message,
            action => c.action,
            button => c.button,
            back => c.back,
        },
    )
}

/// The one error of the dashboard's handlers, shown as a page with a way back.
#[derive(Debug)]
pub struct AdminError {
    status: StatusCode,
    message: String,
    /// Logged, never shown.
    cause: Option<String>,
}

impl AdminError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            cause: None,
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("{what} does not exist (any more)."),
        )
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self {
            cause: Some(cause.to_string()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on the server; nothing was changed.",
            )
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::new(StatusCode::NOT_FOUND, "That object does not exist."),
            e => Self::internal(e),
        }
    }
}

impl From<ManagementError> for AdminError {
    fn from(e: ManagementError) -> Self {
        match e.internal {
            Some(cause) => Self::internal(cause),
            None => Self::new(e.status, e.message),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(cause = %cause, "dashboard request failed");
        }
        bare(
            self.status,
            "error.html",
            context! { status => self.status.as_u16(), message => self.message },
        )
    }
}

pub type AdminResult = Result<Response, AdminError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES {
            assert!(env().get_template(name).is_ok(), "{name}");
        }
    }
}
