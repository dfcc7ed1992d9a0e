//! Users, roles, permissions and consents.

use super::config::api;
use super::harness::{assert_conflict, assert_not_found, T0};
use gatehouse_core::model::{
    EffectivePermission, Permission, PermissionSource, Role, User, DEFAULT_CONNECTION,
};
use gatehouse_store::{Page, Store, StoredUser};
use std::sync::Arc;
use tokio::sync::Barrier;

/// How many tasks race in the concurrent checks.
pub const RACERS: usize = 16;

pub fn user(id: &str, email: &str) -> StoredUser {
    StoredUser {
        user: User::new(id, email, T0),
        password_hash: Some(format!("$argon2id$v=19$m=19456,t=2,p=1${id}")),
    }
}

fn role(id: &str, name: &str) -> Role {
    Role {
        id: id.into(),
        name: name.into(),
        description: format!("the {name} role"),
    }
}

fn perm(audience: &str, name: &str) -> Permission {
    Permission {
        resource_server_identifier: audience.into(),
        permission_name: name.into(),
    }
}

fn role_names(roles: &[Role]) -> Vec<&str> {
    roles.iter().map(|r| r.name.as_str()).collect()
}

pub async fn users_crud(store: &dyn Store) {
    let mut alice = user("auth0|alice", "Alice@Example.COM");
    alice.user.user_metadata = serde_json::json!({"theme": "dark"});
    alice.user.app_metadata = serde_json::json!({"plan": {"tier": 2}});
    store.create_user(&alice).await.unwrap();
    let mut bob = user("auth0|bob", "bob@example.com");
    bob.password_hash = None;
    bob.user.created_at = T0 + 1;
    bob.user.updated_at = T0 + 1;
    store.create_user(&bob).await.unwrap();

    let got = store.user("auth0|alice").await.unwrap().expect("alice");
    assert_eq!(got.user, alice.user);
    assert_eq!(got.password_hash, alice.password_hash);
    assert_eq!(
        store
            .user("auth0|bob")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        None
    );
    assert!(store.user("auth0|nobody").await.unwrap().is_none());

    // Email lookup ignores case and is scoped to the connection.
    let by_email = store
        .user_by_email(DEFAULT_CONNECTION, "alice@example.com")
        .await
        .unwrap()
        .expect("alice by email");
    assert_eq!(by_email.user.user_id, "auth0|alice");
    // The email is stored as given.
    assert_eq!(by_email.user.email.as_deref(), Some("Alice@Example.COM"));
    assert!(store
        .user_by_email(DEFAULT_CONNECTION, "ALICE@EXAMPLE.com")
        .await
        .unwrap()
        .is_some());
    assert!(store
        .user_by_email("other-connection", "alice@example.com")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .user_by_email(DEFAULT_CONNECTION, "carol@example.com")
        .await
        .unwrap()
        .is_none());

    let mut updated = alice.clone();
    updated.user.email = Some("alice.new@example.com".into());
    updated.user.email_verified = true;
    updated.user.name = Some("Alice N.".into());
    updated.user.blocked = true;
    updated.user.updated_at = T0 + 50;
    updated.password_hash = Some("$argon2id$new".into());
    store.update_user(&updated).await.unwrap();
    let got = store.user("auth0|alice").await.unwrap().unwrap();
    assert_eq!(got.user, updated.user);
    assert_eq!(got.password_hash.as_deref(), Some("$argon2id$new"));
    assert!(store
        .user_by_email(DEFAULT_CONNECTION, "alice@example.com")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store
            .user_by_email(DEFAULT_CONNECTION, "ALICE.NEW@example.com")
            .await
            .unwrap()
            .map(|u| u.user.user_id),
        Some("auth0|alice".to_string())
    );

    assert_not_found(
        store
            .update_user(&user("auth0|ghost", "g@example.com"))
            .await,
    );
    assert!(store.user("auth0|ghost").await.unwrap().is_none());

    let ids = |users: Vec<StoredUser>| {
        users
            .into_iter()
            .map(|u| u.user.user_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.users(Page::ALL).await.unwrap()),
        ["auth0|alice", "auth0|bob"]
    );
    assert_eq!(
        ids(store
            .users(Page {
                offset: 1,
                limit: 1
            })
            .await
            .unwrap()),
        ["auth0|bob"]
    );

    store.delete_user("auth0|alice").await.unwrap();
    assert!(store.user("auth0|alice").await.unwrap().is_none());
    assert!(store
        .user_by_email(DEFAULT_CONNECTION, "alice.new@example.com")
        .await
        .unwrap()
        .is_none());
    assert_not_found(store.delete_user("auth0|alice").await);
    assert_eq!(ids(store.users(Page::ALL).await.unwrap()), ["auth0|bob"]);
}

