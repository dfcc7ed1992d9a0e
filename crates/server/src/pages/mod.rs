//! The pages Gatehouse serves to people: login, signup, consent, device
//! activation, logout, errors, and the two pages that carry an authorization
//! response back to an application (`form_post`, `web_message`).
//!
//! Templates are MiniJinja files embedded in the binary (`templates/`), with
//! HTML auto-escaping; one small stylesheet (`style.css`, served at
//! [`paths::STYLESHEET_PATH`]); no external assets. Every page is sent with
//! `Cache-Control: no-store` and, except the two response pages, with a
//! Content-Security-Policy that forbids scripts and framing.
//!
//! - [`paths`]: where the pages live.
//! - [`PageError`]: the one error of every page handler, rendered as the error page.
//! - [`PostedForm`]: a form posted back by a page, its CSRF token checked.

pub mod error;
pub mod form;
pub mod paths;

pub use error::PageError;
pub use form::PostedForm;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;
use std::sync::OnceLock;

/// The tenant's display name, on every page (the templates' `tenant`).
pub const TENANT_NAME: &str = "Gatehouse";

const CSS: &str = include_str!("style.css");

/// CSP of the interactive pages: own stylesheet only, no scripts, no framing.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                        base-uri 'none'; frame-ancestors 'none'";

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("signup.html", include_str!("templates/signup.html")),
    ("consent.html", include_str!("templates/consent.html")),
    ("activate.html", include_str!("templates/activate.html")),
    ("logout.html", include_str!("templates/logout.html")),
    ("error.html", include_str!("templates/error.html")),
    (
        "reset_request.html",
        include_str!("templates/reset_request.html"),
    ),
    (
        "reset_password.html",
        include_str!("templates/reset_password.html"),
    ),
    ("message.html", include_str!("templates/message.html")),
    ("form_post.html", include_str!("templates/form_post.html")),
    (
        "web_message.html",
        include_str!("templates/web_message.html"),
    ),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_global("tenant", TENANT_NAME);
        for (name, source) in TEMPLATES {
            // The templates are part of the binary; a syntax error is caught
            // by the unit test below and renders as a plain error page.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "bad template");
            }
        }
        env
    })
}

/// Renders `name` with `ctx`; only a broken template can fail.
fn render(name: &str, ctx: impl Serialize) -> Result<String, minijinja::Error> {
    env().get_template(name).and_then(|t| t.render(ctx))
}

/// An HTML response with the page headers.
pub fn html(status: StatusCode, name: &str, ctx: impl Serialize) -> Response {
    html_with_csp(status, name, ctx, PAGE_CSP)
}

/// An HTML response with its own Content-Security-Policy (the two response
/// pages run one inline script).
pub fn html_with_csp(status: StatusCode, name: &str, ctx: impl Serialize, csp: &str) -> Response {
    let (status, body) = match render(name, ctx) {
        Ok(body) => (status, body),
        Err(e) => {
            tracing::error!(template = name, error = %e, "page rendering failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>Error</title><p>Something went wrong.</p>".to_string(),
            )
        }
    };
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response
}

/// `GET /u/style.css`.
pub async fn stylesheet() -> Response {
    let mut response = CSS.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_escapes() {
        for (name, _) in TEMPLATES {
            assert!(env().get_template(name).is_ok(), "{name}");
        }
        let out = render(
            "error.html",
            minijinja::context! { error => "<b>", description => "\"x\"" },
        )
        .unwrap();
        assert!(out.contains(TENANT_NAME));
        assert!(out.contains("&lt;b&gt;"));
        assert!(!out.contains("<b>:"));
    }
}
