//! Scopes in user-delegated flows: code, implicit, refresh, password, device code
//! (auth0-compat.md §4 "User-delegated flows").
//!
//! Each requested scope passes these steps; the first that drops it writes the trace:
//! 1. OIDC scopes are always granted; `offline_access` depends on the flow, the
//!    client's grant types and the API's `allow_offline_access`.
//! 2. No API audience: custom scopes are dropped (§4 rule 1, story 2).
//! 3. The API must define the scope.
//! 4. RBAC off: granted; RBAC on: only with the user's permission (§4 rules 2–3, story 1).
//! 5. Access policy `require_client_grant`, or a third-party client: the scope must
//!    also be in a client grant with `subject_type` user (§4 rule 4).

use super::audience::custom_scopes;
use super::consent;
use super::system_api;
use super::trace::{dialect_name, join_words, ScopeRule, ScopeTrace, Trace};
use super::{client_label, token_format, Decision, DecisionInput, Flow, Refusal, UserFacts};
use crate::error::OAuthError;
use crate::model::{ClientGrant, PermissionSource, ResourceServer, SubjectType, UserAccessPolicy};
use crate::scope::{is_oidc_scope, ScopeSet, OFFLINE_ACCESS, OPENID};

/// What every per-scope step needs.
struct Ctx<'a> {
    input: &'a DecisionInput<'a>,
    api: Option<&'a ResourceServer>,
    user: UserFacts<'a>,
    user_name: &'a str,
    client: String,
    /// `Some` when the API's access policy (or a third-party client) needs a user
    /// client grant: why, and the grants that apply.
    grant_needed: Option<(String, Vec<&'a ClientGrant>)>,
}

/// Phase 2 for a user flow.
pub(super) fn decide(input: &DecisionInput) -> Result<Decision, Refusal> {
    let choice = input.audience;
    let api = choice.api.as_ref();
    // A user flow without a user is a bug in the caller, not a client error.
    let Some(user) = input.user else {
        return Err(Refusal::new(
            OAuthError::server_error(),
            Trace::audience_only(choice.step.clone()),
        ));
    };
    if let Some(api) = api {
        if api.subject_type_authorization.user.policy == UserAccessPolicy::DenyAll {
            return Err(deny_all(input, api));
        }
    }
    let ctx = Ctx {
        input,
        api,
        user,
        user_name: user.user.display_name(),
        client: client_label(input.client),
        grant_needed: api.and_then(|api| grant_requirement(input, api)),
    };

    // Request order, then the implied scopes.
    let traces: Vec<ScopeTrace> = requested_with_implied(input)
        .into_iter()
        .map(|(scope, implied)| {
            let mut t = decide_scope(&ctx, scope);
            if implied {
                t.implied = true;
                t.explanation.push_str(
                    " It was not named in the request: the password grant asks for every scope \
                     of the API when the request names none of them.",
                );
            }
            t
        })
        .collect();

    let scope: ScopeSet = traces
        .iter()
        .filter(|t| t.granted)
        .map(|t| t.scope.as_str())
        .collect();
    let api_scopes: ScopeSet = custom_scopes(&scope).into_iter().collect();
    let offline = traces.iter().find(|t| t.scope == OFFLINE_ACCESS);
    let issue_refresh_token = offline.is_some_and(|t| t.granted);
    let refresh_note = match offline {
        Some(t) => t.explanation.clone(),
        None => "offline_access was not requested, so no refresh token is issued.".into(),
    };
    let (permissions, permissions_note) = permissions(&ctx, &api_scopes);
    let (consent_required, consent_note) = consent::evaluate(input, ctx.user_name, &scope);
    let (token_format, expires_in) = token_format(input.flow, api);
    Ok(Decision {
        audience: choice.audience().map(str::to_string),
        issue_id_token: input.requested_scopes.contains(OPENID),
        scope,
        api_scopes,
        permissions,
        token_format,
        expires_in,
        issue_refresh_token,
        consent_required,
        trace: Trace {
            audience: choice.step.clone(),
            scopes: traces,
            refresh_token: Some(refresh_note),
            id_token: Some(id_token_note(input.requested_scopes.contains(OPENID)).into()),
            permissions_note,
            consent: consent_note,
            actions: Vec::new(),
        },
    })
}

/// The requested scopes in order; for the password grant with an API and no API
/// scope named, every scope of the API is added, marked implied
/// (auth0-compat.md §2 "Grants", `password`).
fn requested_with_implied<'a>(input: &'a DecisionInput<'a>) -> Vec<(&'a str, bool)> {
    let mut list: Vec<(&str, bool)> = input.requested_scopes.iter().map(|s| (s, false)).collect();
    if let Some(api) = input.audience.api.as_ref() {
        if input.flow == Flow::Password && custom_scopes(input.requested_scopes).is_empty() {
            list.extend(
                api.scopes
                    .iter()
                    .filter(|d| !input.requested_scopes.contains(&d.value))
                    .filter(|d| {
                        !api.is_system
                            || input
                                .user
                                .is_some_and(|u| system_api::may_imply(&u, &d.value))
                    })
                    .map(|d| (d.value.as_str(), true)),
            );
        }
    }
    list
}