pub async fn users_email_uniqueness(store: &dyn Store) {
    store
        .create_user(&user("auth0|1", "Dana@example.com"))
        .await
        .unwrap();

    // Same email, other case, same connection.
    assert_conflict(
        store
            .create_user(&user("auth0|2", "dana@EXAMPLE.com"))
            .await,
    );
    assert!(store.user("auth0|2").await.unwrap().is_none());
    // Same user id.
    assert_conflict(
        store
            .create_user(&user("auth0|1", "other@example.com"))
            .await,
    );

    // The same email in another connection is another user.
    let mut elsewhere = user("other|2", "dana@example.com");
    elsewhere.user.connection = "other-connection".into();
    store.create_user(&elsewhere).await.unwrap();
    assert_eq!(
        store
            .user_by_email("other-connection", "DANA@example.com")
            .await
            .unwrap()
            .map(|u| u.user.user_id),
        Some("other|2".to_string())
    );
    assert_eq!(
        store
            .user_by_email(DEFAULT_CONNECTION, "DANA@example.com")
            .await
            .unwrap()
            .map(|u| u.user.user_id),
        Some("auth0|1".to_string())
    );

    // Changing an email to one taken in the same connection conflicts too.
    store
        .create_user(&user("auth0|3", "erin@example.com"))
        .await
        .unwrap();
    let mut taken = store.user("auth0|3").await.unwrap().unwrap();
    taken.user.email = Some("DANA@example.com".into());
    assert_conflict(store.update_user(&taken).await);
    assert_eq!(
        store
            .user("auth0|3")
            .await
            .unwrap()
            .unwrap()
            .user
            .email
            .as_deref(),
        Some("erin@example.com")
    );

    // Users without an email do not collide with each other.
    let mut no_email_1 = user("sms|1", "x@example.com");
    no_email_1.user.email = None;
    let mut no_email_2 = user("sms|2", "x@example.com");
    no_email_2.user.email = None;
    store.create_user(&no_email_1).await.unwrap();
    store.create_user(&no_email_2).await.unwrap();
}

pub async fn record_login_counts(store: &dyn Store) {
    store
        .create_user(&user("auth0|frank", "frank@example.com"))
        .await
        .unwrap();
    let before = store.user("auth0|frank").await.unwrap().unwrap().user;
    assert_eq!(before.logins_count, 0);
    assert_eq!(before.last_login, None);

    store.record_login("auth0|frank", T0 + 10).await.unwrap();
    let after = store.user("auth0|frank").await.unwrap().unwrap().user;
    assert_eq!(after.logins_count, 1);
    assert_eq!(after.last_login, Some(T0 + 10));

    store.record_login("auth0|frank", T0 + 20).await.unwrap();
    let after = store.user("auth0|frank").await.unwrap().unwrap().user;
    assert_eq!(after.logins_count, 2);
    assert_eq!(after.last_login, Some(T0 + 20));
    // Nothing else changed.
    assert_eq!(
        User {
            logins_count: 0,
            last_login: None,
            ..after
        },
        before
    );

    assert_not_found(store.record_login("auth0|ghost", T0).await);
}

pub async fn record_login_concurrent(store: &Arc<dyn Store>) {
    store
        .create_user(&user("auth0|gil", "gil@example.com"))
        .await
        .unwrap();
    let barrier = Arc::new(Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let store = Arc::clone(store);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                store.record_login("auth0|gil", T0 + i as i64).await
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("record_login");
    }
    // No login is lost to a concurrent one.
    let user = store.user("auth0|gil").await.unwrap().unwrap().user;
    assert_eq!(user.logins_count, RACERS as i64);
    assert!(user.last_login.is_some());
}

