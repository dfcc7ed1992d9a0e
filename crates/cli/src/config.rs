//! `gatehouse serve` configuration, layered: defaults < TOML file < environment
//! (`GATEHOUSE_*`) < flags. One struct, [`ServeArgs`], is both the flags (clap
//! reads flags and environment) and the file's shape (serde), so every flag is
//! a key spelled with underscores and `--help` describes both. Unknown keys in
//! the file are rejected; every file error names the line, column and key.

use clap::Args;
use gatehouse_core::redact::Secret;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Where email goes, inside the data directory, when no SMTP server is configured.
pub const OUTBOX_DIR: &str = "outbox";
pub const DEFAULT_DATA_DIR: &str = "./gatehouse-data";
pub const DATABASE_FILE: &str = "gatehouse.db";

/// Flags of `gatehouse serve`; each also reads `GATEHOUSE_<NAME>` and is a key
/// of the `--config` file.
#[derive(Debug, Args, Default, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// client_id of the management (machine-to-machine) client created at
    /// first start [default: random]
    #[arg(long, env = "GATEHOUSE_BOOTSTRAP_CLIENT_ID")]
    pub bootstrap_client_id: Option<String>,
    /// Its client secret (at least 32 characters) [default: random]
    #[arg(
        long,
        env = "GATEHOUSE_BOOTSTRAP_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub bootstrap_client_secret: Option<Secret<String>>,
    /// Email of the admin user created at first start [default: admin@<host>]
    #[arg(long, env = "GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL")]
    pub bootstrap_admin_email: Option<String>,
    /// Password of that admin user (at least 8 characters) [default: random]
    #[arg(
        long,
        env = "GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD",
        hide_env_values = true
    )]
    pub bootstrap_admin_password: Option<Secret<String>>,
    /// SMTP server for outgoing email: smtp://user:pass@host:587 (STARTTLS)
    /// or smtps://user:pass@host:465 (TLS) [default: none, each email is
    /// written as an .eml file to <data-dir>/outbox/]
    #[arg(long, env = "GATEHOUSE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<Secret<String>>,
    /// Sender of outgoing email, e.g. "Acme <no-reply@acme.test>"
    /// [default: Gatehouse <no-reply@gatehouse.local>]
    #[arg(long, env = "GATEHOUSE_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// TOML file setting any of the options above, each spelled with
    /// underscores (database_max_connections = 4, bootstrap_admin_email =
    /// "…"); flags and environment win
    #[arg(long, env = "GATEHOUSE_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
}

impl ServeArgs {
    /// Each option from the flags or environment, else from `file`. The
    /// destructuring is exhaustive: a new option cannot be forgotten here.
    fn or_file(self, file: ServeArgs) -> ServeArgs {
        let ServeArgs {
            bind,
            data_dir,
            public_url,
            database_url,
            database_max_connections,
            tls_cert,
            tls_key,
            header_timeout,
            body_timeout,
            max_connections,
            trusted_proxies,
            master_key_file,
            bootstrap_client_id,
            bootstrap_client_secret,
            bootstrap_admin_email,
            bootstrap_admin_password,
            smtp_url,
            smtp_from,
            config: _,
        } = file;
        ServeArgs {
            bind: self.bind.or(bind),
            data_dir: self.data_dir.or(data_dir),
            public_url: self.public_url.or(public_url),
            database_url: self.database_url.or(database_url),
            database_max_connections: self.database_max_connections.or(database_max_connections),
            tls_cert: self.tls_cert.or(tls_cert),
            tls_key: self.tls_key.or(tls_key),
            header_timeout: self.header_timeout.or(header_timeout),
            body_timeout: self.body_timeout.or(body_timeout),
            max_connections: self.max_connections.or(max_connections),
            trusted_proxies: self.trusted_proxies.or(trusted_proxies),
            master_key_file: self.master_key_file.or(master_key_file),
            bootstrap_client_id: self.bootstrap_client_id.or(bootstrap_client_id),
            bootstrap_client_secret: self.bootstrap_client_secret.or(bootstrap_client_secret),
            bootstrap_admin_email: self.bootstrap_admin_email.or(bootstrap_admin_email),
            bootstrap_admin_password: self.bootstrap_admin_password.or(bootstrap_admin_password),
            smtp_url: self.smtp_url.or(smtp_url),
            smtp_from: self.smtp_from.or(smtp_from),
            config: self.config,
        }
    }
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
    /// Presets for the first start's management client and admin user.
    pub bootstrap: gatehouse_server::bootstrap::BootstrapOptions,
    /// How email leaves this node.
    pub mail: gatehouse_server::email::MailConfig,
}

