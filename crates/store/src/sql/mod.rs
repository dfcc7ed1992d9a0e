//! The SQL implementation of [`Store`](crate::Store), shared by SQLite and PostgreSQL.
//!
//! - `mod.rs`: connecting, per-backend session settings, migrations, helpers.
//! - [`actions`]: Actions, their trigger bindings (flows) and executions.
//! - [`config`]: tenant settings, signing keys, clients, APIs, client grants.
//! - [`config_cache`]: those of them the request path reads, kept in memory
//!   and emptied on every change, here or on another node.
//! - [`directory`]: users, roles, permissions, consents.
//! - [`tokens`]: codes, refresh-token families, opaque tokens, device codes, jtis, logs.
//! - [`maintenance`]: leases and incremental purging of expired data.
//! - [`sessions`]: SSO sessions.
//! - [`log_writer`]: log events queued to one writer task that inserts them in batches.
//! - `user_search`: the user search compiled to SQL, and its columns.
//! - `bulk`: multi-row inserts for imports and seeding.
//!
//! Concurrency rule: every "use once" transition is a conditional `UPDATE …
//! WHERE <still in the old state>` whose affected-row count decides the winner,
//! which is atomic on both backends without backend-specific locking.

mod actions;
mod bulk;
mod config;
mod config_cache;
mod directory;
mod log_writer;
mod mail;
mod maintenance;
mod sessions;
mod tokens;
mod user_search;

pub use log_writer::wait_for_log_writers;

use crate::error::{StoreError, StoreResult};
use gatehouse_core::clock::{Clock, SystemClock};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Which database is behind the pool; decides migrations and session settings only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }

    fn migrations(self) -> &'static [(&'static str, &'static str)] {
        // 0003 was reserved for a branch that needed no migration; 0010 is
        // another branch's.
        match self {
            Self::Sqlite => &[
                (
                    "0001_initial",
                    include_str!("../../../../migrations/sqlite/0001_initial.sql"),
                ),
                (
                    "0002_sessions",
                    include_str!("../../../../migrations/sqlite/0002_sessions.sql"),
                ),
                (
                    "0004_maintenance",
                    include_str!("../../../../migrations/sqlite/0004_maintenance.sql"),
                ),
                (
                    "0005_attack_protection",
                    include_str!("../../../../migrations/sqlite/0005_attack_protection.sql"),
                ),
                (
                    "0006_sealed_signing_keys",
                    include_str!("../../../../migrations/sqlite/0006_sealed_signing_keys.sql"),
                ),
                (
                    "0007_rate_limits",
                    include_str!("../../../../migrations/sqlite/0007_rate_limits.sql"),
                ),
                (
                    "0008_server_values",
                    include_str!("../../../../migrations/sqlite/0008_server_values.sql"),
                ),
                (
                    "0009_log_fields",
                    include_str!("../../../../migrations/sqlite/0009_log_fields.sql"),
                ),
                (
                    "0010_dashboard_sessions",
                    include_str!("../../../../migrations/sqlite/0010_dashboard_sessions.sql"),
                ),
                (
                    "0011_user_search",
                    include_str!("../../../../migrations/sqlite/0011_user_search.sql"),
                ),
                (
                    "0012_actions",
                    include_str!("../../../../migrations/sqlite/0012_actions.sql"),
                ),
                (
                    "0013_email",
                    include_str!("../../../../migrations/sqlite/0013_email.sql"),
                ),
                (
                    "0014_config_epoch",
                    include_str!("../../../../migrations/sqlite/0014_config_epoch.sql"),
                ),
                (
                    "0015_scale_indexes",
                    include_str!("../../../../migrations/sqlite/0015_scale_indexes.sql"),
                ),
            ],
            Self::Postgres => &[
                (
                    "0001_initial",
                    include_str!("../../../../migrations/postgres/0001_initial.sql"),
                ),
                (
                    "0002_sessions",
                    include_str!("../../../../migrations/postgres/0002_sessions.sql"),
                ),
                (
                    "0004_maintenance",
                    include_str!("../../../../migrations/postgres/0004_maintenance.sql"),
                ),
                (
                    "0005_attack_protection",
                    include_str!("../../../../migrations/postgres/0005_attack_protection.sql"),
                ),
                (
                    "0006_sealed_signing_keys",
                    include_str!("../../../../migrations/postgres/0006_sealed_signing_keys.sql"),
                ),
                (
                    "0007_rate_limits",
                    include_str!("../../../../migrations/postgres/0007_rate_limits.sql"),
                ),
                (
                    "0008_server_values",
                    include_str!("../../../../migrations/postgres/0008_server_values.sql"),
                ),
                (
                    "0009_log_fields",
                    include_str!("../../../../migrations/postgres/0009_log_fields.sql"),
                ),
                (
                    "0010_dashboard_sessions",
                    include_str!("../../../../migrations/postgres/0010_dashboard_sessions.sql"),
                ),
                (
                    "0011_user_search",
                    include_str!("../../../../migrations/postgres/0011_user_search.sql"),
                ),
                (
                    "0012_actions",
                    include_str!("../../../../migrations/postgres/0012_actions.sql"),
                ),
                (
                    "0013_email",
                    include_str!("../../../../migrations/postgres/0013_email.sql"),
                ),
                (
                    "0014_config_epoch",
                    include_str!("../../../../migrations/postgres/0014_config_epoch.sql"),
                ),
                (
                    "0015_scale_indexes",
                    include_str!("../../../../migrations/postgres/0015_scale_indexes.sql"),
                ),
            ],
        }
    }
}

