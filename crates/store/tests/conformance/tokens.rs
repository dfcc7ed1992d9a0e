//! Authorization codes, refresh-token families, opaque tokens, device codes,
//! client-assertion jtis and log events, including the concurrent races that
//! the "use once" transitions must win exactly once.

use super::directory::RACERS;
use super::harness::{assert_conflict, T0};
use gatehouse_store::{
    AuthorizationCode, CodeRedemption, DeviceCode, DeviceRequest, DeviceStatus, LogEvent,
    LogFilter, LogOrder, LogQuery, LogWindow, OpaqueToken, Page, RefreshFamily, Store,
};
use std::sync::Arc;
use tokio::sync::Barrier;

fn code() -> AuthorizationCode {
    AuthorizationCode {
        actions: Default::default(),
        client_id: "spa".into(),
        user_id: "auth0|alice".into(),
        redirect_uri: Some("https://spa.test/cb".into()),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        code_challenge_method: Some("S256".into()),
        scope: "openid profile offline_access".into(),
        audience: Some("https://api.test".into()),
        resource: None,
        nonce: Some("n-0S6_WzA2Mj".into()),
        auth_time: T0 - 5,
        sid: Some("sid-1".into()),
        require_auth_time: true,
        expires_at: T0 + 60,
    }
}

fn family(id: &str, user_id: &str, client_id: &str, created_at: i64) -> RefreshFamily {
    RefreshFamily {
        id: id.into(),
        client_id: client_id.into(),
        user_id: user_id.into(),
        audience: Some("https://api.test".into()),
        scope: "openid offline_access read".into(),
        auth_time: created_at - 5,
        sid: Some(format!("sid-{id}")),
        created_at,
        expires_at: Some(created_at + 86_400),
        revoked_at: None,
    }
}

pub async fn authorization_code_single_use(store: &dyn Store) {
    let code = code();
    store
        .insert_authorization_code("hash-1", &code)
        .await
        .unwrap();
    assert_conflict(store.insert_authorization_code("hash-1", &code).await);

    assert_eq!(
        store.redeem_authorization_code("hash-1", T0).await.unwrap(),
        CodeRedemption::Redeemed(code.clone())
    );
    assert_eq!(
        store
            .redeem_authorization_code("hash-1", T0 + 1)
            .await
            .unwrap(),
        CodeRedemption::AlreadyUsed {
            code: code.clone(),
            issued_family_id: None,
        }
    );
    // The family the redemption started, linked to the code in its own
    // transaction.
    store
        .create_refresh_family(
            &family("fam-1", "auth0|alice", "spa", T0 + 1),
            "rt-fam-1",
            200,
            Some("hash-1"),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .redeem_authorization_code("hash-1", T0 + 2)
            .await
            .unwrap(),
        CodeRedemption::AlreadyUsed {
            code: code.clone(),
            issued_family_id: Some("fam-1".into()),
        }
    );

    assert_eq!(
        store
            .redeem_authorization_code("hash-unknown", T0)
            .await
            .unwrap(),
        CodeRedemption::NotFound
    );

    // A second code is independent of the first.
    let mut other = code.clone();
    other.nonce = None;
    other.require_auth_time = false;
    store
        .insert_authorization_code("hash-2", &other)
        .await
        .unwrap();
    assert_eq!(
        store.redeem_authorization_code("hash-2", T0).await.unwrap(),
        CodeRedemption::Redeemed(other)
    );
}

pub async fn authorization_code_concurrent_redemption(store: &Arc<dyn Store>) {
    store
        .insert_authorization_code("race", &code())
        .await
        .unwrap();
    let barrier = Arc::new(Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let store = Arc::clone(store);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                store.redeem_authorization_code("race", T0).await
            })
        })
        .collect();
    let mut redeemed = 0;
    let mut already_used = 0;
    for task in tasks {
        match task.await.expect("task").expect("redeem") {
            CodeRedemption::Redeemed(c) => {
                assert_eq!(c, code());
                redeemed += 1;
            }
            CodeRedemption::AlreadyUsed { .. } => already_used += 1,
            CodeRedemption::NotFound => panic!("code vanished"),
        }
    }
    assert_eq!((redeemed, already_used), (1, RACERS - 1));
}

