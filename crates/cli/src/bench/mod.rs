//! `gatehouse bench`: measures Gatehouse against the ceilings that bound it
//! and, with `--target-url`, against another server (node-oidc-provider, kept
//! in bench/peers/) in the same run on the same machine (SPEC.md §6).
//!
//! - [`ceilings`]: raw RS256/ES256 signing and argon2id verification on every core.
//! - [`gatehouse`]: a fresh database (SQLite, or PostgreSQL with
//!   `--database-url`), the seeded tenant, `gatehouse serve` processes
//!   (`--nodes 2` on PostgreSQL), codes and refresh tokens stored as
//!   `/authorize` and a first exchange store them.
//! - [`peer`]: the target's address and its minted codes and refresh tokens.
//! - [`side`]: one server as the load generator sees it; [`scenarios`]: what
//!   each scenario sends and expects.
//! - [`load`] over [`http`]: the load generator, one keep-alive connection per
//!   task; the same for every server.
//! - [`report`]: the JSON and the markdown table.
//!
//! Each scenario: the peak rate over a window with `--concurrency`
//! connections, then p50/p99 paced at half that rate, errors counted (any
//! non-2xx or a body that is not what the scenario expects), and the server's
//! VmHWM after it. Servers are separate processes, so their memory figures are
//! their own; the load generator shares the CPU with them, so throughput
//! ratios are conservative. Traffic goes only to loopback addresses; every
//! loop and every wait is bounded in time.

mod ceilings;
mod gatehouse;
mod http;
mod load;
mod peer;
mod report;
mod scenarios;
mod side;

use clap::Args;
use scenarios::Scenario;
use side::{Credentials, Minter, Side};
use std::time::Duration;

/// The APIs both servers issue tokens for (the peer protocol's resources).
pub const ES256_API: &str = "https://es256.bench.example/";
pub const RS256_API: &str = "https://rs256.bench.example/";
/// The redirect URI of codes.
pub const CALLBACK: &str = "http://127.0.0.1/callback";
/// The custom claim the bench Action adds.
pub const ACTION_CLAIM: &str = "https://bench.example/client";

/// Codes prepared for one window at most (seeding takes time too).
const MAX_CODES: usize = 40_000;
/// The code rate assumed when nothing better is known, per second.
const MIN_CODE_RATE: f64 = 500.0;
/// How long after its start a server's memory is read (keys generated).
const SETTLE: Duration = Duration::from_millis(500);

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Seconds per measurement window
    #[arg(long, default_value_t = 3)]
    pub seconds: u64,
    /// Concurrent HTTP connections
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    /// The whole run in a few seconds (300 ms windows, 4 connections, no
    /// target); exits non-zero on any error
    #[arg(long)]
    pub smoke: bool,
    /// Run Gatehouse on PostgreSQL: a fresh database gatehouse_bench_<random>
    /// is created on this server and dropped at the end [default: SQLite in a
    /// fresh temporary directory]
    #[arg(long)]
    pub database_url: Option<String>,
    /// Gatehouse nodes sharing the database (2 needs PostgreSQL); connections
    /// are split between them
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub nodes: u8,
    /// Also measure this server (http://127.0.0.1:<port>) right after Gatehouse
    #[arg(long, requires_all = ["client_id", "client_secret"])]
    pub target_url: Option<String>,
    /// The target's client (client_credentials, code and refresh)
    #[arg(long, requires = "target_url")]
    pub client_id: Option<String>,
    /// The target client's secret (client_secret_post)
    #[arg(long, requires = "target_url")]
    pub client_secret: Option<String>,
    /// The target's ES256 audience (resource)
    #[arg(long, default_value = ES256_API)]
    pub target_es256_audience: String,
    /// The target's RS256 audience (resource)
    #[arg(long, default_value = RS256_API)]
    pub target_rs256_audience: String,
    /// The name of the target's audience parameter
    #[arg(long, default_value = "resource")]
    pub target_audience_param: String,
    /// The target's process id, to read its VmRSS and VmHWM
    #[arg(long, requires = "target_url")]
    pub target_pid: Option<u32>,
}

