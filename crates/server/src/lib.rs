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
//! - [`limits`]: request body size limits and deadlines, per surface.
//! - [`background`]: key reloads across nodes, lease-guarded purging of expired data.
//! - [`decision`]: gathers the facts for the grant decision and calls it.
//! - [`actions`]: runs a trigger's flow of Actions (post-login, credentials
//!   exchange, pre-user-registration) and folds their effects in.
//! - [`issue`]: mints access, ID and refresh tokens from a decision.
//! - [`simulate`]: the would-be token and its trace, issuing nothing.
//! - [`bootstrap`]: the first start's system API, management client and admin.
//! - [`bearer`]: validates the access tokens Gatehouse issued.
//! - [`audit`]: log events with Auth0's codes and the decision trace.
//! - [`cors`]: per-client origins for browser-called endpoints.
//! - [`password`]: argon2id hashing.
//! - [`client_ip`]: the client's address, through trusted proxies' `X-Forwarded-For`.
//! - [`brute_force`]: failed-login counting and blocking, shared by the password grant and the login page.
//! - [`rate_limit`]: per-IP, per-account and per-client rate limits shared by all nodes.
//! - [`session`]: the SSO session cookie and CSRF tokens for the pages.
//! - [`pages`]: server-rendered pages (MiniJinja templates embedded in the binary).
//! - [`actions_admin`]: creating, deploying and binding Actions (Management API and CLI).
//! - [`admin`]: the dashboard at `/admin`, a first-party client of its own tenant.
//! - [`routes`]: one module per endpoint family; the Management API v2 is
//!   [`routes::management`].
//! - [`serve()`]: run a router on a listener, with optional TLS, graceful shutdown
//!   and connection limits ([`ServeOptions`]).

pub mod actions;
pub mod actions_admin;
pub mod admin;
pub mod audit;
pub mod background;
pub mod bearer;
pub mod bootstrap;
pub mod brute_force;
pub mod client_ip;
pub mod cors;
pub mod decision;
pub mod email;
pub mod error;
pub mod explain;
pub mod extract;
pub mod issue;
pub mod keys;
pub mod limits;
pub mod middleware;
pub mod pages;
pub mod password;
pub mod rate_limit;
pub mod routes;
pub mod serve;
pub mod session;
pub mod signup;
pub mod simulate;
pub mod state;

pub use routes::{router, router_with};
pub use serve::{load_tls, serve, serve_with, ServeError, ServeOptions};
pub use state::AppState;
