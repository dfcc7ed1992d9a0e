//! The dashboard's own session, apart from the SSO session.
//!
//! - Signing in goes through `/authorize` ([`super::sign_in`]); the session
//!   that follows lives in its own table ([`SessionKind::Dashboard`]), so an
//!   SSO cookie is never a dashboard session and signing out of one leaves
//!   the other. The cookie (`gatehouse_admin`, `Path=/admin`, `HttpOnly`,
//!   `SameSite=Strict`, `Secure` over https) holds 256 random bits; the store
//!   keeps their SHA-256.
//! - A session lasts [`LIFETIME`] at most and ends after [`IDLE`] without a
//!   request, or at sign-out.
//! - Every request checks again that the user exists, is not blocked and
//!   holds [`PERMISSION`] on the Management API (directly or through a
//!   role), so removing the role or blocking the user takes effect at once.
//! - Each section also needs the Management API permissions its pages stand
//!   for ([`required_permissions`]): reading applications needs
//!   `read:clients`, changing them the write permissions. The bootstrap
//!   `Admin` role holds them all; a narrower role opens less of the dashboard.
//! - CSRF: every form carries an HMAC of the session id under the server's
//!   CSRF key ([`csrf_token`]); [`super::form::AdminForm`] refuses a POST
//!   whose token does not match the session it comes with.

use super::render::AdminError;
use crate::routes::management::auth::management_audience;
use crate::session::cookie;
use crate::state::AppState;
use aws_lc_rs::hmac;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cookie::time::Duration;
use cookie::{Cookie, SameSite};
use gatehouse_core::ids;
use gatehouse_core::model::User;
use gatehouse_core::secret::{constant_time_eq, hash_token};
use gatehouse_store::{SessionKind, SsoSession, StoreError};

/// The permission on the Management API that opens the dashboard.
pub const PERMISSION: &str = "access:dashboard";
/// The session cookie.
pub const COOKIE: &str = "gatehouse_admin";
/// Absolute lifetime of a dashboard session.
pub const LIFETIME: i64 = 8 * 3600;
/// A session ends after this long without a request.
pub const IDLE: i64 = 3600;
/// Activity is written at most this often (one write per minute, not per page).
const TOUCH_EVERY: i64 = 60;

/// A signed-in administrator: the extractor of every dashboard page.
#[derive(Debug, Clone)]
pub struct Admin {
    pub user: User,
    /// The user's permissions on the Management API.
    pub permissions: Vec<String>,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    id_hash: String,
}

impl Admin {
    /// The name shown in the header and recorded in the log.
    pub fn display_name(&self) -> &str {
        self.user
            .email
            .as_deref()
            .or(self.user.name.as_deref())
            .unwrap_or(&self.user.user_id)
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let admin = match signed_in(state, &parts.headers).await {
            Ok(Some(admin)) => admin,
            Ok(None) => return Err(to_sign_in(parts)),
            Err(e) => return Err(AdminError::internal(e).into_response()),
        };
        let needed = required_permissions(&parts.method, parts.uri.path());
        if let Some(missing) = needed.iter().find(|p| !admin.holds(p)) {
            return Err(AdminError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "Your account lacks the permission {missing} on the Gatehouse Management API, \
                     which this page needs. An administrator can grant it through a role."
                ),
            )
            .into_response());
        }
        Ok(admin)
    }
}

