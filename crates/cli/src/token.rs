//! `gatehouse token --management`: prints a Management API access token,
//! so a newcomer gets from `gatehouse serve` to `curl …/api/v2/…` without
//! copying secrets by hand.
//!
//! The token is issued by the server's own `/oauth/token` (client
//! credentials), run in this process against the same database and keys a
//! running server uses: no server needs to be reachable, and the token is
//! exactly what that server would issue (same issuer, signing key and grant).
//! The client is the bootstrap management client from
//! `<data-dir>/bootstrap.json` unless `--client-id`/`--client-secret` say
//! otherwise; the issuer is the one the Management API was created under.

use crate::bootstrap_file;
use crate::tenant::LocalTenant;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use gatehouse_server::bootstrap::BootstrapCredentials;
use std::path::Path;
use tower::ServiceExt;

/// The path of the Management API under the issuer.
const MANAGEMENT_PATH: &str = "api/v2/";

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// Print an access token for the Management API (<issuer>api/v2/),
    /// granted every scope of the client's grant
    #[arg(long, required = true)]
    management: bool,
    #[command(flatten)]
    tenant: LocalTenant,
    /// A machine-to-machine client granted the Management API, its secret in
    /// the GATEHOUSE_CLIENT_SECRET variable (never a flag: flags show in `ps`
    /// and shell history) [default: the bootstrap client in
    /// <data-dir>/bootstrap.json]
    #[arg(long)]
    client_id: Option<String>,
    /// The server's public URL, when the Management API is not at the one in
    /// bootstrap.json [default: from bootstrap.json]
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
    public_url: Option<String>,
}

/// Prints the access token (alone on its line, for `TOKEN=$(…)`).
pub async fn run(args: TokenArgs) -> Result<(), String> {
    if !args.management {
        return Err("say which token: --management".into());
    }
    let data_dir = args.tenant.data_dir();
    let (client_id, client_secret, issuer) = client(&args, &data_dir)?;
    let state = args.tenant.open(Some(issuer.clone())).await?;
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", &client_id)
        .append_pair("client_secret", &client_secret)
        .append_pair("audience", &format!("{issuer}{MANAGEMENT_PATH}"))
        .finish();
    let request = Request::post("/oauth/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .map_err(|e| e.to_string())?;
    let response = gatehouse_server::router(state)
        .oneshot(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .map_err(|e| e.to_string())?;
    let reply: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    if status != StatusCode::OK {
        let why = reply["error_description"]
            .as_str()
            .or(reply["error"].as_str())
            .unwrap_or("no reason given");
        return Err(format!(
            "the token request of client {client_id} was refused ({status}): {why}"
        ));
    }
    let token = reply["access_token"]
        .as_str()
        .ok_or("the token response has no access_token")?;
    println!("{token}");
    Ok(())
}

/// Where `--client-id`'s secret comes from.
const CLIENT_SECRET_VARIABLE: &str = "GATEHOUSE_CLIENT_SECRET";

/// (client_id, client_secret, issuer) from the flags, else bootstrap.json.
fn client(args: &TokenArgs, data_dir: &Path) -> Result<(String, String, String), String> {
    let bootstrap = if args.client_id.is_some() && args.public_url.is_some() {
        None
    } else {
        Some(read_bootstrap(data_dir)?)
    };
    let issuer = match (&args.public_url, &bootstrap) {
        (Some(url), _) => crate::config::issuer_from_public_url(url)?,
        (None, Some(b)) => b
            .management_audience
            .strip_suffix(MANAGEMENT_PATH)
            .unwrap_or(&b.management_audience)
            .to_string(),
        (None, None) => return Err("pass --public-url".into()),
    };
    match (&args.client_id, bootstrap) {
        (Some(id), _) => match std::env::var(CLIENT_SECRET_VARIABLE) {
            Ok(secret) if !secret.is_empty() => Ok((id.clone(), secret, issuer)),
            _ => Err(format!(
                "--client-id needs the client's secret in {CLIENT_SECRET_VARIABLE}"
            )),
        },
        (None, Some(b)) => Ok((b.management_client_id, b.management_client_secret, issuer)),
        (None, None) => Err("pass --client-id (with its secret in GATEHOUSE_CLIENT_SECRET)".into()),
    }
}

fn read_bootstrap(data_dir: &Path) -> Result<BootstrapCredentials, String> {
    let path = data_dir.join(bootstrap_file::FILE_NAME);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read {}: {e}; it is written at the first start of `gatehouse serve` \
             (pass --data-dir, or --client-id and --public-url with GATEHOUSE_CLIENT_SECRET)",
            path.display()
        )
    })?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a bootstrap file: {e}", path.display()))
}
