//! Endpoint paths and the OpenID Connect discovery document.
//!
//! Route paths live here as constants so the router and the discovery
//! document cannot disagree. The document lists only what is served
//! (auth0-compat.md §5): an endpoint appears once its route exists.

use serde_json::{json, Value};

/// The OpenID discovery document.
pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
/// The same document under RFC 8414's name.
pub const OAUTH_AUTHORIZATION_SERVER: &str = "/.well-known/oauth-authorization-server";
/// The public signing keys.
pub const JWKS: &str = "/.well-known/jwks.json";
/// The token endpoint, every grant.
pub const TOKEN: &str = "/oauth/token";
/// The device authorization endpoint (RFC 8628).
pub const DEVICE_CODE: &str = "/oauth/device/code";
/// OpenID Connect userinfo.
pub const USERINFO: &str = "/userinfo";
/// Refresh-token revocation (RFC 7009).
pub const REVOKE: &str = "/oauth/revoke";
/// Token introspection (RFC 7662).
pub const INTROSPECT: &str = "/oauth/introspect";
/// The authorization endpoint; it leads to the login and consent pages.
pub const AUTHORIZE: &str = "/authorize";
/// Auth0's logout.
pub const V2_LOGOUT: &str = "/v2/logout";
/// OpenID Connect RP-Initiated Logout.
pub const END_SESSION: &str = "/oidc/logout";
/// Where the logout confirmation page posts.
pub const END_SESSION_CONFIRM: &str = "/oidc/logout/confirm";
/// Liveness: the process answers.
pub const HEALTHZ: &str = "/healthz";
/// Readiness: the database answers.
pub const READYZ: &str = "/readyz";

/// Which optional endpoints this build serves; each flips on with its route.
#[derive(Debug, Clone, Copy, Default)]
pub struct Served {
    /// [`TOKEN`] and the grants it serves.
    pub token: bool,
    /// [`DEVICE_CODE`] and the device-code grant.
    pub device: bool,
    /// [`USERINFO`].
    pub userinfo: bool,
    /// [`REVOKE`].
    pub revoke: bool,
    /// [`INTROSPECT`].
    pub introspect: bool,
    /// `/authorize` and its pages.
    pub authorize: bool,
    /// `/oidc/logout` (RP-Initiated Logout).
    pub end_session: bool,
}

/// The scopes Auth0 advertises (auth0-compat.md §5).
pub const SCOPES_SUPPORTED: &[&str] = &[
    "openid",
    "profile",
    "offline_access",
    "name",
    "given_name",
    "family_name",
    "nickname",
    "email",
    "email_verified",
    "picture",
    "created_at",
    "identities",
    "phone",
    "address",
];

/// The discovery document for `issuer` (which ends with `/`).
pub fn document(issuer: &str, served: Served) -> Value {
    let base = issuer.trim_end_matches('/');
    let url = |path: &str| format!("{base}{path}");
    let mut doc = json!({
        "issuer": issuer,
        "jwks_uri": url(JWKS),
        "scopes_supported": SCOPES_SUPPORTED,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["public"],
        // HS256 is not listed: ID tokens are always signed asymmetrically
        // (client secrets are stored only as hashes).
        "id_token_signing_alg_values_supported": ["RS256", "PS256", "ES256", "EdDSA"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "PS256"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "claims_supported": [
            "aud", "auth_time", "created_at", "email", "email_verified", "exp", "family_name",
            "given_name", "iat", "identities", "iss", "name", "nickname", "phone_number",
            "picture", "sub"
        ],
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    let mut entries: Vec<(&str, Value)> = Vec::new();
    let mut grant_types = Vec::new();
    if served.token {
        entries.push(("token_endpoint", url(TOKEN).into()));
        grant_types.extend([
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "password",
            "http://auth0.com/oauth/grant-type/password-realm",
        ]);
    }
    if served.device {
        entries.push(("device_authorization_endpoint", url(DEVICE_CODE).into()));
        grant_types.push("urn:ietf:params:oauth:grant-type:device_code");
    }
    if !grant_types.is_empty() {
        if served.authorize {
            grant_types.push("implicit");
        }
        entries.push(("grant_types_supported", json!(grant_types)));
    }
    if served.userinfo {
        entries.push(("userinfo_endpoint", url(USERINFO).into()));
    }
    if served.revoke {
        entries.push(("revocation_endpoint", url(REVOKE).into()));
    }
    if served.introspect {
        entries.push(("introspection_endpoint", url(INTROSPECT).into()));
    }
    if served.authorize {
        entries.push(("authorization_endpoint", url(AUTHORIZE).into()));
        // auth0-compat.md §5 spells two combinations in this word order.
        entries.push((
            "response_types_supported",
            json!([
                "code",
                "token",
                "id_token",
                "code token",
                "code id_token",
                "token id_token",
                "code token id_token"
            ]),
        ));
    }
    if served.end_session {
        entries.push(("end_session_endpoint", url(END_SESSION).into()));
    }
    if let Value::Object(fields) = &mut doc {
        fields.extend(
            entries
                .into_iter()
                .map(|(key, value)| (key.to_string(), value)),
        );
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_only_served_endpoints() {
        let doc = document("http://127.0.0.1:8080/", Served::default());
        assert_eq!(doc["issuer"], "http://127.0.0.1:8080/");
        assert_eq!(
            doc["jwks_uri"],
            "http://127.0.0.1:8080/.well-known/jwks.json"
        );
        assert!(doc.get("token_endpoint").is_none());
        let doc = document(
            "http://127.0.0.1:8080/",
            Served {
                token: true,
                ..Served::default()
            },
        );
        assert_eq!(doc["token_endpoint"], "http://127.0.0.1:8080/oauth/token");
        assert!(doc.get("authorization_endpoint").is_none());
        let doc = document(
            "http://127.0.0.1:8080/",
            Served {
                token: true,
                authorize: true,
                end_session: true,
                ..Served::default()
            },
        );
        assert_eq!(
            doc["authorization_endpoint"],
            "http://127.0.0.1:8080/authorize"
        );
        assert_eq!(
            doc["end_session_endpoint"],
            "http://127.0.0.1:8080/oidc/logout"
        );
        assert!(doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("implicit")));
    }
}