/// `subject_type_authorization.user.policy = deny_all`: no user token for this API.
fn deny_all(input: &DecisionInput, api: &ResourceServer) -> Refusal {
    let id = &api.identifier;
    let scopes = input
        .requested_scopes
        .iter()
        .map(|s| ScopeTrace {
            scope: s.to_string(),
            granted: false,
            rule: ScopeRule::AccessPolicy,
            explanation: format!(
                "API {id} denies all user access (its user access policy is deny_all), so the \
                 request was refused and {s} was not granted."
            ),
            fix: Some(format!(
                "Set the user access policy of API {id} to allow_all or require_client_grant, \
                 or call it with client credentials instead."
            )),
            implied: false,
        })
        .collect();
    let mut trace = Trace::audience_only(input.audience.step.clone());
    trace.scopes = scopes;
    Refusal::new(
        OAuthError::access_denied(format!(
            "User access to \"{id}\" is denied by the API's access policy."
        )),
        trace,
    )
}

/// Why a user client grant is needed, and the grants that apply (§4 rule 4):
/// the API's policy is `require_client_grant`, or the client is third-party.
fn grant_requirement<'a>(
    input: &DecisionInput<'a>,
    api: &ResourceServer,
) -> Option<(String, Vec<&'a ClientGrant>)> {
    let client = input.client;
    let mut reasons = Vec::new();
    if api.subject_type_authorization.user.policy == UserAccessPolicy::RequireClientGrant {
        reasons.push(format!(
            "API {} requires a client grant for user access (its user access policy is \
             require_client_grant)",
            api.identifier
        ));
    }
    if !client.is_first_party {
        reasons.push(format!(
            "client {} is a third-party application, and third-party applications always need \
             a client grant",
            client_label(client)
        ));
    }
    if reasons.is_empty() {
        return None;
    }
    let grants = input
        .client_grants
        .iter()
        .filter(|g| g.applies_to(client, &api.identifier, SubjectType::User))
        .collect();
    Some((reasons.join(", and "), grants))
}

fn decide_scope(ctx: &Ctx, scope: &str) -> ScopeTrace {
    if is_oidc_scope(scope) {
        let mut explanation = format!(
            "{scope} is an OpenID Connect scope, granted in every user flow without any API."
        );
        if scope == OPENID {
            explanation.push_str(" It makes the server issue an ID token.");
        }
        return granted(scope, ScopeRule::OidcScope, explanation);
    }
    if scope == OFFLINE_ACCESS {
        return offline_access(ctx);
    }
    let Some(api) = ctx.api else {
        return no_audience(ctx, scope);
    };
    let id = &api.identifier;
    if !api.defines_scope(scope) {
        let mut fix = format!("Add {scope} to the scopes of API {id}.");
        let others: Vec<&String> = ctx
            .input
            .audience
            .owners_of(scope)
            .iter()
            .filter(|o| *o != id)
            .collect();
        if !others.is_empty() {
            fix.push_str(&format!(
                " If you meant the API that defines it, request audience={} instead.",
                join_words(&others, "or")
            ));
        }
        return dropped(
            scope,
            ScopeRule::NotDefinedByApi,
            format!("API {id} does not define scope {scope}, so it was dropped."),
            fix,
        );
    }
    let mut trace = if api.is_system {
        system_api::decide_scope(&ctx.user, ctx.user_name, api, scope)
    } else if api.enforce_policies {
        match ctx
            .user
            .permissions
            .iter()
            .find(|p| p.permission_name == scope)
        {
            Some(p) => granted(
                scope,
                ScopeRule::RbacPermission,
                format!(
                    "{} has the permission {scope} on API {id}{}, and RBAC is on, so it is granted.",
                    ctx.user_name,
                    describe_sources(&p.sources)
                ),
            ),
            None => return missing_permission(ctx, api, scope),
        }
    } else {
        granted(
            scope,
            ScopeRule::RbacOff,
            format!(
                "API {id} defines {scope} and does not enforce RBAC (enforce_policies is off), so \
                 it is granted to every user who asks, including {}.",
                ctx.user_name
            ),
        )
    };
    if !trace.granted {
        return trace;
    }
    if let Some((reason, grants)) = &ctx.grant_needed {
        match grants.iter().find(|g| g.covers(scope, api)) {
            Some(g) => trace.explanation.push_str(&format!(
                " The user client grant {} of client {} covers it ({reason}).",
                g.id, ctx.client
            )),
            None => return not_in_user_grant(ctx, api, scope, reason, grants),
        }
    }
    trace
}

