//! The router: one module per endpoint family; paths come from
//! [`gatehouse_core::discovery`] so the discovery document cannot drift.

pub mod account;
pub mod activate;
pub mod authorize;
pub mod consent;
pub mod dbconnections;
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

use crate::audit::{name_every_event, name_failed_events, request_scope};
use crate::pages::paths::{
    ACTIVATE_PATH, CONSENT_PATH, EMAIL_VERIFICATION_PATH, LOGIN_PATH, RESET_PASSWORD_PATH,
    RESET_REQUEST_PATH, SIGNUP_PATH, STYLESHEET_PATH,
};
use crate::state::AppState;
use axum::middleware::from_fn;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use gatehouse_core::discovery as paths;

/// Auth0's database-connection signup (Authentication API).
pub const DB_SIGNUP_PATH: &str = "/dbconnections/signup";
/// Auth0's password-reset request (Authentication API).
pub const DB_CHANGE_PASSWORD_PATH: &str = "/dbconnections/change_password";

/// Where the Management API v2 lives.
pub const MANAGEMENT_BASE: &str = "/api/v2";

/// Every route Gatehouse serves, with its middleware.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// [`router`] with `extra` routes of the embedding binary (the demo of
/// `gatehouse serve --demo`) behind the same middleware.
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
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
            post(token::token)
                .route_layer(from_fn(name_every_event))
                .options(crate::cors::preflight),
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
        .route(
            DB_SIGNUP_PATH,
            post(dbconnections::signup).options(crate::cors::preflight),
        )
        .route(
            DB_CHANGE_PASSWORD_PATH,
            post(dbconnections::change_password).options(crate::cors::preflight),
        )
        .route(paths::AUTHORIZE, named_failures(get(authorize::authorize)))
        .route(LOGIN_PATH, get(login::login_page).post(login::login_submit))
        .route(
            SIGNUP_PATH,
            get(login::signup_page).post(login::signup_submit),
        )
        .route(
            RESET_REQUEST_PATH,
            get(account::reset_request_page).post(account::reset_request_submit),
        )
        .route(
            RESET_PASSWORD_PATH,
            get(account::reset_password_page).post(account::reset_password_submit),
        )
        .route(EMAIL_VERIFICATION_PATH, get(account::verify_email))
        .route(
            CONSENT_PATH,
            get(consent::consent_page).post(consent::consent_submit),
        )
        .route(
            ACTIVATE_PATH,
            get(activate::activate_page).post(activate::activate_submit),
        )
        .route(paths::V2_LOGOUT, named_failures(get(logout::v2_logout)))
        .route(
            paths::END_SESSION,
            named_failures(get(logout::oidc_logout).post(logout::oidc_logout)),
        )
        .route(
            paths::END_SESSION_CONFIRM,
            named_failures(post(logout::oidc_logout_confirm)),
        )
        .route(STYLESHEET_PATH, get(crate::pages::stylesheet))
        .route(paths::HEALTHZ, get(health::healthz))
        .route(paths::READYZ, get(health::readyz))
        .nest(MANAGEMENT_BASE, management::router(&state))
        .merge(crate::admin::router())
        .merge(extra)
        .fallback(not_found)
        .layer(from_fn(crate::limits::limit_body))
        .layer(from_fn(request_scope));
    crate::middleware::wrap(routes).with_state(state)
}

/// Browser endpoints name their event only on failure.
fn named_failures(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route.route_layer(from_fn(name_failed_events))
}

async fn not_found() -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    (
        axum::http::StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"error": "not_found", "error_description": "Not Found"})),
    )
}
