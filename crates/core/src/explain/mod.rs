//! `gatehouse explain`: why a token looks as it does, or why a request was
//! refused, in plain words with the fix (SPEC.md §4, the two seed threads).
//!
//! Pure, like the grant decision: the server finds the token's keys, the log
//! event of its issuance (by `jti`) or of a refusal (by log id) and the
//! tenant's APIs; this module turns them into an [`Explanation`]: the checks
//! a JWT must pass ([`token`]), the mistakes people make when pasting
//! ([`pasted`], [`Mistake`]), and one [`Line`] per fact of the decision
//! trace: user, client, audience, each scope, `permissions`, refresh and ID
//! tokens. The CLI prints the lines; the dashboard will render the same ones.

pub mod pasted;
pub mod token;

use crate::actions::{ActionNote, NoteKind};
use crate::grant::{AudienceRule, RefusalTrace, ScopeRule, Trace};
use crate::time::iso8601;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Everything `explain` says about one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explanation {
    /// What the input turned out to be.
    pub input: InputKind,
    /// One sentence: what this is.
    pub summary: String,
    /// For a JWT: each check against this tenant.
    pub checks: Vec<Check>,
    /// What was probably pasted by mistake, with the fix.
    pub mistakes: Vec<Mistake>,
    /// The decision, fact by fact.
    pub lines: Vec<Line>,
    /// The log event explained, if one was found.
    pub event: Option<EventRef>,
    /// The decision trace exactly as stored with the event (`--json`).
    pub trace: Option<Value>,
    /// The stored refusal, for refusals outside the grant decision.
    pub refusal: Option<Value>,
}

/// What the pasted input was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// A JWT access token for an API.
    AccessToken,
    /// A JWT whose `aud` is a client: an ID token.
    IdToken,
    /// A JWT this tenant cannot place.
    Jwt,
    /// An opaque access token (for `/userinfo`).
    OpaqueToken,
    /// The `jti` of an access token.
    Jti,
    /// The id of a log event.
    LogId,
}

/// One check of a JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Check {
    /// `signature`, `expiry`, `issuer` or `audience`.
    pub name: String,
    /// Whether it holds.
    pub holds: bool,
    /// Why, in words.
    pub detail: String,
}

/// A mistake recognised in what was pasted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mistake {
    /// Which mistake.
    pub kind: MistakeKind,
    /// What it is, in a sentence.
    pub message: String,
    /// What to do instead.
    pub fix: Option<String>,
}

/// The mistakes `explain` recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MistakeKind {
    /// An ID token where an access token belongs.
    IdToken,
    /// A token from another issuer.
    OtherIssuer,
    /// An expired token.
    Expired,
    /// Signed with a key this tenant never had.
    UnknownKey,
    /// Signed with a key this tenant revoked.
    RevokedKey,
    /// The signature does not verify.
    BadSignature,
    /// An opaque token past its expiry.
    OpaqueExpired,
}

/// One fact of the explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Line {
    /// What the line is about: `user`, `client`, `audience`, `scope openid`, …
    pub topic: String,
    /// How to show it.
    pub tone: Tone,
    /// The fact, in a sentence.
    pub text: String,
    /// What to change, when something was dropped or refused.
    pub fix: Option<String>,
}

impl Line {
    /// A line of plain information, with no fix.
    pub fn info(topic: &str, text: String) -> Self {
        Self {
            topic: topic.into(),
            tone: Tone::Info,
            text,
            fix: None,
        }
    }
}

/// How a line reads: fine, something dropped, a refusal, or plain information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// Granted, issued, holds.
    Ok,
    /// Dropped or missing: the likely answer to "why is X missing".
    Dropped,
    /// The request was refused.
    Refused,
    /// Plain information.
    Info,
}

/// The log event an explanation is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventRef {
    /// Its id.
    pub log_id: String,
    /// Auth0's event code.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Auth0's words for it.
    pub description: String,
    /// When, ISO 8601.
    pub date: String,
}

/// A log event as the explanation needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFacts {
    /// Its id.
    pub log_id: String,
    /// Auth0's event code.
    pub event_type: String,
    /// Auth0's words, or the error description of a failure.
    pub description: String,
    /// Epoch seconds.
    pub date: i64,
    /// The client.
    pub client_id: Option<String>,
    /// The client's name.
    pub client_name: Option<String>,
    /// The user.
    pub user_id: Option<String>,
    /// The user's email or username.
    pub user_name: Option<String>,
    /// The stored `details` (trace, refusal, Auth0's fields).
    pub details: Value,
}

/// The tenant's APIs, for fixes that name the identifier to use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantApis {
    /// Identifiers of the tenant's own APIs (the Management API excluded).
    pub identifiers: Vec<String>,
    /// The tenant's `default_audience`.
    pub default_audience: Option<String>,
}

