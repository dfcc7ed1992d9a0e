//! Leases and incremental purging of expired data.
//!
//! Token tables of other servers grow to tens of gigabytes because nothing
//! deletes what expired. Here one node at a time (the lease holder) deletes
//! expired rows in small batches, each a short statement on an indexed column,
//! so no long locks are held on either backend.

use super::SqlStore;
use crate::error::StoreResult;
use crate::{MaintenanceStore, PurgeReport, RateWindow};
use async_trait::async_trait;

/// Codes, device codes and jtis are kept a little past expiry so that a late
/// reuse is still recognised as reuse rather than as an unknown value.
/// A session row that ran out (absolute or idle) or ended before `$1`.
const SESSION_OVER: &str = "expires_at < $1 OR idle_expires_at < $1 OR ended_at < $1";
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

/// How long a record of an Action flow's run is kept (Auth0: ten days).
const ACTION_EXECUTION_RETENTION_SECONDS: i64 = 10 * 86_400;

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
        // Events still queued must not escape this purge of the old ones.
        self.logs.flush().await?;
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
                .delete_batch("sso_sessions", "id_hash", SESSION_OVER, grace, batch)
                .await?,
            dashboard_sessions: self
                .delete_batch("dashboard_sessions", "id_hash", SESSION_OVER, grace, batch)
                .await?,
            // Windows are at most a day long; older counters are dead.
            rate_limits: self
                .delete_batch("rate_limits", "key", "window_start < $1", now - 86_400, batch)
                .await?,
            // Auth0 keeps executions for ten days.
            action_executions: self
                .delete_batch(
                    "action_executions",
                    "id",
                    "created_at < $1",
                    now - ACTION_EXECUTION_RETENTION_SECONDS,
                    batch,
                )
                .await?,
            // Sent or abandoned mail is kept as long as the logs (jobs read it).
            mail_queue: self
                .delete_batch(
                    "mail_queue",
                    "id",
                    "(sent_at IS NOT NULL OR failed_at IS NOT NULL) AND created_at < $1",
                    now - log_retention_seconds,
                    batch,
                )
                .await?,
            // A day past expiry, so a late click still reads "expired".
            user_tickets: self
                .delete_batch(
                    "user_tickets",
                    "id_hash",
                    "expires_at < $1",
                    now - 86_400,
                    batch,
                )
                .await?,
        })
    }

    async fn reserve_login_attempt(
        &self,
        ip: &str,
        identifier: &str,
        now: i64,
        limit: i64,
        block_until: i64,
    ) -> StoreResult<Option<i64>> {
        // One upsert: the row lock (PostgreSQL) or the single writer (SQLite)
        // orders concurrent reservations, and the WHERE clause refuses the
        // ones beyond the limit (no row is then returned). The reservation
        // that reaches the limit starts the block itself.
        let limit = limit.max(1);
        Ok(sqlx::query_scalar(
            "INSERT INTO login_failures (ip, identifier, failures, blocked_until, updated_at) \
             VALUES ($1, $2, 1, CASE WHEN $4 <= 1 THEN $5 END, $3) \
             ON CONFLICT (ip, identifier) DO UPDATE SET \
               failures = CASE WHEN login_failures.blocked_until <= $3 THEN 1 \
                               ELSE login_failures.failures + 1 END, \
               blocked_until = CASE \
                 WHEN (CASE WHEN login_failures.blocked_until <= $3 THEN 1 \
                            ELSE login_failures.failures + 1 END) >= $4 THEN $5 \
                 ELSE NULL END, \
               updated_at = excluded.updated_at \
             WHERE (login_failures.blocked_until IS NULL AND login_failures.failures < $4) \
                OR login_failures.blocked_until <= $3 \
             RETURNING failures",
        )
        .bind(ip)
        .bind(identifier)
        .bind(now)
        .bind(limit)
        .bind(block_until)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn clear_login_failures(&self, ip: &str, identifier: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE ip = $1 AND identifier = $2")
            .bind(ip)
            .bind(identifier)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn login_blocks(&self, identifier: &str, now: i64) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT ip FROM login_failures WHERE identifier = $1 AND blocked_until > $2 \
             ORDER BY ip",
        )
        .bind(identifier)
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn clear_login_blocks(&self, identifier: &str) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM login_failures WHERE identifier = $1")
                .bind(identifier)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    async fn rate_limit_hits(&self, key: &str, now: i64, window: i64) -> StoreResult<RateWindow> {
        let start = window_start(now, window);
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT window_start, hits FROM rate_limits WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        let hits = match row {
            Some((stored_start, hits)) if stored_start >= start => hits,
            _ => 0,
        };
        Ok(RateWindow {
            hits,
            resets_at: start + window.max(1),
        })
    }

    async fn hit_rate_limit(&self, key: &str, now: i64, window: i64) -> StoreResult<RateWindow> {
        // No window holds i64::MAX hits, so the hit is always counted.
        let counted = count_hit(&self.pool, key, now, window, i64::MAX).await?;
        Ok(counted.unwrap_or(RateWindow {
            hits: i64::MAX,
            resets_at: window_start(now, window) + window.max(1),
        }))
    }

    async fn reserve_rate_limit(
        &self,
        key: &str,
        now: i64,
        window: i64,
        limit: i64,
    ) -> StoreResult<Option<RateWindow>> {
        count_hit(&self.pool, key, now, window, limit.max(1)).await
    }

    async fn release_rate_limit(&self, key: &str, now: i64, window: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE rate_limits SET hits = hits - 1 \
             WHERE key = $1 AND window_start = $2 AND hits > 0",
        )
        .bind(key)
        .bind(window_start(now, window))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// The start of the fixed window of `window` seconds that contains `now`;
/// windows are aligned to the epoch, so every node agrees on them.
/// Counts one hit on rate-limit `key` in the window of `now`, in one atomic
/// upsert that starts a fresh window when the stored one has passed and
/// leaves a current window holding `limit` hits alone (then `None`).
async fn count_hit(
    pool: &sqlx::AnyPool,
    key: &str,
    now: i64,
    window: i64,
    limit: i64,
) -> StoreResult<Option<RateWindow>> {
    let start = window_start(now, window);
    let row: Option<(i64, i64)> = sqlx::query_as(
        "INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           hits = CASE WHEN rate_limits.window_start >= excluded.window_start \
                       THEN rate_limits.hits + 1 ELSE 1 END, \
           window_start = CASE WHEN rate_limits.window_start >= excluded.window_start \
                               THEN rate_limits.window_start ELSE excluded.window_start END \
         WHERE rate_limits.window_start < excluded.window_start OR rate_limits.hits < $3 \
         RETURNING window_start, hits",
    )
    .bind(key)
    .bind(start)
    .bind(limit)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(stored_start, hits)| RateWindow {
        hits,
        resets_at: stored_start.max(start) + window.max(1),
    }))
}

fn window_start(now: i64, window: i64) -> i64 {
    let window = window.max(1);
    now - now.rem_euclid(window)
}
