//! Phase 1: which API (if any) the token is for (auth0-compat.md §3, SPEC.md §1 story 2).
//!
//! The rules, in order: the `audience` parameter; else the RFC 8707 `resource`
//! parameter (same meaning); else the tenant `default_audience`; else, only when the
//! tenant turned on `infer_audience_from_scope`, the single API that defines every
//! requested custom scope; else no API, and the access token is an opaque token
//! for `/userinfo` only (Auth0's default).

use serde::{Deserialize, Serialize};

use super::trace::{join_words, AudienceRule, AudienceTrace, Trace};
use super::Refusal;
use crate::error::OAuthError;
use crate::model::{ResourceServer, TenantSettings};
use crate::scope::{is_oidc_scope, ScopeSet, OFFLINE_ACCESS};

/// How the request named its API: Auth0's `audience` or RFC 8707's `resource`.
///
/// Both mean the same (auth0-compat.md §1 `audience`); the trace says which was used.
/// An empty value counts as not given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceParam {
    /// The `audience` parameter (Auth0's).
    Audience(String),
    /// The `resource` parameter (RFC 8707).
    Resource(String),
}

impl AudienceParam {
    /// The API identifier the parameter names.
    pub fn value(&self) -> &str {
        match self {
            Self::Audience(v) | Self::Resource(v) => v,
        }
    }

    fn rule(&self) -> AudienceRule {
        match self {
            Self::Audience(_) => AudienceRule::AudienceParam,
            Self::Resource(_) => AudienceRule::ResourceParam,
        }
    }
}

/// Everything phase 1 needs.
#[derive(Debug, Clone)]
pub struct AudienceInput<'a> {
    /// The `audience` or `resource` parameter, if the request sent one.
    pub requested: Option<AudienceParam>,
    /// The requested scopes, for inferring the API from them.
    pub requested_scopes: &'a ScopeSet,
    /// The tenant's `default_audience` and inference setting.
    pub tenant: &'a TenantSettings,
    /// Every API the caller knows of that could match: at least the API whose
    /// identifier equals the requested or default audience, and all APIs when
    /// `tenant.infer_audience_from_scope` is on and no audience was given.
    /// Passing all APIs always gives better traces: the fix for a dropped scope
    /// then names the API that defines it, and a misspelt audience gets a hint.
    pub apis: &'a [ResourceServer],
}

/// The APIs (identifiers) that define one requested custom scope, for fix texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeOwners {
    /// A requested scope.
    pub scope: String,
    /// The identifiers of the APIs that define it.
    pub apis: Vec<String>,
}

/// The outcome of phase 1.
#[derive(Debug, Clone, PartialEq)]
pub struct AudienceChoice {
    /// The chosen API; `None` = `/userinfo` only (opaque token).
    pub api: Option<ResourceServer>,
    /// The rule that decided, in words.
    pub step: AudienceTrace,
    /// For each requested custom scope, the known APIs that define it.
    pub scope_owners: Vec<ScopeOwners>,
    /// The tenant's `infer_audience_from_scope`, so fixes don't suggest turning it on twice.
    pub infer_audience_from_scope: bool,
}

impl AudienceChoice {
    /// The chosen API identifier (the `aud` of the access token).
    pub fn audience(&self) -> Option<&str> {
        self.api.as_ref().map(|a| a.identifier.as_str())
    }

    /// The known APIs defining `scope`.
    pub fn owners_of(&self, scope: &str) -> &[String] {
        self.scope_owners
            .iter()
            .find(|o| o.scope == scope)
            .map(|o| o.apis.as_slice())
            .unwrap_or(&[])
    }
}

/// Chooses the audience (auth0-compat.md §3, "How the audience is chosen").
///
/// A named audience (parameter, `resource` or tenant default) that no API has is
/// `access_denied` `Service not found: <aud>` (§1 `audience`); identifiers match
/// exactly, so a trailing slash matters.
pub fn choose_audience(input: &AudienceInput) -> Result<AudienceChoice, OAuthError> {
    choose_audience_traced(input).map_err(|r| r.error)
}

/// [`choose_audience`], keeping the trace of a refusal for the log event.
pub fn choose_audience_traced(input: &AudienceInput) -> Result<AudienceChoice, Refusal> {
    let custom = custom_scopes(input.requested_scopes);
    let scope_owners = custom
        .iter()
        .map(|s| ScopeOwners {
            scope: s.to_string(),
            apis: input
                .apis
                .iter()
                .filter(|api| api.defines_scope(s))
                .map(|api| api.identifier.clone())
                .collect(),
        })
        .collect();
    let infer = input.tenant.infer_audience_from_scope;
    let (api, step) = match named_audience(input) {
        Some((value, rule)) => match input.apis.iter().find(|a| a.identifier == value) {
            Some(api) => (Some(api.clone()), named_step(api, rule)),
            None => {
                let step = AudienceTrace {
                    chosen: None,
                    rule,
                    explanation: not_found_explanation(value, rule, input.apis),
                };
                return Err(Refusal::new(
                    OAuthError::service_not_found(value),
                    Trace::audience_only(step),
                ));
            }
        },
        None if infer => infer_from_scope(&custom, input.apis),
        None => (
            None,
            AudienceTrace {
                chosen: None,
                rule: AudienceRule::UserinfoOnly,
                explanation: "The request sent no audience or resource parameter and the tenant \
                              has no default_audience, so the access token is an opaque token \
                              for /userinfo only (Auth0's default)."
                    .into(),
            },
        ),
    };
    Ok(AudienceChoice {
        api,
        step,
        scope_owners,
        infer_audience_from_scope: infer,
    })
}

