//! Leases, incremental purging of expired data, and tenant export/import.

use super::harness::T0;
use gatehouse_core::model::{
    AppType, Client, ClientGrant, Permission, ResourceServer, Role, SigningAlg, SubjectType,
    TenantSettings, User,
};
use gatehouse_store::transfer::{export, import};
use gatehouse_store::{
    AuthorizationCode, DeviceCode, DeviceRequest, DeviceStatus, LogEvent, OpaqueToken,
    RefreshFamily, Store, StoredClient, StoredKey, StoredUser,
};

pub async fn lease_is_exclusive_until_expiry(store: &dyn Store) {
    assert!(store.try_lease("purge", "node-a", T0, 60).await.unwrap());
    assert!(!store
        .try_lease("purge", "node-b", T0 + 1, 60)
        .await
        .unwrap());
    assert!(
        store
            .try_lease("purge", "node-a", T0 + 2, 60)
            .await
            .unwrap(),
        "renewal"
    );
    assert!(!store
        .try_lease("purge", "node-b", T0 + 61, 60)
        .await
        .unwrap());
    assert!(
        store
            .try_lease("purge", "node-b", T0 + 63, 60)
            .await
            .unwrap(),
        "expired lease is taken over"
    );
    assert!(
        store.try_lease("other", "node-a", T0, 60).await.unwrap(),
        "leases are per name"
    );
}

fn opaque(hash: &str, expires_at: i64) -> OpaqueToken {
    OpaqueToken {
        token_hash: hash.into(),
        client_id: "spa".into(),
        user_id: "auth0|u".into(),
        scope: "openid".into(),
        expires_at,
        jti: None,
    }
}

fn family(id: &str, expires_at: Option<i64>) -> RefreshFamily {
    RefreshFamily {
        id: id.into(),
        client_id: "spa".into(),
        user_id: "auth0|u".into(),
        audience: None,
        scope: "openid offline_access".into(),
        auth_time: T0 - 100_000,
        sid: None,
        created_at: T0 - 100_000,
        expires_at,
        revoked_at: None,
    }
}

fn log(id: &str, date: i64) -> LogEvent {
    LogEvent {
        log_id: id.into(),
        date,
        event_type: "seccft".into(),
        client_id: None,
        user_id: None,
        description: String::new(),
        details: serde_json::json!({}),
        ..LogEvent::default()
    }
}

async fn purge_all(store: &dyn Store) -> u64 {
    let mut total = 0;
    loop {
        let n = store.purge_expired(T0, 86_400, 2).await.unwrap().total();
        if n == 0 {
            return total;
        }
        total += n;
    }
}

pub async fn purge_removes_only_expired_rows(store: &dyn Store) {
    let long_ago = T0 - 10 * 86_400;
    for (i, exp) in [long_ago, long_ago, long_ago, T0 + 3600].iter().enumerate() {
        store
            .insert_opaque_token(&opaque(&format!("ot-{i}"), *exp))
            .await
            .unwrap();
    }
    let code = |expires_at| AuthorizationCode {
        actions: Default::default(),
        client_id: "spa".into(),
        user_id: "auth0|u".into(),
        redirect_uri: None,
        code_challenge: None,
        code_challenge_method: None,
        scope: "openid".into(),
        audience: None,
        resource: None,
        nonce: None,
        auth_time: T0,
        sid: None,
        require_auth_time: false,
        expires_at,
    };
    store
        .insert_authorization_code("old-code", &code(long_ago))
        .await
        .unwrap();
    // Expired a moment ago: kept for the grace period so reuse is recognised.
    store
        .insert_authorization_code("recent-code", &code(T0 - 10))
        .await
        .unwrap();
    store
        .insert_device_code(&DeviceCode {
            device_code_hash: "old-device".into(),
            user_code: "BCDF-GHJK".into(),
            client_id: "spa".into(),
            request: DeviceRequest {
                scope: "openid".into(),
                audience: None,
                interval: 5,
            },
            status: DeviceStatus::Pending,
            user_id: None,
            expires_at: long_ago,
            last_polled_at: None,
        })
        .await
        .unwrap();
    assert!(store.use_jti("c", "old-jti", long_ago).await.unwrap());
    assert!(store.use_jti("other", "old-jti", T0 + 300).await.unwrap());
    store
        .create_refresh_family(&family("expired", Some(long_ago)), "rt-expired", 200, None)
        .await
        .unwrap();
    store
        .create_refresh_family(&family("revoked", None), "rt-revoked", 200, None)
        .await
        .unwrap();
    store
        .revoke_refresh_family("revoked", long_ago)
        .await
        .unwrap();
    store
        .create_refresh_family(&family("live", None), "rt-live", 200, None)
        .await
        .unwrap();
    store
        .insert_log_event(&log("old-log", long_ago))
        .await
        .unwrap();
    store.insert_log_event(&log("new-log", T0)).await.unwrap();

    let deleted = purge_all(store).await;
    assert_eq!(
        deleted,
        3 + 1 + 1 + 1 + 2 + 1,
        "three opaque tokens, one code, one device code, one jti, two families, one log"
    );
    assert!(store.opaque_token("ot-3").await.unwrap().is_some());
    assert!(store.opaque_token("ot-0").await.unwrap().is_none());
    assert!(store.device_code("old-device").await.unwrap().is_none());
    assert!(store.refresh_token("rt-live").await.unwrap().is_some());
    assert!(
        store.refresh_token("rt-expired").await.unwrap().is_none(),
        "tokens go with their family"
    );
    assert!(store.refresh_token("rt-revoked").await.unwrap().is_none());
    assert!(
        !store.use_jti("other", "old-jti", T0 + 300).await.unwrap(),
        "another client's live jti survives"
    );
    assert!(matches!(
        store
            .redeem_authorization_code("recent-code", T0)
            .await
            .unwrap(),
        gatehouse_store::CodeRedemption::Redeemed(_)
    ));
    let logs = store
        .search_log_events(&gatehouse_store::LogQuery::all())
        .await
        .unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].log_id, "new-log");
    assert_eq!(purge_all(store).await, 0, "nothing left to purge");
}

