//! The configuration cache of [`SqlStore`](super::SqlStore): the tenant
//! settings, signing keys, clients, APIs and client grants that every token
//! request reads, kept in memory so a request reads them once per change
//! instead of once per request.
//!
//! Staying current:
//! - A write through this store empties the cache as soon as it is done.
//! - Every change to a cached table, by any node, the CLI or plain SQL, moves
//!   the one-row `config_epoch` (database triggers, migration
//!   `0014_config_epoch`). At most every [`EPOCH_CHECK_INTERVAL`] one reader
//!   looks at the epoch, while the others keep using the cache, and empties
//!   the cache when it moved. No background task.
//! - Each emptying starts a new generation; a value read from the database is
//!   kept only if no emptying happened since its read began, so a read that
//!   raced a change can never put the old value back.
//!
//! Bounded: at most [`MAX_ENTRIES`] entries (the cache starts over when full),
//! and lookups that found nothing are not kept, so unknown ids cannot fill it.
//! Callers get clones: changing one never changes the cache.

use crate::error::StoreResult;
use crate::{StoredClient, StoredKey};
use gatehouse_core::model::{ClientGrant, ResourceServer, TenantSettings};
use sqlx::AnyPool;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How often the epoch is read: the longest a change made elsewhere can go
/// unseen here, plus one query.
pub(crate) const EPOCH_CHECK_INTERVAL: Duration = Duration::from_millis(250);

/// The most entries kept; each is one client, API, grant list or singleton.
pub(crate) const MAX_ENTRIES: usize = 10_000;

/// What a cached read is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    TenantSettings,
    SigningKeys,
    AllResourceServers,
    Client(String),
    ResourceServer(String),
    ResourceServerByIdentifier(String),
    ClientGrantsFor { client_id: String, audience: String },
}

/// A cached result.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    TenantSettings(TenantSettings),
    SigningKeys(Vec<StoredKey>),
    ResourceServers(Vec<ResourceServer>),
    Client(StoredClient),
    ResourceServer(ResourceServer),
    ClientGrants(Vec<ClientGrant>),
}

/// A type that can be kept as a [`Value`].
pub(crate) trait Cacheable: Clone {
    fn into_value(self) -> Value;
    fn from_value(value: &Value) -> Option<&Self>;
}

macro_rules! cacheable {
    ($($variant:ident($type:ty)),* $(,)?) => {
        $(
            impl Cacheable for $type {
                fn into_value(self) -> Value {
                    Value::$variant(self)
                }
                fn from_value(value: &Value) -> Option<&Self> {
                    match value {
                        Value::$variant(inner) => Some(inner),
                        _ => None,
                    }
                }
            }
        )*
    };
}

cacheable! {
    TenantSettings(TenantSettings),
    SigningKeys(Vec<StoredKey>),
    ResourceServers(Vec<ResourceServer>),
    Client(StoredClient),
    ResourceServer(ResourceServer),
    ClientGrants(Vec<ClientGrant>),
}

/// The cached values and the generation they belong to.
#[derive(Default)]
struct Entries {
    generation: u64,
    values: HashMap<Key, Value>,
}

/// See the module documentation.
pub(crate) struct ConfigCache {
    entries: Mutex<Entries>,
    epoch: EpochWatch,
}

impl ConfigCache {
    pub(crate) fn new() -> Self {
        Self {
            entries: Mutex::new(Entries::default()),
            epoch: EpochWatch::new(),
        }
    }

    /// The cached value of `key`, else what `load` reads (kept for next time).
    pub(crate) async fn get_or_load<T: Cacheable>(
        &self,
        pool: &AnyPool,
        key: Key,
        load: impl Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        let generation = match self.lookup(pool, &key).await {
            Ok(hit) => return Ok(hit),
            Err(generation) => generation,
        };
        let loaded = load.await?;
        self.keep(key, loaded.clone().into_value(), generation);
        Ok(loaded)
    }

    /// Like [`Self::get_or_load`] for lookups that may find nothing; nothing
    /// found is not kept.
    pub(crate) async fn get_or_load_found<T: Cacheable>(
        &self,
        pool: &AnyPool,
        key: Key,
        load: impl Future<Output = StoreResult<Option<T>>>,
    ) -> StoreResult<Option<T>> {
        let generation = match self.lookup(pool, &key).await {
            Ok(hit) => return Ok(Some(hit)),
            Err(generation) => generation,
        };
        let loaded = load.await?;
        if let Some(value) = &loaded {
            self.keep(key, value.clone().into_value(), generation);
        }
        Ok(loaded)
    }

