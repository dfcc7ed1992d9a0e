//! The store's configuration cache never hides a change: a write through the
//! same store is read back at once, and a write through a second store on the
//! same database (another node, the CLI) within a second.

use super::config::{api, client, grant};
use super::harness::{read_until, SameDatabase, T0};
use gatehouse_core::model::{AppType, SigningAlg};
use gatehouse_store::{Page, Store, StoredKey};

const AUD: &str = "https://api.test";

fn key(kid: &str, state: &str) -> StoredKey {
    StoredKey {
        kid: kid.into(),
        alg: SigningAlg::ES256,
        state: state.into(),
        private_key: format!("sealed:v1:{kid}"),
        cert_der: vec![1, 2, 3],
        created_at: T0,
        state_changed_at: T0,
    }
}

/// One client with a grant on one API, one signing key; then every cached
/// read once, so the cache holds them all.
async fn seed_and_read_everything(store: &dyn Store) {
    store
        .create_resource_server(&api("rs", AUD, &["read", "write"]), T0)
        .await
        .unwrap();
    store
        .create_client(&client("app", AppType::NonInteractive), T0)
        .await
        .unwrap();
    store
        .create_client_grant(&grant("cg", "app", AUD, &["read", "write"]), T0)
        .await
        .unwrap();
    store
        .insert_signing_key(&key("k1", "current"))
        .await
        .unwrap();
    read_everything(store).await;
}

async fn read_everything(store: &dyn Store) {
    store.tenant_settings().await.unwrap();
    store.signing_keys().await.unwrap();
    store.client("app").await.unwrap();
    store.resource_server("rs").await.unwrap();
    store.resource_server_by_identifier(AUD).await.unwrap();
    store.resource_servers(Page::ALL).await.unwrap();
    store.client_grants_for("app", AUD).await.unwrap();
}

fn grant_scopes(grants: &[gatehouse_core::model::ClientGrant]) -> Vec<Vec<String>> {
    grants.iter().map(|g| g.scope.clone()).collect()
}

pub async fn own_writes_are_seen_at_once(store: &dyn Store) {
    seed_and_read_everything(store).await;

    let mut settings = store.tenant_settings().await.unwrap();
    settings.friendly_name = "Renamed".into();
    store.put_tenant_settings(&settings).await.unwrap();
    assert_eq!(
        store.tenant_settings().await.unwrap().friendly_name,
        "Renamed"
    );

    let mut app = store.client("app").await.unwrap().unwrap();
    app.client.name = "Renamed app".into();
    store.update_client(&app).await.unwrap();
    let read = store.client("app").await.unwrap().unwrap();
    assert_eq!(read.client.name, "Renamed app");

    let mut changed = store.resource_server("rs").await.unwrap().unwrap();
    changed.name = "Renamed API".into();
    store.update_resource_server(&changed).await.unwrap();
    let by_id = store.resource_server("rs").await.unwrap().unwrap();
    assert_eq!(by_id.name, "Renamed API");
    let by_identifier = store.resource_server_by_identifier(AUD).await.unwrap();
    assert_eq!(by_identifier.unwrap().name, "Renamed API");
    let all = store.resource_servers(Page::ALL).await.unwrap();
    assert_eq!(all[0].name, "Renamed API");

    store
        .update_client_grant(&grant("cg", "app", AUD, &["read"]))
        .await
        .unwrap();
    let grants = store.client_grants_for("app", AUD).await.unwrap();
    assert_eq!(grant_scopes(&grants), vec![vec!["read".to_string()]]);

    store
        .set_signing_key_state("k1", "previous", T0 + 1)
        .await
        .unwrap();
    assert_eq!(store.signing_keys().await.unwrap()[0].state, "previous");

    store.delete_client("app").await.unwrap();
    assert!(store.client("app").await.unwrap().is_none());
    assert!(
        store
            .client_grants_for("app", AUD)
            .await
            .unwrap()
            .is_empty(),
        "the grant went with its client"
    );
    store.delete_resource_server("rs").await.unwrap();
    assert!(store.resource_server("rs").await.unwrap().is_none());
    assert!(store
        .resource_server_by_identifier(AUD)
        .await
        .unwrap()
        .is_none());
    assert!(store.resource_servers(Page::ALL).await.unwrap().is_empty());
}

pub async fn another_stores_writes_are_seen_within_a_second(db: SameDatabase<'_>) {
    let node_a = db.store;
    seed_and_read_everything(node_a).await;
    let node_b = db.open_another().await;

    node_b
        .update_client_grant(&grant("cg", "app", AUD, &["read"]))
        .await
        .unwrap();
    let only_read = vec![vec!["read".to_string()]];
    let grants = read_until(
        || async { node_a.client_grants_for("app", AUD).await.unwrap() },
        |grants| grant_scopes(grants) == only_read,
    )
    .await;
    assert_eq!(grant_scopes(&grants), only_read, "the narrowed grant");

    let mut settings = node_b.tenant_settings().await.unwrap();
    settings.friendly_name = "Renamed elsewhere".into();
    node_b.put_tenant_settings(&settings).await.unwrap();
    let seen = read_until(
        || async { node_a.tenant_settings().await.unwrap() },
        |s| s.friendly_name == "Renamed elsewhere",
    )
    .await;
    assert_eq!(seen.friendly_name, "Renamed elsewhere");

    node_b
        .set_signing_key_state("k1", "previous", T0 + 1)
        .await
        .unwrap();
    let keys = read_until(
        || async { node_a.signing_keys().await.unwrap() },
        |keys| keys[0].state == "previous",
    )
    .await;
    assert_eq!(keys[0].state, "previous");

    node_b.delete_client_grant("cg").await.unwrap();
    let grants = read_until(
        || async { node_a.client_grants_for("app", AUD).await.unwrap() },
        |grants| grants.is_empty(),
    )
    .await;
    assert!(grants.is_empty(), "the deleted grant: {grants:?}");

    node_b.delete_client("app").await.unwrap();
    let gone = read_until(
        || async { node_a.client("app").await.unwrap() },
        |found| found.is_none(),
    )
    .await;
    assert!(gone.is_none(), "the deleted client is still read");

    node_b.delete_resource_server("rs").await.unwrap();
    let apis = read_until(
        || async { node_a.resource_servers(Page::ALL).await.unwrap() },
        |apis| apis.is_empty(),
    )
    .await;
    assert!(apis.is_empty(), "the deleted API is still listed");
    assert!(node_a
        .resource_server_by_identifier(AUD)
        .await
        .unwrap()
        .is_none());
}
