//! `measurements-api`: the example API, on `--listen` (default
//! 127.0.0.1:8081), guarding its routes with tokens of `--issuer` for
//! `--audience`. Prints the bound address on stdout; stops on Ctrl-C or
//! SIGTERM.

use clap::Parser as _;
use measurements_api::{app, guard, Settings};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = Settings::parse();
    match run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("measurements-api: error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings) -> Result<(), String> {
    let guard = guard(&settings).map_err(|e| e.to_string())?;
    let app = app(&settings, guard.clone()).map_err(|e| e.to_string())?;
    // Fetching the keys now shows a wrong issuer at once; an issuer that is
    // not up yet is no reason to stop, as the first token fetches again.
    match guard.refresh_keys().await {
        Ok(count) => println!(
            "measurements-api: {count} signing keys from {}",
            settings.issuer
        ),
        Err(error) => eprintln!(
            "measurements-api: warning: no keys from the issuer yet ({error}); \
             the first request will try again"
        ),
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "measurements-api listening on http://{address} — issuer {} — audience {}",
        settings.issuer, settings.audience
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(stop_signal())
        .await
        .map_err(|e| e.to_string())
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
