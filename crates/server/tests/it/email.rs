//! Email flows over HTTP, with the server's outbox as the mailbox: signup
//! through `/dbconnections/signup` and the signup page, verification links,
//! `/dbconnections/change_password`, the "Forgot your password?" page, the
//! reset page, and what an attacker tries first: reused, expired, superseded
//! and forged links, enumeration by reply or by mail, floods.

use crate::authorize::{encode, get, location};
use crate::fixtures::{seed, Seeded, PASSWORD, SPA_ORIGIN};
use crate::management::user_flows::{csrf_field, post};
use crate::pages::web_query;
use crate::support::TestServer;
use reqwest::StatusCode;
use serde_json::{json, Value};

const NEW_PASSWORD: &str = "a fresh long passphrase 42";

async fn start() -> (TestServer, Seeded) {
    let server = TestServer::start().await;
    let seeded = seed(server.store.as_ref()).await;
    (server, seeded)
}

async fn post_json(server: &TestServer, path: &str, body: Value) -> (StatusCode, String) {
    let resp = server
        .http
        .post(server.url(path))
        .header("origin", SPA_ORIGIN)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

fn signup_body(s: &Seeded, email: &str, password: &str) -> Value {
    json!({
        "client_id": s.spa_id,
        "email": email,
        "password": password,
        "connection": "Username-Password-Authentication",
    })
}

/// The link in a mail (the first `http…ticket=…#`), decoded from quoted-printable soft breaks.
fn link_in(mail: &str) -> String {
    let flat = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let start = flat.find("http://127.0.0.1").expect("a link in the mail");
    let end = flat[start..]
        .find(['#', '"', '<', ' ', '\r', '\n'])
        .expect("the end of the link")
        + start;
    flat[start..end].to_string()
}

/// The link's path and query, for the test server's client.
fn path_of(server: &TestServer, link: &str) -> String {
    link.strip_prefix(&server.base_url)
        .expect("a link to this server")
        .to_string()
}

async fn password_grant(
    server: &TestServer,
    s: &Seeded,
    email: &str,
    password: &str,
) -> StatusCode {
    server
        .http
        .post(server.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("grant_type", "password"),
            ("client_id", &s.web_id),
            ("client_secret", &s.web_secret),
            ("username", email),
            ("password", password),
            ("scope", "openid"),
        ]))
        .send()
        .await
        .unwrap()
        .status()
}

/// Waits (at most 5 s) until every one of `codes` was logged; returns all logged codes.
async fn logged(server: &TestServer, codes: &[&str]) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..250 {
        seen = server
            .store
            .search_log_events(&gatehouse_store::LogQuery::all())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect::<Vec<_>>();
        if codes.iter().all(|c| seen.iter().any(|s| s == c)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for code in codes {
        assert!(seen.iter().any(|s| s == code), "{code} logged, in {seen:?}");
    }
    seen
}

async fn user_by_email(server: &TestServer, email: &str) -> gatehouse_store::StoredUser {
    server
        .store
        .user_by_email("Username-Password-Authentication", email)
        .await
        .unwrap()
        .expect("the user exists")
}

#[tokio::test]
async fn dbconnections_signup_answers_auth0s_body_and_sends_a_working_verification_link() {
    let (server, s) = start().await;
    let mut body = signup_body(&s, "carol@example.com", PASSWORD);
    body["given_name"] = json!("Carol");
    body["user_metadata"] = json!({"plan": "pro"});
    let (status, text) = post_json(&server, "/dbconnections/signup", body).await;
    assert_eq!(status, 200, "{text}");
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["email"], "carol@example.com");
    assert_eq!(reply["email_verified"], false);
    assert_eq!(reply["given_name"], "Carol");
    assert_eq!(reply["user_metadata"]["plan"], "pro");
    let user = user_by_email(&server, "carol@example.com").await;
    assert_eq!(reply["_id"], user.user.user_id.trim_start_matches("auth0|"));
    assert_eq!(user.user.given_name.as_deref(), Some("Carol"));
    assert!(!user.user.email_verified);

    let mail = server.mails_to("carol@example.com", 1).await.remove(0);
    assert!(mail.contains("Subject: "), "{mail}");
    let link = link_in(&mail);
    assert!(link.contains("/u/email-verification?ticket="), "{link}");
    // No ticket secret rests in the database: only its hash.
    let secret = link.split("ticket=").nth(1).unwrap();
    let ticket = server
        .store
        .ticket(&gatehouse_core::secret::hash_token(secret))
        .await
        .unwrap()
        .expect("the ticket is stored by its hash");
    assert_eq!(ticket.user_id, user.user.user_id);

    let page = server.get(&path_of(&server, &link)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains("Your email was verified"),
        "{}",
        page.text
    );
    assert!(
        user_by_email(&server, "carol@example.com")
            .await
            .user
            .email_verified
    );

    let again = server.get(&path_of(&server, &link)).await;
    assert_eq!(again.status, 400);
    assert!(again.text.contains("already used"), "{}", again.text);
    logged(&server, &["ss", "svr", "sv", "fv"]).await;
    server.stop().await;
}

