//! `/oauth/token` and its neighbours over real HTTP, with tokens verified by
//! an independent JWT library (`jsonwebtoken`) against the served JWKS.

use crate::fixtures::{seed, Seeded, API, OTHER_API, PASSWORD, SPA_ORIGIN};
use crate::support::TestServer;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_core::model::{ClientAuthenticationKey, RotationType, TenantSettings};
use gatehouse_core::pkce::s256_challenge;
use gatehouse_core::secret::hash_token;
use gatehouse_store::AuthorizationCode;
use jsonwebtoken::{decode, decode_header, jwk::Jwk, Algorithm, DecodingKey, Validation};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

async fn post(
    server: &TestServer,
    path: &str,
    body: String,
    content_type: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut req = server
        .http
        .post(format!("{}{path}", server.base_url))
        .header("content-type", content_type)
        .body(body);
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        headers,
        body,
    }
}

async fn token(server: &TestServer, pairs: &[(&str, &str)]) -> Reply {
    post(
        server,
        "/oauth/token",
        form(pairs),
        "application/x-www-form-urlencoded",
        &[],
    )
    .await
}

fn assert_error(reply: &Reply, status: u16, error: &str, description: Option<&str>) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(reply.body["error"], error, "{:?}", reply.body);
    assert!(
        reply.body["error_description"].is_string(),
        "{:?}",
        reply.body
    );
    if let Some(d) = description {
        assert_eq!(reply.body["error_description"], d);
    }
}

/// Verifies a JWT with `jsonwebtoken` using the key from the served JWKS.
async fn verify(server: &TestServer, jwt: &str, audience: &str) -> Value {
    let header = decode_header(jwt).unwrap();
    let kid = header.kid.clone().expect("kid");
    let jwks: Value = server
        .http
        .get(format!("{}/.well-known/jwks.json", server.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid in JWKS")
        .clone();
    let jwk: Jwk = serde_json::from_value(jwk).unwrap();
    let key = DecodingKey::from_jwk(&jwk).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[server.issuer.as_str()]);
    decode::<Value>(jwt, &key, &validation).unwrap().claims
}

async fn start() -> (TestServer, Seeded) {
    let server = TestServer::start().await;
    let seeded = seed(server.store.as_ref()).await;
    (server, seeded)
}

#[tokio::test]
async fn client_credentials_token_verifies_against_jwks() {
    let (server, s) = start().await;
    let reply = token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.m2m_id),
            ("client_secret", &s.m2m_secret),
            ("audience", API),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.headers["cache-control"], "no-store");
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 86400);
    assert_eq!(reply.body["scope"], "read:measurements write:measurements");
    let claims = verify(&server, reply.body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(claims["iss"], server.issuer);
    assert_eq!(claims["aud"], API);
    assert_eq!(claims["sub"], format!("{}@clients", s.m2m_id));
    assert_eq!(claims["azp"], s.m2m_id.as_str());
    assert_eq!(claims["gty"], "client-credentials");
    assert_eq!(claims["scope"], "read:measurements write:measurements");
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
}

