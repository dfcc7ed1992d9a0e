//! `/.well-known/openid-configuration`, `/.well-known/oauth-authorization-server`
//! and `/.well-known/jwks.json` (auth0-compat.md §5).

use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use gatehouse_core::discovery::{document, Served};

/// What this build serves; flipped on as endpoints land.
pub const SERVED: Served = Served {
    token: true,
    device: true,
    userinfo: true,
    revoke: true,
    introspect: true,
};

pub async fn openid_configuration(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
        Json(document(state.issuer(), SERVED)),
    )
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