/// Whether an Auth0 event code is a failure (`f…`, `limit_…`, `api_limit`).
pub fn is_failure(event_type: &str) -> bool {
    event_type.starts_with('f') || event_type.starts_with("limit_") || event_type == "api_limit"
}

/// The explanation of a log event: the event line, who, and the decision.
pub fn event_lines(event: &EventFacts, apis: &TenantApis) -> Vec<Line> {
    let mut lines = vec![Line::info(
        "event",
        format!(
            "{} {} at {} (log id {}).",
            event.event_type,
            quoted(&event.description),
            iso8601(event.date),
            event.log_id
        ),
    )];
    lines.push(Line::info("user", who(&event.user_name, &event.user_id)));
    lines.push(Line::info(
        "client",
        who(&event.client_name, &event.client_id),
    ));
    let trace: Option<Trace> = event
        .details
        .get("trace")
        .filter(|t| !t.is_null())
        .and_then(|t| serde_json::from_value(t.clone()).ok());
    let refusal: Option<RefusalTrace> = event
        .details
        .get("refusal")
        .and_then(|r| serde_json::from_value(r.clone()).ok());
    let refused = is_failure(&event.event_type).then_some(event.description.as_str());
    lines.extend(decision_lines(
        refused,
        refusal.as_ref(),
        trace.as_ref(),
        apis,
    ));
    lines
}

/// The lines of a decision, logged or simulated: the refusal first (its
/// error description, with the refusal's explanation and fix when one was
/// recorded), then the trace.
pub fn decision_lines(
    refused: Option<&str>,
    refusal: Option<&RefusalTrace>,
    trace: Option<&Trace>,
    apis: &TenantApis,
) -> Vec<Line> {
    let mut lines = Vec::new();
    if let Some(description) = refused {
        lines.push(refused_line(description, refusal));
    } else if let Some(note) = refusal {
        // Issued, with a note (offline_access dropped by the API's setting).
        lines.push(Line {
            topic: "note".into(),
            tone: Tone::Dropped,
            text: note.explanation.clone(),
            fix: note.fix.clone(),
        });
    }
    if let Some(trace) = trace {
        lines.extend(trace_lines(trace, apis, refused.is_some()));
    }
    lines
}

fn refused_line(description: &str, refusal: Option<&RefusalTrace>) -> Line {
    let text = match refusal {
        Some(r) => format!("{} {}", ensure_period(description), r.explanation),
        None => ensure_period(description),
    };
    Line {
        topic: "refused".into(),
        tone: Tone::Refused,
        text,
        fix: refusal.and_then(|r| r.fix.clone()),
    }
}

/// The lines of a decision trace, in the order a reader asks: the audience
/// and the token format, each scope, what the Actions did, then `permissions`,
/// refresh and ID tokens.
pub fn trace_lines(trace: &Trace, apis: &TenantApis, refused: bool) -> Vec<Line> {
    let mut lines = vec![audience_line(trace)];
    if !refused {
        lines.push(format_line(trace, apis));
    }
    for s in &trace.scopes {
        let verdict = if s.granted { "granted" } else { "dropped" };
        lines.push(Line {
            topic: format!("scope {}", s.scope),
            tone: if s.granted { Tone::Ok } else { Tone::Dropped },
            text: format!("{verdict} ({}): {}", rule_words(s.rule), s.explanation),
            fix: s.fix.clone(),
        });
    }
    lines.extend(trace.actions.iter().map(action_line));
    if refused {
        return lines;
    }
    if let Some(note) = &trace.permissions_note {
        lines.push(Line::info("permissions", note.clone()));
    }
    if let Some(note) = &trace.refresh_token {
        let offline_requested = trace.scope("offline_access").is_some();
        lines.push(Line {
            topic: "refresh token".into(),
            tone: Tone::Info,
            text: note.clone(),
            fix: (!offline_requested && trace.audience.rule != AudienceRule::UserinfoOnly).then(
                || {
                    "Add offline_access to the scope (auth0-spa-js: useRefreshTokens: true), \
                     with allow_offline_access on for the API and the refresh_token grant type \
                     on for the application."
                        .to_string()
                },
            ),
        });
    }
    if let Some(note) = &trace.id_token {
        lines.push(Line::info("ID token", note.clone()));
    }
    if let Some(note) = &trace.consent {
        lines.push(Line::info("consent", note.clone()));
    }
    lines
}

/// One thing an Action did or was refused: set and added read as
/// information, refused and removed as something dropped, a denial or a
/// failure as the refusal it caused.
pub fn action_line(note: &ActionNote) -> Line {
    let tone = match note.kind {
        NoteKind::ClaimSet | NoteKind::ScopeAdded | NoteKind::MetadataSet => Tone::Info,
        NoteKind::ClaimRefused | NoteKind::ScopeRemoved => Tone::Dropped,
        NoteKind::Denied | NoteKind::Failed => Tone::Refused,
    };
    Line {
        topic: "action".into(),
        tone,
        text: note.text.clone(),
        fix: None,
    }
}

