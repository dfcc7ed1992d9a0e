//! The log pages: filters and paging over events made by real token
//! requests, each event's decision trace with the link to its fix, and the
//! home page's set-up steps and recent failures.

use super::Dashboard;
use crate::management::Mgmt;
use serde_json::json;

pub const API: &str = "https://measurements.example/";
pub const SCOPE: &str = "read:measurements";
const PASSWORD: &str = "a-long-enough-password-1";

/// Seed 000 built through the Management API: the API with RBAC and
/// permissions in the token, a web app allowed the password grant and
/// client credentials on the API, and bob, who holds no permission.
pub struct Seed000 {
    pub api_id: String,
    pub app_id: String,
    pub app_secret: String,
    pub bob_id: String,
}

pub async fn seed_000(mgmt: &Mgmt) -> Seed000 {
    let api = mgmt
        .post(
            "/resource-servers",
            json!({"name": "Measurements", "identifier": API,
                   "scopes": [{"value": SCOPE, "description": "Read measurements"}],
                   "enforce_policies": true, "token_dialect": "access_token_authz"}),
        )
        .await;
    assert_eq!(api.status.as_u16(), 201, "{}", api.text);
    let app = mgmt
        .post(
            "/clients",
            json!({"name": "Measurements Web", "app_type": "regular_web",
                   "grant_types": ["password", "client_credentials"],
                   "callbacks": ["https://web.example/cb"]}),
        )
        .await;
    assert_eq!(app.status.as_u16(), 201, "{}", app.text);
    let app_id = app.body["client_id"].as_str().unwrap().to_string();
    let grant = mgmt
        .post(
            "/client-grants",
            json!({"client_id": app_id, "audience": API, "scope": [SCOPE]}),
        )
        .await;
    assert_eq!(grant.status.as_u16(), 201, "{}", grant.text);
    let bob = mgmt
        .post(
            "/users",
            // No verification email: its log event would race the event counts.
            json!({"email": "bob@example.com", "password": PASSWORD,
                   "connection": "Username-Password-Authentication", "verify_email": false}),
        )
        .await;
    assert_eq!(bob.status.as_u16(), 201, "{}", bob.text);
    Seed000 {
        api_id: api.body["id"].as_str().unwrap().to_string(),
        app_id,
        app_secret: app.body["client_secret"].as_str().unwrap().to_string(),
        bob_id: bob.body["user_id"].as_str().unwrap().to_string(),
    }
}

/// A token request; returns its status, body and the log id it names.
pub async fn token(mgmt: &Mgmt, pairs: &[(&str, &str)]) -> (u16, serde_json::Value, String) {
    let reply = mgmt.server.post_form("/oauth/token", pairs).await;
    let log_id = reply
        .header("gatehouse-log-id")
        .unwrap_or_else(|| panic!("no log id: {}", reply.text))
        .to_string();
    (reply.status.as_u16(), reply.body, log_id)
}

/// bob's password grant for the API's scope (granted `openid`, dropped `read:measurements`).
pub async fn bob_password_grant(mgmt: &Mgmt, s: &Seed000) -> (serde_json::Value, String) {
    let (status, body, log_id) = token(
        mgmt,
        &[
            ("grant_type", "password"),
            ("client_id", &s.app_id),
            ("client_secret", &s.app_secret),
            ("username", "bob@example.com"),
            ("password", PASSWORD),
            ("audience", API),
            ("scope", &format!("openid {SCOPE}")),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (body, log_id)
}

async fn machine_token(mgmt: &Mgmt, s: &Seed000, secret: &str) -> (u16, String) {
    let (status, _, log_id) = token(
        mgmt,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.app_id),
            ("client_secret", secret),
            ("audience", API),
        ],
    )
    .await;
    (status, log_id)
}

/// A dashboard page with its HTML entities read back (MiniJinja escapes `/`).
pub async fn page(dash: &Dashboard, path: &str) -> (u16, String) {
    let (status, html) = dash.page(path).await;
    (status, unescape(&html))
}

pub fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The rows of a log list page.
fn rows(html: &str) -> usize {
    html.matches("<tr class=\"event\">").count()
}