#[tokio::test]
async fn client_credentials_json_body_with_nulls_and_basic_auth() {
    let (server, s) = start().await;
    // auth0-python sends JSON with `"organization": null`.
    let body = json!({
        "grant_type": "client_credentials", "client_id": s.m2m_id, "client_secret": s.m2m_secret,
        "audience": API, "organization": null, "scope": "read:measurements"
    });
    let reply = post(
        &server,
        "/oauth/token",
        body.to_string(),
        "application/json",
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["scope"], "read:measurements");
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", s.m2m_id, s.m2m_secret))
    );
    let reply = post(
        &server,
        "/oauth/token",
        form(&[("grant_type", "client_credentials"), ("resource", API)]),
        "application/x-www-form-urlencoded",
        &[("authorization", &basic)],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

#[tokio::test]
async fn client_credentials_errors_match_auth0() {
    let (server, s) = start().await;
    let no_grant = token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.m2m_id),
            ("client_secret", &s.m2m_secret),
            ("audience", OTHER_API),
        ],
    )
    .await;
    assert_error(&no_grant, 403, "access_denied", None);
    assert!(no_grant.body["error_description"].as_str().unwrap().starts_with(
        "Client is not authorized to access \"https://other.example/\". You need to create a \"client-grant\" associated to this API."
    ));
    let unknown = token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.m2m_id),
            ("client_secret", &s.m2m_secret),
            ("audience", "https://measurements.example"),
        ],
    )
    .await;
    assert_error(
        &unknown,
        403,
        "access_denied",
        Some("Service not found: https://measurements.example"),
    );
    let not_granted = token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.m2m_id),
            ("client_secret", &s.m2m_secret),
            ("audience", API),
            ("scope", "delete:everything"),
        ],
    )
    .await;
    assert_error(
        &not_granted,
        403,
        "access_denied",
        Some("Client has not been granted scopes: delete:everything"),
    );
    let wrong_secret = token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.m2m_id),
            ("client_secret", "nope"),
            ("audience", API),
        ],
    )
    .await;
    assert_error(&wrong_secret, 401, "invalid_client", None);
    let unknown_client = token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "ghost"),
            ("client_secret", "nope"),
            ("audience", API),
        ],
    )
    .await;
    assert_error(&unknown_client, 401, "invalid_client", None);
    let not_allowed = token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.web_id),
            ("client_secret", &s.web_secret),
            ("audience", API),
        ],
    )
    .await;
    // Regular web apps have client_credentials by default but no client grant.
    assert_error(&not_allowed, 403, "access_denied", None);
    let spa = token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.spa_id),
            ("audience", API),
        ],
    )
    .await;
    assert_error(
        &spa,
        403,
        "unauthorized_client",
        Some("Grant type 'client_credentials' not allowed for the client."),
    );
}

#[tokio::test]
async fn malformed_requests_get_invalid_request() {
    let (server, s) = start().await;
    let missing = token(&server, &[("client_id", &s.m2m_id)]).await;
    assert_error(
        &missing,
        400,
        "invalid_request",
        Some("Missing required parameter: grant_type"),
    );
    let unsupported = token(
        &server,
        &[("grant_type", "magic"), ("client_id", &s.m2m_id)],
    )
    .await;
    assert_error(&unsupported, 400, "unsupported_grant_type", None);
    let duplicated = post(
        &server,
        "/oauth/token",
        "grant_type=client_credentials&grant_type=password".into(),
        "application/x-www-form-urlencoded",
        &[],
    )
    .await;
    assert_error(&duplicated, 400, "invalid_request", None);
    let wrong_type = post(
        &server,
        "/oauth/token",
        json!({"grant_type": 5}).to_string(),
        "application/json",
        &[],
    )
    .await;
    assert_error(&wrong_type, 400, "invalid_request", None);
    let broken = post(&server, "/oauth/token", "{".into(), "application/json", &[]).await;
    assert_error(&broken, 400, "invalid_request", None);
    let big = post(
        &server,
        "/oauth/token",
        format!("grant_type={}", "a".repeat(100_000)),
        "application/x-www-form-urlencoded",
        &[],
    )
    .await;
    assert_error(&big, 413, "invalid_request", None);
    let text = post(&server, "/oauth/token", "hello".into(), "text/plain", &[]).await;
    assert_error(&text, 400, "invalid_request", None);
    let no_code = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &s.spa_id),
        ],
    )
    .await;
    assert_error(
        &no_code,
        400,
        "invalid_request",
        Some("Missing required parameter: code"),
    );
    // Nothing was issued or logged as a success by any of these.
    let logs = server
        .store
        .search_log_events(&gatehouse_store::LogQuery::all())
        .await
        .unwrap();
    assert!(logs.iter().all(|e| !e.event_type.starts_with('s')));
}

async fn password_grant(server: &TestServer, s: &Seeded, email: &str, scope: &str) -> Reply {
    token(
        server,
        &[
            ("grant_type", "password"),
            ("client_id", &s.web_id),
            ("client_secret", &s.web_secret),
            ("username", email),
            ("password", PASSWORD),
            ("audience", API),
            ("scope", scope),
        ],
    )
    .await
}

