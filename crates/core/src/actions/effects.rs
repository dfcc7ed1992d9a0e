//! The effects of a trigger's Actions: their recorded `api` calls applied in
//! order under Auth0's rules, then applied to the grant decision and told in
//! its trace.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::claims::{
    is_auth0_namespace, is_oidc_standard_claim, is_restricted_claim, serialized_size, size_with,
    MAX_CUSTOM_CLAIMS_BYTES,
};
use super::{ApiCall, Trigger};
use crate::grant::{Decision, RefusalRule, RefusalTrace, ScopeRule, ScopeTrace};
use crate::scope::{is_oidc_scope, OFFLINE_ACCESS};

/// What a trigger's Actions changed, accumulated Action by Action.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Effects {
    /// Custom claims of the access token.
    pub access_token_claims: Map<String, Value>,
    /// Custom claims of the ID token.
    pub id_token_claims: Map<String, Value>,
    /// Scopes added, in order (a scope removed later is not here).
    pub scopes_added: Vec<ScopeChange>,
    /// Scopes removed, in order (a scope added later is not here).
    pub scopes_removed: Vec<ScopeChange>,
    /// Metadata updates to persist once the trigger ends; `null` removes the key (Auth0).
    pub app_metadata: Map<String, Value>,
    /// As `app_metadata`, for `user_metadata`.
    pub user_metadata: Map<String, Value>,
    /// The first denial, which ends the trigger.
    pub denied: Option<Denial>,
    /// Every effect and every refused call, in order: the trace's Action lines.
    pub notes: Vec<ActionNote>,
}

/// A scope an Action added or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeChange {
    /// The scope.
    pub scope: String,
    /// The Action's name.
    pub action: String,
}

/// An Action's denial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Denial {
    /// The Action's name.
    pub action: String,
    /// post-login: deny(reason); credentials-exchange: deny(code, reason); pre-user-registration: deny(reason, userMessage)
    pub reason: String,
    /// pre-user-registration's userMessage (shown to the user).
    pub user_message: Option<String>,
    /// credentials-exchange's OAuth error code (`invalid_scope`, `invalid_request`, `server_error`, …); None = access_denied.
    pub error_code: Option<String>,
}

/// One line of what the Actions did, for the decision trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionNote {
    /// The Action's name.
    pub action: String,
    /// What happened.
    pub kind: NoteKind,
    /// The sentence.
    pub text: String,
}

/// The kinds of [`ActionNote`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// A custom claim was set.
    ClaimSet,
    /// A call was ignored: a claim Auth0 does not let an Action set, or a bad argument.
    ClaimRefused,
    /// A scope was added.
    ScopeAdded,
    /// A scope was removed.
    ScopeRemoved,
    /// A metadata key was set or removed.
    MetadataSet,
    /// The Action denied the request.
    Denied,
    /// The Action failed (threw, timed out, ran out of memory).
    Failed,
}

/// A call Gatehouse does not support yet (api.redirect.*, api.multifactor.*, api.authentication.*, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unsupported {
    /// The Action's name.
    pub action: String,
    /// The method, as recorded: `redirect.sendUserTo`.
    pub method: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "The Action '{}' called api.{}, which Gatehouse does not support yet",
            self.action, self.method
        )
    }
}

impl std::error::Error for Unsupported {}

/// The `api` methods Gatehouse applies, per trigger (Auth0's API objects:
/// <https://auth0.com/docs/customize/actions/reference/post-login/post-login-api-object>,
/// <https://auth0.com/docs/customize/actions/reference/credentials-exchange/credentials-exchange-api-object>,
/// <https://auth0.com/docs/customize/actions/reference/pre-user-registration/pre-user-registration-api-object>).
fn supported_methods(trigger: Trigger) -> &'static [&'static str] {
    match trigger {
        Trigger::PostLogin => &[
            "accessToken.setCustomClaim",
            "accessToken.addScope",
            "accessToken.removeScope",
            "idToken.setCustomClaim",
            "access.deny",
            "user.setAppMetadata",
            "user.setUserMetadata",
        ],
        Trigger::CredentialsExchange => &["accessToken.setCustomClaim", "access.deny"],
        Trigger::PreUserRegistration => &[
            "access.deny",
            "user.setAppMetadata",
            "user.setUserMetadata",
            "validation.error",
        ],
    }
}

