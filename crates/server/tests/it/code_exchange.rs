//! The refusals of the authorization code exchange at `/oauth/token`
//! (RFC 6749 §4.1.3, RFC 7636 §4.6): each one 403 `invalid_grant` with its
//! description in Auth0's error JSON, and no token. The codes are written to
//! the store as `/authorize` would write them, so each case can shape its
//! own (expired, without PKCE, with `plain`).

use crate::fixtures::{seed, Seeded, SPA_ORIGIN};
use crate::support::{Reply, TestServer};
use gatehouse_core::pkce::s256_challenge;
use gatehouse_core::secret::hash_token;
use gatehouse_store::AuthorizationCode;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn callback() -> String {
    format!("{SPA_ORIGIN}/callback")
}

/// A code for the SPA and alice, with S256 PKCE and the SPA's callback,
/// alive for a minute; `shape` changes it.
async fn insert_code(
    server: &TestServer,
    s: &Seeded,
    code: &str,
    shape: impl FnOnce(&mut AuthorizationCode),
) {
    let now = server.state.now();
    let mut record = AuthorizationCode {
        actions: Default::default(),
        client_id: s.spa_id.clone(),
        user_id: s.alice.user_id.clone(),
        redirect_uri: Some(callback()),
        code_challenge: Some(s256_challenge(VERIFIER)),
        code_challenge_method: Some("S256".into()),
        scope: "openid profile".into(),
        audience: None,
        resource: None,
        nonce: None,
        auth_time: now - 5,
        sid: None,
        require_auth_time: false,
        expires_at: now + 60,
    };
    shape(&mut record);
    server
        .store
        .insert_authorization_code(&hash_token(code), &record)
        .await
        .expect("insert the code");
}

/// Exchanges `code` as the SPA with the verifier and the callback, plus
/// `extra` (a later pair overrides an earlier one of the same name).
async fn exchange(server: &TestServer, s: &Seeded, code: &str, extra: &[(&str, &str)]) -> Reply {
    let callback = callback();
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("client_id", s.spa_id.as_str()),
        ("code", code),
        ("code_verifier", VERIFIER),
        ("redirect_uri", callback.as_str()),
    ];
    for (name, value) in extra {
        pairs.retain(|(n, _)| n != name);
        pairs.push((name, value));
    }
    server.post_form("/oauth/token", &pairs).await
}

fn assert_refused(reply: &Reply, description: &str) {
    assert_eq!(reply.status, 403, "{description}: {}", reply.text);
    assert_eq!(
        reply.body,
        serde_json::json!({"error": "invalid_grant", "error_description": description}),
        "{}",
        reply.text
    );
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{description}"
    );
}

async fn start() -> (TestServer, Seeded) {
    let server = TestServer::start().await;
    let seeded = seed(server.store.as_ref()).await;
    (server, seeded)
}

#[tokio::test]
async fn code_exchange_refusals_match_auth0() {
    let (server, s) = start().await;

    insert_code(&server, &s, "redirect-mismatch", |_| {}).await;
    let other = format!("{SPA_ORIGIN}/other");
    let reply = exchange(
        &server,
        &s,
        "redirect-mismatch",
        &[("redirect_uri", &other)],
    )
    .await;
    assert_refused(
        &reply,
        "The redirect_uri does not match the one used at /authorize.",
    );

    insert_code(&server, &s, "another-clients", |_| {}).await;
    let reply = exchange(
        &server,
        &s,
        "another-clients",
        &[("client_id", &s.web_id), ("client_secret", &s.web_secret)],
    )
    .await;
    assert_refused(&reply, "Invalid authorization code");

    insert_code(&server, &s, "expired", |c| c.expires_at -= 120).await;
    let reply = exchange(&server, &s, "expired", &[]).await;
    assert_refused(&reply, "Invalid authorization code");

    insert_code(&server, &s, "public-without-pkce", |c| {
        c.code_challenge = None;
        c.code_challenge_method = None;
    })
    .await;
    let callback = callback();
    let reply = server
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &s.spa_id),
                ("code", "public-without-pkce"),
                ("redirect_uri", &callback),
            ],
        )
        .await;
    assert_refused(
        &reply,
        "Public clients must use PKCE (code_challenge at /authorize).",
    );

    insert_code(&server, &s, "plain", |c| {
        c.code_challenge = Some(VERIFIER.into());
        c.code_challenge_method = Some("plain".into());
    })
    .await;
    let reply = exchange(&server, &s, "plain", &[]).await;
    assert_refused(
        &reply,
        "The plain code_challenge_method is not allowed for this client.",
    );

    // The same exchange, with nothing wrong, succeeds: each refusal above
    // is the rule it names, not a broken setup.
    insert_code(&server, &s, "good", |_| {}).await;
    let reply = exchange(&server, &s, "good", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.body["access_token"].is_string());
    server.stop().await;
}

/// `/authorize` refuses `code_challenge_method=plain` for a client that does
/// not allow it, through the response mode, before any login.
#[tokio::test]
async fn authorize_refuses_plain_pkce() {
    let (server, s) = start().await;
    let callback = callback();
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &s.spa_id)
        .append_pair("redirect_uri", &callback)
        .append_pair("response_type", "code")
        .append_pair("state", "st")
        .append_pair("code_challenge", VERIFIER)
        .append_pair("code_challenge_method", "plain")
        .finish();
    let reply = server.get(&format!("/authorize?{query}")).await;
    assert_eq!(reply.status, 302, "{}", reply.text);
    let location = reply.header("location").expect("a redirect");
    let (target, params) = location.split_once('?').expect("a query");
    assert_eq!(target, callback);
    let params: Vec<(String, String)> = form_urlencoded::parse(params.as_bytes())
        .into_owned()
        .collect();
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("error"), Some("invalid_request"));
    assert_eq!(
        get("error_description"),
        Some("The plain code_challenge_method is not allowed for this client. Use S256.")
    );
    assert_eq!(get("state"), Some("st"));
    assert_eq!(get("code"), None);
    server.stop().await;
}