#[tokio::test]
async fn seed_000_rbac_scope_and_permissions() {
    let (server, s) = start().await;
    let scope = "openid profile email read:measurements";
    let alice = password_grant(&server, &s, "alice@example.com", scope).await;
    assert_eq!(alice.status, 200, "{:?}", alice.body);
    assert_eq!(
        alice.body["scope"],
        "openid profile email read:measurements"
    );
    let claims = verify(&server, alice.body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(claims["scope"], "openid profile email read:measurements");
    assert_eq!(claims["permissions"], json!(["read:measurements"]));
    assert_eq!(
        claims["aud"],
        json!([API, format!("{}userinfo", server.issuer)])
    );
    assert_eq!(claims["gty"], "password");

    let bob = password_grant(&server, &s, "bob@example.com", scope).await;
    assert_eq!(bob.status, 200, "{:?}", bob.body);
    assert_eq!(bob.body["scope"], "openid profile email");
    let claims = verify(&server, bob.body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(claims["scope"], "openid profile email");
    assert_eq!(claims["permissions"], json!([]));

    // The trace says why, with the fix.
    let logs = server
        .store
        .search_log_events(&gatehouse_store::LogQuery::all())
        .await
        .unwrap();
    let event = logs
        .iter()
        .find(|e| e.event_type == "sepft" && e.user_id.as_deref() == Some(&s.bob.user_id))
        .expect("sepft for bob");
    let dropped = event.details["trace"]["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["scope"] == "read:measurements")
        .unwrap()
        .clone();
    assert_eq!(dropped["granted"], false);
    assert!(
        dropped["fix"].as_str().unwrap().contains("reader"),
        "{dropped}"
    );
    assert!(event.details["jti"].is_string());
}

#[tokio::test]
async fn password_errors() {
    let (server, s) = start().await;
    let wrong = token(
        &server,
        &[
            ("grant_type", "password"),
            ("client_id", &s.web_id),
            ("client_secret", &s.web_secret),
            ("username", "alice@example.com"),
            ("password", "wrong"),
        ],
    )
    .await;
    assert_error(
        &wrong,
        403,
        "invalid_grant",
        Some("Wrong email or password."),
    );
    let unknown = token(
        &server,
        &[
            ("grant_type", "password"),
            ("client_id", &s.web_id),
            ("client_secret", &s.web_secret),
            ("username", "nobody@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_error(
        &unknown,
        403,
        "invalid_grant",
        Some("Wrong email or password."),
    );
    let realm = token(
        &server,
        &[
            (
                "grant_type",
                "http://auth0.com/oauth/grant-type/password-realm",
            ),
            ("client_id", &s.web_id),
            ("client_secret", &s.web_secret),
            ("username", "alice@example.com"),
            ("password", PASSWORD),
            ("realm", "Username-Password-Authentication"),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(realm.status, 200, "{:?}", realm.body);
    let mut blocked = server.store.user(&s.alice.user_id).await.unwrap().unwrap();
    blocked.user.blocked = true;
    server.store.update_user(&blocked).await.unwrap();
    let reply = password_grant(&server, &s, "alice@example.com", "openid").await;
    assert_eq!(reply.status, 403);
    assert!(reply.body["error_description"]
        .as_str()
        .unwrap()
        .contains("user is blocked"));
    let logs = server
        .store
        .search_log_events(&gatehouse_store::LogQuery::all())
        .await
        .unwrap();
    assert!(logs.iter().any(|e| e.event_type == "fp"));
    assert!(logs.iter().any(|e| e.event_type == "fu"));
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

async fn insert_code(
    server: &TestServer,
    s: &Seeded,
    code: &str,
    audience: Option<&str>,
    resource: Option<&str>,
    scope: &str,
) {
    let now = server.state.now();
    server
        .store
        .insert_authorization_code(
            &hash_token(code),
            &AuthorizationCode {
                actions: Default::default(),
                client_id: s.spa_id.clone(),
                user_id: s.alice.user_id.clone(),
                redirect_uri: Some(format!("{SPA_ORIGIN}/callback")),
                code_challenge: Some(s256_challenge(VERIFIER)),
                code_challenge_method: Some("S256".into()),
                scope: scope.into(),
                audience: audience.map(str::to_string),
                resource: resource.map(str::to_string),
                nonce: Some("nonce-123".into()),
                auth_time: now - 5,
                sid: Some("sid-1".into()),
                require_auth_time: false,
                expires_at: now + 60,
            },
        )
        .await
        .unwrap();
}

async fn exchange(server: &TestServer, s: &Seeded, code: &str, verifier: &str) -> Reply {
    let redirect = format!("{SPA_ORIGIN}/callback");
    token(
        server,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &s.spa_id),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", &redirect),
        ],
    )
    .await
}

#[tokio::test]
async fn authorization_code_with_pkce_is_single_use() {
    let (server, s) = start().await;
    insert_code(
        &server,
        &s,
        "code-1",
        Some(API),
        None,
        "openid profile email read:measurements offline_access",
    )
    .await;
    let bad = exchange(&server, &s, "code-1", &"x".repeat(43)).await;
    assert_error(&bad, 403, "invalid_grant", None);
    insert_code(
        &server,
        &s,
        "code-2",
        Some(API),
        None,
        "openid profile email read:measurements offline_access",
    )
    .await;
    let ok = exchange(&server, &s, "code-2", VERIFIER).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(
        ok.body["scope"],
        "openid profile email read:measurements offline_access"
    );
    let refresh = ok.body["refresh_token"].as_str().unwrap().to_string();
    let id = verify(&server, ok.body["id_token"].as_str().unwrap(), &s.spa_id).await;
    assert_eq!(id["nonce"], "nonce-123");
    assert_eq!(id["sid"], "sid-1");
    assert_eq!(id["email"], "alice@example.com");
    assert!(id["updated_at"].as_str().unwrap().ends_with('Z'));
    assert!(id["at_hash"].is_string());
    assert_eq!(
        decode_header(ok.body["id_token"].as_str().unwrap())
            .unwrap()
            .alg,
        Algorithm::RS256
    );
    let at = verify(&server, ok.body["access_token"].as_str().unwrap(), API).await;
    assert!(at.get("gty").is_none(), "no gty for the code grant");
    // Reuse: refused, and what the first use issued is revoked.
    let again = exchange(&server, &s, "code-2", VERIFIER).await;
    assert_error(&again, 403, "invalid_grant", None);
    let refreshed = token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &s.spa_id),
            ("refresh_token", &refresh),
        ],
    )
    .await;
    assert_error(
        &refreshed,
        403,
        "invalid_grant",
        Some("Unknown or invalid refresh token."),
    );
}

#[tokio::test]
async fn seed_001_no_audience_gives_opaque_token_for_userinfo() {
    let (server, s) = start().await;
    insert_code(
        &server,
        &s,
        "c-opaque",
        None,
        None,
        "openid profile email myscope",
    )
    .await;
    let reply = exchange(&server, &s, "c-opaque", VERIFIER).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["scope"], "openid profile email");
    let access = reply.body["access_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 1, "opaque: {access}");
    let info = server
        .http
        .get(format!("{}/userinfo", server.base_url))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200);
    let info: Value = info.json().await.unwrap();
    assert_eq!(info["sub"], s.alice.user_id.as_str());
    assert_eq!(info["email"], "alice@example.com");
    // With `resource`, the custom scope reaches a JWT for the API.
    insert_code(
        &server,
        &s,
        "c-resource",
        None,
        Some(OTHER_API),
        "openid profile email myscope",
    )
    .await;
    let reply = exchange(&server, &s, "c-resource", VERIFIER).await;
    assert_eq!(reply.body["scope"], "openid profile email myscope");
    let claims = verify(
        &server,
        reply.body["access_token"].as_str().unwrap(),
        OTHER_API,
    )
    .await;
    assert_eq!(claims["scope"], "openid profile email myscope");
    // With infer_audience_from_scope, also without any parameter.
    server
        .store
        .put_tenant_settings(&TenantSettings {
            infer_audience_from_scope: true,
            ..TenantSettings::default()
        })
        .await
        .unwrap();
    insert_code(&server, &s, "c-infer", None, None, "openid myscope").await;
    let reply = exchange(&server, &s, "c-infer", VERIFIER).await;
    assert_eq!(reply.body["scope"], "openid myscope", "{:?}", reply.body);
    verify(
        &server,
        reply.body["access_token"].as_str().unwrap(),
        OTHER_API,
    )
    .await;
    let unauthorized = server
        .http
        .get(format!("{}/userinfo", server.base_url))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
}

async fn refresh(server: &TestServer, s: &Seeded, rt: &str) -> Reply {
    token(
        server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &s.spa_id),
            ("refresh_token", rt),
        ],
    )
    .await
}

