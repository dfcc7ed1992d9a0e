//! `gatehouse bench`: measures Gatehouse against the ceilings that bound it, in
//! one run on one machine (SPEC.md §6), and prints ratios.
//!
//! - Token issuance is bounded by signing: the raw RS256 and ES256 signing
//!   rates (all cores) are the ceiling for client_credentials tokens/s over
//!   real HTTP.
//! - Login is bounded by argon2id: the raw verify rate is the ceiling for
//!   password-grant logins/s.
//! - Latency: p50/p99 of the token endpoint at half of the measured peak.
//! - Memory: the server's resident set size idle and its high-water mark
//!   under load; readiness: time from spawning `gatehouse serve` to its
//!   banner, on a first start (database and keys created) and a restart.
//!
//! The server is a separate `gatehouse serve` process (this same binary), so
//! its memory figures are its own; the load generator shares the CPU with it,
//! so the throughput ratios are conservative. Traffic goes only to
//! 127.0.0.1; every loop and every wait is bounded in time.

use clap::Args;
use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::jose::{sign_jwt, KeyPair};
use gatehouse_core::model::*;
use gatehouse_core::secret::hash_token;
use gatehouse_store::{StoredClient, StoredUser};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Seconds per measurement
    #[arg(long, default_value_t = 3)]
    pub seconds: u64,
    /// Concurrent HTTP connections
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

const API: &str = "https://bench.example/";
const SECRET: &str = "bench-secret-0123456789-0123456789-0123456789";
const PASSWORD: &str = "bench password for argon2id";