/// The settings every window shares.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub window: Duration,
    pub concurrency: usize,
    pub smoke: bool,
}

impl Settings {
    fn from_args(args: &BenchArgs) -> Result<Self, String> {
        if args.nodes > 1 && args.database_url.is_none() {
            return Err("--nodes 2 needs --database-url postgres://… (SQLite is one node)".into());
        }
        if args.smoke {
            if args.target_url.is_some() {
                return Err("--smoke measures Gatehouse only; leave out --target-url".into());
            }
            return Ok(Self {
                window: Duration::from_millis(300),
                concurrency: 4,
                smoke: true,
            });
        }
        Ok(Self {
            window: Duration::from_secs(args.seconds.clamp(1, 60)),
            concurrency: args.concurrency.clamp(1, 1024),
            smoke: false,
        })
    }
}

pub async fn run(args: BenchArgs) -> Result<(), String> {
    let settings = Settings::from_args(&args)?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let window = settings.window;
    let ceilings =
        tokio::task::spawn_blocking(move || ceilings::Ceilings::measure(window, threads))
            .await
            .map_err(|e| e.to_string())??;
    let gatehouse = run_gatehouse(&args, settings).await?;
    let target = match &args.target_url {
        Some(url) => Some(run_target(&args, url, settings).await?),
        None => None,
    };
    let report = report::Report::new(report::Inputs {
        threads,
        settings,
        nodes: args.nodes,
        ceilings,
        gatehouse,
        target,
    });
    if args.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        print!("{}", report.markdown());
    }
    match report.errors {
        0 => Ok(()),
        n => Err(format!(
            "{n} requests failed (see first_error in the report)"
        )),
    }
}

/// Gatehouse's side of the run: first start and restart, then every scenario.
async fn run_gatehouse(args: &BenchArgs, settings: Settings) -> Result<report::SideRun, String> {
    let database = gatehouse::Database::create(args.database_url.as_deref()).await?;
    let store = gatehouse::open_store(database.url()).await?;
    let token_users = gatehouse::seed(store.as_ref(), settings.concurrency).await?;
    let first = database.spawn()?;
    tokio::time::sleep(SETTLE).await;
    let first_start_rss = gatehouse::status_kib(first.pid(), "VmRSS");
    let first_ready_ms = first.ready_ms;
    drop(first);
    let mut nodes = Vec::new();
    for _ in 0..args.nodes {
        nodes.push(database.spawn()?);
    }
    tokio::time::sleep(SETTLE).await;
    let mut memory = report::Memory::default();
    memory.insert("first_start_rss", first_start_rss);
    memory.insert(
        "idle_rss_after_restart",
        gatehouse::status_kib(nodes[0].pid(), "VmRSS"),
    );
    let targets: Vec<_> = nodes.iter().map(|node| node.addr).collect();
    let host = targets[0].to_string();
    let side = Side {
        label: "Gatehouse",
        paths: Side::discover(&targets, &host).await?,
        targets,
        host,
        machine: credentials(gatehouse::M2M_CLIENT, gatehouse::SECRET),
        web: credentials(gatehouse::WEB_CLIENT, gatehouse::SECRET),
        audience_param: "audience".into(),
        es256_audience: ES256_API.into(),
        rs256_audience: RS256_API.into(),
        pid: Some(nodes[0].pid()),
        minter: Minter::Gatehouse(Box::new(gatehouse::Seeder {
            store: store.clone(),
            users: token_users,
        })),
    };
    let mut scenarios = Vec::new();
    for scenario in gatehouse_scenarios() {
        if scenario == Scenario::ClientCredentialsAction {
            gatehouse::bind_small_action(store.as_ref()).await?;
            // Past the servers' flow cache, so every measured exchange runs the Action.
            let fresh = gatehouse_server::actions::FLOW_FRESHNESS + Duration::from_millis(200);
            tokio::time::sleep(fresh).await;
        }
        scenarios.push(measure(&side, scenario, settings, &scenarios).await?);
    }
    let restart_ready_ms = nodes[0].ready_ms;
    drop(nodes);
    Ok(report::SideRun {
        label: match args.nodes {
            1 => format!("Gatehouse ({})", database.backend()),
            n => format!("Gatehouse ({}, {n} nodes)", database.backend()),
        },
        url: None,
        backend: Some(database.backend()),
        database: database.name().map(str::to_string),
        memory,
        ready_ms: Some((first_ready_ms, restart_ready_ms)),
        scenarios,
    })
}