#[tokio::test]
async fn refresh_token_rotation_and_family_revocation_on_reuse() {
    let (server, s) = start().await;
    insert_code(
        &server,
        &s,
        "c-rt",
        Some(API),
        None,
        "openid read:measurements offline_access",
    )
    .await;
    let first = exchange(&server, &s, "c-rt", VERIFIER).await;
    let rt1 = first.body["refresh_token"].as_str().unwrap().to_string();
    let second = refresh(&server, &s, &rt1).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(
        second.body["scope"],
        "openid read:measurements offline_access"
    );
    let claims = verify(&server, second.body["access_token"].as_str().unwrap(), API).await;
    assert_eq!(claims["gty"], "refresh_token");
    assert!(second.body["id_token"].is_string());
    let rt2 = second.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2);
    // Narrower scope is fine; wider is not.
    let narrow = token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &s.spa_id),
            ("refresh_token", &rt2),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(narrow.status, 200, "{:?}", narrow.body);
    assert_eq!(narrow.body["scope"], "openid");
    let rt3 = narrow.body["refresh_token"].as_str().unwrap().to_string();
    let wider = token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &s.spa_id),
            ("refresh_token", &rt3),
            ("scope", "openid write:measurements"),
        ],
    )
    .await;
    assert_error(&wider, 400, "invalid_scope", None);
    // Reusing rt1 revokes the family: rt3 dies too.
    let reuse = refresh(&server, &s, &rt1).await;
    assert_error(
        &reuse,
        403,
        "invalid_grant",
        Some("Unknown or invalid refresh token."),
    );
    let after = refresh(&server, &s, &rt3).await;
    assert_error(
        &after,
        403,
        "invalid_grant",
        Some("Unknown or invalid refresh token."),
    );
    let logs = server
        .store
        .search_log_events(&gatehouse_store::LogQuery::all())
        .await
        .unwrap();
    assert!(logs.iter().any(|e| e.event_type == "ferrt"));
    // Another client cannot use someone else's token.
    let stolen = token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &s.web_id),
            ("client_secret", &s.web_secret),
            ("refresh_token", &rt3),
        ],
    )
    .await;
    assert_error(&stolen, 403, "invalid_grant", None);
}

