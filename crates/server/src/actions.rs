//! Running a trigger's flow of Actions at login, token exchange and signup.
//!
//! For each bound Action, in flow order: build Auth0's `event` for the trigger,
//! run the deployed code on the engine ([`gatehouse_actions::Engine`]), fold
//! its recorded `api` calls into [`Effects`] with core's rules. A denial stops
//! the flow; a failing Action (it throws, runs out of time or memory) fails it
//! cleanly. Metadata updates are persisted once the flow ends. A failed run
//! is recorded as an execution (`GET /api/v2/actions/executions/{id}`) and
//! an `actions_execution_failed` log event naming the Action and the execution.
//!
//! Flows are cached per node ([`FlowCache`]): with no Action bound a token
//! exchange reads nothing more.

use crate::actions_admin::unseal_secrets;
use crate::audit::{self, Event};
use crate::decision::{Decided, DecisionFailure};
use crate::error::ApiError;
use crate::extract::Params;
use crate::routes::management::render;
use crate::routes::management::users::merge_metadata;
use crate::state::AppState;
use gatehouse_actions::{ActionError, Run};
use gatehouse_core::actions::{action_failed_refusal, Effects, Trigger};
use gatehouse_core::grant::RefusalTrace;
use gatehouse_core::model::{Client, User};
use gatehouse_core::time::iso8601;
use gatehouse_core::{ids, ErrorCode, OAuthError, ScopeSet};
use gatehouse_store::{ActionExecution, StoredAction};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A trigger's flow: its bindings in order, each with its Action.
pub type Flow = Arc<Vec<(gatehouse_store::ActionBinding, StoredAction)>>;

/// How long a node trusts the flow it read: another node's (or the CLI's)
/// binding or deploy is seen within this time, this node's own at once.
pub const FLOW_FRESHNESS: Duration = Duration::from_secs(1);

/// Each trigger's flow as this node last read it, so a token exchange does
/// not read the bindings again (most tenants have none bound at all).
#[derive(Default)]
pub struct FlowCache {
    flows: Mutex<HashMap<&'static str, (Instant, Flow)>>,
}

impl FlowCache {
    /// The trigger's flow, read from the store when this node's copy is older than [`FLOW_FRESHNESS`].
    pub async fn get(&self, state: &AppState, trigger: Trigger) -> Result<Flow, FlowError> {
        if let Some((read_at, flow)) = self.lock().get(trigger.id()) {
            if read_at.elapsed() < FLOW_FRESHNESS {
                return Ok(Arc::clone(flow));
            }
        }
        let read_at = Instant::now();
        let flow: Flow = Arc::new(state.store().action_flow(trigger.id()).await?);
        self.lock()
            .insert(trigger.id(), (read_at, Arc::clone(&flow)));
        Ok(flow)
    }

