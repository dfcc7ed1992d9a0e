//! The Users pages: search, create, profile, password, block, roles,
//! permissions and logs; each bad value gets its message next to its field
//! and nothing is written; forms without this session's CSRF token change
//! nothing; unknown ids get the 404 page.

use super::{csrf_in, Dashboard};
use crate::authorize::{location, unescape};
use crate::management::Mgmt;
use crate::support::Reply;
use serde_json::{json, Value};

const PASSWORD: &str = "a-long-enough-password-1";
const API: &str = "https://measurements.example/";

async fn create_user(mgmt: &Mgmt, email: &str, name: &str) -> String {
    let reply = mgmt
        .post(
            "/users",
            // No verification email: its `svr` event would race the logs tab's checks.
            json!({"email": email, "password": PASSWORD, "name": name,
                   "connection": "Username-Password-Authentication", "verify_email": false}),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{:?}", reply.body);
    reply.body["user_id"].as_str().unwrap().to_string()
}

/// The dashboard path of a user (`auth0|…` percent-encoded).
fn page_of(id: &str, rest: &str) -> String {
    format!("/admin/users/{}{rest}", id.replace('|', "%7C"))
}

fn api_path(id: &str) -> String {
    format!("/users/{}", id.replace('|', "%7C"))
}

/// The message shown next to `field` (`<p … id="e-FIELD">…</p>`), unescaped.
fn field_error(html: &str, field: &str) -> Option<String> {
    let marker = format!("id=\"e-{field}\"");
    let start = html.find(&marker)? + marker.len();
    let rest = &html[start..];
    let text = &rest[rest.find('>')? + 1..];
    Some(unescape(&text[..text.find("</p>")?]))
}

async fn user(mgmt: &Mgmt, id: &str) -> Value {
    let reply = mgmt.get(&api_path(id)).await;
    assert_eq!(reply.status.as_u16(), 200, "{:?}", reply.body);
    reply.body
}

async fn users_matching(mgmt: &Mgmt, q: &str) -> Vec<Value> {
    let encoded: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let reply = mgmt.get(&format!("/users?q={encoded}")).await;
    reply.body.as_array().cloned().unwrap_or_default()
}

/// Posts a form and returns the status and the page.
async fn submit(
    dash: &Dashboard,
    form_page: &str,
    action: &str,
    pairs: &[(&str, &str)],
) -> (u16, String, String) {
    let resp = dash.submit(form_page, action, pairs).await;
    let status = resp.status().as_u16();
    let to = location(&resp);
    (status, to, resp.text().await.unwrap())
}

/// A regular web application allowed the password grant, for logging in.
async fn password_client(mgmt: &Mgmt) -> (String, String) {
    let web = mgmt
        .post(
            "/clients",
            json!({"name": "Web", "app_type": "regular_web", "grant_types": ["password"]}),
        )
        .await;
    (
        web.body["client_id"].as_str().unwrap().to_string(),
        web.body["client_secret"].as_str().unwrap().to_string(),
    )
}

async fn password_login(
    mgmt: &Mgmt,
    client: &(String, String),
    email: &str,
    password: &str,
) -> Reply {
    mgmt.server
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("client_id", &client.0),
                ("client_secret", &client.1),
                ("username", email),
                ("password", password),
                ("scope", "openid"),
            ],
        )
        .await
}