/// Hides the password of a database URL for messages: the one in
/// `user:password@` and a `password=` query parameter.
pub fn redact_url(url: &str) -> String {
    let url = redact_password_parameter(url);
    let url = url.as_str();
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:[redacted]{}",
                    &url[..scheme_end + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `url` with its database (the path) replaced by `name`, query kept.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_at(url.find('?').unwrap_or(url.len()));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

fn redact_password_parameter(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("password") => {
                format!("{name}=[redacted]")
            }
            _ => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

/// Connection-pool settings (`--database-max-connections` and friends).
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Default: 8 for SQLite, 16 for PostgreSQL.
    pub max_connections: Option<u32>,
    /// How long a request waits for a free connection.
    pub acquire_timeout: Duration,
    /// PostgreSQL `statement_timeout`.
    pub statement_timeout: Duration,
    /// Apply pending migrations on connect (every command but `doctor`,
    /// which only looks).
    pub apply_migrations: bool,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: None,
            acquire_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(15),
            apply_migrations: true,
        }
    }
}

/// The store over one connection pool.
pub struct SqlStore {
    pub(crate) pool: AnyPool,
    backend: Backend,
    logs: log_writer::LogWriter,
    /// The configuration the request path reads; every write to it here
    /// empties it ([`config_cache`]).
    config_cache: config_cache::ConfigCache,
}

