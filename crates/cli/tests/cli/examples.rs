//! `examples/measurements-api` against a live Gatehouse: the real binary
//! seeded with the example's own `seed.json`, the example API (in-process,
//! on `127.0.0.1:0`) pointed at its issuer, and real tokens: alice (role
//! `reader`) reads, bob (no role) is refused with 403 `insufficient_scope`,
//! the machine client reads and writes, and no token, a garbage token or a
//! token for another API get 401.
//!
//! On SQLite, and on PostgreSQL when `GATEHOUSE_TEST_DATABASE_URL` is set.

use super::*;
use gatehouse_store::testing::{TestDatabase, DATABASE_URL_VAR};
use serde_json::json;

const AUDIENCE: &str = "https://measurements.example/api";
const OTHER_AUDIENCE: &str = "https://other.example/api";
const M2M_ID: &str = "measurements-ingest";
const M2M_SECRET: &str = "ingest-secret-only-for-this-example-0123456789";
/// A password-grant client the test adds (the example's SPA logs in through
/// the browser; the e2e suite drives that).
const CLI_ID: &str = "measurements-test-cli";
const CLI_SECRET: &str = "measurements-test-cli-secret-0123456789abcdef";
const ALICE: (&str, &str) = ("alice@example.com", "alice-reads-the-greenhouse");
const BOB: (&str, &str) = ("bob@example.com", "bob-has-no-role-yet");
/// A seeded change reaches the server's configuration cache within a second.
const SEED_VISIBLE_WITHIN: Duration = Duration::from_secs(10);

fn example_seed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/measurements-api/seed.json")
}

/// What the test adds to the example's world: a password-grant client and a
/// second API for the wrong-audience token.
fn test_seed(tmp: &Path) -> PathBuf {
    let seed = json!({
        "apis": [{"name": "Other", "identifier": OTHER_AUDIENCE,
                  "scopes": [{"value": "read:measurements"}]}],
        "clients": [{"client_id": CLI_ID, "name": "Test CLI", "app_type": "regular_web",
                     "client_secret": CLI_SECRET, "grant_types": ["password"]}]
    });
    let file = tmp.join("test-seed.json");
    std::fs::write(&file, seed.to_string()).expect("write the test seed");
    file
}

/// POSTs to `/oauth/token` until it answers 200 (the seed may not have
/// reached the server's cache yet) or the deadline passes.
async fn token(server: &Server, form: &[(&str, &str)]) -> String {
    let deadline = Instant::now() + SEED_VISIBLE_WITHIN;
    loop {
        let response = http()
            .post(server.url("/oauth/token"))
            .form(form)
            .send()
            .await
            .expect("POST /oauth/token");
        let status = response.status();
        let body: Value = response.json().await.expect("token response JSON");
        if status == 200 {
            return body["access_token"]
                .as_str()
                .expect("access_token")
                .to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no token for {form:?}: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn user_token(server: &Server, (email, password): (&str, &str), audience: &str) -> String {
    token(
        server,
        &[
            (
                "grant_type",
                "http://auth0.com/oauth/grant-type/password-realm",
            ),
            ("realm", "Username-Password-Authentication"),
            ("client_id", CLI_ID),
            ("client_secret", CLI_SECRET),
            ("username", email),
            ("password", password),
            ("audience", audience),
            ("scope", "openid read:measurements write:measurements"),
        ],
    )
    .await
}

async fn machine_token(server: &Server) -> String {
    token(
        server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", M2M_ID),
            ("client_secret", M2M_SECRET),
            ("audience", AUDIENCE),
        ],
    )
    .await
}

/// Starts the example API for `issuer` on a free port; returns its base URL.
async fn start_example(issuer: &str) -> String {
    let settings = measurements_api::Settings {
        issuer: issuer.to_string(),
        audience: AUDIENCE.to_string(),
        listen: "127.0.0.1:0".parse().expect("address"),
        allow_origins: vec!["http://localhost:4200".to_string()],
    };
    let guard = measurements_api::guard(&settings).expect("example settings");
    let app = measurements_api::app(&settings, guard).expect("example settings");
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .expect("bind the example API");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}{}", measurements_api::MEASUREMENTS_PATH)
}

struct Answer {
    status: u16,
    challenge: String,
    body: Value,
}

async fn send(request: reqwest::RequestBuilder, token: Option<&str>) -> Answer {
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    let response = request.send().await.expect("request to the example API");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ASCII header").to_string())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        challenge,
        body,
    }
}