pub async fn roles_crud(store: &dyn Store) {
    let reader = role("rol_reader", "reader");
    let admin = role("rol_admin", "admin");
    store.create_role(&reader, T0).await.unwrap();
    store.create_role(&admin, T0 + 1).await.unwrap();

    assert_eq!(
        store.role("rol_reader").await.unwrap(),
        Some(reader.clone())
    );
    assert!(store.role("rol_missing").await.unwrap().is_none());
    // Listed by name.
    assert_eq!(
        role_names(&store.roles(Page::ALL).await.unwrap()),
        ["admin", "reader"]
    );
    assert_eq!(
        role_names(
            &store
                .roles(Page {
                    offset: 1,
                    limit: 10
                })
                .await
                .unwrap()
        ),
        ["reader"]
    );

    // Role names are unique.
    assert_conflict(store.create_role(&role("rol_other", "reader"), T0).await);
    assert_conflict(store.create_role(&role("rol_reader", "other"), T0).await);

    let renamed = Role {
        name: "viewer".into(),
        description: "reads things".into(),
        ..reader.clone()
    };
    store.update_role(&renamed).await.unwrap();
    assert_eq!(store.role("rol_reader").await.unwrap(), Some(renamed));
    assert_conflict(
        store
            .update_role(&Role {
                name: "admin".into(),
                ..reader.clone()
            })
            .await,
    );
    assert_not_found(store.update_role(&role("rol_missing", "ghost")).await);

    store.delete_role("rol_admin").await.unwrap();
    assert!(store.role("rol_admin").await.unwrap().is_none());
    assert_not_found(store.delete_role("rol_admin").await);
    assert_eq!(
        role_names(&store.roles(Page::ALL).await.unwrap()),
        ["viewer"]
    );
}

pub async fn role_and_user_permissions(store: &dyn Store) {
    let aud = "https://docs.test";
    store
        .create_resource_server(&api("rs-docs", aud, &["read", "write", "delete"]), T0)
        .await
        .unwrap();
    store
        .create_user(&user("auth0|gina", "gina@example.com"))
        .await
        .unwrap();
    store
        .create_role(&role("rol_w", "writer"), T0)
        .await
        .unwrap();
    store
        .create_role(&role("rol_r", "reader"), T0)
        .await
        .unwrap();

    // Role permissions: adding twice is harmless; listing is sorted.
    store
        .add_role_permissions("rol_w", &[perm(aud, "write"), perm(aud, "read")])
        .await
        .unwrap();
    store
        .add_role_permissions("rol_w", &[perm(aud, "read")])
        .await
        .unwrap();
    assert_eq!(
        store.role_permissions("rol_w").await.unwrap(),
        [perm(aud, "read"), perm(aud, "write")]
    );
    store
        .remove_role_permissions("rol_w", &[perm(aud, "read")])
        .await
        .unwrap();
    assert_eq!(
        store.role_permissions("rol_w").await.unwrap(),
        [perm(aud, "write")]
    );
    assert!(store.role_permissions("rol_r").await.unwrap().is_empty());

    // User roles.
    let ids = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    store
        .assign_user_roles("auth0|gina", &ids(&["rol_w", "rol_r"]))
        .await
        .unwrap();
    store
        .assign_user_roles("auth0|gina", &ids(&["rol_w"]))
        .await
        .unwrap();
    assert_eq!(
        role_names(&store.user_roles("auth0|gina").await.unwrap()),
        ["reader", "writer"]
    );
    store
        .remove_user_roles("auth0|gina", &ids(&["rol_r"]))
        .await
        .unwrap();
    assert_eq!(
        store.user_roles("auth0|gina").await.unwrap(),
        [role("rol_w", "writer")]
    );

    // Direct permissions.
    store
        .add_user_permissions("auth0|gina", &[perm(aud, "delete"), perm(aud, "read")])
        .await
        .unwrap();
    store
        .add_user_permissions("auth0|gina", &[perm(aud, "read")])
        .await
        .unwrap();
    assert_eq!(
        store.user_direct_permissions("auth0|gina").await.unwrap(),
        [perm(aud, "delete"), perm(aud, "read")]
    );
    store
        .remove_user_permissions("auth0|gina", &[perm(aud, "delete")])
        .await
        .unwrap();
    assert_eq!(
        store.user_direct_permissions("auth0|gina").await.unwrap(),
        [perm(aud, "read")]
    );

    // Deleting a role drops its assignments.
    store.delete_role("rol_w").await.unwrap();
    assert!(store.user_roles("auth0|gina").await.unwrap().is_empty());
    assert!(store.role_permissions("rol_w").await.unwrap().is_empty());
}

