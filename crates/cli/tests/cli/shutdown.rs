//! A clean stop loses no log event: `gatehouse serve` under a load of
//! `client_credentials` requests gets SIGTERM, and afterwards every token it
//! answered with a 200 has its issuance event in the database.
//!
//! On SQLite, and on PostgreSQL when `GATEHOUSE_TEST_DATABASE_URL` is set.

use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gatehouse_store::testing::{TestDatabase, DATABASE_URL_VAR};

const API: &str = "https://sigterm.example/";
const CLIENT_ID: &str = "sigterm-m2m";
const CLIENT_SECRET: &str = "sigterm-secret-with-enough-entropy-0123456789abcdef";
const LOOPS: usize = 8;
/// How long the load runs before SIGTERM.
const LOAD_BEFORE_SIGTERM: Duration = Duration::from_secs(1);
/// Requests per loop at most, and how long a loop may run at all.
const MAX_REQUESTS_PER_LOOP: usize = 2_000;
const LOOP_DEADLINE: Duration = Duration::from_secs(30);
/// Graceful shutdown waits up to 10 s for open requests; then the log flush.
const SIGTERM_EXIT_TIMEOUT: Duration = Duration::from_secs(30);

/// An API, a machine client and its grant, through `gatehouse seed`.
fn seed(tmp: &Path, database_url: Option<&str>) {
    let seed = serde_json::json!({
        "apis": [{"name": "Sigterm", "identifier": API, "scopes": [{"value": "read:all"}]}],
        "clients": [{"client_id": CLIENT_ID, "name": "Sigterm M2M",
                     "app_type": "non_interactive", "client_secret": CLIENT_SECRET}],
        "client_grants": [{"client_id": CLIENT_ID, "audience": API, "scope": ["read:all"]}]
    });
    let file = tmp.join("seed.json");
    std::fs::write(&file, seed.to_string()).unwrap();
    seed_file(tmp, database_url, &file);
}

/// Requests tokens until the server stops answering, the budget is spent or
/// the deadline passes; returns every token answered with a 200.
async fn token_loop(token_url: String) -> Vec<String> {
    let client = http();
    let deadline = Instant::now() + LOOP_DEADLINE;
    let mut tokens = Vec::new();
    for _ in 0..MAX_REQUESTS_PER_LOOP {
        if Instant::now() >= deadline {
            break;
        }
        let sent = client
            .post(&token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("audience", API),
            ])
            .send()
            .await;
        let Ok(response) = sent else { break };
        if response.status().as_u16() != 200 {
            // A request cut off by the shutdown; not acknowledged.
            continue;
        }
        let Ok(body) = response.json::<Value>().await else {
            break;
        };
        tokens.push(
            body["access_token"]
                .as_str()
                .expect("access_token")
                .to_string(),
        );
    }
    tokens
}

fn jti(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["jti"].as_str().expect("jti").to_string()
}

async fn sigterm_under_load_keeps_every_event(
    tmp: &Path,
    database_url: Option<&str>,
    store_url: &str,
) {
    let mut server = serve_on(tmp, database_url);
    seed(tmp, database_url);
    let token_url = server.url("/oauth/token");
    let loops: Vec<_> = (0..LOOPS)
        .map(|_| tokio::spawn(token_loop(token_url.clone())))
        .collect();
    tokio::time::sleep(LOAD_BEFORE_SIGTERM).await;
    server.process.terminate();
    let status = server.process.wait_exit(SIGTERM_EXIT_TIMEOUT);
    assert!(
        status.is_some_and(|s| s.success()),
        "after SIGTERM: {status:?}\nstderr: {:?}",
        server.process.stderr_lines()
    );
    let mut tokens = Vec::new();
    for task in loops {
        tokens.extend(task.await.expect("token loop"));
    }
    assert!(
        tokens.len() >= LOOPS,
        "only {} tokens before SIGTERM",
        tokens.len()
    );

    let store = gatehouse_store::open(store_url)
        .await
        .expect("open the store");
    let mut missing = Vec::new();
    for token in &tokens {
        let jti = jti(token);
        if store.log_event_by_jti(&jti).await.unwrap().is_none() {
            missing.push(jti);
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged tokens have no log event, e.g. {:?}",
        missing.len(),
        tokens.len(),
        &missing[..missing.len().min(5)]
    );
    eprintln!(
        "sigterm test: {} acknowledged tokens, each logged",
        tokens.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_no_log_event_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite:{}", tmp.path().join("data/gatehouse.db").display());
    sigterm_under_load_keeps_every_event(tmp.path(), None, &store_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_no_log_event_on_postgres() {
    let Some(db) = TestDatabase::create("gh_sigterm").await else {
        eprintln!("skipped: {DATABASE_URL_VAR} not set");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    sigterm_under_load_keeps_every_event(tmp.path(), Some(&db.url), &db.url).await;
    db.drop_now().await;
}