impl Admin {
    /// Whether the admin holds `permission` on the Management API.
    pub fn holds(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

/// The first Management API permission among `wanted` (API identifier,
/// permission name) that the admin does not hold. An admin hands out only
/// what they hold themselves: otherwise a role that may manage users or
/// roles could give its holder the Admin role or `update:tenant_settings`.
pub fn first_not_held<'a>(
    admin: &Admin,
    state: &AppState,
    wanted: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<&'a str> {
    let audience = management_audience(state.issuer());
    wanted
        .into_iter()
        .find(|(api, name)| *api == audience && !admin.holds(name))
        .map(|(_, name)| name)
}

/// The first Management API permission of role `role_id` that the admin
/// does not hold (see [`first_not_held`]).
pub async fn role_beyond_admin(
    admin: &Admin,
    state: &AppState,
    role_id: &str,
) -> Result<Option<String>, StoreError> {
    let permissions = state.store().role_permissions(role_id).await?;
    let wanted = permissions.iter().map(|p| {
        (
            p.resource_server_identifier.as_str(),
            p.permission_name.as_str(),
        )
    });
    Ok(first_not_held(admin, state, wanted).map(str::to_string))
}

/// The first Management API permission that client `client_id` holds
/// through its grants and the admin does not: a reason not to show the
/// admin a new secret of that client (see [`first_not_held`]).
pub async fn client_beyond_admin(
    admin: &Admin,
    state: &AppState,
    client_id: &str,
) -> Result<Option<String>, StoreError> {
    let audience = management_audience(state.issuer());
    let grants = state
        .store()
        .client_grants_for(client_id, &audience)
        .await?;
    if grants.iter().any(|g| g.allow_all_scopes) {
        if let Some(api) = state
            .store()
            .resource_server_by_identifier(&audience)
            .await?
        {
            let all = api
                .scopes
                .iter()
                .map(|s| (audience.as_str(), s.value.as_str()));
            if let Some(missing) = first_not_held(admin, state, all) {
                return Ok(Some(missing.to_string()));
            }
        }
    }
    let scopes = grants.iter().flat_map(|g| g.scope.iter());
    let wanted = scopes.map(|s| (audience.as_str(), s.as_str()));
    Ok(first_not_held(admin, state, wanted).map(str::to_string))
}

/// The first Management API permission that user `user_id` holds and the
/// admin does not: such a user outranks the admin, who may then not change
/// their password, email, blocking or access (that would be a way into the
/// stronger account, or a way to lock its holder out).
pub async fn user_beyond_admin(
    admin: &Admin,
    state: &AppState,
    user_id: &str,
) -> Result<Option<String>, StoreError> {
    let audience = management_audience(state.issuer());
    let theirs = management_permissions(state, user_id).await?;
    let wanted = theirs.iter().map(|p| (audience.as_str(), p.as_str()));
    Ok(first_not_held(admin, state, wanted).map(str::to_string))
}

/// Why a grant beyond the admin's own permissions was refused.
pub fn not_held_message(permission: &str) -> String {
    format!(
        "You cannot hand out the permission {permission} on the Gatehouse Management API: \
         your own account does not hold it."
    )
}

/// The Management API permissions a dashboard request needs, all of them:
/// a section's read permissions to see it, and its write permissions to
/// post any of its forms.
pub fn required_permissions(method: &Method, path: &str) -> &'static [&'static str] {
    let section = path
        .strip_prefix("/admin/")
        .unwrap_or("")
        .split('/')
        .next()
        .unwrap_or("");
    let reading = method == Method::GET || method == Method::HEAD;
    match (section, reading) {
        ("applications", true) => &[
            "read:clients",
            "read:client_grants",
            "read:resource_servers",
        ],
        ("applications", false) => &[
            "create:clients",
            "update:clients",
            "delete:clients",
            "update:client_keys",
            "create:client_grants",
            "update:client_grants",
            "delete:client_grants",
        ],
        ("apis", true) => &[
            "read:resource_servers",
            "read:client_grants",
            "read:clients",
        ],
        ("apis", false) => &[
            "create:resource_servers",
            "update:resource_servers",
            "delete:resource_servers",
            "create:client_grants",
            "update:client_grants",
            "delete:client_grants",
        ],
        ("users", true) => &["read:users", "read:roles", "read:logs_users"],
        ("users", false) => &[
            "create:users",
            "update:users",
            "delete:users",
            "create:role_members",
            "delete:role_members",
        ],
        ("roles", true) => &["read:roles", "read:role_members"],
        ("roles", false) => &[
            "create:roles",
            "update:roles",
            "delete:roles",
            "create:role_members",
            "delete:role_members",
        ],
        ("logs", _) => &["read:logs"],
        ("why", _) => &["read:logs", "simulate:tokens"],
        ("settings", true) => &["read:tenant_settings", "read:signing_keys"],
        ("settings", false) => &[
            "update:tenant_settings",
            "create:signing_keys",
            "update:signing_keys",
        ],
        _ => &[],
    }
}