pub async fn purge_works_in_batches(store: &dyn Store) {
    for i in 0..5 {
        store
            .insert_opaque_token(&opaque(&format!("b-{i}"), T0 - 1))
            .await
            .unwrap();
    }
    let sizes: Vec<u64> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(
                store
                    .purge_expired(T0, 86_400, 2)
                    .await
                    .unwrap()
                    .opaque_tokens,
            );
        }
        v
    };
    assert_eq!(sizes, vec![2, 2, 1, 0]);
}

async fn seed_tenant(store: &dyn Store) {
    store
        .put_tenant_settings(&TenantSettings {
            default_audience: Some("https://api.test/".into()),
            ..TenantSettings::default()
        })
        .await
        .unwrap();
    store
        .insert_signing_key(&StoredKey {
            kid: "kid-1".into(),
            alg: SigningAlg::RS256,
            state: "current".into(),
            private_key: "sealed:v1:opaque".into(),
            cert_der: vec![48, 0],
            created_at: T0,
            state_changed_at: T0,
        })
        .await
        .unwrap();
    let api = ResourceServer::new("rs_1", "API", "https://api.test/");
    store.create_resource_server(&api, T0).await.unwrap();
    let client = Client::new("client-1", "Web", AppType::RegularWeb);
    store
        .create_client(
            &StoredClient {
                client,
                secret_hash: Some("hash".into()),
            },
            T0,
        )
        .await
        .unwrap();
    store
        .create_client_grant(
            &ClientGrant {
                id: "cgr_1".into(),
                client_id: Some("client-1".into()),
                default_for: None,
                audience: "https://api.test/".into(),
                scope: vec!["read".into()],
                subject_type: SubjectType::Client,
                allow_all_scopes: false,
            },
            T0,
        )
        .await
        .unwrap();
    let perm = Permission {
        resource_server_identifier: "https://api.test/".into(),
        permission_name: "read".into(),
    };
    let role = Role {
        id: "rol_1".into(),
        name: "reader".into(),
        description: String::new(),
    };
    store.create_role(&role, T0).await.unwrap();
    store
        .add_role_permissions("rol_1", std::slice::from_ref(&perm))
        .await
        .unwrap();
    let user = User::new("auth0|abc", "a@example.com", T0);
    store
        .create_user(&StoredUser {
            user,
            password_hash: Some("$argon2id$x".into()),
        })
        .await
        .unwrap();
    store
        .assign_user_roles("auth0|abc", &["rol_1".to_string()])
        .await
        .unwrap();
    store
        .add_user_permissions("auth0|abc", &[perm])
        .await
        .unwrap();
    let action = super::actions::action("act_1", "Add roles", T0);
    store.create_action(&action).await.unwrap();
    store
        .replace_trigger_bindings(
            "post-login",
            &[gatehouse_store::ActionBinding {
                id: "bnd_1".into(),
                trigger_id: "post-login".into(),
                action_id: "act_1".into(),
                display_name: "Roles".into(),
                created_at: T0,
                updated_at: T0,
            }],
        )
        .await
        .unwrap();
}

