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
//! - [`listing`]: paging of the dashboard's lists.
//! - [`grants`]: machine-to-machine access, written from an API's page or an application's.
//! - One module per section: [`home`], [`applications`], [`apis`],
//!   [`roles`], [`users`], [`logs`] (the event list and each event's
//!   decision trace), [`why`] ("Why this token?" and simulate), [`settings`].
//! - [`fix_links`]: explanation lines linked to the page where each fix is made.

pub mod apis;
pub mod applications;
pub mod assets;
pub mod changes;
pub mod fix_links;
pub mod form;
pub mod grants;
pub mod home;
pub mod listing;
pub mod logs;
pub mod render;
pub mod roles;
pub mod session;
pub mod settings;
pub mod sign_in;
pub mod users;
pub mod why;

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
        .merge(apis::routes())
        .merge(roles::routes())
        .merge(users::routes())
        .merge(logs::routes())
        .merge(why::routes())
        .route("/admin/{*rest}", get(not_found).post(not_found))
        .merge(applications::routes())
        .merge(settings::routes())
}

/// Any other page under `/admin`: sign-in first, then a 404 in the
/// dashboard's style.
async fn not_found(_admin: session::Admin) -> render::AdminError {
    render::AdminError::not_found("This page")
}