#[tokio::test]
async fn dbconnections_signup_refuses_bad_input_with_auth0s_errors_and_creates_nobody() {
    let (server, s) = start().await;
    let email = "dave@example.com";
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"client_id": s.spa_id, "email": email, "connection": "Username-Password-Authentication"}),
            "invalid_request",
        ),
        (
            json!({"client_id": "nope", "email": email, "password": PASSWORD, "connection": "Username-Password-Authentication"}),
            "invalid_client",
        ),
        (
            json!({"client_id": s.spa_id, "email": email, "password": PASSWORD, "connection": "google-oauth2"}),
            "invalid_connection",
        ),
        (
            json!({"client_id": s.spa_id, "email": "not-an-email", "password": PASSWORD, "connection": "Username-Password-Authentication"}),
            "invalid_signup",
        ),
        (
            json!({"client_id": s.spa_id, "email": email, "password": PASSWORD, "connection": "Username-Password-Authentication", "username": "dave"}),
            "invalid_signup",
        ),
        (
            json!({"client_id": s.spa_id, "email": email, "password": PASSWORD, "connection": "Username-Password-Authentication", "user_metadata": {"a": 1}}),
            "invalid_signup",
        ),
        (
            json!({"client_id": s.spa_id, "email": email, "password": PASSWORD, "connection": "Username-Password-Authentication", "user_metadata": (0..11).map(|i| (format!("k{i}"), json!("v"))).collect::<serde_json::Map<_, _>>()}),
            "invalid_signup",
        ),
        (
            json!({"client_id": s.spa_id, "email": email, "password": ["x"], "connection": "Username-Password-Authentication"}),
            "invalid_request",
        ),
        (
            json!({"client_id": s.spa_id, "email": email, "password": "password", "connection": "Username-Password-Authentication"}),
            "invalid_password",
        ),
        (
            json!({"client_id": s.spa_id, "email": email, "password": "x".repeat(2000), "connection": "Username-Password-Authentication"}),
            "invalid_password",
        ),
        (
            json!({"client_id": s.spa_id, "email": email, "password": PASSWORD, "connection": "Username-Password-Authentication", "name": "n".repeat(400)}),
            "invalid_signup",
        ),
    ];
    for (body, code) in cases {
        let (status, text) = post_json(&server, "/dbconnections/signup", body.clone()).await;
        assert_eq!(status, 400, "{body}: {text}");
        let reply: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{text}"));
        assert_eq!(reply["code"], code, "{body}: {text}");
        assert_eq!(reply["statusCode"], 400, "{text}");
    }
    let (status, text) = post_json(&server, "/dbconnections/signup", json!([1, 2])).await;
    assert_eq!(status, 400, "{text}");
    assert!(server
        .store
        .user_by_email("Username-Password-Authentication", email)
        .await
        .unwrap()
        .is_none());
    assert!(server.outbox().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_taken_email_is_invalid_signup_unless_the_tenant_flag_asks_for_user_exists() {
    let (server, s) = start().await;
    let body = signup_body(&s, "alice@example.com", PASSWORD);
    let (status, text) = post_json(&server, "/dbconnections/signup", body.clone()).await;
    assert_eq!(status, 400);
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        reply,
        json!({"name": "BadRequestError", "code": "invalid_signup", "description": "Invalid sign up", "statusCode": 400})
    );
    let mut tenant = server.store.tenant_settings().await.unwrap();
    tenant.flags.enable_public_signup_user_exists_error = true;
    server.store.put_tenant_settings(&tenant).await.unwrap();
    let (_, text) = post_json(&server, "/dbconnections/signup", body).await;
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["code"], "user_exists");
    assert_eq!(reply["description"], "The user already exists.");
    server.stop().await;
}

