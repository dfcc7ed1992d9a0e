//! Authentication, scopes and malformed input: every rejection is Auth0's
//! `{statusCode, error, message, errorCode}`, never a 500 or plain text.

use super::{assert_mgmt_error, Mgmt};
use gatehouse_core::jose::{sign_jwt, sign_jwt_hs256};
use gatehouse_core::model::SigningAlg;
use reqwest::Method;
use serde_json::json;

fn signed(m: &Mgmt, aud: &str, exp_offset: i64, scope: &str) -> String {
    let key = m
        .server
        .state
        .keys()
        .signing_key(SigningAlg::RS256)
        .unwrap();
    let now = m.server.state.now();
    sign_jwt(
        &key,
        "JWT",
        &json!({
            "iss": m.server.issuer, "sub": "x@clients", "aud": aud, "azp": "x",
            "iat": now - 100, "exp": now + exp_offset, "scope": scope,
        }),
    )
    .unwrap()
}

/// An HS256 token names, in its unverified `aud`, the API whose secret
/// verifies it, so that text reaches the store before any signature check.
/// A NUL in it (which PostgreSQL cannot compare) is an invalid token at the
/// Management API, `/userinfo` and introspection, never a server error.
#[tokio::test]
async fn a_nul_in_an_unverified_audience_is_an_invalid_token() {
    let m = Mgmt::start().await;
    let now = m.server.state.now();
    let forged = sign_jwt_hs256(
        b"a guessed secret",
        "JWT",
        &json!({
            "iss": m.server.issuer, "sub": "auth0|x", "aud": "https://api\u{0}.example/",
            "azp": "x", "iat": now, "exp": now + 300, "scope": "openid read:users",
        }),
    )
    .unwrap();

    let r = m.call_as(Some(&forged), Method::GET, "/users", None).await;
    assert_mgmt_error(&r, 401, "invalid_token");
    assert_eq!(r.body["message"], "Invalid token");

    let r = m
        .server
        .http
        .get(m.server.url("/userinfo"))
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");

    let r = m
        .server
        .post_form(
            "/oauth/introspect",
            &[
                ("client_id", &m.creds.management_client_id),
                ("client_secret", &m.creds.management_client_secret),
                ("token", &forged),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"active": false}));
}

