//! The key ring: which key signs, which keys are published.
//!
//! Keys live in the store with a state (`next`, `current`, `previous`,
//! `revoked`), so rotation is a state change, not a schema change. Every
//! asymmetric algorithm has a `current` key (RS256 first: Auth0's SDKs require
//! RS256 ID tokens) and a `next` key, generated at first start. Every
//! non-revoked key is published in the JWKS, so the `next` key is known to
//! verifiers — on every node, which reloads keys within a second — long before
//! rotation promotes it to sign. Rotation: current →
//! previous, next → current, and a fresh next (see
//! `routes::management::keys::rotate_all`); previous keys stay published until
//! revoked.

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
    /// Which keys in which states were loaded, to notice changes.
    fingerprint: String,
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
    /// Loads the keys, generating the `current` and `next` key of each
    /// algorithm that lacks one.
    pub async fn load_or_generate(store: &dyn Store) -> Result<Self, KeyRingError> {
        let mut stored = store.signing_keys().await?;
        for alg in SigningAlg::ASYMMETRIC {
            for state in [KeyState::Current, KeyState::Next] {
                let present = stored
                    .iter()
                    .any(|k| k.alg == alg && k.state == state.as_str());
                if !present {
                    stored.push(generate_and_store(store, alg, state).await?);
                }
            }
        }
        let fingerprint = fingerprint(&stored);
        Ok(Self(Arc::new(RwLock::new(build(&stored, fingerprint)?))))
    }

    /// Reloads when the stored keys changed (another node rotated); cheap
    /// enough to run every second.
    pub async fn refresh(&self, store: &dyn Store) -> Result<bool, KeyRingError> {
        let stored = store.signing_keys().await?;
        let fingerprint = fingerprint(&stored);
        if self.0.read().unwrap_or_else(|p| p.into_inner()).fingerprint == fingerprint {
            return Ok(false);
        }
        let loaded = build(&stored, fingerprint)?;
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = loaded;
        tracing::info!("signing keys changed in the store; reloaded");
        Ok(true)
    }

    /// Re-reads the keys from the store (after a rotation).
    pub async fn reload(&self, store: &dyn Store) -> Result<(), KeyRingError> {
        let stored = store.signing_keys().await?;
        let loaded = build(&stored, fingerprint(&stored))?;
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

async fn generate_and_store(
    store: &dyn Store,
    alg: SigningAlg,
    state: KeyState,
) -> Result<StoredKey, KeyRingError> {
    let key = KeyPair::generate(alg).map_err(|source| KeyRingError::Generate {
        alg: alg.as_str(),
        source,
    })?;
    let now = gatehouse_core::time::now();
    let record = StoredKey {
        kid: key.kid().to_string(),
        alg,
        state: state.as_str().to_string(),
        private_pkcs8: key.pkcs8_der().to_vec(),
        cert_der: key.cert_der().to_vec(),
        created_at: now,
        state_changed_at: now,
    };
    store.insert_signing_key(&record).await?;
    tracing::info!(
        kid = key.kid(),
        alg = alg.as_str(),
        state = state.as_str(),
        "generated signing key"
    );
    Ok(record)
}

fn fingerprint(stored: &[StoredKey]) -> String {
    let mut parts: Vec<String> = stored
        .iter()
        .map(|k| format!("{}:{}", k.kid, k.state))
        .collect();
    parts.sort();
    parts.join(",")
}

fn build(stored: &[StoredKey], fingerprint: String) -> Result<Loaded, KeyRingError> {
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
        fingerprint,
        current,
        published,
        jwks,
    })
}