pub async fn run(args: BenchArgs) -> Result<(), String> {
    let window = Duration::from_secs(args.seconds.clamp(1, 60));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let rs256 = signing_rate(SigningAlg::RS256, window, threads)?;
    let es256 = signing_rate(SigningAlg::ES256, window, threads)?;
    let argon2 = argon2_rate(window, threads)?;

    let dir = tempfile_dir()?;
    seed(&dir, args.concurrency.max(1)).await?;
    let first = ServerProcess::spawn(&dir)?;
    let first_start_ms = first.ready_ms;
    drop(first);
    let server = ServerProcess::spawn(&dir)?;
    let base = server.base.clone();
    let server_ready_ms = server.ready_ms;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = server.status_kib("VmRSS");

    let cc_body = format!(
        "grant_type=client_credentials&client_id=bench-m2m&client_secret={SECRET}&audience={API}"
    );
    let cc_bodies = [cc_body];
    let peak = load(&base, &cc_bodies, args.concurrency, window, None).await?;
    let half_rate = peak.per_second / 2.0;
    let half = load(&base, &cc_bodies, args.concurrency, window, Some(half_rate)).await?;
    // The same exchange through one small credentials-exchange Action,
    // bound while the server runs (it reads the flow on every exchange).
    bind_small_action(&dir).await?;
    // Past the server's flow cache, so every measured exchange runs the Action.
    tokio::time::sleep(gatehouse_server::actions::FLOW_FRESHNESS + Duration::from_millis(200))
        .await;
    let with_action = load(&base, &cc_bodies, args.concurrency, window, None).await?;
    let action_half = load(
        &base,
        &cc_bodies,
        args.concurrency,
        window,
        Some(half_rate / 2.0),
    )
    .await?;
    // One user per connection: the lockout lets at most `max_attempts`
    // attempts for one user from one address be in flight at once.
    let login_bodies: Vec<String> = (0..args.concurrency.max(1))
        .map(|i| {
            format!(
                "grant_type=password&client_id=bench-web&client_secret={SECRET}&username={}&password={}",
                bench_user(i),
                PASSWORD.replace(' ', "+")
            )
        })
        .collect();
    let logins = load(&base, &login_bodies, args.concurrency, window, None).await?;
    let peak_rss = server.status_kib("VmHWM");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);

    let report = json!({
        "machine": { "threads": threads },
        "signing_ceiling_per_s": { "RS256": rs256.round(), "ES256": es256.round() },
        "client_credentials": {
            "tokens_per_s": peak.per_second.round(),
            "ratio_to_rs256_ceiling": round3(peak.per_second / rs256),
            "errors": peak.errors,
            "p50_ms_at_half_peak": round3(half.p50_ms),
            "p99_ms_at_half_peak": round3(half.p99_ms),
        },
        "client_credentials_with_action": {
            "tokens_per_s": with_action.per_second.round(),
            "ratio_to_without": round3(with_action.per_second / peak.per_second),
            "errors": with_action.errors,
            "p50_ms_at_quarter_peak": round3(action_half.p50_ms),
            "p99_ms_at_quarter_peak": round3(action_half.p99_ms),
        },
        "login": {
            "argon2id_ceiling_per_s": argon2.round(),
            "logins_per_s": logins.per_second.round(),
            "ratio_to_argon2_ceiling": round3(logins.per_second / argon2),
            "errors": logins.errors,
        },
        "server_memory_kib": { "idle_rss": idle_rss, "peak_rss": peak_rss },
        "ready_ms": { "first_start": round3(first_start_ms), "restart": round3(server_ready_ms) },
    });
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        print_table(&report);
    }
    Ok(())
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn print_table(r: &serde_json::Value) {
    let cc = &r["client_credentials"];
    let login = &r["login"];
    println!("| measure | value |\n| --- | --- |");
    println!(
        "| RS256 signing ceiling | {} /s |",
        r["signing_ceiling_per_s"]["RS256"]
    );
    println!(
        "| ES256 signing ceiling | {} /s |",
        r["signing_ceiling_per_s"]["ES256"]
    );
    println!(
        "| client_credentials over HTTP | {} tokens/s ({} errors) |",
        cc["tokens_per_s"], cc["errors"]
    );
    println!(
        "| ratio to RS256 ceiling | {} |",
        cc["ratio_to_rs256_ceiling"]
    );
    println!(
        "| p50 / p99 at half peak | {} ms / {} ms |",
        cc["p50_ms_at_half_peak"], cc["p99_ms_at_half_peak"]
    );
    let action = &r["client_credentials_with_action"];
    println!(
        "| client_credentials through one Action | {} tokens/s ({} errors) |",
        action["tokens_per_s"], action["errors"]
    );
    println!(
        "| ratio to without the Action | {} |",
        action["ratio_to_without"]
    );
    println!(
        "| p50 / p99 with the Action at quarter peak | {} ms / {} ms |",
        action["p50_ms_at_quarter_peak"], action["p99_ms_at_quarter_peak"]
    );
    println!(
        "| argon2id verify ceiling | {} /s |",
        login["argon2id_ceiling_per_s"]
    );
    println!(
        "| password-grant logins | {} /s ({} errors) |",
        login["logins_per_s"], login["errors"]
    );
    println!(
        "| ratio to argon2id ceiling | {} |",
        login["ratio_to_argon2_ceiling"]
    );
    println!(
        "| server RSS idle / peak | {} KiB / {} KiB |",
        r["server_memory_kib"]["idle_rss"], r["server_memory_kib"]["peak_rss"]
    );
    println!(
        "| ready after first start / restart | {} ms / {} ms |",
        r["ready_ms"]["first_start"], r["ready_ms"]["restart"]
    );
}

