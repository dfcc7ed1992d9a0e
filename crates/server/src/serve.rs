//! Running the router: plain HTTP or TLS (rustls), with graceful shutdown and
//! the transport limits of [`ServeOptions`].
//!
//! `serve` takes an already-bound listener so tests can bind `127.0.0.1:0`
//! and read the port before the server starts.
//!
//! Limits (each configurable; `gatehouse serve --help`):
//! - a connection must send its first byte, and an HTTP/1.1 request its whole
//!   header, within `header_timeout`; hyper runs that timer while an idle
//!   keep-alive connection waits for its next request too, so it is also the
//!   keep-alive idle limit; a TLS handshake gets the same time;
//! - a request body must arrive completely within `body_timeout`, else 408
//!   ([`crate::limits`], which also caps body sizes per surface);
//! - at most `max_connections` connections are served at once. Further
//!   connections are accepted by the kernel but wait, unserved, for a free
//!   slot for up to `header_timeout`, then are closed: a short burst is
//!   absorbed, a flood costs one socket per connection for a bounded time.
//!   Reaching the cap is logged at most once a minute.
//! - the plain listener serves HTTP/1.1 only: a connection opening with the
//!   HTTP/2 preface (h2c, prior knowledge) gets 505 and is closed (hyper-util's
//!   `http1_only` is ignored by the upgrade-capable connection axum-server uses);
//! - HTTP/2 over TLS has no header timer in hyper; its connections count
//!   against the same cap, carry at most [`MAX_H2_STREAMS`] streams at once,
//!   and are pinged every `header_timeout`: a peer that does not answer within
//!   `header_timeout` is closed. hyper has no idle timeout for a live HTTP/2
//!   peer that answers pings, so the gate adds one: a connection with no
//!   request in flight for `header_timeout` is closed (for HTTP/1.1 this
//!   coincides with hyper's header timer).

use axum::http::{header, HeaderValue};
use axum::Router;
use axum_server::accept::Accept;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use axum_server::Handle;
use gatehouse_core::clock::{Clock, SystemClock};
use std::future::Future;
use std::io;
use std::net::TcpListener;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tower_http::set_header::SetResponseHeaderLayer;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot read TLS certificate {cert} / key {key}: {reason}")]
    Tls {
        cert: String,
        key: String,
        reason: String,
    },
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Connection and request limits; [`Default`] is what `gatehouse serve` uses
/// without flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// Time for a connection's first byte, a TLS handshake, and each
    /// HTTP/1.1 request header (including the wait for the next request on
    /// a keep-alive connection).
    pub header_timeout: Duration,
    /// Time for a whole request body to arrive.
    pub body_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Proxies whose `X-Forwarded-For` names the client ([`crate::client_ip`]).
    pub trusted_proxies: crate::client_ip::TrustedProxies,
}

pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Concurrent streams of one HTTP/2 connection.
pub const MAX_H2_STREAMS: u32 = 32;

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            trusted_proxies: Default::default(),
        }
    }
}

/// Loads a PEM certificate chain and private key.
pub async fn load_tls(cert: &Path, key: &Path) -> Result<RustlsConfig, ServeError> {
    // rustls needs a process-wide crypto provider; aws-lc-rs is ours.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    RustlsConfig::from_pem_file(cert, key)
        .await
        .map_err(|e| ServeError::Tls {
            cert: cert.display().to_string(),
            key: key.display().to_string(),
            reason: e.to_string(),
        })
}

