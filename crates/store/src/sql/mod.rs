//! The SQL implementation of [`Store`](crate::Store), shared by SQLite and PostgreSQL.
//!
//! - `mod.rs`: connecting, per-backend session settings, migrations, helpers.
//! - [`config`]: tenant settings, signing keys, clients, APIs, client grants.
//! - [`directory`]: users, roles, permissions, consents.
//! - [`tokens`]: codes, refresh-token families, opaque tokens, device codes, jtis, logs.
//!
//! Concurrency rule: every "use once" transition is a conditional `UPDATE …
//! WHERE <still in the old state>` whose affected-row count decides the winner,
//! which is atomic on both backends without backend-specific locking.

mod config;
mod directory;
mod tokens;

use crate::error::{StoreError, StoreResult};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
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
        match self {
            Self::Sqlite => &[(
                "0001_initial",
                include_str!("../../../../migrations/sqlite/0001_initial.sql"),
            )],
            Self::Postgres => &[(
                "0001_initial",
                include_str!("../../../../migrations/postgres/0001_initial.sql"),
            )],
        }
    }
}

/// Hides the password part of a database URL for messages.
pub fn redact_url(url: &str) -> String {
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

/// The store over one connection pool.
pub struct SqlStore {
    pub(crate) pool: AnyPool,
    backend: Backend,
}

impl SqlStore {
    /// Connects and migrates. For SQLite the file is created if missing and
    /// put in WAL mode.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let backend = Backend::from_url(url)?;
        sqlx::any::install_default_drivers();
        let (url, max_connections) = match backend {
            Backend::Sqlite => (sqlite_url(url), 8),
            Backend::Postgres => (url.to_string(), 16),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    let setup = match backend {
                        Backend::Sqlite => {
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;"
                        }
                        Backend::Postgres => "SET statement_timeout = 15000",
                    };
                    conn.execute(setup).await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let store = Self { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the migrations not yet recorded in `gatehouse_migrations`.
    pub async fn migrate(&self) -> StoreResult<()> {
        self.pool
            .execute(
                "CREATE TABLE IF NOT EXISTS gatehouse_migrations \
                 (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
            )
            .await?;
        for (version, sql) in self.backend.migrations() {
            let applied: Option<String> =
                sqlx::query_scalar("SELECT version FROM gatehouse_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&self.pool)
                    .await?;
            if applied.is_some() {
                continue;
            }
            let fail = |source| StoreError::Migration {
                version: version.to_string(),
                source,
            };
            let mut tx = self.pool.begin().await?;
            sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(fail)?;
            sqlx::query("INSERT INTO gatehouse_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(gatehouse_core::time::now())
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
            tx.commit().await?;
            tracing::info!(version, "applied migration");
        }
        Ok(())
    }
}

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