pub async fn refresh_family_create_and_lookup(store: &dyn Store) {
    let fam = family("fam-1", "auth0|alice", "spa", T0);
    store
        .create_refresh_family(&fam, "rt-1", 200, None)
        .await
        .unwrap();
    let mut no_expiry = family("fam-2", "auth0|alice", "spa", T0 + 1);
    no_expiry.expires_at = None;
    no_expiry.audience = None;
    no_expiry.sid = None;
    store
        .create_refresh_family(&no_expiry, "rt-2", 200, None)
        .await
        .unwrap();

    let (token, got) = store.refresh_token("rt-1").await.unwrap().expect("rt-1");
    assert_eq!(got, fam);
    assert_eq!(token.token_hash, "rt-1");
    assert_eq!(token.family_id, "fam-1");
    assert_eq!(token.created_at, T0);
    assert_eq!(token.rotated_at, None);
    assert_eq!(token.replaced_by, None);

    let (_, got) = store.refresh_token("rt-2").await.unwrap().expect("rt-2");
    assert_eq!(got, no_expiry);

    assert!(store.refresh_token("rt-unknown").await.unwrap().is_none());
}

pub async fn refresh_rotation_once(store: &dyn Store) {
    let fam = family("fam", "auth0|alice", "spa", T0);
    store
        .create_refresh_family(&fam, "rt-1", 200, None)
        .await
        .unwrap();

    assert!(store
        .rotate_refresh_token("rt-1", "rt-2", T0 + 10, None)
        .await
        .unwrap());
    let (old, _) = store.refresh_token("rt-1").await.unwrap().unwrap();
    assert_eq!(old.rotated_at, Some(T0 + 10));
    assert_eq!(old.replaced_by.as_deref(), Some("rt-2"));
    let (new, got) = store.refresh_token("rt-2").await.unwrap().unwrap();
    assert_eq!(new.family_id, "fam");
    assert_eq!(new.created_at, T0 + 10);
    assert_eq!(new.rotated_at, None);
    assert_eq!(new.replaced_by, None);
    // Rotation never changes the family (nor extends its expiry).
    assert_eq!(got, fam);

    // The old token cannot be rotated again.
    assert!(!store
        .rotate_refresh_token("rt-1", "rt-3", T0 + 11, None)
        .await
        .unwrap());
    assert!(store.refresh_token("rt-3").await.unwrap().is_none());
    let (old, _) = store.refresh_token("rt-1").await.unwrap().unwrap();
    assert_eq!(old.rotated_at, Some(T0 + 10));
    assert_eq!(old.replaced_by.as_deref(), Some("rt-2"));

    // The successor can.
    assert!(store
        .rotate_refresh_token("rt-2", "rt-3", T0 + 12, None)
        .await
        .unwrap());
    assert!(store.refresh_token("rt-3").await.unwrap().is_some());

    // An unknown token rotates nothing.
    assert!(!store
        .rotate_refresh_token("rt-unknown", "rt-4", T0 + 13, None)
        .await
        .unwrap());
    assert!(store.refresh_token("rt-4").await.unwrap().is_none());
}

pub async fn refresh_rotation_leeway(store: &dyn Store) {
    let fam = family("fam", "auth0|alice", "spa", T0);
    store
        .create_refresh_family(&fam, "rt-1", 200, None)
        .await
        .unwrap();
    assert!(store
        .rotate_refresh_token("rt-1", "rt-2", T0 + 10, None)
        .await
        .unwrap());

    // Leeway window starting after the rotation: the reuse is refused.
    assert!(!store
        .rotate_refresh_token("rt-1", "rt-x", T0 + 12, Some(T0 + 11))
        .await
        .unwrap());
    assert!(store.refresh_token("rt-x").await.unwrap().is_none());

    // Within the leeway (window starts at or before rotated_at): the
    // predecessor is accepted again, its unused successor retired.
    assert!(store
        .rotate_refresh_token("rt-1", "rt-3", T0 + 12, Some(T0 + 10))
        .await
        .unwrap());
    let (prev_successor, _) = store.refresh_token("rt-2").await.unwrap().unwrap();
    assert_eq!(prev_successor.rotated_at, Some(T0 + 12));
    let (old, _) = store.refresh_token("rt-1").await.unwrap().unwrap();
    assert_eq!(old.replaced_by.as_deref(), Some("rt-3"));
    let (new, got) = store.refresh_token("rt-3").await.unwrap().unwrap();
    assert_eq!(new.family_id, "fam");
    assert_eq!(new.rotated_at, None);
    assert_eq!(got.revoked_at, None);
    // The retired successor cannot be rotated any more.
    assert!(!store
        .rotate_refresh_token("rt-2", "rt-y", T0 + 13, None)
        .await
        .unwrap());

    // Once the successor has been used, the predecessor is a reuse.
    assert!(store
        .rotate_refresh_token("rt-3", "rt-4", T0 + 14, None)
        .await
        .unwrap());
    assert!(!store
        .rotate_refresh_token("rt-1", "rt-5", T0 + 15, Some(T0))
        .await
        .unwrap());
    assert!(store.refresh_token("rt-5").await.unwrap().is_none());
    let (current, _) = store.refresh_token("rt-4").await.unwrap().unwrap();
    assert_eq!(current.rotated_at, None);
}

