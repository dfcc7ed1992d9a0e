//! The `gatehouse` binary.
//!
//! - `gatehouse serve`: run the server ([`config`] resolves its settings;
//!   [`data_dir`] keeps the data directory private; [`master_key`] finds the
//!   key that seals the signing keys; [`bootstrap_file`] shows the first
//!   start's credentials once). `serve --demo` adds seed 000's world and
//!   its demo page ([`demo`]).
//! - `gatehouse migrate | export | import | keys rotate`: operator commands on
//!   the database ([`ops`]).
//! - `gatehouse bench`: throughput, latency and memory against their ceilings ([`bench`]).
//! - `gatehouse users|roles|apis|clients|grants|keys`: operator commands on
//!   the local database, no token needed ([`admin`]).
//! - `gatehouse actions deploy FILE --trigger post-login`: create or update an
//!   Action, deploy it and bind it ([`actions`]).
//! - `gatehouse seed --file seed.json`: create APIs, clients, grants, roles and
//!   users through the store ([`seed`]).
//! - `gatehouse token --management`: print a Management API token ([`token`]).
//! - `gatehouse explain`: a token, jti or log id explained ([`explain`]).
//!
//! [`tenant`] opens the local tenant for the commands that act as the server.
//! - `gatehouse doctor`: check a deployment, one line per check ([`doctor`]).
//!
//! [`database`] opens the store for all of them.
//!
//! Every operator-facing failure ends as one line on stderr and exit code 2;
//! no panic backtraces for bad input.

mod actions;
mod admin;
mod bench;
mod bootstrap_file;
mod config;
mod data_dir;
mod database;
mod demo;
mod dev_cert;
mod doctor;
mod explain;
mod master_key;
mod ops;
mod seed;
mod tenant;
mod token;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use config::{ServeArgs, ServeConfig, DATABASE_FILE};
use gatehouse_core::clock::{Clock, SystemClock};
use std::process::ExitCode;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long an ending command waits for its last log events to be written.
const LOG_WRITE_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Gatehouse: a self-hosted, Auth0-compatible OAuth 2.0 / OpenID Connect server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of `Serve`'s flags does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (embedded SQLite in --data-dir unless --database-url says otherwise)
    Serve {
        #[command(flatten)]
        args: ServeArgs,
        #[command(flatten)]
        demo: demo::DemoArgs,
    },
    /// Apply pending database migrations and exit (for deployments that migrate separately)
    Migrate(ops::DatabaseArgs),
    /// Write the tenant (settings, keys, APIs, clients, grants, roles, users) as JSON
    Export {
        #[command(flatten)]
        db: ops::DatabaseArgs,
        /// File to write (mode 0600); standard output when absent
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Load an export into an empty database (e.g. SQLite → PostgreSQL)
    Import {
        #[command(flatten)]
        db: ops::DatabaseArgs,
        /// The file written by `gatehouse export`
        #[arg(long, short)]
        file: std::path::PathBuf,
    },
    /// Measure token issuance and logins against their ceilings (see BENCHMARKS.md)
    Bench(bench::BenchArgs),
    /// Users of the local database: list, add, set-password, block
    Users {
        #[command(flatten)]
        common: admin::Common,
        #[command(subcommand)]
        command: admin::UsersCommand,
    },
    /// Roles and their permissions
    Roles {
        #[command(flatten)]
        common: admin::Common,
        #[command(subcommand)]
        command: admin::ListCommand,
    },
    /// APIs (resource servers)
    Apis {
        #[command(flatten)]
        common: admin::Common,
        #[command(subcommand)]
        command: admin::ListCommand,
    },
    /// Applications (clients)
    Clients {
        #[command(flatten)]
        common: admin::Common,
        #[command(subcommand)]
        command: admin::ListCommand,
    },
    /// Client grants
    Grants {
        #[command(flatten)]
        common: admin::Common,
        #[command(subcommand)]
        command: admin::ListCommand,
    },
    /// Signing keys: list, rotate, rewrap (re-seal under a new master key)
    Keys {
        #[command(flatten)]
        common: admin::Common,
        #[command(subcommand)]
        command: admin::KeysCommand,
    },
    /// Actions: deploy a JavaScript file as an Action and bind it to its trigger
    Actions {
        #[command(flatten)]
        common: admin::Common,
        #[command(subcommand)]
        command: actions::ActionsCommand,
    },
    /// Create APIs, clients, client grants, roles and users from a JSON file
    Seed(SeedArgs),
    /// Print an access token: `gatehouse token --management` for the Management API
    Token(token::TokenArgs),
    /// Explain a token, jti or log id: the checks, why each scope was granted
    /// or dropped, and the fix
    Explain(explain::ExplainArgs),
    /// Check a deployment (data directory, database, keys, public URL, TLS,
    /// email) with serve's settings; one line per check, with the fix
    Doctor(ServeArgs),
    /// Make a local CA and a certificate for 127.0.0.1 and localhost in
    /// <data-dir>/tls/, for `serve --tls-cert/--tls-key`, and say how to trust it
    DevCert(dev_cert::DevCertArgs),
}

