//! `gatehouse doctor`: checks a deployment the way a newcomer's questions
//! would, with the same settings `serve` reads (flags, environment,
//! `--config`). One line per check: `ok`, `warn` or `FAIL`, what was found,
//! and for anything not ok what to do. It changes nothing on disk except
//! what opening the database does (pending migrations are applied, as by
//! every command).

use crate::config::{ServeArgs, ServeConfig, DATABASE_FILE};
use gatehouse_core::model::SigningAlg;
use gatehouse_store::{ConfigStore, Store};
use std::path::Path;
use std::time::Duration;

/// How long the public URL has to answer.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Fail,
}

/// The outcome of one check.
struct Finding {
    level: Level,
    check: &'static str,
    text: String,
}

impl Finding {
    fn ok(check: &'static str, text: impl Into<String>) -> Self {
        Self::new(Level::Ok, check, text.into())
    }
    fn warn(check: &'static str, text: impl Into<String>) -> Self {
        Self::new(Level::Warn, check, text.into())
    }
    fn fail(check: &'static str, text: impl Into<String>) -> Self {
        Self::new(Level::Fail, check, text.into())
    }
    fn new(level: Level, check: &'static str, text: String) -> Self {
        Self { level, check, text }
    }

    fn print(&self) {
        let level = match self.level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        println!("{level} {:<15} {}", self.check, self.text);
    }
}

/// Runs every check; fails (exit 2) when one failed.
pub async fn run(args: ServeArgs) -> Result<(), String> {
    let findings = match args.resolve() {
        Err(e) => vec![Finding::fail(
            "configuration",
            format!("{e}; fix: correct the flag, variable or --config file"),
        )],
        Ok(config) => check_all(&config).await,
    };
    for finding in &findings {
        finding.print();
    }
    let failed = findings.iter().filter(|f| f.level == Level::Fail).count();
    match failed {
        0 => Ok(()),
        n => Err(format!("{n} of {} checks failed", findings.len())),
    }
}

async fn check_all(config: &ServeConfig) -> Vec<Finding> {
    let mut findings = vec![Finding::ok(
        "configuration",
        format!(
            "bind {}, database {}",
            config.bind,
            redacted(&config.database_url)
        ),
    )];
    let sqlite = config.database_url.starts_with("sqlite:");
    findings.push(data_dir(&config.data_dir, sqlite));
    match database(config).await {
        Ok(store) => {
            findings.push(Finding::ok(
                "database",
                format!("reachable ({})", store.backend_name()),
            ));
            let schema = schema(&store).await;
            let migrated = schema.level != Level::Fail;
            findings.push(schema);
            findings.push(if migrated {
                keys(config, &store).await
            } else {
                Finding::fail("signing keys", "not checked: the schema is not up to date")
            });
        }
        Err(finding) => {
            findings.push(finding);
            findings.push(Finding::fail(
                "signing keys",
                "not checked: the database could not be opened",
            ));
        }
    }
    findings.push(public_url(&issuer(config)).await);
    findings.push(tls(config).await);
    findings.push(email(config).await);
    findings
}

/// Where email goes: the outbox (a warning: nobody receives it), or an SMTP
/// server that must accept a connection.
async fn email(config: &ServeConfig) -> Finding {
    const CHECK: &str = "email";
    match &config.mail.transport {
        gatehouse_mail::Transport::Outbox(dir) => Finding::warn(
            CHECK,
            format!(
                "no SMTP server: emails are written to {} and nobody receives them; fix: --smtp-url smtp://user:pass@host:587",
                dir.display()
            ),
        ),
        gatehouse_mail::Transport::Smtp(smtp) => {
            let address = format!("{}:{}", smtp.host, smtp.port);
            let connect = tokio::net::TcpStream::connect(address.as_str());
            match tokio::time::timeout(HTTP_TIMEOUT, connect).await {
                Ok(Ok(_)) => Finding::ok(CHECK, format!("SMTP server {address} accepts connections")),
                Ok(Err(e)) => Finding::fail(
                    CHECK,
                    format!("SMTP server {address} refused: {e}; fix: check --smtp-url (emails wait in the queue until it answers)"),
                ),
                Err(_) => Finding::fail(
                    CHECK,
                    format!("SMTP server {address} did not answer within 5 s; fix: check --smtp-url and the firewall"),
                ),
            }
        }
    }
}

fn redacted(url: &str) -> String {
    gatehouse_store::sql::redact_url(url)
}

/// The issuer `serve` would announce (with `--public-url`, or from `--bind`).
fn issuer(config: &ServeConfig) -> String {
    config.issuer(config.bind)
}