pub async fn refresh_revocation(store: &dyn Store) {
    let alice_spa_1 = family("f-1", "auth0|alice", "spa", T0);
    let alice_spa_2 = family("f-2", "auth0|alice", "spa", T0 + 1);
    let alice_web = family("f-3", "auth0|alice", "web", T0 + 2);
    let bob_spa = family("f-4", "auth0|bob", "spa", T0 + 3);
    store
        .create_refresh_family(&alice_spa_1, "rt-1", 200, None)
        .await
        .unwrap();
    store
        .create_refresh_family(&alice_spa_2, "rt-2", 200, None)
        .await
        .unwrap();
    store
        .create_refresh_family(&alice_web, "rt-3", 200, None)
        .await
        .unwrap();
    store
        .create_refresh_family(&bob_spa, "rt-4", 200, None)
        .await
        .unwrap();
    let revoked_at = |hash: &'static str| async move {
        store
            .refresh_token(hash)
            .await
            .unwrap()
            .unwrap()
            .1
            .revoked_at
    };

    store.revoke_refresh_family("f-1", T0 + 10).await.unwrap();
    assert_eq!(revoked_at("rt-1").await, Some(T0 + 10));
    assert_eq!(revoked_at("rt-2").await, None);
    // Revoking again keeps the first time; unknown families are a no-op.
    store.revoke_refresh_family("f-1", T0 + 20).await.unwrap();
    assert_eq!(revoked_at("rt-1").await, Some(T0 + 10));
    store.revoke_refresh_family("f-unknown", T0).await.unwrap();

    // Revocation covers rotated-to tokens of the family too.
    assert!(store
        .rotate_refresh_token("rt-2", "rt-2b", T0 + 25, None)
        .await
        .unwrap());
    assert_eq!(
        store
            .revoke_refresh_families_for("auth0|alice", "spa", T0 + 30)
            .await
            .unwrap(),
        1
    );
    assert_eq!(revoked_at("rt-2").await, Some(T0 + 30));
    assert_eq!(revoked_at("rt-2b").await, Some(T0 + 30));
    assert_eq!(revoked_at("rt-1").await, Some(T0 + 10));
    // Other clients and users are untouched.
    assert_eq!(revoked_at("rt-3").await, None);
    assert_eq!(revoked_at("rt-4").await, None);
    assert_eq!(
        store
            .revoke_refresh_families_for("auth0|alice", "spa", T0 + 40)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .revoke_refresh_families_for("auth0|bob", "spa", T0 + 40)
            .await
            .unwrap(),
        1
    );
    assert_eq!(revoked_at("rt-4").await, Some(T0 + 40));
}

