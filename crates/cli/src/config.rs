//! `gatehouse serve` configuration, layered: defaults < TOML file < environment
//! (`GATEHOUSE_*`) < flags. clap reads flags and environment; the file fills
//! what neither set. Unknown keys in the file are rejected.

use clap::Args;
use gatehouse_core::redact::Secret;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./gatehouse-data";
pub const DATABASE_FILE: &str = "gatehouse.db";

/// Flags of `gatehouse serve`; each also reads `GATEHOUSE_<NAME>`.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "GATEHOUSE_BIND")]
    pub bind: Option<String>,
    /// Directory for the embedded SQLite database and local state; created if
    /// missing [default: ./gatehouse-data]
    #[arg(long, env = "GATEHOUSE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Public base URL clients use to reach this server; the issuer is this
    /// URL with a trailing slash [default: http(s)://<bind>]
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Database URL: sqlite:<path> or postgres://… [default: SQLite file in
    /// the data directory]
    #[arg(long, env = "GATEHOUSE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Largest number of database connections this node opens [default: 8
    /// for SQLite, 16 for PostgreSQL]
    #[arg(long, env = "GATEHOUSE_DATABASE_MAX_CONNECTIONS")]
    pub database_max_connections: Option<u32>,
    /// PEM certificate chain; serves HTTPS together with --tls-key
    #[arg(long, env = "GATEHOUSE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert
    #[arg(long, env = "GATEHOUSE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Seconds a connection has for its first byte, a TLS handshake and each
    /// request header; also how long an idle keep-alive connection stays open
    /// [default: 30]
    #[arg(long, env = "GATEHOUSE_HEADER_TIMEOUT")]
    pub header_timeout: Option<u64>,
    /// Seconds a request body has to arrive completely; a slower one gets 408
    /// [default: 30]
    #[arg(long, env = "GATEHOUSE_BODY_TIMEOUT")]
    pub body_timeout: Option<u64>,
    /// Connections served at once; further ones wait (unserved) up to the
    /// header timeout for a free slot, then are closed [default: 1024]
    #[arg(long, env = "GATEHOUSE_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Comma-separated addresses or ranges (10.0.0.0/8) of the load balancers
    /// and proxies in front: their X-Forwarded-For names the client whose
    /// failed logins are counted [default: none, the peer address counts]
    #[arg(long, env = "GATEHOUSE_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// File holding the master key that seals the signing keys at rest
    /// (base64url of 32 bytes, or 64 hex digits); GATEHOUSE_MASTER_KEY may
    /// hold the key itself instead. Required with PostgreSQL [default:
    /// <data-dir>/master.key, generated at first start]
    #[arg(long, env = "GATEHOUSE_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Optional TOML file with any of the keys above (bind, data_dir,
    /// public_url, database_url, tls_cert, tls_key, header_timeout,
    /// body_timeout, max_connections, trusted_proxies, master_key_file);
    /// flags and environment win
    #[arg(long, env = "GATEHOUSE_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
}

/// Presets for the first start's management client and admin user; random
/// values are generated for whatever is not given.
#[derive(Debug, Args, Default, Clone)]
pub struct BootstrapArgs {
    /// client_id of the management (machine-to-machine) client created at first start
    #[arg(long, env = "GATEHOUSE_BOOTSTRAP_CLIENT_ID")]
    pub bootstrap_client_id: Option<String>,
    /// Its client secret (at least 32 characters)
    #[arg(
        long,
        env = "GATEHOUSE_BOOTSTRAP_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub bootstrap_client_secret: Option<Secret<String>>,
    /// Email of the admin user created at first start [default: admin@<host>]
    #[arg(long, env = "GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL")]
    pub bootstrap_admin_email: Option<String>,
    /// Password of that admin user (at least 8 characters)
    #[arg(
        long,
        env = "GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD",
        hide_env_values = true
    )]
    pub bootstrap_admin_password: Option<Secret<String>>,
}

impl BootstrapArgs {
    pub fn options(&self) -> gatehouse_server::bootstrap::BootstrapOptions {
        gatehouse_server::bootstrap::BootstrapOptions {
            client_id: self.bootstrap_client_id.clone(),
            client_secret: self.bootstrap_client_secret.clone(),
            admin_email: self.bootstrap_admin_email.clone(),
            admin_password: self.bootstrap_admin_password.clone(),
        }
    }
}

/// The TOML file's shape.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<String>,
    data_dir: Option<PathBuf>,
    public_url: Option<String>,
    database_url: Option<String>,
    database_max_connections: Option<u32>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    header_timeout: Option<u64>,
    body_timeout: Option<u64>,
    max_connections: Option<usize>,
    trusted_proxies: Option<String>,
    master_key_file: Option<PathBuf>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// `--public-url` when given; otherwise derived from the bound address.
    pub public_url: Option<String>,
    pub database_url: String,
    pub database_max_connections: Option<u32>,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub limits: gatehouse_server::ServeOptions,
    pub master_key_file: Option<PathBuf>,
}