#[tokio::test]
async fn tokens_are_checked_with_auth0_messages() {
    let m = Mgmt::start().await;
    let aud = m.creds.management_audience.clone();

    let r = m.call_as(None, Method::GET, "/users", None).await;
    assert_mgmt_error(&r, 401, "invalid_token");
    assert_eq!(r.body["message"], "Missing authentication");
    assert_eq!(r.body["error"], "Unauthorized");

    let r = m
        .call_as(Some("not-a-jwt"), Method::GET, "/users", None)
        .await;
    assert_mgmt_error(&r, 401, "invalid_token");
    assert_eq!(r.body["message"], "Invalid token");

    let expired = signed(&m, &aud, -10, "read:users");
    let r = m.call_as(Some(&expired), Method::GET, "/users", None).await;
    assert_mgmt_error(&r, 401, "invalid_token");
    assert_eq!(
        r.body["message"],
        "Expired token received for JSON Web Token validation"
    );

    // Right key, wrong audience; and a tampered signature.
    let other = signed(&m, "https://other.example/", 300, "read:users");
    let r = m.call_as(Some(&other), Method::GET, "/users", None).await;
    assert_eq!(r.body["message"], "Invalid token");
    let mut tampered = signed(&m, &aud, 300, "read:users");
    tampered.push('A');
    let r = m
        .call_as(Some(&tampered), Method::GET, "/users", None)
        .await;
    assert_eq!(r.body["message"], "Invalid token");

    // A Basic header is malformed for this API.
    let r = m
        .server
        .http
        .get(m.server.url("/api/v2/users"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // A valid self-signed token with the scope works.
    let good = signed(&m, &aud, 300, "read:users");
    let r = m.call_as(Some(&good), Method::GET, "/users", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn scopes_are_enforced_per_endpoint() {
    let m = Mgmt::start().await;
    let token = m.token_with(&["read:roles"]).await;
    let r = m.call_as(Some(&token), Method::GET, "/users", None).await;
    assert_mgmt_error(&r, 403, "insufficient_scope");
    assert_eq!(r.body["error"], "Forbidden");
    assert_eq!(
        r.body["message"],
        "Insufficient scope, expected any of: read:users"
    );
    let r = m.call_as(Some(&token), Method::GET, "/roles", None).await;
    assert_eq!(r.status, 200);
    // A scope for one verb does not open another.
    let r = m
        .call_as(
            Some(&token),
            Method::POST,
            "/roles",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(
        r.body["message"],
        "Insufficient scope, expected any of: create:roles"
    );
    // Scope checks come before body validation.
    let r = m
        .call_as(
            Some(&token),
            Method::POST,
            "/users",
            Some(json!({"bogus": 1})),
        )
        .await;
    assert_eq!(r.status, 403);

    // update:users_app_metadata may change metadata only.
    let user = m
        .post(
            "/users",
            json!({"connection": "Username-Password-Authentication", "email": "meta@example.com", "password": "long enough pw"}),
        )
        .await;
    let id = user.body["user_id"].as_str().unwrap().replace('|', "%7C");
    let meta = m.token_with(&["update:users_app_metadata"]).await;
    let path = format!("/users/{id}");
    let r = m
        .call_as(
            Some(&meta),
            Method::PATCH,
            &path,
            Some(json!({"app_metadata": {"plan": "pro"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["app_metadata"]["plan"], "pro");
    let r = m
        .call_as(
            Some(&meta),
            Method::PATCH,
            &path,
            Some(json!({"blocked": true})),
        )
        .await;
    assert_mgmt_error(&r, 403, "insufficient_scope");
}

#[tokio::test]
async fn malformed_input_is_400_in_auth0_shape() {
    let m = Mgmt::start().await;
    let r = m.raw(Method::POST, "/roles", "{not json").await;
    assert_mgmt_error(&r, 400, "invalid_json");
    assert_eq!(r.body["message"], "Invalid request payload JSON format");
    let r = m.raw(Method::POST, "/roles", "[1,2]").await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m.raw(Method::POST, "/roles", "").await;
    assert_mgmt_error(&r, 400, "invalid_json");
    let r = m
        .post("/roles", json!({"name": "r", "colour": "red"}))
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    assert_eq!(
        r.body["message"],
        "Payload validation error: 'Additional properties not allowed: colour'."
    );
    let r = m.post("/roles", json!({"name": 5})).await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m.post("/roles", json!({})).await;
    assert_mgmt_error(&r, 400, "invalid_body");
    assert!(r.body["message"].as_str().unwrap().contains("name"));
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let r = m.raw(Method::POST, "/roles", &big).await;
    assert_mgmt_error(&r, 413, "payload_too_large");

    for q in [
        "/users?per_page=abc",
        "/users?per_page=51",
        "/users?per_page=0",
        "/users?page=-1",
        "/users?include_totals=maybe",
        "/users?page=99999999999999999999",
        "/users?sort=email",
        "/users?q=foo:bar",
        "/users?q=%22open",
        "/users?search_engine=v1",
        "/roles?per_page=1000",
        "/client-grants?take=0",
        "/client-grants?from=xyz",
        "/clients?app_type=toaster",
    ] {
        let r = m.get(q).await;
        assert_mgmt_error(&r, 400, "invalid_query_string");
    }
    for p in ["/users/%FF%FE", "/roles/%C3%28"] {
        let r = m.get(p).await;
        assert_eq!(r.status, 400, "{p}: {}", r.text);
    }
    // PostgreSQL cannot store a NUL character; on both backends it is a 400.
    let r = m.get("/users/auth0%7C%00").await;
    assert_mgmt_error(&r, 400, "invalid_uri");
    let r = m.get("/users?q=email:%00").await;
    assert_mgmt_error(&r, 400, "invalid_query_string");
    let r = m.post("/roles", json!({"name": "a\u{0}b"})).await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m.get("/nope").await;
    assert_mgmt_error(&r, 404, "not_found");
    let r = m.call(Method::PUT, "/users", None).await;
    assert_mgmt_error(&r, 405, "method_not_allowed");
}

#[tokio::test]
async fn openapi_describes_every_route() {
    let m = Mgmt::start().await;
    let r = m.call_as(None, Method::GET, "/openapi.json", None).await;
    assert_eq!(r.status, 200);
    let doc = r.body;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["servers"][0]["url"],
        format!("{}/api/v2", m.server.base_url)
    );
    for route in gatehouse_server::routes::management::routes() {
        let e = route.endpoint;
        let op = &doc["paths"][e.path][e.method.as_openapi()];
        assert!(op.is_object(), "{} {}", e.method.as_openapi(), e.path);
        assert_eq!(op["security"][0]["oauth2"], json!(e.scopes));
    }
    assert!(
        doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["scopes"]
            ["read:users"]
            .is_string()
    );
}

#[tokio::test]
async fn tokens_whose_nbf_is_in_the_future_are_refused() {
    let m = Mgmt::start().await;
    let key = m
        .server
        .state
        .keys()
        .signing_key(SigningAlg::RS256)
        .unwrap();
    let now = m.server.state.now();
    let userinfo = format!("{}userinfo", m.server.issuer);
    let token = |nbf: i64| {
        sign_jwt(
            &key,
            "JWT",
            &json!({
                "iss": m.server.issuer, "sub": "auth0|nobody", "azp": "x",
                "aud": [m.creds.management_audience, userinfo],
                "iat": now, "nbf": nbf, "exp": now + 7200, "scope": "openid read:users",
            }),
        )
        .unwrap()
    };
    let later = token(now + 3600);
    let r = m.call_as(Some(&later), Method::GET, "/users", None).await;
    assert_mgmt_error(&r, 401, "invalid_token");
    assert_eq!(r.body["message"], "Invalid token");
    let info = |t: String| {
        let server = &m.server;
        async move {
            let r = server
                .http
                .get(server.url("/userinfo"))
                .bearer_auth(t)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, body) = info(later).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error_description"], "Invalid or expired access token",
        "{body}"
    );

    // Started tokens (nbf now) pass the same checks.
    let started = token(now);
    let r = m.call_as(Some(&started), Method::GET, "/users", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (status, body) = info(started).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error_description"], "The user no longer exists",
        "{body}"
    );
}