pub async fn refresh_active_family_cap(store: &dyn Store) {
    // Another user's family is not counted against alice's cap.
    store
        .create_refresh_family(
            &family("bob", "auth0|bob", "spa", T0 - 10),
            "rt-bob",
            2,
            None,
        )
        .await
        .unwrap();
    for (i, id) in ["f-1", "f-2", "f-3"].iter().enumerate() {
        let created_at = T0 + i as i64;
        store
            .create_refresh_family(
                &family(id, "auth0|alice", "spa", created_at),
                &format!("rt-{id}"),
                2,
                None,
            )
            .await
            .unwrap();
    }
    let revoked_at = |hash: String| async move {
        store
            .refresh_token(&hash)
            .await
            .unwrap()
            .unwrap()
            .1
            .revoked_at
    };
    // The oldest goes, at the time the newest was created.
    assert_eq!(revoked_at("rt-f-1".into()).await, Some(T0 + 2));
    assert_eq!(revoked_at("rt-f-2".into()).await, None);
    assert_eq!(revoked_at("rt-f-3".into()).await, None);
    assert_eq!(revoked_at("rt-bob".into()).await, None);

    // Already revoked families do not count as active.
    store.revoke_refresh_family("f-2", T0 + 5).await.unwrap();
    store
        .create_refresh_family(
            &family("f-4", "auth0|alice", "spa", T0 + 6),
            "rt-f-4",
            2,
            None,
        )
        .await
        .unwrap();
    assert_eq!(revoked_at("rt-f-3".into()).await, None);
    assert_eq!(revoked_at("rt-f-4".into()).await, None);
}

pub async fn refresh_concurrent_rotation(store: &Arc<dyn Store>) {
    store
        .create_refresh_family(&family("fam", "auth0|alice", "spa", T0), "rt-0", 200, None)
        .await
        .unwrap();
    let barrier = Arc::new(Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let store = Arc::clone(store);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                let new_hash = format!("rt-new-{i}");
                let won = store
                    .rotate_refresh_token("rt-0", &new_hash, T0 + 1, None)
                    .await
                    .expect("rotate");
                (new_hash, won)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (hash, won) = task.await.expect("task");
        if won {
            winners.push(hash);
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let winner = &winners[0];

    let (old, _) = store.refresh_token("rt-0").await.unwrap().unwrap();
    assert_eq!(old.replaced_by.as_ref(), Some(winner));
    for i in 0..RACERS {
        let hash = format!("rt-new-{i}");
        let stored = store.refresh_token(&hash).await.unwrap();
        assert_eq!(stored.is_some(), &hash == winner, "{hash}");
    }
}

pub async fn opaque_tokens_round_trip(store: &dyn Store) {
    let token = OpaqueToken {
        token_hash: "ot-1".into(),
        client_id: "spa".into(),
        user_id: "auth0|alice".into(),
        scope: "openid profile email".into(),
        expires_at: T0 + 86_400,
        jti: Some("jti-opaque-1".into()),
    };
    store.insert_opaque_token(&token).await.unwrap();
    assert_eq!(store.opaque_token("ot-1").await.unwrap(), Some(token));
    assert!(store.opaque_token("ot-unknown").await.unwrap().is_none());
}

pub async fn device_codes_lifecycle(store: &dyn Store) {
    let code = DeviceCode {
        device_code_hash: "dc-1".into(),
        user_code: "BDWP-HQPK".into(),
        client_id: "tv".into(),
        request: DeviceRequest {
            scope: "openid offline_access".into(),
            audience: Some("https://api.test".into()),
            interval: 5,
        },
        status: DeviceStatus::Pending,
        user_id: None,
        expires_at: T0 + 900,
        last_polled_at: None,
    };
    store.insert_device_code(&code).await.unwrap();
    assert_eq!(store.device_code("dc-1").await.unwrap(), Some(code.clone()));
    assert_eq!(
        store.device_code_by_user_code("BDWP-HQPK").await.unwrap(),
        Some(code.clone())
    );
    assert!(store.device_code("dc-unknown").await.unwrap().is_none());
    assert!(store
        .device_code_by_user_code("XXXX-XXXX")
        .await
        .unwrap()
        .is_none());

    // User codes are unique.
    let duplicate = DeviceCode {
        device_code_hash: "dc-2".into(),
        ..code.clone()
    };
    assert_conflict(store.insert_device_code(&duplicate).await);

    // Polling returns the previous poll time.
    assert_eq!(store.touch_device_code("dc-1", T0 + 5).await.unwrap(), None);
    assert_eq!(
        store.touch_device_code("dc-1", T0 + 10).await.unwrap(),
        Some(T0 + 5)
    );
    assert_eq!(
        store
            .device_code("dc-1")
            .await
            .unwrap()
            .unwrap()
            .last_polled_at,
        Some(T0 + 10)
    );

    // pending → approved happens once.
    assert!(store
        .transition_device_code(
            "dc-1",
            DeviceStatus::Pending,
            DeviceStatus::Approved,
            Some("auth0|alice")
        )
        .await
        .unwrap());
    assert!(!store
        .transition_device_code(
            "dc-1",
            DeviceStatus::Pending,
            DeviceStatus::Approved,
            Some("auth0|mallory")
        )
        .await
        .unwrap());
    assert!(!store
        .transition_device_code("dc-1", DeviceStatus::Pending, DeviceStatus::Denied, None)
        .await
        .unwrap());
    let approved = store.device_code("dc-1").await.unwrap().unwrap();
    assert_eq!(approved.status, DeviceStatus::Approved);
    assert_eq!(approved.user_id.as_deref(), Some("auth0|alice"));

    // approved → consumed keeps the approving user.
    assert!(store
        .transition_device_code("dc-1", DeviceStatus::Approved, DeviceStatus::Consumed, None)
        .await
        .unwrap());
    let consumed = store
        .device_code_by_user_code("BDWP-HQPK")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(consumed.status, DeviceStatus::Consumed);
    assert_eq!(consumed.user_id.as_deref(), Some("auth0|alice"));

    assert!(!store
        .transition_device_code(
            "dc-unknown",
            DeviceStatus::Pending,
            DeviceStatus::Approved,
            None
        )
        .await
        .unwrap());
}

pub async fn device_code_concurrent_polls(store: &Arc<dyn Store>) {
    let code = DeviceCode {
        device_code_hash: "dc-race".into(),
        user_code: "RACE-RACE".into(),
        client_id: "tv".into(),
        request: DeviceRequest {
            scope: "openid".into(),
            audience: None,
            interval: 5,
        },
        status: DeviceStatus::Pending,
        user_id: None,
        expires_at: T0 + 900,
        last_polled_at: None,
    };
    store.insert_device_code(&code).await.unwrap();
    let barrier = Arc::new(Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let store = Arc::clone(store);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                store.touch_device_code("dc-race", T0 + i as i64).await
            })
        })
        .collect();
    let mut previous = Vec::new();
    for task in tasks {
        previous.push(task.await.expect("task").expect("touch"));
    }
    // The polls are serialized: exactly one saw no earlier poll, and each
    // earlier poll time was seen by exactly one later poll.
    assert_eq!(previous.iter().filter(|p| p.is_none()).count(), 1);
    let mut seen: Vec<i64> = previous.into_iter().flatten().collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), RACERS - 1, "{seen:?}");
    let last = store
        .device_code("dc-race")
        .await
        .unwrap()
        .unwrap()
        .last_polled_at
        .expect("polled");
    assert!(!seen.contains(&last), "{last} in {seen:?}");
}

