//! The dashboard at `/admin`: the tenant managed in a browser, and every
//! token decision explained (issue 14, SPEC.md).
//!
//! Server-rendered HTML from MiniJinja templates, one stylesheet, the
//! vendored htmx for the few places that want scripting (filtering as you
//! type); every page works without scripts. The handlers gather the form,
//! call the same functions as the Management API and `gatehouse explain`,
//! and render the result, so the dashboard cannot disagree with either.
//!
//! - [`session`]: the dashboard session and the [`session::Admin`] extractor
//!   (signed in, not blocked, holding `access:dashboard`).
//! - [`sign_in`]: sign-in through `/authorize`, sign-out.
//! - [`form`]: posted forms with their CSRF token checked; errors per field.
//! - [`render`]: templates, layout, the confirmation page, [`render::AdminError`].
//! - [`assets`]: the stylesheet and scripts.
//! - [`changes`]: every write logged as a `sapi` event naming the admin.
//! - One module per section: [`home`], [`applications`], [`settings`].

pub mod applications;
pub mod assets;
pub mod changes;
pub mod form;
pub mod home;
pub mod render;
pub mod session;
pub mod settings;
pub mod sign_in;

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;

/// Every dashboard route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home::show))
        .route("/admin/", get(home::show))
        .route("/admin/sign-in", get(sign_in::page))
        .route("/admin/sign-in/start", get(sign_in::start))
        .route("/admin/callback", get(sign_in::callback))
        .route("/admin/sign-out", post(sign_in::sign_out))
        .route("/admin/assets/{name}", get(assets::serve))
        .route("/admin/{*rest}", get(not_found).post(not_found))
        .merge(applications::routes())
        .merge(settings::routes())
}

/// Any other page under `/admin`: sign-in first, then a 404 in the
/// dashboard's style.
async fn not_found(_admin: session::Admin) -> render::AdminError {
    render::AdminError::not_found("This page")
}
