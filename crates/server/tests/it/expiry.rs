//! Lifetimes, tested by moving the server's clock instead of waiting:
//! authorization codes, refresh tokens (idle and absolute lifetimes, reuse
//! leeway), access tokens and device codes expire at the second they should,
//! not before, and device polling is paced by the same clock.

use crate::fixtures::{seed, Seeded, SPA_ORIGIN};
use crate::support::{Reply, TestServer};
use gatehouse_core::model::{ExpirationType, RefreshTokenSettings, RotationType};
use gatehouse_core::pkce::s256_challenge;
use gatehouse_core::secret::hash_token;
use gatehouse_store::AuthorizationCode;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CODE_LIFETIME: i64 = 60;

async fn start() -> (TestServer, Seeded) {
    let server = TestServer::start().await;
    let seeded = seed(server.store.as_ref()).await;
    (server, seeded)
}

/// A code for the SPA as `/authorize` would store it, valid for [`CODE_LIFETIME`].
async fn insert_code(server: &TestServer, s: &Seeded, code: &str) {
    let now = server.state.now();
    let record = AuthorizationCode {
        actions: Default::default(),
        client_id: s.spa_id.clone(),
        user_id: s.alice.user_id.clone(),
        redirect_uri: Some(format!("{SPA_ORIGIN}/callback")),
        code_challenge: Some(s256_challenge(VERIFIER)),
        code_challenge_method: Some("S256".into()),
        scope: "openid offline_access".into(),
        audience: None,
        resource: None,
        nonce: None,
        auth_time: now,
        sid: None,
        require_auth_time: false,
        expires_at: now + CODE_LIFETIME,
    };
    server
        .store
        .insert_authorization_code(&hash_token(code), &record)
        .await
        .unwrap();
}

async fn redeem(server: &TestServer, s: &Seeded, code: &str) -> Reply {
    let redirect = format!("{SPA_ORIGIN}/callback");
    server
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &s.spa_id),
                ("code", code),
                ("code_verifier", VERIFIER),
                ("redirect_uri", &redirect),
            ],
        )
        .await
}

async fn refresh(server: &TestServer, s: &Seeded, refresh_token: &str) -> Reply {
    server
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &s.spa_id),
                ("refresh_token", refresh_token),
            ],
        )
        .await
}

fn refresh_token_of(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_string()
}

fn assert_invalid_grant(reply: &Reply, case: &str) {
    assert_eq!(reply.status, 403, "{case}: {}", reply.text);
    assert_eq!(reply.body["error"], "invalid_grant", "{case}");
}

/// Gives the SPA rotating refresh tokens with these lifetimes.
async fn set_spa_refresh_tokens(server: &TestServer, s: &Seeded, settings: RefreshTokenSettings) {
    let mut spa = server.store.client(&s.spa_id).await.unwrap().unwrap();
    spa.client.refresh_token = settings;
    server.store.update_client(&spa).await.unwrap();
}

fn expiring(leeway: u64, absolute: u64, idle: u64) -> RefreshTokenSettings {
    RefreshTokenSettings {
        rotation_type: RotationType::Rotating,
        expiration_type: ExpirationType::Expiring,
        leeway,
        token_lifetime: absolute,
        infinite_token_lifetime: false,
        idle_token_lifetime: idle,
        infinite_idle_token_lifetime: false,
    }
}

#[tokio::test]
async fn a_code_expires_at_its_lifetime() {
    let (server, s) = start().await;
    insert_code(&server, &s, "code-in-time").await;
    insert_code(&server, &s, "code-too-late").await;
    server.clock.advance(CODE_LIFETIME - 1);
    let in_time = redeem(&server, &s, "code-in-time").await;
    assert_eq!(in_time.status, 200, "{}", in_time.text);
    server.clock.advance(1);
    assert_invalid_grant(
        &redeem(&server, &s, "code-too-late").await,
        "a code at its expiry",
    );
    server.stop().await;
}

