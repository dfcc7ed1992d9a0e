//! Gathering what `gatehouse explain` needs, then letting core say it.
//!
//! One entry point, [`explain`], serves the CLI (on the local database), the
//! Management API extension (`POST /api/v2/x-gatehouse/explain`, for
//! `gatehouse explain --url`) and, later, the dashboard. It recognises the
//! input ([`gatehouse_core::explain::pasted`]), finds the keys, the audience,
//! the log event (a JWT by its `jti`, an opaque token through its stored
//! hash, or a `jti` / log id as given) and hands them to
//! [`gatehouse_core::explain`] for the words. It reads and never writes.

use crate::error::ApiError;
use crate::state::AppState;
use gatehouse_core::explain::pasted::{classify, Pasted};
use gatehouse_core::explain::token::{audiences, check_jwt, AudienceKind, KnownKey, Tenant};
use gatehouse_core::explain::{
    ago, event_lines, EventFacts, EventRef, Explanation, InputKind, Line, Mistake, MistakeKind,
    TenantApis, Tone,
};
use gatehouse_core::jose::Header;
use gatehouse_core::model::SigningAlg;
use gatehouse_core::secret::hash_token;
use gatehouse_core::time::iso8601;
use gatehouse_store::{LogEvent, OpaqueToken, Page};
use serde_json::Value;

/// Why there is nothing to explain.
#[derive(Debug)]
pub enum ExplainError {
    /// The input is not a token, a jti or a log id (one line).
    BadInput(String),
    /// Nothing of this tenant matches (one line).
    NotFound(String),
    /// The store failed.
    Internal(ApiError),
}

impl From<gatehouse_store::StoreError> for ExplainError {
    fn from(e: gatehouse_store::StoreError) -> Self {
        Self::Internal(e.into())
    }
}

type Explained = Result<Explanation, ExplainError>;

/// Explains a pasted token, `jti` or log id.
pub async fn explain(state: &AppState, input: &str) -> Explained {
    match classify(input).map_err(ExplainError::BadInput)? {
        Pasted::Jwt {
            token,
            header,
            claims,
        } => explain_jwt(state, token, &header, &claims).await,
        Pasted::Handle(handle) => explain_handle(state, handle).await,
    }
}

async fn explain_jwt(state: &AppState, token: &str, header: &Header, claims: &Value) -> Explained {
    let keys = known_keys(state).await?;
    let (audience, hs256_secret) = audience_kind(state, claims).await?;
    let report = check_jwt(
        token,
        header,
        claims,
        &Tenant {
            issuer: state.issuer(),
            keys: &keys,
            hs256_secret: hs256_secret.as_deref().map(str::as_bytes),
            audience: &audience,
            now: state.now(),
        },
    );
    let input = match &audience {
        AudienceKind::Api { .. } => InputKind::AccessToken,
        AudienceKind::Client { .. } => InputKind::IdToken,
        AudienceKind::Unknown => InputKind::Jwt,
    };
    let event = match claims.get("jti").and_then(Value::as_str) {
        Some(jti) if input == InputKind::AccessToken => state.store().log_event_by_jti(jti).await?,
        _ => None,
    };
    let mut explanation = base(input, String::new());
    explanation.checks = report.checks;
    explanation.mistakes = report.mistakes;
    let subject = match event {
        Some(event) => {
            let facts = attach_event(state, &mut explanation, event).await?;
            Subject::from_event(&facts)
        }
        None => {
            explanation.lines = claim_lines(input, claims);
            Subject::from_claims(claims)
        }
    };
    explanation.summary = jwt_summary(&audience, &subject);
    Ok(explanation)
}

async fn explain_handle(state: &AppState, handle: &str) -> Explained {
    let store = state.store();
    if let Some(event) = store.log_event(handle).await? {
        return with_event(state, InputKind::LogId, event).await;
    }
    if let Some(event) = store.log_event_by_jti(handle).await? {
        return with_event(state, InputKind::Jti, event).await;
    }
    if let Some(opaque) = store.opaque_token(&hash_token(handle)).await? {
        return explain_opaque(state, &opaque).await;
    }
    Err(ExplainError::NotFound(format!(
        "nothing of this tenant is {}: not a log id or jti in the log, and not a live opaque \
         token (an opaque token is unknown here, or expired and purged; a log event may be past \
         its retention)",
        shorten(handle)
    )))
}

