//! Log events with Auth0's event codes (auth0-compat.md §7), each carrying the
//! decision trace when there was one, keyed by the event id and the token's jti.
//!
//! Each request runs in a [`RequestLog`] scope ([`request_scope`]): events
//! recorded while serving it get the request's IP and User-Agent, and the
//! answers of the endpoints a developer debugs (`/oauth/token`, `/authorize`,
//! logout) name their event in the `Gatehouse-Log-Id` header
//! ([`name_every_event`], [`name_failed_events`]), which `gatehouse explain <log_id>` reads back.

use crate::extract::{counted_ip, PeerIp};
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use gatehouse_core::explain::is_failure;
use gatehouse_core::grant::{RefusalTrace, Trace};
use gatehouse_store::LogEvent;
use serde_json::{json, Value};
use std::sync::Mutex;

/// Auth0 event codes Gatehouse emits.
pub mod codes {
    pub const CODE_EXCHANGE_OK: &str = "seacft";
    pub const CODE_EXCHANGE_FAILED: &str = "feacft";
    pub const CLIENT_CREDENTIALS_OK: &str = "seccft";
    pub const CLIENT_CREDENTIALS_FAILED: &str = "feccft";
    pub const PASSWORD_EXCHANGE_OK: &str = "sepft";
    pub const PASSWORD_EXCHANGE_FAILED: &str = "fepft";
    pub const REFRESH_EXCHANGE_OK: &str = "sertft";
    pub const REFRESH_EXCHANGE_FAILED: &str = "fertft";
    pub const REFRESH_TOKEN_REUSED: &str = "ferrt";
    pub const REFRESH_TOKEN_REVOKED: &str = "srrt";
    pub const DEVICE_EXCHANGE_OK: &str = "sede";
    pub const DEVICE_EXCHANGE_FAILED: &str = "fede";
    pub const WRONG_PASSWORD: &str = "fp";
    pub const UNKNOWN_USER: &str = "fu";
    pub const BRUTE_FORCE_BLOCK: &str = "limit_wc";
    pub const RATE_LIMIT: &str = "api_limit";
    pub const MANAGEMENT_API_WRITE: &str = "sapi";
    pub const LOGIN_OK: &str = "s";
    pub const SILENT_AUTH_OK: &str = "ssa";
    pub const SIGNUP_OK: &str = "ss";
    pub const SIGNUP_FAILED: &str = "fs";
    pub const LOGOUT_OK: &str = "slo";
    pub const LOGIN_FAILED: &str = "f";
    pub const SILENT_AUTH_FAILED: &str = "fsa";
    pub const LOGOUT_FAILED: &str = "flo";
    pub const CORS_REFUSED: &str = "fco";
    pub const VERIFICATION_EMAIL_REQUEST_OK: &str = "svr";
    pub const VERIFICATION_EMAIL_REQUEST_FAILED: &str = "fvr";
    pub const EMAIL_VERIFIED: &str = "sv";
    pub const EMAIL_VERIFICATION_FAILED: &str = "fv";
    pub const PASSWORD_CHANGE_REQUEST_OK: &str = "scpr";
    pub const PASSWORD_CHANGE_REQUEST_FAILED: &str = "fcpr";
    pub const PASSWORD_CHANGED: &str = "scp";
    pub const PASSWORD_CHANGE_FAILED: &str = "fcp";
}

/// Auth0's name of each event type (the "Event" column of Auth0's log event
/// type codes): the description of a success, and of a failure that has no
/// error description of its own.
pub fn event_name(code: &str) -> &'static str {
    match code {
        "seacft" | "seccft" | "sepft" | "sertft" | "sede" => "Success Exchange",
        "feacft" | "feccft" | "fepft" | "fertft" | "ferrt" | "fede" => "Failed Exchange",
        "s" => "Success Login",
        "f" => "Failed Login",
        "fp" => "Failed Login (Incorrect Password)",
        "fu" => "Failed Login (Invalid Email/Username)",
        "ssa" => "Success Silent Auth",
        "fsa" => "Failed Silent Auth",
        "ss" => "Success Signup",
        "fs" => "Failed Signup",
        "slo" => "Success Logout",
        "flo" => "Failed Logout",
        "srrt" => "Success Revocation",
        "sapi" => "Success API Operation",
        "fco" => "Failed by CORS",
        "sv" => "Success Verification Email",
        "fv" => "Failed Verification Email",
        "svr" => "Success Verification Email Request",
        "fvr" => "Failed Verification Email Request",
        "scp" => "Success Change Password",
        "fcp" => "Failed Change Password",
        "scpr" => "Success Change Password Request",
        "fcpr" => "Failed Change Password Request",
        "limit_wc" => "Blocked Account",
        "limit_mu" => "Blocked IP Address",
        "pwd_leak" => "Breached password",
        "api_limit" => "Rate Limit On API",
        _ => "Event",
    }
}

