//! The load generator: `concurrency` keep-alive connections ([`http`]), each
//! a task holding one [`Conversation`] (the requests of a scenario), for one
//! window. Closed loop (each connection sends as soon as its answer is in)
//! for the peak rate, or paced to a total rate with staggered starts for the
//! latency at that rate. The same code and settings drive every server.

use super::http::Connection;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A request that gets no answer within this long counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a failed connection, so a dead server is not hammered in a loop.
const ERROR_PAUSE: Duration = Duration::from_millis(10);

/// What one connection sends, and what it expects back.
pub trait Conversation: Send {
    /// The next request, or `None` when the scenario's supply ran out.
    fn next_request(&mut self) -> Option<&[u8]>;
    /// Whether an answer is what the scenario expects (a chained scenario
    /// also takes its next request from it).
    fn check(&mut self, status: u16, body: &[u8]) -> Result<(), String>;
    /// The request got no answer (a chained scenario starts a new chain).
    fn broken(&mut self) {}
}

/// How one window is driven.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Connection `i` goes to `targets[i % len]`.
    pub targets: Vec<SocketAddr>,
    pub concurrency: usize,
    pub window: Duration,
    /// Total requests per second; `None` for as fast as answers come.
    pub rate: Option<f64>,
}

/// What one window measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Answers that were what the scenario expects.
    pub ok: u64,
    pub errors: u64,
    /// Connections that stopped early because the scenario's supply ran out.
    pub ran_out: u64,
    /// From the start until the last connection stopped.
    pub elapsed: Duration,
    /// Latencies of the good answers in microseconds, sorted.
    latencies_us: Vec<u32>,
    /// The first error seen, to explain the count.
    pub first_error: Option<String>,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.ok as f64 / seconds
        } else {
            0.0
        }
    }

    /// The `p`th latency quantile (0..=1) in milliseconds; 0 without answers.
    pub fn quantile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let last = self.latencies_us.len() - 1;
        let index = ((self.latencies_us.len() as f64 * p) as usize).min(last);
        f64::from(self.latencies_us[index]) / 1000.0
    }
}

/// One connection's share of an [`Outcome`].
#[derive(Default)]
struct TaskOutcome {
    ok: u64,
    errors: u64,
    ran_out: bool,
    latencies_us: Vec<u32>,
    first_error: Option<String>,
    finished: Option<Instant>,
}

impl TaskOutcome {
    fn error(&mut self, message: String) {
        self.errors += 1;
        self.first_error.get_or_insert(message);
    }
}

/// Runs one window: connection `i` holds `conversation(i)`.
pub async fn run(
    plan: &Plan,
    mut conversation: impl FnMut(usize) -> Box<dyn Conversation>,
) -> Result<Outcome, String> {
    if plan.targets.is_empty() {
        return Err("no server to load".into());
    }
    let concurrency = plan.concurrency.max(1);
    let started = Instant::now();
    let deadline = started + plan.window;
    let interval = plan
        .rate
        .map(|rate| Duration::from_secs_f64(concurrency as f64 / rate.max(0.1)));
    let mut tasks = Vec::with_capacity(concurrency);
    for i in 0..concurrency {
        let addr = plan.targets[i % plan.targets.len()];
        // Paced connections start staggered across one interval: started
        // together they would send bursts of `concurrency` requests, and the
        // latency measured would be the burst's queue, not the rate's.
        let pacing = interval.map(|every| (started + every * i as u32 / concurrency as u32, every));
        tasks.push(tokio::spawn(drive(addr, conversation(i), deadline, pacing)));
    }
    let mut outcome = Outcome::default();
    let mut last_finished = started;
    for task in tasks {
        let task = task.await.map_err(|e| format!("load task failed: {e}"))?;
        outcome.ok += task.ok;
        outcome.errors += task.errors;
        outcome.ran_out += u64::from(task.ran_out);
        outcome.latencies_us.extend(task.latencies_us);
        if outcome.first_error.is_none() {
            outcome.first_error = task.first_error;
        }
        last_finished = last_finished.max(task.finished.unwrap_or(started));
    }
    outcome.elapsed = last_finished - started;
    outcome.latencies_us.sort_unstable();
    Ok(outcome)
}