/// Export from this backend, import into a fresh SQLite store, export again:
/// the two dumps are the same tenant.
pub async fn export_import_round_trip(store: &dyn Store) {
    seed_tenant(store).await;
    let dump = export(store).await.unwrap();
    assert_eq!(dump.users.len(), 1);
    assert_eq!(dump.users[0].role_ids, vec!["rol_1".to_string()]);
    assert_eq!(dump.signing_keys[0].kid, "kid-1");
    let dir = tempfile::tempdir().unwrap();
    let target = gatehouse_store::open(&format!("sqlite:{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let counts = import(target.as_ref(), &dump, T0).await.unwrap();
    assert_eq!(counts.users, 1);
    assert_eq!(counts.client_grants, 1);
    assert_eq!(counts.actions, 1);
    assert_eq!(
        target.action_flow("post-login").await.unwrap()[0].1.name,
        "Add roles"
    );
    let again = export(target.as_ref()).await.unwrap();
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        serde_json::to_value(&dump).unwrap()
    );
    let key = &target.signing_keys().await.unwrap()[0];
    assert_eq!(key.private_key, "sealed:v1:opaque");
    assert_eq!(
        target
            .client("client-1")
            .await
            .unwrap()
            .unwrap()
            .secret_hash
            .as_deref(),
        Some("hash")
    );
    let perms = target
        .effective_permissions("auth0|abc", "https://api.test/")
        .await
        .unwrap();
    assert_eq!(perms.len(), 1);
    assert_eq!(perms[0].sources.len(), 2, "direct and via the role");
    // Importing twice conflicts instead of duplicating.
    assert!(import(target.as_ref(), &dump, T0).await.is_err());
}

/// Brute-force reservations: of 60 concurrent attempts with a limit of 10
/// exactly 10 are reserved (numbered 1..=10), the tenth blocks the pair in
/// the same statement, the block ends on time, a success or an admin clears
/// it, the purge forgets it.
pub async fn login_attempt_reservations(store: &std::sync::Arc<dyn Store>) {
    let until = T0 + 1000;
    let mut tasks = Vec::new();
    for _ in 0..60 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .reserve_login_attempt("10.0.0.1", "alice", T0, 10, until)
                .await
                .unwrap()
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.extend(task.await.unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (1..=10).collect::<Vec<i64>>(),
        "never more reservations than the limit"
    );
    assert_eq!(
        store
            .reserve_login_attempt("10.0.0.1", "alice", T0 + 1, 10, until)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .reserve_login_attempt("10.0.0.2", "alice", T0, 10, until)
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        store.login_blocks("alice", T0).await.unwrap(),
        vec!["10.0.0.1".to_string()],
        "the last reservation blocked the pair, outcome or not"
    );
    assert!(store.login_blocks("alice", until).await.unwrap().is_empty());
    // A block that ended is forgotten: the count starts again.
    assert_eq!(
        store
            .reserve_login_attempt("10.0.0.1", "alice", until, 2, until + 1000)
            .await
            .unwrap(),
        Some(1)
    );
    // A success clears the pair.
    store
        .clear_login_failures("10.0.0.1", "alice")
        .await
        .unwrap();
    for number in 1..=2 {
        assert_eq!(
            store
                .reserve_login_attempt("10.0.0.1", "alice", until, 2, until + 1000)
                .await
                .unwrap(),
            Some(number)
        );
    }
    assert_eq!(
        store.login_blocks("alice", until).await.unwrap(),
        vec!["10.0.0.1".to_string()]
    );
    assert_eq!(
        store
            .reserve_login_attempt("10.0.0.1", "alice", until, 2, until + 1000)
            .await
            .unwrap(),
        None
    );
    // A success at the limit clears the block it started.
    store
        .clear_login_failures("10.0.0.1", "alice")
        .await
        .unwrap();
    assert!(store.login_blocks("alice", until).await.unwrap().is_empty());
    for _ in 0..2 {
        store
            .reserve_login_attempt("10.0.0.1", "alice", until, 2, until + 1000)
            .await
            .unwrap();
    }
    // An admin (or a password change) removes every block of the identifier.
    assert_eq!(store.clear_login_blocks("alice").await.unwrap(), 2);
    assert!(store.login_blocks("alice", until).await.unwrap().is_empty());
    assert_eq!(
        store
            .reserve_login_attempt("10.0.0.1", "alice", until, 2, until + 1000)
            .await
            .unwrap(),
        Some(1)
    );
    // A limit of one: the first reservation blocks.
    assert_eq!(
        store
            .reserve_login_attempt("10.0.0.3", "bob", T0, 1, T0 + 10)
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        store.login_blocks("bob", T0).await.unwrap(),
        vec!["10.0.0.3".to_string()]
    );
    let report = store.purge_expired(T0 + 11, 86_400, 100).await.unwrap();
    assert_eq!(report.login_failures, 1, "bob's ended block");
    let report = store
        .purge_expired(until + 86_401, 86_400, 100)
        .await
        .unwrap();
    assert_eq!(
        report.login_failures, 1,
        "a counter untouched for a day is forgotten"
    );
}

/// Rate-limit reservations: of 40 concurrent reservations with a limit of
/// 10 exactly 10 are counted, a full window refuses without counting, a
/// release gives one back (never below zero), the next window starts empty.
pub async fn rate_limit_reservations(store: &std::sync::Arc<dyn Store>) {
    let start = T0 - T0.rem_euclid(60);
    let now = start + 5;
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .reserve_rate_limit("auth-ip:10.0.0.9", now, 60, 10)
                .await
                .unwrap()
        }));
    }
    let mut hits = Vec::new();
    for task in tasks {
        if let Some(window) = task.await.unwrap() {
            assert_eq!(window.resets_at, start + 60);
            hits.push(window.hits);
        }
    }
    hits.sort_unstable();
    assert_eq!(hits, (1..=10).collect::<Vec<i64>>(), "never past the limit");
    let seen = store
        .rate_limit_hits("auth-ip:10.0.0.9", now, 60)
        .await
        .unwrap();
    assert_eq!(seen.hits, 10, "refusals count nothing");
    store
        .release_rate_limit("auth-ip:10.0.0.9", now, 60)
        .await
        .unwrap();
    let again = store
        .reserve_rate_limit("auth-ip:10.0.0.9", now, 60, 10)
        .await
        .unwrap()
        .expect("a released hit can be reserved again");
    assert_eq!(again.hits, 10);
    assert_eq!(
        store
            .reserve_rate_limit("auth-ip:10.0.0.9", start + 60, 60, 10)
            .await
            .unwrap()
            .map(|w| (w.hits, w.resets_at)),
        Some((1, start + 120)),
        "the next window starts empty"
    );
    // A release after the window ended leaves the new window alone; a
    // release of an empty key stays at zero.
    store
        .release_rate_limit("auth-ip:10.0.0.9", now, 60)
        .await
        .unwrap();
    assert_eq!(
        store
            .rate_limit_hits("auth-ip:10.0.0.9", start + 60, 60)
            .await
            .unwrap()
            .hits,
        1
    );
    for _ in 0..2 {
        store
            .release_rate_limit("auth-ip:10.0.0.9", start + 60, 60)
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .rate_limit_hits("auth-ip:10.0.0.9", start + 60, 60)
            .await
            .unwrap()
            .hits,
        0
    );
}