#[tokio::test]
async fn non_rotating_refresh_and_revocation() {
    let (server, s) = start().await;
    let mut web = server.store.client(&s.web_id).await.unwrap().unwrap();
    assert_eq!(
        web.client.refresh_token.rotation_type,
        RotationType::NonRotating
    );
    web.client.grant_types.push("password".into());
    server.store.update_client(&web).await.unwrap();
    let reply = password_grant(&server, &s, "alice@example.com", "openid offline_access").await;
    let rt = reply.body["refresh_token"].as_str().unwrap().to_string();
    let web_refresh = |rt: String| {
        let server = &server;
        let s = &s;
        async move {
            token(
                server,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", &s.web_id),
                    ("client_secret", &s.web_secret),
                    ("refresh_token", &rt),
                ],
            )
            .await
        }
    };
    let a = web_refresh(rt.clone()).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert!(
        a.body.get("refresh_token").is_none(),
        "non-rotating: no new refresh token"
    );
    let b = web_refresh(rt.clone()).await;
    assert_eq!(b.status, 200);
    let revoke = post(
        &server,
        "/oauth/revoke",
        form(&[
            ("client_id", &s.web_id),
            ("client_secret", &s.web_secret),
            ("token", &rt),
        ]),
        "application/x-www-form-urlencoded",
        &[],
    )
    .await;
    assert_eq!(revoke.status, 200);
    assert_eq!(revoke.body, Value::String(String::new()));
    let again = post(
        &server,
        "/oauth/revoke",
        form(&[
            ("client_id", &s.web_id),
            ("client_secret", &s.web_secret),
            ("token", "unknown"),
        ]),
        "application/x-www-form-urlencoded",
        &[],
    )
    .await;
    assert_eq!(again.status, 200);
    let missing = post(
        &server,
        "/oauth/revoke",
        form(&[("client_id", &s.web_id), ("client_secret", &s.web_secret)]),
        "application/x-www-form-urlencoded",
        &[],
    )
    .await;
    assert_error(&missing, 400, "invalid_request", None);
    let c = web_refresh(rt).await;
    assert_error(
        &c,
        403,
        "invalid_grant",
        Some("Unknown or invalid refresh token."),
    );
}

