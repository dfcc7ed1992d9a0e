//! The harness every module of this test binary shares: a real Gatehouse
//! server on an ephemeral port of 127.0.0.1, with its own data directory and
//! database, and small HTTP helpers.
//!
//! - [`TestServer::start`]: a fresh SQLite database in a temporary directory.
//! - [`TestServer::start_postgres`]: a fresh PostgreSQL database, or `None`
//!   (after printing why) when [`DATABASE_URL_VAR`] is not set.
//! - [`TestServer::start_in`]: the SQLite database in a given directory, to
//!   restart on the same data.
//! - [`TestServer::start_with_database_url`]: any store URL.
//!
//! Generating signing keys (several RSA keys) is the slow part of a first
//! start, so `start` and `start_postgres` seed their fresh database with keys
//! generated once per test process by the real first-start code
//! ([`shared_keys`]). `start_in` and `start_with_database_url` take the real
//! first-start path: use them to test key generation and restarts.
//! - [`postgres_url_for_test`]: a fresh PostgreSQL database as a
//!   [`TestDatabase`] guard, for tests that start several servers on it.
//! - [`TestServer::clock`]: the server's clock, a [`ManualClock`] that stands
//!   at the server's start time until a test advances it.
//! - [`TestServer::stop`]: graceful shutdown, bounded in time.
//! - [`TestServer::get`], [`TestServer::get_json`], [`TestServer::post_form`],
//!   [`TestServer::post_json`] and [`Reply::read`]: requests and their replies.

// Each module of the binary uses a different part of the harness.
#![allow(dead_code)]

use gatehouse_core::clock::{Clock, ManualClock, SystemClock};
use gatehouse_server::keys::KeyRing;
use gatehouse_server::{AppState, ServeError};
use gatehouse_store::{Store, StoredKey};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use gatehouse_store::testing::{TestDatabase, DATABASE_URL_VAR};

/// `postgres` runs [`TestServer::start`] on PostgreSQL (a fresh database on
/// the server of [`DATABASE_URL_VAR`]).
pub const BACKEND_VAR: &str = "GATEHOUSE_TEST_BACKEND";

/// How long any single HTTP request of a test may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a graceful shutdown may take (the server itself gives in-flight
/// requests 10 s).
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as JSON; `Null` when empty, a JSON string of the raw text
    /// when it is not JSON.
    pub body: Value,
    /// The body as text.
    pub text: String,
}

impl Reply {
    /// Reads a response built with [`TestServer::http`] directly.
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("read response body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()))
        };
        Self {
            status,
            headers,
            body,
            text,
        }
    }

    /// A header as text, if present and ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A running server. Dropping it without [`TestServer::stop`] signals the
