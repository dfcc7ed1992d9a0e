//! Gatehouse guard: the library a Rust API uses to validate Gatehouse (or
//! Auth0) access tokens — JWKS cache, issuer/audience/expiry checks, and scope
//! and permission extractors for axum.
//!
//! Placeholder: it is built by a later issue. It depends on `gatehouse-core`
//! only (never on sqlx or the server), so an API that embeds it compiles fast.

#![deny(missing_docs)]
// Tests may unwrap and index: a panic there is a failed test.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]
