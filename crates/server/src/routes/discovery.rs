//! `/.well-known/openid-configuration`, `/.well-known/oauth-authorization-server`
//! and `/.well-known/jwks.json` (auth0-compat.md §5).

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_core::discovery::{document, Served};

/// What this build serves; `end_session` is advertised only with the tenant
/// flag `rp_logout_end_session_endpoint_discovery`, as in Auth0.
pub const SERVED: Served = Served {
    token: true,
    device: true,
    userinfo: true,
    revoke: true,
    introspect: true,
    authorize: true,
    end_session: true,
};

pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    let tenant = match state.store().tenant_settings().await {
        Ok(t) => t,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let served = Served {
        end_session: tenant.flags.rp_logout_end_session_endpoint_discovery,
        ..SERVED
    };
    (
        [(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
        Json(document(state.issuer(), served)),
    )
        .into_response()
}

pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        Json(state.keys().jwks()),
    )
}