impl SqlStore {
    /// Connects with default pool settings and migrates.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(url, &PoolSettings::default()).await
    }

    /// Connects and migrates. For SQLite the file is created if missing and
    /// put in WAL mode. Broken connections (a database restart, a terminated
    /// backend) are detected when checked out and replaced, so the node
    /// recovers without a restart.
    pub async fn connect_with(url: &str, settings: &PoolSettings) -> StoreResult<Self> {
        let backend = Backend::from_url(url)?;
        sqlx::any::install_default_drivers();
        let (url, default_max) = match backend {
            Backend::Sqlite => (sqlite_url(url), 8),
            Backend::Postgres => (url.to_string(), 16),
        };
        let statement_timeout_ms = settings.statement_timeout.as_millis();
        let pool = AnyPoolOptions::new()
            .max_connections(settings.max_connections.unwrap_or(default_max))
            .acquire_timeout(settings.acquire_timeout)
            // A local SQLite file cannot drop a connection; a PostgreSQL
            // backend can be terminated under us, so it is pinged first.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                let setup = match backend {
                    Backend::Sqlite => "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                       PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;"
                        .to_string(),
                    Backend::Postgres => format!("SET statement_timeout = {statement_timeout_ms}"),
                };
                Box::pin(async move {
                    conn.execute(setup.as_str()).await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let logs = log_writer::LogWriter::new(pool.clone());
        let store = Self {
            pool,
            backend,
            logs,
            config_cache: config_cache::ConfigCache::new(),
        };
        if settings.apply_migrations {
            store.migrate().await?;
        }
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the migrations not yet recorded in `gatehouse_migrations`,
    /// each in its own transaction. On PostgreSQL a transaction-scoped advisory
    /// lock serialises nodes that start together.
    ///
    /// Boxed with an explicit `Send` bound: written as a plain `async fn`, the
    /// compiler cannot prove the transaction executor `Send` for every lifetime,
    /// and `open()` could then not be awaited inside a spawned task.
    pub fn migrate(&self) -> Pin<Box<dyn Future<Output = StoreResult<()>> + Send + '_>> {
        Box::pin(self.migrate_inner())
    }

    async fn migrate_inner(&self) -> StoreResult<()> {
        let mut tx = self.locked_transaction().await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS gatehouse_migrations \
             (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        for (version, sql) in self.backend.migrations() {
            let mut tx = self.locked_transaction().await?;
            let applied: Option<String> =
                sqlx::query_scalar("SELECT version FROM gatehouse_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&mut *tx)
                    .await?;
            if applied.is_some() {
                tx.commit().await?;
                continue;
            }
            let fail = |source| StoreError::Migration {
                version: version.to_string(),
                source,
            };
            (&mut *tx).execute(*sql).await.map_err(fail)?;
            if *version == "0011_user_search" {
                user_search::backfill_search_columns(&mut tx)
                    .await
                    .map_err(|e| StoreError::Migration {
                        version: version.to_string(),
                        source: sqlx::Error::Protocol(e.to_string()),
                    })?;
            }
            sqlx::query("INSERT INTO gatehouse_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(SystemClock.now())
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
            tx.commit().await?;
            tracing::info!(version, "applied migration");
        }
        // A migration may have rewritten configuration read before it.
        self.config_cache.clear();
        Ok(())
    }

    /// The migrations this binary has that the database has not recorded.
    pub async fn pending_migrations(&self) -> StoreResult<Vec<&'static str>> {
        let applied: Vec<String> =
            match sqlx::query_scalar("SELECT version FROM gatehouse_migrations")
                .fetch_all(&self.pool)
                .await
            {
                Ok(applied) => applied,
                // No table yet: nothing was ever applied.
                Err(sqlx::Error::Database(_)) => Vec::new(),
                Err(e) => return Err(e.into()),
            };
        Ok(self
            .backend
            .migrations()
            .iter()
            .map(|(version, _)| *version)
            .filter(|version| !applied.iter().any(|a| a == version))
            .collect())
    }

    async fn locked_transaction(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK_KEY)
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }
}

/// An arbitrary constant naming Gatehouse's migration lock.
const MIGRATION_LOCK_KEY: i64 = 0x6761_7465_686f_7573;

/// `sqlite:<path>` → a URL that creates the file when missing.
fn sqlite_url(url: &str) -> String {
    if url.contains('?') {
        url.to_string()
    } else {
        format!("{url}?mode=rwc")
    }
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    // Serializing our own model types cannot fail (no non-string map keys).
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Decodes the `body` column of a row.
pub(crate) fn body<T: DeserializeOwned>(row: &AnyRow) -> StoreResult<T> {
    from_json(&row.try_get::<String, _>("body")?)
}

pub(crate) fn bool_int(b: bool) -> i64 {
    i64::from(b)
}

/// Fails with `NotFound` when an update or delete touched no row.
pub(crate) fn expect_one(result: sqlx::any::AnyQueryResult) -> StoreResult<()> {
    if result.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{redact_url, with_database};

    #[test]
    fn database_name_replaces_the_path() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgresql://h:5432", "x"),
            "postgresql://h:5432/x"
        );
    }

    #[test]
    fn database_urls_lose_their_passwords() {
        let cases = [
            ("postgres://u:s3cret@db/x", "postgres://u:[redacted]@db/x"),
            (
                "postgres://u@db/x?sslmode=require&password=s3cret",
                "postgres://u@db/x?sslmode=require&password=[redacted]",
            ),
            (
                "postgres://u:a@db/x?PASSWORD=b",
                "postgres://u:[redacted]@db/x?PASSWORD=[redacted]",
            ),
            ("sqlite:./gatehouse.db", "sqlite:./gatehouse.db"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }
}
