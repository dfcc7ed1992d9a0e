//! Running the router: plain HTTP or TLS (rustls), with graceful shutdown.
//!
//! `serve` takes an already-bound listener so tests can bind `127.0.0.1:0`
//! and read the port before the server starts.

use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use std::future::Future;
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

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

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight
/// requests finish (up to 10 s).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<RustlsConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    listener.set_nonblocking(true)?;
    let handle = Handle::new();
    let on_shutdown = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        on_shutdown.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    match tls {
        Some(config) => {
            axum_server::from_tcp_rustls(listener, config)
                .handle(handle)
                .serve(service)
                .await?
        }
        None => {
            axum_server::from_tcp(listener)
                .handle(handle)
                .serve(service)
                .await?
        }
    }
    Ok(())
}