async fn explain_opaque(state: &AppState, opaque: &OpaqueToken) -> Explained {
    let now = state.now();
    let mut explanation = base(
        InputKind::OpaqueToken,
        "An opaque access token: it is for /userinfo only, and no API can verify it.".into(),
    );
    if opaque.expires_at <= now {
        explanation.mistakes.push(Mistake {
            kind: MistakeKind::OpaqueExpired,
            message: format!(
                "The opaque token expired {} ago, at {}; /userinfo rejects it.",
                ago(now.saturating_sub(opaque.expires_at)),
                iso8601(opaque.expires_at)
            ),
            fix: Some("Get a fresh token; the explanation below is of it as issued.".into()),
        });
    }
    let event = match &opaque.jti {
        Some(jti) => state.store().log_event_by_jti(jti).await?,
        None => None,
    };
    match event {
        Some(event) => {
            attach_event(state, &mut explanation, event).await?;
        }
        None => {
            explanation.lines = vec![
                Line::info("user", opaque.user_id.clone()),
                Line::info("client", opaque.client_id.clone()),
                Line::info("scope", opaque.scope.clone()),
                Line::info(
                    "event",
                    "No log event records this token's issuance (issued before events kept \
                     the opaque token's jti, or past the log retention)."
                        .into(),
                ),
            ];
        }
    }
    Ok(explanation)
}

async fn with_event(state: &AppState, input: InputKind, event: LogEvent) -> Explained {
    let summary = format!(
        "Log event {} ({}{}).",
        event.log_id,
        event.event_type,
        if event.description.is_empty() {
            String::new()
        } else {
            format!(": {}", event.description)
        }
    );
    let mut explanation = base(input, summary);
    attach_event(state, &mut explanation, event).await?;
    Ok(explanation)
}

async fn attach_event(
    state: &AppState,
    explanation: &mut Explanation,
    event: LogEvent,
) -> Result<EventFacts, ExplainError> {
    let apis = tenant_apis(state).await?;
    let facts = EventFacts {
        log_id: event.log_id.clone(),
        event_type: event.event_type.clone(),
        description: event.description.clone(),
        date: event.date,
        client_id: event.client_id.clone(),
        client_name: match &event.client_name {
            Some(name) => Some(name.clone()),
            None => client_name(state, event.client_id.as_deref()).await?,
        },
        user_id: event.user_id.clone(),
        user_name: match &event.user_name {
            Some(name) => Some(name.clone()),
            None => user_name(state, event.user_id.as_deref()).await?,
        },
        details: event.details.clone(),
    };
    explanation.lines = event_lines(&facts, &apis);
    explanation.event = Some(EventRef {
        log_id: event.log_id,
        event_type: event.event_type,
        description: event.description,
        date: iso8601(event.date),
    });
    explanation.trace = stored(&event.details, "trace");
    explanation.refusal = stored(&event.details, "refusal");
    Ok(facts)
}

/// The client's current name, for events recorded without one.
async fn client_name(state: &AppState, id: Option<&str>) -> Result<Option<String>, ExplainError> {
    Ok(match id {
        Some(id) => state.store().client(id).await?.map(|c| c.client.name),
        None => None,
    })
}

/// The user's name as events record it, for events recorded without one.
async fn user_name(state: &AppState, id: Option<&str>) -> Result<Option<String>, ExplainError> {
    Ok(match id {
        Some(id) => state
            .store()
            .user(id)
            .await?
            .and_then(|u| crate::audit::user_name(&u.user).map(str::to_string)),
        None => None,
    })
}

fn stored(details: &Value, key: &str) -> Option<Value> {
    details.get(key).filter(|v| !v.is_null()).cloned()
}

/// Every key the tenant has or had; published ones with their public half.
async fn known_keys(state: &AppState) -> Result<Vec<KnownKey>, ExplainError> {
    Ok(state
        .store()
        .signing_keys()
        .await?
        .into_iter()
        .map(|k| KnownKey {
            verifying: state
                .keys()
                .published_key(&k.kid)
                .map(|pair| pair.verifying_key().clone()),
            kid: k.kid,
            state: k.state,
            state_changed_at: k.state_changed_at,
        })
        .collect())
}