impl ServeArgs {
    /// Merges the layers and validates; errors are one line for the operator.
    pub fn resolve(self) -> Result<ServeConfig, String> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => ServeArgs::default(),
        };
        self.or_file(file).validate()
    }

    fn validate(self) -> Result<ServeConfig, String> {
        let bootstrap = gatehouse_server::bootstrap::BootstrapOptions {
            client_id: self.bootstrap_client_id,
            client_secret: self.bootstrap_client_secret,
            admin_email: self.bootstrap_admin_email,
            admin_password: self.bootstrap_admin_password,
        };
        let bind_text = self.bind.unwrap_or_else(|| DEFAULT_BIND.to_string());
        let bind: SocketAddr = bind_text.parse().map_err(|_| {
            format!("--bind must be an address like 127.0.0.1:8080, not {bind_text:?}")
        })?;
        let data_dir = self
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let tls = match (self.tls_cert, self.tls_key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => return Err("--tls-cert and --tls-key must be given together".into()),
        };
        let public_url = self.public_url;
        if let Some(url) = &public_url {
            issuer_from_public_url(url)?;
        }
        let database_url = self
            .database_url
            .unwrap_or_else(|| format!("sqlite:{}", data_dir.join(DATABASE_FILE).display()));
        let defaults = gatehouse_server::ServeOptions::default();
        let seconds = |value: Option<u64>, default: Duration, flag: &str| match value {
            None => Ok(default),
            Some(s @ 1..=3600) => Ok(Duration::from_secs(s)),
            Some(s) => Err(format!("--{flag} must be 1 to 3600 seconds, not {s}")),
        };
        let limits = gatehouse_server::ServeOptions {
            header_timeout: seconds(
                self.header_timeout,
                defaults.header_timeout,
                "header-timeout",
            )?,
            body_timeout: seconds(self.body_timeout, defaults.body_timeout, "body-timeout")?,
            max_connections: match self.max_connections {
                None => defaults.max_connections,
                Some(0) => return Err("--max-connections must be at least 1".into()),
                Some(n) => n,
            },
            trusted_proxies: match self.trusted_proxies {
                Some(list) => gatehouse_server::client_ip::TrustedProxies::parse_list(&list)
                    .map_err(|e| format!("--trusted-proxies: {e}"))?,
                None => defaults.trusted_proxies.clone(),
            },
        };
        let transport = match &self.smtp_url {
            Some(url) => gatehouse_mail::Transport::Smtp(
                gatehouse_mail::SmtpSettings::from_url(url.expose_str())
                    .map_err(|e| format!("--smtp-url: {e}"))?,
            ),
            None => gatehouse_mail::Transport::Outbox(data_dir.join(OUTBOX_DIR)),
        };
        let mail = gatehouse_server::email::MailConfig {
            transport,
            from: self.smtp_from,
        };
        Ok(ServeConfig {
            mail,
            limits,
            bind,
            data_dir,
            public_url,
            database_url,
            database_max_connections: self.database_max_connections,
            tls,
            master_key_file: self.master_key_file,
            bootstrap,
        })
    }
}

fn read_file(path: &Path) -> Result<ServeArgs, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read config file {}: {e} (check the --config path)",
            path.display()
        )
    })?;
    toml::from_str(&text).map_err(|e| file_error(path, &text, &e))
}

