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
//!
//! Private keys are sealed at rest under the master key
//! ([`gatehouse_core::sealing`]); the ring holds the master key to unseal
//! when it loads and to seal what it generates. Rows still in the plain
//! format of earlier versions are sealed by [`KeyRing::load_or_generate`],
//! once: it then records [`server_values::SIGNING_KEYS_SEALED`], and from
//! then on a plain row stops the start.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_core::jose::{JoseError, Jwks, KeyPair, KeyState};
use gatehouse_core::model::SigningAlg;
use gatehouse_core::sealing::{self, MasterKey, SealError};
use gatehouse_store::{server_values, Store, StoreError, StoredKey};
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
    /// The master key cannot open a stored key (another master key, or a
    /// row changed or moved outside Gatehouse).
    #[error("signing key {kid}: {source}")]
    Sealed { kid: String, source: SealError },
    /// A plain key row appeared after the keys were sealed: only an upgrade
    /// from a version before sealing may leave one, once.
    #[error(
        "signing key {kid} is stored unsealed, but this database's keys were already sealed: \
         refusing to adopt it (remove the row, or find out who wrote it)"
    )]
    PlainAfterSealing { kid: String },
}

impl KeyRingError {
    /// Whether the master key does not open the stored keys.
    pub fn is_master_key_mismatch(&self) -> bool {
        matches!(
            self,
            Self::Sealed {
                source: SealError::Mismatch,
                ..
            }
        )
    }
}

struct Loaded {
    /// Which keys in which states were loaded, to notice changes.
    fingerprint: String,
    /// The signing key per algorithm.
    current: Vec<Arc<KeyPair>>,
    /// All published keys (next, current, previous), RS256 current first.
    published: Vec<Arc<KeyPair>>,
    /// The JWKS document, serialised once per key change.
    jwks: axum::body::Bytes,
}

/// Shared, reloadable view of the signing keys.
#[derive(Clone)]
pub struct KeyRing {
    loaded: Arc<RwLock<Loaded>>,
    master_key: Arc<MasterKey>,
}

impl KeyRing {
    /// Loads the keys, sealing rows still in the plain format (on the first
    /// start after an upgrade; later, a plain row is an error) and generating
    /// the `current` and `next` key of each algorithm that lacks one. A
    /// master key that does not open the stored keys is an error
    /// ([`KeyRingError::is_master_key_mismatch`]).
    pub async fn load_or_generate(
        store: &dyn Store,
        master_key: MasterKey,
        now: i64,
    ) -> Result<Self, KeyRingError> {
        // Read before the keys: another node may seal them meanwhile.
        let already_sealed = store
            .server_value(server_values::SIGNING_KEYS_SEALED)
            .await?
            .is_some();
        let mut stored = store.signing_keys().await?;
        // Checked before anything is written: a wrong master key changes nothing.
        verify_master_key(&stored, &master_key)?;
        if already_sealed {
            refuse_plain_keys(&stored)?;
        } else {
            seal_plain_keys(store, &master_key, &mut stored).await?;
        }
        for alg in SigningAlg::ASYMMETRIC {
            for state in [KeyState::Current, KeyState::Next] {
                let present = stored
                    .iter()
                    .any(|k| k.alg == alg && k.state == state.as_str());
                if !present {
                    stored.push(generate_and_store(store, &master_key, alg, state, now).await?);
                }
            }
        }
        let fingerprint = fingerprint(&stored);
        let loaded = build(&stored, &master_key, fingerprint)?;
        if !already_sealed {
            store
                .put_server_value(server_values::SIGNING_KEYS_SEALED, "true")
                .await?;
        }
        Ok(Self {
            loaded: Arc::new(RwLock::new(loaded)),
            master_key: Arc::new(master_key),
        })
    }

    /// The master key the ring seals and unseals with (rotation seals the
    /// keys it generates with it).
    pub fn master_key(&self) -> &MasterKey {
        &self.master_key
    }

    /// Reloads when the stored keys changed (another node rotated); cheap
    /// enough to run every second.
    pub async fn refresh(&self, store: &dyn Store) -> Result<bool, KeyRingError> {
        let stored = store.signing_keys().await?;
        let fingerprint = fingerprint(&stored);
        if self
            .loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .fingerprint
            == fingerprint
        {
            return Ok(false);
        }
        let loaded = build(&stored, &self.master_key, fingerprint)?;
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = loaded;
        tracing::info!("signing keys changed in the store; reloaded");
        Ok(true)
    }

    /// Re-reads the keys from the store (after a rotation).
    pub async fn reload(&self, store: &dyn Store) -> Result<(), KeyRingError> {
        let stored = store.signing_keys().await?;
        let loaded = build(&stored, &self.master_key, fingerprint(&stored))?;
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = loaded;
        Ok(())
    }

    /// The key that signs for `alg` now.
    pub fn signing_key(&self, alg: SigningAlg) -> Option<Arc<KeyPair>> {
        let loaded = self.loaded.read().unwrap_or_else(|p| p.into_inner());
        loaded.current.iter().find(|k| k.alg() == alg).cloned()
    }

    /// A published key by `kid` (for verifying our own tokens).
    pub fn published_key(&self, kid: &str) -> Option<Arc<KeyPair>> {
        let loaded = self.loaded.read().unwrap_or_else(|p| p.into_inner());
        loaded.published.iter().find(|k| k.kid() == kid).cloned()
    }

