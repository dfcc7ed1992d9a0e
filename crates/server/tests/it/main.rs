//! The server's one integration-test binary (one binary keeps link time down on
//! two cores). Each module starts its own server on `127.0.0.1:0` with a fresh
//! SQLite database, so tests run in parallel.
//!
//! - [`support`]: [`support::TestServer`], a real server over real HTTP.
//! - [`fixtures`]: the seeded tenant of seed 000 and seed 001.
//! - [`token`]: `/oauth/token` and its neighbours; [`algorithms`]: token formats per API.
//! - [`code_exchange`]: every refusal of the authorization code exchange.
//! - [`discovery`]: discovery, JWKS, health, restarts; [`maintenance`]: purging.
//! - [`expiry`]: codes, refresh tokens and access tokens expiring under the
//!   server's manual clock.
//! - [`management`]: the Management API v2.
//! - [`cache`]: two nodes on one database see each other's configuration changes.
//! - [`actions`]: Actions in every flow: claims, scopes, denials, limits, signup.
//! - [`properties`]: property tests of the parsers (bounded, like a brief fuzz).
//! - [`hostile`]: the attacker's suite: malformed, forged and injected input
//!   against every endpoint.
//! - [`authorize`]: `/authorize`, every error branch and every response mode.
//! - [`transport`]: connection limits, body limits and deadlines over raw TCP.
//! - [`pages`]: login, consent, SSO, logout and device activation with a
//!   cookie-keeping browser-like client.
//! - [`log_events`]: `Gatehouse-Log-Id` and the explained refusals in log events.
//! - [`simulate`]: the simulation against real issuance for every grant-decision case,
//!   and `POST /api/v2/x-gatehouse/simulate`.
//! - [`attack_protection`]: brute force under concurrency, trusted forwarded
//!   IPs, user blocks, rate limits.

mod actions;
mod admin;
mod algorithms;
mod attack_protection;
mod authorize;
mod cache;
mod client_ip;
mod code_exchange;
mod discovery;
mod email;
mod expiry;
mod explain;
mod fixtures;
mod hostile;
mod log_events;
mod maintenance;
mod management;
mod pages;
mod properties;
mod sealed_keys;
mod simulate;
mod support;
mod token;
mod transport;
