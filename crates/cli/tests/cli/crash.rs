//! Crash safety: a bounded load of user creations (Management API), logins
//! (password grant) and refreshes against the real `gatehouse serve`, a
//! `kill -9` in the middle of it, a restart on the same data, and then every
//! acknowledged write is still there: each user that got a 201 exists, the
//! client and API created first still work, and each refresh-token family
//! that got a refresh token still redeems its latest acknowledged token. A
//! family whose refresh was in flight at the kill may have rotated without
//! the answer arriving, so its old token may be refused as reused — but it
//! must then be refused, never a 5xx.
//!
//! On SQLite, and on PostgreSQL when `GATEHOUSE_TEST_DATABASE_URL` is set.

use crate::{gatehouse, http, Server};
use gatehouse_store::testing::{TestDatabase, DATABASE_URL_VAR};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENT_ID: &str = "crash-bootstrap-client";
const CLIENT_SECRET: &str = "crash-bootstrap-secret-0123456789-0123456789";
const API: &str = "https://crash.example/";
const PASSWORD: &str = "crash test password";
/// Requests of the load, all workers together.
const MAX_REQUESTS: usize = 240;
/// The kill comes after this many requests were sent.
const KILL_AFTER: usize = 120;
const WORKERS: usize = 4;
const LOAD_DEADLINE: Duration = Duration::from_secs(120);

/// `gatehouse serve` on `data` (and `database_url`), with preset bootstrap
/// credentials so the test knows the management client.
fn serve(dir: &Path, data: &str, database_url: Option<&str>) -> Command {
    let mut args = vec!["serve", "--bind", "127.0.0.1:0", "--data-dir", data];
    if let Some(url) = database_url {
        args.extend(["--database-url", url]);
    }
    let mut command = gatehouse(dir, &args);
    command
        .env("GATEHOUSE_BOOTSTRAP_CLIENT_ID", CLIENT_ID)
        .env("GATEHOUSE_BOOTSTRAP_CLIENT_SECRET", CLIENT_SECRET);
    // PostgreSQL nodes need the master key given (SQLite generates its own
    // into the data directory); the restart must use the same one.
    if database_url.is_some() {
        command.envs(postgres_env());
    }
    command
}

/// Extra environment of a PostgreSQL node: one master key per test process.
fn postgres_env() -> Vec<(&'static str, String)> {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let key = KEY.get_or_init(|| gatehouse_core::sealing::MasterKey::generate().to_text());
    vec![("GATEHOUSE_MASTER_KEY", key.clone())]
}

async fn post_form(url: &str, pairs: &[(&str, &str)]) -> Result<(u16, Value), reqwest::Error> {
    let body = {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            form.append_pair(k, v);
        }
        form.finish()
    };
    let response = http()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

async fn post_json(url: &str, token: &str, body: Value) -> Result<(u16, Value), reqwest::Error> {
    let response = http()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// The management token, a client for logins and an API with offline access.
struct Tenant {
    token: String,
    client_id: String,
    client_secret: String,
}

async fn set_up(server: &Server) -> Tenant {
    let audience = format!("{}api/v2/", server.issuer);
    let (status, body) = post_form(
        &server.url("/oauth/token"),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("audience", &audience),
        ],
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    let api = json!({"identifier": API, "name": "Crash", "allow_offline_access": true,
        "scopes": [{"value": "read:crash", "description": "read"}]});
    let (status, body) = post_json(&server.url("/api/v2/resource-servers"), &token, api)
        .await
        .unwrap();
    assert_eq!(status, 201, "{body}");
    let client = json!({
        "name": "Crash app",
        "app_type": "regular_web",
        "grant_types": ["password", "refresh_token"],
        "refresh_token": {
            "rotation_type": "rotating",
            "expiration_type": "expiring",
            "leeway": 0,
            "token_lifetime": 2_592_000,
            "infinite_token_lifetime": false,
            "idle_token_lifetime": 1_296_000,
            "infinite_idle_token_lifetime": false
        }
    });
    let (status, body) = post_json(&server.url("/api/v2/clients"), &token, client)
        .await
        .unwrap();
    assert_eq!(status, 201, "{body}");
    Tenant {
        token,
        client_id: body["client_id"].as_str().unwrap().to_string(),
        client_secret: body["client_secret"].as_str().unwrap().to_string(),
    }
}

/// What the server acknowledged to one worker.
#[derive(Default)]
struct Ledger {
    /// `(user_id, email)` of each 201.
    users: Vec<(String, String)>,
    families: Vec<Family>,
}

struct Family {
    /// The latest refresh token the server handed out.
    refresh_token: String,
    /// A refresh with this token was sent but not answered.
    in_flight: bool,
}

/// Creates users, logs each in, refreshes twice; stops at the first request
/// that gets no answer (the kill) or when the shared budget is spent.
async fn worker(
    base: String,
    tenant: Arc<Tenant>,
    n: usize,
    sent: Arc<AtomicUsize>,
    killed: Arc<AtomicBool>,
) -> Ledger {
    let mut ledger = Ledger::default();
    let budget =
        || !killed.load(Ordering::SeqCst) && sent.fetch_add(1, Ordering::SeqCst) < MAX_REQUESTS;
    for i in 0.. {
        if !budget() {
            break;
        }
        let email = format!("w{n}-{i}@crash.example");
        let body = json!({"email": email, "password": PASSWORD,
            "connection": "Username-Password-Authentication"});
        let Ok((status, user)) =
            post_json(&format!("{base}/api/v2/users"), &tenant.token, body).await
        else {
            break;
        };
        assert_eq!(status, 201, "{user}");
        ledger
            .users
            .push((user["user_id"].as_str().unwrap().to_string(), email.clone()));
        if !budget() {
            break;
        }
        let login = post_form(
            &format!("{base}/oauth/token"),
            &[
                ("grant_type", "password"),
                ("client_id", &tenant.client_id),
                ("client_secret", &tenant.client_secret),
                ("username", &email),
                ("password", PASSWORD),
                ("audience", API),
                ("scope", "openid offline_access read:crash"),
            ],
        )
        .await;
        let Ok((status, tokens)) = login else { break };
        assert_eq!(status, 200, "{tokens}");
        ledger.families.push(Family {
            refresh_token: tokens["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_string(),
            in_flight: false,
        });
        for _ in 0..2 {
            if !budget() {
                return ledger;
            }
            let family = ledger.families.last_mut().unwrap();
            family.in_flight = true;
            let Ok((status, tokens)) = refresh(&base, &tenant, &family.refresh_token).await else {
                return ledger;
            };
            assert_eq!(status, 200, "{tokens}");
            family.refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
            family.in_flight = false;
        }
    }
    ledger
}

async fn refresh(base: &str, tenant: &Tenant, rt: &str) -> Result<(u16, Value), reqwest::Error> {
    post_form(
        &format!("{base}/oauth/token"),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &tenant.client_id),
            ("client_secret", &tenant.client_secret),
            ("refresh_token", rt),
        ],
    )
    .await
}

