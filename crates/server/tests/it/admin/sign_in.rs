//! Who gets into the dashboard, and for how long.

use super::{csrf_in, sign_in, sign_in_at, Dashboard};
use crate::authorize::{get, location};
use crate::management::Mgmt;
use serde_json::json;

const PASSWORD: &str = "a-long-enough-password-1";

/// Creates a user with [`PASSWORD`]; returns its id.
async fn create_user(mgmt: &Mgmt, email: &str) -> String {
    let reply = mgmt
        .post(
            "/users",
            json!({"email": email, "password": PASSWORD, "connection": "Username-Password-Authentication", "verify_email": false}),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{:?}", reply.body);
    reply.body["user_id"].as_str().unwrap().to_string()
}

async fn admin_role_id(mgmt: &Mgmt) -> String {
    let roles = mgmt.get("/roles?name_filter=Admin").await.body;
    roles[0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn signed_out_browsers_get_the_sign_in_page_and_nothing_else() {
    let mgmt = Mgmt::start().await;
    let browser = mgmt.server.browser();
    for path in [
        "/admin",
        "/admin/",
        "/admin/applications",
        "/admin/users?q=x",
    ] {
        let resp = get(&browser, &mgmt.server.url(path)).await;
        assert_eq!(resp.status().as_u16(), 303, "{path}");
        assert!(location(&resp).starts_with("/admin/sign-in"), "{path}");
    }
    let resp = get(&browser, &mgmt.server.url("/admin/users?q=x")).await;
    assert_eq!(
        location(&resp),
        "/admin/sign-in?return_to=%2Fadmin%2Fusers%3Fq%3Dx"
    );
    let page = get(&browser, &mgmt.server.url("/admin/sign-in")).await;
    assert_eq!(page.status().as_u16(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign in to the dashboard"));
    assert!(
        !html.contains("Applications"),
        "no navigation before sign-in"
    );
    // htmx asks for a full navigation instead of a redirect inside the page.
    let resp = browser
        .get(mgmt.server.url("/admin/users"))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["hx-redirect"],
        "/admin/sign-in?return_to=%2Fadmin%2Fusers"
    );
    // A form post without a session changes nothing and leads to sign-in.
    let resp = browser
        .post(mgmt.server.url("/admin/sign-out"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&resp), "/admin/sign-in");
}

#[tokio::test]
async fn the_bootstrap_admin_signs_in_and_comes_back_to_the_page_asked_for() {
    let dash = Dashboard::start().await;
    let (status, html) = dash.page("/admin").await;
    assert_eq!(status, 200);
    assert!(html.contains(&dash.mgmt.creds.admin_email), "{html}");
    assert!(html.contains("aria-current=\"page\""));
    // The session cookie: HttpOnly, Strict, only for /admin.
    let server = dash.server();
    let browser = server.browser();
    let landed = sign_in_at(
        server,
        &browser,
        "/admin/sign-in/start?return_to=%2Fadmin%2Fusers%3Fq%3Da",
        &dash.mgmt.creds.admin_email,
        &dash.mgmt.creds.admin_password,
    )
    .await;
    assert_eq!(location(&landed), "/admin/users?q=a");
    let cookie = landed
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .find(|c| c.starts_with("gatehouse_admin="))
        .unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    // An outside return_to is ignored.
    for evil in [
        "https://evil.example/",
        "//evil.example/admin",
        "/admin/callback",
    ] {
        let url = format!(
            "/admin/sign-in?return_to={}",
            form_urlencoded::byte_serialize(evil.as_bytes()).collect::<String>()
        );
        let resp = get(&browser, &server.url(&url)).await;
        assert_eq!(location(&resp), "/admin", "{evil}");
    }
}

#[tokio::test]
async fn a_user_without_the_permission_is_refused_until_a_role_grants_it() {
    let mgmt = Mgmt::start().await;
    let bob = create_user(&mgmt, "bob@example.com").await;
    let browser = mgmt.server.browser();
    let refused = sign_in(&mgmt.server, &browser, "bob@example.com", PASSWORD).await;
    assert_eq!(refused.status().as_u16(), 403);
    let cookies: Vec<_> = refused.headers().get_all("set-cookie").iter().collect();
    assert!(cookies
        .iter()
        .all(|c| !c.to_str().unwrap().starts_with("gatehouse_admin=")
            || c.to_str().unwrap().starts_with("gatehouse_admin=;")));
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("bob@example.com") && html.contains("access:dashboard"),
        "{html}"
    );
    let resp = get(&browser, &mgmt.server.url("/admin")).await;
    assert_eq!(resp.status().as_u16(), 303);

    // The Admin role opens it; taking the role away closes it at once.
    let role = admin_role_id(&mgmt).await;
    let assign = mgmt
        .post(&format!("/users/{bob}/roles"), json!({"roles": [role]}))
        .await;
    assert!(assign.status.is_success(), "{:?}", assign.body);
    let admitted = sign_in(&mgmt.server, &browser, "bob@example.com", PASSWORD).await;
    assert_eq!(location(&admitted), "/admin");
    let home = get(&browser, &mgmt.server.url("/admin")).await;
    assert_eq!(home.status().as_u16(), 200);
    let removed = mgmt
        .call(
            reqwest::Method::DELETE,
            &format!("/users/{bob}/roles"),
            Some(json!({"roles": [role]})),
        )
        .await;
    assert!(removed.status.is_success(), "{:?}", removed.body);
    let resp = get(&browser, &mgmt.server.url("/admin")).await;
    assert_eq!(
        resp.status().as_u16(),
        303,
        "the role is gone, so is the access"
    );

    // A blocked user is out too, role or not.
    mgmt.post(&format!("/users/{bob}/roles"), json!({"roles": [role]}))
        .await;
    assert_eq!(
        get(&browser, &mgmt.server.url("/admin"))
            .await
            .status()
            .as_u16(),
        200
    );
    let blocked = mgmt
        .patch(&format!("/users/{bob}"), json!({"blocked": true}))
        .await;
    assert!(blocked.status.is_success(), "{:?}", blocked.body);
    assert_eq!(
        get(&browser, &mgmt.server.url("/admin"))
            .await
            .status()
            .as_u16(),
        303
    );
}

#[tokio::test]
async fn sign_out_needs_the_csrf_token_and_ends_the_session() {
    let dash = Dashboard::start().await;
    let server = dash.server();
    let refused = dash.post("/admin/sign-out", &[("csrf", "forged")]).await;
    assert_eq!(refused.status().as_u16(), 403);
    assert_eq!(dash.page("/admin").await.0, 200, "still signed in");
    let cross_site = dash
        .browser
        .post(server.url("/admin/sign-out"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}", csrf_in(&dash.page("/admin").await.1)))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status().as_u16(), 403);
    assert_eq!(dash.page("/admin").await.0, 200, "still signed in");

    let out = dash.submit("/admin", "/admin/sign-out", &[]).await;
    assert_eq!(out.status().as_u16(), 303);
    assert!(location(&out).starts_with("/v2/logout?client_id="));
    assert_eq!(dash.page("/admin").await.0, 303, "signed out");
    // /v2/logout ends the SSO session too and comes back to the sign-in page.
    let logout = get(&dash.browser, &server.url(&location(&out))).await;
    assert_eq!(location(&logout), format!("{}admin/sign-in", server.issuer));
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_lifetime() {
    let dash = Dashboard::start().await;
    let clock = &dash.server().clock;
    clock.advance(gatehouse_server::admin::session::IDLE - 10);
    assert_eq!(
        dash.page("/admin").await.0,
        200,
        "activity moves the idle expiry"
    );
    clock.advance(gatehouse_server::admin::session::IDLE - 10);
    assert_eq!(dash.page("/admin").await.0, 200);
    clock.advance(gatehouse_server::admin::session::IDLE + 1);
    assert_eq!(dash.page("/admin").await.0, 303, "idle too long");

    let dash = Dashboard::start().await;
    let clock = &dash.server().clock;
    let step = gatehouse_server::admin::session::IDLE / 2;
    let mut elapsed = 0;
    while elapsed < gatehouse_server::admin::session::LIFETIME - step {
        clock.advance(step);
        elapsed += step;
        assert_eq!(dash.page("/admin").await.0, 200);
    }
    clock.advance(step + 1);
    assert_eq!(
        dash.page("/admin").await.0,
        303,
        "past the absolute lifetime"
    );
}

#[tokio::test]
async fn a_callback_without_its_transaction_or_with_another_state_signs_nobody_in() {
    let mgmt = Mgmt::start().await;
    let browser = mgmt.server.browser();
    let resp = get(&browser, &mgmt.server.url("/admin/callback?code=x&state=y")).await;
    assert_eq!(resp.status().as_u16(), 400);
    // A real transaction, then a callback with a state that is not its own.
    let start = get(&browser, &mgmt.server.url("/admin/sign-in/start")).await;
    assert_eq!(start.status().as_u16(), 303);
    let resp = get(
        &browser,
        &mgmt.server.url("/admin/callback?code=x&state=other"),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 400);
    let resp = get(&browser, &mgmt.server.url("/admin")).await;
    assert_eq!(resp.status().as_u16(), 303);
    // An error from /authorize is shown on the sign-in page.
    let start = get(&browser, &mgmt.server.url("/admin/sign-in/start")).await;
    let state = crate::authorize::params_of(&location(&start), '?')["state"].clone();
    let resp = get(
        &browser,
        &mgmt.server.url(&format!(
            "/admin/callback?error=access_denied&error_description=no&state={state}"
        )),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.text().await.unwrap().contains("access_denied"));
}

#[tokio::test]
async fn a_narrow_role_opens_only_its_sections() {
    let mgmt = Mgmt::start().await;
    let carol = create_user(&mgmt, "carol@example.com").await;
    let audience = mgmt.creds.management_audience.clone();
    let permissions: Vec<_> = [
        "access:dashboard",
        "read:users",
        "read:roles",
        "read:logs_users",
    ]
    .iter()
    .map(|p| json!({"resource_server_identifier": audience, "permission_name": p}))
    .collect();
    let granted = mgmt
        .post(
            &format!("/users/{carol}/permissions"),
            json!({"permissions": permissions}),
        )
        .await;
    assert!(granted.status.is_success(), "{:?}", granted.body);
    let browser = mgmt.server.browser();
    let landed = sign_in(&mgmt.server, &browser, "carol@example.com", PASSWORD).await;
    assert_eq!(location(&landed), "/admin");
    let home = get(&browser, &mgmt.server.url("/admin"))
        .await
        .text()
        .await
        .unwrap();
    assert!(home.contains("href=\"/admin/users\""), "{home}");
    assert!(!home.contains("href=\"/admin/settings\""), "{home}");
    let settings = get(&browser, &mgmt.server.url("/admin/settings")).await;
    assert_eq!(settings.status().as_u16(), 403);
    assert!(settings
        .text()
        .await
        .unwrap()
        .contains("read:tenant_settings"));
    // Reading users does not allow changing them: refused before the form is read.
    let html = get(&browser, &mgmt.server.url("/admin"))
        .await
        .text()
        .await
        .unwrap();
    let resp = browser
        .post(mgmt.server.url("/admin/users/new"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}&email=x%40example.com", csrf_in(&html)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    let found = mgmt.get("/users?q=email:%22x@example.com%22").await;
    assert_eq!(found.body.as_array().map(Vec::len), Some(0));
}
