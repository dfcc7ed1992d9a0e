//! The SSO session cookie and CSRF protection for the pages.
//!
//! - The session cookie `gatehouse_session` carries 256 random bits; the store
//!   keeps only their SHA-256 ([`gatehouse_store::SsoSession`]). Its absolute
//!   and idle lifetimes come from the tenant settings (`session_lifetime`,
//!   `idle_session_lifetime`, in hours).
//! - Cookie flags: always `HttpOnly; Path=/`. When the issuer is `https`, the
//!   session cookie is `SameSite=None; Secure` so it reaches the hidden iframe
//!   of an SPA on another site (silent authentication). Over plain `http`
//!   (local development) Chromium rejects `SameSite=None` without `Secure`,
//!   so the cookie is `SameSite=Lax`: it then reaches the iframe when the SPA
//!   and Gatehouse are the same site (same scheme and host name, any port,
//!   e.g. both on `127.0.0.1`); see README.md.
//! - CSRF: a signed double-submit token. The CSRF cookie (`HttpOnly;
//!   SameSite=Lax`) holds a random pre-session id; every form carries, in a
//!   hidden `csrf` field, an HMAC-SHA256 over that id and the browser's SSO
//!   session cookie (if any) under the server's CSRF key (created once in the
//!   store, shared by all nodes). A POST whose field is not that HMAC for the
//!   cookies it comes with is refused: a cookie/field pair made up by someone
//!   else, or a token from another browser or another session, fails. Over
//!   https the cookie is `__Host-gatehouse_csrf` (`Secure`, no `Domain`), so a
//!   sibling subdomain cannot plant one.

use crate::error::ApiError;
use crate::state::AppState;
use aws_lc_rs::hmac;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cookie::time::Duration;
use cookie::{Cookie, SameSite};
use gatehouse_core::ids;
use gatehouse_core::secret::{constant_time_eq, hash_token};
use gatehouse_store::{SessionKind, SsoSession};

pub const SESSION_COOKIE: &str = "gatehouse_session";
pub const CSRF_COOKIE: &str = "gatehouse_csrf";
/// [`CSRF_COOKIE`] over https.
pub const SECURE_CSRF_COOKIE: &str = "__Host-gatehouse_csrf";
const HOUR: i64 = 3600;

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn secure(state: &AppState) -> bool {
    state.issuer().starts_with("https://")
}

/// Appends `cookie` as a `Set-Cookie` header.
fn set_cookie(response: &mut Response, cookie: Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The session cookie with its flags, `secure` over https (the module doc
/// says why these).
fn session_cookie(secure: bool, value: &str, max_age: i64) -> Cookie<'_> {
    let same_site = if secure {
        SameSite::None
    } else {
        SameSite::Lax
    };
    Cookie::build((SESSION_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(same_site)
        .secure(secure)
        .max_age(Duration::seconds(max_age.max(0)))
        .build()
}

/// The CSRF cookie holding a new pre-session id, `secure` over https.
fn csrf_cookie(secure: bool, binding: &str) -> Cookie<'_> {
    Cookie::build((csrf_cookie_name(secure), binding))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

/// Sets the SSO session cookie; it lives as long as the session's absolute
/// lifetime (so it survives a browser restart), the server enforcing both
/// lifetimes and logout.
pub fn set_session_cookie(state: &AppState, response: &mut Response, id: &str, max_age: i64) {
    set_cookie(response, session_cookie(secure(state), id, max_age));
}

/// Removes the SSO session cookie.
pub fn clear_session_cookie(state: &AppState, response: &mut Response) {
    set_cookie(response, session_cookie(secure(state), "", 0));
}

fn csrf_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_CSRF_COOKIE
    } else {
        CSRF_COOKIE
    }
}

/// A pre-session id as the CSRF cookie holds it (32 random bytes, base64url).
fn csrf_binding<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    cookie(headers, csrf_cookie_name(secure(state))).filter(|b| b.len() == 43)
}

/// The `csrf` field for a pre-session id and the SSO session cookie's value.
fn csrf_field(key: &hmac::Key, binding: &str, session: Option<&str>) -> String {
    let mut ctx = hmac::Context::with_key(key);
    for part in ["gatehouse-csrf-v1", binding, session.unwrap_or("")] {
        ctx.update(part.as_bytes());
        ctx.update(b"\0");
    }
    URL_SAFE_NO_PAD.encode(ctx.sign().as_ref())
}

/// A form's CSRF token, and the cookie to set with it on a first visit.
pub struct CsrfToken {
    pub field: String,
    new_binding: Option<String>,
}

impl CsrfToken {
    /// Sets the CSRF cookie when this token came with a new pre-session id.
    pub fn set_cookie(&self, state: &AppState, response: &mut Response) {
        let Some(binding) = &self.new_binding else {
            return;
        };
        set_cookie(response, csrf_cookie(secure(state), binding));
    }
}

