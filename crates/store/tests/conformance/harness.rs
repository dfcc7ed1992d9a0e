//! A fresh database per test, and small helpers shared by the checks.
//!
//! SQLite: a file in a temp directory removed when the test ends.
//! PostgreSQL: `gh_test_<random hex>` created through an admin connection to
//! `GATEHOUSE_TEST_DATABASE_URL` and dropped `WITH (FORCE)` afterwards, also
//! when the check panics (it runs in a task whose panic is resumed after the
//! drop). Each test owns its database, so tests run in parallel.

use gatehouse_store::testing::TestDatabase;
pub use gatehouse_store::testing::DATABASE_URL_VAR;
use gatehouse_store::{Store, StoreError, StoreResult};
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

/// A fixed "now" so records and assertions agree; checks add offsets to it.
pub const T0: i64 = 1_700_000_000;

/// What a check takes: `&dyn Store`, `&Arc<dyn Store>` when it spawns
/// tasks that share the store, or [`SameDatabase`] when it opens more stores.
pub trait StoreArg<'a> {
    fn from_parts(store: &'a Arc<dyn Store>, url: &'a str) -> Self;
}

impl<'a> StoreArg<'a> for &'a dyn Store {
    fn from_parts(store: &'a Arc<dyn Store>, _url: &'a str) -> Self {
        &**store
    }
}

impl<'a> StoreArg<'a> for &'a Arc<dyn Store> {
    fn from_parts(store: &'a Arc<dyn Store>, _url: &'a str) -> Self {
        store
    }
}

/// The test's store and the URL of its database, to open a second store on
/// it (another node, or the CLI).
pub struct SameDatabase<'a> {
    pub store: &'a dyn Store,
    pub url: &'a str,
}

impl<'a> StoreArg<'a> for SameDatabase<'a> {
    fn from_parts(store: &'a Arc<dyn Store>, url: &'a str) -> Self {
        Self {
            store: &**store,
            url,
        }
    }
}

impl SameDatabase<'_> {
    /// Another store on the same database, with its own pool and cache.
    pub async fn open_another(&self) -> Arc<dyn Store> {
        gatehouse_store::open(self.url)
            .await
            .unwrap_or_else(|e| panic!("open a second store on {}: {e}", self.url))
    }
}

/// Reads with `read` until `done` holds for what it returned, for at most
/// two seconds; returns the last value read, which the caller asserts on.
pub async fn read_until<T, Fut>(mut read: impl FnMut() -> Fut, done: impl Fn(&T) -> bool) -> T
where
    Fut: Future<Output = T>,
{
    const TRIES: u32 = 100;
    for _ in 1..TRIES {
        let value = read().await;
        if done(&value) {
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    read().await
}

/// Runs `check` against a store on a new SQLite file, with that file's URL.
pub async fn on_sqlite<F, Fut>(check: F)
where
    F: FnOnce(Arc<dyn Store>, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("gatehouse.db").display());
    let store = gatehouse_store::open(&url)
        .await
        .expect("open sqlite store");
    assert_eq!(store.backend_name(), "sqlite");
    check(store, url).await;
}

/// Runs `check` against a store on a new PostgreSQL database, with its URL,
/// or reports a skip when [`DATABASE_URL_VAR`] is not set.
pub async fn on_postgres<F, Fut>(check: F)
where
    F: FnOnce(Arc<dyn Store>, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(database) = TestDatabase::create("gh_test").await else {
        eprintln!("skipped: {DATABASE_URL_VAR} not set");
        return;
    };
    let store = gatehouse_store::open(&database.url)
        .await
        .unwrap_or_else(|e| panic!("open postgres store on {}: {e}", database.url));
    assert_eq!(store.backend_name(), "postgres");
    let outcome = tokio::spawn(check(store, database.url.clone())).await;
    database.drop_now().await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(e) => panic!("check task failed: {e}"),
        }
    }
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
