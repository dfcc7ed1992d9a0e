//! Fetching the issuer's keys: discovery (`jwks_uri`), then the JWKS.
//!
//! Each response is read up to a size cap, so a misbehaving endpoint cannot
//! fill the API's memory; redirects are not followed. HTTPS is rustls on the
//! aws-lc-rs provider (never ring, and no process-wide provider is installed)
//! with the system's root certificates, loaded by `rustls-native-certs`
//! (which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`): Auth0 is HTTPS-only,
//! and a local Gatehouse with a development CA works once that CA is in
//! `SSL_CERT_FILE`. A TLS configuration of your own can replace it
//! ([`crate::GuardConfig::tls_config`]).

use crate::config::{plain_keys_under_tls, url_security, ConfigError, UrlSecurity};
use crate::jwk::KeySet;
use axum::body::Bytes;
use axum::http::{header, HeaderValue, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The largest discovery document or JWKS the guard reads.
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// Why the keys could not be fetched; logged, never sent to clients.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not a URL the guard can fetch.
    #[error("{url} is not an http(s) URL")]
    BadUrl {
        /// The URL.
        url: String,
    },
    /// Connection, TLS or protocol failure.
    #[error("request to {url} failed: {message}")]
    Http {
        /// The URL requested.
        url: String,
        /// The cause.
        message: String,
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
    /// Plain HTTP where it is not allowed: to another machine without
    /// [`crate::GuardConfig::allow_insecure_http`], or a `jwks_uri` over
    /// `http` named by an `https` issuer.
    #[error("{url} is plain HTTP, which the guard does not trust here")]
    Insecure {
        /// The URL.
        url: String,
    },
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// Fetches the issuer's discovery document and JWKS.
pub(crate) struct Fetcher {
    tls: TlsConnector,
    issuer: String,
    allow_insecure_http: bool,
}

/// A connection, plain or TLS.
trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connection for T {}

impl Fetcher {
    /// A fetcher for `issuer`'s documents over `tls`, or plain HTTP to
    /// this machine (or anywhere, with `allow_insecure_http`).
    pub(crate) fn new(
        tls: rustls::ClientConfig,
        issuer: String,
        allow_insecure_http: bool,
    ) -> Self {
        Self {
            tls: TlsConnector::from(Arc::new(tls)),
            issuer,
            allow_insecure_http,
        }
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
        if plain_keys_under_tls(&self.issuer, &discovery.jwks_uri) {
            return Err(FetchError::Insecure {
                url: discovery.jwks_uri,
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

    /// One `GET` on a fresh connection (fetches are rare: no pool to
    /// keep). Everything, the connection included, lives in this future, so
    /// the caller's timeout cancels all of it.
    async fn get(&self, url: &str) -> Result<Bytes, FetchError> {
        let failed = |message: String| FetchError::Http {
            url: url.to_string(),
            message,
        };
        match url_security(url) {
            None => return Err(bad_url(url)),
            Some(UrlSecurity::PlainRemote) if !self.allow_insecure_http => {
                return Err(FetchError::Insecure { url: url.into() })
            }
            Some(_) => {}
        }
        let uri: Uri = url.parse().map_err(|_| bad_url(url))?;
        let authority = uri.authority().ok_or_else(|| bad_url(url))?;
        let io = self.connect(url, &uri).await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| failed(error_chain(&e)))?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let host_header = HeaderValue::from_str(authority.as_str()).map_err(|_| bad_url(url))?;
        let request = Request::get(path)
            .header(header::HOST, host_header)
            .header(header::ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|e| failed(e.to_string()))?;
        let exchange = async {
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| failed(error_chain(&e)))?;
            read_ok_body(response, url).await
        };
        tokio::pin!(exchange, connection);
        tokio::select! {
            biased;
            result = &mut exchange => result,
            // The connection ended first (closed after the answer, or
            // broken): the exchange has its bytes or its error by now.
            _ = &mut connection => exchange.await,
        }
    }

    /// A TCP connection to the URL's host, with TLS for `https`.
    async fn connect(&self, url: &str, uri: &Uri) -> Result<Box<dyn Connection>, FetchError> {
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad_url(url)),
        };
        let authority = uri.authority().ok_or_else(|| bad_url(url))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let failed = |message: String| FetchError::Http {
            url: url.to_string(),
            message,
        };
        let tcp = TcpStream::connect((host, port))
            .await
            .map_err(|e| failed(e.to_string()))?;
        if !https {
            return Ok(Box::new(tcp));
        }
        let name =
            rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|_| bad_url(url))?;
        let tls = self.tls.connect(name, tcp).await;
        Ok(Box::new(tls.map_err(|e| failed(format!("TLS: {e}")))?))
    }
}

/// The body of a 200 answer, up to [`MAX_DOCUMENT_BYTES`].
async fn read_ok_body(
    response: hyper::Response<hyper::body::Incoming>,
    url: &str,
) -> Result<Bytes, FetchError> {
    if response.status() != StatusCode::OK {
        return Err(FetchError::Status {
            url: url.to_string(),
            status: response.status().as_u16(),
        });
    }
    let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                FetchError::TooLarge {
                    url: url.to_string(),
                }
            } else {
                FetchError::Http {
                    url: url.to_string(),
                    message: e.to_string(),
                }
            }
        })?;
    Ok(body.to_bytes())
}

fn bad_url(url: &str) -> FetchError {
    FetchError::BadUrl {
        url: url.to_string(),
    }
}

/// An error and its causes on one line ("client error (Connect): tcp
/// connect error: Connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The default TLS configuration: aws-lc-rs and the system's roots.
pub(crate) fn default_tls_config() -> Result<rustls::ClientConfig, ConfigError> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::warn!(%error, "gatehouse-guard: reading the system's root certificates");
    }
    // Some system stores hold certificates rustls cannot parse; skip them.
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(added, "gatehouse-guard: root certificates loaded");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