/// One connection's loop until `deadline`; with `pacing` (first send, interval)
/// requests leave on schedule.
async fn drive(
    addr: SocketAddr,
    mut conversation: Box<dyn Conversation>,
    deadline: Instant,
    pacing: Option<(Instant, Duration)>,
) -> TaskOutcome {
    let mut connection = Connection::new(addr);
    let mut outcome = TaskOutcome::default();
    let mut next_send = pacing.map(|(first, _)| first);
    while Instant::now() < deadline {
        if let (Some(at), Some((_, every))) = (next_send, pacing) {
            if at >= deadline {
                break;
            }
            tokio::time::sleep_until(at.into()).await;
            next_send = Some(at + every);
        }
        let Some(request) = conversation.next_request() else {
            outcome.ran_out = true;
            break;
        };
        let sent = Instant::now();
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, connection.exchange(request)).await;
        let verdict = match answer {
            Ok(Ok(status)) => conversation.check(status, connection.body()),
            Ok(Err(e)) => {
                conversation.broken();
                tokio::time::sleep(ERROR_PAUSE).await;
                Err(format!("connection: {e}"))
            }
            Err(_) => {
                connection.reset();
                conversation.broken();
                Err(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()))
            }
        };
        match verdict {
            Ok(()) => {
                outcome.ok += 1;
                let micros = sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                outcome.latencies_us.push(micros);
            }
            Err(message) => outcome.error(message),
        }
    }
    outcome.finished = Some(Instant::now());
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Answers every request on every connection with `200 {"n":1}`.
    async fn server() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 4096];
                    while let Ok(n) = socket.read(&mut buffer).await {
                        if n == 0 {
                            break;
                        }
                        let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"n\":1}";
                        if socket.write_all(answer).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    /// Sends `supply` requests, then runs out; every answer is fine.
    struct Counted {
        request: Vec<u8>,
        supply: usize,
    }

    impl Conversation for Counted {
        fn next_request(&mut self) -> Option<&[u8]> {
            self.supply = self.supply.checked_sub(1)?;
            Some(&self.request)
        }
        fn check(&mut self, status: u16, body: &[u8]) -> Result<(), String> {
            (status == 200 && body == b"{\"n\":1}")
                .then_some(())
                .ok_or_else(|| format!("status {status}"))
        }
    }

    #[tokio::test]
    async fn connections_stop_when_their_supply_runs_out() {
        let plan = Plan {
            targets: vec![server().await],
            concurrency: 3,
            window: Duration::from_secs(30),
            rate: None,
        };
        let outcome = run(&plan, |_| {
            Box::new(Counted {
                request: super::super::http::get("h", "/"),
                supply: 5,
            })
        })
        .await
        .unwrap();
        assert_eq!(outcome.ok, 15);
        assert_eq!(outcome.errors, 0);
        assert_eq!(outcome.ran_out, 3);
        assert!(outcome.quantile_ms(0.99) >= outcome.quantile_ms(0.5));
    }

    #[tokio::test]
    async fn a_closed_port_counts_errors_not_answers() {
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let plan = Plan {
            targets: vec![closed],
            concurrency: 2,
            window: Duration::from_millis(50),
            rate: None,
        };
        let outcome = run(&plan, |_| {
            Box::new(Counted {
                request: super::super::http::get("h", "/"),
                supply: 1_000_000,
            })
        })
        .await
        .unwrap();
        assert_eq!(outcome.ok, 0);
        assert!(outcome.errors >= 2);
        assert!(outcome.first_error.is_some());
    }
}
