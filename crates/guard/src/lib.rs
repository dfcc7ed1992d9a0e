//! Validate Gatehouse (or Auth0) access tokens in an axum or tower service.
//!
//! An API protected by Gatehouse or Auth0 receives `Authorization: Bearer
//! <JWT>` and must decide, for every request, whether the token is genuine,
//! meant for it, still valid, and grants what the request needs. The guard
//! does that:
//!
//! - **Keys**: fetched from the issuer's JWKS, found through
//!   `<issuer>/.well-known/openid-configuration`, and cached. An unknown
//!   `kid` fetches them again (key rotation), at most once per refetch
//!   interval and one fetch at a time, so made-up `kid`s cannot make the
//!   API hammer the issuer. The fetch has a timeout; an issuer that is down
//!   or slow yields a prompt 401 and the cached keys keep working.
//! - **Signature**: `alg` must be in the allow-list (default RS256, PS256,
//!   ES256, EdDSA; `none` and HMAC cannot even be named), the key's type and
//!   curve must fit it, and so must the JWK's own `alg`.
//! - **Claims**: `iss` exactly the configured issuer; `aud` (a string or an
//!   array) naming a configured audience; `exp` and `nbf` with a leeway
//!   (default 60 s); the header `typ` that of an access token (`at+jwt`
//!   required on request, RFC 9068).
//! - **Limits**: tokens over 16 KiB are refused before decoding; no input
//!   makes the guard panic.
//! - **Answers**: 401 with `WWW-Authenticate: Bearer …, error="invalid_token",
//!   error_description="…"`, 403 with `error="insufficient_scope"`, per RFC 6750.
//!
//! # Quick start
//!
//! ```no_run
//! use axum::{routing::get, Json, Router};
//! use gatehouse_guard::{AuthError, Claims, Guard, GuardConfig};
//!
//! async fn measurements(claims: Claims) -> Result<Json<Vec<f64>>, AuthError> {
//!     claims.require_scope("read:measurements")?;
//!     Ok(Json(vec![21.5, 22.0]))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = GuardConfig::new("https://tenant.example/", "https://measurements.example/api");
//! let guard = Guard::new(config)?;
//! let app = Router::new()
//!     .route("/api/measurements", get(measurements))
//!     .with_state(guard);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```
//!
//! With an application state of your own, let the guard be taken from it:
//!
//! ```
//! use axum::extract::FromRef;
//! use gatehouse_guard::{Guard, GuardConfig};
//!
//! #[derive(Clone)]
//! struct AppState {
//!     guard: Guard,
//!     greeting: &'static str,
//! }
//!
//! impl FromRef<AppState> for Guard {
//!     fn from_ref(state: &AppState) -> Guard {
//!         state.guard.clone()
//!     }
//! }
//!
//! # fn main() -> Result<(), gatehouse_guard::ConfigError> {
//! let guard = Guard::new(GuardConfig::new("https://tenant.example/", "https://api.example/"))?;
//! let state = AppState { guard, greeting: "hello" };
//! # let _ = state;
//! # Ok(())
//! # }
//! ```
//!
//! Outside axum (any tower service, a gRPC interceptor, …) call
//! [`Guard::authenticate`] with the request's headers, or
//! [`Guard::validate`] with the bare token; an [`AuthError`] knows its
//! status and `WWW-Authenticate` value.
//!
//! # Scopes or permissions
//!
//! Auth0 and Gatehouse put what a token grants in `scope` and, for an API
//! with RBAC and "Add Permissions in the Access Token", in `permissions`.
//! [`Claims::require_scope`] checks the first (as fastapi-auth0 does),
//! [`Claims::require_permission`] the second (as express-jwt-authz does with
//! `customScopeKey: 'permissions'`), [`Claims::require`] accepts either.
//!
//! Which to use depends on the API's settings. With RBAC enabled, a user
//! token's `scope` is cut to what the user's roles permit, so any of the
//! three is sound. With RBAC off, `scope` is whatever the application asked
//! for at login: a scope check then proves the application's intent, not
//! the user's rights, and only machine-to-machine tokens (whose scopes come
//! from the client grant) are limited by it.
//!
//! # Keys when the issuer is down
//!
//! A failed fetch keeps the cached keys, for as long as the issuer stays
//! unreachable: a guard that refused every token during an outage of the
//! issuer would turn it into an outage of the API. The cost is that a key
//! the issuer withdrew during the outage is still accepted until the next
//! successful fetch; each failure is logged at `warn`.
//!
//! # Modules
//!
//! - [`algorithm`]: the allowed signature algorithms and which key fits each.
//! - `jwk`: the JWKS parsed into verification keys.
//! - `validate`: the checks, as small pure steps.
//! - [`claims`]: the validated claims and the scope and permission checks.
//! - [`error`]: why a request is refused and its RFC 6750 answer.
//! - [`config`]: the settings and their defaults.
//! - `fetch` and `cache`: discovery, the JWKS, the cache and its rate limit.
//! - `guard`: [`Guard`] and reading the bearer token.
//! - `extract`: the axum extractor.

#![deny(missing_docs)]
// Tests may unwrap and index: a panic there is a failed test.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod algorithm;
mod cache;
pub mod claims;
pub mod config;
pub mod error;
mod extract;
mod fetch;
mod guard;
mod jwk;
mod validate;

pub use algorithm::Algorithm;
pub use claims::Claims;
pub use config::{ConfigError, GuardConfig};
pub use error::{AuthError, AuthErrorKind, TokenError};
pub use fetch::FetchError;
pub use guard::Guard;