/// The link to an event's page, as the HTML holds it.
fn event_link(log_id: &str) -> String {
    format!("/admin/logs/{log_id}\"")
}

#[tokio::test]
async fn filters_narrow_the_list_to_the_events_asked_for() {
    let dash = Dashboard::start().await;
    let s = seed_000(&dash.mgmt).await;
    let (status, ok) = machine_token(&dash.mgmt, &s, &s.app_secret).await;
    assert_eq!(status, 200);
    let (status, failed) = machine_token(&dash.mgmt, &s, "wrong-secret").await;
    assert_eq!(status, 401);

    let (status, html) = page(&dash, "/admin/logs").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(&event_link(&ok)) && html.contains(&event_link(&failed)));
    assert!(html.contains("Failed · feccft") && html.contains("OK · seccft"));

    let (status, html) = page(&dash, &format!("/admin/logs/{failed}")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<h1>Failed Exchange</h1>") && html.contains("class=\"line refused\""));
    // A change made through the Management API: an event without a decision.
    let (_, sapi) = page(&dash, "/admin/logs?type=sapi").await;
    let at = sapi.find("href=\"/admin/logs/").expect("a sapi event") + 6;
    let href = &sapi[at..at + sapi[at..].find('"').unwrap()];
    let (status, html) = page(&dash, href).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Success API Operation"));

    let (_, html) = page(&dash, "/admin/logs?type=feccft").await;
    assert_eq!(rows(&html), 1, "{html}");
    assert!(html.contains(&event_link(&failed)) && !html.contains(&event_link(&ok)));

    let (_, html) = page(&dash, &format!("/admin/logs?client={}", s.app_id)).await;
    assert_eq!(rows(&html), 2, "{html}");

    let admin = dash.mgmt.creds.admin_email.clone();
    let (status, html) = page(&dash, &format!("/admin/logs?user={admin}")).await;
    assert_eq!(status, 200, "{html}");
    assert!(rows(&html) >= 1, "the admin's sign-in: {html}");
    assert!(!html.contains(&event_link(&ok)));

    let (_, html) = page(&dash, "/admin/logs?to=2000-01-01").await;
    assert_eq!(rows(&html), 0);
    assert!(html.contains("No events match these filters."));
    let (status, html) = page(
        &dash,
        &format!(
            "/admin/logs?from=2026-01-01&to=2100-12-31&type=seccft&client={}",
            s.app_id
        ),
    )
    .await;
    assert_eq!((status, rows(&html)), (200, 1), "{html}");
}

#[tokio::test]
async fn bad_filters_get_their_message_next_to_their_field() {
    let dash = Dashboard::start().await;
    let (status, html) = page(
        &dash,
        "/admin/logs?user=nobody%40example.com&from=2026-13-01&type=bogus",
    )
    .await;
    assert_eq!(status, 422, "{html}");
    for field in ["user", "from", "type"] {
        assert!(
            html.contains(&format!("id=\"e-{field}\"")),
            "{field}: {html}"
        );
    }
    assert!(html.contains("No user has this email"));
    assert!(
        html.contains("value=\"nobody@example.com\""),
        "what was typed stays"
    );
    assert_eq!(rows(&html), 0);
    let (status, html) = page(&dash, "/admin/logs?from=2026-02-02&to=2026-02-01").await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"e-to\"") && html.contains("before the start date"));
    for user in ["bob%00%40example.com", "auth0%7C%00"] {
        let (status, html) = page(&dash, &format!("/admin/logs?user={user}")).await;
        assert_eq!(status, 422, "{user}: {html}");
        assert!(html.contains("id=\"e-user\""), "{user}");
    }
    // htmx swaps only a 200 into the results: the messages come with one.
    let resp = dash
        .browser
        .get(dash.server().url("/admin/logs?from=someday"))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Check the filters.") && html.contains("id=\"e-from\""));
    let (status, html) = page(&dash, "/admin/logs?page=9999").await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("There is no page 9999"));
}