#[derive(Debug, clap::Args)]
struct SeedArgs {
    /// The seed file (JSON; see README.md, "Seeding")
    #[arg(long)]
    file: std::path::PathBuf,
    /// Data directory of the SQLite database (as for serve)
    #[arg(long, env = "GATEHOUSE_DATA_DIR", default_value = "./gatehouse-data")]
    data_dir: std::path::PathBuf,
    /// Database URL: sqlite:<path> or postgres://… [default: SQLite file in --data-dir]
    #[arg(long, env = "GATEHOUSE_DATABASE_URL")]
    database_url: Option<String>,
}

fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(matches) => matches,
        Err(error) => return usage_failure(error),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => return usage_failure(error),
    };
    let serve_environment = serve_options_from_environment(&matches);
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve { args, demo } => serve(args, demo, &serve_environment).await,
            Command::Migrate(db) => ops::migrate(db).await,
            Command::Export { db, output } => ops::export(db, output).await,
            Command::Import { db, file } => ops::import(db, file).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Users { common, command } => admin::users(common, command).await,
            Command::Roles { common, command } => admin::roles(common, command).await,
            Command::Apis { common, command } => admin::apis(common, command).await,
            Command::Clients { common, command } => admin::clients(common, command).await,
            Command::Grants { common, command } => admin::grants(common, command).await,
            Command::Keys { common, command } => admin::keys(common, command).await,
            Command::Actions { common, command } => actions::run(common, command).await,
            Command::Seed(args) => seed_command(args).await,
            Command::Token(args) => token::run(args).await,
            Command::Explain(args) => explain::run(args).await,
            Command::Doctor(args) => doctor::run(args).await,
            Command::DevCert(args) => dev_cert::run(args),
        }
    });
    // Whatever a command recorded is written before the runtime goes.
    if !runtime.block_on(gatehouse_store::sql::wait_for_log_writers(LOG_WRITE_LIMIT)) {
        tracing::error!("some log events were not written before exit");
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

/// `--help` and `--version` print as usual; a wrong flag or value becomes
/// the same one `gatehouse: error:` line as every other failure, with clap's
/// tip and the `--help` to read.
fn usage_failure(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit();
    }
    let text = error.render().to_string();
    let mut message = text
        .lines()
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_string();
    if let Some(tip) = text.lines().find_map(|l| l.trim().strip_prefix("tip: ")) {
        message.push_str(&format!(" ({tip})"));
    }
    let command = text
        .lines()
        .find_map(|l| l.strip_prefix("Usage: "))
        .map(|usage| {
            usage
                .split_whitespace()
                .take_while(|word| !word.starts_with(['[', '<', '-']))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|command| !command.is_empty())
        .unwrap_or_else(|| "gatehouse".into());
    fail(&format!("{message}; see `{command} --help`"))
}

fn fail(message: &str) -> ExitCode {
    eprintln!("gatehouse: error: {message}");
    ExitCode::from(2)
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GATEHOUSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

async fn seed_command(args: SeedArgs) -> Result<(), String> {
    let file = seed::read(&args.file)?;
    let url = args
        .database_url
        .unwrap_or_else(|| format!("sqlite:{}", args.data_dir.join(DATABASE_FILE).display()));
    if url.starts_with("sqlite:") {
        data_dir::prepare(&args.data_dir)?;
    }
    let store = database::open(&url).await?;
    let summary = seed::apply(store.as_ref(), file, SystemClock.now()).await?;
    println!("{summary}");
    Ok(())
}

/// The `serve` options whose value came from a `GATEHOUSE_` variable, by
/// clap id (`data_dir`); `--demo` takes none of them.
fn serve_options_from_environment(matches: &clap::ArgMatches) -> Vec<String> {
    let Some(("serve", serve)) = matches.subcommand() else {
        return Vec::new();
    };
    serve
        .ids()
        .filter(|id| serve.value_source(id.as_str()) == Some(ValueSource::EnvVariable))
        .map(|id| id.to_string())
        .collect()
}

async fn serve(
    mut args: ServeArgs,
    demo: demo::DemoArgs,
    from_environment: &[String],
) -> Result<(), String> {
    if demo.enabled() {
        demo::fit_args(&mut args, from_environment)?;
    }
    let config = args.resolve()?;
    let tls = match &config.tls {
        Some((cert, key)) => Some(
            gatehouse_server::load_tls(cert, key)
                .await
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    // Bind first: a busy port must not leave a half-made data directory.
    let listener = std::net::TcpListener::bind(config.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    // Signal handlers are registered now, before anything is announced.
    let shutdown = shutdown_signal().map_err(|e| format!("cannot watch for signals: {e}"))?;
    if demo.enabled() {
        demo::claim_data_dir(&config.data_dir, demo.demo_reset)?;
    }
    let first_start = prepare_data_dir(&config)?;
    let demo_users = if demo.enabled() {
        Some(demo::marked_users(&config.data_dir)?)
    } else {
        None
    };
    let master_key = master_key::resolve(
        config.master_key_file.as_deref(),
        &config.data_dir,
        &config.database_url,
        true,
    )?;
    let pool = gatehouse_store::sql::PoolSettings {
        max_connections: config.database_max_connections,
        ..Default::default()
    };
    let store = database::open_with(&config.database_url, &pool).await?;
    // SQLite has created its -wal and -shm files by now.
    data_dir::tighten_files(&config.data_dir)?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let issuer = config.issuer(bound);
    let credentials = gatehouse_server::bootstrap::bootstrap(
        store.as_ref(),
        &issuer,
        config.bootstrap.clone(),
        SystemClock.now(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let base = issuer.trim_end_matches('/').to_string();
    if let Some(users) = &demo_users {
        demo::ensure_world(store.as_ref(), &base, users, SystemClock.now()).await?;
    }
    let state = gatehouse_server::AppState::load(store, issuer.clone(), master_key.key.clone())
        .await
        .map_err(|e| key_ring_failure(&e, &master_key.source))?;
    print_banner(&config, bound, &issuer, first_start);
    if let Some(credentials) = credentials {
        bootstrap_file::announce(&config.data_dir, &credentials)?;
    }
    let extra = match &demo_users {
        Some(users) => {
            println!("{}", demo::banner(&base, &config.data_dir, users));
            demo::routes(&issuer, &config.data_dir)?
        }
        None => axum::Router::new(),
    };
    gatehouse_server::background::spawn(state.clone(), Default::default());
    state.mail().configure(config.mail.clone());
    let mail_worker = gatehouse_server::email::queue::spawn_worker(state.clone());
    let router = gatehouse_server::router_with(state.clone(), extra);
    let served = gatehouse_server::serve_with(listener, router, tls, shutdown, config.limits)
        .await
        .map_err(|e| e.to_string());
    finish_serving(&state, mail_worker).await;
    served
}

/// How long a stopping server waits for the mail pass in progress.
const MAIL_PASS_STOP_LIMIT: Duration = Duration::from_secs(10);

/// After the last HTTP request: lets the mail worker end its pass (it may
/// record events), then writes every queued log event, so a clean stop loses
/// none.
async fn finish_serving(state: &gatehouse_server::AppState, mail_worker: JoinHandle<()>) {
    state.mail().stop();
    if tokio::time::timeout(MAIL_PASS_STOP_LIMIT, mail_worker)
        .await
        .is_err()
    {
        tracing::warn!("the mail worker did not finish its pass in time; stopping anyway");
    }
    if let Err(e) = state.store().flush_log_events().await {
        tracing::error!(error = %e, "could not write the last log events");
    }
}

/// Creates the data directory (private, see [`data_dir`]) and, for the
/// default SQLite database, its file (0600, so SQLite's -wal and -shm files
/// are 0600 too). Returns whether this is the first start (no database yet).
fn prepare_data_dir(config: &ServeConfig) -> Result<bool, String> {
    let dir = &config.data_dir;
    data_dir::prepare(dir)?;
    let database = dir.join(DATABASE_FILE);
    let default_database = format!("sqlite:{}", database.display());
    let first_start = config.database_url.starts_with("sqlite:")
        && std::fs::metadata(&database).map_or(true, |m| m.len() == 0);
    if config.database_url == default_database {
        data_dir::create_private_file(&database)?;
    }
    Ok(first_start)
}

/// The operator's message when the key ring cannot load: for a wrong master
/// key, where the key came from; a `master.key` generated by this very start
/// is removed again (the database's keys were sealed with another one).
fn key_ring_failure(
    error: &gatehouse_server::keys::KeyRingError,
    source: &master_key::Source,
) -> String {
    if !error.is_master_key_mismatch() {
        return error.to_string();
    }
    let mut message =
        format!("the master key does not match the one the signing keys were sealed with (master key from {source})");
    if let master_key::Source::DataDir {
        path,
        generated: true,
    } = source
    {
        let _ = std::fs::remove_file(path);
        message.push_str(&format!(
            "; {} was missing: restore it from your backup, or pass --master-key-file",
            path.display()
        ));
    }
    message
}

fn print_banner(
    config: &ServeConfig,
    bound: std::net::SocketAddr,
    issuer: &str,
    first_start: bool,
) {
    let base = issuer.trim_end_matches('/');
    println!("Gatehouse is listening on {bound} — issuer {issuer}");
    println!("  data directory: {}", config.data_dir.display());
    println!("  discovery:      {base}/.well-known/openid-configuration");
    println!("  dashboard:      {base}/admin (sign in as the admin of bootstrap.json)");
    match &config.mail.transport {
        gatehouse_mail::Transport::Outbox(dir) => println!(
            "  email:          no SMTP server (--smtp-url): each email is written to {}",
            dir.display()
        ),
        gatehouse_mail::Transport::Smtp(smtp) => {
            println!("  email:          SMTP {}:{}", smtp.host, smtp.port)
        }
    }
    if first_start {
        println!("  first start: created the database and generated signing keys (RS256, PS256, ES256, EdDSA).");
        println!(
            "  next: point an OIDC client or Auth0 SDK at {base} (see README.md, \"First steps\")."
        );
    }
}

/// Registers SIGINT (Ctrl-C) and SIGTERM handlers right away and returns a
/// future that resolves on either.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}
