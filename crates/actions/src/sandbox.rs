//! One worker's QuickJS runtime and how an execution runs in it.

use crate::{
    ActionError, Job, Limits, Output, Run, MAX_API_CALLS, MAX_ERROR_CHARS, MAX_LOG_LINES,
    MAX_LOG_LINE_CHARS, MAX_QUEUE_WAIT_IN_TIME_LIMITS,
};
use rquickjs::context::EvalOptions;
use rquickjs::{CatchResultExt, CaughtError, Context, Ctx, Function, Object, Promise, Runtime};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;

const PRELUDE: &str = include_str!("prelude.js");
/// The file name errors and stack traces show for the Action's code.
const FILE_NAME: &str = "action.js";
/// The CommonJS module wrapper; on the first line so line numbers stay the code's.
const WRAPPER_HEAD: &str = "(function (exports, require, module, __filename, __dirname) {";
const WRAPPER_TAIL: &str = "\n})";
/// Auth0 puts its largest Action well under this; it bounds compile time and memory.
pub const MAX_CODE_BYTES: usize = 100 * 1024;

/// Takes jobs until the engine is dropped. A runtime that hit a limit (or
/// left work queued) is dropped and the next job gets a fresh one.
pub(crate) fn worker(receiver: &Mutex<mpsc::Receiver<Job>>, limits: Limits) {
    let mut warm: Option<Sandbox> = None;
    loop {
        let job = {
            let guard = receiver.lock().unwrap_or_else(|p| p.into_inner());
            guard.recv()
        };
        let Ok(job) = job else { return };
        // The request gave up (its client went away): its work is nobody's.
        if job.reply.is_closed() {
            continue;
        }
        let max_wait = limits.time * MAX_QUEUE_WAIT_IN_TIME_LIMITS;
        if job.queued.elapsed() > max_wait {
            let _ = job.reply.send(Err(ActionError::Busy(max_wait.as_millis())));
            continue;
        }
        let sandbox = match warm.take() {
            Some(sandbox) => sandbox,
            None => match Sandbox::new(limits) {
                Ok(sandbox) => sandbox,
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                    continue;
                }
            },
        };
        let (result, reusable) = sandbox.execute(&job.run);
        if reusable {
            warm = Some(sandbox);
        }
        let _ = job.reply.send(result);
    }
}

struct Sandbox {
    runtime: Runtime,
    limits: Limits,
    started: Instant,
    /// Microseconds after `started` past which the interrupt handler stops the code.
    deadline: Arc<AtomicU64>,
    interrupted: Arc<AtomicBool>,
}

