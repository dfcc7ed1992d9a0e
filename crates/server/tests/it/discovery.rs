//! The foundation over real HTTP: discovery (auth0-compat.md §5), the JWKS
//! checked against an independent JWT library (`jsonwebtoken`), health,
//! request ids, JSON 404s, keys kept across restarts, graceful shutdown — on
//! SQLite always and on PostgreSQL when `GATEHOUSE_TEST_DATABASE_URL` is set.

use crate::support::{postgres_url_for_test, TestServer, DATABASE_URL_VAR};
use gatehouse_core::jose::sign_jwt;
use gatehouse_core::model::SigningAlg;
use jsonwebtoken::{decode, decode_header, jwk::Jwk, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
const OAUTH_AUTHORIZATION_SERVER: &str = "/.well-known/oauth-authorization-server";
const JWKS: &str = "/.well-known/jwks.json";

/// auth0-compat.md §5: every endpoint field Auth0 publishes, with its path.
const ENDPOINT_PATHS: &[(&str, &str)] = &[
    ("authorization_endpoint", "/authorize"),
    ("token_endpoint", "/oauth/token"),
    ("device_authorization_endpoint", "/oauth/device/code"),
    ("userinfo_endpoint", "/userinfo"),
    ("mfa_challenge_endpoint", "/mfa/challenge"),
    ("jwks_uri", "/.well-known/jwks.json"),
    ("registration_endpoint", "/oidc/register"),
    ("revocation_endpoint", "/oauth/revoke"),
];

/// auth0-compat.md §5, `scopes_supported`, in Auth0's order.
const AUTH0_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "offline_access",
    "name",
    "given_name",
    "family_name",
    "nickname",
    "email",
    "email_verified",
    "picture",
    "created_at",
    "identities",
    "phone",
    "address",
];

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .map(|v| v.as_str().expect("array of strings"))
        .collect()
}

/// Fetches both discovery documents and checks them against §5.
async fn check_discovery(server: &TestServer) -> Value {
    let reply = server.get(OPENID_CONFIGURATION).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        reply.headers
    );
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    let doc = reply.body;

    let (status, oauth_doc) = server.get_json(OAUTH_AUTHORIZATION_SERVER).await;
    assert_eq!(status, 200);
    assert_eq!(oauth_doc, doc, "both well-known documents are the same");

    assert_eq!(doc["issuer"], server.issuer.as_str());
    assert!(server.issuer.ends_with('/') && !server.issuer.ends_with("//"));
    assert_eq!(doc["jwks_uri"], server.url(JWKS));
    for (field, path) in ENDPOINT_PATHS {
        if let Some(url) = doc.get(*field) {
            assert_eq!(url, &json!(server.url(path)), "{field}");
        }
    }
    // What this build serves (flip these as endpoints land).
    for field in [
        "token_endpoint",
        "device_authorization_endpoint",
        "userinfo_endpoint",
        "revocation_endpoint",
    ] {
        assert!(doc.get(field).is_some(), "{field} missing: {doc}");
    }
    // Only with the tenant flag rp_logout_end_session_endpoint_discovery.
    assert!(doc.get("end_session_endpoint").is_none(), "{doc}");

    assert_eq!(strings(&doc["scopes_supported"]), AUTH0_SCOPES);
    assert_eq!(
        strings(&doc["response_modes_supported"]),
        ["query", "fragment", "form_post"]
    );
    assert_eq!(
        strings(&doc["code_challenge_methods_supported"]),
        ["S256", "plain"]
    );
    assert_eq!(strings(&doc["subject_types_supported"]), ["public"]);
    let id_token_algs = strings(&doc["id_token_signing_alg_values_supported"]);
    // Only what is issued: ID tokens are never HS256 (secrets are stored hashed).
    assert_eq!(id_token_algs, ["RS256", "PS256", "ES256", "EdDSA"]);
    let auth_methods = strings(&doc["token_endpoint_auth_methods_supported"]);
    for method in [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ] {
        assert!(auth_methods.contains(&method), "{method}");
    }
    assert_eq!(doc["request_parameter_supported"], false);
    assert_eq!(doc["request_uri_parameter_supported"], false);
    doc
}