    /// Forgets every flow: an Action or a binding changed on this node.
    pub fn forget(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, (Instant, Flow)>> {
        self.flows.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Auth0's log type of a failed Action execution.
pub const EXECUTION_FAILED: &str = "actions_execution_failed";

/// Request parameters an Action never sees (credentials, one-time codes, and
/// the signup form's CSRF token).
const HIDDEN_PARAMS: &[&str] = &[
    "client_secret",
    "client_assertion",
    "csrf",
    "id_token_hint",
    "password",
    "code",
    "code_verifier",
    "refresh_token",
    "device_code",
    "otp",
    "state",
    "nonce",
];

/// What `event.request` says about the HTTP request that triggered the flow.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub method: &'static str,
    pub query: Map<String, Value>,
    pub body: Map<String, Value>,
}

impl RequestFacts {
    /// A `GET` whose query holds `params` (`/authorize`).
    pub fn get(params: &Params) -> Self {
        let (ip, user_agent) = audit::request_ip_and_agent();
        Self {
            ip,
            user_agent,
            method: "GET",
            query: visible(params),
            body: Map::new(),
        }
    }

    /// A `POST` whose body holds `params` (`/oauth/token`, signup).
    pub fn post(params: &Params) -> Self {
        let (ip, user_agent) = audit::request_ip_and_agent();
        Self {
            ip,
            user_agent,
            method: "POST",
            query: Map::new(),
            body: visible(params),
        }
    }

    fn to_json(&self, state: &AppState) -> Value {
        json!({
            "ip": self.ip,
            "user_agent": self.user_agent,
            "method": self.method,
            "hostname": tenant_host(state),
            "query": self.query,
            "body": self.body,
            "geoip": {},
            "language": "en",
        })
    }
}

fn visible(params: &Params) -> Map<String, Value> {
    params
        .iter()
        .filter(|(name, _)| !HIDDEN_PARAMS.contains(name))
        .map(|(name, value)| (name.to_string(), Value::String(value.to_string())))
        .collect()
}

fn tenant_host(state: &AppState) -> String {
    let issuer = state.issuer();
    let host = issuer
        .split_once("://")
        .map_or(issuer, |(_, rest)| rest)
        .trim_end_matches('/');
    host.to_string()
}

/// Why a flow did not let the request through.
pub enum FlowError {
    /// An Action called `api.access.deny` (or `api.validation.error`).
    Denied(Box<Effects>),
    /// An Action failed: it threw, ran out of time or memory, or called a
    /// method Gatehouse does not support.
    Failed {
        action: String,
        message: String,
    },
    Internal(ApiError),
}

impl From<gatehouse_store::StoreError> for FlowError {
    fn from(e: gatehouse_store::StoreError) -> Self {
        Self::Internal(e.into())
    }
}

impl FlowError {
    /// The OAuth error Auth0 answers: `access_denied` with the reason (or the
    /// failure's message), or the code a credentials-exchange denial chose.
    pub fn oauth_error(&self) -> OAuthError {
        match self {
            Self::Denied(effects) => match effects.denied.as_ref() {
                Some(denial) => {
                    let code = denial
                        .error_code
                        .as_deref()
                        .map_or(ErrorCode::AccessDenied, denial_code);
                    OAuthError::new(code, denial.reason.clone())
                }
                None => OAuthError::access_denied("Access denied by an Action"),
            },
            Self::Failed { message, .. } => OAuthError::access_denied(message.clone()),
            Self::Internal(_) => OAuthError::server_error(),
        }
    }

    /// The refusal explained: which Action denied or failed, and the fix.
    pub fn refusal(&self) -> Option<RefusalTrace> {
        match self {
            Self::Denied(effects) => effects.denial_refusal(),
            Self::Failed { action, message } => Some(action_failed_refusal(action, message)),
            Self::Internal(_) => None,
        }
    }

    /// As the failure of a grant decision, explained.
    pub fn into_decision_failure(self) -> DecisionFailure {
        match self {
            Self::Internal(e) => DecisionFailure::Internal(e),
            other => match other.refusal() {
                Some(refusal) => DecisionFailure::explained(other.oauth_error(), refusal),
                None => DecisionFailure::oauth(other.oauth_error()),
            },
        }
    }
}

/// The OAuth error of a credentials-exchange `api.access.deny(code, reason)`;
/// core keeps only the codes Auth0 accepts there.
fn denial_code(code: &str) -> ErrorCode {
    match code {
        "invalid_scope" => ErrorCode::InvalidScope,
        "invalid_request" => ErrorCode::InvalidRequest,
        "server_error" => ErrorCode::ServerError,
        _ => ErrorCode::AccessDenied,
    }
}

/// Whether a flow runs for a real request or for the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Persist metadata; keep a failed run as an execution and log it.
    Issue,
    /// Run the code and apply its effects to the would-be token, writing nothing.
    Simulate,
}

/// Where a user grant's post-login effects come from.
pub enum PostLoginSource<'a> {
    /// Run the post-login flow now (password, device, refresh).
    Run {
        request: &'a RequestFacts,
        protocol: &'static str,
    },
    /// The flow already ran at `/authorize`; these are its effects (code flow).
    Carried(Box<Effects>),
}

/// Auth0's `event.transaction.protocol` values.
pub mod protocol {
    pub const CODE: &str = "oidc-basic-profile";
    pub const IMPLICIT: &str = "oidc-implicit-profile";
    pub const HYBRID: &str = "oidc-hybrid-profile";
    pub const PASSWORD: &str = "oauth2-resource-owner";
    pub const REFRESH: &str = "oauth2-refresh-token";
    pub const DEVICE: &str = "oauth2-device-code";
}

/// The facts of a post-login run.
pub struct PostLogin<'a> {
    pub client: &'a Client,
    pub user: &'a User,
    pub decided: &'a Decided,
    pub requested: &'a ScopeSet,
    pub protocol: &'static str,
    pub request: &'a RequestFacts,
    pub session_id: Option<&'a str>,
    pub auth_time: Option<i64>,
    pub mode: Mode,
}

