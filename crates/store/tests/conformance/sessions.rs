//! SSO and dashboard sessions (each test runs on both kinds): lookup only while active, idle and absolute lifetimes,
//! touch never reviving or extending past the absolute expiry, logout,
//! ending all of a user's sessions, cascade on user deletion, and the two
//! kinds never seeing each other's sessions.

use super::directory::user;
use super::harness::{assert_conflict, T0};
use gatehouse_store::{SessionKind, SsoSession, Store};

fn session(id_hash: &str, sid: &str, user_id: &str) -> SsoSession {
    SsoSession {
        id_hash: id_hash.into(),
        sid: sid.into(),
        user_id: user_id.into(),
        auth_time: T0,
        created_at: T0,
        last_seen_at: T0,
        expires_at: T0 + 1000,
        idle_expires_at: T0 + 100,
        ended_at: None,
    }
}

pub async fn sessions_lifetimes_and_touch(store: &dyn Store) {
    sessions_lifetimes_and_touch_of(store, SessionKind::Sso, "").await;
    sessions_lifetimes_and_touch_of(store, SessionKind::Dashboard, "d").await;
    kinds_are_apart(store).await;
}

/// A dashboard session's cookie is no SSO session, and the reverse; ending
/// one kind leaves the other.
async fn kinds_are_apart(store: &dyn Store) {
    store
        .create_user(&user("auth0|apart", "apart@example.com"))
        .await
        .unwrap();
    let dashboard = SsoSession {
        idle_expires_at: T0 + 1000,
        ..session("dash", "sid-dash", "auth0|apart")
    };
    store
        .insert_session(SessionKind::Dashboard, &dashboard)
        .await
        .unwrap();
    assert_eq!(
        store
            .active_session(SessionKind::Sso, "dash", T0 + 1)
            .await
            .unwrap(),
        None
    );
    assert!(!store
        .end_session(SessionKind::Sso, "dash", T0 + 1)
        .await
        .unwrap());
    assert_eq!(
        store
            .end_user_sessions(SessionKind::Sso, "auth0|apart", T0 + 1)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .active_session(SessionKind::Dashboard, "dash", T0 + 2)
            .await
            .unwrap(),
        Some(dashboard)
    );
}

fn purged(report: &gatehouse_store::PurgeReport, kind: SessionKind) -> u64 {
    match kind {
        SessionKind::Sso => report.sso_sessions,
        SessionKind::Dashboard => report.dashboard_sessions,
    }
}

async fn sessions_lifetimes_and_touch_of(store: &dyn Store, kind: SessionKind, tag: &str) {
    store
        .create_user(&user(
            &format!("auth0|{tag}s1"),
            &format!("{tag}s1@example.com"),
        ))
        .await
        .unwrap();
    let s = session("h1", "sid1", &format!("auth0|{tag}s1"));
    store.insert_session(kind, &s).await.unwrap();
    assert_conflict(store.insert_session(kind, &s).await);
    assert_eq!(
        store.active_session(kind, "h1", T0 + 1).await.unwrap(),
        Some(s.clone())
    );
    assert_eq!(
        store.active_session(kind, "nope", T0 + 1).await.unwrap(),
        None
    );
    // Idle expiry.
    assert_eq!(
        store.active_session(kind, "h1", T0 + 100).await.unwrap(),
        None
    );
    // Activity moves the idle expiry, capped at the absolute one.
    assert!(store
        .touch_session(kind, "h1", T0 + 50, T0 + 150)
        .await
        .unwrap());
    let touched = store
        .active_session(kind, "h1", T0 + 120)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.last_seen_at, T0 + 50);
    assert_eq!(touched.idle_expires_at, T0 + 150);
    assert!(store
        .touch_session(kind, "h1", T0 + 140, T0 + 5000)
        .await
        .unwrap());
    let capped = store
        .active_session(kind, "h1", T0 + 999)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(capped.idle_expires_at, T0 + 1000);
    // Absolute expiry.
    assert_eq!(
        store.active_session(kind, "h1", T0 + 1000).await.unwrap(),
        None
    );
    // A touch after expiry does not revive it.
    assert!(!store
        .touch_session(kind, "h1", T0 + 1001, T0 + 2000)
        .await
        .unwrap());
}

