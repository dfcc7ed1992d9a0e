//! Tenant settings, signing keys, clients, resource servers and client grants.

use super::harness::{assert_conflict, assert_not_found, T0};
use gatehouse_core::model::{
    AppType, Client, ClientGrant, ResourceServer, ScopeDefinition, SigningAlg, SubjectType,
    TenantSettings, TokenDialect,
};
use gatehouse_store::{Page, Store, StoredClient, StoredKey};

pub fn client(id: &str, app_type: AppType) -> StoredClient {
    StoredClient {
        client: Client::new(id, format!("App {id}"), app_type),
        secret_hash: Some(format!("sha256-of-{id}")),
    }
}

pub fn api(id: &str, identifier: &str, scopes: &[&str]) -> ResourceServer {
    let mut api = ResourceServer::new(id, format!("API {id}"), identifier);
    api.scopes = scopes
        .iter()
        .map(|s| ScopeDefinition {
            value: s.to_string(),
            description: format!("{s} things"),
        })
        .collect();
    api
}

pub fn grant(id: &str, client_id: &str, audience: &str, scope: &[&str]) -> ClientGrant {
    ClientGrant {
        id: id.into(),
        client_id: Some(client_id.into()),
        default_for: None,
        audience: audience.into(),
        scope: scope.iter().map(|s| s.to_string()).collect(),
        subject_type: SubjectType::Client,
        allow_all_scopes: false,
    }
}

fn client_ids(clients: &[StoredClient]) -> Vec<&str> {
    clients
        .iter()
        .map(|c| c.client.client_id.as_str())
        .collect()
}

fn grant_ids(grants: &[ClientGrant]) -> Vec<&str> {
    grants.iter().map(|g| g.id.as_str()).collect()
}

pub async fn ping_and_backend_name(store: &dyn Store) {
    store.ping().await.expect("ping");
    assert!(
        matches!(store.backend_name(), "sqlite" | "postgres"),
        "backend_name {}",
        store.backend_name()
    );
}

pub async fn server_values_first_writer_wins(store: &dyn Store) {
    assert_eq!(store.server_value("k").await.unwrap(), None);
    assert_eq!(
        store.server_value_or_insert("k", "one").await.unwrap(),
        "one"
    );
    assert_eq!(
        store.server_value_or_insert("k", "two").await.unwrap(),
        "one"
    );
    store.put_server_value("k", "three").await.unwrap();
    assert_eq!(
        store.server_value("k").await.unwrap().as_deref(),
        Some("three")
    );
    store.put_server_value("other", "x").await.unwrap();
    assert_eq!(
        store.server_value("k").await.unwrap().as_deref(),
        Some("three")
    );
}

pub async fn tenant_settings_default_then_round_trip(store: &dyn Store) {
    assert_eq!(
        store.tenant_settings().await.unwrap(),
        TenantSettings::default()
    );

    let settings = TenantSettings {
        friendly_name: "Acme".into(),
        default_audience: Some("https://api.acme.test".into()),
        infer_audience_from_scope: true,
        default_directory: "acme-users".into(),
        session_lifetime: 12,
        idle_session_lifetime: 3,
        allowed_logout_urls: vec!["https://acme.test/bye".into()],
        brute_force_protection: gatehouse_core::model::BruteForceProtection {
            enabled: false,
            max_attempts: 3,
        },
        rate_limits: gatehouse_core::model::RateLimits {
            enabled: false,
            window_seconds: 300,
            failed_logins_per_ip: 7,
            failed_logins_per_account: 6,
            signups_per_ip: 5,
            management_requests_per_client: 4,
            emails_per_ip: 3,
            emails_per_address: 2,
        },
        flags: gatehouse_core::model::TenantFlags {
            rp_logout_end_session_endpoint_discovery: true,
            enable_public_signup_user_exists_error: true,
        },
    };
    store.put_tenant_settings(&settings).await.unwrap();
    assert_eq!(store.tenant_settings().await.unwrap(), settings);

    let changed = TenantSettings {
        friendly_name: "Acme 2".into(),
        default_audience: None,
        ..settings
    };
    store.put_tenant_settings(&changed).await.unwrap();
    assert_eq!(store.tenant_settings().await.unwrap(), changed);
}

