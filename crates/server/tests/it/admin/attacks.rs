//! The dashboard attacked as a stranger or a narrow administrator would:
//! redirects that leave `/admin` or break the `Location` header, and a
//! narrow role growing itself into the Admin role.

use super::{csrf_in, sign_in, sign_in_at, Dashboard};
use crate::authorize::{encode, get, location};
use crate::management::Mgmt;
use reqwest::{Client, Response};
use serde_json::json;

const PASSWORD: &str = "a-long-enough-password-1";

/// A user holding `permissions` on the Management API, signed in to the
/// dashboard; returns the user id and the browser.
async fn narrow_admin(mgmt: &Mgmt, email: &str, permissions: &[&str]) -> (String, Client) {
    let created = mgmt
        .post(
            "/users",
            json!({"email": email, "password": PASSWORD, "connection": "Username-Password-Authentication"}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{:?}", created.body);
    let id = created.body["user_id"].as_str().unwrap().to_string();
    let audience = &mgmt.creds.management_audience;
    let refs: Vec<_> = std::iter::once(&"access:dashboard")
        .chain(permissions)
        .map(|p| json!({"resource_server_identifier": audience, "permission_name": p}))
        .collect();
    let granted = mgmt
        .post(
            &format!("/users/{}/permissions", encode_id(&id)),
            json!({ "permissions": refs }),
        )
        .await;
    assert!(granted.status.is_success(), "{:?}", granted.body);
    let browser = mgmt.server.browser();
    let landed = sign_in(&mgmt.server, &browser, email, PASSWORD).await;
    assert_eq!(location(&landed), "/admin");
    (id, browser)
}

fn encode_id(id: &str) -> String {
    id.replace('|', "%7C")
}

/// Posts `pairs` with the CSRF token of the dashboard's home page.
async fn post_form(
    mgmt: &Mgmt,
    browser: &Client,
    action: &str,
    pairs: &[(&str, &str)],
) -> Response {
    let home = get(browser, &mgmt.server.url("/admin"))
        .await
        .text()
        .await
        .unwrap();
    let token = csrf_in(&home);
    let mut all = vec![("csrf", token.as_str())];
    all.extend_from_slice(pairs);
    browser
        .post(mgmt.server.url(action))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&all))
        .send()
        .await
        .unwrap()
}

async fn admin_role_id(mgmt: &Mgmt) -> String {
    let roles = mgmt.get("/roles?name_filter=Admin").await.body;
    roles[0]["id"].as_str().unwrap().to_string()
}

async fn management_permissions_of(mgmt: &Mgmt, user_id: &str) -> Vec<String> {
    let audience = &mgmt.creds.management_audience;
    let mut names = Vec::new();
    for path in ["permissions", "roles"] {
        let reply = mgmt
            .get(&format!("/users/{}/{path}", encode_id(user_id)))
            .await;
        for item in reply.body.as_array().unwrap() {
            if path == "roles" {
                names.push(format!("role {}", item["name"].as_str().unwrap()));
            } else if item["resource_server_identifier"] == json!(audience) {
                names.push(item["permission_name"].as_str().unwrap().to_string());
            }
        }
    }
    names
}

const USER_MANAGER: &[&str] = &[
    "read:users",
    "read:roles",
    "read:logs_users",
    "create:users",
    "update:users",
    "delete:users",
    "create:role_members",
    "delete:role_members",
];

const ROLE_MANAGER: &[&str] = &[
    "read:roles",
    "read:role_members",
    "create:roles",
    "update:roles",
    "delete:roles",
    "create:role_members",
    "delete:role_members",
];

