//! Attack protection under attack: brute-force reservations that hold for
//! concurrent guesses (password grant and login page), `auth0-forwarded-for`
//! trusted only from clients configured for it, the dummy verification for
//! unknown users, user blocks (also from abandoned attempts), and rate limits
//! (reserved before the password check, held against the right client
//! secret once over, per user for Management API user tokens).

use crate::authorize::{encode, get, WEB_CALLBACK};
use crate::fixtures::{seed, Seeded, API, PASSWORD, SPA_ORIGIN};
use crate::support::{Reply, TestServer};
use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::model::RateLimits;

async fn start() -> (TestServer, Seeded) {
    let server = TestServer::start().await;
    let seeded = seed(server.store.as_ref()).await;
    (server, seeded)
}

/// A password grant by the confidential web client, optionally relaying an
/// end-user IP in `auth0-forwarded-for`.
fn password_request(
    server: &TestServer,
    s: &Seeded,
    username: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> reqwest::RequestBuilder {
    let body = encode(&[
        ("grant_type", "password"),
        ("client_id", &s.web_id),
        ("client_secret", &s.web_secret),
        ("username", username),
        ("password", password),
    ]);
    let request = server
        .http
        .post(server.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    match forwarded_for {
        Some(ip) => request.header("auth0-forwarded-for", ip),
        None => request,
    }
}

async fn password_grant(
    server: &TestServer,
    s: &Seeded,
    username: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Reply {
    let request = password_request(server, s, username, password, forwarded_for);
    Reply::read(request.send().await.unwrap()).await
}

/// Sends all requests at once and collects the replies.
async fn concurrently(requests: Vec<reqwest::RequestBuilder>) -> Vec<Reply> {
    let mut set = tokio::task::JoinSet::new();
    for request in requests {
        set.spawn(async move { Reply::read(request.send().await.unwrap()).await });
    }
    let mut replies = Vec::new();
    while let Some(reply) = set.join_next().await {
        replies.push(reply.unwrap());
    }
    replies
}

async fn count_events(server: &TestServer, code: &str) -> usize {
    server
        .store
        .search_log_events(&gatehouse_store::LogQuery::all())
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event_type == code)
        .count()
}

async fn trust_forwarded_ip(server: &TestServer, client_id: &str, trusted: bool) {
    let mut stored = server.store.client(client_id).await.unwrap().unwrap();
    stored.client.token_endpoint_ip_header_trusted = trusted;
    server.store.update_client(&stored).await.unwrap();
}

/// 60 concurrent wrong passwords with the default limit of 10: at most 10
/// are checked (`fp`), the rest are refused before the check, and then the
/// right password is refused too.
#[tokio::test]
async fn concurrent_wrong_passwords_at_the_password_grant_stop_at_the_limit() {
    let (server, s) = start().await;
    let requests = (0..60)
        .map(|_| password_request(&server, &s, "alice@example.com", "wrong", None))
        .collect();
    let replies = concurrently(requests).await;
    for reply in &replies {
        let error = reply.body["error"].as_str().unwrap_or_default();
        assert!(
            matches!(
                (reply.status.as_u16(), error),
                (403, "invalid_grant") | (429, "too_many_attempts" | "too_many_requests")
            ),
            "{} {}",
            reply.status,
            reply.text
        );
    }
    let wrong = count_events(&server, "fp").await;
    assert!(wrong <= 10, "{wrong} passwords checked, limit 10");
    assert_eq!(count_events(&server, "limit_wc").await, 1);
    let right = password_grant(&server, &s, "alice@example.com", PASSWORD, None).await;
    assert_eq!(right.status, 429, "{}", right.text);
    assert_eq!(right.body["error"], "too_many_attempts");
}

/// The same at the login page.
#[tokio::test]
async fn concurrent_wrong_passwords_at_the_login_page_stop_at_the_limit() {
    let (server, s) = start().await;
    let query = encode(&[
        ("client_id", &s.web_id),
        ("response_type", "code"),
        ("redirect_uri", WEB_CALLBACK),
        ("scope", "openid"),
        ("state", "st"),
    ]);
    let browser = server.browser();
    let page = get(&browser, &server.url(&format!("/u/login?{query}"))).await;
    let body = page.text().await.unwrap();
    let at = body.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    let csrf = body[at..at + 43].to_string();
    let attempt = |password: &str| {
        let form = encode(&[
            ("csrf", &csrf),
            ("authorize", &query),
            ("email", "alice@example.com"),
            ("password", password),
        ]);
        browser
            .post(server.url("/u/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
    };
    let replies = concurrently((0..60).map(|_| attempt("wrong")).collect()).await;
    assert!(
        replies
            .iter()
            .all(|r| matches!(r.status.as_u16(), 400 | 429)),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let wrong = count_events(&server, "fp").await;
    assert!(wrong <= 10, "{wrong} passwords checked, limit 10");
    let right = attempt(PASSWORD).send().await.unwrap();
    assert_eq!(right.status().as_u16(), 429);
}

/// Attempts reserved but never finished (the client hung up during the
/// password check) use up the pair's attempts; the reservation that takes
/// the last one blocks the pair, so the block is listed by user-blocks,
/// refuses the right password, and is lifted by DELETE.
#[tokio::test]
async fn abandoned_attempts_end_in_a_visible_removable_block() {
    let mgmt = crate::management::Mgmt::start().await;
    let server = &mgmt.server;
    let s = seed(server.store.as_ref()).await;
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
        let reserved = server
            .store
            .reserve_login_attempt(
                "127.0.0.1",
                "alice@example.com",
                now,
                limit,
                now + gatehouse_core::model::BRUTE_FORCE_BLOCK_SECONDS,
            )
            .await
            .unwrap();
        assert!(reserved.is_some());
    }
    let listed = mgmt
        .get("/user-blocks?identifier=alice%40example.com")
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(
        listed.body["blocked_for"][0]["ip"], "127.0.0.1",
        "{}",
        listed.text
    );
    let refused = password_grant(server, &s, "alice@example.com", PASSWORD, None).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert_eq!(refused.body["error"], "too_many_attempts");
    let removed = mgmt
        .delete("/user-blocks?identifier=alice%40example.com")
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    let ok = password_grant(server, &s, "alice@example.com", PASSWORD, None).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}

/// `auth0-forwarded-for` from a client without
/// `token_endpoint_ip_header_trusted` is ignored: it cannot move a blocked
/// user to a fresh IP. With the setting on, the relayed IP counts.
#[tokio::test]
async fn forwarded_ip_is_trusted_only_from_clients_configured_for_it() {
    let (server, s) = start().await;
    let mut settings = server.store.tenant_settings().await.unwrap();
    settings.brute_force_protection.max_attempts = 2;
    server.store.put_tenant_settings(&settings).await.unwrap();
    for _ in 0..2 {
        password_grant(&server, &s, "alice@example.com", "wrong", None).await;
    }
    let spoofed = password_grant(
        &server,
        &s,
        "alice@example.com",
        PASSWORD,
        Some("198.51.100.9"),
    )
    .await;
    assert_eq!(
        spoofed.status, 429,
        "the header is ignored: {}",
        spoofed.text
    );
    trust_forwarded_ip(&server, &s.web_id, true).await;
    let relayed = password_grant(
        &server,
        &s,
        "alice@example.com",
        PASSWORD,
        Some("198.51.100.9"),
    )
    .await;
    assert_eq!(relayed.status, 200, "{}", relayed.text);
    // The relayed IP is the one blocked now; the peer's block stays.
    for _ in 0..2 {
        password_grant(
            &server,
            &s,
            "alice@example.com",
            "wrong",
            Some("203.0.113.7"),
        )
        .await;
    }
    let blocked = password_grant(
        &server,
        &s,
        "alice@example.com",
        PASSWORD,
        Some("203.0.113.7"),
    )
    .await;
    assert_eq!(blocked.status, 429);
    // The setting round-trips through the Management API's client shape.
    let stored = server.store.client(&s.web_id).await.unwrap().unwrap();
    let value = serde_json::to_value(&stored.client).unwrap();
    assert_eq!(value["token_endpoint_ip_header_trusted"], true);
}

/// An unknown user costs a full (dummy) argon2id verification at the
/// password grant, like a wrong password does.
#[tokio::test]
async fn unknown_user_at_the_password_grant_is_verified_against_a_dummy_hash() {
    let (server, s) = start().await;
    let before = gatehouse_server::password::dummy_verifications();
    let reply = password_grant(&server, &s, "nobody@example.com", "whatever", None).await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body["error_description"], "Wrong email or password.");
    assert!(gatehouse_server::password::dummy_verifications() > before);
}

/// Auth0's user-blocks endpoints list and remove a user's blocks (by id or
/// identifier), and a password change through the Management API lifts them.
#[tokio::test]
async fn user_blocks_are_listed_and_removed_and_lifted_by_a_password_change() {
    let mgmt = crate::management::Mgmt::start().await;
    let server = &mgmt.server;
    let s = seed(server.store.as_ref()).await;
    let mut settings = server.store.tenant_settings().await.unwrap();
    settings.brute_force_protection.max_attempts = 2;
    server.store.put_tenant_settings(&settings).await.unwrap();
    let block_alice = || async {
        for _ in 0..2 {
            password_grant(server, &s, "Alice@Example.com", "wrong", None).await;
        }
        let reply = password_grant(server, &s, "alice@example.com", PASSWORD, None).await;
        assert_eq!(reply.status, 429, "{}", reply.text);
    };
    block_alice().await;
    let by_id = mgmt.get(&format!("/user-blocks/{}", s.alice.user_id)).await;
    assert_eq!(by_id.status, 200, "{}", by_id.text);
    assert_eq!(
        by_id.body,
        serde_json::json!({"blocked_for": [{
            "identifier": "alice@example.com",
            "ip": "127.0.0.1",
            "connection": "Username-Password-Authentication"
        }]})
    );
    let by_identifier = mgmt
        .get("/user-blocks?identifier=alice%40example.com")
        .await;
    assert_eq!(by_identifier.body, by_id.body);
    let missing = mgmt.get("/user-blocks").await;
    crate::management::assert_mgmt_error(&missing, 400, "invalid_query_string");
    let unknown = mgmt.get("/user-blocks/auth0%7Cnobody").await;
    crate::management::assert_mgmt_error(&unknown, 404, "inexistent_user");

    let removed = mgmt
        .delete(&format!("/user-blocks/{}", s.alice.user_id))
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    let empty = mgmt.get(&format!("/user-blocks/{}", s.alice.user_id)).await;
    assert_eq!(empty.body, serde_json::json!({"blocked_for": []}));
    let ok = password_grant(server, &s, "alice@example.com", PASSWORD, None).await;
    assert_eq!(ok.status, 200, "{}", ok.text);

    block_alice().await;
    let removed = mgmt
        .delete("/user-blocks?identifier=ALICE%40example.com")
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    let ok = password_grant(server, &s, "alice@example.com", PASSWORD, None).await;
    assert_eq!(ok.status, 200, "{}", ok.text);

    block_alice().await;
    let new_password = "a new password 123";
    let patched = mgmt
        .patch(
            &format!("/users/{}", s.alice.user_id),
            serde_json::json!({ "password": new_password }),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let ok = password_grant(server, &s, "alice@example.com", new_password, None).await;
    assert_eq!(
        ok.status, 200,
        "a password change lifts the block: {}",
        ok.text
    );
}

async fn set_rate_limits(server: &TestServer, change: impl FnOnce(&mut RateLimits)) {
    let mut settings = server.store.tenant_settings().await.unwrap();
    // A day-long window: no window boundary falls inside a test run.
    settings.rate_limits.window_seconds = 86_400;
    change(&mut settings.rate_limits);
    server.store.put_tenant_settings(&settings).await.unwrap();
}

/// Auth0's headers on a 429: the limit, nothing remaining, a reset in the
/// current window (epoch seconds).
fn assert_limit_headers(reply: &Reply, limit: i64) {
    let number = |name: &str| -> i64 {
        reply
            .header(name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .parse()
            .unwrap()
    };
    assert_eq!(number("x-ratelimit-limit"), limit);
    assert_eq!(number("x-ratelimit-remaining"), 0);
    let now = SystemClock.now();
    let reset = number("x-ratelimit-reset");
    assert!(
        reset > now && reset <= now + 86_400,
        "reset {reset}, now {now}"
    );
}

fn client_credentials_request(
    server: &TestServer,
    s: &Seeded,
    secret: &str,
) -> reqwest::RequestBuilder {
    server
        .http
        .post(server.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("grant_type", "client_credentials"),
            ("client_id", &s.m2m_id),
            ("client_secret", secret),
            ("audience", API),
        ]))
}

/// A client-authenticated request at `path` by the m2m client with `secret`.
async fn client_post(server: &TestServer, s: &Seeded, path: &str, secret: &str) -> Reply {
    server
        .post_form(
            path,
            &[
                ("client_id", &s.m2m_id),
                ("client_secret", secret),
                ("token", "not-a-token"),
            ],
        )
        .await
}

/// Failed client authentications are limited per IP (429 with the headers
/// and one `api_limit` event), counted at the token, revocation,
/// introspection and device-code endpoints alike. Successes are not
/// counted, but once the IP is over the limit the right secret is refused
/// too, so guessing learns nothing; a public client presents no secret and
/// is not held up.
#[tokio::test]
async fn failed_client_authentication_is_rate_limited_and_successes_are_not() {
    let (server, s) = start().await;
    set_rate_limits(&server, |l| l.failed_logins_per_ip = 5).await;
    for _ in 0..20 {
        let ok = Reply::read(
            client_credentials_request(&server, &s, &s.m2m_secret)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(ok.status, 200, "{}", ok.text);
    }
    for path in ["/oauth/revoke", "/oauth/introspect", "/oauth/device/code"] {
        let reply = client_post(&server, &s, path, "wrong").await;
        assert_eq!(reply.status, 401, "{path}: {}", reply.text);
    }
    for _ in 0..2 {
        let reply = Reply::read(
            client_credentials_request(&server, &s, "wrong")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, 401, "{}", reply.text);
    }
    let right = Reply::read(
        client_credentials_request(&server, &s, &s.m2m_secret)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(right.status, 429, "the right secret too: {}", right.text);
    assert_eq!(right.body["error"], "too_many_requests");
    assert!(right.body["error_description"].is_string());
    assert_limit_headers(&right, 5);
    let introspect = client_post(&server, &s, "/oauth/introspect", &s.m2m_secret).await;
    assert_eq!(introspect.status, 429, "{}", introspect.text);
    let public = server
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &s.spa_id),
                ("code", "unknown"),
                ("redirect_uri", &format!("{SPA_ORIGIN}/callback")),
                ("code_verifier", &"v".repeat(43)),
            ],
        )
        .await;
    assert_ne!(public.status, 429, "{}", public.text);
    assert_eq!(count_events(&server, "api_limit").await, 1);
}

/// 40 concurrent wrong passwords for 40 accounts from one IP with a limit of
/// 10 failures per IP: each failure is reserved before its password is
/// checked, so at most 10 are checked (`fu`/`fp`) and the rest are refused
/// with 429 before any argon2 work.
#[tokio::test]
async fn concurrent_failures_from_one_ip_stop_at_the_rate_limit() {
    let (server, s) = start().await;
    set_rate_limits(&server, |l| l.failed_logins_per_ip = 10).await;
    let requests = (0..40)
        .map(|n| {
            let account = format!("sprayed{n}@example.com");
            password_request(&server, &s, &account, "guess", None)
        })
        .collect();
    let replies = concurrently(requests).await;
    let mut refused = 0;
    for reply in &replies {
        let error = reply.body["error"].as_str().unwrap_or_default();
        match (reply.status.as_u16(), error) {
            (403, "invalid_grant") => {}
            (429, "too_many_requests") => {
                assert_limit_headers(reply, 10);
                refused += 1;
            }
            _ => panic!("{} {}", reply.status, reply.text),
        }
    }
    let checked = count_events(&server, "fu").await + count_events(&server, "fp").await;
    assert!(checked <= 10, "{checked} passwords checked, limit 10");
    assert_eq!(refused + checked, 40);
    assert_eq!(count_events(&server, "api_limit").await, 1);
}

/// A success gives its reserved failure back: with a limit of 2 failures
/// per IP, successes in between do not use it up.
#[tokio::test]
async fn successful_logins_do_not_use_up_the_failure_limit() {
    let (server, s) = start().await;
    set_rate_limits(&server, |l| l.failed_logins_per_ip = 2).await;
    for _ in 0..5 {
        let ok = password_grant(&server, &s, "alice@example.com", PASSWORD, None).await;
        assert_eq!(ok.status, 200, "{}", ok.text);
    }
    let wrong = password_grant(&server, &s, "bob@example.com", "guess", None).await;
    assert_eq!(wrong.status, 403, "{}", wrong.text);
    let ok = password_grant(&server, &s, "alice@example.com", PASSWORD, None).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}

/// Password spraying: failures are limited per IP across accounts and per
/// account across IPs; another IP and another account are unaffected.
#[tokio::test]
async fn password_failures_are_rate_limited_per_ip_and_per_account() {
    let (server, s) = start().await;
    trust_forwarded_ip(&server, &s.web_id, true).await;
    set_rate_limits(&server, |l| {
        l.failed_logins_per_ip = 3;
        l.failed_logins_per_account = 4;
    })
    .await;
    for account in ["a@example.com", "b@example.com", "c@example.com"] {
        let reply = password_grant(&server, &s, account, "guess", Some("203.0.113.1")).await;
        assert_eq!(reply.status, 403, "{}", reply.text);
    }
    let sprayed = password_grant(
        &server,
        &s,
        "alice@example.com",
        PASSWORD,
        Some("203.0.113.1"),
    )
    .await;
    assert_eq!(sprayed.status, 429, "{}", sprayed.text);
    assert_eq!(sprayed.body["error"], "too_many_requests");
    assert_limit_headers(&sprayed, 3);
    let elsewhere = password_grant(
        &server,
        &s,
        "alice@example.com",
        PASSWORD,
        Some("203.0.113.2"),
    )
    .await;
    assert_eq!(elsewhere.status, 200, "another IP: {}", elsewhere.text);

    for n in 10..14 {
        let ip = format!("198.51.100.{n}");
        let reply = password_grant(&server, &s, "bob@example.com", "guess", Some(&ip)).await;
        assert_eq!(reply.status, 403, "{}", reply.text);
    }
    let distributed = password_grant(
        &server,
        &s,
        "Bob@example.com",
        "guess",
        Some("198.51.100.99"),
    )
    .await;
    assert_eq!(distributed.status, 429, "{}", distributed.text);
    assert_limit_headers(&distributed, 4);
    let other_account = password_grant(
        &server,
        &s,
        "alice@example.com",
        PASSWORD,
        Some("198.51.100.99"),
    )
    .await;
    assert_eq!(
        other_account.status, 200,
        "another account: {}",
        other_account.text
    );
    assert_eq!(count_events(&server, "api_limit").await, 2);
}

/// A login or signup page of the web client with its CSRF token.
async fn page_form(
    server: &TestServer,
    s: &Seeded,
    path: &str,
) -> (reqwest::Client, String, String) {
    let query = encode(&[
        ("client_id", &s.web_id),
        ("response_type", "code"),
        ("redirect_uri", WEB_CALLBACK),
        ("scope", "openid"),
        ("state", "st"),
    ]);
    let browser = server.browser();
    let page = get(&browser, &server.url(&format!("{path}?{query}"))).await;
    let body = page.text().await.unwrap();
    let at = body.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    let csrf = body[at..at + 43].to_string();
    (browser, query, csrf)
}

async fn submit_page(
    server: &TestServer,
    form: &(reqwest::Client, String, String),
    path: &str,
    email: &str,
    password: &str,
) -> Reply {
    let (browser, query, csrf) = form;
    let body = encode(&[
        ("csrf", csrf),
        ("authorize", query),
        ("email", email),
        ("password", password),
    ]);
    let request = browser
        .post(server.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    Reply::read(request.send().await.unwrap()).await
}

/// The same burst at the login page: at most 10 of 40 concurrent failures
/// from one IP are checked, the rest are refused with 429.
#[tokio::test]
async fn concurrent_failures_at_the_login_page_stop_at_the_rate_limit() {
    let (server, s) = start().await;
    set_rate_limits(&server, |l| l.failed_logins_per_ip = 10).await;
    let (browser, query, csrf) = page_form(&server, &s, "/u/login").await;
    let requests = (0..40)
        .map(|n| {
            let email = format!("sprayed{n}@example.com");
            let body = encode(&[
                ("csrf", &csrf),
                ("authorize", &query),
                ("email", &email),
                ("password", "guess"),
            ]);
            browser
                .post(server.url("/u/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
        })
        .collect();
    let replies = concurrently(requests).await;
    let refused = replies.iter().filter(|r| r.status == 429).count();
    assert!(
        replies
            .iter()
            .all(|r| matches!(r.status.as_u16(), 400 | 429)),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let checked = count_events(&server, "fu").await;
    assert!(checked <= 10, "{checked} passwords checked, limit 10");
    assert_eq!(refused + checked, 40);
}

/// The login page counts failures per IP; the signup page counts attempts
/// per IP (so probing which emails exist is slow).
#[tokio::test]
async fn login_and_signup_pages_are_rate_limited_per_ip() {
    let (server, s) = start().await;
    set_rate_limits(&server, |l| {
        l.failed_logins_per_ip = 2;
        l.signups_per_ip = 2;
    })
    .await;
    let login = page_form(&server, &s, "/u/login").await;
    for account in ["x@example.com", "y@example.com"] {
        let reply = submit_page(&server, &login, "/u/login", account, "guess").await;
        assert_eq!(reply.status, 400);
    }
    let limited = submit_page(&server, &login, "/u/login", "alice@example.com", PASSWORD).await;
    assert_eq!(limited.status, 429);
    assert!(
        limited.text.contains("Too many requests"),
        "{}",
        limited.text
    );
    assert_limit_headers(&limited, 2);

    let signup = page_form(&server, &s, "/u/signup").await;
    for _ in 0..2 {
        let reply = submit_page(
            &server,
            &signup,
            "/u/signup",
            "alice@example.com",
            "long enough password",
        )
        .await;
        assert_eq!(reply.status, 400, "the user exists");
    }
    let limited = submit_page(
        &server,
        &signup,
        "/u/signup",
        "new@example.com",
        "long enough password",
    )
    .await;
    assert_eq!(limited.status, 429);
    assert_limit_headers(&limited, 2);
}

/// The Management API limits requests per client, with Auth0's error shape
/// and headers on every answer; another client is unaffected. The limits
/// are set through `PATCH /api/v2/tenants/settings`.
#[tokio::test]
async fn management_api_is_rate_limited_per_client() {
    let mgmt = crate::management::Mgmt::start().await;
    let other = mgmt.token_with(&["read:users"]).await;
    let invalid = mgmt
        .patch(
            "/tenants/settings",
            serde_json::json!({"rate_limits": {"signups_per_ip": 0}}),
        )
        .await;
    crate::management::assert_mgmt_error(&invalid, 400, "invalid_body");
    let patched = mgmt
        .patch(
            "/tenants/settings",
            serde_json::json!({"rate_limits": {"management_requests_per_client": 3, "window_seconds": 86400}}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(
        patched.body["rate_limits"]["management_requests_per_client"],
        3
    );
    // The two PATCHes were this client's first two requests.
    let third = mgmt.get("/users").await;
    assert_eq!(third.status, 200);
    assert_eq!(third.header("x-ratelimit-limit"), Some("3"));
    assert_eq!(third.header("x-ratelimit-remaining"), Some("0"));
    let limited = mgmt.get("/users").await;
    crate::management::assert_mgmt_error(&limited, 429, "too_many_requests");
    assert_eq!(limited.body["error"], "Too Many Requests");
    assert_limit_headers(&limited, 3);
    let unaffected = mgmt
        .call_as(Some(&other), reqwest::Method::GET, "/users", None)
        .await;
    assert_eq!(unaffected.status, 200, "{}", unaffected.text);
    assert_eq!(count_events(&mgmt.server, "api_limit").await, 1);
}

/// A user's Management API token is limited per (application, user): one
/// end user looping on their own record uses up only their own share, not
/// the application's.
#[tokio::test]
async fn management_api_limits_user_tokens_per_user() {
    let mgmt = crate::management::Mgmt::start().await;
    let server = &mgmt.server;
    let s = seed(server.store.as_ref()).await;
    set_rate_limits(server, |l| l.management_requests_per_client = 3).await;
    let audience = mgmt.creds.management_audience.clone();
    let user_token = |email: &'static str| {
        let audience = audience.clone();
        let s = &s;
        async move {
            let reply = server
                .post_form(
                    "/oauth/token",
                    &[
                        ("grant_type", "password"),
                        ("client_id", &s.web_id),
                        ("client_secret", &s.web_secret),
                        ("username", email),
                        ("password", PASSWORD),
                        ("audience", &audience),
                        ("scope", "openid read:current_user"),
                    ],
                )
                .await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            reply.body["access_token"].as_str().unwrap().to_string()
        }
    };
    let bob = user_token("bob@example.com").await;
    let alice = user_token("alice@example.com").await;
    for _ in 0..3 {
        let reply = own_record(&mgmt, &bob, &s.bob.user_id).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    let limited = own_record(&mgmt, &bob, &s.bob.user_id).await;
    crate::management::assert_mgmt_error(&limited, 429, "too_many_requests");
    let other_user = own_record(&mgmt, &alice, &s.alice.user_id).await;
    assert_eq!(
        other_user.status, 200,
        "another user of the same app: {}",
        other_user.text
    );
}

async fn own_record(mgmt: &crate::management::Mgmt, token: &str, user_id: &str) -> Reply {
    let path = format!("/users/{}", &encode(&[("x", user_id)])[2..]);
    mgmt.call_as(Some(token), reqwest::Method::GET, &path, None)
        .await
}
