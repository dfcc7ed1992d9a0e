//! The decision trace: which rule decided the audience and each scope, in words.
//!
//! SPEC.md §4: every issuance (and every refusal) records a [`Trace`]; it is stored
//! as JSON with the log event, shown by the dashboard ("Why this token?") and by
//! `gatehouse explain`. So it is plain data (serde both ways), every explanation is
//! a full English sentence naming the user, the API, the scope and the source, and
//! every dropped scope carries the fix.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::actions::ActionNote;
use crate::model::TokenDialect;

/// Why a token looks the way it does (SPEC.md §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// How the audience was chosen (auth0-compat.md §3).
    pub audience: AudienceTrace,
    /// One entry per requested scope, in request order, then any scope requested
    /// implicitly (password grant, client credentials without `scope`), marked `implied`.
    pub scopes: Vec<ScopeTrace>,
    /// Why a refresh token is or is not issued.
    pub refresh_token: Option<String>,
    /// Why an ID token is or is not issued (absent in traces stored before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// What the `permissions` claim holds and why, or why there is none.
    pub permissions_note: Option<String>,
    /// Whether the consent screen is needed and why (only when consent was evaluated).
    pub consent: Option<String>,
    /// What the Actions changed or were refused, in order (absent in traces
    /// stored before Actions, and when no Action ran or none had an effect).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionNote>,
}

/// How the audience was chosen (auth0-compat.md §3 plus Gatehouse's extensions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceTrace {
    /// The API identifier chosen; `None` means the token is for `/userinfo` only.
    pub chosen: Option<String>,
    /// The rule that chose it.
    pub rule: AudienceRule,
    /// Why, in a sentence.
    pub explanation: String,
}

/// The rule that chose the audience, in the order the rules are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudienceRule {
    /// The `audience` parameter.
    AudienceParam,
    /// The RFC 8707 `resource` parameter (same meaning as `audience`).
    ResourceParam,
    /// The tenant's `default_audience`.
    TenantDefault,
    /// `infer_audience_from_scope`: the one API defining all requested custom scopes.
    InferredFromScope,
    /// No API: an opaque token for `/userinfo` only.
    UserinfoOnly,
}

/// The decision on one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeTrace {
    /// The requested scope.
    pub scope: String,
    /// Whether it is in the token.
    pub granted: bool,
    /// The rule that granted or dropped it.
    pub rule: ScopeRule,
    /// A full sentence: what happened and because of whom (user, API, role, grant).
    pub explanation: String,
    /// What to change to get the scope; set for every dropped scope.
    pub fix: Option<String>,
    /// True when the scope was not named in the request but added by a rule
    /// (password grant with no API scope; client credentials with no `scope`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub implied: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The rule that decided one scope (auth0-compat.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeRule {
    /// `openid profile email address phone`: granted in every user flow.
    OidcScope,
    /// A custom scope with no API audience: dropped (§4 rule 1, thread 2).
    NoAudience,
    /// The chosen API does not define the scope: dropped.
    NotDefinedByApi,
    /// RBAC off: every scope the API defines is granted (§4 rule 2).
    RbacOff,
    /// RBAC on and the user has the permission (§4 rule 3).
    RbacPermission,
    /// RBAC on and the user lacks the permission: dropped (§4 rule 3, thread 1).
    RbacMissingPermission,
    /// Covered by a client grant (client credentials).
    ClientGrant,
    /// Not in the client grant: dropped (user flows) or refused (client credentials).
    NotInClientGrant,
    /// The API's access policy (or third-party status) needs a client grant there is none of.
    AccessPolicy,
    /// An end-user scope of the system API (`read:current_user`, …): granted in
    /// user flows, acting only on the user's own record (auth0-compat.md §9).
    SystemApiEndUserScope,
    /// Another system API scope held by the user through RBAC.
    SystemApiPermission,
    /// Another system API scope the user holds no permission for: dropped,
    /// whatever the system API's settings.
    SystemApiMissingPermission,
    /// `offline_access` granted: a refresh token is issued.
    OfflineAccessAllowed,
    /// `offline_access` dropped: the API has `allow_offline_access` off.
    OfflineAccessNotAllowed,
    /// `offline_access` dropped: this flow never issues refresh tokens.
    OfflineAccessNotForFlow,
    /// `offline_access` dropped: the client does not have the `refresh_token` grant type.
    RefreshGrantNotEnabled,
    /// Added by an Action's `api.accessToken.addScope`.
    AddedByAction,
    /// Removed by an Action's `api.accessToken.removeScope`.
    RemovedByAction,
}

