//! Opening the store for every command, with an operator's error message:
//! a PostgreSQL server that cannot be reached is reported at once with its
//! host, port and the reason ("connection refused"), instead of the pool's
//! "pool timed out" after its acquire timeout.

use crate::config::DATABASE_FILE;
use gatehouse_store::sql::{PoolSettings, SqlStore};
use gatehouse_store::Store;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long the reachability check waits for a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The URL of an existing tenant's database: `database_url`, else the SQLite
/// file in `data_dir`, which must exist (only `serve` creates one).
pub fn existing_url(database_url: Option<&str>, data_dir: &Path) -> Result<String, String> {
    if let Some(url) = database_url {
        return Ok(url.to_string());
    }
    let file = data_dir.join(DATABASE_FILE);
    if !file.exists() {
        return Err(format!(
            "no database at {} (start `gatehouse serve` once, or pass --data-dir)",
            file.display()
        ));
    }
    Ok(format!("sqlite:{}", file.display()))
}

/// Opens (and migrates) the database at `url` with default pool settings.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, String> {
    open_with(url, &PoolSettings::default()).await
}

/// [`open`] with explicit pool settings.
pub async fn open_with(url: &str, settings: &PoolSettings) -> Result<Arc<dyn Store>, String> {
    Ok(Arc::new(connect(url, settings).await?))
}

/// Checks that the server is reachable, then connects (migrating when
/// `settings` say so).
pub async fn connect(url: &str, settings: &PoolSettings) -> Result<SqlStore, String> {
    check_reachable(url).await?;
    SqlStore::connect_with(url, settings)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))
}

/// For a `postgres://` URL with a TCP host, connects once to its host and
/// port; other URLs (SQLite, Unix sockets) pass unchecked.
pub async fn check_reachable(url: &str) -> Result<(), String> {
    let Some((host, port)) = postgres_address(url) else {
        return Ok(());
    };
    let address = format!("{host}:{port}");
    let what_to_do =
        "is PostgreSQL running there, and is --database-url (GATEHOUSE_DATABASE_URL) right?";
    match tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!(
            "cannot reach PostgreSQL at {address}: {}; {what_to_do}",
            io_reason(&e)
        )),
        Err(_) => Err(format!(
            "cannot reach PostgreSQL at {address}: no answer within {} s; {what_to_do}",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

/// "connection refused" rather than "Connection refused (os error 111)".
fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        _ => {
            let text = error.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text);
            text.to_lowercase()
        }
    }
}

/// Host and port of `postgres://[user[:password]@]host[:port][/db][?params]`;
/// `None` for other schemes, an empty host (Unix socket) or a `host=` parameter.
pub fn postgres_address(url: &str) -> Option<(String, u16)> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))?;
    let (authority, query) = match rest.split_once(['/', '?']) {
        Some((authority, _)) => (authority, rest.split_once('?').map_or("", |(_, q)| q)),
        None => (rest, ""),
    };
    if query.split('&').any(|p| p.starts_with("host=")) {
        return None;
    }
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() || host.contains(',') {
        return None;
    }
    let port = match port {
        Some(port) => port.parse().ok()?,
        None => 5432,
    };
    Some((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_addresses() {
        let cases = [
            (
                "postgres://u:p@db.example:6432/x",
                Some(("db.example", 6432)),
            ),
            ("postgres://db/x?sslmode=disable", Some(("db", 5432))),
            ("postgresql://[::1]:5433/x", Some(("::1", 5433))),
            ("postgres://u@127.0.0.1", Some(("127.0.0.1", 5432))),
            ("postgres:///x?host=/run/postgresql", None),
            ("postgres://db/x?host=/run/postgresql", None),
            ("sqlite:./x.db", None),
        ];
        for (url, want) in cases {
            let got = postgres_address(url);
            assert_eq!(got.as_ref().map(|(h, p)| (h.as_str(), *p)), want, "{url}");
        }
    }

    #[tokio::test]
    async fn refused_connection_names_the_address() {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = check_reachable(&format!("postgres://u@127.0.0.1:{port}/x"))
            .await
            .unwrap_err();
        assert!(
            err.contains(&format!("127.0.0.1:{port}")) && err.contains("connection refused"),
            "{err}"
        );
    }
}