/// Fetches the JWKS and checks every key's members; returns the keys.
async fn check_jwks(server: &TestServer) -> Vec<Value> {
    let reply = server.get(JWKS).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert!(
        reply
            .header("cache-control")
            .is_some_and(|c| c.contains("max-age")),
        "{:?}",
        reply.headers
    );
    let keys = reply.body["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no keys array: {}", reply.text))
        .clone();
    for key in &keys {
        // fastapi-auth0 crashes without kty, kid, use (auth0-compat.md §5).
        for member in ["kty", "kid", "use", "alg"] {
            assert!(key[member].is_string(), "{member} missing in {key}");
        }
        assert_eq!(key["use"], "sig");
        let members: &[&str] = match key["kty"].as_str() {
            Some("RSA") => &["n", "e", "x5t", "x5c"],
            Some("EC") => &["crv", "x", "y"],
            Some("OKP") => &["crv", "x"],
            other => panic!("unexpected kty {other:?}"),
        };
        for member in members {
            assert!(!key[*member].is_null(), "{member} missing in {key}");
        }
        assert!(key.get("d").is_none(), "private part published: {key}");
    }
    // Each algorithm signs with exactly one current key; the JWKS may also
    // hold its next (pre-published) and previous keys.
    for (alg, kty, crv) in [
        (SigningAlg::RS256, "RSA", None),
        (SigningAlg::PS256, "RSA", None),
        (SigningAlg::ES256, "EC", Some("P-256")),
        (SigningAlg::EdDSA, "OKP", Some("Ed25519")),
    ] {
        let name = alg.as_str();
        let of_alg: Vec<&Value> = keys.iter().filter(|k| k["alg"] == name).collect();
        for key in &of_alg {
            assert_eq!(key["kty"], kty, "{name}: {key}");
            if let Some(crv) = crv {
                assert_eq!(key["crv"], crv, "{name}: {key}");
            }
        }
        let current = server
            .state
            .keys()
            .signing_key(alg)
            .unwrap_or_else(|| panic!("no current {name} key"));
        let published = of_alg.iter().filter(|k| k["kid"] == current.kid()).count();
        assert_eq!(published, 1, "the current {name} key in the JWKS: {keys:?}");
    }
    let rs256 = server.state.keys().signing_key(SigningAlg::RS256);
    assert_eq!(
        keys[0]["kid"].as_str(),
        rs256.as_ref().map(|k| k.kid()),
        "the current RS256 key comes first: some clients take the first key"
    );
    let mut kids: Vec<&str> = keys.iter().filter_map(|k| k["kid"].as_str()).collect();
    kids.sort_unstable();
    kids.dedup();
    assert_eq!(kids.len(), keys.len(), "kids are unique");
    keys
}

/// The kids of the keys the store says are published (not revoked), sorted.
async fn published_in_store(server: &TestServer) -> Vec<String> {
    let mut kids: Vec<String> = server
        .store
        .signing_keys()
        .await
        .expect("signing keys")
        .into_iter()
        .filter(|k| k.state != "revoked")
        .map(|k| k.kid)
        .collect();
    kids.sort_unstable();
    kids
}

fn kids(keys: &[Value]) -> Vec<String> {
    keys.iter()
        .map(|k| k["kid"].as_str().expect("kid").to_string())
        .collect()
}

fn jwt_alg(alg: SigningAlg) -> Algorithm {
    match alg {
        SigningAlg::RS256 => Algorithm::RS256,
        SigningAlg::PS256 => Algorithm::PS256,
        SigningAlg::ES256 => Algorithm::ES256,
        SigningAlg::EdDSA => Algorithm::EdDSA,
        SigningAlg::HS256 => Algorithm::HS256,
    }
}

/// Signs a token with the server's current `alg` key.
fn sign(server: &TestServer, alg: SigningAlg) -> String {
    let key = server
        .state
        .keys()
        .signing_key(alg)
        .unwrap_or_else(|| panic!("a current {} key", alg.as_str()));
    let now = server.state.now();
    let claims = json!({
        "iss": server.issuer,
        "sub": "test|foundation",
        "aud": "https://api.example/",
        "iat": now,
        "exp": now + 300,
    });
    sign_jwt(&key, "JWT", &claims).expect("sign")
}

/// Verifies `token` (from `issuer`) with `jsonwebtoken` and the JWK from
/// `keys` named by its `kid`.
fn verify(issuer: &str, keys: &[Value], token: &str) -> Result<Value, String> {
    let header = decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.clone().ok_or("no kid in the header")?;
    let jwk = keys
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .ok_or_else(|| format!("kid {kid} not in the JWKS"))?;
    let jwk: Jwk = serde_json::from_value(jwk.clone()).map_err(|e| format!("JWK: {e}"))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("decoding key: {e}"))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&["https://api.example/"]);
    decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