fn key(kid: &str, alg: SigningAlg, state: &str, created_at: i64) -> StoredKey {
    StoredKey {
        kid: kid.into(),
        alg,
        state: state.into(),
        private_key: format!("sealed:v1:{kid}-opaque_text-"),
        cert_der: (0..=255u8).collect(),
        created_at,
        state_changed_at: created_at,
    }
}

fn assert_key_eq(actual: &StoredKey, expected: &StoredKey) {
    assert_eq!(actual.kid, expected.kid);
    assert_eq!(actual.alg, expected.alg);
    assert_eq!(actual.state, expected.state);
    assert_eq!(actual.private_key, expected.private_key);
    assert_eq!(actual.cert_der, expected.cert_der);
    assert_eq!(actual.created_at, expected.created_at);
    assert_eq!(actual.state_changed_at, expected.state_changed_at);
}

pub async fn signing_keys_insert_list_state(store: &dyn Store) {
    assert!(store.signing_keys().await.unwrap().is_empty());

    let next = key("kid-next", SigningAlg::ES256, "next", T0 + 1);
    let current = key("kid-current", SigningAlg::RS256, "current", T0);
    store.insert_signing_key(&next).await.unwrap();
    store.insert_signing_key(&current).await.unwrap();

    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys.len(), 2);
    // Oldest first.
    assert_key_eq(&keys[0], &current);
    assert_key_eq(&keys[1], &next);

    assert_conflict(
        store
            .insert_signing_key(&key("kid-next", SigningAlg::EdDSA, "next", T0 + 2))
            .await,
    );

    store
        .set_signing_key_state("kid-current", "previous", T0 + 100)
        .await
        .unwrap();
    store
        .set_signing_key_state("kid-next", "current", T0 + 100)
        .await
        .unwrap();
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys[0].kid, "kid-current");
    assert_eq!(keys[0].state, "previous");
    assert_eq!(keys[0].state_changed_at, T0 + 100);
    assert_eq!(keys[0].created_at, T0);
    assert_eq!(keys[1].state, "current");
    assert_eq!(keys[1].alg, SigningAlg::ES256);

    assert_not_found(
        store
            .set_signing_key_state("kid-missing", "revoked", T0)
            .await,
    );

    let resealed = |kid: &str| (kid.to_string(), format!("sealed:v1:{kid}-resealed"));
    store
        .replace_signing_key_private_keys(&[resealed("kid-current"), resealed("kid-next")])
        .await
        .unwrap();
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys[0].private_key, "sealed:v1:kid-current-resealed");
    assert_eq!(keys[1].private_key, "sealed:v1:kid-next-resealed");
    assert_eq!(keys[0].state, "previous", "only the private key changes");
    // One missing kid: nothing changes (one transaction).
    let again = |kid: &str| (kid.to_string(), format!("sealed:v1:{kid}-again"));
    assert_not_found(
        store
            .replace_signing_key_private_keys(&[again("kid-current"), again("kid-missing")])
            .await,
    );
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys[0].private_key, "sealed:v1:kid-current-resealed");
}

