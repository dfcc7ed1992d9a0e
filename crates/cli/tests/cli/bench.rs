//! `gatehouse bench --smoke --json`: the real binary's whole bench run (every
//! scenario against real `gatehouse serve` processes) in a few seconds, on
//! SQLite and, with GATEHOUSE_TEST_DATABASE_URL set, on a PostgreSQL database
//! the bench creates and drops itself. Asserts well-formed JSON, every
//! scenario answered with zero errors, and exit 0; no timing.

use crate::{gatehouse, Process};
use gatehouse_store::testing::DATABASE_URL_VAR;
use serde_json::Value;
use std::time::Duration;

/// Bounds the whole run (a debug build generating keys on a busy machine).
const BENCH_TIMEOUT: Duration = Duration::from_secs(300);

const SCENARIOS: [&str; 8] = [
    "discovery",
    "jwks",
    "client_credentials_es256",
    "client_credentials_rs256",
    "refresh_token",
    "authorization_code",
    "login",
    "client_credentials_action",
];

/// Runs `gatehouse bench --smoke --json <extra>`; its report.
fn smoke(extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut args = vec!["bench", "--smoke", "--json"];
    args.extend(extra);
    let mut process = Process::spawn(gatehouse(dir.path(), &args));
    let status = process.wait_exit(BENCH_TIMEOUT);
    let stdout = process
        .stdout_until_quiet(Duration::from_millis(200))
        .join("\n");
    process.wait_stderr_closed(Duration::from_secs(5));
    assert!(
        status.is_some_and(|s| s.success()),
        "bench exit {status:?}\nstdout: {stdout}\nstderr: {:?}",
        process.stderr_lines()
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("bench JSON: {e}\n{stdout}"))
}

fn positive(value: &Value, what: &str) {
    assert!(
        value.as_f64().is_some_and(|n| n > 0.0),
        "{what} should be a positive number: {value}"
    );
}

/// The report's shape and its zero errors.
fn check_report(report: &Value, backend: &str) {
    assert_eq!(report["errors"], 0, "{report:#}");
    assert_eq!(report["settings"]["smoke"], true);
    assert!(report["target"].is_null());
    assert_eq!(report["comparison"], serde_json::json!([]));
    for ceiling in ["RS256", "ES256", "argon2id"] {
        positive(&report["ceilings_per_s"][ceiling], ceiling);
        positive(&report["ceilings_per_core_per_s"][ceiling], ceiling);
    }
    let gatehouse = &report["gatehouse"];
    assert_eq!(gatehouse["backend"], backend);
    for memory in ["first_start_rss", "idle_rss_after_restart"] {
        positive(&gatehouse["memory_kib"][memory], memory);
    }
    positive(&gatehouse["ready_ms"]["first_start"], "first start");
    positive(&gatehouse["ready_ms"]["restart"], "restart");
    let runs = gatehouse["scenarios"].as_array().expect("scenarios");
    let names: Vec<&str> = runs.iter().filter_map(|r| r["scenario"].as_str()).collect();
    assert_eq!(names, SCENARIOS);
    for run in runs {
        let name = &run["scenario"];
        assert_eq!(run["errors"], 0, "{name}: {run}");
        assert!(run["first_error"].is_null(), "{name}: {run}");
        assert_eq!(run["ran_out"], 0, "{name}: {run}");
        positive(&run["requests"], "requests");
        positive(&run["per_s"], "per_s");
        positive(&run["peak_rss_kib"], "peak_rss_kib");
        let (p50, p99) = (&run["p50_ms_at_half"], &run["p99_ms_at_half"]);
        assert!(p50.as_f64() <= p99.as_f64(), "{name}: {run}");
    }
    for (name, ceiling) in [
        ("client_credentials_es256", "ES256 signing"),
        ("client_credentials_rs256", "RS256 signing"),
        ("login", "argon2id verify"),
        ("client_credentials_action", "client_credentials_rs256"),
    ] {
        let run = runs.iter().find(|r| r["scenario"] == name).expect(name);
        assert_eq!(run["ceiling"], ceiling, "{run}");
        positive(&run["ratio_to_ceiling"], "ratio_to_ceiling");
    }
}

#[test]
fn bench_smoke_on_sqlite() {
    let report = smoke(&[]);
    check_report(&report, "sqlite");
}

#[test]
fn bench_smoke_on_postgres_drops_its_database() {
    let Some(url) = std::env::var(DATABASE_URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        eprintln!("skipped: {DATABASE_URL_VAR} not set");
        return;
    };
    let report = smoke(&["--database-url", &url]);
    check_report(&report, "postgres");
    let name = report["gatehouse"]["database"]
        .as_str()
        .expect("the bench database's name");
    assert!(name.starts_with("gatehouse_bench_"), "{name}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let left: i64 = runtime.block_on(async {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_one(&mut connection)
            .await
            .unwrap()
    });
    assert_eq!(left, 0, "the bench left its database {name} behind");
}