pub async fn jti_replay(store: &dyn Store) {
    assert!(store.use_jti("m2m", "jti-1", T0 + 60).await.unwrap());
    assert!(!store.use_jti("m2m", "jti-1", T0 + 60).await.unwrap());
    // A jti is scoped to its client.
    assert!(store.use_jti("other", "jti-1", T0 + 60).await.unwrap());
    assert!(store.use_jti("m2m", "jti-2", T0 + 60).await.unwrap());
}

fn log(id: &str, date: i64, event_type: &str) -> LogEvent {
    LogEvent {
        log_id: id.into(),
        date,
        event_type: event_type.into(),
        client_id: Some("spa".into()),
        user_id: None,
        description: format!("event {id}"),
        details: serde_json::json!({
            "trace": [{"check": "audience", "ok": true}],
            "unicode": "é ✓",
        }),
        ..LogEvent::default()
    }
}

pub async fn log_events_round_trip(store: &dyn Store) {
    assert!(store
        .search_log_events(&LogQuery::all())
        .await
        .unwrap()
        .is_empty());
    let old = log("log-1", T0, "seccft");
    let mut mid = log("log-2", T0 + 10, "ferrt");
    mid.client_id = None;
    mid.user_id = Some("auth0|alice".into());
    mid.details = serde_json::Value::Null;
    let mut new = log("log-3", T0 + 20, "seacft");
    new.jti = Some("jti-3".into());
    new.ip = Some("203.0.113.7".into());
    new.user_agent = Some("Mozilla/5.0 (X11) é".into());
    new.client_name = Some("Angular SPA".into());
    new.user_name = Some("bob@example.com".into());
    new.audience = Some("https://measurements.example/".into());
    new.scope = Some("openid read:measurements".into());
    for event in [&mid, &new, &old] {
        store.insert_log_event(event).await.unwrap();
    }

    let ids = |events: Vec<LogEvent>| events.into_iter().map(|e| e.log_id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.search_log_events(&LogQuery::all()).await.unwrap()),
        ["log-3", "log-2", "log-1"]
    );
    assert_eq!(
        ids(store.search_log_events(&paged(1, 1)).await.unwrap()),
        ["log-2"]
    );

    assert_eq!(store.log_event("log-1").await.unwrap(), Some(old));
    assert_eq!(store.log_event("log-2").await.unwrap(), Some(mid));
    assert_eq!(store.log_event("log-3").await.unwrap(), Some(new.clone()));
    assert!(store.log_event("log-unknown").await.unwrap().is_none());
    assert_eq!(store.log_event_by_jti("jti-3").await.unwrap(), Some(new));
    assert!(store
        .log_event_by_jti("jti-unknown")
        .await
        .unwrap()
        .is_none());
}

