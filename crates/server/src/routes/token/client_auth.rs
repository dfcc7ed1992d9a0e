//! Client authentication at the token, revocation and introspection endpoints
//! (RFC 6749 §2.3, RFC 7523 §3, auth0-compat.md §2 "Client authentication").
//!
//! Each method is one small check; [`authenticate`] picks the method from what
//! the request carries and then checks it is the one the client is registered for.
//! The endpoints call it through [`authenticate_limited`], which keeps secret
//! and assertion guessing under the per-IP limit on failed authentications.

use crate::error::ApiError;
use crate::extract::{counted_ip, Params};
use crate::rate_limit::{Bucket, RateLimiter};
use crate::state::AppState;
use axum::http::{header::AUTHORIZATION, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_core::error::messages::CLIENT_AUTH_FAILED;
use gatehouse_core::jose::{decode_unverified, verify_jwt, VerifyingKey};
use gatehouse_core::model::{Client, TokenEndpointAuthMethod};
use gatehouse_core::redact::Secret;
use gatehouse_core::secret::verify_token;
use gatehouse_core::{ErrorCode, OAuthError};
use serde_json::Value;
use std::net::IpAddr;

pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Auth0 limits client assertions to 2048 bytes and a 5 minute lifetime.
const MAX_ASSERTION_BYTES: usize = 2048;
const MAX_ASSERTION_LIFETIME: i64 = 300;
const ASSERTION_ALGS: &[&str] = &["RS256", "RS384", "PS256"];

/// What the request presented.
enum Presented {
    Basic {
        client_id: String,
        secret: Secret<String>,
    },
    Post {
        client_id: String,
        secret: Secret<String>,
    },
    Assertion {
        assertion: String,
    },
    None {
        client_id: String,
    },
}

fn invalid_client() -> OAuthError {
    OAuthError::invalid_client(CLIENT_AUTH_FAILED)
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(id):urlencode(secret))`.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| invalid_client())?;
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Ok(None);
    };
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid_client)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(invalid_client)?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// The client id a request claims (Basic header, else `client_id`), before
/// any check: what a failed request's log event names.
pub fn claimed_client_id(headers: &HeaderMap, params: &Params) -> Option<String> {
    match basic_credentials(headers) {
        Ok(Some((client_id, _))) => Some(client_id),
        _ => params.get("client_id").map(str::to_string),
    }
}

fn presented(headers: &HeaderMap, params: &Params) -> Result<Presented, OAuthError> {
    let param_id = params.get("client_id");
    if let Some((client_id, secret)) = basic_credentials(headers)? {
        if param_id.is_some_and(|p| p != client_id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body does not match the Authorization header.",
            ));
        }
        return Ok(Presented::Basic {
            client_id,
            secret: secret.into(),
        });
    }
    if let Some(assertion) = params.get("client_assertion") {
        if params.get("client_assertion_type") != Some(JWT_BEARER_ASSERTION) {
            return Err(OAuthError::invalid_request(format!(
                "client_assertion_type must be {JWT_BEARER_ASSERTION}"
            )));
        }
        return Ok(Presented::Assertion {
            assertion: assertion.to_string(),
        });
    }
    let client_id = params.require("client_id")?.to_string();
    Ok(match params.get("client_secret") {
        Some(secret) => Presented::Post {
            client_id,
            secret: secret.into(),
        },
        None => Presented::None { client_id },
    })
}

/// [`authenticate`] under the per-IP limit on failed client authentications
/// (`peer` is the caller's address). A request that presents a secret or an
/// assertion is refused with 429 while the IP is over the limit, even with
/// the right secret, so guessing gets no further answers; each failure is
/// counted. Public clients skip the check, and successes write nothing.
pub async fn authenticate_limited(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    peer: Option<IpAddr>,
    now: i64,
) -> Result<Client, ApiError> {
    let ip = counted_ip(peer);
    let presents_proof = headers.contains_key(AUTHORIZATION)
        || params.get("client_secret").is_some()
        || params.get("client_assertion").is_some();
    // Only an address this node saw fill its bucket costs a database read.
    if presents_proof && state.throttled_addresses().is_throttled(&ip, now) {
        let limiter = RateLimiter::load(state, None, now).await?;
        match limiter.check(Bucket::FailedAuthFromIp(&ip)).await? {
            Some(throttled) => return Err(ApiError::RateLimited(throttled)),
            None => state.throttled_addresses().forget(&ip),
        }
    }
    match authenticate(state, headers, params, now).await {
        Ok(client) => Ok(client),
        Err(error) => Err(count_failure(state, &ip, now, error).await),
    }
}

/// Counts a failed client authentication against the IP; the failure that
/// goes over the limit is answered 429 instead of 401.
async fn count_failure(state: &AppState, ip: &str, now: i64, error: ApiError) -> ApiError {
    if !matches!(&error, ApiError::OAuth(e) if e.error == ErrorCode::InvalidClient) {
        return error;
    }
    let counted = match RateLimiter::load(state, None, now).await {
        Ok(limiter) => limiter.failed_client_authentication(ip).await,
        Err(e) => Err(e),
    };
    match counted {
        Ok(Some(throttled)) => ApiError::RateLimited(throttled),
        Ok(None) => error,
        Err(e) => {
            tracing::warn!(error = %e, "could not count a failed client authentication");
            error
        }
    }
}

/// Authenticates the calling client. Public clients (method `none`) pass with
/// their `client_id` alone; confidential ones must prove themselves with the
/// method they are registered for (a secret may come by post or basic).
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    now: i64,
) -> Result<Client, ApiError> {
    let presented = presented(headers, params)?;
    let client_id = match &presented {
        Presented::Basic { client_id, .. }
        | Presented::Post { client_id, .. }
        | Presented::None { client_id } => client_id.clone(),
        Presented::Assertion { assertion } => assertion_subject(assertion)?,
    };
    let stored = state
        .store()
        .client(&client_id)
        .await?
        .ok_or_else(invalid_client)?;
    let client = stored.client;
    let registered = client.token_endpoint_auth_method;
    match presented {
        Presented::None { .. } if registered == TokenEndpointAuthMethod::None => {}
        Presented::Basic { secret, .. } | Presented::Post { secret, .. }
            if matches!(
                registered,
                TokenEndpointAuthMethod::ClientSecretPost
                    | TokenEndpointAuthMethod::ClientSecretBasic
            ) =>
        {
            let hash = stored.secret_hash.as_deref().ok_or_else(invalid_client)?;
            if !verify_token(secret.expose(), hash) {
                return Err(invalid_client().into());
            }
        }
        Presented::Assertion { assertion }
            if registered == TokenEndpointAuthMethod::PrivateKeyJwt =>
        {
            check_assertion(state, &client, &assertion, now).await?;
        }
        _ => return Err(invalid_client().into()),
    }
    Ok(client)
}

/// The `sub` of an assertion (unverified; used to find the client whose keys
/// then verify it).
fn assertion_subject(assertion: &str) -> Result<String, OAuthError> {
    if assertion.len() > MAX_ASSERTION_BYTES {
        return Err(OAuthError::invalid_client(format!(
            "client_assertion must be at most {MAX_ASSERTION_BYTES} bytes."
        )));
    }
    let (_, claims) = decode_unverified(assertion).map_err(|_| invalid_client())?;
    claims
        .get("sub")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(invalid_client)
}

/// The `aud` values a client assertion may carry: the issuer, the token
/// endpoint, and `https://<host>/` (auth0-python builds that even over http).
fn acceptable_audiences(issuer: &str) -> Vec<String> {
    let host = issuer
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("");
    vec![
        issuer.to_string(),
        format!("{issuer}oauth/token"),
        format!("https://{host}/"),
    ]
}

/// RFC 7523 §3 with Auth0's limits: signature by a registered key, iss = sub =
/// client_id, our audience, at most 5 minutes of life, and a `jti` never seen.
async fn check_assertion(
    state: &AppState,
    client: &Client,
    assertion: &str,
    now: i64,
) -> Result<(), ApiError> {
    let (header, _) = decode_unverified(assertion).map_err(|_| invalid_client())?;
    let claims = client
        .client_authentication_keys
        .iter()
        .filter(|k| header.kid.is_none() || k.kid.is_none() || k.kid == header.kid)
        .filter_map(|k| VerifyingKey::from_jwk(&k.jwk).ok())
        .find_map(|key| verify_jwt(assertion, &key, ASSERTION_ALGS).ok())
        .ok_or_else(invalid_client)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(client.client_id.as_str())
        || text("sub") != Some(client.client_id.as_str())
    {
        return Err(invalid_client().into());
    }
    let audiences = acceptable_audiences(state.issuer());
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audiences.contains(a),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|a| audiences.iter().any(|x| x == a)),
        _ => false,
    };
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(invalid_client)?;
    let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or(now);
    let jti = text("jti").ok_or_else(invalid_client)?;
    if !aud_ok
        || exp <= now
        || exp.saturating_sub(iat) > MAX_ASSERTION_LIFETIME
        || exp.saturating_sub(now) > MAX_ASSERTION_LIFETIME
    {
        return Err(invalid_client().into());
    }
    if !state.store().use_jti(&client.client_id, jti, exp).await? {
        return Err(invalid_client().into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_style_audience_is_accepted() {
        let auds = acceptable_audiences("http://127.0.0.1:8080/");
        assert!(auds.contains(&"https://127.0.0.1:8080/".to_string()));
        assert!(auds.contains(&"http://127.0.0.1:8080/oauth/token".to_string()));
    }

    #[test]
    fn basic_header_is_url_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = STANDARD.encode("my%3Aclient:s%2Bcret");
        headers.insert(AUTHORIZATION, format!("Basic {encoded}").parse().unwrap());
        let (id, secret) = basic_credentials(&headers).unwrap().unwrap();
        assert_eq!(id, "my:client");
        assert_eq!(secret, "s+cret");
    }
}