    /// A clone of the cached value of `key` (after looking at the epoch if it
    /// is time to), or the generation a read from the database belongs to.
    async fn lookup<T: Cacheable>(&self, pool: &AnyPool, key: &Key) -> Result<T, u64> {
        self.epoch.check(pool, self).await;
        let entries = self.lock();
        match entries.values.get(key).and_then(T::from_value) {
            Some(found) => Ok(found.clone()),
            None => Err(entries.generation),
        }
    }

    /// Forgets everything; reads already under way will not keep their results.
    pub(crate) fn clear(&self) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries.values.clear();
    }

    /// How many entries are kept (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().values.len()
    }

    fn keep(&self, key: Key, value: Value, read_in_generation: u64) {
        let mut entries = self.lock();
        if entries.generation != read_in_generation {
            return;
        }
        if entries.values.len() >= MAX_ENTRIES && !entries.values.contains_key(&key) {
            entries.values.clear();
        }
        entries.values.insert(key, value);
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // No code panics while holding the lock; a poisoned map is still whole.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// When the epoch was last read and what it was.
struct EpochWatch {
    started: Instant,
    /// Milliseconds after `started` when the next reader should look.
    next_check_ms: AtomicU64,
    /// Set while one reader is looking, so only one does.
    checking: AtomicBool,
    /// The epoch the cached values are current with; `None` before the first
    /// look and after a failed one.
    known: Mutex<Option<i64>>,
}

impl EpochWatch {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            next_check_ms: AtomicU64::new(0),
            checking: AtomicBool::new(false),
            known: Mutex::new(None),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Reads the epoch if it is time to and no other reader is; empties
    /// `cache` when the epoch moved or could not be read.
    async fn check(&self, pool: &AnyPool, cache: &ConfigCache) {
        if self.elapsed_ms() < self.next_check_ms.load(Ordering::Acquire) {
            return;
        }
        if self
            .checking
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        // Released however this ends, also when the caller's future is dropped.
        let _claim = CheckClaim(&self.checking);
        if self.elapsed_ms() < self.next_check_ms.load(Ordering::Acquire) {
            return;
        }
        let read = sqlx::query_scalar::<_, i64>("SELECT epoch FROM config_epoch WHERE id = 1")
            .fetch_one(pool)
            .await;
        let next = self.elapsed_ms() + interval_ms();
        self.next_check_ms.store(next, Ordering::Release);
        let epoch = match read {
            Ok(epoch) => Some(epoch),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the configuration epoch; cache emptied");
                None
            }
        };
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if epoch.is_none() || *known != epoch {
            *known = epoch;
            cache.clear();
        }
    }
}

fn interval_ms() -> u64 {
    u64::try_from(EPOCH_CHECK_INTERVAL.as_millis()).unwrap_or(u64::MAX)
}

/// Clears the "checking" flag when dropped.
struct CheckClaim<'a>(&'a AtomicBool);

impl Drop for CheckClaim<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::model::{AppType, Client};

    fn client(id: &str) -> StoredClient {
        StoredClient {
            client: Client::new(id, format!("App {id}"), AppType::NonInteractive),
            secret_hash: None,
        }
    }

    #[test]
    fn a_read_that_began_before_a_clear_is_not_kept() {
        let cache = ConfigCache::new();
        let generation = cache.lock().generation;
        cache.clear();
        cache.keep(
            Key::Client("a".into()),
            client("a").into_value(),
            generation,
        );
        assert_eq!(cache.len(), 0);
        let generation = cache.lock().generation;
        cache.keep(
            Key::Client("a".into()),
            client("a").into_value(),
            generation,
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = ConfigCache::new();
        for i in 0..MAX_ENTRIES {
            let id = format!("c{i}");
            cache.keep(Key::Client(id.clone()), client(&id).into_value(), 0);
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        cache.keep(Key::Client("one more".into()), client("x").into_value(), 0);
        assert_eq!(cache.len(), 1);
    }
}