/// The data directory: a private directory, private files.
fn data_dir(dir: &Path, sqlite: bool) -> Finding {
    const CHECK: &str = "data directory";
    let shown = dir.display();
    let metadata = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !sqlite => {
            return Finding::ok(CHECK, format!("{shown} does not exist (not needed with PostgreSQL)"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Finding::fail(
                CHECK,
                format!("{shown} does not exist; fix: run `gatehouse serve` once (it creates it), or pass --data-dir"),
            )
        }
        Err(e) => {
            return Finding::fail(
                CHECK,
                format!("{shown} is not usable: {e}; fix: pass another --data-dir"),
            )
        }
    };
    if !metadata.is_dir() {
        return Finding::fail(
            CHECK,
            format!("{shown} is a file, not a directory; fix: pass another --data-dir"),
        );
    }
    permissions(dir, &metadata)
}

#[cfg(unix)]
fn permissions(dir: &Path, metadata: &std::fs::Metadata) -> Finding {
    use std::os::unix::fs::PermissionsExt;
    const CHECK: &str = "data directory";
    let shown = dir.display();
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o022 != 0 {
        return Finding::fail(
            CHECK,
            format!(
                "{shown} is writable by group or others (mode {mode:04o}); fix: chmod 700 {shown}"
            ),
        );
    }
    let loose: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| {
                    std::fs::symlink_metadata(e.path())
                        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o077 != 0)
                })
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    if mode & 0o077 != 0 || !loose.is_empty() {
        let files = if loose.is_empty() {
            String::new()
        } else {
            format!(", readable by others: {}", loose.join(", "))
        };
        return Finding::warn(
            CHECK,
            format!(
                "{shown} is mode {mode:04o}{files}; fix: chmod 700 {shown} and chmod 600 its files \
                 (`gatehouse serve` does this at start)"
            ),
        );
    }
    Finding::ok(CHECK, format!("{shown} is private (0700, files 0600)"))
}

#[cfg(not(unix))]
fn permissions(dir: &Path, _metadata: &std::fs::Metadata) -> Finding {
    Finding::ok("data directory", format!("{} exists", dir.display()))
}

/// Opens the database without creating a new SQLite file.
async fn database(config: &ServeConfig) -> Result<gatehouse_store::sql::SqlStore, Finding> {
    const CHECK: &str = "database";
    if let Some(path) = config.database_url.strip_prefix("sqlite:") {
        let path = path.split('?').next().unwrap_or(path);
        if !Path::new(path).exists() {
            let default = config.data_dir.join(DATABASE_FILE);
            return Err(Finding::fail(
                CHECK,
                format!(
                    "no database at {path}; fix: run `gatehouse serve` once{}",
                    if Path::new(path) == default {
                        ""
                    } else {
                        ", or correct --database-url"
                    }
                ),
            ));
        }
    }
    // Doctor only looks: it connects without applying migrations.
    let settings = gatehouse_store::sql::PoolSettings {
        apply_migrations: false,
        ..Default::default()
    };
    crate::database::connect(&config.database_url, &settings)
        .await
        .map_err(|e| Finding::fail(CHECK, e))
}

/// The schema: every migration of this binary applied.
async fn schema(store: &gatehouse_store::sql::SqlStore) -> Finding {
    const CHECK: &str = "schema";
    match store.pending_migrations().await {
        Ok(pending) if pending.is_empty() => Finding::ok(CHECK, "every migration applied"),
        Ok(pending) => Finding::fail(
            CHECK,
            format!(
                "{} migration(s) not applied ({}); fix: run `gatehouse migrate` (or start \
                 `gatehouse serve`, which applies them)",
                pending.len(),
                pending.join(", ")
            ),
        ),
        Err(e) => Finding::fail(CHECK, format!("cannot read the applied migrations: {e}")),
    }
}

/// A current signing key per algorithm, every private key sealed, and the
/// master key opening them.
async fn keys(config: &ServeConfig, store: &dyn Store) -> Finding {
    const CHECK: &str = "signing keys";
    let stored = match store.signing_keys().await {
        Ok(keys) => keys,
        Err(e) => return Finding::fail(CHECK, format!("cannot read them: {e}")),
    };
    let missing: Vec<&str> = SigningAlg::ASYMMETRIC
        .iter()
        .filter(|alg| {
            !stored
                .iter()
                .any(|k| k.alg == **alg && k.state == "current")
        })
        .map(|alg| alg.as_str())
        .collect();
    if !missing.is_empty() {
        return Finding::fail(
            CHECK,
            format!(
                "no current key for {}; fix: start `gatehouse serve` once (it generates them)",
                missing.join(", ")
            ),
        );
    }
    let plain = stored
        .iter()
        .filter(|k| !gatehouse_core::sealing::is_sealed(&k.private_key))
        .count();
    if plain > 0 {
        return Finding::fail(
            CHECK,
            format!(
                "{plain} private keys are stored unsealed; fix: start `gatehouse serve` with the \
                 master key (it seals them), or `gatehouse keys rewrap`"
            ),
        );
    }
    let master_key = match crate::master_key::resolve(
        config.master_key_file.as_deref(),
        &config.data_dir,
        &config.database_url,
        false,
    ) {
        Ok(key) => key,
        Err(e) => {
            return Finding::fail(CHECK, format!("{} keys, all sealed, but {e}", stored.len()))
        }
    };
    match gatehouse_server::keys::verify_master_key(&stored, &master_key.key) {
        Ok(()) => Finding::ok(
            CHECK,
            format!(
                "{} keys, all sealed; the master key from {} opens them",
                stored.len(),
                master_key.source
            ),
        ),
        Err(e) if e.is_master_key_mismatch() => Finding::fail(
            CHECK,
            format!(
                "the master key from {} does not open them; fix: give the key they were sealed \
                 with (--master-key-file or GATEHOUSE_MASTER_KEY)",
                master_key.source
            ),
        ),
        Err(e) => Finding::fail(CHECK, e.to_string()),
    }
}