impl Sandbox {
    fn new(limits: Limits) -> Result<Self, ActionError> {
        let runtime = Runtime::new().map_err(|e| ActionError::Engine(e.to_string()))?;
        runtime.set_memory_limit(limits.memory_bytes);
        runtime.set_max_stack_size(limits.stack_bytes);
        let started = Instant::now();
        let deadline = Arc::new(AtomicU64::new(u64::MAX));
        let interrupted = Arc::new(AtomicBool::new(false));
        let (d, i) = (Arc::clone(&deadline), Arc::clone(&interrupted));
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let late = micros_since(started) > d.load(Ordering::Relaxed);
            if late {
                i.store(true, Ordering::Relaxed);
            }
            late
        })));
        Ok(Self {
            runtime,
            limits,
            started,
            deadline,
            interrupted,
        })
    }

    /// Runs `run` in a fresh context; the flag says whether the runtime may serve again.
    fn execute(&self, run: &Run) -> (Result<Output, ActionError>, bool) {
        let context = match Context::full(&self.runtime) {
            Ok(context) => context,
            Err(e) => return (Err(ActionError::Engine(e.to_string())), false),
        };
        self.interrupted.store(false, Ordering::Relaxed);
        let budget = u64::try_from(self.limits.time.as_micros()).unwrap_or(u64::MAX);
        self.deadline.store(
            micros_since(self.started).saturating_add(budget),
            Ordering::Relaxed,
        );
        let result = context.with(|ctx| self.execute_in(&ctx, run));
        self.deadline.store(u64::MAX, Ordering::Relaxed);
        let clean = result.is_ok()
            || matches!(
                result,
                Err(ActionError::Threw(_) | ActionError::Syntax { .. })
            );
        let idle = !self.runtime.is_job_pending();
        drop(context);
        self.runtime.run_gc();
        (redact(result, &run.secrets), clean && idle)
    }

    fn execute_in(&self, ctx: &Ctx<'_>, run: &Run) -> Result<Output, ActionError> {
        ctx.eval_with_options::<(), _>(PRELUDE, options("gatehouse-prelude.js", true))
            .catch(ctx)
            .map_err(|e| ActionError::Engine(format!("prelude: {e}")))?;
        let module = compile(ctx, &run.code).map_err(|e| self.classify(e, true))?;
        let host: Object = ctx
            .globals()
            .get("__gatehouse")
            .map_err(|e| ActionError::Engine(e.to_string()))?;
        let start: Function = host
            .get("start")
            .map_err(|e| ActionError::Engine(e.to_string()))?;
        let event = serde_json::to_string(&run.event).map_err(engine)?;
        let secrets: serde_json::Map<String, serde_json::Value> = run
            .secrets
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let secrets = serde_json::to_string(&secrets).map_err(engine)?;
        let promise: Promise = start
            .call((
                run.trigger.id(),
                run.trigger.handler(),
                event,
                secrets,
                module,
            ))
            .catch(ctx)
            .map_err(|e| self.classify(e, false))?;
        match promise.finish::<rquickjs::Value>().catch(ctx) {
            Ok(_) => {}
            // An interrupted job leaves its promise pending: that is the time limit.
            Err(CaughtError::Error(rquickjs::Error::WouldBlock))
                if !self.interrupted.load(Ordering::Relaxed) =>
            {
                return Err(ActionError::NeverSettled)
            }
            Err(e) => return Err(self.classify(e, false)),
        }
        let result: Function = host.get("result").map_err(engine)?;
        let json: String = result
            .call(())
            .catch(ctx)
            .map_err(|e| self.classify(e, false))?;
        let output: Output = serde_json::from_str(&json)
            .map_err(|e| ActionError::Engine(format!("the Action's record is unreadable: {e}")))?;
        bounded(output)
    }

    /// Turns a caught JavaScript error into the limit it hit, or what was thrown.
    fn classify(&self, error: CaughtError<'_>, compiling: bool) -> ActionError {
        if self.interrupted.load(Ordering::Relaxed) {
            return ActionError::Timeout(self.limits.time.as_millis());
        }
        let oom = ActionError::OutOfMemory(self.limits.memory_bytes / (1024 * 1024));
        match error {
            CaughtError::Error(rquickjs::Error::Allocation) => oom,
            CaughtError::Error(e) => ActionError::Engine(e.to_string()),
            CaughtError::Exception(exception) => {
                let message = exception.message().unwrap_or_default();
                let name: String = exception
                    .as_object()
                    .get::<_, Option<String>>("name")
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                if message.contains("out of memory") {
                    oom
                } else if is_stack_overflow(&message) {
                    ActionError::StackOverflow
                } else if compiling && name == "SyntaxError" {
                    ActionError::Syntax {
                        line: line_of(&exception.stack().unwrap_or_default()).unwrap_or(1),
                        message,
                    }
                } else if name.is_empty() || name == "Error" {
                    ActionError::Threw(message)
                } else {
                    ActionError::Threw(format!("{name}: {message}"))
                }
            }
            CaughtError::Value(value) => {
                let text = value
                    .as_string()
                    .and_then(|s| s.to_string().ok())
                    .or_else(|| ctx_json(&value))
                    .unwrap_or_else(|| format!("a {} value", value.type_name()));
                if text.contains("out of memory") {
                    oom
                } else {
                    ActionError::Threw(text)
                }
            }
        }
    }
}

/// The record within the host's limits, whatever the Action did to the
/// prelude's built-ins (it can replace `Array.prototype` methods the prelude
/// relies on): too many calls fail the execution, extra log lines go
/// ([`redact`] cuts the long ones once their secrets are out).
fn bounded(mut output: Output) -> Result<Output, ActionError> {
    if output.calls.len() > MAX_API_CALLS {
        return Err(ActionError::TooManyCalls(MAX_API_CALLS));
    }
    output.logs.truncate(MAX_LOG_LINES);
    Ok(output)
}

/// `text` cut to `max` characters, marked with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn ctx_json(value: &rquickjs::Value<'_>) -> Option<String> {
    value
        .ctx()
        .json_stringify(value.clone())
        .ok()
        .flatten()
        .and_then(|s| s.to_string().ok())
}

fn is_stack_overflow(message: &str) -> bool {
    message.contains("stack overflow") || message.contains("call stack size")
}

fn engine(e: impl std::fmt::Display) -> ActionError {
    ActionError::Engine(e.to_string())
}

fn micros_since(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

fn options(file: &str, strict: bool) -> EvalOptions {
    let mut options = EvalOptions::default();
    options.strict = strict;
    options.filename = Some(file.to_string());
    options
}

/// Compiles the Action as a CommonJS module function (sloppy mode, as Node
/// runs it) without running any of it.
fn compile<'js>(ctx: &Ctx<'js>, code: &str) -> rquickjs::CaughtResult<'js, Function<'js>> {
    let wrapped = format!("{WRAPPER_HEAD}{code}{WRAPPER_TAIL}");
    ctx.eval_with_options(wrapped, options(FILE_NAME, false))
        .catch(ctx)
}

