//! The dashboard at `/admin` over real HTTP with a cookie-keeping browser:
//! signing in through `/authorize`, who gets in, sessions, CSRF, and each
//! section's forms and their validation.
//!
//! - [`sign_in`]: the sign-in flow, refusals, sign-out, expiry, CSRF, origin.
//! - [`attacks`]: redirects out of `/admin`, narrow roles growing themselves.
//! - [`crawl`]: every link the dashboard prints opens a page.
//! - [`apis`]: APIs, their settings, permissions and M2M applications.
//! - [`roles`]: roles, their permissions and members; seed 000 set up in pages.
//! - [`users`]: search, create, profile, password, block, roles, permissions, logs.
//! - [`applications`]: applications, their secrets, settings and API access.
//! - [`settings`]: tenant settings and signing keys.
//! - [`logs`], [`why`]: the event list and traces; "Why this token?" and simulate.

mod apis;
mod applications;
mod attacks;
mod crawl;
mod logs;
mod roles;
mod settings;
mod sign_in;
mod users;
mod why;

use crate::authorize::{encode, get, location};
use crate::management::Mgmt;
use crate::support::TestServer;
use reqwest::{Client, Response};

/// A bootstrapped tenant with the admin signed in to the dashboard.
pub struct Dashboard {
    pub mgmt: Mgmt,
    /// The admin's browser: keeps cookies, follows no redirects.
    pub browser: Client,
}

impl Dashboard {
    pub async fn start() -> Self {
        let mgmt = Mgmt::start().await;
        let browser = mgmt.server.browser();
        let (email, password) = (
            mgmt.creds.admin_email.clone(),
            mgmt.creds.admin_password.clone(),
        );
        let landed = sign_in(&mgmt.server, &browser, &email, &password).await;
        assert_eq!(landed.status().as_u16(), 303);
        assert_eq!(location(&landed), "/admin");
        Self { mgmt, browser }
    }

    pub fn server(&self) -> &TestServer {
        &self.mgmt.server
    }

    /// GET a dashboard page: status and HTML.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let resp = get(&self.browser, &self.server().url(path)).await;
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap())
    }

    /// Posts `pairs` with the CSRF token of the page at `form_page`.
    pub async fn submit(&self, form_page: &str, action: &str, pairs: &[(&str, &str)]) -> Response {
        let (status, html) = self.page(form_page).await;
        assert_eq!(status, 200, "{form_page}: {html}");
        let token = csrf_in(&html);
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(pairs);
        self.post(action, &all).await
    }

    /// Posts `pairs` as they are (no CSRF token added).
    pub async fn post(&self, action: &str, pairs: &[(&str, &str)]) -> Response {
        self.browser
            .post(self.server().url(action))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(pairs))
            .send()
            .await
            .unwrap()
    }
}

/// The message shown next to the form field `field`, "" when none.
pub fn error_of(html: &str, field: &str) -> String {
    let marker = format!("id=\"e-{field}\">");
    html.find(&marker)
        .map(|start| {
            let rest = &html[start + marker.len()..];
            rest[..rest.find("</p>").unwrap_or(rest.len())].to_string()
        })
        .unwrap_or_default()
}

/// `html` with the escapes of `/`, `&` and quotes undone, to look for
/// URLs and typed text in it.
pub fn unescaped(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The value of the first hidden `csrf` field of a page.
pub fn csrf_in(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_string()
}

/// Signs in to the dashboard as `email`: the sign-in link, `/authorize`, the
/// login page, back to `/authorize`, then the dashboard's callback. Returns
/// the callback's response.
pub async fn sign_in(
    server: &TestServer,
    browser: &Client,
    email: &str,
    password: &str,
) -> Response {
    sign_in_at(server, browser, "/admin/sign-in/start", email, password).await
}

/// [`sign_in`], starting at `start` (a sign-in link with its `return_to`).
pub async fn sign_in_at(
    server: &TestServer,
    browser: &Client,
    start: &str,
    email: &str,
    password: &str,
) -> Response {
    let mut resp = get(browser, &server.url(start)).await;
    for _ in 0..8 {
        let target = location(&resp);
        if target.is_empty() {
            return resp;
        }
        if target.contains("/admin/callback") {
            let path = target.trim_start_matches(&server.base_url).to_string();
            return get(browser, &server.url(&path)).await;
        }
        let url = if target.starts_with("http") {
            target.clone()
        } else {
            server.url(&target)
        };
        resp = get(browser, &url).await;
        if target.starts_with("/u/login") {
            let html = resp.text().await.unwrap();
            let authorize = target.split_once('?').map(|(_, q)| q).unwrap_or("");
            let token = csrf_in(&html);
            resp = browser
                .post(server.url("/u/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode(&[
                    ("csrf", &token),
                    ("authorize", authorize),
                    ("email", email),
                    ("password", password),
                ]))
                .send()
                .await
                .unwrap();
        }
    }
    panic!("the sign-in did not come back to the dashboard");
}