#[tokio::test]
async fn a_refresh_token_unused_for_its_idle_lifetime_expires() {
    let (server, s) = start().await;
    set_spa_refresh_tokens(&server, &s, expiring(0, 10_000, 300)).await;
    insert_code(&server, &s, "idle").await;
    let mut token = refresh_token_of(&redeem(&server, &s, "idle").await);
    // Each use within the idle lifetime keeps the family alive, well past
    // one idle lifetime in total.
    for _ in 0..3 {
        server.clock.advance(299);
        token = refresh_token_of(&refresh(&server, &s, &token).await);
    }
    server.clock.advance(300);
    assert_invalid_grant(
        &refresh(&server, &s, &token).await,
        "idle for the idle lifetime",
    );
    server.stop().await;
}

#[tokio::test]
async fn rotation_never_extends_the_absolute_lifetime() {
    let (server, s) = start().await;
    set_spa_refresh_tokens(&server, &s, expiring(0, 1_000, 400)).await;
    insert_code(&server, &s, "absolute").await;
    let mut token = refresh_token_of(&redeem(&server, &s, "absolute").await);
    for _ in 0..3 {
        server.clock.advance(333);
        token = refresh_token_of(&refresh(&server, &s, &token).await);
    }
    // 999 s after issuance; the fresh token is far from idle, the family is not.
    server.clock.advance(1);
    assert_invalid_grant(
        &refresh(&server, &s, &token).await,
        "past the absolute lifetime",
    );
    server.stop().await;
}

#[tokio::test]
async fn a_rotated_token_is_honoured_within_the_leeway_only() {
    let (server, s) = start().await;
    set_spa_refresh_tokens(&server, &s, expiring(30, 10_000, 1_000)).await;
    insert_code(&server, &s, "leeway").await;
    let first = refresh_token_of(&redeem(&server, &s, "leeway").await);
    let second = refresh_token_of(&refresh(&server, &s, &first).await);
    // A client that lost the answer retries with the rotated token in time.
    server.clock.advance(30);
    let retried = refresh_token_of(&refresh(&server, &s, &first).await);
    assert_ne!(retried, second);
    // Past the leeway, the same retry is reuse: the whole family dies.
    server.clock.advance(1);
    assert_invalid_grant(&refresh(&server, &s, &first).await, "past the leeway");
    assert_invalid_grant(
        &refresh(&server, &s, &retried).await,
        "the family after reuse",
    );
    server.stop().await;
}

#[tokio::test]
async fn an_access_token_stops_working_when_it_expires() {
    let (server, s) = start().await;
    insert_code(&server, &s, "userinfo").await;
    let reply = redeem(&server, &s, "userinfo").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let access_token = reply.body["access_token"].as_str().unwrap().to_string();
    let lifetime = reply.body["expires_in"].as_i64().expect("expires_in");
    let userinfo = || async {
        let response = server
            .http
            .get(server.url("/userinfo"))
            .bearer_auth(&access_token)
            .send()
            .await
            .unwrap();
        Reply::read(response).await
    };
    assert_eq!(userinfo().await.status, 200);
    server.clock.advance(lifetime - 1);
    assert_eq!(userinfo().await.status, 200);
    server.clock.advance(1);
    assert_eq!(userinfo().await.status, 401);
    server.stop().await;
}

#[tokio::test]
async fn device_polling_speed_and_expiry_follow_the_clock() {
    let (server, s) = start().await;
    let started = server
        .post_form(
            "/oauth/device/code",
            &[("client_id", &s.spa_id), ("scope", "openid")],
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.text);
    let device_code = started.body["device_code"].as_str().unwrap().to_string();
    let interval = started.body["interval"].as_i64().expect("interval");
    let lifetime = started.body["expires_in"].as_i64().expect("expires_in");
    let poll = || async {
        server
            .post_form(
                "/oauth/token",
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("client_id", &s.spa_id),
                    ("device_code", &device_code),
                ],
            )
            .await
    };
    let error_of = |reply: Reply| reply.body["error"].as_str().unwrap_or_default().to_string();
    assert_eq!(error_of(poll().await), "authorization_pending");
    assert_eq!(error_of(poll().await), "slow_down");
    server.clock.advance(interval);
    assert_eq!(error_of(poll().await), "authorization_pending");
    server.clock.advance(lifetime);
    assert_eq!(error_of(poll().await), "expired_token");
    server.stop().await;
}