/// One line: the file, line and column, the key when there is one, what is
/// wrong and what to do.
fn file_error(path: &Path, text: &str, error: &toml::de::Error) -> String {
    let reason = error
        .message()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let Some(start) = error.span().map(|span| span.start.min(text.len())) else {
        return format!("config file {}: {reason}", path.display());
    };
    let before = text.get(..start).unwrap_or("");
    let line_number = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).unwrap_or("").chars().count() + 1;
    let line = text
        .get(line_start..)
        .unwrap_or("")
        .lines()
        .next()
        .unwrap_or("");
    let key = line
        .split_once('=')
        .map(|(key, _)| key.trim().trim_matches('"'))
        .filter(|key| !key.is_empty() && !key.starts_with('['));
    let location = format!(
        "config file {} line {line_number}, column {column}",
        path.display()
    );
    if reason.starts_with("unknown field") {
        format!(
            "{location}: {reason}; every key is a `gatehouse serve` flag spelled with underscores"
        )
    } else if let Some(key) =
        key.filter(|_| reason.starts_with("invalid type") || reason.starts_with("invalid value"))
    {
        // A secret's value must not reach a terminal or a log through the message.
        let reason = if key.contains("secret") || key.contains("password") {
            "wrong type or value (not repeated here: it is a secret)"
        } else {
            reason.as_str()
        };
        format!("{location}: key `{key}`: {reason}; see `gatehouse serve --help` for what it takes")
    } else {
        format!("{location}: {reason}; fix the TOML syntax (key = value, strings in quotes)")
    }
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

    #[test]
    fn every_flag_is_a_file_key() {
        let command = <ServeArgs as clap::Args>::augment_args(clap::Command::new("serve"));
        let mut checked = 0;
        for arg in command.get_arguments().filter(|a| a.get_long().is_some()) {
            let key = arg.get_id().as_str();
            // `true` is the wrong type for every option: the key is known.
            let error = toml::from_str::<ServeArgs>(&format!("{key} = true")).unwrap_err();
            let known = !error.message().starts_with("unknown field");
            assert_eq!(known, key != "config", "{key}: {}", error.message());
            checked += 1;
        }
        assert!(checked >= 17, "{checked}");
    }

    #[test]
    fn file_sets_bootstrap_presets_and_pool_size() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("g.toml");
        std::fs::write(
            &file,
            "bootstrap_admin_email = \"root@example.com\"\ndatabase_max_connections = 3\n",
        )
        .unwrap();
        let resolved = ServeArgs {
            config: Some(file),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(
            resolved.bootstrap.admin_email.as_deref(),
            Some("root@example.com")
        );
        assert_eq!(resolved.database_max_connections, Some(3));
    }

    #[test]
    fn file_errors_name_line_column_and_key() {
        let path = Path::new("g.toml");
        let error_for = |text: &str| {
            let error = toml::from_str::<ServeArgs>(text).unwrap_err();
            file_error(path, text, &error)
        };
        let syntax = error_for("bind = \"x\"\nbody_timeout = \n");
        assert!(
            syntax.starts_with("config file g.toml line 2, column 16: "),
            "{syntax}"
        );
        assert!(syntax.contains("fix the TOML syntax"), "{syntax}");
        let wrong_type = error_for("\n  body_timeout = \"soon\"\n");
        assert!(
            wrong_type.starts_with("config file g.toml line 2, column 18: key `body_timeout`: "),
            "{wrong_type}"
        );
        let negative = error_for("database_max_connections = -1\n");
        assert!(
            negative.contains("key `database_max_connections`"),
            "{negative}"
        );
        let secret = error_for("bootstrap_admin_password = 12345678901\n");
        assert!(
            secret.contains("key `bootstrap_admin_password`") && !secret.contains("12345678901"),
            "{secret}"
        );
    }
}