/// The discovery document at the public URL, fetched from this machine,
/// names the same issuer.
async fn public_url(issuer: &str) -> Finding {
    const CHECK: &str = "public URL";
    let url = format!("{issuer}.well-known/openid-configuration");
    if issuer.starts_with("https://") {
        return reachable_tcp(issuer).await;
    }
    let client = match reqwest::Client::builder().timeout(HTTP_TIMEOUT).build() {
        Ok(client) => client,
        Err(e) => return Finding::fail(CHECK, format!("cannot make an HTTP client: {e}")),
    };
    let fix =
        "fix: start `gatehouse serve`, or make --public-url name this server as seen from here";
    let response = match client.get(&url).send().await {
        Ok(response) => response,
        Err(e) => {
            return Finding::fail(
                CHECK,
                format!("{url} did not answer ({}); {fix}", short(&e)),
            )
        }
    };
    let status = response.status();
    let doc: serde_json::Value = response.json().await.unwrap_or_default();
    match doc["issuer"].as_str() {
        Some(found) if found == issuer => {
            Finding::ok(CHECK, format!("{issuer} answers with its discovery document"))
        }
        Some(found) => Finding::fail(
            CHECK,
            format!("{url} names issuer {found}, not {issuer}; fix: give every node the same --public-url"),
        ),
        None => Finding::fail(
            CHECK,
            format!("{url} answered {status} without a discovery document; {fix}"),
        ),
    }
}

/// For https URLs: the host and port accept connections (this command has
/// no TLS client to verify the certificate with).
async fn reachable_tcp(issuer: &str) -> Finding {
    const CHECK: &str = "public URL";
    let rest = issuer.trim_start_matches("https://");
    let host_port = rest.split('/').next().unwrap_or(rest);
    let address = if host_port
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        && !host_port.ends_with(']')
    {
        host_port.to_string()
    } else {
        format!("{host_port}:443")
    };
    match tokio::time::timeout(HTTP_TIMEOUT, tokio::net::TcpStream::connect(&address)).await {
        Ok(Ok(_)) => Finding::ok(
            CHECK,
            format!("{address} accepts connections (TLS not verified by doctor)"),
        ),
        Ok(Err(e)) => Finding::fail(
            CHECK,
            format!("{address} cannot be reached: {e}; fix: start the server or the proxy in front, or correct --public-url"),
        ),
        Err(_) => Finding::fail(
            CHECK,
            format!("{address}: no answer within {} s; fix: check DNS and firewalls, or correct --public-url", HTTP_TIMEOUT.as_secs()),
        ),
    }
}

fn short(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text = inner.to_string();
        source = inner.source();
    }
    text.to_lowercase()
}

/// TLS where the traffic leaves this machine: a usable certificate pair when
/// serving TLS, an https public URL when not serving on loopback.
async fn tls(config: &ServeConfig) -> Finding {
    const CHECK: &str = "TLS";
    let issuer = issuer(config);
    let https = issuer.starts_with("https://");
    if let Some((cert, key)) = &config.tls {
        if let Err(e) = gatehouse_server::load_tls(cert, key).await {
            return Finding::fail(
                CHECK,
                format!("{e}; fix: give a PEM certificate chain and its key"),
            );
        }
        if !https {
            return Finding::fail(
                CHECK,
                format!("serving TLS, but the issuer is {issuer}; fix: --public-url https://…"),
            );
        }
        return Finding::ok(CHECK, format!("serving TLS with {}", cert.display()));
    }
    if https {
        return Finding::ok(
            CHECK,
            "plain HTTP here, https:// public URL: TLS ends at the proxy in front",
        );
    }
    let authority = issuer
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    let loopback = host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback && config.bind.ip().is_loopback() {
        Finding::ok(CHECK, "plain HTTP on loopback (local development only)")
    } else {
        Finding::fail(
            CHECK,
            format!(
                "plain HTTP on {issuer}: passwords and tokens cross the network in clear; fix: \
                 --tls-cert/--tls-key, or a TLS proxy and --public-url https://…"
            ),
        )
    }
}
