//! The dashboard's home page: where the tenant stands and what to do next.

use super::render::{page, AdminResult};
use super::session::Admin;
use crate::state::AppState;
use axum::extract::State;
use minijinja::context;

/// `GET /admin`.
pub async fn show(State(state): State<AppState>, admin: Admin) -> AdminResult {
    Ok(page(
        &admin,
        "home",
        "home.html",
        context! { issuer => state.issuer() },
    ))
}
