//! The bench's report: one JSON document (`--json`) or markdown tables, with
//! one row per scenario, Gatehouse's columns and the target's side by side.

use super::ceilings::Ceilings;
use super::load::Outcome;
use super::scenarios::Scenario;
use super::Settings;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Memory figures in KiB by name (`None` where /proc could not be read).
pub type Memory = BTreeMap<&'static str, Option<u64>>;

/// One scenario on one server.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRun {
    pub scenario: &'static str,
    /// The peak: good answers per second with every connection busy.
    pub per_s: f64,
    /// Good answers in the peak window.
    pub requests: u64,
    /// The paced rate of the latency window (half the peak).
    pub half_rate_per_s: f64,
    pub p50_ms_at_half: f64,
    pub p99_ms_at_half: f64,
    /// Failed requests in both windows.
    pub errors: u64,
    /// Connections that stopped early because the codes or tokens ran out.
    pub ran_out: u64,
    pub first_error: Option<String>,
    /// The server's VmHWM after the scenario.
    pub peak_rss_kib: Option<u64>,
    /// What bounds the scenario, and the peak's ratio to it.
    pub ceiling: Option<&'static str>,
    pub ratio_to_ceiling: Option<f64>,
}

impl ScenarioRun {
    pub fn new(
        scenario: Scenario,
        peak: &Outcome,
        half: Option<&Outcome>,
        peak_rss_kib: Option<u64>,
    ) -> Self {
        let errors = peak.errors + half.map_or(0, |h| h.errors);
        let first_error = peak
            .first_error
            .clone()
            .or_else(|| half.and_then(|h| h.first_error.clone()));
        Self {
            scenario: scenario.name(),
            per_s: peak.per_second().round(),
            requests: peak.ok,
            half_rate_per_s: half.map_or(0.0, |h| h.per_second().round()),
            p50_ms_at_half: round3(half.map_or(0.0, |h| h.quantile_ms(0.50))),
            p99_ms_at_half: round3(half.map_or(0.0, |h| h.quantile_ms(0.99))),
            errors,
            ran_out: peak.ran_out + half.map_or(0, |h| h.ran_out),
            first_error,
            peak_rss_kib,
            ceiling: None,
            ratio_to_ceiling: None,
        }
    }
}

/// One server's runs.
#[derive(Debug, Clone)]
pub struct SideRun {
    pub label: String,
    pub url: Option<String>,
    pub backend: Option<&'static str>,
    /// The PostgreSQL database the bench created (and dropped).
    pub database: Option<String>,
    pub memory: Memory,
    /// Spawn to banner: first start (keys generated), restart.
    pub ready_ms: Option<(f64, f64)>,
    pub scenarios: Vec<ScenarioRun>,
}

/// What the report is made of.
pub struct Inputs {
    pub threads: usize,
    pub settings: Settings,
    pub nodes: u8,
    pub ceilings: Ceilings,
    pub gatehouse: SideRun,
    pub target: Option<SideRun>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    machine: Machine,
    settings: SettingsReport,
    ceilings_per_s: Ceilings,
    ceilings_per_core_per_s: Ceilings,
    gatehouse: SideReport,
    target: Option<SideReport>,
    /// Per shared scenario: Gatehouse's peak over the target's.
    comparison: Vec<Comparison>,
    /// Failed requests, all servers and scenarios together.
    pub errors: u64,
}

#[derive(Debug, Serialize)]
struct Machine {
    threads: usize,
}

#[derive(Debug, Serialize)]
struct SettingsReport {
    window_ms: u128,
    concurrency: usize,
    nodes: u8,
    smoke: bool,
}

#[derive(Debug, Serialize)]
struct SideReport {
    label: String,
    url: Option<String>,
    backend: Option<&'static str>,
    database: Option<String>,
    memory_kib: Memory,
    ready_ms: Option<Ready>,
    scenarios: Vec<ScenarioRun>,
}