/// The CSRF token for a form shown to this browser.
pub fn csrf_token(state: &AppState, headers: &HeaderMap) -> CsrfToken {
    let (binding, new_binding) = match csrf_binding(state, headers) {
        Some(binding) => (binding.to_string(), None),
        None => {
            let binding = ids::random_token(32);
            (binding.clone(), Some(binding))
        }
    };
    let field = csrf_field(state.csrf_key(), &binding, cookie(headers, SESSION_COOKIE));
    CsrfToken { field, new_binding }
}

/// Whether the form's `csrf` field is the token for the cookies it came with.
pub fn csrf_ok(state: &AppState, headers: &HeaderMap, field: Option<&str>) -> bool {
    match (csrf_binding(state, headers), field) {
        (Some(binding), Some(field)) => {
            let expected = csrf_field(state.csrf_key(), binding, cookie(headers, SESSION_COOKIE));
            constant_time_eq(expected.as_bytes(), field.as_bytes())
        }
        _ => false,
    }
}

/// The browser's active SSO session, if its cookie names one.
pub async fn current(
    state: &AppState,
    headers: &HeaderMap,
    now: i64,
) -> Result<Option<SsoSession>, ApiError> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(state
        .store()
        .active_session(SessionKind::Sso, &hash_token(id), now)
        .await?)
}

/// Starts a session for `user_id` authenticated at `now`; returns the cookie
/// value and the record.
pub async fn start(
    state: &AppState,
    user_id: &str,
    now: i64,
) -> Result<(String, SsoSession), ApiError> {
    let tenant = state.store().tenant_settings().await?;
    let lifetime = hours(tenant.session_lifetime);
    let idle = hours(tenant.idle_session_lifetime).min(lifetime);
    let id = ids::random_token(32);
    let session = SsoSession {
        id_hash: hash_token(&id),
        sid: ids::random_token(16),
        user_id: user_id.to_string(),
        auth_time: now,
        created_at: now,
        last_seen_at: now,
        expires_at: now + lifetime,
        idle_expires_at: now + idle,
        ended_at: None,
    };
    state
        .store()
        .insert_session(SessionKind::Sso, &session)
        .await?;
    Ok((id, session))
}

/// Records activity on a session (moves its idle expiry).
pub async fn touch(state: &AppState, session: &SsoSession, now: i64) -> Result<(), ApiError> {
    let tenant = state.store().tenant_settings().await?;
    let idle = hours(tenant.idle_session_lifetime);
    state
        .store()
        .touch_session(SessionKind::Sso, &session.id_hash, now, now + idle)
        .await?;
    Ok(())
}

/// Ends the browser's session, if any; returns it.
pub async fn end(
    state: &AppState,
    headers: &HeaderMap,
    now: i64,
) -> Result<Option<SsoSession>, ApiError> {
    let session = current(state, headers, now).await?;
    if let Some(s) = &session {
        state
            .store()
            .end_session(SessionKind::Sso, &s.id_hash, now)
            .await?;
    }
    Ok(session)
}

fn hours(h: u64) -> i64 {
    i64::try_from(h).unwrap_or(i64::MAX / (2 * HOUR)).max(1) * HOUR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_parse() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; gatehouse_csrf=xyz ; b="),
        );
        assert_eq!(cookie(&h, "a"), Some("1"));
        assert_eq!(cookie(&h, "b"), None);
        assert_eq!(cookie(&h, CSRF_COOKIE), Some("xyz"));
    }

    #[test]
    fn cookies_carry_their_flags() {
        assert_eq!(
            session_cookie(false, "abc", 60).to_string(),
            "gatehouse_session=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=60"
        );
        assert_eq!(
            session_cookie(true, "abc", 60).to_string(),
            "gatehouse_session=abc; HttpOnly; SameSite=None; Secure; Path=/; Max-Age=60"
        );
        assert_eq!(
            session_cookie(true, "", -5).to_string(),
            "gatehouse_session=; HttpOnly; SameSite=None; Secure; Path=/; Max-Age=0"
        );
        assert_eq!(
            csrf_cookie(false, "b").to_string(),
            "gatehouse_csrf=b; HttpOnly; SameSite=Lax; Path=/"
        );
        assert_eq!(
            csrf_cookie(true, "b").to_string(),
            "__Host-gatehouse_csrf=b; HttpOnly; SameSite=Lax; Secure; Path=/"
        );
    }

    #[test]
    fn csrf_fields_depend_on_key_binding_and_session() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"key one");
        let other_key = hmac::Key::new(hmac::HMAC_SHA256, b"key two");
        let field = csrf_field(&key, "binding", Some("session"));
        assert_eq!(field.len(), 43);
        assert_eq!(field, csrf_field(&key, "binding", Some("session")));
        assert_ne!(field, csrf_field(&other_key, "binding", Some("session")));
        assert_ne!(field, csrf_field(&key, "binding2", Some("session")));
        assert_ne!(field, csrf_field(&key, "binding", Some("session2")));
        assert_ne!(field, csrf_field(&key, "binding", None));
        assert_ne!(field, "binding");
    }
}
