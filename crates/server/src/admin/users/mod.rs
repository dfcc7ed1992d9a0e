//! The Users section of the dashboard: search, create, and one page per
//! user with tabs for the profile (edit, block, password, delete), roles,
//! permissions (direct ones, and the effective ones per API with where each
//! comes from) and recent log events.
//!
//! Every write goes through the Management API's own handlers
//! (`routes::management::{users, user_links, user_blocks}`), so the
//! dashboard validates and behaves exactly as the API does.
//!
//! - [`list`]: `/admin/users` (search and paging) and `/admin/users/new`.
//! - [`profile`]: the Profile tab and its actions.
//! - [`access`]: the Roles and Permissions tabs.
//! - [`activity`]: the Logs tab.
//! - [`checks`]: what the forms check before anything is written.

pub mod access;
pub mod activity;
pub mod checks;
pub mod list;
pub mod profile;

use super::render::AdminError;
use super::session::{user_beyond_admin, Admin};
use crate::bearer::AccessToken;
use crate::routes::management::auth::management_audience;
use crate::routes::management::users;
use crate::state::AppState;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use gatehouse_core::model::User;
use gatehouse_core::scope::ScopeSet;
use gatehouse_core::time::iso8601;
use serde::Serialize;

/// The Users pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list::show))
        .route("/admin/users/new", get(list::new).post(list::create))
        .route("/admin/users/{id}", get(profile::show).post(profile::save))
        .route(
            "/admin/users/{id}/password",
            get(profile::show_password).post(profile::set_password),
        )
        .route(
            "/admin/users/{id}/block",
            get(profile::confirm_block).post(profile::block),
        )
        .route(
            "/admin/users/{id}/unblock",
            get(profile::confirm_unblock).post(profile::unblock),
        )
        .route(
            "/admin/users/{id}/unlock",
            get(profile::confirm_unlock).post(profile::unlock),
        )
        .route(
            "/admin/users/{id}/delete",
            get(profile::confirm_delete).post(profile::delete),
        )
        .route(
            "/admin/users/{id}/roles",
            get(access::roles).post(access::assign_role),
        )
        .route(
            "/admin/users/{id}/roles/{role_id}/remove",
            get(access::confirm_remove_role).post(access::remove_role),
        )
        .route(
            "/admin/users/{id}/permissions",
            get(access::permissions).post(access::add_permission),
        )
        .route(
            "/admin/users/{id}/permissions/remove",
            get(access::confirm_remove_permission).post(access::remove_permission),
        )
        .route("/admin/users/{id}/logs", get(activity::logs))
}

/// The user of a page, or the 404 page (the API's own lookup and message).
async fn load(state: &AppState, id: &str) -> Result<User, AdminError> {
    Ok(users::find(state, id).await?.user)
}

/// [`load`] for a change: refused when the user holds a Management API
/// permission the admin lacks ([`user_beyond_admin`]).
async fn load_outranked(state: &AppState, admin: &Admin, id: &str) -> Result<User, AdminError> {
    let user = load(state, id).await?;
    if let Some(missing) = user_beyond_admin(admin, state, &user.user_id).await? {
        return Err(AdminError::new(
            StatusCode::FORBIDDEN,
            format!(
                "This user holds the permission {missing} on the Gatehouse Management API, \
                 which your own account does not, so you cannot change their account or access. \
                 An administrator who holds it can."
            ),
        ));
    }
    Ok(user)
}

