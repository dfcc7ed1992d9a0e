//! axum integration: [`Claims`] is an extractor.
//!
//! The guard reaches the extractor through the router's state, the axum 0.8
//! way: [`Guard`] must be obtainable with [`FromRef`] from the state. A
//! router whose state *is* the guard (`Router::new()….with_state(guard)`)
//! satisfies that at once; an app with its own state struct adds
//! `#[derive(FromRef)]` or an `impl FromRef<AppState> for Guard`.
//!
//! A handler that takes `Claims` runs only for a valid token; otherwise the
//! request gets the RFC 6750 answer ([`AuthError`]). Scope and permission
//! checks are one line in the handler: `claims.require_scope("read:x")?`.

use crate::claims::Claims;
use crate::error::AuthError;
use crate::guard::Guard;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

impl<S> FromRequestParts<S> for Claims
where
    Guard: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Guard::from_ref(state).authenticate(&parts.headers).await
    }
}