#[derive(Debug, Serialize)]
struct Ready {
    first_start: f64,
    restart: f64,
}

#[derive(Debug, Serialize)]
struct Comparison {
    scenario: &'static str,
    gatehouse_per_s: f64,
    target_per_s: f64,
    ratio: Option<f64>,
    gatehouse_p99_ms_at_half: f64,
    target_p99_ms_at_half: f64,
}

impl Report {
    pub fn new(inputs: Inputs) -> Self {
        let mut gatehouse = inputs.gatehouse;
        with_ceilings(&mut gatehouse.scenarios, &inputs.ceilings);
        let comparison = inputs
            .target
            .as_ref()
            .map(|target| compare(&gatehouse.scenarios, &target.scenarios))
            .unwrap_or_default();
        let errors = gatehouse.scenarios.iter().map(|s| s.errors).sum::<u64>()
            + inputs
                .target
                .iter()
                .flat_map(|t| &t.scenarios)
                .map(|s| s.errors)
                .sum::<u64>();
        Self {
            machine: Machine {
                threads: inputs.threads,
            },
            settings: SettingsReport {
                window_ms: inputs.settings.window.as_millis(),
                concurrency: inputs.settings.concurrency,
                nodes: inputs.nodes,
                smoke: inputs.settings.smoke,
            },
            ceilings_per_s: inputs.ceilings.rounded(),
            ceilings_per_core_per_s: inputs.ceilings.per_core(inputs.threads).rounded(),
            gatehouse: side_report(gatehouse),
            target: inputs.target.map(side_report),
            comparison,
            errors,
        }
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = self.write_markdown(&mut out);
        out
    }

    fn write_markdown(&self, out: &mut String) -> std::fmt::Result {
        let s = &self.settings;
        writeln!(
            out,
            "{} vs {}: {} connections, {} ms windows, {} threads\n",
            self.gatehouse.label,
            self.target
                .as_ref()
                .map_or("no target", |t| t.label.as_str()),
            s.concurrency,
            s.window_ms,
            self.machine.threads
        )?;
        self.write_ceilings(out)?;
        self.write_scenarios(out)?;
        self.write_memory(out)?;
        for side in std::iter::once(&self.gatehouse).chain(&self.target) {
            for run in side.scenarios.iter().filter(|r| r.errors > 0) {
                let first = run.first_error.as_deref().unwrap_or("?");
                writeln!(
                    out,
                    "\n{} {}: first error: {first}",
                    side.label, run.scenario
                )?;
            }
        }
        Ok(())
    }

    fn write_ceilings(&self, out: &mut String) -> std::fmt::Result {
        let (all, core) = (&self.ceilings_per_s, &self.ceilings_per_core_per_s);
        writeln!(out, "| ceiling | all threads /s | per core /s |")?;
        writeln!(out, "| --- | ---: | ---: |")?;
        writeln!(out, "| RS256 signing | {} | {} |", all.rs256, core.rs256)?;
        writeln!(out, "| ES256 signing | {} | {} |", all.es256, core.es256)?;
        writeln!(
            out,
            "| argon2id verify | {} | {} |\n",
            all.argon2id, core.argon2id
        )
    }

    fn write_scenarios(&self, out: &mut String) -> std::fmt::Result {
        let target = self.target.as_ref();
        write!(out, "| scenario | Gatehouse /s | p50 / p99 ms at half | errors | peak RSS MiB | vs ceiling |")?;
        if target.is_some() {
            write!(out, " target /s | target p50 / p99 ms | target errors | target peak RSS MiB | Gatehouse / target |")?;
        }
        let columns = if target.is_some() { 11 } else { 6 };
        writeln!(out, "\n|{}", " --- |".repeat(columns))?;
        for run in &self.gatehouse.scenarios {
            write!(out, "| {} | {}", run.scenario, cells(run))?;
            match run.ratio_to_ceiling {
                Some(ratio) => write!(out, " {ratio} of {} |", run.ceiling.unwrap_or("?"))?,
                None => write!(out, " |")?,
            }
            if let Some(target) = target {
                let theirs = target.scenarios.iter().find(|t| t.scenario == run.scenario);
                let ratio = self
                    .comparison
                    .iter()
                    .find(|c| c.scenario == run.scenario)
                    .and_then(|c| c.ratio);
                match theirs {
                    Some(theirs) => write!(out, " {}", cells(theirs))?,
                    None => write!(out, " – | – | – | – |")?,
                }
                write!(out, " {} |", ratio.map_or("–".into(), |r| r.to_string()))?;
            }
            writeln!(out)?;
        }
        writeln!(out)
    }