/// The caller the Management API's `users::update` sees for a dashboard
/// write: the admin, holding `update:users` (the dashboard permission stands
/// for the whole Management API), never an end user's self-service.
fn caller(state: &AppState, admin: &Admin) -> AccessToken {
    AccessToken {
        subject: admin.user.user_id.clone(),
        client_id: crate::bootstrap::DASHBOARD_CLIENT_NAME.to_string(),
        scope: ScopeSet::parse("update:users"),
        audiences: vec![management_audience(state.issuer())],
        issued_at: Some(state.now()),
        expires_at: state.now(),
        claims: None,
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for a
/// path segment or a query value (`auth0|abc` → `auth0%7Cabc`).
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The dashboard path of a user's page, plus `rest` (`/roles`, …).
pub fn user_path(user_id: &str, rest: &str) -> String {
    format!("/admin/users/{}{rest}", encode(user_id))
}

/// `2026-12-07 13:10 UTC`.
pub fn short_date(epoch_seconds: i64) -> String {
    short_iso(&iso8601(epoch_seconds))
}

/// `2026-12-07T13:10:00.000Z` → `2026-12-07 13:10 UTC`.
pub fn short_iso(iso: &str) -> String {
    match (iso.get(..10), iso.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => iso.to_string(),
    }
}

/// What a page says about a user in its heading and rows.
#[derive(Debug, Serialize)]
pub struct UserSummary {
    pub user_id: String,
    pub path: String,
    pub initial: String,
    pub email: String,
    pub name: String,
    /// The heading: the name, else the email, else the id.
    pub title: String,
    pub blocked: bool,
    pub email_verified: bool,
    pub logins_count: i64,
    pub last_login: Option<String>,
    pub created_at: String,
    pub connection: String,
}

impl UserSummary {
    pub fn of(u: &User) -> Self {
        let email = u.email.clone().unwrap_or_default();
        let name = u.name.clone().unwrap_or_default();
        let title = [&name, &email]
            .into_iter()
            .find(|t| !t.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| u.user_id.clone());
        Self {
            initial: initial(&title),
            path: user_path(&u.user_id, ""),
            user_id: u.user_id.clone(),
            email,
            name,
            title,
            blocked: u.blocked,
            email_verified: u.email_verified,
            logins_count: u.logins_count,
            last_login: u.last_login.map(short_date),
            created_at: short_date(u.created_at),
            connection: u.connection.clone(),
        }
    }
}

/// The avatar letter: the first letter or digit, upper-cased.
fn initial(title: &str) -> String {
    title
        .chars()
        .find(|c| c.is_alphanumeric())
        .map_or_else(|| "?".to_string(), |c| c.to_uppercase().collect())
}

/// `?done=` after a write.
#[derive(Debug, Default, serde::Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

/// The tabs of a user's page: key, label, path.
pub fn tabs(user_id: &str) -> Vec<(&'static str, &'static str, String)> {
    [
        ("profile", "Profile", ""),
        ("roles", "Roles", "/roles"),
        ("permissions", "Permissions", "/permissions"),
        ("logs", "Logs", "/logs"),
    ]
    .into_iter()
    .map(|(key, label, rest)| (key, label, user_path(user_id, rest)))
    .collect()
}

/// The fixed notice of a `?done=` code after a write (free text from the
/// query is never shown).
pub fn done_notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "created" => "The user was created.",
        "saved" => "The profile was saved.",
        "password" => "The password was changed. The user's brute-force blocks were lifted too.",
        "blocked" => "The user is blocked: they cannot log in or refresh tokens.",
        "unblocked" => "The user is unblocked and can log in again.",
        "unlocked" => "The failed-login blocks were lifted.",
        "deleted" => "The user was deleted.",
        "role-assigned" => "The role was assigned.",
        "role-removed" => "The role was removed.",
        "permission-added" => "The permission was added.",
        "permission-removed" => "The permission was removed.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_encode_the_id() {
        assert_eq!(
            user_path("auth0|abc", "/roles"),
            "/admin/users/auth0%7Cabc/roles"
        );
        assert_eq!(encode("a b/é"), "a%20b%2F%C3%A9");
    }

    #[test]
    fn summaries_and_notices() {
        let mut u = User::new("auth0|1", "alice@example.com", 0);
        assert_eq!(UserSummary::of(&u).title, "alice@example.com");
        assert_eq!(UserSummary::of(&u).initial, "A");
        u.name = Some("  ".into());
        assert_eq!(UserSummary::of(&u).title, "alice@example.com");
        u.name = Some("émile".into());
        assert_eq!(UserSummary::of(&u).initial, "É");
        assert_eq!(short_date(0), "1970-01-01 00:00 UTC");
        assert!(done_notice(Some("saved")).is_some());
        assert!(done_notice(Some("<script>")).is_none());
        assert!(done_notice(None).is_none());
    }
}