#[tokio::test]
async fn search_finds_users_by_email_and_prefix() {
    let dash = Dashboard::start().await;
    let m = &dash.mgmt;
    create_user(m, "alice@example.com", "Alice").await;
    create_user(m, "alicia@example.com", "Alicia").await;
    let bob = create_user(m, "bob@example.com", "Bob").await;

    let (status, html) = dash.page("/admin/users").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Users</h1>"));
    for email in ["alice@example.com", "alicia@example.com", "bob@example.com"] {
        assert!(html.contains(email), "{email}");
    }
    assert!(
        unescape(&html).contains(&page_of(&bob, "\"")),
        "rows link to the user"
    );

    let (status, html) = dash
        .page("/admin/users?q=email%3A%22alice%40example.com%22")
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("alice@example.com"));
    assert!(!html.contains("alicia@example.com") && !html.contains("bob@example.com"));

    let (_, html) = dash.page("/admin/users?q=name%3Aali*").await;
    assert!(html.contains("alice@example.com") && html.contains("alicia@example.com"));
    assert!(!html.contains("bob@example.com"));
    assert!(html.contains("1–2 of 2"), "the pager counts the matches");

    let (_, html) = dash.page("/admin/users?q=blocked%3Atrue").await;
    assert!(html.contains("No user matches"));
    m.patch(&api_path(&bob), json!({"blocked": true})).await;
    let (_, html) = dash.page("/admin/users?q=blocked%3Atrue").await;
    assert!(html.contains("bob@example.com") && html.contains("Blocked"));

    // A page past the end is an empty page, not an error.
    let (status, html) = dash.page("/admin/users?page=7").await;
    assert_eq!(status, 200);
    assert!(html.contains("No users on this page"));
    let (status, _) = dash.page("/admin/users?page=99999999999999999999999").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_bad_search_shows_the_api_message_next_to_the_box() {
    let dash = Dashboard::start().await;
    let api = dash.mgmt.get("/users?q=shoe_size%3A42").await;
    assert_eq!(api.status.as_u16(), 400);
    let message = api.body["message"].as_str().unwrap().to_string();

    let (status, html) = dash.page("/admin/users?q=shoe_size%3A42").await;
    assert_eq!(status, 400);
    assert_eq!(field_error(&html, "q").as_deref(), Some(message.as_str()));
    assert!(
        html.contains("value=\"shoe_size:42\""),
        "the query stays typed"
    );

    // Typed in the box (htmx): the same message, in a 200 htmx swaps in.
    let resp = dash
        .browser
        .get(dash.server().url("/admin/users?q=shoe_size%3A42"))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let html = resp.text().await.unwrap();
    assert_eq!(field_error(&html, "q").as_deref(), Some(message.as_str()));
}