/// The header naming the log event of an answer.
pub static LOG_ID_HEADER: axum::http::HeaderName =
    axum::http::HeaderName::from_static("gatehouse-log-id");

/// The longest User-Agent kept in an event (Auth0 keeps a short string).
pub const MAX_USER_AGENT_CHARS: usize = 512;

/// What one request contributes to the events recorded while serving it.
pub struct RequestLog {
    /// The peer's address, as stored in events.
    ip: String,
    /// The address as limits count it (an IPv6 /64): the failure budget's key.
    counted_ip: String,
    user_agent: Option<String>,
    /// The last event recorded, with its code.
    recorded: Mutex<Option<(String, String)>>,
}

tokio::task_local! {
    static REQUEST_LOG: RequestLog;
}

/// Middleware: serves the request inside its [`RequestLog`] scope.
pub async fn request_scope(req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let PeerIp(peer) = match PeerIp::from_request_parts(&mut parts, &()).await {
        Ok(p) => p,
        Err(never) => match never {},
    };
    let scope = RequestLog {
        ip: peer.map_or_else(|| "unknown".into(), |ip| ip.to_canonical().to_string()),
        counted_ip: counted_ip(peer),
        user_agent: parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .map(|v| clean_user_agent(v.as_bytes())),
        recorded: Mutex::new(None),
    };
    REQUEST_LOG
        .scope(scope, next.run(Request::from_parts(parts, body)))
        .await
}

/// A User-Agent as stored: valid UTF-8, control characters dropped, at most
/// [`MAX_USER_AGENT_CHARS`] characters.
pub fn clean_user_agent(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_USER_AGENT_CHARS)
        .collect()
}

/// When an answer names its event in `Gatehouse-Log-Id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogIdPolicy {
    /// Whenever the request recorded an event (`/oauth/token`).
    Always,
    /// Only when the event is a failure (`/authorize`, logout: a success
    /// answer stays as it was).
    OnFailure,
}

/// Middleware for `/oauth/token`: every answer that recorded an event names it.
pub async fn name_every_event(req: Request, next: Next) -> Response {
    log_id_header(LogIdPolicy::Always, req, next).await
}

/// Middleware for `/authorize` and logout: failures name their event.
pub async fn name_failed_events(req: Request, next: Next) -> Response {
    log_id_header(LogIdPolicy::OnFailure, req, next).await
}

/// Adds `Gatehouse-Log-Id` to the answer of a request that recorded an
/// event, per `policy`. Redirects keep their `Location` as it is: the id
/// travels only in the header.
async fn log_id_header(policy: LogIdPolicy, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let recorded = REQUEST_LOG
        .try_with(|log| log.recorded.lock().ok().and_then(|r| r.clone()))
        .ok()
        .flatten();
    if let Some((log_id, code)) = recorded {
        let wanted = policy == LogIdPolicy::Always || is_failure(&code);
        if let (true, Ok(value)) = (wanted, HeaderValue::from_str(&log_id)) {
            response.headers_mut().insert(LOG_ID_HEADER.clone(), value);
        }
    }
    response
}

/// The IP and User-Agent of the request being served, if any.
pub fn request_ip_and_agent() -> (Option<String>, Option<String>) {
    let (ip, user_agent, _) = request_defaults();
    (ip, user_agent)
}

/// The IP and User-Agent of the request being served, if any, and the
/// address its failure events are counted under.
fn request_defaults() -> (Option<String>, Option<String>, Option<String>) {
    REQUEST_LOG
        .try_with(|log| {
            (
                Some(log.ip.clone()),
                log.user_agent.clone(),
                Some(log.counted_ip.clone()),
            )
        })
        .unwrap_or((None, None, None))
}

/// Failure events one address may write per minute. Failures need no
/// client and no account, so without a budget anonymous garbage could fill
/// the log, and hold SQLite's single writer, as fast as it is sent. Beyond
/// the budget the events are dropped (and their answers carry no log id);
/// the first drop of a minute is reported in the server's own log.
pub const FAILURE_EVENTS_PER_MINUTE: u32 = 120;

/// Addresses tracked at once; when full, past minutes are forgotten first.
const TRACKED_ADDRESSES: usize = 10_000;

/// Per-address failure-event counts for the current minute (one node's view).
#[derive(Default)]
pub struct FailureBudget {
    minutes: Mutex<std::collections::HashMap<String, (i64, u32)>>,
}