fn paged(offset: i64, limit: i64) -> LogQuery {
    LogQuery {
        window: LogWindow::Page(Page { offset, limit }),
        ..LogQuery::all()
    }
}

fn log_ids(events: Vec<LogEvent>) -> Vec<String> {
    events.into_iter().map(|e| e.log_id).collect()
}

async fn search(store: &dyn Store, filter: LogFilter, order: LogOrder) -> Vec<String> {
    let query = LogQuery {
        filter,
        order,
        window: LogWindow::Page(Page::ALL),
    };
    log_ids(store.search_log_events(&query).await.unwrap())
}

async fn count(store: &dyn Store, filter: LogFilter) -> i64 {
    store.count_log_events(&filter).await.unwrap()
}

/// `count_log_events`: zero on a fresh store, then one per insert.
pub async fn log_events_count(store: &dyn Store) {
    assert_eq!(count(store, LogFilter::default()).await, 0);
    for (i, id) in ["log-a", "log-b", "log-c"].iter().enumerate() {
        store
            .insert_log_event(&log(id, T0 + i as i64, "sapi"))
            .await
            .unwrap();
        assert_eq!(count(store, LogFilter::default()).await, i as i64 + 1);
    }
}

/// Six events: two clients, two users, three types, two sharing a date.
async fn insert_search_fixture(store: &dyn Store) {
    let rows = [
        ("L1", T0, "seccft", Some("c1"), None),
        ("L2", T0 + 10, "feccft", Some("c2"), None),
        ("L4", T0 + 20, "s", Some("c1"), Some("auth0|alice")),
        ("L3", T0 + 20, "fp", Some("c1"), Some("auth0|alice")),
        ("L5", T0 + 30, "s", Some("c2"), Some("auth0|bob")),
        ("L6", T0 + 40, "seccft", None, Some("auth0|alice")),
    ];
    for (id, date, event_type, client_id, user_id) in rows {
        let mut event = log(id, date, event_type);
        event.client_id = client_id.map(Into::into);
        event.user_id = user_id.map(Into::into);
        store.insert_log_event(&event).await.unwrap();
    }
}