/// The requested scopes that must come from an API: not OIDC, not `offline_access`.
pub(crate) fn custom_scopes(scopes: &ScopeSet) -> Vec<&str> {
    scopes
        .iter()
        .filter(|s| !is_oidc_scope(s) && *s != OFFLINE_ACCESS)
        .collect()
}

/// The audience named by the request or the tenant, with the rule that named it.
fn named_audience<'b>(input: &'b AudienceInput) -> Option<(&'b str, AudienceRule)> {
    if let Some(param) = input
        .requested
        .as_ref()
        .filter(|p| !p.value().trim().is_empty())
    {
        return Some((param.value(), param.rule()));
    }
    input
        .tenant
        .default_audience
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(|d| (d, AudienceRule::TenantDefault))
}

fn named_step(api: &ResourceServer, rule: AudienceRule) -> AudienceTrace {
    let id = &api.identifier;
    let name = &api.name;
    let explanation = match rule {
        AudienceRule::AudienceParam => {
            format!("The request's audience parameter names API {id} ({name}).")
        }
        AudienceRule::ResourceParam => format!(
            "The request's resource parameter (RFC 8707, same meaning as audience) names API {id} ({name})."
        ),
        _ => format!(
            "The request named no audience, so the tenant default_audience applies: API {id} ({name})."
        ),
    };
    AudienceTrace {
        chosen: Some(id.clone()),
        rule,
        explanation,
    }
}

fn not_found_explanation(value: &str, rule: AudienceRule, apis: &[ResourceServer]) -> String {
    let source = match rule {
        AudienceRule::AudienceParam => "the audience parameter",
        AudienceRule::ResourceParam => "the resource parameter",
        _ => "the tenant default_audience",
    };
    let mut text = format!(
        "No API has the identifier \"{value}\" named by {source}; identifiers are compared exactly."
    );
    let near = |a: &&ResourceServer| {
        a.identifier.trim_end_matches('/') == value.trim_end_matches('/')
            || a.identifier.eq_ignore_ascii_case(value)
    };
    if let Some(api) = apis.iter().find(near) {
        text.push_str(&format!(
            " Did you mean API {} ({})? A trailing slash or a change of case makes a different identifier.",
            api.identifier, api.name
        ));
    }
    text
}

/// `infer_audience_from_scope` (SPEC.md §1 story 2): the one non-system API that
/// defines every requested custom scope. The Management API is never inferred.
fn infer_from_scope(
    custom: &[&str],
    apis: &[ResourceServer],
) -> (Option<ResourceServer>, AudienceTrace) {
    let lead = "The request named no audience and the tenant has no default_audience; \
                infer_audience_from_scope is on";
    let userinfo = |explanation: String| {
        (
            None,
            AudienceTrace {
                chosen: None,
                rule: AudienceRule::UserinfoOnly,
                explanation,
            },
        )
    };
    if custom.is_empty() {
        return userinfo(format!(
            "{lead}, but the request names no custom scope to infer an API from, so the access \
             token is an opaque token for /userinfo only."
        ));
    }
    let wanted = join_words(custom, "and");
    let matches: Vec<&ResourceServer> = apis
        .iter()
        .filter(|api| !api.is_system && custom.iter().all(|s| api.defines_scope(s)))
        .collect();
    match matches.as_slice() {
        [api] => (
            Some((*api).clone()),
            AudienceTrace {
                chosen: Some(api.identifier.clone()),
                rule: AudienceRule::InferredFromScope,
                explanation: format!(
                    "{lead}, and API {} ({}) is the only API that defines all the requested \
                     custom scopes ({wanted}).",
                    api.identifier, api.name
                ),
            },
        ),
        [] => userinfo(format!(
            "{lead}, but no API defines all the requested custom scopes ({wanted}), so no \
             audience was chosen and the access token is an opaque token for /userinfo only."
        )),
        several => {
            let ids: Vec<&str> = several.iter().map(|a| a.identifier.as_str()).collect();
            userinfo(format!(
                "{lead}, but several APIs define all the requested custom scopes ({wanted}): {}; \
                 no audience was chosen and the access token is an opaque token for /userinfo only.",
                join_words(&ids, "and")
            ))
        }
    }
}
