//! Leases and incremental purging of expired data.
//!
//! Token tables of other servers grow to tens of gigabytes because nothing
//! deletes what expired. Here one node at a time (the lease holder) deletes
//! expired rows in small batches, each a short statement on an indexed column,
//! so no long locks are held on either backend.

use super::SqlStore;
use crate::error::StoreResult;
use crate::{MaintenanceStore, PurgeReport};
use async_trait::async_trait;

/// Codes, device codes and jtis are kept a little past expiry so that a late
/// reuse is still recognised as reuse rather than as an unknown value.
const GRACE_SECONDS: i64 = 3600;

impl SqlStore {
    /// Deletes up to `batch` rows of `table` whose key is selected by `filter`
    /// (with `$1` bound to `cutoff`).
    async fn delete_batch(
        &self,
        table: &str,
        key: &str,
        filter: &str,
        cutoff: i64,
        batch: i64,
    ) -> StoreResult<u64> {
        let sql = format!(
            "DELETE FROM {table} WHERE ({filter}) AND {key} IN \
             (SELECT {key} FROM {table} WHERE {filter} LIMIT $2)"
        );
        Ok(sqlx::query(&sql)
            .bind(cutoff)
            .bind(batch)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

#[async_trait]
impl MaintenanceStore for SqlStore {
    async fn try_lease(&self, name: &str, holder: &str, now: i64, ttl: i64) -> StoreResult<bool> {
        let taken = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.expires_at < $4 OR leases.holder = excluded.holder",
        )
        .bind(name)
        .bind(holder)
        .bind(now + ttl)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(taken == 1)
    }

    async fn purge_expired(
        &self,
        now: i64,
        log_retention_seconds: i64,
        batch: i64,
    ) -> StoreResult<PurgeReport> {
        let grace = now - GRACE_SECONDS;
        Ok(PurgeReport {
            authorization_codes: self
                .delete_batch("authorization_codes", "code_hash", "expires_at < $1", grace, batch)
                .await?,
            opaque_tokens: self
                .delete_batch("opaque_tokens", "token_hash", "expires_at < $1", now, batch)
                .await?,
            device_codes: self
                .delete_batch("device_codes", "device_code_hash", "expires_at < $1", grace, batch)
                .await?,
            used_jtis: self
                .delete_batch("used_jtis", "jti", "expires_at < $1", grace, batch)
                .await?,
            // A family's tokens go with it (ON DELETE CASCADE). Revoked
            // families are kept for the grace period so reuse is still logged.
            refresh_families: self
                .delete_batch(
                    "refresh_families",
                    "id",
                    "(expires_at IS NOT NULL AND expires_at < $1) OR (revoked_at IS NOT NULL AND revoked_at < $1)",
                    grace,
                    batch,
                )
                .await?,
            log_events: self
                .delete_batch("log_events", "id", "date < $1", now - log_retention_seconds, batch)
                .await?,
            // Counters of unblocked pairs are forgotten after a day; blocks when they end.
            login_failures: sqlx::query(
                "DELETE FROM login_failures WHERE (blocked_until IS NULL AND updated_at < $1) \
                 OR blocked_until < $2",
            )
            .bind(now - 86_400)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected(),
            // Sessions that ran out (absolute or idle) or ended are kept for the
            // grace period, so a late request with the cookie is answered as
            // "logged out", not as an unknown session.
            sso_sessions: self
                .delete_batch(
                    "sso_sessions",
                    "id_hash",
                    "expires_at < $1 OR idle_expires_at < $1 OR ended_at < $1",
                    grace,
                    batch,
                )
                .await?,
        })
    }

    async fn login_blocked_until(
        &self,
        ip: &str,
        identifier: &str,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        let until: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT blocked_until FROM login_failures WHERE ip = $1 AND identifier = $2 \
             AND blocked_until > $3",
        )
        .bind(ip)
        .bind(identifier)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(until.flatten())
    }

    async fn record_login_failure(
        &self,
        ip: &str,
        identifier: &str,
        now: i64,
        threshold: i64,
        block_until: i64,
    ) -> StoreResult<(i64, Option<i64>)> {
        let row: (i64, Option<i64>) = sqlx::query_as(
            "INSERT INTO login_failures (ip, identifier, failures, blocked_until, updated_at) \
             VALUES ($1, $2, 1, CASE WHEN 1 >= $4 THEN $5 ELSE NULL END, $3) \
             ON CONFLICT (ip, identifier) DO UPDATE SET \
               failures = login_failures.failures + 1, updated_at = excluded.updated_at, \
               blocked_until = CASE WHEN login_failures.failures + 1 >= $4 THEN $5 \
                                    ELSE login_failures.blocked_until END \
             RETURNING failures, blocked_until",
        )
        .bind(ip)
        .bind(identifier)
        .bind(now)
        .bind(threshold)
        .bind(block_until)
        .fetch_one(&self.pool)
        .await?;
        Ok(row)
    }

    async fn clear_login_failures(&self, ip: &str, identifier: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE ip = $1 AND identifier = $2")
            .bind(ip)
            .bind(identifier)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