#[tokio::test]
async fn a_user_manager_cannot_give_itself_the_admin_role_or_a_permission_it_lacks() {
    let mgmt = Mgmt::start().await;
    let (carol, browser) = narrow_admin(&mgmt, "carol@example.com", USER_MANAGER).await;
    let before = management_permissions_of(&mgmt, &carol).await;
    let admin_role = admin_role_id(&mgmt).await;
    let roles_page = format!("/admin/users/{}/roles", encode_id(&carol));
    let resp = post_form(&mgmt, &browser, &roles_page, &[("role", &admin_role)]).await;
    assert_eq!(resp.status().as_u16(), 403);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("your own account does not hold it"));
    let permissions_page = format!("/admin/users/{}/permissions", encode_id(&carol));
    let audience = mgmt.creds.management_audience.clone();
    let resp = post_form(
        &mgmt,
        &browser,
        &permissions_page,
        &[("api", &audience), ("permission", "update:tenant_settings")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 422);
    assert_eq!(management_permissions_of(&mgmt, &carol).await, before);
    // What carol holds herself she may still hand out.
    let resp = post_form(
        &mgmt,
        &browser,
        &permissions_page,
        &[("api", &audience), ("permission", "read:users")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
}

#[tokio::test]
async fn a_role_manager_cannot_join_the_admin_role_or_widen_a_role_beyond_its_own() {
    let mgmt = Mgmt::start().await;
    let (dave, browser) = narrow_admin(&mgmt, "dave@example.com", ROLE_MANAGER).await;
    let admin_role = admin_role_id(&mgmt).await;
    let resp = post_form(
        &mgmt,
        &browser,
        &format!("/admin/roles/{admin_role}/users"),
        &[("user", "dave@example.com")],
    )
    .await;
    assert_ne!(resp.status().as_u16(), 303);
    let created = mgmt.post("/roles", json!({"name": "helpers"})).await;
    let helpers = created.body["id"].as_str().unwrap().to_string();
    let assigned = mgmt
        .post(
            &format!("/users/{}/roles", encode_id(&dave)),
            json!({"roles": [helpers]}),
        )
        .await;
    assert!(assigned.status.is_success(), "{:?}", assigned.body);
    let audience = mgmt.creds.management_audience.clone();
    let widened = format!("update:tenant_settings {audience}");
    let resp = post_form(
        &mgmt,
        &browser,
        &format!("/admin/roles/{helpers}/permissions"),
        &[("permission", &widened)],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 403);
    let held = management_permissions_of(&mgmt, &dave).await;
    assert!(!held.contains(&"role Admin".to_string()), "{held:?}");
    let role_permissions = mgmt.get(&format!("/roles/{helpers}/permissions")).await;
    assert_eq!(role_permissions.body, json!([]));
    // Within its own permissions the role manager still works.
    let kept = format!("read:roles {audience}");
    let resp = post_form(
        &mgmt,
        &browser,
        &format!("/admin/roles/{helpers}/permissions"),
        &[("permission", &kept)],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
}

#[tokio::test]
async fn return_to_never_leaves_the_dashboard_nor_breaks_the_location_header() {
    let dash = Dashboard::start().await;
    for bad in [
        "%2Fadmin%2F%0D%0AX-Evil%3A%201",
        "%2Fadmin%2F..%2Fauthorize",
        "%2Fadmin%2F%2e%2E%2Fv2%2Flogout",
    ] {
        let resp = get(
            &dash.browser,
            &dash
                .server()
                .url(&format!("/admin/sign-in?return_to={bad}")),
        )
        .await;
        assert_eq!(resp.status().as_u16(), 303, "{bad}");
        assert_eq!(location(&resp), "/admin", "{bad}");
        // The same path through a whole sign-in, kept in the transaction cookie.
        let browser = dash.server().browser();
        let (email, password) = (
            &dash.mgmt.creds.admin_email,
            &dash.mgmt.creds.admin_password,
        );
        let start = format!("/admin/sign-in/start?return_to={bad}");
        let landed = sign_in_at(dash.server(), &browser, &start, email, password).await;
        assert_eq!(landed.status().as_u16(), 303, "{bad}");
        assert_eq!(location(&landed), "/admin", "{bad}");
    }
}

const APP_MANAGER: &[&str] = &[
    "read:clients",
    "read:client_grants",
    "read:resource_servers",
    "create:clients",
    "update:clients",
    "delete:clients",
    "update:client_keys",
    "create:client_grants",
    "update:client_grants",
    "delete:client_grants",
];

const API_MANAGER: &[&str] = &[
    "read:resource_servers",
    "read:client_grants",
    "read:clients",
    "create:resource_servers",
    "update:resource_servers",
    "delete:resource_servers",
    "create:client_grants",
    "update:client_grants",
    "delete:client_grants",
];

async fn system_api_id(mgmt: &Mgmt) -> String {
    let apis = mgmt.get("/resource-servers").await.body;
    let system = apis
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["is_system"] == json!(true));
    system.expect("the system API")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn m2m_app(mgmt: &Mgmt) -> String {
    let created = mgmt
        .post(
            "/clients",
            json!({"name": "worker", "app_type": "non_interactive", "grant_types": ["client_credentials"]}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{:?}", created.body);
    created.body["client_id"].as_str().unwrap().to_string()
}

async fn management_scopes_of(mgmt: &Mgmt, client_id: &str) -> Vec<String> {
    let audience = encode(&[("audience", mgmt.creds.management_audience.as_str())]);
    let grants = mgmt
        .get(&format!("/client-grants?client_id={client_id}&{audience}"))
        .await;
    grants
        .body
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| {
            g["scope"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
        })
        .collect()
}

#[tokio::test]
async fn an_app_manager_cannot_grant_management_scopes_it_lacks_nor_read_the_system_secret() {
    let mgmt = Mgmt::start().await;
    let (_, browser) = narrow_admin(&mgmt, "erin@example.com", APP_MANAGER).await;
    let worker = m2m_app(&mgmt).await;
    let system = system_api_id(&mgmt).await;
    let resp = post_form(
        &mgmt,
        &browser,
        &format!("/admin/applications/{worker}/apis/{system}"),
        &[("scope", "create:role_members"), ("scope", "read:clients")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 422);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("your own account does not hold it"));
    assert!(management_scopes_of(&mgmt, &worker).await.is_empty());
    let resp = post_form(
        &mgmt,
        &browser,
        &format!("/admin/applications/{worker}/apis/{system}"),
        &[("scope", "read:clients")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    // The System application holds every Management API scope: its new
    // secret is not shown to an admin who holds fewer.
    let system_client = mgmt.creds.management_client_id.clone();
    let resp = post_form(
        &mgmt,
        &browser,
        &format!("/admin/applications/{system_client}/rotate-secret"),
        &[],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 403);
    // The old secret still works (client_credentials asserts a 200).
    crate::management::client_credentials(
        &mgmt.server,
        &system_client,
        &mgmt.creds.management_client_secret,
        &mgmt.creds.management_audience,
    )
    .await;
    // The worker's grant is within erin's own permissions: she may rotate it.
    let resp = post_form(
        &mgmt,
        &browser,
        &format!("/admin/applications/{worker}/rotate-secret"),
        &[],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn an_api_manager_cannot_authorize_an_application_beyond_its_own_permissions() {
    let mgmt = Mgmt::start().await;
    let (_, browser) = narrow_admin(&mgmt, "frank@example.com", API_MANAGER).await;
    let worker = m2m_app(&mgmt).await;
    let system = system_api_id(&mgmt).await;
    let resp = post_form(
        &mgmt,
        &browser,
        &format!("/admin/apis/{system}/m2m/{worker}"),
        &[("authorized", "on"), ("scope", "update:users")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 403);
    assert!(management_scopes_of(&mgmt, &worker).await.is_empty());
    let resp = post_form(
        &mgmt,
        &browser,
        &format!("/admin/apis/{system}/m2m/{worker}"),
        &[("authorized", "on"), ("scope", "read:clients")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(management_scopes_of(&mgmt, &worker).await, ["read:clients"]);
}

/// Ids, searches and filters no one would type: each page answers without a
/// 500 on both backends (PostgreSQL refuses a NUL character in text).
#[tokio::test]
async fn hostile_paths_and_queries_never_give_a_500() {
    let dash = Dashboard::start().await;
    let long = "x".repeat(5000);
    let paths = [
        "/admin/users/%00".to_string(),
        "/admin/users/a%00b/roles".to_string(),
        "/admin/users/%00/permissions".to_string(),
        "/admin/users/%00/logs".to_string(),
        "/admin/users/%FF".to_string(),
        "/admin/users?q=%00".to_string(),
        "/admin/users?q=email:%22a%00%22".to_string(),
        "/admin/users?q=a%25_%5C*".to_string(),
        format!("/admin/users?q={long}"),
        format!("/admin/users?q={}", "a+".repeat(31_000)),
        format!("/admin/users?q={}", "name:a*+".repeat(7_900)),
        "/admin/users?page=1000000000000".to_string(),
        "/admin/users?page=-1&per_page=-5".to_string(),
        "/admin/roles/%00".to_string(),
        "/admin/roles/%00/users".to_string(),
        "/admin/roles/%00/permissions".to_string(),
        "/admin/roles?q=%00".to_string(),
        "/admin/roles?page=1000000000000".to_string(),
        "/admin/apis/%00".to_string(),
        "/admin/apis/%00/m2m".to_string(),
        "/admin/apis/%00/permissions".to_string(),
        "/admin/applications/%00/apis".to_string(),
        "/admin/logs/%00".to_string(),
        "/admin/logs?user=%00".to_string(),
        "/admin/logs?type=%00&client=%00&from=%00&to=%00".to_string(),
        "/admin/logs?page=1000000000000".to_string(),
        format!("/admin/logs/{long}"),
        "/admin/why/simulate?client=%00&user=%00&api=%00&scope=%00".to_string(),
        "/admin/settings/keys/%00/revoke".to_string(),
        "/admin/users/%2F..%2F..%2Fsettings".to_string(),
    ];
    let mut failures = Vec::new();
    for path in &paths {
        let started = std::time::Instant::now();
        let (status, _) = dash.page(path).await;
        let took = started.elapsed();
        if took.as_secs() >= 2 {
            failures.push(format!("GET {}…: {took:?}", &path[..path.len().min(40)]));
        }
        if status >= 500 {
            failures.push(format!("GET {}…: {status}", &path[..path.len().min(60)]));
        }
    }
    let posts: [(&str, &[(&str, &str)]); 6] = [
        (
            "/admin/users/new",
            &[("email", "a\0@example.com"), ("password", "p\0")],
        ),
        (
            "/admin/roles/new",
            &[("name", "r\0"), ("description", "\0")],
        ),
        (
            "/admin/apis/new",
            &[("name", "a\0"), ("identifier", "https://a\0")],
        ),
        (
            "/admin/applications/new",
            &[("name", "n\0"), ("app_type", "spa")],
        ),
        ("/admin/why", &[("input", "\0")]),
        ("/admin/users/%00/roles", &[("role", "\0")]),
    ];
    for (action, pairs) in posts {
        let resp = dash.submit("/admin", action, pairs).await;
        if resp.status().is_server_error() {
            failures.push(format!("POST {action}: {}", resp.status()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The home page's recent failures are log events: only an admin who may
/// read the logs sees them.
#[tokio::test]
async fn the_home_page_shows_failures_only_to_admins_who_may_read_the_logs() {
    let mgmt = Mgmt::start().await;
    let failed = mgmt
        .server
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", mgmt.creds.management_client_id.as_str()),
                ("client_secret", "not-the-secret"),
                ("audience", mgmt.creds.management_audience.as_str()),
            ],
        )
        .await;
    assert_eq!(failed.status.as_u16(), 401, "{}", failed.text);
    let admin = mgmt.server.browser();
    let (email, password) = (&mgmt.creds.admin_email, &mgmt.creds.admin_password);
    sign_in(&mgmt.server, &admin, email, password).await;
    let home = get(&admin, &mgmt.server.url("/admin"))
        .await
        .text()
        .await
        .unwrap();
    assert!(home.contains("Failed · "), "{home}");
    let (_, browser) = narrow_admin(&mgmt, "gina@example.com", &["read:users"]).await;
    let home = get(&browser, &mgmt.server.url("/admin"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!home.contains("Failed · "), "{home}");
    assert!(!home.contains("Recent failures"), "{home}");
}

/// The bootstrap admin's user id.
async fn bootstrap_admin_id(mgmt: &Mgmt) -> String {
    let q = encode(&[(
        "q",
        format!("email:\"{}\"", mgmt.creds.admin_email).as_str(),
    )]);
    let found = mgmt.get(&format!("/users?{q}")).await.body;
    found[0]["user_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_user_manager_cannot_take_over_block_or_demote_an_admin_who_outranks_it() {
    let mgmt = Mgmt::start().await;
    let (carol, browser) = narrow_admin(&mgmt, "carol@example.com", USER_MANAGER).await;
    let boss = bootstrap_admin_id(&mgmt).await;
    let base = format!("/admin/users/{}", encode_id(&boss));
    let stolen = "carol-owns-this-now-123";
    let tries: [(String, Vec<(&str, &str)>); 5] = [
        (
            format!("{base}/password"),
            vec![("password", stolen), ("password_repeat", stolen)],
        ),
        (
            base.clone(),
            vec![
                ("email", "carol+boss@example.com"),
                ("app_metadata", "{}"),
                ("user_metadata", "{}"),
            ],
        ),
        (format!("{base}/block"), vec![]),
        (format!("{base}/delete"), vec![]),
        (
            format!("{base}/roles/{}/remove", admin_role_id(&mgmt).await),
            vec![],
        ),
    ];
    for (action, pairs) in &tries {
        let resp = post_form(&mgmt, &browser, action, pairs).await;
        assert_eq!(resp.status().as_u16(), 403, "{action}");
    }
    let boss_now = mgmt.get(&format!("/users/{}", encode_id(&boss))).await.body;
    assert_eq!(boss_now["email"], json!(mgmt.creds.admin_email));
    assert_ne!(boss_now["blocked"], json!(true));
    let admin = mgmt.server.browser();
    let landed = sign_in(
        &mgmt.server,
        &admin,
        &mgmt.creds.admin_email,
        &mgmt.creds.admin_password,
    )
    .await;
    assert_eq!(
        location(&landed),
        "/admin",
        "the admin still signs in with the own password"
    );
    // Carol still manages users who do not outrank her, herself included.
    let dave = narrow_admin(&mgmt, "dave@example.com", &["read:users"])
        .await
        .0;
    let resp = post_form(
        &mgmt,
        &browser,
        &format!("/admin/users/{}/block", encode_id(&dave)),
        &[],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    let mine = format!("/admin/users/{}/password", encode_id(&carol));
    let resp = post_form(
        &mgmt,
        &browser,
        &mine,
        &[("password", stolen), ("password_repeat", stolen)],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
}

async fn role_permission_total(mgmt: &Mgmt, role: &str) -> u64 {
    let path = format!("/roles/{role}/permissions?include_totals=true&per_page=1");
    let reply = mgmt.get(&path).await;
    reply.body["total"].as_u64().expect("a total")
}

#[tokio::test]
async fn a_role_manager_cannot_strip_rename_or_delete_the_admin_role() {
    let mgmt = Mgmt::start().await;
    let (_, browser) = narrow_admin(&mgmt, "dave@example.com", ROLE_MANAGER).await;
    let admin_role = admin_role_id(&mgmt).await;
    let boss = bootstrap_admin_id(&mgmt).await;
    let before = role_permission_total(&mgmt, &admin_role).await;
    let audience = encode(&[("api", mgmt.creds.management_audience.as_str())]);
    let base = format!("/admin/roles/{admin_role}");
    let tries: [(String, Vec<(&str, &str)>); 4] = [
        (
            base.clone(),
            vec![("name", "Not admin"), ("description", "")],
        ),
        (format!("{base}/delete"), vec![]),
        (
            format!("{base}/users/remove?user_id={}", encode_id(&boss)),
            vec![],
        ),
        (
            format!("{base}/permissions/remove?{audience}&scope=access:dashboard"),
            vec![],
        ),
    ];
    for (action, pairs) in &tries {
        let resp = post_form(&mgmt, &browser, action, pairs).await;
        assert_eq!(resp.status().as_u16(), 403, "{action}");
    }
    let role = mgmt.get(&format!("/roles/{admin_role}")).await.body;
    assert_eq!(role["name"], json!("Admin"));
    assert_eq!(role_permission_total(&mgmt, &admin_role).await, before);
    let admin = mgmt.server.browser();
    let landed = sign_in(
        &mgmt.server,
        &admin,
        &mgmt.creds.admin_email,
        &mgmt.creds.admin_password,
    )
    .await;
    assert_eq!(location(&landed), "/admin");
}

#[tokio::test]
async fn an_app_or_api_manager_cannot_cut_the_system_application_off() {
    let mgmt = Mgmt::start().await;
    let (_, erin) = narrow_admin(&mgmt, "erin@example.com", APP_MANAGER).await;
    let (_, frank) = narrow_admin(&mgmt, "frank@example.com", API_MANAGER).await;
    let system_client = mgmt.creds.management_client_id.clone();
    let system = system_api_id(&mgmt).await;
    let before = management_scopes_of(&mgmt, &system_client).await;
    let tries = [
        (
            &erin,
            format!("/admin/applications/{system_client}/apis/{system}/remove"),
            vec![],
        ),
        (
            &erin,
            format!("/admin/applications/{system_client}/apis/{system}"),
            vec![("scope", "read:clients")],
        ),
        (
            &erin,
            format!("/admin/applications/{system_client}"),
            vec![("name", "renamed")],
        ),
        (
            &frank,
            format!("/admin/apis/{system}/m2m/{system_client}/revoke"),
            vec![],
        ),
        (
            &frank,
            format!("/admin/apis/{system}/m2m/{system_client}"),
            vec![("authorized", "on"), ("scope", "read:clients")],
        ),
    ];
    for (browser, action, pairs) in &tries {
        let resp = post_form(&mgmt, browser, action, pairs).await;
        assert_eq!(resp.status().as_u16(), 403, "{action}");
    }
    assert_eq!(management_scopes_of(&mgmt, &system_client).await, before);
    let client = mgmt.get(&format!("/clients/{system_client}")).await.body;
    assert_ne!(client["name"], json!("renamed"));
}
