//! The pages with a cookie-keeping client: login (and SSO on the next
//! request), signup, consent (once on localhost, then silent auth works),
//! implicit and hybrid responses, logout, device activation.

use crate::authorize::{
    encode, get, location, params_of, spa_callback, spa_query, VERIFIER, WEB_CALLBACK,
};
use crate::fixtures::{seed, Seeded, API, PASSWORD};
use crate::support::TestServer;
use gatehouse_core::jose::half_hash;
use gatehouse_core::model::SigningAlg;
use reqwest::{Client, Response};
use serde_json::Value;

async fn start() -> (TestServer, Seeded) {
    let server = TestServer::start().await;
    let seeded = seed(server.store.as_ref()).await;
    let mut web = server.store.client(&seeded.web_id).await.unwrap().unwrap();
    web.client.allowed_logout_urls = vec!["https://web.example/bye".into()];
    server.store.update_client(&web).await.unwrap();
    (server, seeded)
}

/// A code request for the confidential web app (first-party, not loopback).
pub(crate) fn web_query(s: &Seeded, extra: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("client_id", &s.web_id),
        ("response_type", "code"),
        ("redirect_uri", WEB_CALLBACK),
        ("scope", "openid profile email"),
        ("state", "w-1"),
        ("nonce", "n-1"),
    ];
    for (k, v) in extra {
        pairs.retain(|(pk, _)| pk != k);
        pairs.push((k, v));
    }
    encode(&pairs)
}

/// The value of the hidden `csrf` field of a page.
pub(crate) async fn csrf(resp: Response) -> String {
    csrf_in(&resp.text().await.unwrap())
}

/// The value of the hidden `csrf` field in a page's HTML.
fn csrf_in(body: &str) -> String {
    let start = body.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    body[start..start + 43].to_string()
}

async fn post(browser: &Client, url: &str, pairs: &[(&str, &str)]) -> Response {
    browser
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(pairs))
        .send()
        .await
        .unwrap()
}

/// Posts `[csrf, authorize, email, password]` to the login or signup page.
pub(crate) async fn submit(
    server: &TestServer,
    browser: &Client,
    path: &str,
    fields: [&str; 4],
) -> Response {
    let [csrf, authorize, email, password] = fields;
    let form = [
        ("csrf", csrf),
        ("authorize", authorize),
        ("email", email),
        ("password", password),
    ];
    post(browser, &server.url(path), &form).await
}

/// Logs in through the login page for `query`; returns the response of the POST.
pub(crate) async fn log_in(
    server: &TestServer,
    browser: &Client,
    query: &str,
    email: &str,
) -> Response {
    let resp = get(browser, &server.url(&format!("/authorize?{query}"))).await;
    assert_eq!(location(&resp), format!("/u/login?{query}"));
    let page = get(browser, &server.url(&location(&resp))).await;
    assert_eq!(page.status().as_u16(), 200);
    let token = csrf(page).await;
    submit(
        server,
        browser,
        "/u/login",
        [&token, query, email, PASSWORD],
    )
    .await
}