/// shutdown but does not wait for it.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`
    pub base_url: String,
    /// `base_url` + `/`
    pub issuer: String,
    pub store: Arc<dyn Store>,
    pub state: AppState,
    /// The server's clock: still until [`ManualClock::advance`] moves it, so
    /// tests let time pass without waiting.
    pub clock: Arc<ManualClock>,
    /// A client with a request timeout; keeps connections alive like SDKs do.
    pub http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), ServeError>>>,
    /// Dropped after the fields above (declaration order).
    database: Option<TestDatabase>,
    _dir: Option<tempfile::TempDir>,
    /// Where the server writes its mail (`.eml` files): no SMTP server configured.
    outbox: tempfile::TempDir,
    mail_worker: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// A server on a fresh SQLite database in a temporary directory.
    ///
    /// With `GATEHOUSE_TEST_BACKEND=postgres` (and [`DATABASE_URL_VAR`]) the
    /// fresh database is PostgreSQL instead, so the whole suite runs on both
    /// backends: `scripts/test.sh` runs it once per backend.
    pub async fn start() -> Self {
        if std::env::var(BACKEND_VAR).as_deref() == Ok("postgres") {
            return Self::start_postgres()
                .await
                .unwrap_or_else(|| panic!("{BACKEND_VAR}=postgres needs {DATABASE_URL_VAR}"));
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("gatehouse.db").display());
        let mut server = Self::start_fresh(&url).await;
        server._dir = Some(dir);
        server
    }

    /// A server on the SQLite database `gatehouse.db` in `dir`, created if
    /// missing; start it again on the same `dir` to test a restart.
    pub async fn start_in(dir: &Path) -> Self {
        let url = format!("sqlite:{}", dir.join("gatehouse.db").display());
        Self::start_with_database_url(&url).await
    }

    /// A server on a fresh PostgreSQL database, dropped when the server
    /// stops; `None` (after printing the skip) without [`DATABASE_URL_VAR`].
    pub async fn start_postgres() -> Option<Self> {
        let Some(database) = postgres_url_for_test().await else {
            eprintln!("skipped: {DATABASE_URL_VAR} not set");
            return None;
        };
        let mut server = Self::start_fresh(&database.url).await;
        server.database = Some(database);
        Some(server)
    }

    /// A server on the new, empty database at `url`, seeded with [`shared_keys`].
    async fn start_fresh(url: &str) -> Self {
        let store = open(url).await;
        for key in shared_keys().await {
            store
                .insert_signing_key(key)
                .await
                .expect("seed a signing key");
        }
        Self::start_on(store).await
    }

    /// A server on the store at `url` (`sqlite:<path>` or `postgres://…`).
    pub async fn start_with_database_url(url: &str) -> Self {
        Self::start_on(open(url).await).await
    }

    /// A server on a fresh SQLite database, served with `options` (timeouts,
    /// connection cap) instead of the defaults.
    pub async fn start_with_options(options: gatehouse_server::ServeOptions) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("gatehouse.db").display());
        let store = open(&url).await;
        for key in shared_keys().await {
            store
                .insert_signing_key(key)
                .await
                .expect("seed a signing key");
        }
        let mut server = Self::start_on_with(store, options).await;
        server._dir = Some(dir);
        server
    }

    /// A server on `store`; generates whatever signing keys it lacks.
    pub async fn start_on(store: Arc<dyn Store>) -> Self {
        Self::start_on_with(store, gatehouse_server::ServeOptions::default()).await
    }

    async fn start_on_with(store: Arc<dyn Store>, options: gatehouse_server::ServeOptions) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let base_url = format!("http://{}", listener.local_addr().expect("local addr"));
        let issuer = format!("{base_url}/");
        let clock = Arc::new(ManualClock::starting_now());
        let state = AppState::load_with_clock(
            store.clone(),
            issuer.clone(),
            test_master_key(),
            clock.clone(),
        )
        .await
        .expect("load the key ring");
        let outbox = tempfile::tempdir().expect("outbox dir");
        state.mail().configure(gatehouse_server::email::MailConfig {
            transport: gatehouse_mail::Transport::Outbox(outbox.path().to_path_buf()),
            from: None,
        });
        let mail_worker = gatehouse_server::email::queue::spawn_worker(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = gatehouse_server::router(state.clone());
        let shutdown = async {
            let _ = rx.await;
        };
        let task = tokio::spawn(gatehouse_server::serve_with(
            listener, app, None, shutdown, options,
        ));
        let http = client(false);
        Self {
            base_url,
            issuer,
            store,
            state,
            clock,
            http,
            shutdown: Some(tx),
            task: Some(task),
            database: None,
            _dir: None,
            outbox,
            mail_worker,
        }
    }

    /// The mails written so far, oldest first, each as its `.eml` text.
    pub fn outbox(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(self.outbox.path())
            .expect("read the outbox")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("read a mail"))
            .collect()
    }

    /// Waits (at most 10 s) until `count` mails to `to` are in the outbox and returns them.
    pub async fn mails_to(&self, to: &str, count: usize) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let found: Vec<String> = self
                .outbox()
                .into_iter()
                .filter(|m| m.lines().any(|l| l.starts_with("To:") && l.contains(to)))
                .collect();
            if found.len() >= count || std::time::Instant::now() > deadline {
                assert!(
                    found.len() >= count,
                    "{count} mail(s) to {to} within 10 s, got {}",
                    found.len()
                );
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Graceful shutdown: signals it, then waits (bounded) for the server to
    /// finish and asserts it ended cleanly. Drops the PostgreSQL database of
    /// [`TestServer::start_postgres`].
    pub async fn stop(mut self) {
        self.mail_worker.abort();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let outcome = tokio::time::timeout(STOP_TIMEOUT, task)
                .await
                .expect("the server stops within 15 s of the shutdown signal");
            match outcome {
                Ok(result) => result.expect("the server ends without error"),
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
        if let Some(database) = self.database.take() {
            database.drop_now().await;
        }
    }

    /// `base_url` + `path`.
    /// A new browser-like client: keeps cookies, follows no redirects.
    pub fn browser(&self) -> reqwest::Client {
        client(true)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn get(&self, path: &str) -> Reply {
        let response = self.http.get(self.url(path)).send().await;
        Reply::read(response.unwrap_or_else(|e| panic!("GET {path}: {e}"))).await
    }

    /// GET, returning the status and the JSON body.
    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let reply = self.get(path).await;
        (reply.status, reply.body)
    }

    /// POST an `application/x-www-form-urlencoded` body.
    pub async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Reply {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            form.append_pair(name, value);
        }
        let response = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.finish())
            .send()
            .await;
        Reply::read(response.unwrap_or_else(|e| panic!("POST {path}: {e}"))).await
    }

    /// POST an `application/json` body.
    pub async fn post_json(&self, path: &str, body: Value) -> Reply {
        let response = self.http.post(self.url(path)).json(&body).send().await;
        Reply::read(response.unwrap_or_else(|e| panic!("POST {path}: {e}"))).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn open(url: &str) -> Arc<dyn Store> {
    gatehouse_store::open(url)
        .await
        .unwrap_or_else(|e| panic!("open store {url}: {e}"))
}

/// The master key every test server seals its signing keys with (so
/// [`shared_keys`] open on every test server).
pub fn test_master_key() -> gatehouse_core::sealing::MasterKey {
    gatehouse_core::sealing::MasterKey::from_bytes([0x5e; 32])
}

/// The signing keys a first start generates, generated once per test process
/// (by [`KeyRing::load_or_generate`] on a scratch SQLite store, so they follow
/// whatever the key ring's first start does).
pub async fn shared_keys() -> &'static [StoredKey] {
    static KEYS: tokio::sync::OnceCell<Vec<StoredKey>> = tokio::sync::OnceCell::const_new();
    KEYS.get_or_init(|| async {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(&format!("sqlite:{}", dir.path().join("keys.db").display())).await;
        KeyRing::load_or_generate(store.as_ref(), test_master_key(), SystemClock.now())
            .await
            .expect("generate signing keys");
        store.signing_keys().await.expect("read signing keys")
    })
    .await
}

/// A fresh, randomly named database on the PostgreSQL server of
/// [`DATABASE_URL_VAR`]; `None` when the variable is not set (the caller
/// prints `skipped: GATEHOUSE_TEST_DATABASE_URL not set`).
pub async fn postgres_url_for_test() -> Option<TestDatabase> {
    TestDatabase::create("gh_it").await
}

/// An HTTP client that never follows redirects (tests assert on them), with
/// or without a cookie jar.
fn client(cookies: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(cookies)
        .build()
        .expect("HTTP client")
}
