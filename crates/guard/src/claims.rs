//! The claims of a validated access token, and the scope and permission
//! checks on them.
//!
//! Auth0 and Gatehouse put what a token grants in two claims: `scope` (a
//! space-separated string; what fastapi-auth0 checks) and, when the API has
//! RBAC with "Add Permissions in the Access Token", `permissions` (an array;
//! what express-jwt-authz checks). [`Claims::require_scope`] and
//! [`Claims::require_permission`] check one each; [`Claims::require`] accepts
//! either, for an API that serves both kinds of tokens.

use crate::error::{AuthError, AuthErrorKind, TokenError};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

/// A validated access token's claims. Obtained only from the guard, so
/// holding one means the signature, issuer, audience and lifetime checked out.
#[derive(Clone, Debug)]
pub struct Claims {
    subject: String,
    issuer: String,
    audiences: Vec<String>,
    expires_at: i64,
    issued_at: Option<i64>,
    scopes: BTreeSet<String>,
    permissions: BTreeSet<String>,
    client_id: Option<String>,
    grant_type: Option<String>,
    all: Map<String, Value>,
    realm: Option<Arc<str>>,
}

impl Claims {
    /// Reads the standard claims out of a verified payload. `iss`, `aud` and
    /// the times are checked by the caller; here only their shapes.
    pub(crate) fn from_payload(
        all: Map<String, Value>,
        realm: Option<Arc<str>>,
    ) -> Result<Self, TokenError> {
        let subject = string_claim(&all, "sub")?.ok_or(TokenError::MissingClaim("sub"))?;
        let issuer = string_claim(&all, "iss")?.ok_or(TokenError::MissingClaim("iss"))?;
        let audiences = audiences(&all)?;
        let expires_at =
            numeric_date(&all, "exp", Round::Down)?.ok_or(TokenError::MissingClaim("exp"))?;
        let issued_at = numeric_date(&all, "iat", Round::Down)?;
        let scopes = match string_claim(&all, "scope")? {
            Some(scope) => scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            None => BTreeSet::new(),
        };
        let permissions = string_array(&all, "permissions")?;
        let client_id = match string_claim(&all, "client_id")? {
            Some(id) => Some(id),
            None => string_claim(&all, "azp")?,
        };
        let grant_type = string_claim(&all, "gty")?;
        Ok(Self {
            subject,
            issuer,
            audiences,
            expires_at,
            issued_at,
            scopes,
            permissions,
            client_id,
            grant_type,
            all,
            realm,
        })
    }

    /// `sub`: the user id, or `<client_id>@clients` for a machine token.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// `iss`: the issuer URL.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `aud`, as a list even when the token has a single string.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// `exp`, seconds since the epoch.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// `iat`, seconds since the epoch, when present.
    pub fn issued_at(&self) -> Option<i64> {
        self.issued_at
    }

    /// The granted scopes (`scope`, split on spaces).
    pub fn scopes(&self) -> &BTreeSet<String> {
        &self.scopes
    }

    /// The RBAC `permissions`, empty when the claim is absent.
    pub fn permissions(&self) -> &BTreeSet<String> {
        &self.permissions
    }

    /// The client the token was issued to: `client_id` (RFC 9068) or `azp` (Auth0).
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// Auth0's `gty`: `client-credentials`, `password`, `refresh_token`, …
    pub fn grant_type(&self) -> Option<&str> {
        self.grant_type.as_deref()
    }

    /// Every claim of the payload, for custom claims such as
    /// `https://measurements.example/roles`.
    pub fn all(&self) -> &Map<String, Value> {
        &self.all
    }

    /// One claim by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.all.get(name)
    }

    /// Whether `scope` lists this scope.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// Whether `permissions` lists this permission.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }

    /// `Ok` when `scope` lists `scope`; otherwise the 403
    /// `insufficient_scope` answer (fastapi-auth0's check).
    pub fn require_scope(&self, scope: &str) -> Result<(), AuthError> {
        self.check(self.has_scope(scope), scope)
    }

    /// `Ok` when `permissions` lists `permission`; otherwise the 403
    /// `insufficient_scope` answer (express-jwt-authz's check with
    /// `customScopeKey: 'permissions'`).
    pub fn require_permission(&self, permission: &str) -> Result<(), AuthError> {
        self.check(self.has_permission(permission), permission)
    }

    /// `Ok` when either `scope` or `permissions` grants `name`: for an API
    /// whose tokens carry it in one or the other (an RBAC API with
    /// permissions in the token lists them in both for users; machine
    /// tokens carry only `scope`).
    ///
    /// Only safe when the API has RBAC enabled: then a user token's `scope`
    /// holds only what the user's roles permit. Without RBAC a user's
    /// `scope` is whatever the application asked for, so neither this nor
    /// [`Claims::require_scope`] says what the *user* may do; check
    /// [`Claims::require_permission`] for user tokens instead.
    pub fn require(&self, name: &str) -> Result<(), AuthError> {
        self.check(self.has_scope(name) || self.has_permission(name), name)
    }

    fn check(&self, granted: bool, name: &str) -> Result<(), AuthError> {
        if granted {
            Ok(())
        } else {
            Err(AuthError::new(
                AuthErrorKind::InsufficientScope(name.to_string()),
                self.realm.clone(),
            ))
        }
    }
}

fn string_claim(
    all: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, TokenError> {
    match all.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(TokenError::MissingClaim(name)),
    }
}