/// What the token's `aud` names: an API of the tenant (with its HS256
/// secret when it signs with one), else a client (an ID token).
async fn audience_kind(
    state: &AppState,
    claims: &Value,
) -> Result<(AudienceKind, Option<String>), ExplainError> {
    let values = audiences(claims);
    for aud in &values {
        if let Some(api) = state.store().resource_server_by_identifier(aud).await? {
            let kind = AudienceKind::Api {
                identifier: api.identifier.clone(),
                name: api.name.clone(),
            };
            // Only an HS256 API's secret verifies: a secret left on an
            // RS256 API must not vouch for an HS256 token it never signed.
            let secret = if api.signing_alg == SigningAlg::HS256 {
                api.signing_secret.clone()
            } else {
                None
            };
            return Ok((kind, secret));
        }
    }
    if let [only] = values.as_slice() {
        if let Some(stored) = state.store().client(only).await? {
            let kind = AudienceKind::Client {
                client_id: stored.client.client_id.clone(),
                name: stored.client.name.clone(),
            };
            return Ok((kind, None));
        }
    }
    Ok((AudienceKind::Unknown, None))
}

/// The tenant's own APIs and default audience, for fixes that name them.
pub(crate) async fn tenant_apis(state: &AppState) -> Result<TenantApis, ExplainError> {
    let identifiers = state
        .store()
        .resource_servers(Page::ALL)
        .await?
        .into_iter()
        .filter(|api| !api.is_system)
        .map(|api| api.identifier)
        .collect();
    let default_audience = state.store().tenant_settings().await?.default_audience;
    Ok(TenantApis {
        identifiers,
        default_audience,
    })
}

/// Who a token is for and which client got it, as the summary names them.
struct Subject {
    user: Option<String>,
    client: Option<String>,
}

impl Subject {
    fn from_event(facts: &EventFacts) -> Self {
        Self {
            user: facts.user_name.clone().or_else(|| facts.user_id.clone()),
            client: facts
                .client_name
                .clone()
                .or_else(|| facts.client_id.clone()),
        }
    }

    fn from_claims(claims: &Value) -> Self {
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_string);
        let sub = text("sub");
        let machine = sub.as_deref().is_some_and(|s| s.ends_with("@clients"));
        Self {
            user: if machine { None } else { sub },
            client: text("azp").or_else(|| text("client_id")),
        }
    }

    fn words(&self) -> String {
        match (&self.user, &self.client) {
            (Some(user), Some(client)) => format!(", for {user}, issued to {client}"),
            (None, Some(client)) => format!(", issued to {client} for itself"),
            (Some(user), None) => format!(", for {user}"),
            (None, None) => String::new(),
        }
    }
}

fn jwt_summary(audience: &AudienceKind, subject: &Subject) -> String {
    let who = subject.words();
    match audience {
        AudienceKind::Api { identifier, name } => {
            format!("An access token for API {name} ({identifier}){who}.")
        }
        AudienceKind::Client { client_id, name } => {
            format!(
                "An ID token for the application {name} ({client_id}){}.",
                match &subject.user {
                    Some(user) => format!(", about {user}"),
                    None => String::new(),
                }
            )
        }
        AudienceKind::Unknown => format!("A JWT for an audience this tenant does not have{who}."),
    }
}

/// Without a log event, what the claims themselves say.
fn claim_lines(input: InputKind, claims: &Value) -> Vec<Line> {
    let claim = |name: &str| claims.get(name).map(render_claim);
    let mut lines = Vec::new();
    if let Some(sub) = claim("sub") {
        lines.push(Line::info("user", sub));
    }
    if let Some(client) = claim("azp").or_else(|| claim("client_id")) {
        lines.push(Line::info("client", client));
    }
    if let Some(scope) = claim("scope") {
        lines.push(Line::info("scope", scope));
    }
    if let Some(permissions) = claim("permissions") {
        lines.push(Line::info("permissions", permissions));
    }
    if input == InputKind::AccessToken {
        lines.push(Line {
            topic: "event".into(),
            tone: Tone::Dropped,
            text: "No log event records this token's jti: it was issued by another server \
                   sharing the keys, or its event is past the log retention."
                .into(),
            fix: None,
        });
    }
    lines
}

fn render_claim(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(render_claim).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

fn base(input: InputKind, summary: String) -> Explanation {
    Explanation {
        input,
        summary,
        checks: Vec::new(),
        mistakes: Vec::new(),
        lines: Vec::new(),
        event: None,
        trace: None,
        refusal: None,
    }
}

/// A handle as messages show it: enough to recognise, never a whole secret.
fn shorten(handle: &str) -> String {
    let prefix: String = handle.chars().take(6).collect();
    if prefix.len() < handle.len() {
        format!("{prefix}…")
    } else {
        prefix
    }
}
