//! The client credentials grant (auth0-compat.md §4 "Client credentials", §2 errors).
//!
//! An API audience is required (`audience`, `resource`, the tenant default, or an
//! inferred one). The API's `client.policy` `deny_all` refuses; otherwise a client
//! grant with `subject_type` client must apply to the client. No `scope` → every
//! scope of the grant (even ones the API does not define); a `scope` → each scope
//! must be in the grant, else 403 `Client has not been granted scopes: …`.
//! RBAC does not apply; no refresh token, no ID token, no consent.

use super::trace::{dialect_name, join_words, ScopeRule, ScopeTrace, Trace};
use super::user_flow::{dropped, granted};
use super::{
    client_label, token_format, Decision, DecisionInput, Flow, Refusal, NO_AUDIENCE_PROVIDED,
};
use crate::error::OAuthError;
use crate::model::{ClientAccessPolicy, ClientGrant, ResourceServer, SubjectType};
use crate::scope::ScopeSet;

/// Phase 2 for client credentials.
pub(super) fn decide(input: &DecisionInput) -> Result<Decision, Refusal> {
    let client = client_label(input.client);
    let Some(api) = input.audience.api.as_ref() else {
        return Err(refuse(
            input,
            OAuthError::access_denied(NO_AUDIENCE_PROVIDED),
            ScopeRule::NoAudience,
            |s| {
                (
                    format!(
                        "{s} was not granted: client credentials need an API audience, and the \
                         request named none (no audience or resource parameter, no tenant \
                         default_audience)."
                    ),
                    "Pass audience=<the API identifier> (or resource=…), or set the tenant \
                     default_audience."
                        .into(),
                )
            },
        ));
    };
    let id = &api.identifier;
    if api.subject_type_authorization.client.policy == ClientAccessPolicy::DenyAll {
        return Err(refuse(
            input,
            OAuthError::access_denied(format!(
                "Client access to \"{id}\" is denied by the API's access policy."
            )),
            ScopeRule::AccessPolicy,
            |s| {
                (
                    format!(
                        "API {id} denies all client credentials access (its client access policy \
                         is deny_all), so the request was refused and {s} was not granted."
                    ),
                    format!("Set the client access policy of API {id} to require_client_grant."),
                )
            },
        ));
    }
    let grants: Vec<&ClientGrant> = input
        .client_grants
        .iter()
        .filter(|g| g.applies_to(input.client, id, SubjectType::Client))
        .collect();
    if grants.is_empty() {
        let scopes: Vec<&str> = input.requested_scopes.iter().collect();
        let because = super::refusals::missing_client_grant(input.client, id, &scopes);
        return Err(refuse(
            input,
            OAuthError::client_not_authorized_for(id),
            ScopeRule::AccessPolicy,
            |s| {
                (
                    format!(
                        "Client {client} has no client grant with subject_type client on API \
                         {id}, so the request was refused and {s} was not granted."
                    ),
                    format!(
                        "Create a client grant for client {} on API {id} (subject_type client) \
                         that includes {s}.",
                        input.client.client_id
                    ),
                )
            },
        )
        .because(because));
    }
    let grant_ids: Vec<&str> = grants.iter().map(|g| g.id.as_str()).collect();
    let grant_names = join_words(&grant_ids, "and");

    let traces: Vec<ScopeTrace> = if input.requested_scopes.is_empty() {
        all_grant_scopes(&grants, api)
            .iter()
            .map(|s| {
                let mut t = granted(
                    s,
                    ScopeRule::ClientGrant,
                    format!(
                        "{s} is granted: the request named no scope, so client credentials get \
                         every scope of the client grant {grant_names} of client {client} on API \
                         {id}."
                    ),
                );
                t.implied = true;
                t
            })
            .collect()
    } else {
        input
            .requested_scopes
            .iter()
            .map(|s| match grants.iter().find(|g| g.covers(s, api)) {
                Some(g) => granted(
                    s,
                    ScopeRule::ClientGrant,
                    format!(
                        "{s} is granted: the client grant {} of client {client} on API {id} {}.",
                        g.id,
                        if g.scope.iter().any(|x| x == s) {
                            "includes it"
                        } else {
                            "allows every scope the API defines"
                        }
                    ),
                ),
                None => dropped(
                    s,
                    ScopeRule::NotInClientGrant,
                    format!(
                        "The client grant {grant_names} of client {client} on API {id} does not \
                         include {s}, so the request was refused."
                    ),
                    format!(
                        "Add {s} to the scope of client grant {}, or stop requesting it.",
                        join_words(&grant_ids, "or")
                    ),
                ),
            })
            .collect()
    };

    let missing: Vec<&str> = traces
        .iter()
        .filter(|t| !t.granted)
        .map(|t| t.scope.as_str())
        .collect();
    if !missing.is_empty() {
        let error = OAuthError::access_denied(format!(
            "Client has not been granted scopes: {}",
            missing.join(", ")
        ));
        let mut trace = Trace::audience_only(input.audience.step.clone());
        trace.scopes = traces;
        trace.refresh_token = Some(NO_REFRESH.into());
        return Err(Refusal::new(error, trace));
    }

    let scope: ScopeSet = traces.iter().map(|t| t.scope.as_str()).collect();
    let (permissions, permissions_note) = permissions(api, &scope);
    let (token_format, expires_in) = token_format(Flow::ClientCredentials, Some(api));
    Ok(Decision {
        audience: Some(id.clone()),
        api_scopes: scope.clone(),
        scope,
        permissions,
        token_format,
        expires_in,
        issue_refresh_token: false,
        issue_id_token: false,
        consent_required: false,
        trace: Trace {
            audience: input.audience.step.clone(),
            scopes: traces,
            refresh_token: Some(NO_REFRESH.into()),
            id_token: Some(NO_ID_TOKEN.into()),
            permissions_note,
            consent: None,
            actions: Vec::new(),
        },
    })
}