    /// The JWKS document as JSON bytes, serialised when the keys were loaded.
    pub fn jwks(&self) -> axum::body::Bytes {
        self.loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .jwks
            .clone()
    }
}

/// The record of a new key, its private key sealed under `master_key`.
pub fn sealed_record(
    key: &KeyPair,
    master_key: &MasterKey,
    state: KeyState,
    now: i64,
) -> StoredKey {
    let context = sealing::signing_key_context(key.alg().as_str(), key.kid());
    StoredKey {
        kid: key.kid().to_string(),
        alg: key.alg(),
        state: state.as_str().to_string(),
        private_key: sealing::seal(master_key, &context, key.pkcs8_der()),
        cert_der: key.cert_der().to_vec(),
        created_at: now,
        state_changed_at: now,
    }
}

/// The PKCS#8 DER of a stored key, unsealed with `master_key`.
pub fn unseal_private_key(
    record: &StoredKey,
    master_key: &MasterKey,
) -> Result<Vec<u8>, KeyRingError> {
    let context = sealing::signing_key_context(record.alg.as_str(), &record.kid);
    sealing::unseal(master_key, &context, &record.private_key).map_err(|source| {
        KeyRingError::Sealed {
            kid: record.kid.clone(),
            source,
        }
    })
}

/// The PKCS#8 DER of a stored key, sealed or still in the plain format of
/// earlier versions (base64).
pub fn any_private_key_der(
    record: &StoredKey,
    master_key: &MasterKey,
) -> Result<Vec<u8>, KeyRingError> {
    if sealing::is_sealed(&record.private_key) {
        return unseal_private_key(record, master_key);
    }
    STANDARD
        .decode(record.private_key.trim())
        .map_err(|_| KeyRingError::Sealed {
            kid: record.kid.clone(),
            source: SealError::Malformed("neither sealed nor base64 PKCS#8"),
        })
}

/// Checks that `master_key` opens every sealed key in `stored` (plain rows
/// are not checked: they are sealed afterwards).
pub fn verify_master_key(stored: &[StoredKey], master_key: &MasterKey) -> Result<(), KeyRingError> {
    for record in stored.iter().filter(|k| sealing::is_sealed(&k.private_key)) {
        unseal_private_key(record, master_key)?;
    }
    Ok(())
}

/// Seals, in one transaction, the rows still holding base64 PKCS#8 (written
/// before sealing existed) and updates `stored` to match.
async fn seal_plain_keys(
    store: &dyn Store,
    master_key: &MasterKey,
    stored: &mut [StoredKey],
) -> Result<(), KeyRingError> {
    let mut resealed = Vec::new();
    for record in stored
        .iter_mut()
        .filter(|k| !sealing::is_sealed(&k.private_key))
    {
        let der = any_private_key_der(record, master_key)?;
        let context = sealing::signing_key_context(record.alg.as_str(), &record.kid);
        record.private_key = sealing::seal(master_key, &context, &der);
        resealed.push((record.kid.clone(), record.private_key.clone()));
    }
    if !resealed.is_empty() {
        store.replace_signing_key_private_keys(&resealed).await?;
        tracing::info!(
            count = resealed.len(),
            "sealed signing keys stored in the plain format of earlier versions"
        );
    }
    Ok(())
}

/// For tools that re-seal keys (`gatehouse keys rewrap`): once the keys were
/// sealed, a plain row in `stored` is an error, as at start.
pub async fn refuse_plain_keys_once_sealed(
    store: &dyn Store,
    stored: &[StoredKey],
) -> Result<(), KeyRingError> {
    if store
        .server_value(server_values::SIGNING_KEYS_SEALED)
        .await?
        .is_some()
    {
        refuse_plain_keys(stored)?;
    }
    Ok(())
}

/// After the keys were sealed, a plain row can only have been written by
/// someone else: refused, naming the row.
fn refuse_plain_keys(stored: &[StoredKey]) -> Result<(), KeyRingError> {
    match stored.iter().find(|k| !sealing::is_sealed(&k.private_key)) {
        Some(record) => Err(KeyRingError::PlainAfterSealing {
            kid: record.kid.clone(),
        }),
        None => Ok(()),
    }
}

async fn generate_and_store(
    store: &dyn Store,
    master_key: &MasterKey,
    alg: SigningAlg,
    state: KeyState,
    now: i64,
) -> Result<StoredKey, KeyRingError> {
    let key = KeyPair::generate(alg).map_err(|source| KeyRingError::Generate {
        alg: alg.as_str(),
        source,
    })?;
    let record = sealed_record(&key, master_key, state, now);
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

fn build(
    stored: &[StoredKey],
    master_key: &MasterKey,
    fingerprint: String,
) -> Result<Loaded, KeyRingError> {
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
            unseal_private_key(record, master_key)?,
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
    let jwks = serde_json::to_vec(&Jwks::from_key_pairs(published.iter().map(|k| k.as_ref())))
        .map(axum::body::Bytes::from)
        .unwrap_or_else(|_| axum::body::Bytes::from_static(br#"{"keys":[]}"#));
    Ok(Loaded {
        fingerprint,
        current,
        published,
        jwks,
    })
}
