//! Gatehouse core: the protocol, with no I/O.
//!
//! Everything here is pure: the HTTP layer gathers inputs (from the request and
//! the store), calls into this crate, and renders what comes back.
//!
//! - [`actions`]: what an Action's calls may change, under Auth0's claim rules.
//! - [`error`]: the OAuth error type and the exact strings SDKs match on.
//! - [`scope`]: scopes as a typed set.
//! - [`model`]: tenant settings, clients, APIs, grants, users, roles, shaped like Auth0's.
//! - [`grant`]: the grant decision (audience, scopes, permissions, token format) and its trace.
//! - [`explain`]: a token or a refusal explained in words, from its trace and checks.
//! - [`jose`]: signing keys, JWKS, JWT signing and verification.
//! - [`claims`]: access-token and ID-token claim sets.
//! - [`discovery`]: the endpoint paths and the OpenID discovery document.
//! - [`request`]: token requests parsed into one variant per grant.
//! - [`pkce`]: RFC 7636 verifier checks.
//! - [`password_policy`]: what a new password must be.
//! - [`secret`]: hashing high-entropy secrets, constant-time comparison.
//! - [`sealing`]: AES-256-GCM sealing of private keys at rest under the master key.
//! - [`time`]: timestamps as Auth0 writes them.
//! - [`clock`]: where the current time comes from (the system, or a test's hand).
//! - [`redact`]: [`redact::Secret`], secrets in memory that never print.
//! - [`ids`]: random identifiers and secrets.
//! - [`log_query`]: the `q` of the log search, parsed into a filter.
//! - [`user_query`]: the `q` and `sort` of the user search, parsed into terms.

#![deny(missing_docs)]
// Tests may unwrap and index: a panic there is a failed test.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod actions;
pub mod claims;
pub mod clock;
pub mod discovery;
pub mod error;
pub mod explain;
pub mod grant;
pub mod ids;
pub mod jose;
pub mod log_query;
pub mod model;
pub mod password_policy;
pub mod pkce;
pub mod redact;
pub mod request;
pub mod scope;
pub mod sealing;
pub mod secret;
pub mod time;
pub mod user_query;

pub use error::{ErrorCode, OAuthError};
pub use scope::ScopeSet;
