//! Running Actions: Auth0-shaped JavaScript (`exports.onExecutePostLogin =
//! async (event, api) => {…}`) in QuickJS, with hard limits.
//!
//! - [`Engine`]: a pool of worker threads, each owning one QuickJS runtime
//!   kept warm between executions. Every execution gets a fresh context (its
//!   own globals), so nothing one Action run leaves behind is seen by the next.
//! - Limits per execution ([`Limits`]): wall time (an interrupt handler stops
//!   endless loops), memory and stack. A runtime that hit a limit is replaced.
//! - No filesystem, network, timers or modules: QuickJS has none of its own and
//!   the host adds none; `require` always throws.
//! - The `api` object only records calls ([`ApiCall`]); what they mean (claim
//!   rules, scopes, denial) is decided by the caller, per trigger.
//! - [`check`] compiles code without running it, for deploy: a syntax error
//!   with its line, or a `require` of a module that is not available.

mod sandbox;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

pub use gatehouse_core::actions::{ApiCall, Trigger};
pub use sandbox::check;

/// The hard limits of one execution.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall time from the start of the execution; an endless loop is interrupted.
    pub time: Duration,
    /// Heap of the QuickJS runtime.
    pub memory_bytes: usize,
    /// JavaScript stack (deep recursion fails cleanly well before the thread's own stack).
    pub stack_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            time: Duration::from_secs(2),
            memory_bytes: 32 * 1024 * 1024,
            stack_bytes: 512 * 1024,
        }
    }
}

/// The most `api` calls one execution may make. Each becomes a trace note
/// (and, on `/authorize`, part of the authorization code record), so an
/// Action looping over `setCustomClaim` must fail rather than make the server
/// work through hundreds of thousands of calls.
pub const MAX_API_CALLS: usize = 1000;
/// The most `console` lines kept from one execution, and their length in characters.
pub const MAX_LOG_LINES: usize = 100;
pub const MAX_LOG_LINE_CHARS: usize = 2000;
/// The longest error message kept from a failed execution, in characters: it
/// becomes an `error_description`, a log event and an execution record.
pub const MAX_ERROR_CHARS: usize = 1000;

/// One `console` line the Action wrote (secrets replaced by `[secret]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub level: String,
    pub message: String,
}

/// What one execution did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Output {
    pub calls: Vec<ApiCall>,
    pub logs: Vec<LogLine>,
}

/// One execution: the code, the trigger, the event (without secrets) and the
/// secrets, which join `event.secrets` inside the sandbox only.
#[derive(Clone)]
pub struct Run {
    pub code: Arc<str>,
    pub trigger: Trigger,
    pub event: Value,
    pub secrets: Vec<(String, String)>,
}

/// Names the secrets but never shows their values, should a run be logged.
impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secrets: Vec<(&str, &str)> = self
            .secrets
            .iter()
            .map(|(name, _)| (name.as_str(), "[secret]"))
            .collect();
        f.debug_struct("Run")
            .field("code", &self.code)
            .field("trigger", &self.trigger)
            .field("event", &self.event)
            .field("secrets", &secrets)
            .finish()
    }
}

/// Why an execution failed. Messages never hold a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("the Action ran longer than {0} ms and was stopped")]
    Timeout(u128),
    #[error("the Action ran out of memory (limit {0} MiB)")]
    OutOfMemory(usize),
    #[error("the Action exceeded the maximum call stack size")]
    StackOverflow,
    #[error("the Action threw: {0}")]
    Threw(String),
    #[error("the Action has a syntax error on line {line}: {message}")]
    Syntax { line: u32, message: String },
    #[error("the Action requires '{0}', which is not available: Gatehouse Actions run without npm modules or Node built-ins")]
    ModuleNotAvailable(String),
    #[error("the Action made more than {0} calls on the api object")]
    TooManyCalls(usize),
    #[error("the Action's promise never settled")]
    NeverSettled,
    #[error("the Action did not start: every Actions worker was busy for {0} ms")]
    Busy(u128),
    #[error("the Action engine failed: {0}")]
    Engine(String),
}

/// How many time limits a job may wait for a worker before it fails as
/// [`ActionError::Busy`]: under a flood of slow Actions, requests fail
/// promptly instead of queueing without end.
const MAX_QUEUE_WAIT_IN_TIME_LIMITS: u32 = 5;

struct Job {
    run: Run,
    queued: std::time::Instant,
    reply: oneshot::Sender<Result<Output, ActionError>>,
}

/// A pool of warm QuickJS runtimes. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    jobs: mpsc::Sender<Job>,
    limits: Limits,
}

impl Engine {
    /// Starts `workers` threads (at least one), each with its own runtime.
    pub fn new(workers: usize, limits: Limits) -> Self {
        let (jobs, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..workers.max(1) {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("gatehouse-actions-{n}"))
                // The JS stack limit must stay well inside the native one.
                .stack_size(limits.stack_bytes * 8 + 2 * 1024 * 1024)
                .spawn(move || sandbox::worker(&receiver, limits))
                .expect("spawning an Actions worker thread");
        }
        Self { jobs, limits }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Runs one execution on the next free worker.
    pub async fn run(&self, run: Run) -> Result<Output, ActionError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                run,
                queued: std::time::Instant::now(),
                reply,
            })
            .map_err(|_| ActionError::Engine("the Actions workers have stopped".into()))?;
        answer
            .await
            .map_err(|_| ActionError::Engine("the Actions worker stopped mid-execution".into()))?
    }
}