pub async fn sessions_end_and_cascade(store: &dyn Store) {
    sessions_end_and_cascade_of(store, SessionKind::Sso, "").await;
    sessions_end_and_cascade_of(store, SessionKind::Dashboard, "d").await;
}

async fn sessions_end_and_cascade_of(store: &dyn Store, kind: SessionKind, tag: &str) {
    store
        .create_user(&user(
            &format!("auth0|{tag}s2"),
            &format!("{tag}s2@example.com"),
        ))
        .await
        .unwrap();
    store
        .create_user(&user(
            &format!("auth0|{tag}s3"),
            &format!("{tag}s3@example.com"),
        ))
        .await
        .unwrap();
    for (h, sid, u) in [
        ("a", "sa", &format!("auth0|{tag}s2")),
        ("b", "sb", &format!("auth0|{tag}s2")),
        ("c", "sc", &format!("auth0|{tag}s3")),
    ] {
        store
            .insert_session(kind, &session(h, sid, u))
            .await
            .unwrap();
    }
    assert!(store.end_session(kind, "a", T0 + 1).await.unwrap());
    assert!(!store.end_session(kind, "a", T0 + 2).await.unwrap());
    assert_eq!(store.active_session(kind, "a", T0 + 3).await.unwrap(), None);
    assert!(!store
        .touch_session(kind, "a", T0 + 3, T0 + 90)
        .await
        .unwrap());
    assert_eq!(
        store
            .end_user_sessions(kind, &format!("auth0|{tag}s2"), T0 + 4)
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.active_session(kind, "b", T0 + 5).await.unwrap(), None);
    assert!(store
        .active_session(kind, "c", T0 + 5)
        .await
        .unwrap()
        .is_some());
    store.delete_user(&format!("auth0|{tag}s3")).await.unwrap();
    assert_eq!(store.active_session(kind, "c", T0 + 5).await.unwrap(), None);
}

/// Sessions that ran out or ended are purged once the grace hour has passed;
/// active ones and recently ended ones stay.
pub async fn sessions_purged_after_grace(store: &dyn Store) {
    sessions_purged_after_grace_of(store, SessionKind::Sso, "").await;
    sessions_purged_after_grace_of(store, SessionKind::Dashboard, "d").await;
}

async fn sessions_purged_after_grace_of(store: &dyn Store, kind: SessionKind, tag: &str) {
    store
        .create_user(&user(
            &format!("auth0|{tag}s4"),
            &format!("{tag}s4@example.com"),
        ))
        .await
        .unwrap();
    let now = T0 + 100_000;
    let live = SsoSession {
        expires_at: now + 200_000,
        idle_expires_at: now + 100_000,
        ..session("live", "s-live", &format!("auth0|{tag}s4"))
    };
    let idle_long_ago = session("idle", "s-idle", &format!("auth0|{tag}s4"));
    let ended_long_ago = SsoSession {
        expires_at: now + 1000,
        idle_expires_at: now + 100,
        ended_at: Some(T0 + 1),
        ..session("ended", "s-ended", &format!("auth0|{tag}s4"))
    };
    let ended_just_now = SsoSession {
        ended_at: Some(now - 10),
        ..live.clone()
    };
    let ended_just_now = SsoSession {
        id_hash: "recent".into(),
        sid: "s-recent".into(),
        ..ended_just_now
    };
    for s in [&live, &idle_long_ago, &ended_long_ago, &ended_just_now] {
        store.insert_session(kind, s).await.unwrap();
    }
    let report = store.purge_expired(now, 86_400 * 365, 100).await.unwrap();
    assert_eq!(purged(&report, kind), 2, "{report:?}");
    assert_eq!(
        store.active_session(kind, "live", now).await.unwrap(),
        Some(live)
    );
    let later = store
        .purge_expired(now + 3 * 3600, 86_400 * 365, 100)
        .await
        .unwrap();
    assert_eq!(
        purged(&later, kind),
        1,
        "the recently ended one, after its grace"
    );
}