#[tokio::test]
async fn pages_reach_older_events() {
    let dash = Dashboard::start().await;
    let s = seed_000(&dash.mgmt).await;
    let mut ids = Vec::new();
    for _ in 0..30 {
        let (status, log_id) = machine_token(&dash.mgmt, &s, &s.app_secret).await;
        assert_eq!(status, 200);
        ids.push(log_id);
    }
    let base = format!("/admin/logs?client={}", s.app_id);
    let (_, first) = page(&dash, &base).await;
    assert_eq!(rows(&first), 25);
    assert!(first.contains(&event_link(&ids[29])), "newest first");
    assert!(!first.contains(&event_link(&ids[0])));
    assert!(
        first.contains("page=1") && first.contains("Older"),
        "{first}"
    );
    assert!(!first.contains("Newer"));
    let (_, second) = page(&dash, &format!("{base}&page=1")).await;
    assert_eq!(rows(&second), 5, "{second}");
    assert!(second.contains(&event_link(&ids[0])));
    assert!(second.contains("Newer") && !second.contains("Older →"));
}

#[tokio::test]
async fn unknown_log_ids_give_the_404_page() {
    let dash = Dashboard::start().await;
    for path in [
        "/admin/logs/1234567890abcdef",
        "/admin/logs/%00%01",
        "/admin/logs/..%2F..%2Fetc",
        "/admin/logs/rol_notanevent",
    ] {
        let (status, html) = page(&dash, path).await;
        assert_eq!(status, 404, "{path}: {html}");
        assert!(html.contains("does not exist"), "{path}");
    }
}

#[tokio::test]
async fn the_event_page_explains_the_dropped_rbac_scope_and_links_to_the_users_roles() {
    let dash = Dashboard::start().await;
    let s = seed_000(&dash.mgmt).await;
    let (body, log_id) = bob_password_grant(&dash.mgmt, &s).await;
    assert!(!body["scope"].as_str().unwrap().contains(SCOPE), "{body}");

    let (status, html) = page(&dash, &format!("/admin/logs/{log_id}")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<h1>Success Exchange</h1>"), "{html}");
    assert!(html.contains("scope read:measurements"));
    assert!(
        html.contains("RBAC: the user lacks the permission"),
        "{html}"
    );
    let roles = format!("href=\"/admin/users/{}/roles\"", bob_id_in_path(&s.bob_id));
    assert!(html.contains(&roles), "{roles} in {html}");
    assert!(html.contains("bob@example.com"));
    assert!(html.contains("<details") && html.contains("\"log_id\""));

    // The list links to it.
    let (_, list) = page(&dash, "/admin/logs?type=sepft").await;
    assert!(list.contains(&event_link(&log_id)), "{list}");
}

/// A user id as one path segment (`auth0|…` → `auth0%7C…`).
pub fn bob_id_in_path(user_id: &str) -> String {
    user_id.replace('|', "%7C")
}

#[tokio::test]
async fn home_marks_the_steps_done_and_lists_recent_failures() {
    let dash = Dashboard::start().await;
    let (status, fresh) = page(&dash, "/admin").await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(fresh.matches(">Done<").count(), 0, "{fresh}");
    assert_eq!(fresh.matches(">To do<").count(), 4);
    assert!(fresh.contains("No failed sign-ins or token requests among the latest 500 events."));

    let s = seed_000(&dash.mgmt).await;
    let (_, failed) = machine_token(&dash.mgmt, &s, "wrong-secret").await;
    let role = dash.mgmt.post("/roles", json!({"name": "reader"})).await;
    let role_id = role.body["id"].as_str().unwrap().to_string();
    let (_, half) = page(&dash, "/admin").await;
    assert_eq!(half.matches(">Done<").count(), 3, "{half}");
    assert!(half.contains(&event_link(&failed)), "{half}");

    let assigned = dash
        .mgmt
        .post(
            &format!("/users/{}/roles", s.bob_id),
            json!({"roles": [role_id]}),
        )
        .await;
    assert!(assigned.status.is_success(), "{}", assigned.text);
    let (_, done) = page(&dash, "/admin").await;
    assert_eq!(done.matches(">Done<").count(), 4, "{done}");
}