fn claims_of(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

async fn the_example_api_accepts_and_refuses_real_tokens(tmp: &Path, database_url: Option<&str>) {
    let server = serve_on(tmp, database_url);
    seed_file(tmp, database_url, &example_seed());
    seed_file(tmp, database_url, &test_seed(tmp));
    let api = start_example(&server.issuer).await;
    let client = http();

    let alice = user_token(&server, ALICE, AUDIENCE).await;
    assert_eq!(
        claims_of(&alice)["permissions"],
        json!(["read:measurements"])
    );
    let answer = send(client.get(&api), Some(&alice)).await;
    assert_eq!(answer.status, 200, "alice GET: {}", answer.challenge);
    assert!(
        answer.body.as_array().is_some_and(|list| !list.is_empty()),
        "{}",
        answer.body
    );
    let body = json!({"sensor": "greenhouse-3", "celsius": 20.5});
    let answer = send(client.post(&api).json(&body), Some(&alice)).await;
    assert_eq!(answer.status, 403, "alice may not write: {}", answer.body);
    assert!(
        answer.challenge.contains("scope=\"write:measurements\""),
        "{}",
        answer.challenge
    );

    let bob = user_token(&server, BOB, AUDIENCE).await;
    assert_eq!(claims_of(&bob)["permissions"], json!([]));
    let answer = send(client.get(&api), Some(&bob)).await;
    assert_eq!(answer.status, 403, "bob GET: {}", answer.body);
    assert!(
        answer.challenge.contains("error=\"insufficient_scope\"")
            && answer.challenge.contains("scope=\"read:measurements\""),
        "{}",
        answer.challenge
    );
    assert_eq!(answer.body["error"], "insufficient_scope");

    let answer = send(client.get(&api), None).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.challenge, format!("Bearer realm=\"{AUDIENCE}\""));

    let answer = send(client.get(&api), Some("garbage")).await;
    assert_eq!(answer.status, 401);
    assert!(
        answer.challenge.contains("error=\"invalid_token\""),
        "{}",
        answer.challenge
    );

    let elsewhere = user_token(&server, ALICE, OTHER_AUDIENCE).await;
    let answer = send(client.get(&api), Some(&elsewhere)).await;
    assert_eq!(answer.status, 401, "another audience: {}", answer.body);
    assert!(answer.challenge.contains("(aud)"), "{}", answer.challenge);

    let machine = machine_token(&server).await;
    assert_eq!(claims_of(&machine)["gty"], "client-credentials");
    let answer = send(client.post(&api).json(&body), Some(&machine)).await;
    assert_eq!(answer.status, 201, "M2M POST: {}", answer.body);
    assert_eq!(answer.body["recorded_by"], format!("{M2M_ID}@clients"));
    let answer = send(client.get(&api), Some(&machine)).await;
    assert_eq!(answer.status, 200, "M2M GET: {}", answer.challenge);
    assert!(
        answer
            .body
            .as_array()
            .is_some_and(|list| list.iter().any(|m| m["sensor"] == "greenhouse-3")),
        "{}",
        answer.body
    );
    let answer = send(
        client.post(&api).json(&json!({"sensor": "", "celsius": 1})),
        Some(&machine),
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["error"], "invalid_request");

    // The Angular example's origin may call it from the browser.
    let preflight = client
        .request(reqwest::Method::OPTIONS, &api)
        .header("origin", "http://localhost:4200")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .expect("preflight");
    assert_eq!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(&b"http://localhost:4200"[..])
    );
    server.process.stop();
}

#[tokio::test]
async fn measurements_api_with_real_tokens_on_sqlite() {
    let tmp = tempfile::tempdir().expect("temp dir");
    the_example_api_accepts_and_refuses_real_tokens(tmp.path(), None).await;
}

#[tokio::test]
async fn measurements_api_with_real_tokens_on_postgres() {
    let Some(db) = TestDatabase::create("gh_examples").await else {
        eprintln!("skipped: {DATABASE_URL_VAR} not set");
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    the_example_api_accepts_and_refuses_real_tokens(tmp.path(), Some(&db.url)).await;
    db.drop_now().await;
}
