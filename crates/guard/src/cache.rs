//! The cached JWKS, and when it is fetched again.
//!
//! - A token whose key is cached never waits: the read path takes a
//!   read lock and clones an `Arc`.
//! - An unknown `kid` causes a fetch, but at most one per refetch interval
//!   and one at a time (single flight): every other request with an unknown
//!   `kid` waits for the fetch in progress, then looks again, and within the
//!   interval is refused without a fetch. A flood of tokens with made-up
//!   `kid`s costs the issuer one request per interval, and the API one task
//!   per interval.
//! - Keys older than the maximum age are refreshed in the background while
//!   requests go on with them, so a key the issuer stops publishing stops
//!   being accepted.
//! - A failed fetch (down, slow, garbage) keeps the last good keys; the
//!   whole fetch is bounded by the fetch timeout.

use crate::algorithm::Algorithm;
use crate::error::TokenError;
use crate::fetch::{FetchError, Fetcher};
use crate::jwk::{KeySet, VerificationKey};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// `last_background_refresh` before the first one.
const NEVER: u64 = 0;

pub(crate) struct KeyCache {
    fetcher: Fetcher,
    configured_jwks_uri: Option<String>,
    current: RwLock<Cached>,
    refresh: Arc<Mutex<RefreshState>>,
    refetch_interval: Duration,
    max_key_age: Duration,
    fetch_timeout: Duration,
    /// When this cache was made: the origin of `last_background_refresh`.
    created: Instant,
    /// Milliseconds after `created` when a background refresh was last
    /// started, or [`NEVER`].
    last_background_refresh: AtomicU64,
}

#[derive(Clone)]
struct Cached {
    keys: Arc<KeySet>,
    /// `None` until the first successful fetch.
    fetched_at: Option<Instant>,
}

#[derive(Default)]
struct RefreshState {
    last_attempt: Option<Instant>,
    /// From discovery, kept after its first success.
    jwks_uri: Option<String>,
}

pub(crate) struct CacheSettings {
    pub(crate) jwks_uri: Option<String>,
    pub(crate) refetch_interval: Duration,
    pub(crate) max_key_age: Duration,
    pub(crate) fetch_timeout: Duration,
}

impl KeyCache {
    pub(crate) fn new(fetcher: Fetcher, settings: CacheSettings) -> Self {
        Self {
            fetcher,
            configured_jwks_uri: settings.jwks_uri,
            current: RwLock::new(Cached {
                keys: Arc::new(KeySet::default()),
                fetched_at: None,
            }),
            refresh: Arc::new(Mutex::new(RefreshState::default())),
            refetch_interval: settings.refetch_interval,
            max_key_age: settings.max_key_age,
            fetch_timeout: settings.fetch_timeout,
            created: Instant::now(),
            last_background_refresh: AtomicU64::new(NEVER),
        }
    }

