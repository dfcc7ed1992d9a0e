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
    pub(crate) allow_insecure_http: bool,
}

/// Why [`crate::Guard::new`] refused a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The issuer is empty.
    #[error("the issuer is empty")]
    EmptyIssuer,
    /// An audience is empty: it would match no token, or a token with an
    /// empty `aud`.
    #[error("an audience is empty")]
    EmptyAudience,
    /// The issuer or the JWKS URL is not an `http` or `https` URL.
    #[error("{url} is not an http(s) URL")]
    BadUrl {
        /// The URL.
        url: String,
    },
    /// Plain HTTP to a host other than this machine: whoever sits on the
    /// path could hand the guard keys of their own and forge every token.
    #[error(
        "{url} is plain HTTP to another machine; use https, or allow it with GuardConfig::allow_insecure_http(true)"
    )]
    InsecureUrl {
        /// The URL.
        url: String,
    },
    /// The TLS configuration could not be built.
    #[error("building the TLS configuration: {0}")]
    Tls(String),
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
            allow_insecure_http: false,
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

    /// Allows discovery and the JWKS over plain HTTP to hosts other than
    /// this machine (default: refused; `http://127.0.0.1`, `http://[::1]`
    /// and `http://localhost` are always allowed, for development). Only
    /// for a network you trust end to end, such as a private service mesh
    /// that encrypts for you.
    pub fn allow_insecure_http(mut self, allowed: bool) -> Self {
        self.allow_insecure_http = allowed;
        self
    }

    /// Checks what [`crate::Guard::new`] needs before any fetch: a
    /// non-empty issuer and audiences, and fetchable URLs.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        if self.issuer.is_empty() {
            return Err(ConfigError::EmptyIssuer);
        }
        if self.audiences.iter().any(String::is_empty) {
            return Err(ConfigError::EmptyAudience);
        }
        let issuer = self.issuer.as_str();
        for url in std::iter::once(issuer).chain(self.jwks_uri.as_deref()) {
            match url_security(url) {
                None => return Err(ConfigError::BadUrl { url: url.into() }),
                Some(UrlSecurity::PlainRemote) if !self.allow_insecure_http => {
                    return Err(ConfigError::InsecureUrl { url: url.into() })
                }
                Some(_) => {}
            }
        }
        if let Some(jwks_uri) = &self.jwks_uri {
            if plain_keys_under_tls(issuer, jwks_uri) && !self.allow_insecure_http {
                return Err(ConfigError::InsecureUrl {
                    url: jwks_uri.clone(),
                });
            }
        }
        Ok(())
    }
}

/// What protects the bytes fetched from a URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UrlSecurity {
    /// `https`.
    Tls,
    /// `http` to this machine (a loopback address or `localhost`).
    PlainLoopback,
    /// `http` to any other host.
    PlainRemote,
}

/// How `url` would be fetched; `None` when it is not an absolute `http(s)`
/// URL with a host and without user information.
pub(crate) fn url_security(url: &str) -> Option<UrlSecurity> {
    let uri: axum::http::Uri = url.parse().ok()?;
    let authority = uri.authority()?;
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return None;
    }
    match uri.scheme_str()? {
        "https" => Some(UrlSecurity::Tls),
        "http" if is_loopback(authority.host()) => Some(UrlSecurity::PlainLoopback),
        "http" => Some(UrlSecurity::PlainRemote),
        _ => None,
    }
}

/// Whether the keys of an `https` issuer would come over plain HTTP, even
/// from this machine: the issuer's TLS would then protect nothing.
pub(crate) fn plain_keys_under_tls(issuer: &str, jwks_uri: &str) -> bool {
    url_security(issuer) == Some(UrlSecurity::Tls)
        && url_security(jwks_uri) != Some(UrlSecurity::Tls)
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_security_of_each_kind_of_url() {
        let cases = [
            ("https://tenant.example/", Some(UrlSecurity::Tls)),
            ("http://127.0.0.1:8080/", Some(UrlSecurity::PlainLoopback)),
            ("http://127.9.9.9/", Some(UrlSecurity::PlainLoopback)),
            ("http://[::1]:8080/", Some(UrlSecurity::PlainLoopback)),
            ("http://LOCALHOST:8080/", Some(UrlSecurity::PlainLoopback)),
            ("http://tenant.example/", Some(UrlSecurity::PlainRemote)),
            (
                "http://localhost.evil.example/",
                Some(UrlSecurity::PlainRemote),
            ),
            ("http://10.0.0.1/", Some(UrlSecurity::PlainRemote)),
            ("https://user:pass@tenant.example/", None),
            ("http://127.0.0.1@evil.example/", None),
            ("ftp://tenant.example/", None),
            ("tenant.example", None),
            ("/relative", None),
            ("", None),
        ];
        for (url, expected) in cases {
            assert_eq!(url_security(url), expected, "{url}");
        }
    }

    #[test]
    fn check_refuses_what_cannot_be_fetched_safely() {
        let ok = |config: GuardConfig| config.check().map_err(|e| e.to_string());
        assert!(ok(GuardConfig::new("https://t.example/", "https://api/")).is_ok());
        assert!(ok(GuardConfig::new("http://127.0.0.1:8080/", "https://api/")).is_ok());
        assert!(matches!(
            GuardConfig::new("", "https://api/").check(),
            Err(ConfigError::EmptyIssuer)
        ));
        assert!(matches!(
            GuardConfig::new("https://t.example/", "").check(),
            Err(ConfigError::EmptyAudience)
        ));
        assert!(matches!(
            GuardConfig::new("https://t.example/", "a")
                .audience("")
                .check(),
            Err(ConfigError::EmptyAudience)
        ));
        assert!(matches!(
            GuardConfig::new("http://t.example/", "a").check(),
            Err(ConfigError::InsecureUrl { .. })
        ));
        assert!(matches!(
            GuardConfig::new("https://t.example/", "a")
                .jwks_uri("http://keys.example/jwks.json")
                .check(),
            Err(ConfigError::InsecureUrl { .. })
        ));
        assert!(matches!(
            GuardConfig::new("https://t.example/", "a")
                .jwks_uri("http://127.0.0.1:8080/jwks.json")
                .check(),
            Err(ConfigError::InsecureUrl { .. })
        ));
        assert!(ok(GuardConfig::new("http://127.0.0.1:8080/", "a")
            .jwks_uri("http://127.0.0.1:8080/jwks.json"))
        .is_ok());
        assert!(ok(GuardConfig::new("http://t.example/", "a").allow_insecure_http(true)).is_ok());
        assert!(matches!(
            GuardConfig::new("t.example", "a").check(),
            Err(ConfigError::BadUrl { .. })
        ));
    }
}