const NO_REFRESH: &str = "The client credentials grant never issues refresh tokens.";
const NO_ID_TOKEN: &str =
    "The client credentials grant never issues an ID token: no user logged in.";

/// Every scope of the applying grants, in grant order, plus every scope the API
/// defines when a grant has `allow_all_scopes`.
fn all_grant_scopes(grants: &[&ClientGrant], api: &ResourceServer) -> ScopeSet {
    let mut set = ScopeSet::new();
    for g in grants {
        for s in &g.scope {
            set.insert(s);
        }
    }
    if grants.iter().any(|g| g.allow_all_scopes) {
        for d in &api.scopes {
            set.insert(&d.value);
        }
    }
    set
}

/// Gatehouse's choice: with RBAC on and an `_authz` dialect, machine tokens carry
/// `permissions` = the granted scopes (Auth0 is believed to do the same; unconfirmed).
fn permissions(api: &ResourceServer, scope: &ScopeSet) -> (Option<Vec<String>>, Option<String>) {
    let id = &api.identifier;
    let dialect = dialect_name(api.token_dialect);
    if api.enforce_policies && api.token_dialect.includes_permissions() {
        let mut perms = scope.to_vec();
        perms.sort();
        (
            Some(perms),
            Some(format!(
                "API {id} enforces RBAC with the {dialect} dialect; a client credentials token has \
                 no user, so its permissions claim repeats the granted scopes (RBAC itself does \
                 not apply to client credentials)."
            )),
        )
    } else {
        (None, None)
    }
}

/// A refusal whose trace drops every requested scope for the same reason.
fn refuse(
    input: &DecisionInput,
    error: OAuthError,
    rule: ScopeRule,
    why: impl Fn(&str) -> (String, String),
) -> Refusal {
    let mut trace = Trace::audience_only(input.audience.step.clone());
    trace.scopes = input
        .requested_scopes
        .iter()
        .map(|s| {
            let (explanation, fix) = why(s);
            dropped(s, rule, explanation, fix)
        })
        .collect();
    trace.refresh_token = Some(NO_REFRESH.into());
    Refusal::new(error, trace)
}
