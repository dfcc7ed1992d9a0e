//! Claim sets: access tokens, ID tokens and `/userinfo` (auth0-compat.md §3).
//!
//! Pure builders from what the grant decision produced; signing happens in
//! [`crate::jose`]. Claims whose scope was not granted never appear.

use crate::model::{TokenDialect, User};
use crate::scope::ScopeSet;
use serde_json::{json, Map, Value};

/// The userinfo audience Auth0 adds beside an API when `openid` was granted.
pub fn userinfo_audience(issuer: &str) -> String {
    format!("{issuer}userinfo")
}

/// `gty` values; Auth0 emits them for these grants only.
pub fn gty_for(grant_type: &str) -> Option<&'static str> {
    match grant_type {
        "client_credentials" => Some("client-credentials"),
        "password" | "http://auth0.com/oauth/grant-type/password-realm" => Some("password"),
        "refresh_token" => Some("refresh_token"),
        _ => None,
    }
}

/// Inputs of an API access token.
pub struct AccessTokenClaims<'a> {
    /// The `iss` claim: the issuer URL, ending with `/`.
    pub issuer: &'a str,
    /// user_id, or `<client_id>@clients` for client credentials.
    pub subject: &'a str,
    /// The client the token is issued to (`azp` or `client_id`).
    pub client_id: &'a str,
    /// The API identifier (`aud`).
    pub audience: &'a str,
    /// Adds the userinfo audience (`openid` granted and a multi-audience alg).
    pub with_userinfo_audience: bool,
    /// The granted scopes (`scope`).
    pub scope: &'a ScopeSet,
    /// The `permissions` claim, when the API adds RBAC permissions to tokens.
    pub permissions: Option<&'a [String]>,
    /// The API's token profile (Auth0 or RFC 9068 claim names).
    pub dialect: TokenDialect,
    /// The grant that issued the token (for `gty`).
    pub grant_type: &'a str,
    /// `iat`, epoch seconds.
    pub issued_at: i64,
    /// `exp`, epoch seconds.
    pub expires_at: i64,
    /// The token id (`jti`).
    pub jti: &'a str,
}

impl AccessTokenClaims<'_> {
    /// The JOSE `typ` header: `at+jwt` for RFC 9068 profiles (RFC 9068 §2.1).
    pub fn typ(&self) -> &'static str {
        if self.dialect.is_rfc9068() {
            "at+jwt"
        } else {
            "JWT"
        }
    }

    /// The claim set as a JSON object.
    pub fn to_json(&self) -> Value {
        let aud = if self.with_userinfo_audience {
            json!([self.audience, userinfo_audience(self.issuer)])
        } else {
            json!(self.audience)
        };
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("sub".into(), json!(self.subject));
        claims.insert("aud".into(), aud);
        claims.insert("iat".into(), json!(self.issued_at));
        claims.insert("exp".into(), json!(self.expires_at));
        claims.insert("jti".into(), json!(self.jti));
        if self.dialect.is_rfc9068() {
            claims.insert("client_id".into(), json!(self.client_id));
        } else {
            claims.insert("azp".into(), json!(self.client_id));
            if let Some(gty) = gty_for(self.grant_type) {
                claims.insert("gty".into(), json!(gty));
            }
        }
        claims.insert("scope".into(), json!(self.scope.to_string()));
        if let Some(perms) = self.permissions {
            claims.insert("permissions".into(), json!(perms));
        }
        Value::Object(claims)
    }
}

/// The profile and email claims the granted scopes allow (OIDC Core §5.4).
pub fn profile_claims(user: &User, scope: &ScopeSet) -> Map<String, Value> {
    let mut claims = Map::new();
    if scope.contains("profile") {
        let put = |claims: &mut Map<String, Value>, k: &str, v: &Option<String>| {
            if let Some(v) = v {
                claims.insert(k.into(), json!(v));
            }
        };
        put(&mut claims, "given_name", &user.given_name);
        put(&mut claims, "family_name", &user.family_name);
        put(&mut claims, "nickname", &user.nickname);
        put(&mut claims, "name", &user.name);
        put(&mut claims, "picture", &user.picture);
        claims.insert(
            "updated_at".into(),
            json!(crate::time::iso8601(user.updated_at)),
        );
    }
    if scope.contains("email") {
        if let Some(email) = &user.email {
            claims.insert("email".into(), json!(email));
            claims.insert("email_verified".into(), json!(user.email_verified));
        }
    }
    claims
}

