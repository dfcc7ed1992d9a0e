//! The key ring: which key signs, which keys are published.
//!
//! Keys live in the store with a state (`next`, `current`, `previous`,
//! `revoked`), so rotation is a state change, not a schema change. At first
//! start one `current` key per asymmetric algorithm is generated (RS256 first:
//! Auth0's SDKs require RS256 ID tokens). Every non-revoked key is published in
//! the JWKS, so a `next` key is known to verifiers before it signs anything.

use gatehouse_core::jose::{JoseError, Jwks, KeyPair, KeyState};
use gatehouse_core::model::SigningAlg;
use gatehouse_store::{Store, StoreError, StoredKey};
use std::sync::{Arc, RwLock};

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("signing keys: {0}")]
    Store(#[from] StoreError),
    #[error("signing key {kid}: {source}")]
    Key { kid: String, source: JoseError },
    #[error("generating a {alg} signing key: {source}")]
    Generate {
        alg: &'static str,
        source: JoseError,
    },
}

struct Loaded {
    /// The signing key per algorithm.
    current: Vec<Arc<KeyPair>>,
    /// All published keys (next, current, previous), RS256 current first.
    published: Vec<Arc<KeyPair>>,
    jwks: serde_json::Value,
}

/// Shared, reloadable view of the signing keys.
#[derive(Clone)]
pub struct KeyRing(Arc<RwLock<Loaded>>);

impl KeyRing {
    /// Loads the keys, generating a `current` key for each algorithm that has none.
    pub async fn load_or_generate(store: &dyn Store) -> Result<Self, KeyRingError> {
        let mut stored = store.signing_keys().await?;
        for alg in SigningAlg::ASYMMETRIC {
            let has_current = stored
                .iter()
                .any(|k| k.alg == alg && k.state == KeyState::Current.as_str());
            if !has_current {
                let key = KeyPair::generate(alg).map_err(|source| KeyRingError::Generate {
                    alg: alg.as_str(),
                    source,
                })?;
                let now = gatehouse_core::time::now();
                let record = StoredKey {
                    kid: key.kid().to_string(),
                    alg,
                    state: KeyState::Current.as_str().to_string(),
                    private_pkcs8: key.pkcs8_der().to_vec(),
                    cert_der: key.cert_der().to_vec(),
                    created_at: now,
                    state_changed_at: now,
                };
                store.insert_signing_key(&record).await?;
                tracing::info!(kid = key.kid(), alg = alg.as_str(), "generated signing key");
                stored.push(record);
            }
        }
        Ok(Self(Arc::new(RwLock::new(build(&stored)?))))
    }

    /// Re-reads the keys from the store (after a rotation).
    pub async fn reload(&self, store: &dyn Store) -> Result<(), KeyRingError> {
        let loaded = build(&store.signing_keys().await?)?;
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = loaded;
        Ok(())
    }

    /// The key that signs for `alg` now.
    pub fn signing_key(&self, alg: SigningAlg) -> Option<Arc<KeyPair>> {
        let loaded = self.0.read().unwrap_or_else(|p| p.into_inner());
        loaded.current.iter().find(|k| k.alg() == alg).cloned()
    }

    /// A published key by `kid` (for verifying our own tokens).
    pub fn published_key(&self, kid: &str) -> Option<Arc<KeyPair>> {
        let loaded = self.0.read().unwrap_or_else(|p| p.into_inner());
        loaded.published.iter().find(|k| k.kid() == kid).cloned()
    }

    /// The JWKS document, prebuilt.
    pub fn jwks(&self) -> serde_json::Value {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .jwks
            .clone()
    }
}

fn build(stored: &[StoredKey]) -> Result<Loaded, KeyRingError> {
    let mut current = Vec::new();
    let mut published = Vec::new();
    for record in stored {
        let Some(state) = KeyState::parse(&record.state) else {
            continue;
        };
        if !state.is_published() {
            continue;
        }
        let key = KeyPair::from_parts(
            record.kid.clone(),
            record.alg,
            record.private_pkcs8.clone(),
            record.cert_der.clone(),
        )
        .map(Arc::new)
        .map_err(|source| KeyRingError::Key {
            kid: record.kid.clone(),
            source,
        })?;
        if state == KeyState::Current {
            current.push(key.clone());
        }
        published.push(key);
    }
    // RS256 current key first: some clients take the first key.
    published.sort_by_key(|k| {
        let is_current = current.iter().any(|c| c.kid() == k.kid());
        (k.alg(), !is_current)
    });
    let jwks = serde_json::to_value(Jwks::from_key_pairs(published.iter().map(|k| k.as_ref())))
        .unwrap_or_else(|_| serde_json::json!({"keys": []}));
    Ok(Loaded {
        current,
        published,
        jwks,
    })
}
