//! The batched log writer: nothing accepted is lost, a read sees what this
//! store accepted before it, and a flush makes events visible to other stores.

use super::harness::T0;
use gatehouse_store::{LogEvent, LogFilter, LogQuery, Store};
use std::collections::BTreeSet;
use std::sync::Arc;

const WRITERS: usize = 16;
const EVENTS: usize = 1_000;

fn event(n: usize) -> LogEvent {
    LogEvent {
        log_id: format!("batch-{n:04}"),
        date: T0 + n as i64,
        event_type: "seccft".into(),
        client_id: Some("m2m".into()),
        description: format!("event {n}"),
        jti: Some(format!("jti-{n:04}")),
        details: serde_json::json!({ "n": n }),
        ..LogEvent::default()
    }
}

async fn insert_concurrently(store: &Arc<dyn Store>) {
    let tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = store.clone();
            tokio::spawn(async move {
                for n in (writer..EVENTS).step_by(WRITERS) {
                    store.insert_log_event(&event(n)).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

async fn stored_ids(store: &dyn Store) -> BTreeSet<String> {
    let events = store.search_log_events(&LogQuery::all()).await.unwrap();
    events.into_iter().map(|e| e.log_id).collect()
}

fn expected_ids() -> BTreeSet<String> {
    (0..EVENTS).map(|n| event(n).log_id).collect()
}

/// 1,000 events from 16 concurrent tasks are all there, intact.
pub async fn concurrent_log_events_all_readable(store: &Arc<dyn Store>) {
    insert_concurrently(store).await;
    assert_eq!(
        store.count_log_events(&LogFilter::default()).await.unwrap(),
        EVENTS as i64
    );
    assert_eq!(stored_ids(&**store).await, expected_ids());
    for n in [0, 1, 499, 998, 999] {
        assert_eq!(
            store.log_event(&event(n).log_id).await.unwrap(),
            Some(event(n))
        );
    }
}

/// Each read right after an insert sees it, by id, by jti and in a count.
pub async fn read_right_after_insert_sees_it(store: &dyn Store) {
    for n in 0..50 {
        store.insert_log_event(&event(n)).await.unwrap();
        match n % 3 {
            0 => assert_eq!(
                store.log_event(&event(n).log_id).await.unwrap(),
                Some(event(n))
            ),
            1 => assert_eq!(
                store
                    .log_event_by_jti(event(n).jti.as_deref().unwrap())
                    .await
                    .unwrap(),
                Some(event(n))
            ),
            _ => assert_eq!(
                store.count_log_events(&LogFilter::default()).await.unwrap(),
                n as i64 + 1
            ),
        }
    }
}

/// After `flush_log_events`, another store on the same database (another
/// node, the next process) sees every event.
pub async fn flushed_events_visible_to_a_second_store(store: Arc<dyn Store>, url: String) {
    insert_concurrently(&store).await;
    store.flush_log_events().await.unwrap();
    let second = gatehouse_store::open(&url).await.unwrap();
    assert_eq!(stored_ids(&*second).await, expected_ids());
    // A flush with nothing pending returns at once, also on a store that
    // never wrote.
    second.flush_log_events().await.unwrap();
    store.flush_log_events().await.unwrap();
}
