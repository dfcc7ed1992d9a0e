//! Gatehouse's HTTP surface.
//!
//! - [`state`]: [`AppState`], what every handler shares (store, keys, issuer).
//! - [`keys`]: the key ring: signing keys loaded from the store, generated at
//!   first start, published as JWKS.
//! - [`error`]: rendering OAuth errors (`{error, error_description}`) and
//!   internal failures, in one place.
//! - [`extract`]: request parameters from form or JSON bodies, with OAuth errors
//!   for malformed input.
//! - [`middleware`]: request ids, one log line per request, security headers.
//! - [`routes`]: one module per endpoint family.
//! - [`serve()`]: run a router on a listener, with optional TLS and graceful shutdown.

pub mod error;
pub mod extract;
pub mod keys;
pub mod middleware;
pub mod routes;
pub mod serve;
pub mod state;

pub use routes::router;
pub use serve::{load_tls, serve, ServeError};
pub use state::AppState;