/// Runs the post-login flow; its scopes are applied to `decided` by the caller.
pub async fn post_login(state: &AppState, p: PostLogin<'_>) -> Result<Effects, FlowError> {
    let flow = state.action_flows().get(state, Trigger::PostLogin).await?;
    if flow.is_empty() || is_dashboard(state, p.client).await? {
        return Ok(Effects::default());
    }
    let roles: Vec<String> = state
        .store()
        .user_roles(&p.user.user_id)
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect();
    let mut event = json!({
        "transaction": {
            "id": ids::random_token(12),
            "protocol": p.protocol,
            "requested_scopes": p.requested.iter().collect::<Vec<_>>(),
            "locale": "en",
        },
        "request": p.request.to_json(state),
        "user": render::user(p.user),
        "client": client_json(p.client),
        "connection": connection_json(&p.user.connection),
        "authorization": { "roles": roles },
        "stats": { "logins_count": p.user.logins_count },
        "tenant": { "id": tenant_host(state) },
        "authentication": {
            "methods": [{ "name": "pwd", "timestamp": p.auth_time.map(iso8601) }],
        },
    });
    if let Some(audience) = &p.decided.decision.audience {
        event["resource_server"] = json!({ "identifier": audience });
    }
    if let Some(sid) = p.session_id {
        event["session"] = json!({ "id": sid });
    }
    let effects = run_flow(state, Trigger::PostLogin, flow, event, p.mode).await?;
    if p.mode == Mode::Issue {
        persist_metadata(state, &p.user.user_id, &effects).await?;
    }
    Ok(effects)
}

/// The dashboard is Gatehouse's own console, not a tenant application: the
/// tenant's Actions (a deny rule, say) must not lock its administrators out.
async fn is_dashboard(state: &AppState, client: &Client) -> Result<bool, FlowError> {
    let dashboard = state.dashboard_client_id().await?;
    Ok(dashboard.as_deref() == Some(client.client_id.as_str()))
}

/// Runs the credentials-exchange flow for a machine-to-machine token.
pub async fn credentials_exchange(
    state: &AppState,
    client: &Client,
    decided: &Decided,
    request: &RequestFacts,
    mode: Mode,
) -> Result<Effects, FlowError> {
    let flow = state
        .action_flows()
        .get(state, Trigger::CredentialsExchange)
        .await?;
    if flow.is_empty() {
        return Ok(Effects::default());
    }
    let scopes: Vec<&str> = decided.decision.scope.iter().collect();
    let event = json!({
        "transaction": { "requested_scopes": scopes },
        "request": request.to_json(state),
        "client": client_json(client),
        "resource_server": { "identifier": decided.decision.audience },
        "tenant": { "id": tenant_host(state) },
        "accessToken": { "customClaims": {}, "scope": scopes },
    });
    run_flow(state, Trigger::CredentialsExchange, flow, event, mode).await
}

/// Runs the pre-user-registration flow for a user about to be created;
/// its metadata updates are for the caller to apply before creating.
pub async fn pre_user_registration(
    state: &AppState,
    user: &User,
    client: Option<&Client>,
    request: &RequestFacts,
) -> Result<Effects, FlowError> {
    let flow = state
        .action_flows()
        .get(state, Trigger::PreUserRegistration)
        .await?;
    if flow.is_empty() {
        return Ok(Effects::default());
    }
    let mut event = json!({
        "transaction": { "id": ids::random_token(12), "locale": "en" },
        "request": request.to_json(state),
        "user": render::user(user),
        "connection": connection_json(&user.connection),
        "tenant": { "id": tenant_host(state) },
    });
    if let Some(client) = client {
        event["client"] = client_json(client);
    }
    run_flow(
        state,
        Trigger::PreUserRegistration,
        flow,
        event,
        Mode::Issue,
    )
    .await
}

/// `user` with the metadata updates of `effects` applied (`null` removes a key).
pub fn with_metadata(mut user: User, effects: &Effects) -> User {
    for (target, updates) in [
        (&mut user.app_metadata, &effects.app_metadata),
        (&mut user.user_metadata, &effects.user_metadata),
    ] {
        if !updates.is_empty() {
            merge_metadata(target, updates.clone());
        }
    }
    user
}

/// What the signup page shows when the pre-user-registration flow refused:
/// the denial's `userMessage`, else Auth0's generic sentences (a thrown
/// error's text is for the log, not for the person signing up).
pub fn signup_refusal_message(refused: &FlowError) -> String {
    match refused {
        FlowError::Denied(effects) => effects
            .denied
            .as_ref()
            .and_then(|d| d.user_message.clone())
            .unwrap_or_else(|| "You are not allowed to sign up.".to_string()),
        _ => "We are sorry, something went wrong when attempting to sign up.".to_string(),
    }
}

