//! Signing keys at rest: sealed under the master key. Rows in the plain
//! format of earlier versions are sealed by the next start and keep signing;
//! a plain row written after that refuses the start;
//! a master key that does not open the stored keys is refused and changes
//! nothing. Runs on the backend of `GATEHOUSE_TEST_BACKEND`.

use crate::fixtures::{seed, API};
use crate::support::{
    postgres_url_for_test, shared_keys, test_master_key, TestDatabase, TestServer, BACKEND_VAR,
    DATABASE_URL_VAR,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::jose::KeyPair;
use gatehouse_core::model::SigningAlg;
use gatehouse_core::sealing::{self, MasterKey};
use gatehouse_server::keys::{unseal_private_key, KeyRing};
use gatehouse_store::{server_values, Store, StoredKey};
use std::sync::Arc;

/// An empty store on the suite's backend, with what keeps it alive.
async fn empty_store() -> (Arc<dyn Store>, Option<TestDatabase>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, database) = if std::env::var(BACKEND_VAR).as_deref() == Ok("postgres") {
        let database = postgres_url_for_test()
            .await
            .unwrap_or_else(|| panic!("{BACKEND_VAR}=postgres needs {DATABASE_URL_VAR}"));
        (database.url.clone(), Some(database))
    } else {
        let url = format!("sqlite:{}", dir.path().join("gatehouse.db").display());
        (url, None)
    };
    let store = gatehouse_store::open(&url).await.expect("open store");
    (store, database, dir)
}

/// `key` as the code before sealing stored it: base64 PKCS#8.
fn plain(key: &StoredKey) -> StoredKey {
    let der = unseal_private_key(key, &test_master_key()).expect("shared keys are sealed");
    StoredKey {
        private_key: STANDARD.encode(der),
        ..key.clone()
    }
}

#[tokio::test]
async fn plain_keys_of_earlier_versions_are_sealed_at_start_and_keep_signing() {
    let (store, database, _dir) = empty_store().await;
    let legacy: Vec<StoredKey> = shared_keys().await.iter().map(plain).collect();
    for key in &legacy {
        store.insert_signing_key(key).await.unwrap();
    }
    let seeded = seed(store.as_ref()).await;
    let rs256 = legacy
        .iter()
        .find(|k| k.alg == SigningAlg::RS256 && k.state == "current")
        .expect("an RS256 current key");

    let server = TestServer::start_on(store.clone()).await;
    let stored = store.signing_keys().await.unwrap();
    assert_eq!(stored.len(), legacy.len(), "no key added or lost");
    for key in &stored {
        assert!(
            key.private_key.starts_with(sealing::SEALED_PREFIX),
            "{} is sealed",
            key.kid
        );
        let before = legacy.iter().find(|k| k.kid == key.kid).unwrap();
        assert_eq!(
            unseal_private_key(key, &test_master_key()).unwrap(),
            STANDARD.decode(&before.private_key).unwrap(),
            "the same key, sealed"
        );
    }
    let reply = server
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &seeded.m2m_id),
                ("client_secret", &seeded.m2m_secret),
                ("audience", API),
            ],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let jwt = reply.body["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    assert_eq!(header.kid.as_deref(), Some(rs256.kid.as_str()));
    server.stop().await;
    if let Some(database) = database {
        database.drop_now().await;
    }
}

#[tokio::test]
async fn a_master_key_that_does_not_open_the_keys_is_refused_and_changes_nothing() {
    let (store, database, _dir) = empty_store().await;
    // One row still plain: it must not get sealed under the wrong key.
    for (i, key) in shared_keys().await.iter().enumerate() {
        let key = if i == 0 { plain(key) } else { key.clone() };
        store.insert_signing_key(&key).await.unwrap();
    }
    let before: Vec<String> = store
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.private_key)
        .collect();
    let error =
        match KeyRing::load_or_generate(store.as_ref(), MasterKey::generate(), SystemClock.now())
            .await
        {
            Ok(_) => panic!("a wrong master key loaded the keys"),
            Err(error) => error,
        };
    assert!(error.is_master_key_mismatch(), "{error}");
    assert!(
        error
            .to_string()
            .contains("the master key does not match the one the signing keys were sealed with"),
        "{error}"
    );
    let after: Vec<String> = store
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.private_key)
        .collect();
    assert_eq!(after, before);
    if let Some(database) = database {
        database.drop_now().await;
    }
}

#[tokio::test]
async fn a_sealed_key_moved_to_another_row_does_not_open() {
    let (store, database, _dir) = empty_store().await;
    let keys = shared_keys().await;
    let rs256 = keys.iter().find(|k| k.alg == SigningAlg::RS256).unwrap();
    let other = keys
        .iter()
        .find(|k| k.alg == SigningAlg::RS256 && k.kid != rs256.kid)
        .unwrap();
    for key in keys {
        store.insert_signing_key(key).await.unwrap();
    }
    // Someone with write access to the database copies one row's sealed key
    // into another row.
    store
        .replace_signing_key_private_keys(&[(other.kid.clone(), rs256.private_key.clone())])
        .await
        .unwrap();
    let error =
        match KeyRing::load_or_generate(store.as_ref(), test_master_key(), SystemClock.now()).await
        {
            Ok(_) => panic!("a swapped sealed key was accepted"),
            Err(error) => error,
        };
    assert!(error.to_string().contains(&other.kid), "{error}");
    if let Some(database) = database {
        database.drop_now().await;
    }
}

#[tokio::test]
async fn a_plain_key_written_after_sealing_refuses_the_start() {
    let (store, database, _dir) = empty_store().await;
    for key in shared_keys().await.iter().map(plain) {
        store.insert_signing_key(&key).await.unwrap();
    }
    // The first start after the upgrade seals the plain rows, once.
    KeyRing::load_or_generate(store.as_ref(), test_master_key(), SystemClock.now())
        .await
        .expect("the upgrade seals the plain rows");
    assert!(store
        .server_value(server_values::SIGNING_KEYS_SEALED)
        .await
        .unwrap()
        .is_some());
    KeyRing::load_or_generate(store.as_ref(), test_master_key(), SystemClock.now())
        .await
        .expect("a second start loads the sealed keys");

    // Someone with write access to the database adds their own key, in the
    // plain format, to sign with.
    let theirs = KeyPair::generate(SigningAlg::RS256).unwrap();
    let now = SystemClock.now();
    store
        .insert_signing_key(&StoredKey {
            kid: theirs.kid().to_string(),
            alg: SigningAlg::RS256,
            state: "current".to_string(),
            private_key: STANDARD.encode(theirs.pkcs8_der()),
            cert_der: theirs.cert_der().to_vec(),
            created_at: now,
            state_changed_at: now,
        })
        .await
        .unwrap();
    let error =
        match KeyRing::load_or_generate(store.as_ref(), test_master_key(), SystemClock.now()).await
        {
            Ok(_) => panic!("a plain key written after sealing was adopted"),
            Err(error) => error,
        };
    assert!(error.to_string().contains(theirs.kid()), "{error}");
    assert!(error.to_string().contains("unsealed"), "{error}");
    let row = store
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.kid == theirs.kid())
        .unwrap();
    assert!(
        !sealing::is_sealed(&row.private_key),
        "not sealed, not adopted"
    );
    if let Some(database) = database {
        database.drop_now().await;
    }
}