async fn poll_device(server: &TestServer, client_id: &str, device_code: &str) -> Reply {
    token(
        server,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", client_id),
            ("device_code", device_code),
        ],
    )
    .await
}

#[tokio::test]
async fn device_flow_polling_errors() {
    let (server, s) = start().await;
    let start = post(
        &server,
        "/oauth/device/code",
        form(&[
            ("client_id", &s.spa_id),
            ("scope", "openid offline_access read:measurements"),
            ("audience", API),
        ]),
        "application/x-www-form-urlencoded",
        &[],
    )
    .await;
    assert_eq!(start.status, 200, "{:?}", start.body);
    let device_code = start.body["device_code"].as_str().unwrap().to_string();
    let user_code = start.body["user_code"].as_str().unwrap().to_string();
    assert!(start.body["verification_uri"]
        .as_str()
        .unwrap()
        .ends_with("/activate"));
    let poll = || poll_device(&server, &s.spa_id, &device_code);
    let events_before = server
        .store
        .count_log_events(&gatehouse_store::LogFilter::default())
        .await
        .unwrap();
    let pending = poll().await;
    assert_error(&pending, 403, "authorization_pending", None);
    assert_error(&poll().await, 429, "slow_down", None);
    // Waiting is not failing: polls on schedule write no log event.
    let all = server
        .store
        .search_log_events(&gatehouse_store::LogQuery::all())
        .await
        .unwrap();
    let types: Vec<(&str, &str)> = all
        .iter()
        .map(|e| (e.event_type.as_str(), e.description.as_str()))
        .collect();
    assert_eq!(
        server
            .store
            .count_log_events(&gatehouse_store::LogFilter::default())
            .await
            .unwrap(),
        events_before,
        "{types:?}"
    );
    let record = server
        .store
        .device_code_by_user_code(&user_code)
        .await
        .unwrap()
        .unwrap();
    assert!(server
        .store
        .transition_device_code(
            &record.device_code_hash,
            gatehouse_store::DeviceStatus::Pending,
            gatehouse_store::DeviceStatus::Approved,
            Some(&s.alice.user_id)
        )
        .await
        .unwrap());
    let done = poll().await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(
        done.body["scope"],
        "openid offline_access read:measurements"
    );
    assert!(done.body["refresh_token"].is_string());
    assert_error(&poll().await, 403, "invalid_grant", None);
    // An expired code answers expired_token once, then invalid_grant.
    let now = server.state.now();
    server
        .store
        .insert_device_code(&gatehouse_store::DeviceCode {
            device_code_hash: hash_token("old-device"),
            user_code: "BCDF-GHJK".into(),
            client_id: s.spa_id.clone(),
            request: gatehouse_store::DeviceRequest {
                scope: "openid".into(),
                audience: None,
                interval: 5,
            },
            status: gatehouse_store::DeviceStatus::Pending,
            user_id: None,
            expires_at: now - 1,
            last_polled_at: None,
        })
        .await
        .unwrap();
    let old = || poll_device(&server, &s.spa_id, "old-device");
    assert_error(&old().await, 403, "expired_token", None);
    assert_error(&old().await, 403, "invalid_grant", None);
    let unknown_aud = post(
        &server,
        "/oauth/device/code",
        form(&[("client_id", &s.spa_id), ("audience", "https://nope/")]),
        "application/x-www-form-urlencoded",
        &[],
    )
    .await;
    assert_error(
        &unknown_aud,
        403,
        "access_denied",
        Some("Service not found: https://nope/"),
    );
}