/// Load, `kill -9` midway, restart on the same data, check the ledger.
async fn crash_and_check(dir: &Path, database_url: Option<&str>, store_url: &str) {
    let mut server = Server::start(serve(dir, "data", database_url));
    let tenant = Arc::new(set_up(&server).await);
    let sent = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let base = server.url("");
    let workers: Vec<_> = (0..WORKERS)
        .map(|n| {
            tokio::spawn(worker(
                base.clone(),
                tenant.clone(),
                n,
                sent.clone(),
                killed.clone(),
            ))
        })
        .collect();
    let deadline = Instant::now() + LOAD_DEADLINE;
    while sent.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(
            Instant::now() < deadline,
            "the load did not reach {KILL_AFTER} requests"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.process.child.kill().expect("SIGKILL");
    server.process.child.wait().expect("reap the killed server");
    killed.store(true, Ordering::SeqCst);
    let mut users = Vec::new();
    let mut families = Vec::new();
    for w in workers {
        let ledger = tokio::time::timeout(LOAD_DEADLINE, w)
            .await
            .expect("workers stop once the server is gone")
            .expect("worker");
        users.extend(ledger.users);
        families.extend(ledger.families);
    }
    assert!(
        users.len() >= 10 && families.len() >= 5,
        "{} users, {} families",
        users.len(),
        families.len()
    );

    let restarted = Server::start(serve(dir, "data", database_url));
    let store = gatehouse_store::open(store_url)
        .await
        .expect("open the store");
    for (id, email) in &users {
        let user = store.user(id).await.unwrap();
        assert_eq!(
            user.and_then(|u| u.user.email).as_deref(),
            Some(email.as_str()),
            "acknowledged user {email} lost"
        );
    }
    let base = restarted.url("");
    let (mut redeemed, mut rotated) = (0, 0);
    for family in &families {
        let (status, body) = refresh(&base, &tenant, &family.refresh_token)
            .await
            .expect("the restarted server answers");
        match (status, family.in_flight) {
            (200, _) => redeemed += 1,
            (403, true) if body["error"] == "invalid_grant" => rotated += 1,
            _ => panic!("acknowledged refresh token refused: {status} {body}"),
        }
    }
    // A password login of the first acknowledged user works after the crash.
    let (status, body) = post_form(
        &restarted.url("/oauth/token"),
        &[
            ("grant_type", "password"),
            ("client_id", &tenant.client_id),
            ("client_secret", &tenant.client_secret),
            ("username", &users[0].1),
            ("password", PASSWORD),
            ("audience", API),
        ],
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    eprintln!(
        "crash test: {} requests sent, {} users and {} families acknowledged; after restart {redeemed} redeemed, {rotated} in flight at the kill and rotated",
        sent.load(Ordering::SeqCst).min(MAX_REQUESTS),
        users.len(),
        families.len()
    );
    restarted.process.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_nothing_acknowledged_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite:{}", tmp.path().join("data/gatehouse.db").display());
    crash_and_check(tmp.path(), None, &store_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_nothing_acknowledged_on_postgres() {
    let Some(db) = TestDatabase::create("gh_crash").await else {
        eprintln!("skipped: {DATABASE_URL_VAR} not set");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    crash_and_check(tmp.path(), Some(&db.url), &db.url).await;
    db.drop_now().await;
}