/// `offline_access`: a refresh token, if the flow, the client and the API allow it
/// (auth0-compat.md §2 "Refresh tokens", §1 `scope`).
fn offline_access(ctx: &Ctx) -> ScopeTrace {
    let s = OFFLINE_ACCESS;
    let flow = ctx.input.flow;
    let client = ctx.input.client;
    if !flow.can_issue_refresh_token() {
        return dropped(
            s,
            ScopeRule::OfflineAccessNotForFlow,
            format!(
                "offline_access was dropped: {} never issues refresh tokens.",
                flow.describe()
            ),
            "Use the authorization code flow (with PKCE for browser apps) to get a refresh token."
                .into(),
        );
    }
    if !client.allows_grant("refresh_token") {
        return dropped(
            s,
            ScopeRule::RefreshGrantNotEnabled,
            format!(
                "offline_access was dropped: client {} does not have the refresh_token grant type, \
                 so no refresh token is issued.",
                ctx.client
            ),
            format!(
                "Enable the refresh_token grant type on client {}.",
                client.client_id
            ),
        );
    }
    match ctx.api {
        Some(api) if !api.allow_offline_access => dropped(
            s,
            ScopeRule::OfflineAccessNotAllowed,
            format!(
                "API {} does not allow offline access, so offline_access was dropped and no \
                 refresh token is issued.",
                api.identifier
            ),
            format!(
                "Turn on allow_offline_access (\"Allow Offline Access\") for API {}.",
                api.identifier
            ),
        ),
        Some(api) => granted(
            s,
            ScopeRule::OfflineAccessAllowed,
            format!(
                "offline_access is granted: API {} allows offline access, so a refresh token is \
                 issued.",
                api.identifier
            ),
        ),
        None => granted(
            s,
            ScopeRule::OfflineAccessAllowed,
            "offline_access is granted: with no API audience a refresh token is issued for \
             /userinfo access."
                .into(),
        ),
    }
}

/// A custom scope with no API audience (§4 rule 1, story 2).
fn no_audience(ctx: &Ctx, scope: &str) -> ScopeTrace {
    let choice = ctx.input.audience;
    let owners = choice.owners_of(scope);
    let infer = if choice.infer_audience_from_scope {
        ""
    } else {
        ", or turn on the tenant setting infer_audience_from_scope"
    };
    let fix = match owners {
        [] => format!(
            "No known API defines {scope}: add it to the scopes of an API, then pass \
             audience=<that API's identifier> (or resource=…), set the tenant default_audience{infer}."
        ),
        [one] => format!(
            "Pass audience={one} (or resource={one}), set the tenant default_audience to {one}{infer}."
        ),
        several => format!(
            "Several APIs define {scope} ({}): pass audience=<one of them> (or resource=…) or set \
             the tenant default_audience.",
            join_words(several, "and")
        ),
    };
    dropped(
        scope,
        ScopeRule::NoAudience,
        format!(
            "{scope} was dropped: no API audience was chosen, so the access token is an opaque \
             token for /userinfo that carries OpenID Connect scopes only."
        ),
        fix,
    )
}

/// RBAC on and no permission (§4 rule 3, story 1).
fn missing_permission(ctx: &Ctx, api: &ResourceServer, scope: &str) -> ScopeTrace {
    let user = ctx.user_name;
    let id = &api.identifier;
    let roles: &[String] = ctx
        .user
        .roles_granting
        .iter()
        .find(|(s, _)| s == scope)
        .map(|(_, r)| r.as_slice())
        .unwrap_or(&[]);
    let fix = match roles {
        [] => format!(
            "Create a role with the permission {scope} on API {id} and assign it to {user}, or \
             assign the permission to {user} directly."
        ),
        [role] => format!("Assign the role {role} or the permission {scope} to {user}."),
        several => format!(
            "Assign one of the roles {}, or the permission {scope}, to {user}.",
            join_words(several, "or")
        ),
    };
    dropped(
        scope,
        ScopeRule::RbacMissingPermission,
        format!(
            "{user} has no permission {scope} on API {id}, and RBAC is on (enforce_policies), so \
             the scope was dropped."
        ),
        fix,
    )
}

