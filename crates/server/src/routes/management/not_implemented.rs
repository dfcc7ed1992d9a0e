//! Auth0 Management API paths Gatehouse does not serve: an authenticated
//! caller gets 501 `not_implemented` naming the method and path, so a
//! migrating script learns what is missing rather than seeing a 404 that
//! reads like a typo. Any other unknown path stays a 404.

/// Top-level collections of Auth0's Management API that Gatehouse has none of.
const AUTH0_COLLECTIONS: &[&str] = &[
    "actions",
    "anomaly",
    "attack-protection",
    "blacklists",
    "branding",
    "connection-profiles",
    "custom-domains",
    "device-credentials",
    "event-streams",
    "flows",
    "forms",
    "grants",
    "guardian",
    "hooks",
    "log-streams",
    "network-acls",
    "organizations",
    "prompts",
    "refresh-tokens",
    "risk-assessments",
    "rules",
    "rules-configs",
    "self-service-profiles",
    "sessions",
    "supplemental-signals",
    "token-exchange-profiles",
    "user-attribute-profiles",
    "verifiable-credentials",
];

/// Auth0 paths under collections Gatehouse does serve, `*` for one segment
/// (an id); anything below a listed path is Auth0's too.
const AUTH0_SUBPATHS: &[&[&str]] = &[
    &["users", "*", "authentication-methods"],
    &["users", "*", "authenticators"],
    &["users", "*", "enrollments"],
    &["users", "*", "federated-connections-tokensets"],
    &["users", "*", "identities"],
    &["users", "*", "multifactor"],
    &["users", "*", "organizations"],
    &["users", "*", "recovery-code-regeneration"],
    &["users", "*", "refresh-tokens"],
    &["users", "*", "sessions"],
    &["clients", "*", "credentials"],
    &["clients", "*", "connections"],
    &["client-grants", "*", "organizations"],
    &["connections", "*", "clients"],
    &["connections", "*", "keys"],
    &["connections", "*", "scim-configuration"],
    &["connections", "*", "status"],
    &["connections", "*", "users"],
    &["keys", "custom-signing"],
    &["keys", "encryption"],
    &["jobs", "users-imports"],
    &["jobs", "users-exports"],
    &["jobs", "*", "errors"],
];

/// True when `path` (relative to `/api/v2`, e.g. `/organizations/org_1`)
/// is an Auth0 Management API path Gatehouse does not serve.
pub fn is_auth0_only(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let Some(first) = segments.first() else {
        return false;
    };
    if AUTH0_COLLECTIONS.contains(first) {
        return true;
    }
    AUTH0_SUBPATHS.iter().any(|pattern| {
        segments.len() >= pattern.len()
            && pattern
                .iter()
                .zip(&segments)
                .all(|(want, got)| (*want == "*" && !got.is_empty()) || want == got)
    })
}

#[cfg(test)]
mod tests {
    use super::is_auth0_only;

    #[test]
    fn knows_auth0_paths_it_does_not_serve() {
        for path in [
            "/organizations",
            "/organizations/org_1/members",
            "/actions/modules",
            "/rules-configs",
            "/users/auth0|1/identities",
            "/users/auth0|1/multifactor/actions/invalidate-remember-browser",
            "/keys/encryption",
            "/connections/con_1/status",
            "/jobs/users-exports",
            "/jobs/job_1/errors",
        ] {
            assert!(is_auth0_only(path), "{path}");
        }
    }

    #[test]
    fn leaves_other_paths_alone() {
        for path in [
            "/",
            "",
            "/nope",
            "/organisations",
            "/users",
            "/users/auth0|1",
            "/users/auth0|1/nope",
            "/users//identities",
            "/keys/signing",
            "/rulesx",
        ] {
            assert!(!is_auth0_only(path), "{path}");
        }
    }
}