impl ServeArgs {
    /// Merges the layers and validates; errors are one line for the operator.
    pub fn resolve(self) -> Result<ServeConfig, String> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let bind_text = self
            .bind
            .or(file.bind)
            .unwrap_or_else(|| DEFAULT_BIND.to_string());
        let bind: SocketAddr = bind_text.parse().map_err(|_| {
            format!("--bind must be an address like 127.0.0.1:8080, not {bind_text:?}")
        })?;
        let data_dir = self
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let tls = match (
            self.tls_cert.or(file.tls_cert),
            self.tls_key.or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => return Err("--tls-cert and --tls-key must be given together".into()),
        };
        let public_url = self.public_url.or(file.public_url);
        if let Some(url) = &public_url {
            issuer_from_public_url(url)?;
        }
        let database_url = self
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite:{}", data_dir.join(DATABASE_FILE).display()));
        let defaults = gatehouse_server::ServeOptions::default();
        let seconds = |value: Option<u64>, default: Duration, flag: &str| match value {
            None => Ok(default),
            Some(s @ 1..=3600) => Ok(Duration::from_secs(s)),
            Some(s) => Err(format!("--{flag} must be 1 to 3600 seconds, not {s}")),
        };
        let limits = gatehouse_server::ServeOptions {
            header_timeout: seconds(
                self.header_timeout.or(file.header_timeout),
                defaults.header_timeout,
                "header-timeout",
            )?,
            body_timeout: seconds(
                self.body_timeout.or(file.body_timeout),
                defaults.body_timeout,
                "body-timeout",
            )?,
            max_connections: match self.max_connections.or(file.max_connections) {
                None => defaults.max_connections,
                Some(0) => return Err("--max-connections must be at least 1".into()),
                Some(n) => n,
            },
            trusted_proxies: match self.trusted_proxies.or(file.trusted_proxies) {
                Some(list) => gatehouse_server::client_ip::TrustedProxies::parse_list(&list)
                    .map_err(|e| format!("--trusted-proxies: {e}"))?,
                None => defaults.trusted_proxies.clone(),
            },
        };
        Ok(ServeConfig {
            limits,
            bind,
            data_dir,
            public_url,
            database_url,
            database_max_connections: self
                .database_max_connections
                .or(file.database_max_connections),
            tls,
            master_key_file: self.master_key_file.or(file.master_key_file),
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        let reason = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
        format!("config file {}: {reason}", path.display())
    })
}

impl ServeConfig {
    /// The issuer (`<public-url>/`); without `--public-url`, from the address
    /// actually bound (so `--bind 127.0.0.1:0` gets the real port).
    pub fn issuer(&self, bound: SocketAddr) -> String {
        let url = match &self.public_url {
            Some(url) => url.clone(),
            None => {
                let scheme = if self.tls.is_some() { "https" } else { "http" };
                format!("{scheme}://{}", default_host(bound))
            }
        };
        format!("{}/", url.trim_end_matches('/'))
    }
}

/// A wildcard bind is not a URL clients can use: advertise loopback instead.
fn default_host(bind: SocketAddr) -> String {
    if bind.ip().is_unspecified() {
        format!("127.0.0.1:{}", bind.port())
    } else {
        bind.to_string()
    }
}

/// Validates `--public-url` and returns the issuer (`<url>/`).
pub fn issuer_from_public_url(url: &str) -> Result<String, String> {
    let bad = |why: &str| format!("--public-url {url:?} is not usable: {why}");
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| bad("it must start with http:// or https://"))?;
    if rest.contains(['?', '#']) {
        return Err(bad("it must not have a query or fragment"));
    }
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("it must not contain spaces"));
    }
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') || host.contains('@') {
        return Err(bad("it needs a host name"));
    }
    if let Some((_, port)) = host.rsplit_once(':').filter(|_| !host.ends_with(']')) {
        if port.parse::<u16>().is_err() {
            return Err(bad("its port is not a number"));
        }
    }
    Ok(format!("{}/", url.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_gets_one_trailing_slash() {
        assert_eq!(
            issuer_from_public_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            issuer_from_public_url("https://id.example.com/tenant/").unwrap(),
            "https://id.example.com/tenant/"
        );
        for bad in [
            "ftp://x",
            "127.0.0.1:8080",
            "http://",
            "http://x?y=1",
            "http://x:port",
        ] {
            assert!(issuer_from_public_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_beat_file_beat_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("g.toml");
        std::fs::write(
            &file,
            "bind = \"127.0.0.1:9000\"\npublic_url = \"https://file.example\"\n",
        )
        .unwrap();
        let resolved = ServeArgs {
            config: Some(file.clone()),
            public_url: Some("https://flag.example".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(resolved.bind.port(), 9000);
        assert_eq!(resolved.issuer(resolved.bind), "https://flag.example/");
        assert!(resolved.database_url.starts_with("sqlite:"));
        assert_eq!(resolved.limits, gatehouse_server::ServeOptions::default());
        std::fs::write(&file, "header_timeout = 5\nmax_connections = 7\n").unwrap();
        let resolved = ServeArgs {
            config: Some(file.clone()),
            header_timeout: Some(2),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(resolved.limits.header_timeout, Duration::from_secs(2));
        assert_eq!(resolved.limits.max_connections, 7);
        let zero = ServeArgs {
            max_connections: Some(0),
            ..Default::default()
        };
        assert!(zero.resolve().is_err());
        std::fs::write(&file, "trusted_proxies = \"10.0.0.0/8, ::1\"\n").unwrap();
        let resolved = ServeArgs {
            config: Some(file.clone()),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(
            resolved.limits.trusted_proxies,
            gatehouse_server::client_ip::TrustedProxies::parse_list("10.0.0.0/8,::1").unwrap()
        );
        let bad = ServeArgs {
            trusted_proxies: Some("10.0.0.0/33".into()),
            ..Default::default()
        };
        assert!(bad.resolve().unwrap_err().contains("--trusted-proxies"));
        std::fs::write(&file, "bogus = 1\n").unwrap();
        let err = ServeArgs {
            config: Some(file),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.contains("bogus"), "{err}");
    }
}
