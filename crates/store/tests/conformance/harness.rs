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
    on_sqlite_with_url(|store, _url| check(store)).await;
}

/// [`on_sqlite`] for a check that also opens the database itself.
pub async fn on_sqlite_with_url<F, Fut>(check: F)
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

/// Runs `check` against a store on a new PostgreSQL database, or reports a
/// skip when [`DATABASE_URL_VAR`] is not set.
pub async fn on_postgres<F, Fut>(check: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    on_postgres_with_url(|store, _url| check(store)).await;
}

/// [`on_postgres`] for a check that also opens the database itself.
pub async fn on_postgres_with_url<F, Fut>(check: F)
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