/// Where a request without a valid session goes: the sign-in page, which
/// brings the person back to the page they asked for (GET only).
fn to_sign_in(parts: &Parts) -> Response {
    let back = (parts.method == Method::GET)
        .then(|| parts.uri.path_and_query().map(|p| p.as_str().to_string()))
        .flatten()
        .filter(|p| is_dashboard_path(p));
    let target = match back {
        Some(path) => format!(
            "/admin/sign-in?return_to={}",
            form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
        ),
        None => "/admin/sign-in".to_string(),
    };
    if parts.headers.contains_key("hx-request") {
        // htmx follows a redirect inside the page; this makes it a full navigation.
        let mut response = StatusCode::NO_CONTENT.into_response();
        if let Ok(value) = HeaderValue::from_str(&target) {
            response.headers_mut().insert("hx-redirect", value);
        }
        return response;
    }
    Redirect::to(&target).into_response()
}

/// Whether `path` is a dashboard page to come back to: an absolute path
/// under `/admin`, never `//host` or a scheme (no open redirect), no `..`
/// that the browser would resolve to a page outside `/admin`, and nothing a
/// `Location` header cannot carry.
pub fn is_dashboard_path(path: &str) -> bool {
    (path == "/admin" || path.starts_with("/admin/") || path.starts_with("/admin?"))
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || !c.is_ascii())
        && !has_dot_segment(path)
        && !path.starts_with("/admin/sign-")
        && !path.starts_with("/admin/callback")
}

/// Whether the path part has a `.` or `..` segment, spelled out or
/// percent-encoded (browsers resolve `%2e%2e` too).
fn has_dot_segment(path: &str) -> bool {
    let path_part = path.split(['?', '#']).next().unwrap_or("");
    path_part.split('/').any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
}

/// The browser's administrator, if its cookie names an active session whose
/// user may still use the dashboard.
pub async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<Admin>, StoreError> {
    let Some(id) = cookie(headers, COOKIE) else {
        return Ok(None);
    };
    let store = state.store();
    let now = state.now();
    let id_hash = hash_token(id);
    let Some(session) = store
        .active_session(SessionKind::Dashboard, &id_hash, now)
        .await?
    else {
        return Ok(None);
    };
    let Some(stored) = store.user(&session.user_id).await? else {
        return Ok(None);
    };
    if stored.user.blocked {
        return Ok(None);
    }
    let permissions = management_permissions(state, &stored.user.user_id).await?;
    if !permissions.iter().any(|p| p == PERMISSION) {
        return Ok(None);
    }
    if now - session.last_seen_at >= TOUCH_EVERY {
        store
            .touch_session(SessionKind::Dashboard, &id_hash, now, now + IDLE)
            .await?;
    }
    Ok(Some(Admin {
        user: stored.user,
        permissions,
        csrf: csrf_token(state.csrf_key(), id),
        id_hash,
    }))
}

/// Whether the user holds [`PERMISSION`] on the Management API.
pub async fn may_use_dashboard(state: &AppState, user_id: &str) -> Result<bool, StoreError> {
    Ok(management_permissions(state, user_id)
        .await?
        .iter()
        .any(|p| p == PERMISSION))
}