/// The OAuth error codes credentials-exchange's `api.access.deny(code, reason)`
/// accepts; any other code denies with `access_denied`.
///
/// Source: <https://auth0.com/docs/customize/actions/reference/credentials-exchange/credentials-exchange-api-object>.
const DENY_CODES: &[&str] = &["invalid_scope", "invalid_request", "server_error"];

/// The longest scope an Action may add or remove: Auth0's limit on a
/// permission's `value` in the Management API (resource server scopes).
pub const MAX_SCOPE_CHARS: usize = 280;

/// How much of a refused claim's name a trace note quotes: the name is the
/// Action's to choose and the note lands in the log event and the code record.
const MAX_NAME_IN_NOTE_CHARS: usize = 200;

/// The longest denial reason kept, in characters: it becomes an
/// `error_description` in a redirect's URL, a log event and a trace line.
pub const MAX_REASON_CHARS: usize = 1000;

/// The serialized size of each token's custom claims, while calls are applied.
struct ClaimSizes {
    access: usize,
    id: usize,
}

#[derive(Clone, Copy)]
enum Token {
    Access,
    Id,
}

impl Token {
    fn label(self) -> &'static str {
        match self {
            Token::Access => "access token",
            Token::Id => "ID token",
        }
    }
}

#[derive(Clone, Copy)]
enum Metadata {
    App,
    User,
}

impl Metadata {
    fn key(self) -> &'static str {
        match self {
            Metadata::App => "app_metadata",
            Metadata::User => "user_metadata",
        }
    }
}

impl Effects {
    /// Applies one Action's recorded calls in order under Auth0's rules; after a
    /// denial nothing more applies. An unsupported call fails (the caller fails the login).
    pub fn apply(
        &mut self,
        action: &str,
        trigger: Trigger,
        calls: &[ApiCall],
    ) -> Result<(), Unsupported> {
        // Measured once here, then kept up to date claim by claim.
        let mut sizes = ClaimSizes {
            access: serialized_size(&self.access_token_claims),
            id: serialized_size(&self.id_token_claims),
        };
        for call in calls {
            if self.denied.is_some() {
                return Ok(());
            }
            if !supported_methods(trigger).contains(&call.method.as_str()) {
                return Err(Unsupported {
                    action: action.to_string(),
                    method: call.method.clone(),
                });
            }
            let args = call.args.as_slice();
            match call.method.as_str() {
                "accessToken.setCustomClaim" => {
                    self.set_claim(action, Token::Access, args, &mut sizes.access)
                }
                "idToken.setCustomClaim" => self.set_claim(action, Token::Id, args, &mut sizes.id),
                "accessToken.addScope" => self.change_scope(action, true, args),
                "accessToken.removeScope" => self.change_scope(action, false, args),
                "access.deny" => self.deny(action, trigger, args),
                "validation.error" => self.validation_error(action, args),
                "user.setAppMetadata" => self.set_metadata(action, Metadata::App, args),
                "user.setUserMetadata" => self.set_metadata(action, Metadata::User, args),
                _ => {
                    return Err(Unsupported {
                        action: action.to_string(),
                        method: call.method.clone(),
                    })
                }
            }
        }
        Ok(())
    }

    /// Records that `action` failed with `message` (thrown, timed out, out of memory): a Failed note.
    pub fn record_failure(&mut self, action: &str, message: &str) {
        self.note(action, NoteKind::Failed, failed_sentence(action, message));
    }