    /// The key for a token's `kid` and `alg`, fetching the JWKS when it is
    /// not cached and the rate limit allows.
    pub(crate) async fn key_for(
        self: &Arc<Self>,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Arc<VerificationKey>, TokenError> {
        let cached = self.snapshot();
        if let Some(key) = cached.keys.find(kid, alg) {
            if cached.is_older_than(self.max_key_age) {
                self.refresh_in_background();
            }
            return Ok(key);
        }
        self.fetch_for_unknown_key(kid, alg).await
    }

    /// Fetches the keys now (ignoring the rate limit); returns how many
    /// usable keys the JWKS holds.
    pub(crate) async fn refresh_now(&self) -> Result<usize, FetchError> {
        let mut state = self.refresh.lock().await;
        self.fetch(&mut state).await
    }

    fn snapshot(&self) -> Cached {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Fetches for a `kid` the cache lacks, unless a fetch was attempted
    /// within the refetch interval; while a fetch is in flight, waits for
    /// its end instead (single flight).
    ///
    /// The fetch runs in a task of its own, holding the refresh lock: the
    /// request may be cancelled (its client hangs up) while it waits, and a
    /// fetch dropped half-way would leave the rate limit armed with no keys
    /// fetched, refusing every new `kid` for an interval. Only the request
    /// that starts a fetch spawns that task, at most one per interval; the
    /// others wait in the lock's queue, which cancelling them leaves.
    async fn fetch_for_unknown_key(
        self: &Arc<Self>,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Arc<VerificationKey>, TokenError> {
        match Arc::clone(&self.refresh).try_lock_owned() {
            Ok(mut state) => {
                let fetched_meanwhile = self.snapshot().keys.find(kid, alg).is_some();
                if !fetched_meanwhile && !state.attempted_within(self.refetch_interval) {
                    let cache = Arc::clone(self);
                    // The outcome is logged by `fetch`; the lookup below tells the rest.
                    let fetch = async move { drop(cache.fetch(&mut state).await) };
                    match tokio::runtime::Handle::try_current() {
                        // A panic inside the task is the only join error; the
                        // lookup below then reports the key as missing.
                        Ok(runtime) => drop(runtime.spawn(fetch).await),
                        Err(_) => fetch.await,
                    }
                }
            }
            Err(_) => drop(self.refresh.lock().await),
        }
        self.snapshot()
            .keys
            .find(kid, alg)
            .ok_or_else(|| self.miss())
    }

    /// `UnknownKey` when keys are cached (the token names none of them),
    /// `KeysUnavailable` when no fetch has succeeded yet.
    fn miss(&self) -> TokenError {
        if self.snapshot().fetched_at.is_some() {
            TokenError::UnknownKey
        } else {
            TokenError::KeysUnavailable
        }
    }

    /// Starts a background refresh of stale keys, at most one per refetch
    /// interval: while the issuer is down every request sees stale keys,
    /// and must not each start a task.
    fn refresh_in_background(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !self.background_refresh_due() {
            return;
        }
        let cache = Arc::clone(self);
        runtime.spawn(async move {
            // Someone is fetching already: nothing to do.
            let Ok(mut state) = cache.refresh.try_lock() else {
                return;
            };
            let stale = cache.snapshot().is_older_than(cache.max_key_age);
            if stale && !state.attempted_within(cache.refetch_interval) {
                let _ = cache.fetch(&mut state).await;
            }
        });
    }

    /// True for the first caller once the refetch interval has passed
    /// since the last background refresh was started; a lock-free claim.
    fn background_refresh_due(&self) -> bool {
        let now = millis_since(self.created);
        let last = self.last_background_refresh.load(Ordering::Relaxed);
        let interval = u64::try_from(self.refetch_interval.as_millis()).unwrap_or(u64::MAX);
        let due = last == NEVER || now.saturating_sub(last) >= interval;
        due && self
            .last_background_refresh
            .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    /// One bounded fetch; on success the cached keys are replaced. Callers
    /// hold the refresh lock, so fetches never overlap.
    async fn fetch(&self, state: &mut RefreshState) -> Result<usize, FetchError> {
        let fetched = tokio::time::timeout(self.fetch_timeout, self.discover_and_fetch(state))
            .await
            .unwrap_or(Err(FetchError::Timeout(self.fetch_timeout)));
        // The interval runs from the end of a fetch, so a slow issuer gets
        // no fetch sooner than an interval after its last answer. Only the
        // lock's holder reads it, so it need not be set while fetching; a
        // fetch dropped half-way (a cancelled `refresh_now`) leaves it as it
        // was.
        state.last_attempt = Some(Instant::now());
        match fetched {
            Ok(keys) => {
                let count = keys.len();
                tracing::debug!(count, "gatehouse-guard: fetched the issuer's keys");
                *self
                    .current
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Cached {
                    keys: Arc::new(keys),
                    fetched_at: Some(Instant::now()),
                };
                Ok(count)
            }
            Err(error) => {
                tracing::warn!(%error, "gatehouse-guard: fetching the issuer's keys failed; keeping the cached ones");
                Err(error)
            }
        }
    }

    async fn discover_and_fetch(&self, state: &mut RefreshState) -> Result<KeySet, FetchError> {
        let jwks_uri = match (&self.configured_jwks_uri, &state.jwks_uri) {
            (Some(uri), _) | (None, Some(uri)) => uri.clone(),
            (None, None) => {
                let uri = self.fetcher.jwks_uri().await?;
                state.jwks_uri = Some(uri.clone());
                uri
            }
        };
        self.fetcher.keys(&jwks_uri).await
    }
}

impl Cached {
    fn is_older_than(&self, age: Duration) -> bool {
        self.fetched_at.is_none_or(|at| at.elapsed() > age)
    }
}

fn millis_since(origin: Instant) -> u64 {
    u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl RefreshState {
    fn attempted_within(&self, interval: Duration) -> bool {
        self.last_attempt.is_some_and(|at| at.elapsed() < interval)
    }
}