fn sources_of<'a>(perms: &'a [EffectivePermission], name: &str) -> &'a [PermissionSource] {
    &perms
        .iter()
        .find(|p| p.permission_name == name)
        .unwrap_or_else(|| panic!("no effective permission {name} in {perms:?}"))
        .sources
}

pub async fn effective_permissions_merge_sources(store: &dyn Store) {
    let aud = "https://crm.test";
    let other = "https://billing.test";
    store
        .create_resource_server(&api("rs-crm", aud, &["read", "write", "export"]), T0)
        .await
        .unwrap();
    store
        .create_resource_server(&api("rs-billing", other, &["read"]), T0)
        .await
        .unwrap();
    store
        .create_user(&user("auth0|hal", "hal@example.com"))
        .await
        .unwrap();
    store
        .create_role(&role("rol_editor", "editor"), T0)
        .await
        .unwrap();
    store
        .create_role(&role("rol_unused", "unused"), T0)
        .await
        .unwrap();
    store
        .add_role_permissions(
            "rol_editor",
            &[perm(aud, "read"), perm(aud, "write"), perm(other, "read")],
        )
        .await
        .unwrap();
    store
        .add_role_permissions("rol_unused", &[perm(aud, "export")])
        .await
        .unwrap();
    store
        .assign_user_roles("auth0|hal", &["rol_editor".to_string()])
        .await
        .unwrap();
    store
        .add_user_permissions("auth0|hal", &[perm(aud, "read"), perm(other, "read")])
        .await
        .unwrap();

    let effective = store.effective_permissions("auth0|hal", aud).await.unwrap();
    let names: Vec<&str> = effective
        .iter()
        .map(|p| p.permission_name.as_str())
        .collect();
    assert_eq!(names, ["read", "write"], "{effective:?}");
    let editor = PermissionSource::Role {
        role_id: "rol_editor".into(),
        role_name: "editor".into(),
    };
    // Direct and via a role: one entry, two sources.
    let read = sources_of(&effective, "read");
    assert_eq!(read.len(), 2, "{read:?}");
    assert!(read.contains(&PermissionSource::Direct), "{read:?}");
    assert!(read.contains(&editor), "{read:?}");
    assert_eq!(sources_of(&effective, "write"), [editor]);

    // Another API sees only its own permissions.
    let billing = store
        .effective_permissions("auth0|hal", other)
        .await
        .unwrap();
    assert_eq!(billing.len(), 1);
    assert_eq!(billing[0].permission_name, "read");
    assert_eq!(billing[0].sources.len(), 2);

    assert!(store
        .effective_permissions("auth0|hal", "https://none.test")
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .effective_permissions("auth0|nobody", aud)
        .await
        .unwrap()
        .is_empty());

    // Without the role, only the direct grant remains.
    store
        .remove_user_roles("auth0|hal", &["rol_editor".to_string()])
        .await
        .unwrap();
    assert_eq!(
        store.effective_permissions("auth0|hal", aud).await.unwrap(),
        [EffectivePermission {
            permission_name: "read".into(),
            sources: vec![PermissionSource::Direct],
        }]
    );
}