#[tokio::test]
async fn introspection_for_confidential_clients() {
    let (server, s) = start().await;
    let cc = token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.m2m_id),
            ("client_secret", &s.m2m_secret),
            ("audience", API),
        ],
    )
    .await;
    let at = cc.body["access_token"].as_str().unwrap();
    let creds = [
        ("client_id", s.m2m_id.as_str()),
        ("client_secret", s.m2m_secret.as_str()),
    ];
    let mut pairs = creds.to_vec();
    pairs.push(("token", at));
    let active = post(
        &server,
        "/oauth/introspect",
        form(&pairs),
        "application/x-www-form-urlencoded",
        &[],
    )
    .await;
    assert_eq!(active.body["active"], true, "{:?}", active.body);
    assert_eq!(active.body["client_id"], s.m2m_id.as_str());
    assert_eq!(active.body["scope"], "read:measurements write:measurements");
    let mut pairs = creds.to_vec();
    pairs.push(("token", "garbage.garbage.garbage"));
    let inactive = post(
        &server,
        "/oauth/introspect",
        form(&pairs),
        "application/x-www-form-urlencoded",
        &[],
    )
    .await;
    assert_eq!(inactive.body, json!({"active": false}));
    // Another confidential client, without a grant on the token's API, learns nothing.
    let other = post(
        &server,
        "/oauth/introspect",
        form(&[
            ("client_id", s.web_id.as_str()),
            ("client_secret", s.web_secret.as_str()),
            ("token", at),
        ]),
        "application/x-www-form-urlencoded",
        &[],
    )
    .await;
    assert_eq!(other.body, json!({"active": false}));
    let public = post(
        &server,
        "/oauth/introspect",
        form(&[("client_id", &s.spa_id), ("token", at)]),
        "application/x-www-form-urlencoded",
        &[],
    )
    .await;
    assert_error(&public, 401, "invalid_client", None);
}

#[tokio::test]
async fn private_key_jwt_client_authentication() {
    let (server, s) = start().await;
    let key =
        gatehouse_core::jose::KeyPair::generate(gatehouse_core::model::SigningAlg::RS256).unwrap();
    let mut m2m = server.store.client(&s.m2m_id).await.unwrap().unwrap();
    m2m.client.token_endpoint_auth_method =
        gatehouse_core::model::TokenEndpointAuthMethod::PrivateKeyJwt;
    m2m.client.client_authentication_keys = vec![ClientAuthenticationKey {
        kid: Some(key.kid().into()),
        jwk: key.public_jwk(),
    }];
    server.store.update_client(&m2m).await.unwrap();
    let now = server.state.now();
    // auth0-python builds aud as https://<domain>/ even over http.
    let host = server.base_url.trim_start_matches("http://");
    let assertion = |jti: &str| {
        gatehouse_core::jose::sign_jwt(
            &key,
            "JWT",
            &json!({
                "iss": s.m2m_id, "sub": s.m2m_id, "aud": format!("https://{host}/"),
                "iat": now, "exp": now + 60, "jti": jti,
            }),
        )
        .unwrap()
    };
    let first = assertion("jti-1");
    let pairs = |a: &str| {
        form(&[
            ("grant_type", "client_credentials"),
            ("audience", API),
            ("client_assertion", a),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
        ])
    };
    let ok = post(
        &server,
        "/oauth/token",
        pairs(&first),
        "application/x-www-form-urlencoded",
        &[],
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    let replay = post(
        &server,
        "/oauth/token",
        pairs(&first),
        "application/x-www-form-urlencoded",
        &[],
    )
    .await;
    assert_error(&replay, 401, "invalid_client", None);
    let secret = token(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.m2m_id),
            ("client_secret", &s.m2m_secret),
            ("audience", API),
        ],
    )
    .await;
    assert_error(&secret, 401, "invalid_client", None);
}

