//! Validating access tokens Gatehouse issued: JWTs against our own published
//! keys (or an HS256 API's secret), opaque tokens against the store. Used by
//! `/userinfo` and introspection.

use crate::error::ApiError;
use crate::state::AppState;
use gatehouse_core::claims::userinfo_audience;
use gatehouse_core::jose::{decode_unverified, verify_jwt, verify_jwt_hs256, VerifyingKey};
use gatehouse_core::secret::hash_token;
use gatehouse_core::ScopeSet;
use gatehouse_store::StoreError;
use serde_json::Value;

/// What a valid access token says.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub subject: String,
    pub client_id: String,
    pub scope: ScopeSet,
    pub audiences: Vec<String>,
    pub issued_at: Option<i64>,
    pub expires_at: i64,
    /// The full claim set for JWTs.
    pub claims: Option<Value>,
}

impl AccessToken {
    /// Usable at `/userinfo`: `openid` granted and, for JWTs, the userinfo audience.
    pub fn allows_userinfo(&self, issuer: &str) -> bool {
        self.scope.contains("openid")
            && (self.claims.is_none() || self.audiences.contains(&userinfo_audience(issuer)))
    }
}

/// How far in the future a token's `nbf` may be and the token still count as
/// started: the clock skew tolerated between the nodes of a cluster.
pub const NOT_BEFORE_LEEWAY_SECS: i64 = 60;

/// True unless `nbf` is present and later than `now` (plus
/// [`NOT_BEFORE_LEEWAY_SECS`]); an `nbf` that is not a number fails.
fn started(nbf: Option<&Value>, now: i64) -> bool {
    match nbf {
        None => true,
        Some(nbf) => nbf
            .as_f64()
            .is_some_and(|nbf| nbf <= (now + NOT_BEFORE_LEEWAY_SECS) as f64),
    }
}

/// `Ok(None)` for a token that is not (or no longer, or not yet) valid.
pub async fn validate(
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<Option<AccessToken>, ApiError> {
    if token.split('.').count() == 3 {
        return validate_jwt(state, token, now).await;
    }
    let Some(opaque) = state.store().opaque_token(&hash_token(token)).await? else {
        return Ok(None);
    };
    if opaque.expires_at <= now {
        return Ok(None);
    }
    Ok(Some(AccessToken {
        subject: opaque.user_id,
        client_id: opaque.client_id,
        scope: ScopeSet::parse(&opaque.scope),
        audiences: vec![userinfo_audience(state.issuer())],
        issued_at: None,
        expires_at: opaque.expires_at,
        claims: None,
    }))
}

async fn validate_jwt(
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<Option<AccessToken>, ApiError> {
    let Ok((header, unverified)) = decode_unverified(token) else {
        return Ok(None);
    };
    let verified = if header.alg == "HS256" {
        let Some(aud) = unverified.get("aud").and_then(Value::as_str) else {
            return Ok(None);
        };
        // An audience PostgreSQL cannot compare (a NUL) names no API of ours.
        let api = match state.store().resource_server_by_identifier(aud).await {
            Err(StoreError::InvalidText) => None,
            found => found?,
        };
        let secret = api.and_then(|api| api.signing_secret);
        match secret {
            Some(secret) => verify_jwt_hs256(token, secret.as_bytes()).ok(),
            None => None,
        }
    } else {
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| state.keys().published_key(kid));
        match key {
            Some(key) => {
                let verifying = VerifyingKey::from(key.as_ref());
                verify_jwt(token, &verifying, &[key.alg().as_str()]).ok()
            }
            None => None,
        }
    };
    let Some(claims) = verified else {
        return Ok(None);
    };
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_string);
    let Some(expires_at) = claims.get("exp").and_then(Value::as_i64) else {
        return Ok(None);
    };
    if text("iss").as_deref() != Some(state.issuer()) || expires_at <= now {
        return Ok(None);
    }
    if !started(claims.get("nbf"), now) {
        return Ok(None);
    }
    let audiences = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    Ok(Some(AccessToken {
        subject: text("sub").unwrap_or_default(),
        client_id: text("azp")
            .or_else(|| text("client_id"))
            .unwrap_or_default(),
        scope: ScopeSet::parse(&text("scope").unwrap_or_default()),
        audiences,
        issued_at: claims.get("iat").and_then(Value::as_i64),
        expires_at,
        claims: Some(claims),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn not_before_allows_only_the_leeway() {
        let now = 1_000_000;
        assert!(started(None, now));
        assert!(started(Some(&json!(now)), now));
        assert!(started(Some(&json!(now + NOT_BEFORE_LEEWAY_SECS)), now));
        assert!(!started(
            Some(&json!(now + NOT_BEFORE_LEEWAY_SECS + 1)),
            now
        ));
        assert!(!started(Some(&json!("soon")), now));
    }
}