impl FailureBudget {
    /// Counts one failure event of `address`; false when over the budget.
    pub fn allow(&self, address: &str, now: i64) -> bool {
        let minute = now.div_euclid(60);
        let Ok(mut minutes) = self.minutes.lock() else {
            return true;
        };
        if minutes.len() >= TRACKED_ADDRESSES && !minutes.contains_key(address) {
            minutes.retain(|_, (m, _)| *m == minute);
            if minutes.len() >= TRACKED_ADDRESSES {
                return false;
            }
        }
        let entry = minutes.entry(address.to_string()).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        if entry.1 == FAILURE_EVENTS_PER_MINUTE + 1 {
            tracing::warn!(
                address,
                "more than {FAILURE_EVENTS_PER_MINUTE} failure events this minute: dropping the rest"
            );
        }
        entry.1 <= FAILURE_EVENTS_PER_MINUTE
    }
}

/// Longest text kept in an event column (description, names, scope, …).
const MAX_COLUMN_CHARS: usize = 512;
/// Longest string kept inside `details` (the trace's sentences fit).
const MAX_DETAIL_CHARS: usize = 2_048;

/// `text`, cut to `max` characters (marked with `…`).
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Every string in `value` cut to [`MAX_DETAIL_CHARS`]: details repeat what
/// the request sent, and a request can be large.
fn clip_strings(value: &mut Value) {
    match value {
        Value::String(s) if s.chars().count() > MAX_DETAIL_CHARS => {
            *s = clip(s, MAX_DETAIL_CHARS);
        }
        Value::Array(items) => items.iter_mut().for_each(clip_strings),
        Value::Object(map) => map.values_mut().for_each(clip_strings),
        _ => {}
    }
}

/// Whether the request being served has recorded an event.
pub fn recorded_in_request() -> bool {
    REQUEST_LOG
        .try_with(|log| log.recorded.lock().map(|r| r.is_some()).unwrap_or(false))
        .unwrap_or(false)
}

/// The user as Auth0's `user_name` shows them: the email, else the name.
pub fn user_name(user: &gatehouse_core::model::User) -> Option<&str> {
    user.email.as_deref().or(user.name.as_deref())
}

/// A one-time secret as a log event shows it: its last 3 characters.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let shown = chars.len().saturating_sub(3);
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < shown { '*' } else { *c })
        .collect()
}

fn remember(log_id: &str, code: &str) {
    let _ = REQUEST_LOG.try_with(|log| {
        if let Ok(mut recorded) = log.recorded.lock() {
            *recorded = Some((log_id.to_string(), code.to_string()));
        }
    });
}

/// One event to record: Auth0's fields (auth0-compat.md §12) plus the
/// decision `trace` or the `refusal`, which `gatehouse explain` reads back.
/// An empty `description` becomes [`event_name`]; no `ip` or `user_agent`
/// means the request's.
#[derive(Default)]
pub struct Event<'a> {
    pub code: &'a str,
    pub description: String,
    pub client_id: Option<&'a str>,
    pub client_name: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub user_name: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub audience: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub jti: Option<&'a str>,
    pub trace: Option<&'a Trace>,
    pub refusal: Option<&'a RefusalTrace>,
    /// More `details` fields (Auth0's per-type fields).
    pub extra: Value,
}

/// Events this process recorded: orders its log ids within one second.
static RECORDED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// `<epoch seconds><sequence, 12 hex><random, 12 hex>`: ids of one node sort
/// in the order it recorded them (listing ties and checkpoints follow it),
/// and the random part keeps nodes apart.
fn new_log_id(now: i64) -> String {
    let sequence = RECORDED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & 0xffff_ffff_ffff;
    format!("{now}{sequence:012x}{}", gatehouse_core::ids::random_hex(6))
}

