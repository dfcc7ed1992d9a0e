//! `/.well-known/openid-configuration`, `/.well-known/oauth-authorization-server`
//! and `/.well-known/jwks.json` (auth0-compat.md §5).

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
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

/// The discovery document for each value of the tenant flag, serialised once:
/// it depends only on the issuer and the flag.
pub struct DiscoveryDocuments {
    with_end_session: Bytes,
    without_end_session: Bytes,
}

impl DiscoveryDocuments {
    pub fn new(issuer: &str) -> Self {
        let serialise = |end_session| {
            let served = Served {
                end_session,
                ..SERVED
            };
            Bytes::from(serde_json::to_vec(&document(issuer, served)).unwrap_or_default())
        };
        Self {
            with_end_session: serialise(true),
            without_end_session: serialise(false),
        }
    }

    fn get(&self, end_session: bool) -> Bytes {
        if end_session {
            self.with_end_session.clone()
        } else {
            self.without_end_session.clone()
        }
    }
}

pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    let tenant = match state.store().tenant_settings().await {
        Ok(t) => t,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let document = state
        .discovery()
        .get(tenant.flags.rp_logout_end_session_endpoint_discovery);
    (
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::CONTENT_TYPE, "application/json"),
        ],
        document,
    )
        .into_response()
}

pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::CONTENT_TYPE, "application/json"),
        ],
        state.keys().jwks(),
    )
}