/// A token signed with each current key verifies against the served JWKS.
async fn check_signatures(server: &TestServer, keys: &[Value]) {
    for alg in SigningAlg::ASYMMETRIC {
        let token = sign(server, alg);
        let header = decode_header(&token).expect("header");
        assert_eq!(header.alg, jwt_alg(alg));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let kid = server
            .state
            .keys()
            .signing_key(alg)
            .map(|k| k.kid().to_string());
        assert_eq!(header.kid, kid);
        let claims = verify(&server.issuer, keys, &token)
            .unwrap_or_else(|e| panic!("{} token rejected: {e}", alg.as_str()));
        assert_eq!(claims["sub"], "test|foundation");

        // A flipped signature bit must fail.
        let (input, signature) = token.rsplit_once('.').expect("three parts");
        let mut bytes = signature.as_bytes().to_vec();
        bytes[0] = if bytes[0] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{input}.{}", String::from_utf8(bytes).expect("ascii"));
        assert!(
            verify(&server.issuer, keys, &tampered).is_err(),
            "{}",
            alg.as_str()
        );
    }
}

#[tokio::test]
async fn discovery_documents_follow_auth0() {
    let server = TestServer::start().await;
    check_discovery(&server).await;
    server.stop().await;
}

/// `end_session_endpoint` is listed only with the tenant flag, which the
/// Management API sets; the endpoint itself is served either way.
#[tokio::test]
async fn end_session_endpoint_follows_the_tenant_flag() {
    let server = TestServer::start().await;
    let doc = check_discovery(&server).await;
    assert!(doc.get("end_session_endpoint").is_none());
    let mut settings = server.store.tenant_settings().await.unwrap();
    settings.flags.rp_logout_end_session_endpoint_discovery = true;
    server.store.put_tenant_settings(&settings).await.unwrap();
    let (status, doc) = server.get_json(OPENID_CONFIGURATION).await;
    assert_eq!(status, 200);
    assert_eq!(doc["end_session_endpoint"], server.url("/oidc/logout"));
    server.stop().await;
}

#[tokio::test]
async fn every_advertised_endpoint_is_routed() {
    let server = TestServer::start().await;
    let mut settings = server.store.tenant_settings().await.unwrap();
    settings.flags.rp_logout_end_session_endpoint_discovery = true;
    server.store.put_tenant_settings(&settings).await.unwrap();
    let (_, doc) = server.get_json(OPENID_CONFIGURATION).await;
    let advertised = doc
        .as_object()
        .expect("object")
        .iter()
        .filter(|(field, _)| field.ends_with("_endpoint") || *field == "jwks_uri");
    let mut count = 0;
    for (field, url) in advertised {
        let url = url.as_str().expect("URL string");
        let path = url
            .strip_prefix(&server.base_url)
            .unwrap_or_else(|| panic!("{field} {url} is not under {}", server.base_url));
        let reply = server.get(path).await;
        assert_ne!(reply.status, 404, "{field} {url} is not routed");
        count += 1;
    }
    assert!(count >= 5, "{doc}");
    server.stop().await;
}

#[tokio::test]
async fn jwks_has_one_complete_key_per_algorithm() {
    let server = TestServer::start().await;
    let keys = check_jwks(&server).await;
    let mut served = kids(&keys);
    served.sort_unstable();
    assert_eq!(
        served,
        published_in_store(&server).await,
        "the JWKS is every non-revoked key in the store"
    );
    server.stop().await;
}

#[tokio::test]
async fn tokens_signed_with_current_keys_verify_with_jsonwebtoken() {
    let server = TestServer::start().await;
    let keys = check_jwks(&server).await;
    check_signatures(&server, &keys).await;
    server.stop().await;
}