/// Records an event and returns its `log_id` (for the `Gatehouse-Log-Id`
/// header; the request's scope remembers it too), or an empty string when
/// the address is over its [`FailureBudget`]. Attacker-sized text is clipped.
/// A failure to log is itself logged, never surfaced: the token decision
/// already happened.
pub async fn record(state: &AppState, event: Event<'_>) -> String {
    let (request_ip, request_user_agent, counted) = request_defaults();
    let now = state.now();
    if is_failure(event.code) {
        let address = counted.as_deref().or(event.ip).unwrap_or("unknown");
        if !state.failure_events().allow(address, now) {
            return String::new();
        }
    }
    let description = if event.description.is_empty() {
        event_name(event.code).to_string()
    } else {
        event.description
    };
    let mut details = json!({ "jti": event.jti, "trace": event.trace });
    if let (Some(refusal), Value::Object(target)) = (event.refusal, &mut details) {
        target.insert("refusal".into(), json!(refusal));
    }
    if let (Value::Object(target), Value::Object(extra)) = (&mut details, event.extra) {
        target.extend(extra);
    }
    clip_strings(&mut details);
    let owned = |v: Option<&str>| v.map(|text| clip(text, MAX_COLUMN_CHARS));
    let record = LogEvent {
        log_id: new_log_id(now),
        date: now,
        event_type: event.code.to_string(),
        client_id: owned(event.client_id),
        user_id: owned(event.user_id),
        description: clip(&description, MAX_COLUMN_CHARS),
        jti: owned(event.jti),
        ip: owned(event.ip).or(request_ip),
        user_agent: event
            .user_agent
            .map(|ua| clean_user_agent(ua.as_bytes()))
            .or(request_user_agent),
        client_name: owned(event.client_name),
        user_name: owned(event.user_name),
        audience: owned(event.audience),
        scope: owned(event.scope),
        details,
    };
    if let Err(e) = state.store().insert_log_event(&record).await {
        tracing::error!(error = %e, code = event.code, "could not record log event");
        return record.log_id;
    }
    remember(&record.log_id, event.code);
    record.log_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_emitted_code_has_an_auth0_name() {
        use codes::*;
        for code in [
            CODE_EXCHANGE_OK,
            CODE_EXCHANGE_FAILED,
            CLIENT_CREDENTIALS_OK,
            CLIENT_CREDENTIALS_FAILED,
            PASSWORD_EXCHANGE_OK,
            PASSWORD_EXCHANGE_FAILED,
            REFRESH_EXCHANGE_OK,
            REFRESH_EXCHANGE_FAILED,
            REFRESH_TOKEN_REUSED,
            REFRESH_TOKEN_REVOKED,
            DEVICE_EXCHANGE_OK,
            DEVICE_EXCHANGE_FAILED,
            WRONG_PASSWORD,
            UNKNOWN_USER,
            BRUTE_FORCE_BLOCK,
            RATE_LIMIT,
            MANAGEMENT_API_WRITE,
            LOGIN_OK,
            SILENT_AUTH_OK,
            SIGNUP_OK,
            LOGOUT_OK,
            LOGIN_FAILED,
            SILENT_AUTH_FAILED,
            LOGOUT_FAILED,
            CORS_REFUSED,
        ] {
            assert_ne!(event_name(code), "Event", "{code}");
        }
        assert_eq!(event_name("seacft"), "Success Exchange");
        assert_eq!(event_name("feacft"), "Failed Exchange");
        assert_eq!(event_name("fco"), "Failed by CORS");
    }

    #[test]
    fn failure_events_have_a_budget_per_address_and_minute() {
        let budget = FailureBudget::default();
        let minute = 1_764_547_200;
        for _ in 0..FAILURE_EVENTS_PER_MINUTE {
            assert!(budget.allow("203.0.113.7", minute));
        }
        assert!(!budget.allow("203.0.113.7", minute + 59));
        assert!(budget.allow("198.51.100.1", minute + 59), "another address");
        assert!(budget.allow("203.0.113.7", minute + 60), "the next minute");
    }

    #[test]
    fn attacker_sized_text_is_clipped() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip(&"é".repeat(20), 5), "éééé…");
        let mut details = json!({"a": ["x".repeat(10_000)], "b": {"c": "y".repeat(3_000)}, "n": 1});
        clip_strings(&mut details);
        assert_eq!(
            details["a"][0].as_str().unwrap().chars().count(),
            MAX_DETAIL_CHARS
        );
        assert_eq!(
            details["b"]["c"].as_str().unwrap().chars().count(),
            MAX_DETAIL_CHARS
        );
        assert_eq!(details["n"], 1);
    }

    #[test]
    fn user_agents_are_cleaned_and_bounded() {
        assert_eq!(clean_user_agent(b"a\tb\r\nc"), "abc");
        assert_eq!(clean_user_agent(b"caf\xff"), "caf\u{fffd}");
        let long = "x".repeat(100_000);
        assert_eq!(
            clean_user_agent(long.as_bytes()).len(),
            MAX_USER_AGENT_CHARS
        );
    }

    #[test]
    fn masked_secrets_keep_three_characters() {
        assert_eq!(mask("abcdefgh"), "*****fgh");
        assert_eq!(mask("ab"), "ab");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn failures_are_told_apart_from_successes() {
        for code in [
            "f",
            "fsa",
            "feacft",
            "ferrt",
            "fco",
            "flo",
            "limit_wc",
            "api_limit",
        ] {
            assert!(is_failure(code), "{code}");
        }
        for code in ["s", "ssa", "seacft", "slo", "sapi"] {
            assert!(!is_failure(code), "{code}");
        }
    }
}