/// The line of the Action's code a stack trace points at (`action.js:LINE`).
fn line_of(stack: &str) -> Option<u32> {
    let at = stack.find(&format!("{FILE_NAME}:"))?;
    let digits: String = stack[at + FILE_NAME.len() + 1..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Replaces every secret value in what leaves the sandbox: logs, errors and
/// the `api` calls' arguments (a denial's reason becomes an
/// `error_description`, a log event and a trace line; a claim or metadata
/// value goes into tokens and the trace). An Action uses its secrets to call
/// other services, never to hand them on.
fn redact(
    result: Result<Output, ActionError>,
    secrets: &[(String, String)],
) -> Result<Output, ActionError> {
    let scrub = |text: &str| -> String {
        secrets
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .fold(text.to_string(), |acc, (_, value)| {
                acc.replace(value.as_str(), "[secret]")
            })
    };
    match result {
        Ok(mut output) => {
            for call in &mut output.calls {
                for arg in &mut call.args {
                    scrub_json(arg, &scrub);
                }
            }
            for line in &mut output.logs {
                line.message = cut(&scrub(&line.message), MAX_LOG_LINE_CHARS);
                line.level = cut(&line.level, 16);
            }
            Ok(output)
        }
        // Scrubbed before it is cut, so no part of a secret survives the cut.
        Err(ActionError::Threw(message)) => {
            Err(ActionError::Threw(cut(&scrub(&message), MAX_ERROR_CHARS)))
        }
        Err(other) => Err(other),
    }
}

/// Scrubs every string in `value`, member names included.
fn scrub_json(value: &mut serde_json::Value, scrub: &impl Fn(&str) -> String) {
    match value {
        serde_json::Value::String(text) => *text = scrub(text),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| scrub_json(v, scrub)),
        serde_json::Value::Object(members) => {
            *members = std::mem::take(members)
                .into_iter()
                .map(|(name, mut v)| {
                    scrub_json(&mut v, scrub);
                    (scrub(&name), v)
                })
                .collect();
        }
        _ => {}
    }
}

/// Compiles `code` without running it: its size, its syntax (with the line
/// of the error) and the modules it requires, none of which are available.
pub fn check(code: &str) -> Result<(), ActionError> {
    if code.len() > MAX_CODE_BYTES {
        return Err(ActionError::Syntax {
            line: 1,
            message: format!("the code is longer than {} KB", MAX_CODE_BYTES / 1024),
        });
    }
    let sandbox = Sandbox::new(Limits::default())?;
    let context = Context::full(&sandbox.runtime).map_err(engine)?;
    let budget = u64::try_from(sandbox.limits.time.as_micros()).unwrap_or(u64::MAX);
    sandbox.deadline.store(budget, Ordering::Relaxed);
    context.with(|ctx| {
        compile(&ctx, code)
            .map(|_| ())
            .map_err(|e| sandbox.classify(e, true))
    })?;
    match required_module(code) {
        Some(name) => Err(ActionError::ModuleNotAvailable(name)),
        None => Ok(()),
    }
}

/// The first module named by a `require('…')` call with a literal name.
fn required_module(code: &str) -> Option<String> {
    let mut rest = code;
    while let Some(at) = rest.find("require") {
        let before = rest[..at].chars().next_back();
        let after = rest[at + "require".len()..].trim_start();
        rest = &rest[at + "require".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '.') {
            continue;
        }
        let Some(args) = after.strip_prefix('(') else {
            continue;
        };
        let args = args.trim_start();
        let Some(quote) = args
            .chars()
            .next()
            .filter(|c| matches!(c, '\'' | '"' | '`'))
        else {
            continue;
        };
        let name: String = args[1..].chars().take_while(|c| *c != quote).collect();
        return Some(name);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_required_modules_but_not_lookalikes() {
        assert_eq!(
            required_module("const fs = require('fs');").as_deref(),
            Some("fs")
        );
        assert_eq!(
            required_module("x = require ( \"axios\" )").as_deref(),
            Some("axios")
        );
        assert_eq!(required_module("myrequire('x'); a.require('y')"), None);
        assert_eq!(required_module("// no modules here"), None);
    }

    #[test]
    fn reads_the_line_from_a_stack() {
        assert_eq!(line_of("SyntaxError\n    at action.js:3:5\n"), Some(3));
        assert_eq!(line_of("no frames"), None);
    }
}