    /// Adds and removes the scopes on a made decision (the response `scope` and the token's
    /// `scope` claim follow `decision.scope`; `api_scopes` too), and writes the notes into
    /// `decision.trace.actions`; a removed scope's ScopeTrace becomes not granted with rule
    /// RemovedByAction and the sentence; an added scope gets a new ScopeTrace with AddedByAction.
    pub fn apply_to_decision(&self, decision: &mut Decision) {
        for change in &self.scopes_removed {
            let scope = change.scope.as_str();
            if !decision.scope.remove(scope) {
                continue;
            }
            decision.api_scopes.remove(scope);
            let explanation = scope_sentence(scope, false, &change.action);
            let fix = Some(format!(
                "The Action '{}' removes {scope} with api.accessToken.removeScope: change that \
                 Action, or remove it from the post-login flow, if the token should keep the scope.",
                change.action
            ));
            let traces = &mut decision.trace.scopes;
            match traces.iter_mut().find(|t| t.scope == scope) {
                Some(t) => {
                    t.granted = false;
                    t.rule = ScopeRule::RemovedByAction;
                    t.explanation = explanation;
                    t.fix = fix;
                }
                None => traces.push(ScopeTrace {
                    scope: scope.to_string(),
                    granted: false,
                    rule: ScopeRule::RemovedByAction,
                    explanation,
                    fix,
                    implied: true,
                }),
            }
        }
        for change in &self.scopes_added {
            let scope = change.scope.as_str();
            if !decision.scope.insert(scope) {
                continue;
            }
            if !is_oidc_scope(scope) && scope != OFFLINE_ACCESS {
                decision.api_scopes.insert(scope);
            }
            let explanation = scope_sentence(scope, true, &change.action);
            let traces = &mut decision.trace.scopes;
            match traces.iter_mut().find(|t| t.scope == scope) {
                Some(t) => {
                    t.granted = true;
                    t.rule = ScopeRule::AddedByAction;
                    t.explanation = explanation;
                    t.fix = None;
                }
                None => traces.push(ScopeTrace {
                    scope: scope.to_string(),
                    granted: true,
                    rule: ScopeRule::AddedByAction,
                    explanation,
                    fix: None,
                    implied: true,
                }),
            }
        }
        decision.trace.actions.extend(self.notes.iter().cloned());
    }

    /// The RefusalTrace of a denial: rule DeniedByAction, explanation
    /// "denied by the Action 'Require verified email': Please verify your email first.", fix naming the Action.
    pub fn denial_refusal(&self) -> Option<RefusalTrace> {
        let denial = self.denied.as_ref()?;
        Some(RefusalTrace {
            rule: RefusalRule::DeniedByAction,
            explanation: denial_sentence(denial),
            fix: Some(format!(
                "The Action '{}' denies this request with api.access.deny: meet its condition, \
                 or change that Action or remove it from its trigger's flow \
                 (PATCH /api/v2/actions/triggers/{{triggerId}}/bindings).",
                denial.action
            )),
        })
    }