/// Inputs of an ID token.
pub struct IdTokenClaims<'a> {
    /// The `iss` claim: the issuer URL, ending with `/`.
    pub issuer: &'a str,
    /// The user the token describes (`sub` and the profile claims).
    pub user: &'a User,
    /// The client the token is for (`aud`).
    pub client_id: &'a str,
    /// The granted scopes; they choose the profile claims.
    pub scope: &'a ScopeSet,
    /// The `nonce` of the authorization request, echoed.
    pub nonce: Option<&'a str>,
    /// The SSO session id (`sid`), for logout.
    pub sid: Option<&'a str>,
    /// Present after `prompt=login`, `max_age`, or when the client asked.
    pub auth_time: Option<i64>,
    /// Hash of the access token issued beside it (`at_hash`).
    pub at_hash: Option<String>,
    /// Hash of the authorization code issued beside it (`c_hash`).
    pub c_hash: Option<String>,
    /// `iat`, epoch seconds.
    pub issued_at: i64,
    /// `exp`, epoch seconds.
    pub expires_at: i64,
}

impl IdTokenClaims<'_> {
    /// The claim set as a JSON object.
    pub fn to_json(&self) -> Value {
        let mut claims = profile_claims(self.user, self.scope);
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("aud".into(), json!(self.client_id));
        claims.insert("sub".into(), json!(self.user.user_id));
        claims.insert("iat".into(), json!(self.issued_at));
        claims.insert("exp".into(), json!(self.expires_at));
        if let Some(sid) = self.sid {
            claims.insert("sid".into(), json!(sid));
        }
        if let Some(nonce) = self.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        if let Some(t) = self.auth_time {
            claims.insert("auth_time".into(), json!(t));
        }
        if let Some(h) = &self.at_hash {
            claims.insert("at_hash".into(), json!(h));
        }
        if let Some(h) = &self.c_hash {
            claims.insert("c_hash".into(), json!(h));
        }
        Value::Object(claims)
    }
}

/// The `/userinfo` body: `sub` plus what the scopes allow.
pub fn userinfo(user: &User, scope: &ScopeSet) -> Value {
    let mut claims = profile_claims(user, scope);
    claims.insert("sub".into(), json!(user.user_id));
    Value::Object(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        let mut u = User::new("auth0|abc", "bob@example.com", 1_597_184_817);
        u.email_verified = true;
        u
    }

    #[test]
    fn id_token_has_iso_updated_at_and_only_granted_claims() {
        let u = user();
        let scope = ScopeSet::parse("openid profile");
        let claims = IdTokenClaims {
            issuer: "http://127.0.0.1:8080/",
            user: &u,
            client_id: "cid",
            scope: &scope,
            nonce: Some("n-1"),
            sid: Some("s-1"),
            auth_time: None,
            at_hash: None,
            c_hash: None,
            issued_at: 10,
            expires_at: 20,
        }
        .to_json();
        assert_eq!(claims["updated_at"], "2020-08-11T22:26:57.000Z");
        assert_eq!(claims["aud"], "cid");
        assert_eq!(claims["nonce"], "n-1");
        assert!(claims.get("email").is_none());
        assert!(claims.get("auth_time").is_none());
    }

    #[test]
    fn access_token_dialects() {
        let scope = ScopeSet::parse("openid read:x");
        let perms = vec!["read:x".to_string()];
        let mut at = AccessTokenClaims {
            issuer: "https://t/",
            subject: "cid@clients",
            client_id: "cid",
            audience: "https://api/",
            with_userinfo_audience: true,
            scope: &scope,
            permissions: Some(&perms),
            dialect: TokenDialect::AccessTokenAuthz,
            grant_type: "client_credentials",
            issued_at: 1,
            expires_at: 2,
            jti: "j",
        };
        let c = at.to_json();
        assert_eq!(c["aud"], json!(["https://api/", "https://t/userinfo"]));
        assert_eq!(c["gty"], "client-credentials");
        assert_eq!(c["azp"], "cid");
        assert_eq!(c["permissions"], json!(["read:x"]));
        assert_eq!(at.typ(), "JWT");
        at.dialect = TokenDialect::Rfc9068Profile;
        at.permissions = None;
        let c = at.to_json();
        assert_eq!(at.typ(), "at+jwt");
        assert!(c.get("gty").is_none());
        assert!(c.get("azp").is_none());
        assert_eq!(c["client_id"], "cid");
    }
}
