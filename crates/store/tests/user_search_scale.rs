//! The user search on 100,000 users, timed (ignored: it takes minutes and
//! measures rather than checks; no timing is asserted):
//!
//! `cargo test -p gatehouse-store --test user_search_scale -- --ignored --nocapture`
//!
//! SQLite always; PostgreSQL too when `GATEHOUSE_TEST_DATABASE_URL` is set.
//! `GATEHOUSE_SCALE_KEEP=1` keeps the SQLite file and prints its path, to
//! look at query plans.

use gatehouse_core::model::User;
use gatehouse_core::user_query::{parse_user_query, UserSort};
use gatehouse_store::testing::TestDatabase;
use gatehouse_store::{Page, Store, StoredUser, UserSearch};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USERS: usize = 100_000;
const WRITERS: usize = 8;

fn person(i: usize) -> StoredUser {
    let mut user = User::new(
        format!("auth0|{i:024x}"),
        &format!("user{i:06}@example{}.com", i % 100),
        1_700_000_000 + i as i64,
    );
    user.name = Some(format!("Person {i}"));
    StoredUser {
        user,
        password_hash: None,
    }
}

async fn import(store: &Arc<dyn Store>) {
    let started = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in (w..USERS).step_by(WRITERS) {
                    store.create_user(&person(i)).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    eprintln!("  import of {USERS} users: {:.1?}", started.elapsed());
}

fn search(q: &str, sort: Option<&str>, page: u32) -> UserSearch {
    UserSearch {
        terms: parse_user_query(q).unwrap(),
        connection: None,
        sort: sort.map(|s| UserSort::parse(s).unwrap()),
        page: Page {
            offset: i64::from(page) * 50,
            limit: 50,
        },
        include_total: true,
    }
}

/// The median of 7 runs, after one to warm up.
async fn time(store: &dyn Store, what: &str, search: &UserSearch) {
    let first = store.search_users(search).await.unwrap();
    let mut runs: Vec<Duration> = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        store.search_users(search).await.unwrap();
        runs.push(started.elapsed());
    }
    runs.sort();
    eprintln!(
        "  {what}: {:.2} ms (total {:?}, page of {})",
        runs[3].as_secs_f64() * 1000.0,
        first.total,
        first.users.len()
    );
}

async fn measure(store: Arc<dyn Store>) {
    eprintln!("{}:", store.backend_name());
    import(&store).await;
    let store = store.as_ref();
    time(
        store,
        "exact email",
        &search(r#"email:"user054321@example21.com""#, None, 0),
    )
    .await;
    time(store, "email prefix", &search("email:user0543*", None, 0)).await;
    time(
        store,
        "page 100 by email",
        &search("", Some("email:1"), 100),
    )
    .await;
    time(
        store,
        "page 100 by email, descending",
        &search("", Some("email:-1"), 100),
    )
    .await;
    time(store, "first page, default order", &search("", None, 0)).await;
    time(
        store,
        "bare word (substring scan)",
        &search("054321", None, 0),
    )
    .await;
    let started = Instant::now();
    let found = store
        .users_with_email("USER054321@example21.com")
        .await
        .unwrap();
    eprintln!(
        "  users_with_email: {:.2?} ({} found)",
        started.elapsed(),
        found.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "measures 100,000 users; run by hand"]
async fn user_search_on_100k_users() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scale.db");
    let store = gatehouse_store::open(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    measure(store).await;
    if std::env::var_os("GATEHOUSE_SCALE_KEEP").is_some() {
        eprintln!("kept {}", dir.keep().display());
    }
    if let Some(database) = TestDatabase::create("gh_scale").await {
        let store = gatehouse_store::open(&database.url).await.unwrap();
        measure(store).await;
        database.drop_now().await;
    }
}