    /// Whether the Actions changed and noted nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn note(&mut self, action: &str, kind: NoteKind, text: String) {
        self.notes.push(ActionNote {
            action: action.to_string(),
            kind,
            text,
        });
    }

    fn ignored(&mut self, action: &str, method: &str, why: &str) {
        self.note(
            action,
            NoteKind::ClaimRefused,
            format!("api.{method} ignored: {why} (Action '{action}')"),
        );
    }

    /// `size`: the token's custom claims' serialized size, kept up to date.
    fn set_claim(&mut self, action: &str, token: Token, args: &[Value], size: &mut usize) {
        let method = match token {
            Token::Access => "accessToken.setCustomClaim",
            Token::Id => "idToken.setCustomClaim",
        };
        let name = match args.first() {
            Some(Value::String(name)) if !name.is_empty() => name.as_str(),
            Some(Value::String(_)) => {
                return self.ignored(action, method, "the claim name must not be empty")
            }
            _ => return self.ignored(action, method, "the claim name must be a string"),
        };
        let label = token.label();
        let refused = |why: &str| {
            let name = cut(name, MAX_NAME_IN_NOTE_CHARS);
            format!("{label} claim {name} refused: {why} (Action '{action}')")
        };
        if is_restricted_claim(name) {
            let text = refused("it is a restricted claim Auth0 does not let an Action set");
            return self.note(action, NoteKind::ClaimRefused, text);
        }
        if is_auth0_namespace(name) {
            let text = refused("the auth0.com namespace is reserved for Auth0");
            return self.note(action, NoteKind::ClaimRefused, text);
        }
        if matches!(token, Token::Id) && is_oidc_standard_claim(name) {
            let text = refused(
                "it is a standard OpenID Connect claim, which the ID token takes from the \
                 user's profile",
            );
            return self.note(action, NoteKind::ClaimRefused, text);
        }
        let value = args.get(1).cloned().unwrap_or(Value::Null);
        let claims = match token {
            Token::Access => &mut self.access_token_claims,
            Token::Id => &mut self.id_token_claims,
        };
        let new_size = size_with(*size, claims, name, &value);
        if new_size > MAX_CUSTOM_CLAIMS_BYTES {
            let text = refused(&format!(
                "the {label}'s custom claims would take {new_size} bytes, over Auth0's limit of \
                 {MAX_CUSTOM_CLAIMS_BYTES} bytes (100 KB)"
            ));
            return self.note(action, NoteKind::ClaimRefused, text);
        }
        let replaced = claims.insert(name.to_string(), value).is_some();
        *size = new_size;
        let again = if replaced {
            ", replacing the value set before"
        } else {
            ""
        };
        let text = format!("{label} claim {name} set by the Action '{action}'{again}");
        self.note(action, NoteKind::ClaimSet, text);
    }

    fn change_scope(&mut self, action: &str, add: bool, args: &[Value]) {
        let method = if add {
            "accessToken.addScope"
        } else {
            "accessToken.removeScope"
        };
        let scope = match args.first() {
            Some(Value::String(s)) if s.is_empty() => {
                return self.ignored(action, method, "the scope must not be empty")
            }
            Some(Value::String(s)) if s.chars().any(char::is_whitespace) => {
                return self.ignored(
                    action,
                    method,
                    "the scope must be one scope, without spaces",
                )
            }
            Some(Value::String(s)) if s.chars().count() > MAX_SCOPE_CHARS => {
                return self.ignored(
                    action,
                    method,
                    &format!("the scope is longer than {MAX_SCOPE_CHARS} characters"),
                )
            }
            Some(Value::String(s)) => s.as_str(),
            _ => return self.ignored(action, method, "the scope must be a string"),
        };
        let change = ScopeChange {
            scope: scope.to_string(),
            action: action.to_string(),
        };
        let (to, from) = if add {
            (&mut self.scopes_added, &mut self.scopes_removed)
        } else {
            (&mut self.scopes_removed, &mut self.scopes_added)
        };
        from.retain(|c| c.scope != scope);
        match to.iter_mut().find(|c| c.scope == scope) {
            Some(existing) => existing.action = change.action,
            None => to.push(change),
        }
        let kind = if add {
            NoteKind::ScopeAdded
        } else {
            NoteKind::ScopeRemoved
        };
        self.note(action, kind, scope_sentence(scope, add, action));
    }

    fn deny(&mut self, action: &str, trigger: Trigger, args: &[Value]) {
        let text = |i: usize| args.get(i).map(text_of).filter(|s| !s.is_empty());
        let is_code = |s: &String| DENY_CODES.contains(&s.as_str());
        let denial = match trigger {
            Trigger::CredentialsExchange
                if args.len() >= 2 || text(0).as_ref().is_some_and(is_code) =>
            {
                let code = text(0).filter(is_code);
                Denial {
                    action: action.to_string(),
                    reason: text(1).unwrap_or_default(),
                    user_message: None,
                    error_code: code,
                }
            }
            Trigger::PreUserRegistration => Denial {
                action: action.to_string(),
                reason: text(0).unwrap_or_default(),
                user_message: text(1),
                error_code: None,
            },
            // post-login's deny(reason), and credentials-exchange's called with a reason
            // alone (a common slip): the reason is not lost as an unknown code.
            _ => Denial {
                action: action.to_string(),
                reason: text(0).unwrap_or_default(),
                user_message: None,
                error_code: None,
            },
        };
        self.set_denial(denial);
    }

    fn validation_error(&mut self, action: &str, args: &[Value]) {
        let message = args.get(1).map(text_of).unwrap_or_default();
        self.set_denial(Denial {
            action: action.to_string(),
            reason: message.clone(),
            user_message: (!message.is_empty()).then_some(message),
            error_code: None,
        });
    }

    fn set_denial(&mut self, mut denial: Denial) {
        denial.reason = cut(&denial.reason, MAX_REASON_CHARS);
        denial.user_message = denial.user_message.map(|m| cut(&m, MAX_REASON_CHARS));
        self.note(&denial.action, NoteKind::Denied, denial_sentence(&denial));
        self.denied = Some(denial);
    }

    fn set_metadata(&mut self, action: &str, which: Metadata, args: &[Value]) {
        let method = match which {
            Metadata::App => "user.setAppMetadata",
            Metadata::User => "user.setUserMetadata",
        };
        let key = match args.first() {
            Some(Value::String(k)) if !k.is_empty() => k.as_str(),
            Some(Value::String(_)) => {
                return self.ignored(action, method, "the metadata key must not be empty")
            }
            _ => return self.ignored(action, method, "the metadata key must be a string"),
        };
        let value = args.get(1).cloned().unwrap_or(Value::Null);
        let field = which.key();
        let shown_key = cut(key, MAX_NAME_IN_NOTE_CHARS);
        let text = if value.is_null() {
            format!("{field}.{shown_key} removed by the Action '{action}'")
        } else {
            format!(
                "{field}.{shown_key} set to {} by the Action '{action}'",
                shown(&value)
            )
        };
        let map = match which {
            Metadata::App => &mut self.app_metadata,
            Metadata::User => &mut self.user_metadata,
        };
        map.insert(key.to_string(), value);
        self.note(action, NoteKind::MetadataSet, text);
    }
}

