//! SSO sessions: lookup only while active, idle and absolute lifetimes,
//! touch never reviving or extending past the absolute expiry, logout,
//! ending all of a user's sessions, and cascade on user deletion.

use super::directory::user;
use super::harness::{assert_conflict, T0};
use gatehouse_store::{SsoSession, Store};

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
    store
        .create_user(&user("auth0|s1", "s1@example.com"))
        .await
        .unwrap();
    let s = session("h1", "sid1", "auth0|s1");
    store.insert_session(&s).await.unwrap();
    assert_conflict(store.insert_session(&s).await);
    assert_eq!(
        store.active_session("h1", T0 + 1).await.unwrap(),
        Some(s.clone())
    );
    assert_eq!(store.active_session("nope", T0 + 1).await.unwrap(), None);
    // Idle expiry.
    assert_eq!(store.active_session("h1", T0 + 100).await.unwrap(), None);
    // Activity moves the idle expiry, capped at the absolute one.
    assert!(store.touch_session("h1", T0 + 50, T0 + 150).await.unwrap());
    let touched = store.active_session("h1", T0 + 120).await.unwrap().unwrap();
    assert_eq!(touched.last_seen_at, T0 + 50);
    assert_eq!(touched.idle_expires_at, T0 + 150);
    assert!(store
        .touch_session("h1", T0 + 140, T0 + 5000)
        .await
        .unwrap());
    let capped = store.active_session("h1", T0 + 999).await.unwrap().unwrap();
    assert_eq!(capped.idle_expires_at, T0 + 1000);
    // Absolute expiry.
    assert_eq!(store.active_session("h1", T0 + 1000).await.unwrap(), None);
    // A touch after expiry does not revive it.
    assert!(!store
        .touch_session("h1", T0 + 1001, T0 + 2000)
        .await
        .unwrap());
}

pub async fn sessions_end_and_cascade(store: &dyn Store) {
    store
        .create_user(&user("auth0|s2", "s2@example.com"))
        .await
        .unwrap();
    store
        .create_user(&user("auth0|s3", "s3@example.com"))
        .await
        .unwrap();
    for (h, sid, u) in [
        ("a", "sa", "auth0|s2"),
        ("b", "sb", "auth0|s2"),
        ("c", "sc", "auth0|s3"),
    ] {
        store.insert_session(&session(h, sid, u)).await.unwrap();
    }
    assert!(store.end_session("a", T0 + 1).await.unwrap());
    assert!(!store.end_session("a", T0 + 2).await.unwrap());
    assert_eq!(store.active_session("a", T0 + 3).await.unwrap(), None);
    assert!(!store.touch_session("a", T0 + 3, T0 + 90).await.unwrap());
    assert_eq!(
        store.end_user_sessions("auth0|s2", T0 + 4).await.unwrap(),
        1
    );
    assert_eq!(store.active_session("b", T0 + 5).await.unwrap(), None);
    assert!(store.active_session("c", T0 + 5).await.unwrap().is_some());
    store.delete_user("auth0|s3").await.unwrap();
    assert_eq!(store.active_session("c", T0 + 5).await.unwrap(), None);
}

/// Sessions that ran out or ended are purged once the grace hour has passed;
/// active ones and recently ended ones stay.
pub async fn sessions_purged_after_grace(store: &dyn Store) {
    store
        .create_user(&user("auth0|s4", "s4@example.com"))
        .await
        .unwrap();
    let now = T0 + 100_000;
    let live = SsoSession {
        expires_at: now + 200_000,
        idle_expires_at: now + 100_000,
        ..session("live", "s-live", "auth0|s4")
    };
    let idle_long_ago = session("idle", "s-idle", "auth0|s4");
    let ended_long_ago = SsoSession {
        expires_at: now + 1000,
        idle_expires_at: now + 100,
        ended_at: Some(T0 + 1),
        ..session("ended", "s-ended", "auth0|s4")
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
        store.insert_session(s).await.unwrap();
    }
    let report = store.purge_expired(now, 86_400 * 365, 100).await.unwrap();
    assert_eq!(report.sso_sessions, 2, "{report:?}");
    assert_eq!(store.active_session("live", now).await.unwrap(), Some(live));
    let later = store
        .purge_expired(now + 3 * 3600, 86_400 * 365, 100)
        .await
        .unwrap();
    assert_eq!(
        later.sso_sessions, 1,
        "the recently ended one, after its grace"
    );
}