fn string_array(
    all: &Map<String, Value>,
    name: &'static str,
) -> Result<BTreeSet<String>, TokenError> {
    match all.get(name) {
        None | Some(Value::Null) => Ok(BTreeSet::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(String::from)
                    .ok_or(TokenError::MissingClaim(name))
            })
            .collect(),
        Some(_) => Err(TokenError::MissingClaim(name)),
    }
}

/// `aud` (RFC 7519 §4.1.3): one string or an array of strings.
fn audiences(all: &Map<String, Value>) -> Result<Vec<String>, TokenError> {
    match all.get("aud") {
        Some(Value::String(aud)) => Ok(vec![aud.clone()]),
        Some(Value::Array(_)) => Ok(string_array(all, "aud")?.into_iter().collect()),
        _ => Err(TokenError::MissingClaim("aud")),
    }
}

/// How a fractional NumericDate becomes whole seconds: each bound is
/// rounded towards the narrower lifetime.
#[derive(Clone, Copy)]
pub(crate) enum Round {
    /// For `exp`: a token valid until 10.5 is not valid at 10.5 or later.
    Down,
    /// For `nbf`: a token valid from 10.5 is not valid at 10.
    Up,
}

/// A NumericDate (RFC 7519 §2): seconds, possibly fractional, rounded to
/// whole seconds as `round` says. Values beyond `i64` are not dates.
pub(crate) fn numeric_date(
    all: &Map<String, Value>,
    name: &'static str,
    round: Round,
) -> Result<Option<i64>, TokenError> {
    let Some(value) = all.get(name) else {
        return Ok(None);
    };
    let seconds = value
        .as_i64()
        .or_else(|| {
            value
                .as_f64()
                .filter(|f| f.is_finite() && f.abs() < 1e15)
                .map(|f| match round {
                    Round::Down => f.floor(),
                    Round::Up => f.ceil(),
                } as i64)
        })
        .ok_or(TokenError::MissingClaim(name))?;
    Ok(Some(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(payload: Value) -> Result<Claims, TokenError> {
        let Value::Object(map) = payload else {
            panic!("not an object")
        };
        Claims::from_payload(map, None)
    }

    fn base() -> Value {
        json!({"sub": "auth0|alice", "iss": "https://t/", "aud": "https://api/", "exp": 2_000_000_000})
    }

    #[test]
    fn reads_auth0_claims() {
        let mut payload = base();
        payload["aud"] = json!(["https://api/", "https://t/userinfo"]);
        payload["scope"] = json!("openid  read:measurements");
        payload["permissions"] = json!(["read:measurements"]);
        payload["azp"] = json!("spa");
        payload["gty"] = json!("password");
        payload["https://measurements.example/roles"] = json!(["reader"]);
        let claims = claims(payload).unwrap();
        assert_eq!(claims.subject(), "auth0|alice");
        assert_eq!(claims.audiences(), ["https://api/", "https://t/userinfo"]);
        assert_eq!(claims.scopes().len(), 2);
        assert!(claims.has_scope("read:measurements"));
        assert!(claims.has_permission("read:measurements"));
        assert_eq!(claims.client_id(), Some("spa"));
        assert_eq!(claims.grant_type(), Some("password"));
        assert_eq!(
            claims.get("https://measurements.example/roles"),
            Some(&json!(["reader"]))
        );
    }

    #[test]
    fn rfc9068_client_id_wins_over_azp() {
        let mut payload = base();
        payload["client_id"] = json!("m2m");
        payload["azp"] = json!("other");
        assert_eq!(claims(payload).unwrap().client_id(), Some("m2m"));
    }

    #[test]
    fn wrong_shapes_are_refused() {
        for (name, value) in [
            ("sub", json!(7)),
            ("aud", json!([1])),
            ("aud", json!({})),
            ("exp", json!("tomorrow")),
            ("exp", json!(1e300)),
            ("scope", json!(["a"])),
            ("permissions", json!("a b")),
        ] {
            let mut payload = base();
            payload[name] = value;
            assert_eq!(
                claims(payload).unwrap_err(),
                TokenError::MissingClaim(name),
                "{name}"
            );
        }
        let mut payload = base();
        payload.as_object_mut().unwrap().remove("exp");
        assert_eq!(
            claims(payload).unwrap_err(),
            TokenError::MissingClaim("exp")
        );
    }

    #[test]
    fn scope_and_permission_checks() {
        let mut payload = base();
        payload["scope"] = json!("read:measurements");
        payload["permissions"] = json!(["write:measurements"]);
        let claims = claims(payload).unwrap();
        assert!(claims.require_scope("read:measurements").is_ok());
        assert!(claims.require_scope("write:measurements").is_err());
        assert!(claims.require_permission("write:measurements").is_ok());
        assert!(claims.require_permission("read:measurements").is_err());
        assert!(claims.require("read:measurements").is_ok());
        assert!(claims.require("write:measurements").is_ok());
        let refused = claims.require("delete:measurements").unwrap_err();
        assert_eq!(
            refused.kind(),
            &AuthErrorKind::InsufficientScope("delete:measurements".into())
        );
    }

    #[test]
    fn fractional_dates_round_towards_the_shorter_lifetime() {
        let mut payload = base();
        payload["exp"] = json!(1_900_000_000.75);
        assert_eq!(claims(payload).unwrap().expires_at(), 1_900_000_000);
        let Value::Object(map) = json!({"nbf": 1_900_000_000.25}) else {
            unreachable!()
        };
        assert_eq!(
            numeric_date(&map, "nbf", Round::Up),
            Ok(Some(1_900_000_001))
        );
        assert_eq!(
            numeric_date(&map, "nbf", Round::Down),
            Ok(Some(1_900_000_000))
        );
    }
}
