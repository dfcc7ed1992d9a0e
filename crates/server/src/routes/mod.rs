//! The router: one module per endpoint family; paths come from
//! [`gatehouse_core::discovery`] so the discovery document cannot drift.

pub mod activate;
pub mod authorize;
pub mod consent;
pub mod device;
pub mod discovery;
pub mod health;
pub mod introspect;
pub mod login;
pub mod logout;
pub mod management;
pub mod revoke;
pub mod token;
pub mod userinfo;

use crate::pages::paths::{ACTIVATE_PATH, CONSENT_PATH, LOGIN_PATH, SIGNUP_PATH, STYLESHEET_PATH};
use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;
use gatehouse_core::discovery as paths;

/// Where the Management API v2 lives.
pub const MANAGEMENT_BASE: &str = "/api/v2";

/// Every route Gatehouse serves, with its middleware.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route(
            paths::OPENID_CONFIGURATION,
            get(discovery::openid_configuration),
        )
        .route(
            paths::OAUTH_AUTHORIZATION_SERVER,
            get(discovery::openid_configuration),
        )
        .route(paths::JWKS, get(discovery::jwks))
        .route(
            paths::TOKEN,
            post(token::token).options(crate::cors::preflight),
        )
        .route(
            paths::DEVICE_CODE,
            post(device::device_code).options(crate::cors::preflight),
        )
        .route(
            paths::USERINFO,
            get(userinfo::userinfo_handler)
                .post(userinfo::userinfo_handler)
                .options(crate::cors::preflight),
        )
        .route(
            paths::REVOKE,
            post(revoke::revoke).options(crate::cors::preflight),
        )
        .route(paths::INTROSPECT, post(introspect::introspect))
        .route(paths::AUTHORIZE, get(authorize::authorize))
        .route(LOGIN_PATH, get(login::login_page).post(login::login_submit))
        .route(
            SIGNUP_PATH,
            get(login::signup_page).post(login::signup_submit),
        )
        .route(
            CONSENT_PATH,
            get(consent::consent_page).post(consent::consent_submit),
        )
        .route(
            ACTIVATE_PATH,
            get(activate::activate_page).post(activate::activate_submit),
        )
        .route(paths::V2_LOGOUT, get(logout::v2_logout))
        .route(
            paths::END_SESSION,
            get(logout::oidc_logout).post(logout::oidc_logout),
        )
        .route(
            paths::END_SESSION_CONFIRM,
            post(logout::oidc_logout_confirm),
        )
        .route(STYLESHEET_PATH, get(crate::pages::stylesheet))
        .route(paths::HEALTHZ, get(health::healthz))
        .route(paths::READYZ, get(health::readyz))
        .nest(MANAGEMENT_BASE, management::router(&state))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(crate::limits::limit_body));
    crate::middleware::wrap(routes).with_state(state)
}

async fn not_found() -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    (
        axum::http::StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"error": "not_found", "error_description": "Not Found"})),
    )
}