    fn write_memory(&self, out: &mut String) -> std::fmt::Result {
        writeln!(out, "| memory and readiness | value |")?;
        writeln!(out, "| --- | ---: |")?;
        for side in std::iter::once(&self.gatehouse).chain(&self.target) {
            for (name, kib) in &side.memory_kib {
                writeln!(out, "| {} {name} | {} MiB |", side.label, mib(*kib))?;
            }
            if let Some(ready) = &side.ready_ms {
                writeln!(
                    out,
                    "| {} ready after first start / restart | {} ms / {} ms |",
                    side.label, ready.first_start, ready.restart
                )?;
            }
        }
        Ok(())
    }
}

/// Rate, latency, errors and peak memory as table cells.
fn cells(run: &ScenarioRun) -> String {
    let ran_out = if run.ran_out > 0 {
        format!(" ({} connections ran out)", run.ran_out)
    } else {
        String::new()
    };
    format!(
        "{}{ran_out} | {} / {} | {} | {} |",
        run.per_s,
        run.p50_ms_at_half,
        run.p99_ms_at_half,
        run.errors,
        mib(run.peak_rss_kib)
    )
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("–".into(), |k| format!("{:.1}", k as f64 / 1024.0))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The signing scenarios against their signing ceiling, login against
/// argon2id, the Action against the same exchange without it.
fn with_ceilings(runs: &mut [ScenarioRun], ceilings: &Ceilings) {
    let rs256_without_action = runs
        .iter()
        .find(|r| r.scenario == Scenario::ClientCredentialsRs256.name())
        .map(|r| r.per_s);
    for run in runs.iter_mut() {
        let bound = match run.scenario {
            "client_credentials_es256" => Some(("ES256 signing", ceilings.es256)),
            "client_credentials_rs256" => Some(("RS256 signing", ceilings.rs256)),
            "login" => Some(("argon2id verify", ceilings.argon2id)),
            "client_credentials_action" => {
                rs256_without_action.map(|rate| ("client_credentials_rs256", rate))
            }
            _ => None,
        };
        if let Some((name, rate)) = bound.filter(|(_, rate)| *rate > 0.0) {
            run.ceiling = Some(name);
            run.ratio_to_ceiling = Some(round3(run.per_s / rate));
        }
    }
}

fn compare(ours: &[ScenarioRun], theirs: &[ScenarioRun]) -> Vec<Comparison> {
    ours.iter()
        .filter_map(|mine| {
            let other = theirs.iter().find(|t| t.scenario == mine.scenario)?;
            Some(Comparison {
                scenario: mine.scenario,
                gatehouse_per_s: mine.per_s,
                target_per_s: other.per_s,
                ratio: (other.per_s > 0.0).then(|| round3(mine.per_s / other.per_s)),
                gatehouse_p99_ms_at_half: mine.p99_ms_at_half,
                target_p99_ms_at_half: other.p99_ms_at_half,
            })
        })
        .collect()
}

fn side_report(run: SideRun) -> SideReport {
    SideReport {
        label: run.label,
        url: run.url,
        backend: run.backend,
        database: run.database,
        memory_kib: run.memory,
        ready_ms: run.ready_ms.map(|(first, restart)| Ready {
            first_start: round3(first),
            restart: round3(restart),
        }),
        scenarios: run.scenarios,
    }
}