/// Runs `work` on `threads` OS threads for `window`; returns operations/s.
fn parallel_rate(
    threads: usize,
    window: Duration,
    work: impl Fn() -> Result<(), String> + Send + Sync + 'static,
) -> Result<f64, String> {
    let work = Arc::new(work);
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (work, count, stop) = (work.clone(), count.clone(), stop.clone());
            std::thread::spawn(move || -> Result<(), String> {
                while !stop.load(Ordering::Relaxed) {
                    work()?;
                    count.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    std::thread::sleep(window);
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        handle
            .join()
            .map_err(|_| "benchmark thread panicked".to_string())??;
    }
    Ok(count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

fn signing_rate(alg: SigningAlg, window: Duration, threads: usize) -> Result<f64, String> {
    let key = Arc::new(KeyPair::generate(alg).map_err(|e| e.to_string())?);
    let claims = json!({"iss": "https://bench/", "sub": "x@clients", "aud": API, "iat": 1, "exp": 2, "scope": "read"});
    parallel_rate(threads, window, move || {
        sign_jwt(&key, "JWT", &claims)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

fn argon2_rate(window: Duration, threads: usize) -> Result<f64, String> {
    let hash = gatehouse_server::password::hash_password(PASSWORD)?;
    parallel_rate(threads, window, move || {
        if gatehouse_server::password::verify_password(PASSWORD, &hash) {
            Ok(())
        } else {
            Err("argon2 verify failed".into())
        }
    })
}

fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!(
        "gatehouse-bench-{}",
        gatehouse_core::ids::random_hex(6)
    ));
    crate::data_dir::prepare(&dir)?;
    Ok(dir)
}

/// Creates the server's SQLite database in `dir` with an API, a machine
/// client with a client grant, a web client and a user.
/// The email of the bench's `i`th user.
fn bench_user(i: usize) -> String {
    format!("bench{i}@example.com")
}

async fn seed(dir: &std::path::Path, users: usize) -> Result<(), String> {
    let database = dir.join(crate::config::DATABASE_FILE);
    let store = gatehouse_store::open(&format!("sqlite:{}", database.display()))
        .await
        .map_err(|e| e.to_string())?;
    let now = SystemClock.now();
    let mut api = ResourceServer::new("rs_bench", "Bench", API);
    api.scopes = vec![ScopeDefinition {
        value: "read".into(),
        description: String::new(),
    }];
    let m2m = Client::new("bench-m2m", "Bench M2M", AppType::NonInteractive);
    let mut web = Client::new("bench-web", "Bench web", AppType::RegularWeb);
    web.grant_types.push("password".into());
    let grant = ClientGrant {
        id: "cgr_bench".into(),
        client_id: Some(m2m.client_id.clone()),
        default_for: None,
        audience: API.into(),
        scope: vec!["read".into()],
        subject_type: SubjectType::Client,
        allow_all_scopes: false,
    };
    let password_hash = gatehouse_server::password::hash_password(PASSWORD)?;
    let seeded = async {
        store.create_resource_server(&api, now).await?;
        for client in [m2m, web] {
            let stored = StoredClient {
                client,
                secret_hash: Some(hash_token(SECRET)),
            };
            store.create_client(&stored, now).await?;
        }
        store.create_client_grant(&grant, now).await?;
        for i in 0..users {
            let user = User::new(gatehouse_core::ids::user_id(), &bench_user(i), now);
            store
                .create_user(&StoredUser {
                    user,
                    password_hash: Some(password_hash.clone()),
                })
                .await?;
        }
        Ok::<(), gatehouse_store::StoreError>(())
    };
    seeded.await.map_err(|e| format!("seeding: {e}"))
}

/// The small Action of the "with an Action" measurement: one custom claim, as
/// Auth0's M2M quickstart adds.
const SMALL_ACTION: &str = "exports.onExecuteCredentialsExchange = async (event, api) => {\n  api.accessToken.setCustomClaim('https://bench.example/client', event.client.name);\n};\n";

/// Deploys [`SMALL_ACTION`] and makes it the credentials-exchange flow, as
/// `gatehouse actions deploy` does.
async fn bind_small_action(dir: &std::path::Path) -> Result<(), String> {
    use gatehouse_server::actions_admin::{bind, create, deploy, NewAction};
    let database = dir.join(crate::config::DATABASE_FILE);
    let store = gatehouse_store::open(&format!("sqlite:{}", database.display()))
        .await
        .map_err(|e| e.to_string())?;
    let now = SystemClock.now();
    let trigger = gatehouse_core::actions::Trigger::CredentialsExchange;
    let new = NewAction {
        name: "Bench claim".into(),
        code: SMALL_ACTION.into(),
        runtime: None,
        supported_triggers: vec![gatehouse_store::TriggerRef {
            id: trigger.id().into(),
            version: trigger.version().into(),
        }],
        dependencies: json!([]),
        secrets: Vec::new(),
    };
    // No secrets, so nothing is sealed under this key.
    let key = gatehouse_core::sealing::MasterKey::generate();
    let bound = async {
        let action = create(store.as_ref(), &key, new, now).await?;
        let action = deploy(store.as_ref(), &action.id, now).await?;
        bind(store.as_ref(), &action, now).await
    };
    bound
        .await
        .map(|_| ())
        .map_err(|e| format!("binding the bench Action: {e}"))
}

/// A `gatehouse serve` child process on `127.0.0.1:<ephemeral>`, killed when
/// dropped.
struct ServerProcess {
    child: std::process::Child,
    base: String,
    /// From spawning to the banner, which is printed once the port is bound
    /// and the state (keys, settings) is loaded.
    ready_ms: f64,
}

impl ServerProcess {
    const START_TIMEOUT: Duration = Duration::from_secs(60);

    fn spawn(dir: &std::path::Path) -> Result<Self, String> {
        use std::io::BufRead;
        let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
        let mut command = std::process::Command::new(exe);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("GATEHOUSE_") {
                command.env_remove(name);
            }
        }
        let started = Instant::now();
        let mut child = command
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("starting gatehouse serve: {e}"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or("no stdout from gatehouse serve")?;
        let (lines, received) = std::sync::mpsc::channel();
        // Drained to the end, so the server never writes to a closed pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = lines.send(line);
            }
        });
        let mut server = Self {
            child,
            base: String::new(),
            ready_ms: 0.0,
        };
        let deadline = started + Self::START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = received
                .recv_timeout(left)
                .map_err(|_| "gatehouse serve printed no banner".to_string())?;
            if let Some(rest) = line.strip_prefix("Gatehouse is listening on ") {
                server.ready_ms = started.elapsed().as_secs_f64() * 1000.0;
                let address = rest.split_whitespace().next().unwrap_or_default();
                server.base = format!("http://{address}");
                return Ok(server);
            }
        }
    }

    /// A field of the server's /proc/<pid>/status in KiB (Linux); 0 elsewhere.
    fn status_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with(field))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|n| n.parse().ok())
            })
            .unwrap_or(0)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct LoadResult {
    per_second: f64,
    errors: u64,
    p50_ms: f64,
    p99_ms: f64,
}