/// Each filter alone, then combined, with the count agreeing with the list.
pub async fn log_search_filters(store: &dyn Store) {
    insert_search_fixture(store).await;
    let newest = LogOrder::NewestFirst;
    let cases: Vec<(LogFilter, Vec<&str>)> = vec![
        (
            LogFilter::default(),
            vec!["L6", "L5", "L4", "L3", "L2", "L1"],
        ),
        (
            LogFilter {
                event_type: Some("seccft".into()),
                ..Default::default()
            },
            vec!["L6", "L1"],
        ),
        (
            LogFilter {
                client_id: Some("c1".into()),
                ..Default::default()
            },
            vec!["L4", "L3", "L1"],
        ),
        (
            LogFilter {
                user_id: Some("auth0|alice".into()),
                ..Default::default()
            },
            vec!["L6", "L4", "L3"],
        ),
        (
            LogFilter {
                date_from: Some(T0 + 10),
                date_to: Some(T0 + 30),
                ..Default::default()
            },
            vec!["L5", "L4", "L3", "L2"],
        ),
        (
            LogFilter {
                date_to: Some(T0 + 10),
                ..Default::default()
            },
            vec!["L2", "L1"],
        ),
        (
            LogFilter {
                date_from: Some(T0 + 40),
                ..Default::default()
            },
            vec!["L6"],
        ),
        (
            LogFilter {
                event_type: Some("s".into()),
                client_id: Some("c1".into()),
                user_id: Some("auth0|alice".into()),
                date_from: Some(T0 + 20),
                date_to: Some(T0 + 20),
            },
            vec!["L4"],
        ),
        (
            LogFilter {
                event_type: Some("x' OR '1'='1".into()),
                ..Default::default()
            },
            vec![],
        ),
        (
            LogFilter {
                client_id: Some("c1".into()),
                user_id: Some("auth0|bob".into()),
                ..Default::default()
            },
            vec![],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            search(store, filter.clone(), newest).await,
            expected,
            "{filter:?}"
        );
        assert_eq!(count(store, filter).await, expected.len() as i64);
    }
}

/// Both orders; equal dates are ordered by `log_id` in the same direction.
pub async fn log_search_orders_and_pages(store: &dyn Store) {
    insert_search_fixture(store).await;
    let all = LogFilter::default();
    assert_eq!(
        search(store, all.clone(), LogOrder::NewestFirst).await,
        ["L6", "L5", "L4", "L3", "L2", "L1"]
    );
    assert_eq!(
        search(store, all.clone(), LogOrder::OldestFirst).await,
        ["L1", "L2", "L3", "L4", "L5", "L6"]
    );
    let page = |offset, limit, order| LogQuery {
        filter: LogFilter::default(),
        order,
        window: LogWindow::Page(Page { offset, limit }),
    };
    let read =
        |query: LogQuery| async move { log_ids(store.search_log_events(&query).await.unwrap()) };
    assert_eq!(read(page(0, 2, LogOrder::NewestFirst)).await, ["L6", "L5"]);
    assert_eq!(read(page(2, 2, LogOrder::NewestFirst)).await, ["L4", "L3"]);
    assert_eq!(read(page(4, 2, LogOrder::NewestFirst)).await, ["L2", "L1"]);
    assert!(read(page(6, 2, LogOrder::NewestFirst)).await.is_empty());
    assert_eq!(
        read(page(1, 3, LogOrder::OldestFirst)).await,
        ["L2", "L3", "L4"]
    );
    let alice_page = LogQuery {
        filter: LogFilter {
            user_id: Some("auth0|alice".into()),
            ..Default::default()
        },
        order: LogOrder::OldestFirst,
        window: LogWindow::Page(Page {
            offset: 1,
            limit: 5,
        }),
    };
    assert_eq!(read(alice_page).await, ["L4", "L6"]);
}

/// Checkpoint: the events after a `log_id`, by `log_id`, whatever their dates.
pub async fn log_search_checkpoint(store: &dyn Store) {
    insert_search_fixture(store).await;
    let after = |from: Option<&str>, take| LogQuery {
        filter: LogFilter::default(),
        // The order is ignored in checkpoint mode.
        order: LogOrder::NewestFirst,
        window: LogWindow::Checkpoint {
            after: from.map(Into::into),
            take,
        },
    };
    let read =
        |query: LogQuery| async move { log_ids(store.search_log_events(&query).await.unwrap()) };
    assert_eq!(read(after(None, 2)).await, ["L1", "L2"]);
    assert_eq!(read(after(Some("L2"), 2)).await, ["L3", "L4"]);
    assert_eq!(read(after(Some("L4"), 10)).await, ["L5", "L6"]);
    assert!(read(after(Some("L6"), 10)).await.is_empty());
    // A cursor that is not an existing id still reads what sorts after it.
    assert_eq!(read(after(Some("L35"), 1)).await, ["L4"]);
    assert!(read(after(Some("x' OR '1'='1"), 10)).await.is_empty());
}