#[tokio::test]
async fn creating_a_user_checks_every_field_and_writes_nothing_on_error() {
    let dash = Dashboard::start().await;
    let m = &dash.mgmt;
    let (status, html) = dash.page("/admin/users/new").await;
    assert_eq!(status, 200);
    assert!(html.contains("Username-Password-Authentication"));

    let (status, _, html) = submit(
        &dash,
        "/admin/users/new",
        "/admin/users/new",
        &[
            ("email", "not-an-email"),
            ("password", "short"),
            ("name", "Carol"),
            ("connection", "Username-Password-Authentication"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(field_error(&html, "email")
        .unwrap()
        .contains("alice@example.com"));
    assert!(field_error(&html, "password")
        .unwrap()
        .contains("at least 8"));
    assert!(html.contains("value=\"Carol\""), "what was typed stays");
    assert!(
        !html.contains("value=\"short\""),
        "a password is never sent back"
    );

    // The API's own checks land next to their fields too.
    let (status, _, html) = submit(
        &dash,
        "/admin/users/new",
        "/admin/users/new",
        &[
            ("email", "carol@example.com"),
            ("password", PASSWORD),
            ("connection", "Other-DB"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(field_error(&html, "connection")
        .unwrap()
        .contains("does not exist"));
    assert!(users_matching(m, "email:carol@example.com")
        .await
        .is_empty());

    create_user(m, "alice@example.com", "Alice").await;
    let (status, _, html) = submit(
        &dash,
        "/admin/users/new",
        "/admin/users/new",
        &[
            ("email", "alice@example.com"),
            ("password", PASSWORD),
            ("connection", "Username-Password-Authentication"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        field_error(&html, "email").as_deref(),
        Some("The user already exists.")
    );
    assert_eq!(users_matching(m, "email:alice@example.com").await.len(), 1);

    let (status, to, _) = submit(
        &dash,
        "/admin/users/new",
        "/admin/users/new",
        &[
            ("email", "carol@example.com"),
            ("password", PASSWORD),
            ("name", "Carol"),
            ("given_name", "Carol"),
            ("connection", "Username-Password-Authentication"),
            ("email_verified", "on"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let found = users_matching(m, "email:carol@example.com").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["given_name"], "Carol");
    assert_eq!(found[0]["email_verified"], true);
    let id = found[0]["user_id"].as_str().unwrap();
    assert_eq!(to, page_of(id, "?done=created"));
    let (status, html) = dash.page(&to).await;
    assert_eq!(status, 200);
    assert!(html.contains("The user was created."));
}

#[tokio::test]
async fn the_profile_saves_and_refuses_bad_metadata() {
    let dash = Dashboard::start().await;
    let m = &dash.mgmt;
    let alice = create_user(m, "alice@example.com", "Alice").await;
    m.patch(
        &api_path(&alice),
        json!({"app_metadata": {"plan": "free", "old": 1}}),
    )
    .await;
    let profile = page_of(&alice, "");
    let (status, html) = dash.page(&profile).await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Alice</h1>"));
    assert!(unescape(&html).contains("\"plan\": \"free\""));

    let (status, _, html) = submit(
        &dash,
        &profile,
        &profile,
        &[
            ("email", "alice@example.com"),
            ("name", "Alice Liddell"),
            ("app_metadata", "{\"plan\": }"),
            ("user_metadata", "[1, 2]"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(field_error(&html, "app_metadata")
        .unwrap()
        .contains("not valid JSON"));
    assert!(field_error(&html, "user_metadata")
        .unwrap()
        .contains("JSON object"));
    assert!(html.contains("value=\"Alice Liddell\""));
    let stored = user(m, &alice).await;
    assert_eq!(stored["name"], "Alice", "nothing was written");

    let (status, _, html) = submit(
        &dash,
        &profile,
        &profile,
        &[
            ("email", "alice at example"),
            ("name", "Alice Liddell"),
            ("app_metadata", "{}"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(field_error(&html, "email").is_some());
    assert_eq!(user(m, &alice).await["app_metadata"]["plan"], "free");

    let (status, to, _) = submit(
        &dash,
        &profile,
        &profile,
        &[
            ("email", "alice@example.com"),
            ("name", "Alice Liddell"),
            ("nickname", "al"),
            ("email_verified", "on"),
            ("app_metadata", "{\"plan\": \"pro\"}"),
            ("user_metadata", "{\"lang\": \"fr\"}"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(to, page_of(&alice, "?done=saved"));
    let stored = user(m, &alice).await;
    assert_eq!(stored["name"], "Alice Liddell");
    assert_eq!(stored["nickname"], "al");
    assert_eq!(stored["email_verified"], true);
    assert_eq!(
        stored["app_metadata"],
        json!({"plan": "pro"}),
        "a removed key is deleted"
    );
    assert_eq!(stored["user_metadata"], json!({"lang": "fr"}));

    // Taking another user's email is the API's 409, next to the email.
    create_user(m, "bob@example.com", "Bob").await;
    let (status, _, html) = submit(
        &dash,
        &profile,
        &profile,
        &[
            ("email", "bob@example.com"),
            ("name", "Alice Liddell"),
            ("app_metadata", "{\"plan\": \"pro\"}"),
            ("user_metadata", "{\"lang\": \"fr\"}"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        field_error(&html, "email").as_deref(),
        Some("The user already exists.")
    );
    assert_eq!(user(m, &alice).await["email"], "alice@example.com");

    // The write is logged as the admin's sapi event.
    let logs = m.get("/logs?q=type%3Asapi").await.body;
    assert!(logs.as_array().unwrap().iter().any(|e| e["description"]
        .as_str()
        .unwrap()
        .contains(&format!("Dashboard: PATCH /api/v2{}", api_path(&alice)))));
}

#[tokio::test]
async fn setting_a_password_checks_the_policy_and_the_repeat() {
    let dash = Dashboard::start().await;
    let m = &dash.mgmt;
    let client = password_client(m).await;
    let bob = create_user(m, "bob@example.com", "Bob").await;
    let profile = page_of(&bob, "");
    let action = page_of(&bob, "/password");

    let (status, _, html) = submit(
        &dash,
        &profile,
        &action,
        &[("password", "short"), ("password_repeat", "short")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(field_error(&html, "password")
        .unwrap()
        .contains("at least 8"));
    let (status, _, html) = submit(
        &dash,
        &profile,
        &action,
        &[
            ("password", "a-new-long-password"),
            ("password_repeat", "a-new-long-passwort"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(field_error(&html, "password_repeat")
        .unwrap()
        .contains("not the same"));
    assert!(field_error(&html, "password").is_none());
    let old = password_login(m, &client, "bob@example.com", PASSWORD).await;
    assert_eq!(
        old.status, 200,
        "the old password still works: {}",
        old.text
    );

    let (status, to, _) = submit(
        &dash,
        &profile,
        &action,
        &[
            ("password", "a-new-long-password"),
            ("password_repeat", "a-new-long-password"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(to, page_of(&bob, "?done=password"));
    let new = password_login(m, &client, "bob@example.com", "a-new-long-password").await;
    assert_eq!(new.status, 200, "{}", new.text);
    let old = password_login(m, &client, "bob@example.com", PASSWORD).await;
    assert_ne!(old.status, 200);
}

#[tokio::test]
async fn blocking_takes_effect_and_unblocking_lifts_it() {
    let dash = Dashboard::start().await;
    let m = &dash.mgmt;
    let client = password_client(m).await;
    let bob = create_user(m, "bob@example.com", "Bob").await;

    let (status, html) = dash.page(&page_of(&bob, "/block")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Block this user?"));
    let (status, to, _) = submit(
        &dash,
        &page_of(&bob, "/block"),
        &page_of(&bob, "/block"),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(to, page_of(&bob, "?done=blocked"));
    assert_eq!(user(m, &bob).await["blocked"], true);
    let refused = password_login(m, &client, "bob@example.com", PASSWORD).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert!(refused.text.contains("user is blocked"));
    let (_, html) = dash.page(&page_of(&bob, "")).await;
    assert!(html.contains("Unblock user"));

    let (status, _, _) = submit(
        &dash,
        &page_of(&bob, "/unblock"),
        &page_of(&bob, "/unblock"),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(user(m, &bob).await["blocked"], false);
    let ok = password_login(m, &client, "bob@example.com", PASSWORD).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}

#[tokio::test]
async fn roles_and_effective_permissions_name_their_source() {
    let dash = Dashboard::start().await;
    let m = &dash.mgmt;
    m.post(
        "/resource-servers",
        json!({"name": "Measurements", "identifier": API, "enforce_policies": true,
               "scopes": [{"value": "read:measurements", "description": "Read measurements"},
                          {"value": "write:measurements"}]}),
    )
    .await;
    let role = m.post("/roles", json!({"name": "Reader"})).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    m.post(
        &format!("/roles/{role}/permissions"),
        json!({"permissions": [{"resource_server_identifier": API, "permission_name": "read:measurements"}]}),
    )
    .await;
    let bob = create_user(m, "bob@example.com", "Bob").await;
    let roles_page = page_of(&bob, "/roles");
    let perms_page = page_of(&bob, "/permissions");

    let (status, html) = dash.page(&roles_page).await;
    assert_eq!(status, 200);
    assert!(html.contains("This user has no roles"));
    let (status, _, html) = submit(&dash, &roles_page, &roles_page, &[("role", "")]).await;
    assert_eq!(status, 422);
    assert!(field_error(&html, "role")
        .unwrap()
        .contains("Choose a role"));
    let (status, _, html) = submit(&dash, &roles_page, &roles_page, &[("role", "rol_nope")]).await;
    assert_eq!(status, 422);
    assert!(field_error(&html, "role")
        .unwrap()
        .contains("does not exist"));
    let (status, to, _) = submit(&dash, &roles_page, &roles_page, &[("role", &role)]).await;
    assert_eq!(status, 303);
    assert_eq!(to, page_of(&bob, "/roles?done=role-assigned"));
    let roles = m.get(&format!("{}/roles", api_path(&bob))).await.body;
    assert_eq!(roles[0]["name"], "Reader");

    let (status, html) = dash.page(&perms_page).await;
    assert_eq!(status, 200);
    assert!(html.contains("read:measurements") && html.contains("role Reader"));
    assert!(html.contains("Management API"), "every API is shown");

    // Bad direct permissions: each message next to its field, nothing added.
    for (pairs, field, text) in [
        (
            vec![("api", ""), ("permission", "")],
            "api",
            "Choose the API",
        ),
        (
            vec![("api", API), ("permission", "")],
            "permission",
            "Enter a permission",
        ),
        (
            vec![("api", "https://nope.example/"), ("permission", "x")],
            "api",
            "does not exist",
        ),
        (
            vec![("api", API), ("permission", "delete:everything")],
            "permission",
            "does not exist",
        ),
    ] {
        let (status, _, html) = submit(&dash, &perms_page, &perms_page, &pairs).await;
        assert_eq!(status, 422, "{pairs:?}");
        assert!(
            field_error(&html, field).unwrap().contains(text),
            "{pairs:?}"
        );
    }
    let direct = m.get(&format!("{}/permissions", api_path(&bob))).await.body;
    assert_eq!(direct.as_array().unwrap().len(), 1, "{direct}");

    let (status, _, _) = submit(
        &dash,
        &perms_page,
        &perms_page,
        &[("api", API), ("permission", "read:measurements")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, html) = dash.page(&perms_page).await;
    assert!(html.contains(">direct<") && html.contains("role Reader"));

    // Removing the role leaves the direct permission.
    let remove_role = page_of(&bob, &format!("/roles/{role}/remove"));
    let (status, html) = dash.page(&remove_role).await;
    assert_eq!(status, 200);
    assert!(html.contains("Remove this role?") && html.contains("Reader"));
    let (status, _, _) = submit(&dash, &remove_role, &remove_role, &[]).await;
    assert_eq!(status, 303);
    let roles = m.get(&format!("{}/roles", api_path(&bob))).await.body;
    assert_eq!(roles, json!([]));
    let (_, html) = dash.page(&perms_page).await;
    assert!(!html.contains("role Reader"));

    let encoded: String = form_urlencoded::byte_serialize(API.as_bytes()).collect();
    let remove_perm = page_of(
        &bob,
        &format!("/permissions/remove?api={encoded}&permission=read%3Ameasurements"),
    );
    let (status, _, _) = submit(&dash, &remove_perm, &remove_perm, &[]).await;
    assert_eq!(status, 303);
    let direct = m.get(&format!("{}/permissions", api_path(&bob))).await.body;
    assert_eq!(direct, json!([]));
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_change_nothing() {
    let dash = Dashboard::start().await;
    let m = &dash.mgmt;
    let bob = create_user(m, "bob@example.com", "Bob").await;
    let new_user = [
        ("email", "eve@example.com"),
        ("password", PASSWORD),
        ("connection", "Username-Password-Authentication"),
    ];
    for token in [None, Some("forged")] {
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut all: Vec<(&str, &str)> = token.map(|t| ("csrf", t)).into_iter().collect();
            all.extend_from_slice(pairs);
            all
        };
        let resp = dash.post("/admin/users/new", &with(&new_user)).await;
        assert_eq!(resp.status().as_u16(), 403);
        for action in ["/block", "/delete", ""] {
            let resp = dash
                .post(&page_of(&bob, action), &with(&[("email", "x@example.com")]))
                .await;
            assert_eq!(resp.status().as_u16(), 403, "{action}");
        }
    }
    assert!(users_matching(m, "email:eve@example.com").await.is_empty());
    let stored = user(m, &bob).await;
    assert_eq!(stored["blocked"], false);
    assert_eq!(stored["email"], "bob@example.com");
}

#[tokio::test]
async fn unknown_and_foreign_ids_get_the_not_found_page() {
    let dash = Dashboard::start().await;
    let m = &dash.mgmt;
    let bob = create_user(m, "bob@example.com", "Bob").await;
    let role = m.post("/roles", json!({"name": "Reader"})).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    for path in [
        "/admin/users/auth0%7Cnobody".to_string(),
        format!("/admin/users/{role}"),
        format!("/admin/users/{role}/roles"),
        "/admin/users/auth0%7Cnobody/permissions".to_string(),
        "/admin/users/auth0%7Cnobody/logs".to_string(),
        "/admin/users/auth0%7Cnobody/delete".to_string(),
        page_of(&bob, &format!("/roles/{role}/remove")),
        page_of(
            &bob,
            "/permissions/remove?api=https%3A%2F%2Fx%2F&permission=y",
        ),
        page_of(&bob, "/permissions/remove"),
        page_of(&bob, "/nothing-here"),
    ] {
        let (status, html) = dash.page(&path).await;
        assert_eq!(status, 404, "{path}: {html}");
        assert!(html.contains("Not found"), "{path}");
    }
    let csrf = csrf_in(&dash.page("/admin/users").await.1);
    let resp = dash
        .post("/admin/users/auth0%7Cnobody/block", &[("csrf", &csrf)])
        .await;
    assert_eq!(resp.status().as_u16(), 404);
    let (status, _) = dash.page("/admin/users/%01").await;
    assert!((400..500).contains(&status), "{status}");
}

#[tokio::test]
async fn the_logs_tab_links_each_event_and_delete_asks_first() {
    let dash = Dashboard::start().await;
    let m = &dash.mgmt;
    let admin = users_matching(m, &format!("email:\"{}\"", m.creds.admin_email)).await;
    let admin_id = admin[0]["user_id"].as_str().unwrap().to_string();
    let (status, html) = dash.page(&page_of(&admin_id, "/logs")).await;
    assert_eq!(status, 200);
    let first = m.get(&format!("{}/logs", api_path(&admin_id))).await.body;
    let log_id = first[0]["log_id"].as_str().unwrap();
    assert!(
        unescape(&html).contains(&format!("/admin/logs/{log_id}\"")),
        "{html}"
    );

    let bob = create_user(m, "bob@example.com", "Bob").await;
    let (_, html) = dash.page(&page_of(&bob, "/logs")).await;
    assert!(html.contains("No events for this user yet"));
    let (status, html) = dash.page(&page_of(&bob, "/delete")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Delete this user?"));
    assert_eq!(
        user(m, &bob).await["email"],
        "bob@example.com",
        "asking deletes nothing"
    );
    let (status, to, _) = submit(
        &dash,
        &page_of(&bob, "/delete"),
        &page_of(&bob, "/delete"),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(to, "/admin/users?done=deleted");
    assert_eq!(m.get(&api_path(&bob)).await.status.as_u16(), 404);
    let (_, html) = dash.page(&to).await;
    assert!(html.contains("The user was deleted."));
}

#[tokio::test]
async fn the_list_pages_fifty_users_at_a_time() {
    let dash = Dashboard::start().await;
    let server = dash.server();
    for i in 0..55 {
        let user = gatehouse_core::model::User::new(
            format!("auth0|paged{i:02}"),
            &format!("user{i:02}@paged.example"),
            server.state.now(),
        );
        let stored = gatehouse_store::StoredUser {
            user,
            password_hash: None,
        };
        server.store.create_user(&stored).await.unwrap();
    }
    let (status, html) = dash.page("/admin/users").await;
    assert_eq!(status, 200);
    assert!(html.contains("1–50 of 56"), "the admin and 55 more");
    assert_eq!(html.matches("class=\"user-cell\"").count(), 50);
    let html = unescape(&html);
    assert!(html.contains("href=\"/admin/users?page=1\">Next</a>"));
    assert!(!html.contains(">Previous</a>"));

    let (_, html) = dash.page("/admin/users?page=1").await;
    assert!(html.contains("51–56 of 56"));
    assert_eq!(html.matches("class=\"user-cell\"").count(), 6);
    assert!(unescape(&html).contains("href=\"/admin/users?page=0\">Previous</a>"));

    let (_, html) = dash.page("/admin/users?q=paged.example").await;
    assert!(html.contains("1–50 of 55"));
    assert!(unescape(&html).contains("href=\"/admin/users?page=1&q=paged.example\">Next</a>"));
}

#[tokio::test]
async fn failed_login_blocks_show_on_the_profile_and_can_be_lifted() {
    let dash = Dashboard::start().await;
    let m = &dash.mgmt;
    let server = dash.server();
    let bob = create_user(m, "bob@example.com", "Bob").await;
    let limit = i64::from(
        server
            .store
            .tenant_settings()
            .await
            .unwrap()
            .brute_force_protection
            .max_attempts,
    );
    let now = server.state.now();
    for _ in 0..limit {
        server
            .store
            .reserve_login_attempt(
                "127.0.0.1",
                "bob@example.com",
                now,
                limit,
                now + gatehouse_core::model::BRUTE_FORCE_BLOCK_SECONDS,
            )
            .await
            .unwrap();
    }
    let blocks = format!("/user-blocks/{}", bob.replace('|', "%7C"));
    assert_eq!(
        m.get(&blocks).await.body["blocked_for"][0]["ip"],
        "127.0.0.1"
    );
    let (_, html) = dash.page(&page_of(&bob, "")).await;
    assert!(html.contains("Too many failed logins") && html.contains("127.0.0.1"));

    let unlock = page_of(&bob, "/unlock");
    let (status, to, _) = submit(&dash, &unlock, &unlock, &[]).await;
    assert_eq!(status, 303);
    assert_eq!(to, page_of(&bob, "?done=unlocked"));
    assert_eq!(m.get(&blocks).await.body["blocked_for"], json!([]));
    let (_, html) = dash.page(&to).await;
    assert!(!html.contains("Too many failed logins"));
}