/// `concurrency` keep-alive connections POSTing to `/oauth/token` for
/// `window`, connection `i` sending `bodies[i % len]`; with `rate`, requests
/// are paced to that total rate.
async fn load(
    base: &str,
    bodies: &[String],
    concurrency: usize,
    window: Duration,
    rate: Option<f64>,
) -> Result<LoadResult, String> {
    let url = format!("{base}/oauth/token");
    let deadline = Instant::now() + window;
    let per_task_interval =
        rate.map(|r| Duration::from_secs_f64(concurrency.max(1) as f64 / r.max(1.0)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    let concurrency = concurrency.max(1);
    for task in 0..concurrency {
        let body = bodies
            .get(task % bodies.len().max(1))
            .cloned()
            .unwrap_or_default();
        let url = url.clone();
        // Paced tasks start staggered across one interval: started together
        // they would send bursts of `concurrency` requests at once, and the
        // latency measured would be the burst's queue, not the rate's.
        let offset =
            per_task_interval.map_or(Duration::ZERO, |i| i * task as u32 / concurrency as u32);
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut next = Instant::now() + offset;
            while Instant::now() < deadline {
                if let Some(interval) = per_task_interval {
                    tokio::time::sleep_until(next.into()).await;
                    next += interval;
                }
                let sent = Instant::now();
                let ok = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.clone())
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                if ok {
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.map_err(|e| e.to_string())?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    Ok(LoadResult {
        per_second: latencies.len() as f64 / elapsed,
        errors,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    })
}