fn audience_line(trace: &Trace) -> Line {
    let a = &trace.audience;
    let chosen = a.chosen.as_deref().unwrap_or("none (/userinfo only)");
    Line {
        topic: "audience".into(),
        tone: Tone::Info,
        text: format!(
            "{chosen}, chosen by {}: {}",
            audience_rule_words(a.rule),
            a.explanation
        ),
        fix: None,
    }
}

/// Seed 001's question, "why is my access token not a JWT?", answered with
/// every way to name an API.
fn format_line(trace: &Trace, apis: &TenantApis) -> Line {
    if let Some(aud) = &trace.audience.chosen {
        return Line::info(
            "token format",
            format!("a JWT for {aud}: APIs can verify it with the tenant's JWKS."),
        );
    }
    let example = apis
        .identifiers
        .first()
        .cloned()
        .unwrap_or_else(|| "https://your-api.example/".into());
    let known = if apis.identifiers.is_empty() {
        "This tenant has no API yet: create one first.".to_string()
    } else {
        format!("This tenant's APIs: {}.", apis.identifiers.join(", "))
    };
    Line {
        topic: "token format".into(),
        tone: Tone::Dropped,
        text: "opaque, because no audience was given: without an API to be for, the access \
               token is an opaque string for /userinfo only. jwt.io cannot decode it and APIs \
               cannot verify it."
            .into(),
        fix: Some(format!(
            "Name the API in one of four ways: the audience parameter (audience={example}; \
             auth0-spa-js and auth0-angular: authorizationParams.audience; angular-oauth2-oidc: \
             customQueryParams: {{ audience: '{example}' }}); the resource parameter \
             (resource={example}, RFC 8707); the tenant's default audience (default_audience); \
             or audience inference from scope (turn on infer_audience_from_scope and request a \
             scope only that API defines). {known}"
        )),
    }
}

fn rule_words(rule: ScopeRule) -> &'static str {
    match rule {
        ScopeRule::OidcScope => "OIDC scope",
        ScopeRule::NoAudience => "no API audience",
        ScopeRule::NotDefinedByApi => "not defined by the API",
        ScopeRule::RbacOff => "RBAC off",
        ScopeRule::RbacPermission => "RBAC: the user has the permission",
        ScopeRule::RbacMissingPermission => "RBAC: the user lacks the permission",
        ScopeRule::ClientGrant => "client grant",
        ScopeRule::NotInClientGrant => "not in the client grant",
        ScopeRule::AccessPolicy => "the API's access policy",
        ScopeRule::SystemApiEndUserScope => "Management API end-user scope",
        ScopeRule::SystemApiPermission => "Management API permission",
        ScopeRule::SystemApiMissingPermission => "Management API permission missing",
        ScopeRule::OfflineAccessAllowed => "offline access allowed",
        ScopeRule::OfflineAccessNotAllowed => "the API does not allow offline access",
        ScopeRule::OfflineAccessNotForFlow => "this flow issues no refresh tokens",
        ScopeRule::RefreshGrantNotEnabled => "refresh_token grant type not enabled",
        ScopeRule::AddedByAction => "added by an Action",
        ScopeRule::RemovedByAction => "removed by an Action",
    }
}

fn audience_rule_words(rule: AudienceRule) -> &'static str {
    match rule {
        AudienceRule::AudienceParam => "the audience parameter",
        AudienceRule::ResourceParam => "the resource parameter",
        AudienceRule::TenantDefault => "the tenant's default audience",
        AudienceRule::InferredFromScope => "inference from the requested scopes",
        AudienceRule::UserinfoOnly => "no rule (nothing named an API)",
    }
}

fn who(name: &Option<String>, id: &Option<String>) -> String {
    match (name, id) {
        (Some(name), Some(id)) if name != id => format!("{name} ({id})"),
        (_, Some(id)) => id.clone(),
        (Some(name), None) => name.clone(),
        (None, None) => "none".into(),
    }
}

fn quoted(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("\"{s}\"")
    }
}

fn ensure_period(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() || s.ends_with('.') {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

/// A duration in the largest whole unit, rounded to the nearest: `45
/// seconds`, `3 minutes`, `2 hours`, `9 days`. Rounding (not truncating)
/// keeps a token issued for a day at "24 hours" for its first half hour,
/// rather than "23 hours" one second after it was issued.
pub fn ago(seconds: i64) -> String {
    let s = seconds.max(0);
    let rounded = |unit: i64| s.saturating_add(unit / 2) / unit;
    let (n, unit) = match s {
        0..=119 => (s, "second"),
        120..=7_199 => (rounded(60), "minute"),
        7_200..=172_799 => (rounded(3_600), "hour"),
        _ => (rounded(86_400), "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests;
