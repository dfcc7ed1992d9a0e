//! The system API (the Management API, `<issuer>api/v2/`) in user flows
//! (auth0-compat.md §9, SPEC.md §2).
//!
//! The system API is not a normal API: its settings (RBAC, user access policy,
//! consent skipping) do not decide what a user gets on it. In a user flow a user
//! gets Auth0's end-user scopes, which act only on the user's own record, and any
//! other management scope only through RBAC: a permission on the system API given
//! to the user directly or through a role (the bootstrap `Admin` role).

use super::trace::ScopeRule;
use super::user_flow::{describe_sources, dropped, granted};
use super::UserFacts;
use crate::grant::trace::ScopeTrace;
use crate::model::ResourceServer;

/// Auth0's end-user scopes on the Management API: granted to any signed-in user,
/// honoured only on that user's own `/api/v2/users/{id}` endpoints.
pub const END_USER_SCOPES: &[&str] = &[
    "read:current_user",
    "update:current_user_identities",
    "create:current_user_metadata",
    "update:current_user_metadata",
    "delete:current_user_metadata",
    "create:current_user_device_credentials",
    "delete:current_user_device_credentials",
];

/// Whether `scope` is one of the [`END_USER_SCOPES`].
pub fn is_end_user_scope(scope: &str) -> bool {
    END_USER_SCOPES.contains(&scope)
}

/// Whether a user flow may add `scope` of the system API when the request named
/// no scope of it (the password grant): an end-user scope, or one the user holds.
pub(super) fn may_imply(user: &UserFacts, scope: &str) -> bool {
    is_end_user_scope(scope) || user.permissions.iter().any(|p| p.permission_name == scope)
}

/// The decision on one scope the system API defines, for `user_name`.
pub(super) fn decide_scope(
    user: &UserFacts,
    user_name: &str,
    api: &ResourceServer,
    scope: &str,
) -> ScopeTrace {
    let id = &api.identifier;
    if is_end_user_scope(scope) {
        return granted(
            scope,
            ScopeRule::SystemApiEndUserScope,
            format!(
                "{scope} is an end-user scope of the Management API {id}: it is granted to \
                 {user_name} and acts only on {user_name}'s own user record."
            ),
        );
    }
    match user.permissions.iter().find(|p| p.permission_name == scope) {
        Some(p) => granted(
            scope,
            ScopeRule::SystemApiPermission,
            format!(
                "{user_name} has the permission {scope} on the Management API {id}{}, so it is \
                 granted.",
                describe_sources(&p.sources)
            ),
        ),
        None => dropped(
            scope,
            ScopeRule::SystemApiMissingPermission,
            format!(
                "{scope} is a Management API scope, which a user gets only through a permission \
                 on {id} (directly or through a role); {user_name} has none, so it was dropped."
            ),
            format!(
                "Assign the role Admin (or another role with the permission {scope} on {id}) to \
                 {user_name}, or use a machine-to-machine client with a client grant."
            ),
        ),
    }
}