fn gatehouse_scenarios() -> Vec<Scenario> {
    let mut all = Scenario::SHARED.to_vec();
    all.extend([Scenario::Login, Scenario::ClientCredentialsAction]);
    all
}

fn credentials(id: &str, secret: &str) -> Credentials {
    Credentials {
        id: id.into(),
        secret: secret.into(),
    }
}

/// The target's side of the run: the shared scenarios.
async fn run_target(
    args: &BenchArgs,
    url: &str,
    settings: Settings,
) -> Result<report::SideRun, String> {
    let (addr, host) = peer::parse_target(url).await?;
    let client = credentials(
        args.client_id.as_deref().unwrap_or_default(),
        args.client_secret.as_deref().unwrap_or_default(),
    );
    let side = Side {
        label: "target",
        paths: Side::discover(&[addr], &host).await?,
        targets: vec![addr],
        host,
        machine: client.clone(),
        web: client,
        audience_param: args.target_audience_param.clone(),
        es256_audience: args.target_es256_audience.clone(),
        rs256_audience: args.target_rs256_audience.clone(),
        pid: args.target_pid,
        minter: Minter::Peer,
    };
    let mut memory = report::Memory::default();
    memory.insert("rss_before", side.memory_kib("VmRSS"));
    let mut scenarios = Vec::new();
    for scenario in Scenario::SHARED {
        scenarios.push(measure(&side, scenario, settings, &scenarios).await?);
    }
    memory.insert("rss_after", side.memory_kib("VmRSS"));
    Ok(report::SideRun {
        label: "target".into(),
        url: Some(url.into()),
        backend: None,
        database: None,
        memory,
        ready_ms: None,
        scenarios,
    })
}

/// One scenario: the peak, then latency at half the peak, then VmHWM.
async fn measure(
    side: &Side,
    scenario: Scenario,
    settings: Settings,
    earlier: &[report::ScenarioRun],
) -> Result<report::ScenarioRun, String> {
    let plan = |rate| load::Plan {
        targets: side.targets.clone(),
        concurrency: settings.concurrency,
        window: settings.window,
        rate,
    };
    // Codes for the peak: the refresh rate measured just before, with room.
    let refresh_rate = earlier
        .iter()
        .find(|run| run.scenario == Scenario::RefreshToken.name())
        .map_or(0.0, |run| run.per_s);
    let peak_guess = (refresh_rate * 1.5).max(MIN_CODE_RATE);
    tracing::info!("bench: {} {}", side.label, scenario.name());
    let peak = window(side, scenario, &plan(None), peak_guess).await?;
    let half_rate = peak.per_second() / 2.0;
    let half = if peak.ok > 0 {
        Some(window(side, scenario, &plan(Some(half_rate)), half_rate * 1.2).await?)
    } else {
        None
    };
    Ok(report::ScenarioRun::new(
        scenario,
        &peak,
        half.as_ref(),
        side.memory_kib("VmHWM"),
    ))
}

/// One window of `scenario`; `expected_rate` sizes the codes it prepares.
async fn window(
    side: &Side,
    scenario: Scenario,
    plan: &load::Plan,
    expected_rate: f64,
) -> Result<load::Outcome, String> {
    let codes = (expected_rate * plan.window.as_secs_f64()) as usize + plan.concurrency;
    let prepared = side
        .prepare(
            scenario,
            plan.concurrency,
            codes.min(MAX_CODES),
            2 * plan.concurrency,
        )
        .await?;
    load::run(plan, |i| side.conversation(scenario, &prepared, i)).await
}