async fn persist_metadata(
    state: &AppState,
    user_id: &str,
    effects: &Effects,
) -> Result<(), FlowError> {
    if effects.app_metadata.is_empty() && effects.user_metadata.is_empty() {
        return Ok(());
    }
    let Some(mut stored) = state.store().user(user_id).await? else {
        return Ok(());
    };
    stored.user = with_metadata(stored.user, effects);
    stored.user.updated_at = state.now();
    state.store().update_user(&stored).await?;
    Ok(())
}

fn client_json(client: &Client) -> Value {
    json!({
        "client_id": client.client_id,
        "name": client.name,
        "metadata": {},
    })
}

fn connection_json(name: &str) -> Value {
    json!({ "id": format!("con_{name}"), "name": name, "strategy": "auth0", "metadata": {} })
}

/// The result of one Action in an execution record (Auth0's shape).
fn result_json(action: &StoredAction, started: i64, ended: i64, error: Option<&str>) -> Value {
    let mut result = json!({
        "action_name": action.name,
        "started_at": iso8601(started),
        "ended_at": iso8601(ended),
    });
    if let Some(message) = error {
        result["error"] = json!({ "id": "action_execution_error", "msg": message });
    }
    result
}

/// Runs `flow` in order and records the execution.
async fn run_flow(
    state: &AppState,
    trigger: Trigger,
    flow: Flow,
    event: Value,
    mode: Mode,
) -> Result<Effects, FlowError> {
    let mut effects = Effects::default();
    let mut results = Vec::new();
    let mut failure = None;
    for (_, action) in flow.iter() {
        let Some(deployed) = &action.deployed else {
            continue;
        };
        let started = state.now();
        let error = match unseal_secrets(state.keys().master_key(), &action.id, &deployed.secrets) {
            Ok(secrets) => {
                let run = Run {
                    code: Arc::from(deployed.code.as_str()),
                    trigger,
                    event: event.clone(),
                    secrets,
                };
                match state.actions().run(run).await {
                    Ok(output) => effects
                        .apply(&action.name, trigger, &output.calls)
                        .err()
                        .map(|unsupported| unsupported.to_string()),
                    Err(e) => Some(failure_message(&action.name, &e)),
                }
            }
            Err(e) => Some(format!("The Action '{}' failed: {e}", action.name)),
        };
        results.push(result_json(action, started, state.now(), error.as_deref()));
        if let Some(message) = error {
            effects.record_failure(&action.name, &message);
            failure = Some((action.name.clone(), message));
            break;
        }
        if effects.denied.is_some() {
            break;
        }
    }
    // Only a failed run is kept as an execution, the one its log event
    // names: a run that succeeded or denied is told by the decision trace.
    if let Some((action, message)) = failure {
        if mode == Mode::Issue {
            let execution_id = record_execution(state, trigger, results).await;
            record_failure_event(state, trigger, &action, &message, &execution_id).await;
        }
        return Err(FlowError::Failed { action, message });
    }
    if effects.denied.is_some() {
        return Err(FlowError::Denied(Box::new(effects)));
    }
    Ok(effects)
}

/// The failure as the login's `error_description`: what happened, naming the Action.
fn failure_message(action: &str, error: &ActionError) -> String {
    match error {
        ActionError::Threw(message) => format!("The Action '{action}' threw: {message}"),
        other => format!("The Action '{action}' failed: {other}"),
    }
}

async fn record_execution(state: &AppState, trigger: Trigger, results: Vec<Value>) -> String {
    let now = state.now();
    let execution = ActionExecution {
        id: ids::random_token(16),
        trigger_id: trigger.id().to_string(),
        status: "final".into(),
        results: Value::Array(results),
        created_at: now,
        updated_at: now,
    };
    if let Err(e) = state.store().insert_action_execution(&execution).await {
        tracing::error!(error = %e, "recording an Action execution failed");
    }
    execution.id
}

async fn record_failure_event(
    state: &AppState,
    trigger: Trigger,
    action: &str,
    message: &str,
    execution_id: &str,
) {
    audit::record(
        state,
        Event {
            code: EXECUTION_FAILED,
            description: message.to_string(),
            extra: json!({
                "action_name": action,
                "trigger_id": trigger.id(),
                "execution_id": execution_id,
                "error": { "message": message },
            }),
            ..Event::default()
        },
    )
    .await;
}