pub(crate) async fn exchange_web(server: &TestServer, s: &Seeded, code: &str) -> Value {
    let resp = server
        .http
        .post(server.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", &s.web_id),
            ("client_secret", &s.web_secret),
            ("redirect_uri", WEB_CALLBACK),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    resp.json().await.unwrap()
}

pub(crate) fn jwt_claims(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn login_then_sso_then_prompt_login_and_errors() {
    let (server, s) = start().await;
    let browser = server.browser();
    // Wrong password, then a form without its CSRF token.
    let q = web_query(&s, &[]);
    let page = get(&browser, &server.url(&format!("/u/login?{q}"))).await;
    let set_cookie = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
    let token = csrf(page).await;
    let wrong = submit(
        &server,
        &browser,
        "/u/login",
        [&token, &q, "alice@example.com", "nope"],
    )
    .await;
    assert_eq!(wrong.status().as_u16(), 400);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("Wrong email or password."));
    let unknown = submit(
        &server,
        &browser,
        "/u/login",
        [&token, &q, "nobody@example.com", "nope"],
    )
    .await;
    assert!(unknown
        .text()
        .await
        .unwrap()
        .contains("Wrong email or password."));
    let events = server
        .store
        .search_log_events(&gatehouse_store::LogQuery::all())
        .await
        .unwrap();
    let codes: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert!(codes.contains(&"fp") && codes.contains(&"fu"), "{codes:?}");
    let forged = submit(
        &server,
        &browser,
        "/u/login",
        ["x", &q, "alice@example.com", PASSWORD],
    )
    .await;
    assert_eq!(forged.status().as_u16(), 403);

    // Login: straight back to the app with a code (first-party, no consent).
    let resp = log_in(&server, &browser, &q, "alice@example.com").await;
    assert_eq!(resp.status().as_u16(), 302);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("gatehouse_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("Max-Age=259200"),
        "{cookie}"
    );
    let loc = location(&resp);
    assert!(loc.starts_with(WEB_CALLBACK), "{loc}");
    let p = params_of(&loc, '?');
    assert_eq!(p["state"], "w-1");
    let tokens = exchange_web(&server, &s, &p["code"]).await;
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["sub"], s.alice.user_id.as_str());
    let sid = id["sid"].as_str().unwrap().to_string();
    assert!(id.get("auth_time").is_none());

    // SSO: a second request, even silent, needs no form; same session id.
    let resp = get(
        &browser,
        &server.url(&format!(
            "/authorize?{}",
            web_query(&s, &[("prompt", "none")])
        )),
    )
    .await;
    let p = params_of(&location(&resp), '?');
    let tokens = exchange_web(&server, &s, &p["code"]).await;
    assert_eq!(
        jwt_claims(tokens["id_token"].as_str().unwrap())["sid"],
        sid.as_str()
    );

    // prompt=login asks again; the new ID token carries auth_time.
    let q = web_query(&s, &[("prompt", "login")]);
    let resp = log_in(&server, &browser, &q, "alice@example.com").await;
    let p = params_of(&location(&resp), '?');
    let tokens = exchange_web(&server, &s, &p["code"]).await;
    assert!(jwt_claims(tokens["id_token"].as_str().unwrap())["auth_time"].is_i64());
}

#[tokio::test]
async fn localhost_consent_is_asked_once_then_silent_auth_works() {
    let (server, s) = start().await;
    let browser = server.browser();
    let q = spa_query(
        &s,
        &[
            ("audience", API),
            ("scope", "openid profile read:measurements"),
        ],
    );
    let resp = log_in(&server, &browser, &q, "alice@example.com").await;
    assert_eq!(location(&resp), format!("/u/consent?{q}"));
    // prompt=none meanwhile: consent_required, like Auth0.
    let silent = spa_query(
        &s,
        &[
            ("audience", API),
            ("scope", "openid profile read:measurements"),
            ("prompt", "none"),
        ],
    );
    let resp = get(&browser, &server.url(&format!("/authorize?{silent}"))).await;
    assert_eq!(
        params_of(&location(&resp), '?')["error"],
        "consent_required"
    );
    let page = get(&browser, &server.url(&format!("/u/consent?{q}"))).await;
    assert_eq!(page.status().as_u16(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"));
    let body = page.text().await.unwrap();
    assert!(
        body.contains("read:measurements") && body.contains("localhost"),
        "{body}"
    );
    let start = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let token = body[start..start + 43].to_string();
    let resp = post(
        &browser,
        &server.url("/u/consent"),
        &[("csrf", &token), ("authorize", &q), ("decision", "accept")],
    )
    .await;
    let p = params_of(&location(&resp), '?');
    assert!(location(&resp).starts_with(&spa_callback()));
    assert!(p.contains_key("code"));
    // The stored consent now lets prompt=none succeed on localhost.
    let resp = get(&browser, &server.url(&format!("/authorize?{silent}"))).await;
    let p = params_of(&location(&resp), '?');
    assert!(p.contains_key("code"), "{p:?}");
    let exchanged = server
        .http
        .post(server.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("client_id", &s.spa_id),
            ("code_verifier", VERIFIER),
            ("redirect_uri", &spa_callback()),
        ]))
        .send()
        .await
        .unwrap();
    let tokens: Value = exchanged.json().await.unwrap();
    let at = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(at["scope"], "openid profile read:measurements");
    // A scope not consented to asks again; declining answers access_denied.
    let more = spa_query(
        &s,
        &[
            ("audience", API),
            ("scope", "openid email"),
            ("prompt", "none"),
        ],
    );
    let resp = get(&browser, &server.url(&format!("/authorize?{more}"))).await;
    assert_eq!(
        params_of(&location(&resp), '?')["error"],
        "consent_required"
    );
    let q2 = spa_query(
        &s,
        &[
            ("audience", API),
            ("scope", "openid email"),
            ("prompt", "consent"),
        ],
    );
    let resp = post(
        &browser,
        &server.url("/u/consent"),
        &[("csrf", &token), ("authorize", &q2), ("decision", "deny")],
    )
    .await;
    let p = params_of(&location(&resp), '?');
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["state"], "st-123");
}