pub async fn clients_crud(store: &dyn Store) {
    let mut spa = client("spa-1", AppType::Spa);
    spa.client.callbacks = vec!["https://spa.test/cb".into()];
    spa.secret_hash = None;
    store.create_client(&spa, T0).await.unwrap();
    let web = client("web-1", AppType::RegularWeb);
    store.create_client(&web, T0 + 1).await.unwrap();

    let got = store.client("spa-1").await.unwrap().expect("spa-1 stored");
    assert_eq!(got.client, spa.client);
    assert_eq!(got.secret_hash, None);
    let got = store.client("web-1").await.unwrap().expect("web-1 stored");
    assert_eq!(got.client, web.client);
    assert_eq!(got.secret_hash.as_deref(), Some("sha256-of-web-1"));
    assert!(store.client("nope").await.unwrap().is_none());

    let mut duplicate = client("web-1", AppType::NonInteractive);
    duplicate.client.name = "Another".into();
    assert_conflict(store.create_client(&duplicate, T0 + 2).await);
    assert_eq!(
        store.client("web-1").await.unwrap().unwrap().client,
        web.client
    );

    let mut updated = web.clone();
    updated.client.name = "Renamed".into();
    updated.client.callbacks = vec!["https://web.test/a".into(), "https://web.test/b".into()];
    updated.client.is_first_party = false;
    updated.secret_hash = Some("rotated-hash".into());
    store.update_client(&updated).await.unwrap();
    let got = store.client("web-1").await.unwrap().unwrap();
    assert_eq!(got.client, updated.client);
    assert_eq!(got.secret_hash.as_deref(), Some("rotated-hash"));

    assert_not_found(store.update_client(&client("missing", AppType::Spa)).await);
    assert!(store.client("missing").await.unwrap().is_none());

    store.delete_client("spa-1").await.unwrap();
    assert!(store.client("spa-1").await.unwrap().is_none());
    assert_not_found(store.delete_client("spa-1").await);
    assert_eq!(
        client_ids(&store.clients(Page::ALL).await.unwrap()),
        ["web-1"]
    );
}

pub async fn clients_paging(store: &dyn Store) {
    assert!(store.clients(Page::ALL).await.unwrap().is_empty());
    // Created out of id order: listing follows creation time.
    for (i, id) in ["c-e", "c-d", "c-c", "c-b", "c-a"].iter().enumerate() {
        store
            .create_client(&client(id, AppType::RegularWeb), T0 + i as i64)
            .await
            .unwrap();
    }
    let all = store.clients(Page::ALL).await.unwrap();
    assert_eq!(client_ids(&all), ["c-e", "c-d", "c-c", "c-b", "c-a"]);

    let page = |offset, limit| Page { offset, limit };
    assert_eq!(
        client_ids(&store.clients(page(0, 2)).await.unwrap()),
        ["c-e", "c-d"]
    );
    assert_eq!(
        client_ids(&store.clients(page(2, 2)).await.unwrap()),
        ["c-c", "c-b"]
    );
    assert_eq!(
        client_ids(&store.clients(page(4, 2)).await.unwrap()),
        ["c-a"]
    );
    assert!(store.clients(page(5, 2)).await.unwrap().is_empty());
    assert!(store.clients(page(0, 0)).await.unwrap().is_empty());
}