#[tokio::test]
async fn dbconnections_answer_browsers_of_the_clients_origins() {
    let (server, s) = start().await;
    let mut spa = server.store.client(&s.spa_id).await.unwrap().unwrap();
    spa.client.web_origins = vec![SPA_ORIGIN.into()];
    server.store.update_client(&spa).await.unwrap();
    let resp = server
        .http
        .post(server.url("/dbconnections/change_password"))
        .header("origin", SPA_ORIGIN)
        .json(&json!({"client_id": s.spa_id, "email": "x@example.com", "connection": "Username-Password-Authentication"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["access-control-allow-origin"]
            .to_str()
            .unwrap(),
        SPA_ORIGIN
    );
    let evil = server
        .http
        .post(server.url("/dbconnections/change_password"))
        .header("origin", "https://evil.example")
        .json(&json!({"client_id": s.spa_id, "email": "x@example.com", "connection": "Username-Password-Authentication"}))
        .send()
        .await
        .unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    server.stop().await;
}

async fn change_password(server: &TestServer, s: &Seeded, email: &str) -> (StatusCode, String) {
    post_json(
        server,
        "/dbconnections/change_password",
        json!({"client_id": s.web_id, "email": email, "connection": "Username-Password-Authentication"}),
    )
    .await
}

/// Opens a reset link and posts the new password twice; returns the POST's status and page.
async fn reset_with(
    server: &TestServer,
    link: &str,
    password: &str,
    confirm: &str,
) -> (u16, String) {
    let browser = server.browser();
    let page = get(&browser, &server.url(&path_of(server, link))).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Set a new password"), "{html}");
    let secret = link.split("ticket=").nth(1).unwrap();
    let resp = post(
        &browser,
        &server.url("/u/reset-password"),
        &[
            ("csrf", &csrf_field(&html)),
            ("ticket", secret),
            ("password", password),
            ("password_confirm", confirm),
        ],
    )
    .await;
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn forgotten_password_is_reset_through_the_emailed_link_once() {
    let (server, s) = start().await;
    let email = "alice@example.com";
    let (status, text) = change_password(&server, &s, email).await;
    assert_eq!(status, 200);
    assert_eq!(text, "We've just sent you an email to reset your password.");
    let link = link_in(&server.mails_to(email, 1).await[0]);
    assert!(link.contains("/u/reset-password?ticket="), "{link}");

    // Mistakes re-show the form and leave the link usable.
    let (status, page) = reset_with(&server, &link, NEW_PASSWORD, "something else entirely").await;
    assert_eq!(status, 400);
    assert!(page.contains("not the same"), "{page}");
    let (status, page) = reset_with(&server, &link, "password", "password").await;
    assert_eq!(status, 400);
    assert!(page.contains("Password is too common"), "{page}");
    assert_eq!(password_grant(&server, &s, email, PASSWORD).await, 200);

    let (status, page) = reset_with(&server, &link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your password was changed"), "{page}");
    assert_eq!(password_grant(&server, &s, email, NEW_PASSWORD).await, 200);
    assert_ne!(password_grant(&server, &s, email, PASSWORD).await, 200);

    // The link is spent.
    let reused = server.get(&path_of(&server, &link)).await;
    assert_eq!(reused.status, 400);
    assert!(reused.text.contains("already used"), "{}", reused.text);
    logged(&server, &["scpr", "scp", "fcp"]).await;
    server.stop().await;
}

#[tokio::test]
async fn change_password_never_tells_whether_the_account_exists() {
    let (server, s) = start().await;
    let known = change_password(&server, &s, "alice@example.com").await;
    let unknown = change_password(&server, &s, "nobody@example.com").await;
    assert_eq!(known, unknown);
    server.mails_to("alice@example.com", 1).await;
    // Give the background lookup time to (not) queue a mail for the unknown address.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(server
        .outbox()
        .iter()
        .all(|m| !m.contains("nobody@example.com")));
    logged(&server, &["fcpr"]).await;
    server.stop().await;
}

#[tokio::test]
async fn a_second_reset_request_makes_the_first_link_invalid() {
    let (server, s) = start().await;
    let email = "alice@example.com";
    change_password(&server, &s, email).await;
    let first = link_in(&server.mails_to(email, 1).await[0]);
    change_password(&server, &s, email).await;
    let mails = server.mails_to(email, 2).await;
    let second = link_in(&mails[1]);
    assert_ne!(first, second);
    let old = server.get(&path_of(&server, &first)).await;
    assert_eq!(old.status, 400);
    assert!(old.text.contains("newer email replaced"), "{}", old.text);
    let (status, page) = reset_with(&server, &second, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{page}");
    server.stop().await;
}

#[tokio::test]
async fn an_expired_link_changes_nothing() {
    let (server, s) = start().await;
    let email = "alice@example.com";
    change_password(&server, &s, email).await;
    let link = link_in(&server.mails_to(email, 1).await[0]);
    server.clock.advance(86_400 + 1);
    let page = server.get(&path_of(&server, &link)).await;
    assert_eq!(page.status, 400);
    assert!(page.text.contains("expired"), "{}", page.text);
    // A form fetched before expiry cannot be posted after it either.
    let secret = link.split("ticket=").nth(1).unwrap();
    let browser = server.browser();
    let login = get(
        &browser,
        &server.url(&format!("/u/login?{}", web_query(&s, &[]))),
    )
    .await;
    let csrf = csrf_field(&login.text().await.unwrap());
    let resp = post(
        &browser,
        &server.url("/u/reset-password"),
        &[
            ("csrf", &csrf),
            ("ticket", secret),
            ("password", NEW_PASSWORD),
            ("password_confirm", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(password_grant(&server, &s, email, PASSWORD).await, 200);
    server.stop().await;
}

#[tokio::test]
async fn forged_links_and_tickets_of_the_other_kind_are_refused() {
    let (server, s) = start().await;
    for path in [
        "/u/reset-password?ticket=forged",
        "/u/reset-password",
        "/u/email-verification?ticket=",
        &format!("/u/email-verification?ticket={}", "A".repeat(5000)),
    ] {
        let page = server.get(path).await;
        assert_eq!(page.status, 400, "{path}");
        assert!(page.text.contains("not valid"), "{path}: {}", page.text);
    }
    // A reset link opened on the verification page neither verifies nor burns it.
    change_password(&server, &s, "alice@example.com").await;
    let link = link_in(&server.mails_to("alice@example.com", 1).await[0]);
    let secret = link.split("ticket=").nth(1).unwrap();
    let wrong = server
        .get(&format!("/u/email-verification?ticket={secret}"))
        .await;
    assert_eq!(wrong.status, 400);
    let ticket = server
        .store
        .ticket(&gatehouse_core::secret::hash_token(secret))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.used_at, None, "the wrong page did not use the link");
    let (status, _) = reset_with(&server, &link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 200);
    server.stop().await;
}

#[tokio::test]
async fn reset_emails_are_rate_limited_per_address_the_same_for_unknown_accounts() {
    let (server, s) = start().await;
    for email in ["alice@example.com", "ghost@example.com"] {
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(change_password(&server, &s, email).await.0.as_u16());
        }
        assert_eq!(statuses, [200, 200, 200, 429], "{email}");
    }
    let (status, text) = change_password(&server, &s, "ALICE@example.com").await;
    assert_eq!(status, 429, "the address is counted case-insensitively");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"], "too_many_requests");
    // The limit caps mail: three reset emails at most.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    server.mails_to("alice@example.com", 3).await;
    assert_eq!(
        server
            .outbox()
            .iter()
            .filter(|m| m.contains("alice@example.com"))
            .count(),
        3
    );
    server.stop().await;
}

#[tokio::test]
async fn concurrent_resets_through_one_link_change_the_password_once() {
    let (server, s) = start().await;
    change_password(&server, &s, "alice@example.com").await;
    let link = link_in(&server.mails_to("alice@example.com", 1).await[0]);
    let secret = link.split("ticket=").nth(1).unwrap().to_string();
    let browser = server.browser();
    let page = get(&browser, &server.url(&path_of(&server, &link))).await;
    let csrf = csrf_field(&page.text().await.unwrap());
    let attempts = (0..6).map(|i| {
        let (browser, url, csrf, secret) = (
            browser.clone(),
            server.url("/u/reset-password"),
            csrf.clone(),
            secret.clone(),
        );
        async move {
            let password = format!("{NEW_PASSWORD} number {i}");
            let resp = post(
                &browser,
                &url,
                &[
                    ("csrf", &csrf),
                    ("ticket", &secret),
                    ("password", &password),
                    ("password_confirm", &password),
                ],
            )
            .await;
            (resp.status().as_u16(), password)
        }
    });
    let results = futures_join(attempts).await;
    let winners: Vec<_> = results
        .iter()
        .filter(|(status, _)| *status == 200)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert_eq!(
        password_grant(&server, &s, "alice@example.com", &winners[0].1).await,
        200
    );
    server.stop().await;
}

async fn futures_join<F: std::future::Future<Output = T> + Send + 'static, T: Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<T> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn the_login_page_links_the_reset_request_page_which_answers_the_same_for_anyone() {
    let (server, s) = start().await;
    let query = web_query(&s, &[]);
    let browser = server.browser();
    let login = get(&browser, &server.url(&format!("/u/login?{query}"))).await;
    let html = login.text().await.unwrap();
    let decoded = html.replace("&#x2f;", "/").replace("&amp;", "&");
    let href = format!("href=\"/u/reset-password/request?{query}\" id=\"forgot-password\"");
    assert!(decoded.contains(&href), "{html}");
    let form = get(
        &browser,
        &server.url(&format!("/u/reset-password/request?{query}")),
    )
    .await;
    assert_eq!(form.status(), 200);
    let csrf = csrf_field(&form.text().await.unwrap());
    let mut pages = Vec::new();
    for email in ["alice@example.com", "nobody@example.com"] {
        let resp = post(
            &browser,
            &server.url("/u/reset-password/request"),
            &[("csrf", &csrf), ("authorize", &query), ("email", email)],
        )
        .await;
        assert_eq!(resp.status(), 200);
        pages.push(resp.text().await.unwrap());
    }
    assert_eq!(pages[0], pages[1]);
    assert!(pages[0].contains("Check your email"));
    let link = link_in(&server.mails_to("alice@example.com", 1).await[0]);
    let (status, _) = reset_with(&server, &link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 200);
    // Without the CSRF cookie and field the form does nothing.
    let stranger = server.browser();
    let resp = post(
        &stranger,
        &server.url("/u/reset-password/request"),
        &[("authorize", &query), ("email", "alice@example.com")],
    )
    .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(location(&resp), "");
    server.stop().await;
}

#[tokio::test]
async fn the_signup_page_sends_the_verification_email_unless_the_template_is_disabled() {
    let (server, s) = start().await;
    let (status, _) = post_json(
        &server,
        "/dbconnections/signup",
        signup_body(&s, "erin@example.com", PASSWORD),
    )
    .await;
    assert_eq!(status, 200);
    server.mails_to("erin@example.com", 1).await;
    let mut template = gatehouse_mail::templates::default_template("verify_email").unwrap();
    template.enabled = false;
    gatehouse_server::email::settings::put_template(&server.state, &template)
        .await
        .unwrap();
    let (status, _) = post_json(
        &server,
        "/dbconnections/signup",
        signup_body(&s, "frank@example.com", PASSWORD),
    )
    .await;
    assert_eq!(status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(server
        .outbox()
        .iter()
        .all(|m| !m.contains("frank@example.com")));
    server.stop().await;
}

#[tokio::test]
async fn two_nodes_on_one_database_send_each_mail_once() {
    let (a, _) = start().await;
    let b = TestServer::start_on(a.store.clone()).await;
    const MAILS: usize = 30;
    let now = a.state.now();
    let mut addresses = Vec::new();
    for i in 0..MAILS {
        let email = format!("node-user-{i}@example.com");
        let user = gatehouse_core::model::User::new(gatehouse_core::ids::user_id(), &email, now);
        a.store
            .create_user(&gatehouse_store::StoredUser {
                user: user.clone(),
                password_hash: None,
            })
            .await
            .unwrap();
        // Half queued through each node, so both workers are woken.
        let node = if i % 2 == 0 { &a } else { &b };
        gatehouse_server::email::queue::enqueue(
            &node.state,
            gatehouse_server::email::queue::MailRequest {
                template: "verify_email",
                user: &user,
                client_id: None,
                result_url: None,
                ttl_seconds: None,
                job_id: None,
            },
        )
        .await
        .unwrap();
        addresses.push(email);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while a.store.pending_mail_count().await.unwrap() > 0 {
        assert!(std::time::Instant::now() < deadline, "the queue drains");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (from_a, from_b) = (a.outbox(), b.outbox());
    assert_eq!(from_a.len() + from_b.len(), MAILS, "each mail sent once");
    for address in &addresses {
        let copies = from_a
            .iter()
            .chain(&from_b)
            .filter(|m| {
                m.lines()
                    .any(|l| l.starts_with("To:") && l.contains(address.as_str()))
            })
            .count();
        assert_eq!(copies, 1, "{address}");
    }
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn a_new_address_is_unverified_and_verify_email_mails_it() {
    let (server, s) = start().await;
    let _ = s;
    let m = crate::management::Mgmt::on(server).await;
    let alice = user_by_email(&m.server, "alice@example.com").await;
    assert!(alice.user.email_verified);
    let path = format!("/users/{}", alice.user.user_id.replace('|', "%7C"));
    let r = m
        .patch(
            &path,
            json!({"email": "alice.new@example.com", "verify_email": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["email_verified"], false);
    let link = link_in(&m.server.mails_to("alice.new@example.com", 1).await[0]);
    let page = m.server.get(&path_of(&m.server, &link)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        user_by_email(&m.server, "alice.new@example.com")
            .await
            .user
            .email_verified
    );
    // Saying so keeps the new address verified, and no mail goes out.
    let r = m
        .patch(
            &path,
            json!({"email": "alice.third@example.com", "email_verified": true}),
        )
        .await;
    assert_eq!(r.body["email_verified"], true);
    m.server.stop().await;
}

#[tokio::test]
async fn change_password_refuses_what_is_not_an_address() {
    let (server, s) = start().await;
    for email in ["x".repeat(5000), "not an address".to_string()] {
        let (status, text) = change_password(&server, &s, &email).await;
        assert_eq!(status, 400, "{text}");
    }
    server.stop().await;
}
