//! What the guard accepts, with the defaults documented on each setting.
//!
//! Only the issuer and one audience are required:
//! `GuardConfig::new("https://tenant.example/", "https://api.example/")`.

use crate::algorithm::Algorithm;
use std::time::Duration;

/// Default clock leeway for `exp` and `nbf`: 60 seconds, the same as the
/// `jsonwebtoken` crate's default.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// Default cap on a token's length, checked before any decoding: 16 KiB.
/// An Auth0 access token is under 2 KiB, one with many permissions a few KiB.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Default least time between two fetches of the JWKS caused by tokens
/// with an unknown `kid`: 10 seconds.
pub const DEFAULT_REFETCH_INTERVAL: Duration = Duration::from_secs(10);
/// Default age after which cached keys are refreshed in the background, so
/// a key the issuer stopped publishing stops being accepted: 10 minutes.
pub const DEFAULT_MAX_KEY_AGE: Duration = Duration::from_secs(600);
/// Default time limit for fetching discovery and the JWKS together: 5 seconds.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The guard's settings: a builder, consumed by [`crate::Guard::new`].
#[derive(Clone, Debug)]
pub struct GuardConfig {
    pub(crate) issuer: String,
    pub(crate) audiences: Vec<String>,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) leeway_seconds: i64,
    pub(crate) require_at_jwt: bool,
    pub(crate) max_token_bytes: usize,
    pub(crate) jwks_uri: Option<String>,
    pub(crate) refetch_interval: Duration,
    pub(crate) max_key_age: Duration,
    pub(crate) fetch_timeout: Duration,
    pub(crate) realm: Option<String>,
    pub(crate) tls_config: Option<rustls::ClientConfig>,
}

impl GuardConfig {
    /// Tokens from `issuer` (compared exactly with `iss`: Auth0 and
    /// Gatehouse issuers end with `/`) for the API `audience`. The JWKS is
    /// found through `<issuer>/.well-known/openid-configuration`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        let audience = audience.into();
        Self {
            issuer: issuer.into(),
            realm: Some(audience.clone()),
            audiences: vec![audience],
            algorithms: Algorithm::DEFAULT_ALLOWED.to_vec(),
            leeway_seconds: seconds(DEFAULT_LEEWAY),
            require_at_jwt: false,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            jwks_uri: None,
            refetch_interval: DEFAULT_REFETCH_INTERVAL,
            max_key_age: DEFAULT_MAX_KEY_AGE,
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
            tls_config: None,
        }
    }

    /// Accepts tokens for this audience too (a token's `aud` must name at
    /// least one of them).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// The `alg` allow-list (default: RS256, PS256, ES256, EdDSA). HMAC and
    /// `none` cannot be listed: [`Algorithm`] has no such variants.
    pub fn algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = algorithms.to_vec();
        self
    }

    /// Clock leeway for `exp` and `nbf` (default [`DEFAULT_LEEWAY`]).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway_seconds = seconds(leeway);
        self
    }

    /// Requires the RFC 9068 header `typ: at+jwt` (or `application/at+jwt`).
    /// Off by default: Auth0's tokens, and Gatehouse's in its default
    /// `access_token` dialect, say `typ: JWT`; only APIs set to the
    /// `rfc9068_profile` dialects get `at+jwt`. Even when off, a `typ` other
    /// than `JWT` or `at+jwt` (an ID token is `JWT` too, but has another
    /// `aud`; a logout token or a DPoP proof is not `JWT`) is refused.
    pub fn require_rfc9068_typ(mut self, required: bool) -> Self {
        self.require_at_jwt = required;
        self
    }

    /// Cap on a token's length in bytes (default [`DEFAULT_MAX_TOKEN_BYTES`]).
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        self.max_token_bytes = bytes;
        self
    }

    /// Fetch the JWKS from this URL instead of reading `jwks_uri` from the
    /// issuer's discovery document.
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(uri.into());
        self
    }

    /// Least time between two JWKS fetches caused by an unknown `kid`
    /// (default [`DEFAULT_REFETCH_INTERVAL`]). Tokens naming keys that do not
    /// exist cause at most one fetch per interval, however many arrive.
    pub fn refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// Age after which cached keys are refreshed in the background while
    /// requests go on with the cached ones (default [`DEFAULT_MAX_KEY_AGE`]).
    pub fn max_key_age(mut self, age: Duration) -> Self {
        self.max_key_age = age;
        self
    }

    /// Time limit for one refresh: discovery and the JWKS together (default
    /// [`DEFAULT_FETCH_TIMEOUT`]). A request waiting for keys waits no longer.
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// The `realm` of the `WWW-Authenticate` challenge (default: the first
    /// audience); `None` leaves it out.
    pub fn realm(mut self, realm: Option<String>) -> Self {
        self.realm = realm;
        self
    }

    /// The TLS configuration for fetching discovery and the JWKS over
    /// HTTPS. By default: rustls on the aws-lc-rs provider with the
    /// system's root certificates (`SSL_CERT_FILE` and `SSL_CERT_DIR` are
    /// honoured). Give your own to trust a private CA in code.
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls_config = Some(config);
        self
    }
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}