/// A scope the user may have but the user client grant does not cover (§4 rule 4).
fn not_in_user_grant(
    ctx: &Ctx,
    api: &ResourceServer,
    scope: &str,
    reason: &str,
    grants: &[&ClientGrant],
) -> ScopeTrace {
    let id = &api.identifier;
    let client = &ctx.client;
    let client_id = &ctx.input.client.client_id;
    if grants.is_empty() {
        let mut fix = format!(
            "Create a client grant with subject_type user for client {client_id} on API {id} that \
             includes {scope}."
        );
        if !ctx.input.client.is_first_party {
            fix.push_str(
                " A grant with default_for third_party_clients covers every third-party client.",
            );
        }
        return dropped(
            scope,
            ScopeRule::AccessPolicy,
            format!(
                "{scope} was dropped: {reason}, and client {client} has no client grant with \
                 subject_type user on API {id}."
            ),
            fix,
        );
    }
    let ids: Vec<&str> = grants.iter().map(|g| g.id.as_str()).collect();
    dropped(
        scope,
        ScopeRule::NotInClientGrant,
        format!(
            "{scope} was dropped: {reason}, and the user client grant {} of client {client} on API \
             {id} does not include it.",
            join_words(&ids, "and")
        ),
        format!(
            "Add {scope} to the scope of client grant {}.",
            join_words(&ids, "or")
        ),
    )
}

/// The `permissions` claim and its note (auth0-compat.md §3 "Token dialects", §4 rule 3).
fn permissions(ctx: &Ctx, api_scopes: &ScopeSet) -> (Option<Vec<String>>, Option<String>) {
    let Some(api) = ctx.api else {
        return (None, None);
    };
    let id = &api.identifier;
    let dialect = dialect_name(api.token_dialect);
    let user = ctx.user_name;
    match (
        api.enforce_policies,
        api.token_dialect.includes_permissions(),
    ) {
        (true, true) => {
            let mut perms: Vec<String> = ctx
                .user
                .permissions
                .iter()
                .map(|p| p.permission_name.clone())
                .collect();
            perms.sort();
            perms.dedup();
            let mut note = format!(
                "API {id} enforces RBAC with the {dialect} dialect, so the permissions claim lists \
                 all of {user}'s permissions on it, requested or not"
            );
            if perms.is_empty() {
                note.push_str(&format!(": {user} has none."));
            } else {
                note.push_str(&format!(": {}.", perms.join(", ")));
            }
            let only_in_permissions: Vec<&str> = perms
                .iter()
                .map(String::as_str)
                .filter(|p| !api_scopes.contains(p))
                .collect();
            if !only_in_permissions.is_empty() {
                note.push_str(&format!(
                    " Only in permissions, not in scope (not requested, or dropped above): {}. \
                     APIs that check the scope claim, such as fastapi-auth0, do not see them \
                     there; request them in scope.",
                    only_in_permissions.join(", ")
                ));
            }
            (Some(perms), Some(note))
        }
        (true, false) => (
            None,
            Some(format!(
                "API {id} enforces RBAC but its {dialect} dialect has no permissions claim; the \
                 granted permissions appear only in scope. Turn on \"Add Permissions in the Access \
                 Token\" (token_dialect access_token_authz or rfc9068_profile_authz) for a \
                 permissions claim."
            )),
        ),
        (false, true) => (
            None,
            Some(format!(
                "API {id} uses the {dialect} dialect but does not enforce RBAC, so there is no \
                 permissions claim (permissions are emitted only when enforce_policies is on)."
            )),
        ),
        (false, false) => (None, None),
    }
}

/// ` directly`, ` through the role reader`, ` directly and through the roles a and b`.
pub(super) fn describe_sources(sources: &[PermissionSource]) -> String {
    let direct = sources
        .iter()
        .any(|s| matches!(s, PermissionSource::Direct));
    let roles: Vec<&str> = sources
        .iter()
        .filter_map(|s| match s {
            PermissionSource::Role { role_name, .. } => Some(role_name.as_str()),
            PermissionSource::Direct => None,
        })
        .collect();
    let via_roles = match roles.as_slice() {
        [] => String::new(),
        [one] => format!("through the role {one}"),
        several => format!("through the roles {}", join_words(several, "and")),
    };
    match (direct, via_roles.is_empty()) {
        (true, true) => " directly".into(),
        (true, false) => format!(" directly and {via_roles}"),
        (false, false) => format!(" {via_roles}"),
        (false, true) => String::new(),
    }
}

pub(super) fn granted(scope: &str, rule: ScopeRule, explanation: String) -> ScopeTrace {
    ScopeTrace {
        scope: scope.to_string(),
        granted: true,
        rule,
        explanation,
        fix: None,
        implied: false,
    }
}

pub(super) fn dropped(
    scope: &str,
    rule: ScopeRule,
    explanation: String,
    fix: String,
) -> ScopeTrace {
    ScopeTrace {
        scope: scope.to_string(),
        granted: false,
        rule,
        explanation,
        fix: Some(fix),
        implied: false,
    }
}

/// Why there is or is not an ID token: OIDC issues one exactly when `openid` is asked for.
fn id_token_note(openid_requested: bool) -> &'static str {
    if openid_requested {
        "openid was requested, so an ID token is issued: it tells the application who logged \
         in, and is not for APIs."
    } else {
        "openid was not requested, so no ID token is issued; add openid to the scope to get one."
    }
}