#[tokio::test]
async fn implicit_and_hybrid_responses_carry_hashes() {
    let (server, s) = start().await;
    let browser = server.browser();
    let q = web_query(
        &s,
        &[("response_type", "token id_token"), ("audience", API)],
    );
    let resp = log_in(&server, &browser, &q, "bob@example.com").await;
    let loc = location(&resp);
    assert!(loc.starts_with(&format!("{WEB_CALLBACK}#")), "{loc}");
    let p = params_of(&loc, '#');
    assert_eq!(p["token_type"], "Bearer");
    assert_eq!(p["state"], "w-1");
    let id = jwt_claims(&p["id_token"]);
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(
        id["at_hash"],
        half_hash(&p["access_token"], SigningAlg::RS256).as_str()
    );
    assert!(id.get("c_hash").is_none());
    let at = jwt_claims(&p["access_token"]);
    assert_eq!(at["scope"], "openid profile email");
    assert_eq!(p["expires_in"], "7200");
    // The front-channel token is logged under its jti, with the trace.
    let logged = server
        .store
        .log_event_by_jti(at["jti"].as_str().unwrap())
        .await
        .unwrap()
        .expect("the implicit issuance is logged");
    assert_eq!(logged.event_type, "s");
    assert_eq!(logged.client_id.as_deref(), Some(s.web_id.as_str()));
    assert_eq!(logged.user_name.as_deref(), Some("bob@example.com"));
    assert_eq!(logged.audience.as_deref(), Some(API));
    assert!(logged.details["trace"]["audience"].is_object());

    let q = web_query(
        &s,
        &[
            ("response_type", "code id_token"),
            ("response_mode", "form_post"),
        ],
    );
    let resp = get(&browser, &server.url(&format!("/authorize?{q}"))).await;
    let body = resp.text().await.unwrap();
    let value = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = body.find(&marker).unwrap() + marker.len();
        body[start..].split('"').next().unwrap().to_string()
    };
    let id = jwt_claims(&value("id_token"));
    assert_eq!(
        id["c_hash"],
        half_hash(&value("code"), SigningAlg::RS256).as_str()
    );
    assert!(id.get("at_hash").is_none());
}

#[tokio::test]
async fn signup_creates_the_user_and_logs_in() {
    let (server, s) = start().await;
    let browser = server.browser();
    let q = web_query(&s, &[("screen_hint", "signup")]);
    let resp = get(&browser, &server.url(&format!("/authorize?{q}"))).await;
    assert_eq!(location(&resp), format!("/u/signup?{q}"));
    let token = csrf(get(&browser, &server.url(&location(&resp))).await).await;
    let short = submit(
        &server,
        &browser,
        "/u/signup",
        [&token, &q, "carol@example.com", "short"],
    )
    .await;
    assert_eq!(short.status().as_u16(), 400);
    let dup = submit(
        &server,
        &browser,
        "/u/signup",
        [&token, &q, "alice@example.com", "long enough pw"],
    )
    .await;
    assert!(dup
        .text()
        .await
        .unwrap()
        .contains("The user already exists."));
    let resp = submit(
        &server,
        &browser,
        "/u/signup",
        [&token, &q, "carol@example.com", "long enough pw"],
    )
    .await;
    let p = params_of(&location(&resp), '?');
    let tokens = exchange_web(&server, &s, &p["code"]).await;
    assert_eq!(
        jwt_claims(tokens["id_token"].as_str().unwrap())["email"],
        "carol@example.com"
    );
}

