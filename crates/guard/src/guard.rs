//! [`Guard`]: the validator an API holds, and how it reads the bearer token.

use crate::cache::{CacheSettings, KeyCache};
use crate::claims::Claims;
use crate::config::{ConfigError, GuardConfig};
use crate::error::{AuthError, AuthErrorKind, TokenError};
use crate::fetch::{default_tls_config, FetchError, Fetcher};
use crate::validate;
use axum::http::{header, HeaderMap};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Validates access tokens for one issuer and API. Cheap to clone (an
/// `Arc`): build one at startup and share it, so every request uses the
/// same key cache.
#[derive(Clone)]
pub struct Guard {
    inner: Arc<Inner>,
}

struct Inner {
    config: GuardConfig,
    realm: Option<Arc<str>>,
    keys: Arc<KeyCache>,
}

impl Guard {
    /// A guard with `config`. Nothing is fetched yet: the keys are fetched by
    /// the first token, or by [`Guard::refresh_keys`] at startup.
    ///
    /// Fails on an empty issuer or audience, an issuer or JWKS URL that is
    /// not `http(s)`, plain HTTP to another machine (see
    /// [`GuardConfig::allow_insecure_http`]), or a default TLS configuration
    /// that cannot be built.
    pub fn new(mut config: GuardConfig) -> Result<Self, ConfigError> {
        config.check()?;
        let tls = match config.tls_config.take() {
            Some(tls) => tls,
            None => default_tls_config()?,
        };
        let keys = KeyCache::new(
            Fetcher::new(tls, config.issuer.clone(), config.allow_insecure_http),
            CacheSettings {
                jwks_uri: config.jwks_uri.clone(),
                refetch_interval: config.refetch_interval,
                max_key_age: config.max_key_age,
                fetch_timeout: config.fetch_timeout,
            },
        );
        Ok(Self {
            inner: Arc::new(Inner {
                realm: config.realm.as_deref().map(Arc::from),
                config,
                keys: Arc::new(keys),
            }),
        })
    }

    /// Fetches the issuer's keys now; returns how many are usable. Call it
    /// at startup to fail early on a wrong issuer, or leave it to the first
    /// request.
    pub async fn refresh_keys(&self) -> Result<usize, FetchError> {
        self.inner.keys.refresh_now().await
    }

    /// Validates the `Authorization: Bearer …` token of a request.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Claims, AuthError> {
        self.validate(self.bearer(headers)?).await
    }

    /// The token of a request's `Authorization: Bearer …` header, as
    /// [`Guard::authenticate`] reads it, not yet validated: for a handler
    /// that needs the token itself too (to pass it on, or to explain it).
    pub fn bearer<'h>(&self, headers: &'h HeaderMap) -> Result<&'h str, AuthError> {
        bearer_token(headers).map_err(|kind| self.error(kind))
    }

    /// Validates a bare token (what follows `Bearer `).
    pub async fn validate(&self, token: &str) -> Result<Claims, AuthError> {
        self.validate_token(token)
            .await
            .map_err(|why| self.error(AuthErrorKind::InvalidToken(why)))
    }

    async fn validate_token(&self, token: &str) -> Result<Claims, TokenError> {
        let config = &self.inner.config;
        let parsed = validate::parse(token, config)?;
        let key = self
            .inner
            .keys
            .key_for(parsed.kid.as_deref(), parsed.alg)
            .await?;
        validate::verify_signature(&parsed, &key)?;
        validate::check_claims(&parsed, config, self.inner.realm.clone(), now())
    }

    fn error(&self, kind: AuthErrorKind) -> AuthError {
        AuthError::new(kind, self.inner.realm.clone())
    }
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("issuer", &self.inner.config.issuer)
            .field("audiences", &self.inner.config.audiences)
            .finish_non_exhaustive()
    }
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1; the scheme
/// is case-insensitive, and spaces or tabs may separate it from the token).
/// Another scheme, none, or `Bearer` with nothing after it is "no token"
/// (as express-oauth2-jwt-bearer answers); several `Authorization` headers
/// or a value that is not visible ASCII are a malformed request.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthErrorKind> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(AuthErrorKind::MissingToken);
    };
    if values.next().is_some() {
        return Err(AuthErrorKind::InvalidRequest(
            "more than one Authorization header",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| AuthErrorKind::InvalidRequest("the Authorization header is not ASCII"))?;
    let blank = |c: char| c == ' ' || c == '\t';
    let value = value.trim_matches(blank);
    let (scheme, token) = value.split_once(blank).unwrap_or((value, ""));
    let token = token.trim_matches(blank);
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthErrorKind::MissingToken);
    }
    Ok(token)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                header::AUTHORIZATION,
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn reads_the_bearer_token() {
        assert_eq!(bearer_token(&headers(&[b"Bearer abc"])), Ok("abc"));
        assert_eq!(bearer_token(&headers(&[b"bearer abc"])), Ok("abc"));
        assert_eq!(bearer_token(&headers(&[b"Bearer\tabc "])), Ok("abc"));
        assert_eq!(bearer_token(&headers(&[b"Bearer   abc"])), Ok("abc"));
        for no_token in [&b"Bearer"[..], b"Bearer ", b"Bearer \t ", b""] {
            assert_eq!(
                bearer_token(&headers(&[no_token])),
                Err(AuthErrorKind::MissingToken)
            );
        }
        assert_eq!(
            bearer_token(&headers(&[])),
            Err(AuthErrorKind::MissingToken)
        );
        assert_eq!(
            bearer_token(&headers(&[b"Basic dXNlcjpwYXNz"])),
            Err(AuthErrorKind::MissingToken)
        );
        assert!(matches!(
            bearer_token(&headers(&[b"Bearer a", b"Bearer b"])),
            Err(AuthErrorKind::InvalidRequest(_))
        ));
        assert!(matches!(
            bearer_token(&headers(&[b"Bearer \xff"])),
            Err(AuthErrorKind::InvalidRequest(_))
        ));
    }
}