/// The user's permissions on the Management API, direct or through roles.
async fn management_permissions(
    state: &AppState,
    user_id: &str,
) -> Result<Vec<String>, StoreError> {
    let audience = management_audience(state.issuer());
    Ok(state
        .store()
        .effective_permissions(user_id, &audience)
        .await?
        .into_iter()
        .map(|p| p.permission_name)
        .collect())
}

/// Starts a session for `user_id`; returns the cookie to set.
pub async fn start(state: &AppState, user_id: &str) -> Result<HeaderValue, StoreError> {
    let now = state.now();
    let id = ids::random_token(32);
    let session = SsoSession {
        id_hash: hash_token(&id),
        sid: ids::random_token(16),
        user_id: user_id.to_string(),
        auth_time: now,
        created_at: now,
        last_seen_at: now,
        expires_at: now + LIFETIME,
        idle_expires_at: now + IDLE,
        ended_at: None,
    };
    state
        .store()
        .insert_session(SessionKind::Dashboard, &session)
        .await?;
    Ok(session_cookie(state, &id, LIFETIME))
}

/// Ends the session (sign-out); returns the cookie that clears it.
pub async fn end(state: &AppState, admin: &Admin) -> Result<HeaderValue, StoreError> {
    state
        .store()
        .end_session(SessionKind::Dashboard, &admin.id_hash, state.now())
        .await?;
    Ok(session_cookie(state, "", 0))
}

fn session_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let cookie = Cookie::build((COOKIE, value))
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.issuer().starts_with("https://"))
        .max_age(Duration::seconds(max_age))
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// Appends a `Set-Cookie` header.
pub fn set_cookie(response: &mut Response, value: HeaderValue) {
    response.headers_mut().append(header::SET_COOKIE, value);
}

/// The CSRF token of the session whose cookie value is `session_id`.
fn csrf_token(key: &hmac::Key, session_id: &str) -> String {
    let mut ctx = hmac::Context::with_key(key);
    ctx.update(b"gatehouse-admin-csrf-v1\0");
    ctx.update(session_id.as_bytes());
    URL_SAFE_NO_PAD.encode(ctx.sign().as_ref())
}

/// Whether `field` is this session's CSRF token.
pub fn csrf_ok(admin: &Admin, field: Option<&str>) -> bool {
    field.is_some_and(|f| constant_time_eq(admin.csrf.as_bytes(), f.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dashboard_paths_are_returned_to() {
        assert!(is_dashboard_path("/admin"));
        assert!(is_dashboard_path("/admin/users?q=alice"));
        assert!(is_dashboard_path("/admin/users/auth0%7C1.2?q=..%2F"));
        for bad in [
            "//evil.example/admin",
            "https://evil.example/admin",
            "/adminx",
            "/admin/sign-in",
            "/admin/callback?code=x",
            "/admin/\\evil",
            "/u/login",
            "/admin/../authorize",
            "/admin/%2E%2e/v2/logout",
            "/admin/users/./..",
            "/admin/\r\nSet-Cookie: x=1",
            "/admin/\u{7f}",
            "/admin/caf\u{e9}",
        ] {
            assert!(!is_dashboard_path(bad), "{bad}");
        }
    }

    #[test]
    fn each_section_needs_its_management_permissions() {
        assert_eq!(required_permissions(&Method::GET, "/admin"), &[] as &[&str]);
        assert!(required_permissions(&Method::GET, "/admin/users/auth0|1").contains(&"read:users"));
        assert!(required_permissions(&Method::POST, "/admin/users/new").contains(&"create:users"));
        assert!(!required_permissions(&Method::GET, "/admin/users").contains(&"create:users"));
        assert!(
            required_permissions(&Method::POST, "/admin/settings/keys/rotate")
                .contains(&"create:signing_keys")
        );
    }

    #[test]
    fn csrf_tokens_belong_to_one_session() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"k");
        assert_eq!(csrf_token(&key, "a"), csrf_token(&key, "a"));
        assert_ne!(csrf_token(&key, "a"), csrf_token(&key, "b"));
    }
}