/// Why a request was refused outside the grant decision (the client may not
/// use the grant type, the origin or logout URL is not allowed, a refresh
/// token was reused, …), stored as `details.refusal` of the failure's log
/// event so `gatehouse explain <log_id>` can say it with the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalTrace {
    /// The rule that refused.
    pub rule: RefusalRule,
    /// A full sentence naming the client, the value sent and what was allowed.
    pub explanation: String,
    /// What to change so the request succeeds.
    pub fix: Option<String>,
}

/// The rules that refuse a request outside the grant decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalRule {
    /// The client does not have the grant type enabled (`unauthorized_client`).
    GrantTypeNotEnabled,
    /// Client credentials for an API the client has no client grant on.
    MissingClientGrant,
    /// The audience names no API (`Service not found`).
    UnknownAudience,
    /// `offline_access` asked of an API with `allow_offline_access` off.
    OfflineAccessNotAllowed,
    /// The request's origin is not in the client's allowed web origins.
    OriginNotAllowed,
    /// A rotated refresh token was presented again: the family is revoked.
    RefreshTokenReused,
    /// A refresh token that is unknown, expired or revoked.
    RefreshTokenInvalid,
    /// The logout `returnTo` is not in the allowed logout URLs.
    ReturnToNotAllowed,
    /// The `redirect_uri` is not in the client's allowed callback URLs.
    RedirectUriNotAllowed,
    /// An Action called `api.access.deny` (or `api.validation.error`).
    DeniedByAction,
    /// An Action threw, ran out of time or memory, or called what Gatehouse does not support.
    ActionFailed,
}

impl Trace {
    /// A trace that stops at the audience (an unknown audience, say).
    pub fn audience_only(audience: AudienceTrace) -> Self {
        Self {
            audience,
            scopes: Vec::new(),
            refresh_token: None,
            id_token: None,
            permissions_note: None,
            consent: None,
            actions: Vec::new(),
        }
    }

    /// The scopes that were dropped, with their reasons and fixes.
    pub fn dropped(&self) -> impl Iterator<Item = &ScopeTrace> {
        self.scopes.iter().filter(|s| !s.granted)
    }

    /// The decision on `scope`, if it was requested.
    pub fn scope(&self, scope: &str) -> Option<&ScopeTrace> {
        self.scopes.iter().find(|s| s.scope == scope)
    }
}

/// Plain-text rendering, as `gatehouse explain` prints it.
impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "audience: {} ({})",
            self.audience.chosen.as_deref().unwrap_or("/userinfo only"),
            rule_name(&self.audience.rule)
        )?;
        writeln!(f, "  {}", self.audience.explanation)?;
        for s in &self.scopes {
            let verdict = if s.granted { "granted" } else { "dropped" };
            writeln!(f, "scope {}: {verdict} ({})", s.scope, rule_name(&s.rule))?;
            writeln!(f, "  {}", s.explanation)?;
            if let Some(fix) = &s.fix {
                writeln!(f, "  fix: {fix}")?;
            }
        }
        for (label, note) in [
            ("refresh token", &self.refresh_token),
            ("ID token", &self.id_token),
            ("permissions", &self.permissions_note),
            ("consent", &self.consent),
        ] {
            if let Some(note) = note {
                writeln!(f, "{label}: {note}")?;
            }
        }
        for note in &self.actions {
            writeln!(f, "action: {}", note.text)?;
        }
        Ok(())
    }
}

/// The serde name of a rule enum value (`rbac_missing_permission`).
fn rule_name<T: Serialize>(rule: &T) -> String {
    match serde_json::to_value(rule) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::from("?"),
    }
}

/// The wire name of a token dialect (`access_token_authz`).
pub(crate) fn dialect_name(d: TokenDialect) -> &'static str {
    match d {
        TokenDialect::AccessToken => "access_token",
        TokenDialect::AccessTokenAuthz => "access_token_authz",
        TokenDialect::Rfc9068Profile => "rfc9068_profile",
        TokenDialect::Rfc9068ProfileAuthz => "rfc9068_profile_authz",
    }
}

/// Joins words for a sentence: `a`, `a or b`, `a, b or c` (with `conj` = "or").
pub(crate) fn join_words<S: AsRef<str>>(items: &[S], conj: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => {
            let head: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} {conj} {}", head.join(", "), last.as_ref())
        }
    }
}