/// The refusal of a request whose Action failed (threw, ran out of time or
/// memory, called what Gatehouse does not support).
pub fn action_failed_refusal(action: &str, message: &str) -> RefusalTrace {
    RefusalTrace {
        rule: RefusalRule::ActionFailed,
        explanation: failed_sentence(action, message),
        fix: Some(format!(
            "Fix the Action '{action}' or remove it from the flow of its trigger \
             (PATCH /api/v2/actions/triggers/{{triggerId}}/bindings); try it first with \
             POST /api/v2/actions/actions/{{id}}/test."
        )),
    }
}

/// As [`action_failed_refusal`], naming the trigger's flow.
pub fn action_failed_refusal_in(trigger: Trigger, action: &str, message: &str) -> RefusalTrace {
    RefusalTrace {
        rule: RefusalRule::ActionFailed,
        explanation: failed_sentence(action, message),
        fix: Some(format!(
            "Fix the Action '{action}' or remove it from the {} flow \
             (PATCH /api/v2/actions/triggers/{}/bindings); try it first with \
             POST /api/v2/actions/actions/{{id}}/test.",
            trigger.id(),
            trigger.id()
        )),
    }
}

fn failed_sentence(action: &str, message: &str) -> String {
    format!("the Action '{action}' failed: {}", message.trim())
}

fn scope_sentence(scope: &str, added: bool, action: &str) -> String {
    let verb = if added { "added" } else { "removed" };
    format!("scope {scope} {verb} by the Action '{action}'")
}

fn denial_sentence(denial: &Denial) -> String {
    let mut text = format!("denied by the Action '{}'", denial.action);
    if let Some(code) = &denial.error_code {
        text.push_str(&format!(" with {code}"));
    }
    if denial.reason.is_empty() {
        text.push('.');
    } else {
        text.push_str(": ");
        text.push_str(&denial.reason);
    }
    text
}

/// A string argument as it is; anything else as JSON (`null` as nothing).
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `text` cut to `max` characters, marked with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// A value for a sentence: JSON, cut short when long.
fn shown(value: &Value) -> String {
    const MAX: usize = 80;
    let json = value.to_string();
    if json.chars().count() <= MAX {
        return json;
    }
    let cut: String = json.chars().take(MAX).collect();
    format!("{cut}…")
}