/// [`serve_with`] with [`ServeOptions::default`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<RustlsConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    serve_with(listener, app, tls, shutdown, ServeOptions::default()).await
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight
/// requests finish (up to 10 s).
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    tls: Option<RustlsConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> Result<(), ServeError> {
    listener.set_nonblocking(true)?;
    let handle = Handle::new();
    let on_shutdown = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        on_shutdown.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let mut app = app
        .layer(axum::Extension(crate::limits::BodyDeadline(
            options.body_timeout,
        )))
        .layer(axum::Extension(options.trusted_proxies.clone()));
    if tls.is_some() {
        // Over TLS, browsers are told to use https only for a year.
        app = app.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let gate = ConnectionGate::new(&options, tls.is_none());
    let mut server = axum_server::from_tcp(listener).handle(handle);
    server
        .http_builder()
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(options.header_timeout);
    server
        .http_builder()
        .http2()
        .timer(hyper_util::rt::TokioTimer::new())
        .max_concurrent_streams(MAX_H2_STREAMS)
        .keep_alive_interval(options.header_timeout)
        .keep_alive_timeout(options.header_timeout);
    match tls {
        Some(config) => {
            let acceptor = RustlsAcceptor::new(config)
                .handshake_timeout(options.header_timeout)
                .acceptor(gate);
            server.acceptor(acceptor).serve(service).await?
        }
        None => server.acceptor(gate).serve(service).await?,
    }
    Ok(())
}

/// Admits at most `max_connections` connections at once; see the module docs.
#[derive(Clone)]
struct ConnectionGate {
    slots: Arc<Semaphore>,
    max_connections: usize,
    wait: Duration,
    /// Seconds since the Unix epoch of the last "cap reached" warning.
    last_warning: Arc<AtomicU64>,
    /// Plain listener: refuse the HTTP/2 preface.
    http1_only: bool,
}

const CAP_WARNING_INTERVAL_SECS: u64 = 60;

impl ConnectionGate {
    fn new(options: &ServeOptions, http1_only: bool) -> Self {
        let max_connections = options.max_connections.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            slots: Arc::new(Semaphore::new(max_connections)),
            max_connections,
            wait: options.header_timeout,
            last_warning: Arc::new(AtomicU64::new(0)),
            http1_only,
        }
    }

    fn warn_cap_reached(&self) {
        let now = SystemClock.now().max(0) as u64;
        let last = self.last_warning.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= CAP_WARNING_INTERVAL_SECS
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                max_connections = self.max_connections,
                "connection limit reached: new connections wait for a free slot"
            );
        }
    }

    async fn admit(self, stream: TcpStream) -> io::Result<Admitted> {
        let slot = match self.slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                self.warn_cap_reached();
                tokio::time::timeout(self.wait, self.slots.clone().acquire_owned())
                    .await
                    .map_err(|_| timed_out("no free connection slot"))?
                    .map_err(io::Error::other)?
            }
        };
        // Nothing below (hyper's protocol detection) has a timer of its own.
        let opening = match tokio::time::timeout(self.wait, self.opening(&stream)).await {
            Ok(Ok(opening)) => opening,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(timed_out("no request within the header timeout")),
        };
        if opening == Opening::Http2Preface {
            let mut stream = stream;
            let _ = stream.write_all(HTTP2_REFUSED).await;
            let _ = stream.shutdown().await;
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "HTTP/2 on the plain listener",
            ));
        }
        Ok(Admitted {
            stream,
            activity: Arc::new(Activity::new()),
            idle_limit: self.wait,
            idle_timer: Box::pin(tokio::time::sleep(self.wait)),
            _slot: slot,
        })
    }

    /// Waits for the connection's first bytes; on the plain listener, until
    /// they either are the HTTP/2 preface or cannot become it.
    async fn opening(&self, stream: &TcpStream) -> io::Result<Opening> {
        let mut seen = [0u8; HTTP2_PREFACE.len()];
        loop {
            let n = stream.peek(&mut seen).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if !self.http1_only || !HTTP2_PREFACE.starts_with(&seen[..n]) {
                return Ok(Opening::Other);
            }
            if n == HTTP2_PREFACE.len() {
                return Ok(Opening::Http2Preface);
            }
            // A prefix of the preface ("P", "PRI * …"): peek returns at once
            // while those bytes wait unread, so wait a little for more.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Opening {
    Http2Preface,
    Other,
}

const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const HTTP2_REFUSED: &[u8] =
    b"HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

fn timed_out(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, what)
}

impl<S: Send + 'static> Accept<TcpStream, S> for ConnectionGate {
    type Stream = Admitted;
    type Service = Tracked<S>;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Admitted, Tracked<S>)>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let gate = self.clone();
        Box::pin(async move {
            let admitted = gate.admit(stream).await?;
            let activity = admitted.activity.clone();
            Ok((
                admitted,
                Tracked {
                    inner: service,
                    activity,
                },
            ))
        })
    }
}

/// The requests in flight on one connection, and since when it has had none.
struct Activity {
    in_flight: AtomicUsize,
    idle_since: Mutex<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
        }
    }

    /// When the connection counts as idle for too long; `None` while a
    /// request is in flight.
    fn idle_deadline(&self, limit: Duration) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        Some(*self.idle_since.lock().unwrap_or_else(|p| p.into_inner()) + limit)
    }
}

/// The connection's service, counting its requests in flight.
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: tower::Service<R>, R> tower::Service<R> for Tracked<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = TrackedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.activity.in_flight.fetch_add(1, Ordering::AcqRel);
        TrackedFuture {
            inner: Box::pin(self.inner.call(request)),
            _in_flight: InFlight(self.activity.clone()),
        }
    }
}

struct TrackedFuture<F> {
    inner: Pin<Box<F>>,
    _in_flight: InFlight,
}

impl<F: Future> Future for TrackedFuture<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.inner.as_mut().poll(cx)
    }
}

/// One request in flight, until dropped (answered or abandoned).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        *self.0.idle_since.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A connection holding one of the gate's slots until it is dropped.
struct Admitted {
    stream: TcpStream,
    activity: Arc<Activity>,
    idle_limit: Duration,
    idle_timer: Pin<Box<tokio::time::Sleep>>,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for Admitted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Pings keep an HTTP/2 connection reading: only requests count as use.
        if let Some(deadline) = this.activity.idle_deadline(this.idle_limit) {
            this.idle_timer.as_mut().reset(deadline);
            if this.idle_timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(timed_out("no request within the idle limit")));
            }
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Admitted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
