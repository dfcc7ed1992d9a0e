//! Throwaway PostgreSQL databases for the workspace's test suites (store
//! conformance, server integration, CLI): each test creates its own randomly
//! named database through an admin connection to [`DATABASE_URL_VAR`] and
//! drops it `WITH (FORCE)` at the end, also when the test panics first. Best
//! effort either way: a leftover `gh_*` database is harmless.
//!
//! Not used by the server itself, and compiled only with the `testing`
//! feature, which the crates' dev-dependencies enable: every crate's tests
//! share one implementation, and production builds carry none of it.

use sqlx::{Connection, Executor};
use std::time::Duration;

/// The environment variable naming the PostgreSQL server to test against (an
/// admin URL). Without it, PostgreSQL tests print that they skipped.
pub const DATABASE_URL_VAR: &str = "GATEHOUSE_TEST_DATABASE_URL";

/// A PostgreSQL database created for one test. [`TestDatabase::drop_now`]
/// drops it; if the test panics first, `Drop` drops it from a helper thread.
pub struct TestDatabase {
    /// The URL of the new database.
    pub url: String,
    admin_url: String,
    name: String,
    dropped: bool,
}

impl TestDatabase {
    /// Creates `<prefix>_<random hex>` on the server of [`DATABASE_URL_VAR`];
    /// `None` when the variable is not set (the caller prints the skip).
    pub async fn create(prefix: &str) -> Option<Self> {
        let admin_url = std::env::var(DATABASE_URL_VAR)
            .ok()
            .filter(|url| !url.trim().is_empty())?;
        let name = format!("{prefix}_{}", gatehouse_core::ids::random_hex(8));
        let mut conn = admin_connection(&admin_url).await;
        // Concurrent CREATE DATABASE can briefly contend for the template; retry.
        let mut attempt = 0;
        loop {
            match conn
                .execute(format!("CREATE DATABASE \"{name}\"").as_str())
                .await
            {
                Ok(_) => break,
                Err(e) if attempt < 5 => {
                    attempt += 1;
                    eprintln!("CREATE DATABASE {name} failed ({e}), retrying");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(e) => panic!("CREATE DATABASE {name}: {e}"),
            }
        }
        let _ = conn.close().await;
        Some(Self {
            url: crate::sql::with_database(&admin_url, &name),
            admin_url,
            name,
            dropped: false,
        })
    }

    /// Cuts every connection to this database (`pg_terminate_backend`);
    /// returns how many were cut.
    pub async fn terminate_connections(&self) -> usize {
        let mut conn = admin_connection(&self.admin_url).await;
        let cut: Vec<(bool,)> = sqlx::query_as(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&self.name)
        .fetch_all(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("pg_terminate_backend on {}: {e}", self.name));
        let _ = conn.close().await;
        cut.len()
    }

    pub async fn drop_now(mut self) {
        self.dropped = true;
        drop_database(&self.admin_url, &self.name).await;
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // A new runtime on its own thread: this may run inside the test's runtime.
        let cleanup = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(drop_database(&admin_url, &name));
            }
        });
        let _ = cleanup.join();
    }
}

async fn admin_connection(admin_url: &str) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("connect to {DATABASE_URL_VAR}: {e}"))
}

async fn drop_database(admin_url: &str, name: &str) {
    let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await else {
        eprintln!("could not reconnect to drop database {name}");
        return;
    };
    // FORCE: the pool of a server that was not stopped may still be connected.
    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    if let Err(e) = conn.execute(sql.as_str()).await {
        eprintln!("DROP DATABASE {name}: {e}");
    }
    let _ = conn.close().await;
}
