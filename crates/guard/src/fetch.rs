//! Fetching the issuer's keys: discovery (`jwks_uri`), then the JWKS.
//!
//! Each response is read up to a size cap, so a misbehaving endpoint cannot
//! fill the API's memory. The default HTTP client is rustls on the aws-lc-rs
//! provider with the system's root certificates, loaded by
//! `rustls-native-certs` (which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`):
//! Auth0 is HTTPS-only, and a local Gatehouse with a development CA works
//! once that CA is in `SSL_CERT_FILE`.

use crate::jwk::KeySet;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// The largest discovery document or JWKS the guard reads.
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// Why the keys could not be fetched; logged, never sent to clients.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Connection, TLS or protocol failure (or the client's own timeout).
    #[error("request to {url} failed: {source}")]
    Http {
        /// The URL requested.
        url: String,
        /// The cause.
        source: reqwest::Error,
    },
    /// A status other than 200.
    #[error("{url} answered {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The body exceeded the size cap.
    #[error("{url} sent more than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge {
        /// The URL requested.
        url: String,
    },
    /// The body is not the JSON expected.
    #[error("{url} did not answer with {what}: {source}")]
    NotJson {
        /// The URL requested.
        url: String,
        /// What was expected.
        what: &'static str,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The discovery document names another issuer (OpenID Connect
    /// Discovery §4.3): the configured issuer is probably missing its `/`.
    #[error(
        "discovery names the issuer {found:?}, but the guard is configured with {configured:?}"
    )]
    IssuerMismatch {
        /// What the document says.
        found: String,
        /// What the guard was given.
        configured: String,
    },
    /// Discovery and the JWKS took longer than the fetch timeout.
    #[error("fetching the keys took longer than {0:?}")]
    Timeout(Duration),
    /// The default HTTP client could not be built.
    #[error("building the HTTP client: {0}")]
    Client(String),
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// Fetches the issuer's discovery document and JWKS.
pub(crate) struct Fetcher {
    http: reqwest::Client,
    issuer: String,
}

impl Fetcher {
    pub(crate) fn new(http: reqwest::Client, issuer: String) -> Self {
        Self { http, issuer }
    }

    /// `jwks_uri` from `<issuer>/.well-known/openid-configuration`, after
    /// checking that the document is the issuer's own.
    pub(crate) async fn jwks_uri(&self) -> Result<String, FetchError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let body = self.get(&url).await?;
        let discovery: Discovery =
            serde_json::from_slice(&body).map_err(|source| FetchError::NotJson {
                url: url.clone(),
                what: "a discovery document with issuer and jwks_uri",
                source,
            })?;
        if discovery.issuer != self.issuer {
            return Err(FetchError::IssuerMismatch {
                found: discovery.issuer,
                configured: self.issuer.clone(),
            });
        }
        Ok(discovery.jwks_uri)
    }

    pub(crate) async fn keys(&self, jwks_uri: &str) -> Result<KeySet, FetchError> {
        let body = self.get(jwks_uri).await?;
        KeySet::from_json(&body).map_err(|source| FetchError::NotJson {
            url: jwks_uri.to_string(),
            what: "a JWKS",
            source,
        })
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let http_error = |source| FetchError::Http {
            url: url.to_string(),
            source,
        };
        let mut response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(http_error)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: response.status().as_u16(),
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(http_error)? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(FetchError::TooLarge {
                    url: url.to_string(),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The default client: rustls on aws-lc-rs (never ring), the system's
/// roots, the fetch timeout on every request.
pub(crate) fn default_http_client(timeout: Duration) -> Result<reqwest::Client, FetchError> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::warn!(%error, "gatehouse-guard: reading the system's root certificates");
    }
    // Some system stores hold certificates rustls cannot parse; skip them.
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(added, "gatehouse-guard: root certificates loaded");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Client(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| FetchError::Client(e.to_string()))
}
