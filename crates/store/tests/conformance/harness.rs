//! A fresh database per test, and small helpers shared by the checks.
//!
//! SQLite: a file in a temp directory removed when the test ends.
//! PostgreSQL: `gh_test_<random hex>` created through an admin connection to
//! `GATEHOUSE_TEST_DATABASE_URL` and dropped `WITH (FORCE)` afterwards, also
//! when the check panics (it runs in a task whose panic is resumed after the
//! drop). Each test owns its database, so tests run in parallel.

use gatehouse_store::{Store, StoreError, StoreResult};
use sqlx::{Connection, Executor};
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

/// The environment variable naming the PostgreSQL server to test against.
pub const DATABASE_URL_VAR: &str = "GATEHOUSE_TEST_DATABASE_URL";

/// A fixed "now" so records and assertions agree; checks add offsets to it.
pub const T0: i64 = 1_700_000_000;

/// What a check takes: `&dyn Store`, or `&Arc<dyn Store>` when it spawns
/// tasks that share the store.
pub trait StoreArg<'a> {
    fn from_arc(store: &'a Arc<dyn Store>) -> Self;
}

impl<'a> StoreArg<'a> for &'a dyn Store {
    fn from_arc(store: &'a Arc<dyn Store>) -> Self {
        &**store
    }
}

impl<'a> StoreArg<'a> for &'a Arc<dyn Store> {
    fn from_arc(store: &'a Arc<dyn Store>) -> Self {
        store
    }
}

/// Runs `check` against a store on a new SQLite file.
pub async fn on_sqlite<F, Fut>(check: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("gatehouse.db").display());
    let store = gatehouse_store::open(&url)
        .await
        .expect("open sqlite store");
    assert_eq!(store.backend_name(), "sqlite");
    check(store).await;
}

/// Runs `check` against a store on a new PostgreSQL database, or reports a
/// skip when [`DATABASE_URL_VAR`] is not set.
pub async fn on_postgres<F, Fut>(check: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let admin_url = match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            eprintln!("skipped: {DATABASE_URL_VAR} not set");
            return;
        }
    };
    let name = format!("gh_test_{}", random_hex());
    create_database(&admin_url, &name).await;
    let url = with_database(&admin_url, &name);
    let outcome = match gatehouse_store::open(&url).await {
        Ok(store) => {
            assert_eq!(store.backend_name(), "postgres");
            tokio::spawn(check(store)).await
        }
        Err(e) => {
            drop_database(&admin_url, &name).await;
            panic!("open postgres store on {name}: {e}");
        }
    };
    drop_database(&admin_url, &name).await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(e) => panic!("check task failed: {e}"),
        }
    }
}

async fn admin_connection(admin_url: &str) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("connect to {DATABASE_URL_VAR}: {e}"))
}

async fn create_database(admin_url: &str, name: &str) {
    let mut conn = admin_connection(admin_url).await;
    // Concurrent CREATE DATABASE can briefly contend for the template; retry.
    let mut attempt = 0;
    loop {
        match conn
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
        {
            Ok(_) => break,
            Err(e) if attempt < 5 => {
                attempt += 1;
                eprintln!("CREATE DATABASE {name} failed ({e}), retrying");
                tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
            }
            Err(e) => panic!("CREATE DATABASE {name}: {e}"),
        }
    }
    let _ = conn.close().await;
}

/// Best effort: a leftover `gh_test_*` database is harmless.
async fn drop_database(admin_url: &str, name: &str) {
    let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await else {
        eprintln!("could not reconnect to drop database {name}");
        return;
    };
    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    if let Err(e) = conn.execute(sql.as_str()).await {
        eprintln!("DROP DATABASE {name}: {e}");
    }
    let _ = conn.close().await;
}

/// `url` with its database (the path) replaced by `name`, query kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_at(url.find('?').unwrap_or(url.len()));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// 64 random bits, hex: std's per-process random hasher keys, the time, the
/// process id and a counter.
fn random_hex() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", hasher.finish())
}

/// Asserts a uniqueness violation.
#[track_caller]
pub fn assert_conflict<T: Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::Conflict(_))),
        "expected Conflict, got {result:?}"
    );
}

/// Asserts that an update or delete found nothing to change.
#[track_caller]
pub fn assert_not_found<T: Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "expected NotFound, got {result:?}"
    );
}

#[test]
fn database_name_replaces_the_path() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgresql://h:5432", "x"),
        "postgresql://h:5432/x"
    );
    assert_ne!(random_hex(), random_hex());
}
