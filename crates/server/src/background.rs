//! Work every node does in the background: noticing key rotations made by
//! other nodes (within a second), and purging expired data — by one node at a
//! time, the holder of the `purge` lease, in small batches.

use crate::state::AppState;
use gatehouse_store::PurgeReport;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct BackgroundConfig {
    /// How often stored keys are compared with the loaded ones.
    pub key_refresh: Duration,
    /// How often a purge pass is attempted.
    pub purge_every: Duration,
    /// Log events older than this are deleted.
    pub log_retention: Duration,
    /// Rows per delete statement.
    pub purge_batch: i64,
}

impl Default for BackgroundConfig {
    fn default() -> Self {
        Self {
            key_refresh: Duration::from_secs(1),
            purge_every: Duration::from_secs(60),
            log_retention: Duration::from_secs(30 * 86_400),
            purge_batch: 500,
        }
    }
}

/// Upper bound of batches per pass, so one pass never runs for long.
const MAX_BATCHES_PER_PASS: usize = 200;
const PURGE_LEASE: &str = "purge";

/// Starts the background loop; it ends when the runtime shuts down.
pub fn spawn(state: AppState, config: BackgroundConfig) -> tokio::task::JoinHandle<()> {
    let node = gatehouse_core::ids::random_hex(8);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(config.key_refresh);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_purge: Option<Instant> = None;
        loop {
            ticker.tick().await;
            if let Err(e) = state.keys().refresh(state.store()).await {
                tracing::warn!(error = %e, "could not refresh signing keys");
            }
            if last_purge.is_none_or(|t| t.elapsed() >= config.purge_every) {
                last_purge = Some(Instant::now());
                if let Err(e) = purge_pass(&state, &node, &config).await {
                    tracing::warn!(error = %e, "purge pass failed");
                }
            }
        }
    })
}

/// One pass: take the lease, then delete batch after batch until a batch
/// comes back short.
pub async fn purge_pass(
    state: &AppState,
    node: &str,
    config: &BackgroundConfig,
) -> Result<u64, gatehouse_store::StoreError> {
    let now = state.now();
    let ttl = i64::try_from(config.purge_every.as_secs()).unwrap_or(60) * 2;
    if !state.store().try_lease(PURGE_LEASE, node, now, ttl).await? {
        return Ok(0);
    }
    let retention = i64::try_from(config.log_retention.as_secs()).unwrap_or(i64::MAX / 4);
    let mut deleted = PurgeReport::default().per_table();
    for _ in 0..MAX_BATCHES_PER_PASS {
        let report = state
            .store()
            .purge_expired(state.now(), retention, config.purge_batch)
            .await?;
        let mut full = false;
        for ((_, sum), (_, n)) in deleted.iter_mut().zip(report.per_table()) {
            *sum += n;
            full |= i64::try_from(n).unwrap_or(i64::MAX) >= config.purge_batch;
        }
        if !full {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let total: u64 = deleted.iter().map(|(_, n)| n).sum();
    if total > 0 {
        let tables: Vec<String> = deleted
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(table, n)| format!("{table}={n}"))
            .collect();
        tracing::info!(deleted = total, tables = %tables.join(" "), "purged expired data");
    }
    Ok(total)
}