#[tokio::test]
async fn signup_needs_a_valid_request_and_open_signup() {
    let (server, s) = start().await;
    let browser = server.browser();
    let q = web_query(&s, &[]);
    let token = csrf(get(&browser, &server.url(&format!("/u/login?{q}"))).await).await;
    let nobody_created = |server: &TestServer| {
        let store = server.store.clone();
        async move {
            let user = store
                .user_by_email(
                    gatehouse_core::model::DEFAULT_CONNECTION,
                    "dave@example.com",
                )
                .await
                .unwrap();
            assert!(user.is_none(), "a user was created: {user:?}");
        }
    };
    let page = get(&browser, &server.url("/u/signup")).await;
    assert_eq!(page.status().as_u16(), 400);
    let unregistered = web_query(&s, &[("redirect_uri", "https://evil.example/cb")]);
    let unknown_client = web_query(&s, &[("client_id", "no-such-client")]);
    for authorize in ["", unregistered.as_str(), unknown_client.as_str()] {
        let page = get(&browser, &server.url(&format!("/u/signup?{authorize}"))).await;
        assert_eq!(page.status().as_u16(), 400, "GET with {authorize:?}");
        let resp = submit(
            &server,
            &browser,
            "/u/signup",
            [&token, authorize, "dave@example.com", "long enough pw"],
        )
        .await;
        assert_eq!(resp.status().as_u16(), 400, "POST with {authorize:?}");
        nobody_created(&server).await;
    }

    let m = crate::management::Mgmt::on(server).await;
    let r = m
        .patch(
            "/connections/con_Gatehouse0Database",
            serde_json::json!({"options": {"disable_signup": true}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let server = &m.server;
    let hinted = web_query(&s, &[("screen_hint", "signup")]);
    let resp = get(&browser, &server.url(&format!("/authorize?{hinted}"))).await;
    assert_eq!(location(&resp), format!("/u/login?{hinted}"));
    let page = get(&browser, &server.url(&format!("/u/signup?{q}"))).await;
    assert_eq!(page.status().as_u16(), 400);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("public signup is disabled"));
    let resp = submit(
        server,
        &browser,
        "/u/signup",
        [&token, &q, "dave@example.com", "long enough pw"],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("public signup is disabled"));
    nobody_created(server).await;
    let login = get(&browser, &server.url(&format!("/u/login?{q}"))).await;
    assert!(!login.text().await.unwrap().contains("/u/signup"));
}

#[tokio::test]
async fn csrf_tokens_are_bound_to_the_browser_and_its_session() {
    let (server, s) = start().await;
    let q = web_query(&s, &[]);
    let login_url = server.url(&format!("/u/login?{q}"));
    let alice = s.alice.email.clone().unwrap();
    let refused = |resp: Response| async move {
        assert_eq!(resp.status().as_u16(), 403);
        let body = resp.text().await.unwrap();
        assert!(body.contains("This form expired"), "{body}");
    };

    // A made-up cookie/field pair that are equal.
    let forged = "A".repeat(43);
    let resp = server
        .http
        .post(server.url("/u/login"))
        .header("cookie", format!("gatehouse_csrf={forged}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("csrf", &forged),
            ("authorize", &q),
            ("email", &alice),
            ("password", PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    refused(resp).await;

    // A token from another browser.
    let a = server.browser();
    let token_a = csrf(get(&a, &login_url).await).await;
    let b = server.browser();
    assert_eq!(get(&b, &login_url).await.status().as_u16(), 200);
    refused(submit(&server, &b, "/u/login", [&token_a, &q, &alice, PASSWORD]).await).await;

    // The legitimate form works; afterwards the browser has a session, and
    // the token from before it is refused.
    let ok = submit(&server, &a, "/u/login", [&token_a, &q, &alice, PASSWORD]).await;
    assert!(location(&ok).contains("code="), "{ok:?}");
    refused(submit(&server, &a, "/u/login", [&token_a, &q, &alice, PASSWORD]).await).await;
    let fresh = csrf(get(&a, &login_url).await).await;
    let ok = submit(&server, &a, "/u/login", [&fresh, &q, &alice, PASSWORD]).await;
    assert!(location(&ok).contains("code="), "{ok:?}");
}

#[tokio::test]
async fn logout_endpoints_end_the_session() {
    let (server, s) = start().await;
    let browser = server.browser();
    let resp = log_in(&server, &browser, &web_query(&s, &[]), "alice@example.com").await;
    let tokens = exchange_web(&server, &s, &params_of(&location(&resp), '?')["code"]).await;
    let id_token = tokens["id_token"].as_str().unwrap().to_string();
    let silent = server.url(&format!(
        "/authorize?{}",
        web_query(&s, &[("prompt", "none")])
    ));

    // A returnTo that is not allowed: Auth0's page, and the session stays.
    let bad = "https://evil.example/";
    let resp = get(
        &browser,
        &server.url(&format!(
            "/v2/logout?{}",
            encode(&[("client_id", &s.web_id), ("returnTo", bad)])
        )),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp.headers().get("location").is_none());
    let body = crate::authorize::unescape(&resp.text().await.unwrap());
    assert!(body.contains(r#"The "returnTo" querystring parameter "https://evil.example/" is not defined as a valid URL in "Allowed Logout URLs"."#), "{body}");
    assert!(params_of(&location(&get(&browser, &silent).await), '?').contains_key("code"));

    let resp = get(
        &browser,
        &server.url(&format!(
            "/v2/logout?{}",
            encode(&[
                ("client_id", &s.web_id),
                ("returnTo", "https://web.example/bye"),
                ("federated", "")
            ])
        )),
    )
    .await;
    assert_eq!(location(&resp), "https://web.example/bye");
    assert!(resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        params_of(&location(&get(&browser, &silent).await), '?')["error"],
        "login_required"
    );

    // /oidc/logout with an id_token_hint: at once, back with state.
    log_in(&server, &browser, &web_query(&s, &[]), "alice@example.com").await;
    let resp = get(
        &browser,
        &server.url(&format!(
            "/oidc/logout?{}",
            encode(&[
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", "https://web.example/bye"),
                ("state", "s 1"),
            ])
        )),
    )
    .await;
    assert_eq!(location(&resp), "https://web.example/bye?state=s+1");
    assert_eq!(
        params_of(&location(&get(&browser, &silent).await), '?')["error"],
        "login_required"
    );
    let resp = get(
        &browser,
        &server.url(&format!(
            "/oidc/logout?{}",
            encode(&[
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ])
        )),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 400);
    let resp = get(&browser, &server.url("/oidc/logout?id_token_hint=garbage")).await;
    assert_eq!(resp.status().as_u16(), 400);

    // Without a hint the person confirms first.
    log_in(&server, &browser, &web_query(&s, &[]), "alice@example.com").await;
    let page = get(
        &browser,
        &server.url(&format!("/oidc/logout?client_id={}", s.web_id)),
    )
    .await;
    assert_eq!(page.status().as_u16(), 200);
    let token = csrf(page).await;
    assert!(params_of(&location(&get(&browser, &silent).await), '?').contains_key("code"));
    let resp = post(
        &browser,
        &server.url("/oidc/logout/confirm"),
        &[
            ("csrf", &token),
            ("client_id", &s.web_id),
            ("post_logout_redirect_uri", "https://web.example/bye"),
            ("decision", "logout"),
        ],
    )
    .await;
    assert_eq!(location(&resp), "https://web.example/bye");
    assert_eq!(
        params_of(&location(&get(&browser, &silent).await), '?')["error"],
        "login_required"
    );
}

#[tokio::test]
async fn device_activation_approves_the_device() {
    let (server, s) = start().await;
    let browser = server.browser();
    let started: Value = server
        .http
        .post(server.url("/oauth/device/code"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("client_id", &s.spa_id),
            ("scope", "openid profile"),
        ]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_code = started["user_code"].as_str().unwrap().to_string();
    let typed = user_code.to_lowercase().replace('-', " ");
    // Not logged in: the login page, which then comes back to /activate.
    let page = get(
        &browser,
        &server.url(&format!("/activate?{}", encode(&[("user_code", &typed)]))),
    )
    .await;
    let token = csrf(page).await;
    let resp = post(
        &browser,
        &server.url("/u/login"),
        &[
            ("csrf", &token),
            ("authorize", ""),
            ("user_code", &user_code),
            ("email", "alice@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(location(&resp), format!("/activate?user_code={user_code}"));
    let page = get(&browser, &server.url(&location(&resp))).await;
    let body = page.text().await.unwrap();
    assert!(body.contains("SPA") && body.contains(&user_code), "{body}");
    // Logging in started a session: forms now carry tokens bound to it.
    let token = csrf_in(&body);
    let bad = get(&browser, &server.url("/activate?user_code=BBBB-BBBB")).await;
    assert_eq!(bad.status().as_u16(), 400);
    let resp = post(
        &browser,
        &server.url("/activate"),
        &[
            ("csrf", &token),
            ("user_code", &user_code),
            ("decision", "approve"),
        ],
    )
    .await;
    assert!(resp.text().await.unwrap().contains("Device connected"));
    let polled: Value = server
        .http
        .post(server.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", started["device_code"].as_str().unwrap()),
            ("client_id", &s.spa_id),
        ]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(polled["access_token"].is_string(), "{polled}");
}

/// The login page counts failures like the password grant does: after
/// `max_attempts` wrong passwords the (IP, email) pair is blocked, even for
/// the right password, and one `limit_wc` event is logged.
#[tokio::test]
async fn login_page_blocks_after_repeated_failures() {
    let (server, s) = start().await;
    let mut settings = server.store.tenant_settings().await.unwrap();
    settings.brute_force_protection.max_attempts = 3;
    server.store.put_tenant_settings(&settings).await.unwrap();
    let browser = server.browser();
    let q = web_query(&s, &[]);
    let token = csrf(get(&browser, &server.url(&format!("/u/login?{q}"))).await).await;
    let (server, browser, token, q) = (&server, &browser, &token, &q);
    let attempt = |password: &'static str| async move {
        let fields = [token.as_str(), q.as_str(), "Alice@example.com", password];
        let resp = submit(server, browser, "/u/login", fields).await;
        (resp.status().as_u16(), resp.text().await.unwrap())
    };
    for _ in 0..2 {
        let (status, body) = attempt("wrong").await;
        assert_eq!(status, 400);
        assert!(body.contains("Wrong email or password."));
    }
    let (status, body) = attempt("wrong").await;
    assert_eq!(status, 429);
    assert!(body.contains("blocked after multiple consecutive login attempts"));
    let (status, _) = attempt(PASSWORD).await;
    assert_eq!(status, 429, "blocked even with the right password");
    let events = server
        .store
        .search_log_events(&gatehouse_store::LogQuery::all())
        .await
        .unwrap();
    let blocks: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "limit_wc")
        .collect();
    assert_eq!(blocks.len(), 1, "{events:?}");
    assert_eq!(blocks[0].client_id.as_deref(), Some(s.web_id.as_str()));
}

/// Every page surface refuses with the one HTML error page: its status,
/// `no-store`, the page CSP and a description for the person (never JSON,
/// never a blank body).
#[tokio::test]
async fn every_page_surface_refuses_with_the_error_page() {
    let (server, s) = start().await;
    let browser = server.browser();
    let unknown_client = web_query(&s, &[("client_id", "no-such-client")]);
    let expired = "This form expired or was sent from another site.";
    let gets = [
        (
            "/u/login".to_string(),
            400,
            "Start again from your application.",
        ),
        (
            format!("/u/signup?{unknown_client}"),
            400,
            "invalid_request",
        ),
        (
            format!("/u/consent?{unknown_client}"),
            400,
            "invalid_request",
        ),
        (
            "/v2/logout?client_id=nope".to_string(),
            400,
            "Unknown client: nope",
        ),
        (
            "/oidc/logout?id_token_hint=junk".to_string(),
            400,
            "The id_token_hint is not a valid ID token issued by this server.",
        ),
    ];
    let mut replies = Vec::new();
    for (path, status, text) in gets {
        replies.push((
            path.clone(),
            status,
            text,
            get(&browser, &server.url(&path)).await,
        ));
    }
    for path in [
        "/u/login",
        "/u/signup",
        "/u/consent",
        "/activate",
        "/oidc/logout/confirm",
    ] {
        let reply = post(&browser, &server.url(path), &[("csrf", "forged")]).await;
        replies.push((format!("POST {path}"), 403, expired, reply));
    }
    for (case, status, text, reply) in replies {
        assert_eq!(reply.status().as_u16(), status, "{case}");
        let header = |name: &str| {
            reply
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        assert!(header("content-type").starts_with("text/html"), "{case}");
        assert_eq!(header("cache-control"), "no-store", "{case}");
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "{case}"
        );
        let body = reply.text().await.unwrap();
        assert!(body.contains(text), "{case}: {body}");
        assert!(body.contains("Gatehouse"), "{case}: {body}");
    }
}
