//! The state every handler shares.

use crate::keys::KeyRing;
use aws_lc_rs::hmac;
use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_store::{server_values, Store};
use std::sync::Arc;

/// Cheap to clone: everything lives behind one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub keys: KeyRing,
    /// `<public-url>/`, with the trailing slash Auth0's SDKs expect.
    pub issuer: String,
    /// Signs the pages' CSRF tokens ([`crate::session`]).
    pub csrf_key: hmac::Key,
    /// Addresses over the failed-client-authentication limit, as this node saw.
    pub throttled_addresses: crate::rate_limit::ThrottledAddresses,
    /// Where handlers and background work read the current time.
    pub clock: Arc<dyn Clock>,
    /// How many failure events each address wrote this minute.
    pub failure_events: crate::audit::FailureBudget,
    /// Runs Actions: warm QuickJS runtimes, one per worker thread.
    pub actions: gatehouse_actions::Engine,
    /// Each trigger's flow of Actions, as this node last read it.
    pub action_flows: crate::actions::FlowCache,
    /// The dashboard's client id once it exists (it never changes after).
    pub dashboard_client_id: std::sync::OnceLock<String>,
    /// How this node sends mail, and its worker's wake-up.
    pub mail: crate::email::MailRuntime,
    /// The discovery documents, serialised once.
    pub discovery: crate::routes::discovery::DiscoveryDocuments,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        keys: KeyRing,
        issuer: String,
        csrf_secret: &str,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self(Arc::new(Inner {
            store,
            keys,
            csrf_key: hmac::Key::new(hmac::HMAC_SHA256, csrf_secret.as_bytes()),
            throttled_addresses: Default::default(),
            clock,
            failure_events: Default::default(),
            actions: gatehouse_actions::Engine::new(
                std::thread::available_parallelism()
                    .map_or(2, |n| n.get())
                    .max(2),
                gatehouse_actions::Limits::default(),
            ),
            action_flows: Default::default(),
            dashboard_client_id: Default::default(),
            mail: Default::default(),
            discovery: crate::routes::discovery::DiscoveryDocuments::new(&issuer),
            issuer,
        }))
    }

    /// Loads (or, on first start, generates) the signing keys, sealed under
    /// `master_key`, and the CSRF key, and builds the state on the system clock.
    pub async fn load(
        store: Arc<dyn Store>,
        issuer: String,
        master_key: gatehouse_core::sealing::MasterKey,
    ) -> Result<Self, crate::keys::KeyRingError> {
        Self::load_with_clock(store, issuer, master_key, Arc::new(SystemClock)).await
    }

    /// [`AppState::load`] on the given clock (tests move time with a
    /// [`gatehouse_core::clock::ManualClock`]).
    pub async fn load_with_clock(
        store: Arc<dyn Store>,
        issuer: String,
        master_key: gatehouse_core::sealing::MasterKey,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, crate::keys::KeyRingError> {
        let keys = KeyRing::load_or_generate(store.as_ref(), master_key, clock.now()).await?;
        let csrf_secret = store
            .server_value_or_insert(
                server_values::CSRF_KEY,
                &gatehouse_core::ids::random_hex(32),
            )
            .await?;
        Ok(Self::new(store, keys, issuer, &csrf_secret, clock))
    }

    pub fn actions(&self) -> &gatehouse_actions::Engine {
        &self.0.actions
    }

    pub fn action_flows(&self) -> &crate::actions::FlowCache {
        &self.0.action_flows
    }

    /// The dashboard's client id, read from the store until it exists, then
    /// kept: the id is chosen once and kept even if the client is recreated
    /// ([`crate::bootstrap::ensure_dashboard_client`]).
    pub async fn dashboard_client_id(&self) -> Result<Option<String>, gatehouse_store::StoreError> {
        if let Some(id) = self.0.dashboard_client_id.get() {
            return Ok(Some(id.clone()));
        }
        let id = self
            .store()
            .server_value(gatehouse_store::server_values::DASHBOARD_CLIENT_ID)
            .await?;
        if let Some(id) = &id {
            let _ = self.0.dashboard_client_id.set(id.clone());
        }
        Ok(id)
    }

    pub fn discovery(&self) -> &crate::routes::discovery::DiscoveryDocuments {
        &self.0.discovery
    }

    pub fn mail(&self) -> &crate::email::MailRuntime {
        &self.0.mail
    }

    pub fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }

    pub fn keys(&self) -> &KeyRing {
        &self.0.keys
    }

    pub fn csrf_key(&self) -> &hmac::Key {
        &self.0.csrf_key
    }

    pub fn throttled_addresses(&self) -> &crate::rate_limit::ThrottledAddresses {
        &self.0.throttled_addresses
    }

    /// The current time in epoch seconds, from the state's clock.
    pub fn failure_events(&self) -> &crate::audit::FailureBudget {
        &self.0.failure_events
    }

    pub fn now(&self) -> i64 {
        self.0.clock.now()
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.0.clock
    }

    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// The issuer without its trailing slash, for building endpoint URLs.
    pub fn base_url(&self) -> &str {
        self.0.issuer.trim_end_matches('/')
    }
}