#[tokio::test]
async fn cors_for_browser_clients() {
    let (server, s) = start().await;
    let preflight = server
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/oauth/token", server.base_url),
        )
        .header("origin", SPA_ORIGIN)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "auth0-client, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert!(preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("Auth0-Client"));
    insert_code(&server, &s, "c-cors", Some(API), None, "openid").await;
    let redirect = format!("{SPA_ORIGIN}/callback");
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("client_id", &s.spa_id),
        ("code", "c-cors"),
        ("code_verifier", VERIFIER),
        ("redirect_uri", &redirect),
    ]);
    let ok = post(
        &server,
        "/oauth/token",
        body,
        "application/x-www-form-urlencoded",
        &[("origin", SPA_ORIGIN)],
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.headers["access-control-allow-origin"], SPA_ORIGIN);
    insert_code(&server, &s, "c-cors2", Some(API), None, "openid").await;
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("client_id", &s.spa_id),
        ("code", "c-cors2"),
        ("code_verifier", VERIFIER),
        ("redirect_uri", &redirect),
    ]);
    let other = post(
        &server,
        "/oauth/token",
        body,
        "application/x-www-form-urlencoded",
        &[("origin", "https://evil.example")],
    )
    .await;
    assert!(other.headers.get("access-control-allow-origin").is_none());
}

async fn login_from(server: &TestServer, s: &Seeded, ip: &str, password: &str) -> Reply {
    post(
        server,
        "/oauth/token",
        form(&[
            ("grant_type", "password"),
            ("client_id", &s.web_id),
            ("client_secret", &s.web_secret),
            ("username", "Alice@Example.com"),
            ("password", password),
        ]),
        "application/x-www-form-urlencoded",
        &[("auth0-forwarded-for", ip)],
    )
    .await
}

#[tokio::test]
async fn brute_force_protection_blocks_the_ip_for_that_user() {
    let (server, s) = start().await;
    let mut web = server.store.client(&s.web_id).await.unwrap().unwrap();
    web.client.token_endpoint_ip_header_trusted = true;
    server.store.update_client(&web).await.unwrap();
    let mut settings = server.store.tenant_settings().await.unwrap();
    settings.brute_force_protection.max_attempts = 3;
    server.store.put_tenant_settings(&settings).await.unwrap();
    // A success resets the count.
    for _ in 0..2 {
        assert_eq!(
            login_from(&server, &s, "203.0.113.7", "wrong").await.status,
            403
        );
    }
    assert_eq!(
        login_from(&server, &s, "203.0.113.7", PASSWORD)
            .await
            .status,
        200
    );
    for _ in 0..2 {
        let reply = login_from(&server, &s, "203.0.113.7", "wrong").await;
        assert_error(
            &reply,
            403,
            "invalid_grant",
            Some("Wrong email or password."),
        );
    }
    let third = login_from(&server, &s, "203.0.113.7", "wrong").await;
    assert_error(&third, 429, "too_many_attempts", None);
    // Blocked even with the right password, from that IP only.
    let right = login_from(&server, &s, "203.0.113.7", PASSWORD).await;
    assert_error(&right, 429, "too_many_attempts", None);
    assert_eq!(
        login_from(&server, &s, "198.51.100.9", PASSWORD)
            .await
            .status,
        200
    );
    let logs = server
        .store
        .search_log_events(&gatehouse_store::LogQuery::all())
        .await
        .unwrap();
    assert_eq!(
        logs.iter().filter(|e| e.event_type == "limit_wc").count(),
        1
    );
}