pub async fn resource_servers_crud(store: &dyn Store) {
    let mut orders = api("rs-orders", "https://orders.test", &["read:orders"]);
    orders.enforce_policies = true;
    orders.token_dialect = TokenDialect::AccessTokenAuthz;
    store.create_resource_server(&orders, T0).await.unwrap();
    let mut hs = api("rs-hs", "urn:hs", &[]);
    hs.signing_alg = SigningAlg::HS256;
    hs.signing_secret = Some("s3cret".into());
    store.create_resource_server(&hs, T0 + 1).await.unwrap();

    assert_eq!(
        store.resource_server("rs-orders").await.unwrap(),
        Some(orders.clone())
    );
    assert_eq!(
        store
            .resource_server_by_identifier("https://orders.test")
            .await
            .unwrap(),
        Some(orders.clone())
    );
    assert_eq!(
        store.resource_server_by_identifier("urn:hs").await.unwrap(),
        Some(hs.clone())
    );
    assert!(store.resource_server("rs-missing").await.unwrap().is_none());
    assert!(store
        .resource_server_by_identifier("https://missing.test")
        .await
        .unwrap()
        .is_none());

    // The identifier is unique across APIs.
    assert_conflict(
        store
            .create_resource_server(&api("rs-other", "https://orders.test", &[]), T0 + 2)
            .await,
    );
    assert!(store.resource_server("rs-other").await.unwrap().is_none());

    let mut updated = orders.clone();
    updated.name = "Orders v2".into();
    updated.scopes = api("x", "x", &["read:orders", "write:orders"]).scopes;
    updated.allow_offline_access = true;
    store.update_resource_server(&updated).await.unwrap();
    assert_eq!(
        store
            .resource_server_by_identifier("https://orders.test")
            .await
            .unwrap(),
        Some(updated.clone())
    );
    assert_eq!(
        store.resource_server("rs-orders").await.unwrap(),
        Some(updated.clone())
    );

    // The identifier is immutable: an update naming another one changes nothing.
    let mut renamed = updated.clone();
    renamed.identifier = "https://renamed.test".into();
    renamed.name = "Should not stick".into();
    let _ = store.update_resource_server(&renamed).await;
    assert_eq!(
        store.resource_server("rs-orders").await.unwrap(),
        Some(updated.clone())
    );
    assert!(store
        .resource_server_by_identifier("https://renamed.test")
        .await
        .unwrap()
        .is_none());

    assert_not_found(
        store
            .update_resource_server(&api("rs-missing", "urn:missing", &[]))
            .await,
    );

    let ids = |list: Vec<ResourceServer>| list.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.resource_servers(Page::ALL).await.unwrap()),
        ["rs-orders", "rs-hs"]
    );
    assert_eq!(
        ids(store
            .resource_servers(Page {
                offset: 1,
                limit: 5
            })
            .await
            .unwrap()),
        ["rs-hs"]
    );

    store.delete_resource_server("rs-hs").await.unwrap();
    assert!(store.resource_server("rs-hs").await.unwrap().is_none());
    assert!(store
        .resource_server_by_identifier("urn:hs")
        .await
        .unwrap()
        .is_none());
    assert_not_found(store.delete_resource_server("rs-hs").await);
}

pub async fn resource_server_delete_cascades_grants(store: &dyn Store) {
    store
        .create_resource_server(&api("rs-1", "https://one.test", &["read"]), T0)
        .await
        .unwrap();
    store
        .create_resource_server(&api("rs-2", "https://two.test", &["read"]), T0)
        .await
        .unwrap();
    store
        .create_client(&client("m2m", AppType::NonInteractive), T0)
        .await
        .unwrap();
    store
        .create_client_grant(&grant("cg-1", "m2m", "https://one.test", &["read"]), T0)
        .await
        .unwrap();
    store
        .create_client_grant(&grant("cg-2", "m2m", "https://two.test", &["read"]), T0)
        .await
        .unwrap();

    store.delete_resource_server("rs-1").await.unwrap();
    assert!(store.client_grant("cg-1").await.unwrap().is_none());
    assert!(store
        .client_grants_for("m2m", "https://one.test")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        grant_ids(&store.client_grants(Page::ALL).await.unwrap()),
        ["cg-2"]
    );
    assert!(store.client("m2m").await.unwrap().is_some());
}