#[tokio::test]
async fn health_and_readiness() {
    let server = TestServer::start().await;
    let (status, body) = server.get_json("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    let (status, body) = server.get_json("/readyz").await;
    assert_eq!(status, 200, "{body}");
    let backend = server.store.backend_name();
    assert_eq!(body, json!({"status": "ready", "database": backend}));
    server.stop().await;
}

#[tokio::test]
async fn unknown_paths_get_a_json_404() {
    let server = TestServer::start().await;
    for reply in [
        server.get("/no/such/path").await,
        server.get("/.well-known/openid-configuration/extra").await,
        server.post_form("/no/such/path", &[("a", "b")]).await,
        server.post_json("/v2/nothing", json!({})).await,
    ] {
        assert_eq!(reply.status, 404, "{}", reply.text);
        assert!(
            reply
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{:?}",
            reply.headers
        );
        assert_eq!(reply.body["error"], "not_found", "{}", reply.text);
        assert!(reply.body["error_description"].is_string());
        assert!(reply.header("x-request-id").is_some());
    }
    server.stop().await;
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let server = TestServer::start().await;
    let replies = [
        server.get(OPENID_CONFIGURATION).await,
        server.get(OAUTH_AUTHORIZATION_SERVER).await,
        server.get(JWKS).await,
        server.get("/healthz").await,
        server.get("/readyz").await,
        server.get("/nope").await,
        // Wrong method (405) and an OAuth error (400).
        server.get("/oauth/token").await,
        server.post_form("/oauth/token", &[]).await,
    ];
    let mut ids = Vec::new();
    for reply in &replies {
        let id = reply
            .header("x-request-id")
            .unwrap_or_else(|| panic!("no x-request-id on {} {}", reply.status, reply.text));
        assert!(!id.is_empty() && id.len() <= 64, "{id:?}");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        ids.push(id.to_string());
    }
    assert!(replies.iter().any(|r| r.status == 405));
    assert!(replies.iter().any(|r| r.status == 400));
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "request ids repeat: {ids:?}");

    // A sane id from the caller is kept (for tracing across services); an
    // oversized one is replaced.
    let reply = server
        .http
        .get(server.url("/healthz"))
        .header("x-request-id", "caller-id-123")
        .send()
        .await
        .expect("request");
    assert_eq!(reply.headers()["x-request-id"], "caller-id-123");
    let long = "x".repeat(200);
    let reply = server
        .http
        .get(server.url("/healthz"))
        .header("x-request-id", long.as_str())
        .send()
        .await
        .expect("request");
    let id = reply.headers()["x-request-id"].to_str().expect("ascii");
    assert!(!id.is_empty() && id != long, "{id}");
    server.stop().await;
}

#[tokio::test]
async fn restart_on_the_same_data_dir_keeps_the_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = TestServer::start_in(dir.path()).await;
    let keys_before = check_jwks(&first).await;
    let token = sign(&first, SigningAlg::RS256);
    let issuer_before = first.issuer.clone();
    let keys_stored_before = first.store.signing_keys().await.expect("keys").len();
    first.stop().await;

    let second = TestServer::start_in(dir.path()).await;
    let keys_after = check_jwks(&second).await;
    assert_eq!(kids(&keys_after), kids(&keys_before));
    assert_eq!(keys_after, keys_before, "the same JWKS after a restart");
    assert_eq!(
        second.store.signing_keys().await.expect("keys").len(),
        keys_stored_before,
        "no key generated on the second start"
    );
    // A token issued before the restart still verifies (the port, and so the
    // issuer, changed with the restart).
    verify(&issuer_before, &keys_after, &token).expect("pre-restart token verifies");
    check_signatures(&second, &keys_after).await;
    second.stop().await;
}

#[tokio::test]
async fn stop_is_graceful_and_releases_the_port() {
    let server = TestServer::start().await;
    let base_url = server.base_url.clone();
    // An idle keep-alive connection in the client's pool must not hold the
    // shutdown for the whole grace period.
    assert_eq!(server.get("/healthz").await.status, 200);
    let started = std::time::Instant::now();
    server.stop().await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
    let after = reqwest::Client::new()
        .get(format!("{base_url}/healthz"))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await;
    assert!(after.is_err(), "still answering after stop: {after:?}");
}

#[tokio::test]
async fn discovery_and_jwks_on_postgres() {
    let Some(database) = postgres_url_for_test().await else {
        eprintln!("skipped: {DATABASE_URL_VAR} not set");
        return;
    };
    let first = TestServer::start_with_database_url(&database.url).await;
    check_discovery(&first).await;
    let keys_before = check_jwks(&first).await;
    check_signatures(&first, &keys_before).await;
    let (status, body) = first.get_json("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["database"], "postgres");
    first.stop().await;

    let second = TestServer::start_with_database_url(&database.url).await;
    let keys_after = check_jwks(&second).await;
    assert_eq!(kids(&keys_after), kids(&keys_before));
    second.stop().await;
    database.drop_now().await;
}

#[tokio::test]
async fn start_postgres_reports_postgres_readiness() {
    let Some(server) = TestServer::start_postgres().await else {
        return;
    };
    let (status, body) = server.get_json("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"status": "ready", "database": "postgres"}));
    server.stop().await;
}
