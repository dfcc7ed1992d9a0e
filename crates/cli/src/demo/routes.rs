//! The demo's pages and API, merged into the server's router only with
//! `--demo`.

use super::world::{DEMO_AUDIENCE, DEMO_CLIENT_ID, READ_SCOPE};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use gatehouse_guard::{AuthError, Guard, GuardConfig};
use gatehouse_server::explain::ExplainError;
use gatehouse_server::AppState;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("demo.js");
const STYLE: &str = include_str!("demo.css");
const AUTH0_SPA_JS: &str = include_str!("auth0-spa-js.production.js");

/// The page may run only its own scripts and talk only to this server; the
/// hidden iframe of silent authentication is this server too.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   frame-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

struct Demo {
    guard: Guard,
    /// What the page needs to log in and to print the explain command.
    page_config: Value,
}

/// `/demo` and its API for the server at `issuer`, whose keys the guard
/// fetches from this very process.
pub fn routes(issuer: &str, data_dir: &Path) -> Result<Router<AppState>, String> {
    // The guard fetches from this process's own listener, named by the
    // issuer (which the demo never lets differ from the bound address): the
    // keys do not leave the machine, even when the issuer names a LAN
    // address, so plain HTTP is allowed.
    let config = GuardConfig::new(issuer, DEMO_AUDIENCE)
        .jwks_uri(format!("{issuer}.well-known/jwks.json"))
        .allow_insecure_http(true);
    let guard = Guard::new(config).map_err(|e| format!("demo API: {e}"))?;
    let demo = Arc::new(Demo {
        guard,
        page_config: json!({
            "clientId": DEMO_CLIENT_ID,
            "audience": DEMO_AUDIENCE,
            "scope": format!("openid profile email {READ_SCOPE}"),
            "dataDir": data_dir.display().to_string(),
        }),
    });
    Ok(Router::new()
        .route("/demo", get(page))
        .route("/demo/config.json", get(page_config))
        .route("/demo/demo.js", get(|| asset("text/javascript", SCRIPT)))
        .route("/demo/demo.css", get(|| asset("text/css", STYLE)))
        .route(
            "/demo/auth0-spa-js.js",
            get(|| asset("text/javascript", AUTH0_SPA_JS)),
        )
        .route("/demo/api/measurements", get(measurements))
        .route("/demo/api/explain", post(explain))
        .layer(Extension(demo)))
}

async fn page() -> Response {
    let mut response = asset("text/html; charset=utf-8", PAGE).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

async fn page_config(Extension(demo): Extension<Arc<Demo>>) -> Json<Value> {
    Json(demo.page_config.clone())
}

/// `GET /demo/api/measurements`: what seed 000's FastAPI answers with
/// fastapi-auth0, `read:measurements` in the token's `scope` or 403.
async fn measurements(
    Extension(demo): Extension<Arc<Demo>>,
    headers: HeaderMap,
) -> Result<Json<Value>, AuthError> {
    let claims = demo.guard.authenticate(&headers).await?;
    claims.require_scope(READ_SCOPE)?;
    Ok(Json(json!({
        "subject": claims.subject(),
        "measurements": [
            {"sensor": "greenhouse", "celsius": 21.5, "at": "2026-12-08T06:00:00Z"},
            {"sensor": "greenhouse", "celsius": 23.0, "at": "2026-12-08T12:00:00Z"},
            {"sensor": "cellar", "celsius": 11.5, "at": "2026-12-08T12:00:00Z"}
        ]
    })))
}

/// `POST /demo/api/explain`: the caller's own access token (valid for the
/// demo API, scopes aside) explained as `gatehouse explain` prints it.
async fn explain(
    State(state): State<AppState>,
    Extension(demo): Extension<Arc<Demo>>,
    headers: HeaderMap,
) -> Result<Json<Value>, Response> {
    let token = demo
        .guard
        .bearer(&headers)
        .map_err(IntoResponse::into_response)?;
    demo.guard
        .validate(token)
        .await
        .map_err(IntoResponse::into_response)?;
    match gatehouse_server::explain::explain(&state, token).await {
        Ok(explanation) => Ok(Json(json!({
            "text": crate::explain::render(&explanation, false),
        }))),
        Err(ExplainError::BadInput(why) | ExplainError::NotFound(why)) => Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "not_explained", "error_description": why})),
        )
            .into_response()),
        Err(ExplainError::Internal(error)) => Err(error.into_response()),
    }
}
