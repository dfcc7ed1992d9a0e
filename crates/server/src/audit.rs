//! Log events with Auth0's event codes (auth0-compat.md §7), each carrying the
//! decision trace when there was one, keyed by the event id and the token's jti.

use crate::state::AppState;
use gatehouse_core::grant::{RefusalTrace, Trace};
use gatehouse_store::LogEvent;
use serde_json::{json, Value};

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
    pub const LOGOUT_OK: &str = "slo";
}

/// One event to record: Auth0's fields (auth0-compat.md §12) plus the
/// decision `trace` or the `refusal`, which `gatehouse explain` reads back.
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

/// Records an event and returns its `log_id` (for the `Gatehouse-Log-Id`
/// header). A failure to log is itself logged, never surfaced: the token
/// decision already happened.
pub async fn record(state: &AppState, event: Event<'_>) -> String {
    let mut details = json!({ "jti": event.jti, "trace": event.trace });
    if let (Some(refusal), Value::Object(target)) = (event.refusal, &mut details) {
        target.insert("refusal".into(), json!(refusal));
    }
    if let (Value::Object(target), Value::Object(extra)) = (&mut details, event.extra) {
        target.extend(extra);
    }
    let now = state.now();
    let owned = |v: Option<&str>| v.map(str::to_string);
    let record = LogEvent {
        log_id: format!("{now}{}", gatehouse_core::ids::random_hex(12)),
        date: now,
        event_type: event.code.to_string(),
        client_id: owned(event.client_id),
        user_id: owned(event.user_id),
        description: event.description,
        jti: owned(event.jti),
        ip: owned(event.ip),
        user_agent: owned(event.user_agent),
        client_name: owned(event.client_name),
        user_name: owned(event.user_name),
        audience: owned(event.audience),
        scope: owned(event.scope),
        details,
    };
    if let Err(e) = state.store().insert_log_event(&record).await {
        tracing::error!(error = %e, code = event.code, "could not record log event");
    }
    record.log_id
}