pub async fn roles_granting_scopes(store: &dyn Store) {
    let aud = "https://wiki.test";
    let other = "https://other.test";
    store
        .create_resource_server(&api("rs-wiki", aud, &["read", "write", "admin"]), T0)
        .await
        .unwrap();
    store
        .create_resource_server(&api("rs-other", other, &["admin"]), T0)
        .await
        .unwrap();
    store
        .create_role(&role("rol_w", "writer"), T0)
        .await
        .unwrap();
    store
        .create_role(&role("rol_e", "editor"), T0)
        .await
        .unwrap();
    store
        .create_role(&role("rol_o", "owner"), T0)
        .await
        .unwrap();
    store
        .add_role_permissions("rol_w", &[perm(aud, "write"), perm(aud, "read")])
        .await
        .unwrap();
    store
        .add_role_permissions("rol_e", &[perm(aud, "write")])
        .await
        .unwrap();
    store
        .add_role_permissions("rol_o", &[perm(other, "admin")])
        .await
        .unwrap();

    let scopes: Vec<String> = ["write", "admin", "read", "missing"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let granting = store.roles_granting(aud, &scopes).await.unwrap();
    // In the order asked, scopes no role grants left out, role names sorted.
    assert_eq!(
        granting,
        [
            (
                "write".to_string(),
                vec!["editor".to_string(), "writer".to_string()]
            ),
            ("read".to_string(), vec!["writer".to_string()]),
        ]
    );
    assert_eq!(
        store.roles_granting(other, &scopes).await.unwrap(),
        [("admin".to_string(), vec!["owner".to_string()])]
    );
    assert!(store.roles_granting(aud, &[]).await.unwrap().is_empty());
}

pub async fn consents_put_get_overwrite(store: &dyn Store) {
    store
        .create_user(&user("auth0|ivy", "ivy@example.com"))
        .await
        .unwrap();
    let aud = "https://api.test";
    assert!(store
        .consent("auth0|ivy", "app", aud)
        .await
        .unwrap()
        .is_none());

    store
        .put_consent("auth0|ivy", "app", aud, "openid read", T0)
        .await
        .unwrap();
    assert_eq!(
        store
            .consent("auth0|ivy", "app", aud)
            .await
            .unwrap()
            .as_deref(),
        Some("openid read")
    );

    store
        .put_consent("auth0|ivy", "app", aud, "openid read write", T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        store
            .consent("auth0|ivy", "app", aud)
            .await
            .unwrap()
            .as_deref(),
        Some("openid read write")
    );

    // Keyed by user, client and audience.
    assert!(store
        .consent("auth0|ivy", "other-app", aud)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .consent("auth0|ivy", "app", "https://other.test")
        .await
        .unwrap()
        .is_none());
    store
        .put_consent("auth0|ivy", "app", "https://other.test", "openid", T0 + 2)
        .await
        .unwrap();
    assert_eq!(
        store
            .consent("auth0|ivy", "app", aud)
            .await
            .unwrap()
            .as_deref(),
        Some("openid read write")
    );
}

/// `role_users`: the holders of a role, oldest first, paged; empty for an
/// unknown role; a deleted user leaves the list.
pub async fn role_users_lists_holders(store: &dyn Store) {
    let reader = role("rol_reader", "reader");
    store.create_role(&reader, T0).await.unwrap();
    let mut ids = Vec::new();
    for (i, email) in ["a@example.com", "b@example.com", "c@example.com"]
        .iter()
        .enumerate()
    {
        let mut u = user(&format!("auth0|{i:024}"), email);
        u.user.created_at = T0 + i as i64;
        store.create_user(&u).await.unwrap();
        ids.push(u.user.user_id.clone());
    }
    store
        .assign_user_roles(&ids[2], std::slice::from_ref(&reader.id))
        .await
        .unwrap();
    store
        .assign_user_roles(&ids[0], std::slice::from_ref(&reader.id))
        .await
        .unwrap();
    let holders = store.role_users("rol_reader", Page::ALL).await.unwrap();
    let got: Vec<&str> = holders.iter().map(|u| u.user.user_id.as_str()).collect();
    assert_eq!(got, [ids[0].as_str(), ids[2].as_str()]);
    let second = store
        .role_users(
            "rol_reader",
            Page {
                offset: 1,
                limit: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].user.user_id, ids[2]);
    assert!(store
        .role_users("rol_missing", Page::ALL)
        .await
        .unwrap()
        .is_empty());
    store.delete_user(&ids[0]).await.unwrap();
    let holders = store.role_users("rol_reader", Page::ALL).await.unwrap();
    assert_eq!(holders.len(), 1);
}
