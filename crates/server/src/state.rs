//! The state every handler shares.

use crate::keys::KeyRing;
use gatehouse_store::Store;
use std::sync::Arc;

/// Cheap to clone: everything lives behind one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub keys: KeyRing,
    /// `<public-url>/`, with the trailing slash Auth0's SDKs expect.
    pub issuer: String,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, keys: KeyRing, issuer: String) -> Self {
        Self(Arc::new(Inner {
            store,
            keys,
            issuer,
        }))
    }

    /// Loads (or, on first start, generates) the signing keys, sealed under
    /// `master_key`, and builds the state.
    pub async fn load(
        store: Arc<dyn Store>,
        issuer: String,
        master_key: gatehouse_core::sealing::MasterKey,
    ) -> Result<Self, crate::keys::KeyRingError> {
        let keys = KeyRing::load_or_generate(store.as_ref(), master_key).await?;
        Ok(Self::new(store, keys, issuer))
    }

    pub fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }

    pub fn keys(&self) -> &KeyRing {
        &self.0.keys
    }

    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// The issuer without its trailing slash, for building endpoint URLs.
    pub fn base_url(&self) -> &str {
        self.0.issuer.trim_end_matches('/')
    }
}
