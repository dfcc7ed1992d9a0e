//! The directory and the log at scale, timed (ignored: it measures rather
//! than checks; no timing is asserted). It seeds what the conformance check
//! `scale::directory_and_logs_at_scale` seeds — 100,000 users, a role with
//! 20,000 members, 100,000 log events — and prints, per query, the median of
//! 7 runs after one warm-up, then the process's peak RSS (VmHWM):
//!
//! `cargo test --release -p gatehouse-store --test user_search_scale -- --ignored --nocapture`
//!
//! SQLite always; PostgreSQL too when `GATEHOUSE_TEST_DATABASE_URL` is set.
//! `GATEHOUSE_SCALE_KEEP=1` keeps the SQLite file and the PostgreSQL
//! database and prints where they are (to look at query plans, or to serve
//! them); drop the kept database by hand afterwards.

#[allow(dead_code)]
#[path = "conformance/scale.rs"]
mod scale;

use gatehouse_store::testing::TestDatabase;
use gatehouse_store::{LogFilter, LogOrder, LogQuery, LogWindow, Store, UserSearch};
use scale::{search, window, Person, CROWD, PARTNERS, PER_PAGE};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The median of 7 runs of `run`, after one to warm up, in milliseconds.
async fn median_ms<F, Fut, T>(run: F) -> (f64, T)
where
    F: Fn() -> Fut,
    Fut: Future<Output = T>,
{
    let first = run().await;
    let mut runs: Vec<Duration> = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        run().await;
        runs.push(started.elapsed());
    }
    runs.sort();
    (runs[3].as_secs_f64() * 1000.0, first)
}

fn row(backend: &str, what: &str, ms: f64, result: &str) {
    println!("| {backend} | {what} | {ms:.2} | {result} |");
}

async fn time_search(store: &dyn Store, what: &str, search: UserSearch) {
    let (ms, page) = median_ms(|| async { store.search_users(&search).await.unwrap() }).await;
    let result = format!("{} users, total {:?}", page.users.len(), page.total);
    row(store.backend_name(), what, ms, &result);
}

async fn time_users(store: &dyn Store, people: &[Person]) {
    let email = people[54_321].email_norm.to_uppercase();
    let exact = search(&format!("email:\"{email}\""), None, None, 0);
    time_search(store, "users: exact email", exact).await;
    let prefix = search("email:ann*", None, None, 0);
    time_search(store, "users: email prefix, first page", prefix).await;
    let by_name = search("", Some("name:1"), None, 0);
    time_search(store, "users: sorted by name, first page", by_name).await;
    let deep = search("", Some("email:1"), None, 1000);
    time_search(store, "users: page 1000 by email, totals", deep).await;
    let default_deep = search("", None, None, 1000);
    time_search(store, "users: page 1000 oldest first, totals", default_deep).await;
    let ties = search("", Some("logins_count:-1"), None, 333);
    time_search(store, "users: logins_count desc (ties), page 333", ties).await;
    let partners = search("", None, Some(PARTNERS), 100);
    time_search(store, "users: one connection, page 100", partners).await;
    let word = search("dmitri", None, None, 0);
    time_search(store, "users: bare word (substring), first page", word).await;
    let (ms, found) = median_ms(|| async { store.users_with_email(&email).await.unwrap() }).await;
    let result = format!("{} users", found.len());
    row(store.backend_name(), "users: users_with_email", ms, &result);
}

async fn time_log(store: &dyn Store, what: &str, filter: LogFilter, log_window: LogWindow) {
    let query = LogQuery {
        filter,
        order: LogOrder::NewestFirst,
        window: log_window,
    };
    let (ms, events) = median_ms(|| async { store.search_log_events(&query).await.unwrap() }).await;
    let result = format!("{} events", events.len());
    row(store.backend_name(), what, ms, &result);
    if matches!(query.window, LogWindow::Page(_)) {
        let (ms, total) =
            median_ms(|| async { store.count_log_events(&query.filter).await.unwrap() }).await;
        let what = format!("{what}: its total");
        row(store.backend_name(), &what, ms, &format!("{total}"));
    }
}

async fn time_logs(store: &dyn Store, people: &[Person], middle_log_id: String) {
    let all = LogFilter::default();
    time_log(
        store,
        "logs: first page",
        all.clone(),
        LogWindow::Page(window(0, 100)),
    )
    .await;
    let deep = LogWindow::Page(window(90_000, 100));
    time_log(store, "logs: page 900 of 100", all, deep).await;
    let failures = LogFilter {
        event_type: Some("f".into()),
        ..LogFilter::default()
    };
    let deep = LogWindow::Page(window(20_000, 100));
    time_log(store, "logs: type f, page 200", failures, deep).await;
    let of_user = LogFilter {
        user_id: Some(people[21].user_id.clone()),
        ..LogFilter::default()
    };
    time_log(
        store,
        "logs: one user, first page",
        of_user,
        LogWindow::Page(window(0, 100)),
    )
    .await;
    let of_client = LogFilter {
        client_id: Some("client07".into()),
        ..LogFilter::default()
    };
    let deep = LogWindow::Page(window(4_000, 100));
    time_log(store, "logs: one client, page 40", of_client, deep).await;
    let checkpoint = LogWindow::Checkpoint {
        after: Some(middle_log_id),
        take: 100,
    };
    let settled = LogFilter {
        date_to: Some(scale::T0 + 1_000_000),
        ..LogFilter::default()
    };
    time_log(
        store,
        "logs: checkpoint from the middle, take 100",
        settled,
        checkpoint,
    )
    .await;
}

async fn time_members(store: &dyn Store) {
    for page in [0, 399] {
        let members = window(page * PER_PAGE, PER_PAGE);
        let (ms, found) =
            median_ms(|| async { store.role_users(CROWD, members).await.unwrap() }).await;
        let what = format!("role members: page {page}");
        row(
            store.backend_name(),
            &what,
            ms,
            &format!("{} users", found.len()),
        );
    }
    let (ms, total) = median_ms(|| async { store.count_role_users(CROWD).await.unwrap() }).await;
    row(
        store.backend_name(),
        "role members: total",
        ms,
        &format!("{total}"),
    );
}

async fn measure(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let people = scale::seed_users(store).await;
    scale::seed_role(store, &people).await;
    let logged = scale::seed_events(store, &people).await;
    let mut ids: Vec<&str> = logged.iter().map(|e| e.log_id.as_str()).collect();
    ids.sort_unstable();
    let middle = ids[ids.len() / 2].to_string();
    println!("| backend | query | median of 7 (ms) | result |");
    println!("| --- | --- | ---: | --- |");
    time_users(store, &people).await;
    time_members(store).await;
    time_logs(store, &people, middle).await;
}

/// The peak resident set of this process so far, from `/proc/self/status`.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .map(|line| line.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn keep() -> bool {
    std::env::var_os("GATEHOUSE_SCALE_KEEP").is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "measures 100,000 users and events; run by hand"]
async fn directory_and_logs_on_100k() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scale.db");
    let store = gatehouse_store::open(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    measure(store).await;
    println!("peak RSS after SQLite: {}", peak_rss());
    if keep() {
        println!("kept sqlite:{}", dir.keep().join("scale.db").display());
    }
    if let Some(database) = TestDatabase::create("gh_scale").await {
        let store = gatehouse_store::open(&database.url).await.unwrap();
        measure(store).await;
        println!("peak RSS after PostgreSQL: {}", peak_rss());
        if keep() {
            println!("kept {}", database.url);
            std::mem::forget(database);
        } else {
            database.drop_now().await;
        }
    }
}