pub async fn client_grants_crud_and_lookup(store: &dyn Store) {
    let aud = "https://api.test";
    store
        .create_resource_server(&api("rs", aud, &["read", "write"]), T0)
        .await
        .unwrap();
    store
        .create_resource_server(&api("rs-other", "https://other.test", &["read"]), T0)
        .await
        .unwrap();
    store
        .create_client(&client("first", AppType::RegularWeb), T0)
        .await
        .unwrap();
    let mut third = client("third", AppType::RegularWeb);
    third.client.is_first_party = false;
    store.create_client(&third, T0).await.unwrap();

    let own = grant("cg-own", "first", aud, &["read"]);
    store.create_client_grant(&own, T0).await.unwrap();
    let default_for = ClientGrant {
        id: "cg-default".into(),
        client_id: None,
        default_for: Some("third_party_clients".into()),
        audience: aud.into(),
        scope: vec!["read".into()],
        subject_type: SubjectType::User,
        allow_all_scopes: false,
    };
    store
        .create_client_grant(&default_for, T0 + 1)
        .await
        .unwrap();
    let mut user_grant = grant("cg-user", "first", aud, &["read", "write"]);
    user_grant.subject_type = SubjectType::User;
    user_grant.allow_all_scopes = true;
    store
        .create_client_grant(&user_grant, T0 + 2)
        .await
        .unwrap();

    assert_eq!(
        store.client_grant("cg-own").await.unwrap(),
        Some(own.clone())
    );
    assert_eq!(
        store.client_grant("cg-default").await.unwrap(),
        Some(default_for.clone())
    );
    assert!(store.client_grant("cg-missing").await.unwrap().is_none());

    // A client's own grants and the default_for ones, for that audience only.
    assert_eq!(
        store.client_grants_for("first", aud).await.unwrap(),
        vec![own.clone(), default_for.clone(), user_grant.clone()]
    );
    assert_eq!(
        store.client_grants_for("third", aud).await.unwrap(),
        vec![default_for.clone()]
    );
    assert!(store
        .client_grants_for("first", "https://other.test")
        .await
        .unwrap()
        .is_empty());

    // One grant per (client, audience, subject type).
    assert_conflict(
        store
            .create_client_grant(&grant("cg-dup", "first", aud, &["write"]), T0 + 3)
            .await,
    );
    assert!(store.client_grant("cg-dup").await.unwrap().is_none());
    store
        .create_client_grant(&grant("cg-third", "third", aud, &["write"]), T0 + 3)
        .await
        .unwrap();
    assert_eq!(
        grant_ids(&store.client_grants(Page::ALL).await.unwrap()),
        ["cg-own", "cg-default", "cg-user", "cg-third"]
    );
    assert_eq!(
        grant_ids(
            &store
                .client_grants(Page {
                    offset: 1,
                    limit: 2
                })
                .await
                .unwrap()
        ),
        ["cg-default", "cg-user"]
    );

    let mut updated = own.clone();
    updated.scope = vec!["read".into(), "write".into()];
    store.update_client_grant(&updated).await.unwrap();
    assert_eq!(store.client_grant("cg-own").await.unwrap(), Some(updated));
    assert_not_found(
        store
            .update_client_grant(&grant("cg-missing", "first", aud, &[]))
            .await,
    );

    store.delete_client_grant("cg-own").await.unwrap();
    assert!(store.client_grant("cg-own").await.unwrap().is_none());
    assert_not_found(store.delete_client_grant("cg-own").await);
    assert_eq!(
        store.client_grants_for("first", aud).await.unwrap(),
        vec![default_for, user_grant]
    );
}

pub async fn client_delete_cascades_its_grants(store: &dyn Store) {
    let aud = "https://api.test";
    store
        .create_resource_server(&api("rs", aud, &["read"]), T0)
        .await
        .unwrap();
    store
        .create_client(&client("gone", AppType::NonInteractive), T0)
        .await
        .unwrap();
    store
        .create_client(&client("stays", AppType::NonInteractive), T0)
        .await
        .unwrap();
    store
        .create_client_grant(&grant("cg-gone", "gone", aud, &["read"]), T0)
        .await
        .unwrap();
    store
        .create_client_grant(&grant("cg-stays", "stays", aud, &["read"]), T0)
        .await
        .unwrap();

    store.delete_client("gone").await.unwrap();
    assert!(store.client_grant("cg-gone").await.unwrap().is_none());
    assert_eq!(
        grant_ids(&store.client_grants(Page::ALL).await.unwrap()),
        ["cg-stays"]
    );
}