/// Rate-limit windows: concurrent hits are each counted once, a window
/// resets when it ends, keys are independent, old windows are purged.
pub async fn rate_limit_windows(store: &std::sync::Arc<dyn Store>) {
    let start = T0 - T0.rem_euclid(60);
    let now = start + 5;
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.hit_rate_limit("ip:10.0.0.1", now, 60).await.unwrap()
        }));
    }
    let mut hits = Vec::new();
    for task in tasks {
        let window = task.await.unwrap();
        assert_eq!(window.resets_at, start + 60);
        hits.push(window.hits);
    }
    hits.sort_unstable();
    assert_eq!(
        hits,
        (1..=40).collect::<Vec<i64>>(),
        "every hit counted once"
    );
    let seen = store
        .rate_limit_hits("ip:10.0.0.1", now + 50, 60)
        .await
        .unwrap();
    assert_eq!(seen.hits, 40);
    assert_eq!(seen.resets_at, start + 60);
    assert_eq!(
        store
            .rate_limit_hits("ip:10.0.0.2", now, 60)
            .await
            .unwrap()
            .hits,
        0
    );
    assert_eq!(
        store
            .rate_limit_hits("ip:10.0.0.1", start + 60, 60)
            .await
            .unwrap(),
        gatehouse_store::RateWindow {
            hits: 0,
            resets_at: start + 120
        },
        "the next window starts empty"
    );
    assert_eq!(
        store
            .hit_rate_limit("ip:10.0.0.1", start + 61, 60)
            .await
            .unwrap()
            .hits,
        1
    );
    let report = store
        .purge_expired(start + 86_400 + 120, 86_400, 100)
        .await
        .unwrap();
    assert_eq!(report.rate_limits, 1);
}
