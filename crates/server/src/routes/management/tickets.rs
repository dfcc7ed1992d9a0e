//! `/api/v2/tickets/*`: password-change and email-verification links made
//! for an administrator to hand to a user (auth0-compat.md §11). Each answer
//! is 201 `{"ticket": url}`; the link's secret exists only in that answer
//! (the store keeps its hash), and a new ticket supersedes the user's older
//! one of the same kind ([`crate::email::tickets`]).
//!
//! Gatehouse has one database connection and no organizations:
//! `connection_id` must name that connection and `organization_id` is
//! refused rather than ignored, so a script never believes a ticket is bound
//! to an organization when it is not.

use super::connections::DEFAULT_CONNECTION_ID;
use super::error::{Managed, ManagementError, MgmtResult};
use super::extract::MJson;
use crate::email::tickets::{self, NewTicket};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gatehouse_core::model::{User, DEFAULT_CONNECTION};
use gatehouse_store::{StoredUser, TicketKind};
use serde::{Deserialize, Serialize};

/// `POST /tickets/password-change`: the user by `user_id`, or by `email`
/// with `connection_id`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeTicket {
    pub user_id: Option<String>,
    pub email: Option<String>,
    /// Only with `email`: the database connection's id.
    pub connection_id: Option<String>,
    /// Where the page sends the user once the password is changed.
    pub result_url: Option<String>,
    /// The link's lifetime; 0 or absent for five days.
    pub ttl_sec: Option<i64>,
    /// Changing the password through the link also verifies the email.
    pub mark_email_as_verified: Option<bool>,
    /// The application the user returns to.
    pub client_id: Option<String>,
    /// Adds `email=<the user's email>` to `result_url`.
    #[serde(rename = "includeEmailInRedirect")]
    pub include_email_in_redirect: Option<bool>,
    /// Refused: Gatehouse has no organizations.
    pub organization_id: Option<String>,
}

/// The identity to verify (Auth0's secondary identities); Gatehouse users
/// have one, the database identity.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketIdentity {
    /// The user id without the `auth0|` prefix.
    pub user_id: String,
    /// `auth0`.
    pub provider: String,
}

/// `POST /tickets/email-verification`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailVerificationTicket {
    pub user_id: Option<String>,
    /// Where the page sends the user once the email is verified.
    pub result_url: Option<String>,
    /// The link's lifetime; 0 or absent for five days.
    pub ttl_sec: Option<i64>,
    pub client_id: Option<String>,
    pub identity: Option<TicketIdentity>,
    /// Refused: Gatehouse has no organizations.
    pub organization_id: Option<String>,
}

/// The answer: the link to hand to the user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketView {
    pub ticket: String,
}

/// The longest `result_url` accepted (a URL in a redirect, not a document).
const MAX_URL_CHARS: usize = 2048;

pub async fn password_change(
    State(state): State<AppState>,
    MJson(body): MJson<PasswordChangeTicket>,
) -> MgmtResult<(StatusCode, Json<TicketView>)> {
    refuse_organization(body.organization_id.as_deref())?;
    let ttl = ttl_seconds(body.ttl_sec)?;
    check_result_url(body.result_url.as_deref())?;
    check_client(&state, body.client_id.as_deref()).await?;
    let user = password_change_user(&state, &body).await?;
    let result_url = match (&body.result_url, &user.email) {
        (Some(url), Some(email)) if body.include_email_in_redirect == Some(true) => {
            Some(with_email(url, email))
        }
        (url, _) => url.clone(),
    };
    let link = tickets::issue(
        &state,
        NewTicket {
            kind: TicketKind::PasswordChange,
            user_id: &user.user_id,
            client_id: body.client_id.as_deref(),
            result_url: result_url.as_deref(),
            ttl_seconds: ttl,
            mark_email_verified: body.mark_email_as_verified.unwrap_or(false),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(TicketView { ticket: link })))
}

pub async fn email_verification(
    State(state): State<AppState>,
    MJson(body): MJson<EmailVerificationTicket>,
) -> MgmtResult<(StatusCode, Json<TicketView>)> {
    refuse_organization(body.organization_id.as_deref())?;
    let ttl = ttl_seconds(body.ttl_sec)?;
    check_result_url(body.result_url.as_deref())?;
    check_client(&state, body.client_id.as_deref()).await?;
    let user = required_user(&state, body.user_id.as_deref()).await?;
    check_identity(&user, body.identity.as_ref())?;
    require_email(&user)?;
    let link = tickets::issue(
        &state,
        NewTicket {
            kind: TicketKind::EmailVerification,
            user_id: &user.user_id,
            client_id: body.client_id.as_deref(),
            result_url: body.result_url.as_deref(),
            ttl_seconds: ttl,
            mark_email_verified: false,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(TicketView { ticket: link })))
}

/// 400 for any `organization_id`.
pub(super) fn refuse_organization(organization_id: Option<&str>) -> MgmtResult<()> {
    match organization_id {
        Some(_) => Err(ManagementError::invalid_body(
            "Payload validation error: 'organization_id' is not supported: Gatehouse has no organizations.",
        )),
        None => Ok(()),
    }
}

/// `ttl_sec`: absent or 0 for the default, never negative.
fn ttl_seconds(ttl_sec: Option<i64>) -> MgmtResult<i64> {
    match ttl_sec.unwrap_or(0) {
        t if t < 0 => Err(ManagementError::invalid_body(
            "Payload validation error: 'ttl_sec' must not be negative.",
        )),
        t => Ok(t),
    }
}

/// 400 unless `client_id` (when given) names an application.
pub(super) async fn check_client(state: &AppState, client_id: Option<&str>) -> MgmtResult<()> {
    let Some(id) = client_id else {
        return Ok(());
    };
    if id.is_empty() || state.store().client(id).await?.is_none() {
        return Err(ManagementError::invalid_body(format!(
            "Payload validation error: 'client_id' {id:?} is not an application."
        )));
    }
    Ok(())
}

/// 400 unless `result_url` (when given) is an absolute http(s) URL.
fn check_result_url(url: Option<&str>) -> MgmtResult<()> {
    match url {
        Some(url) if !is_http_url(url) => Err(ManagementError::invalid_body(format!(
            "Payload validation error: 'result_url' must be an absolute http or https URL, got {:?}.",
            url.chars().take(100).collect::<String>()
        ))),
        _ => Ok(()),
    }
}

/// `http(s)://host…` with a host, no user info (`https://good@evil`
/// misleads the reader) and nothing a browser would reinterpret: what a
/// ticket's or an email template's `result_url` must be.
pub(crate) fn is_http_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    (scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http"))
        && url.len() <= MAX_URL_CHARS
        && !authority.is_empty()
        && !authority.starts_with(':')
        && !authority.contains('@')
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
}

/// `url` with `email=<email>` added to its query (before any fragment).
fn with_email(url: &str, email: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let separator = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with(['?', '&']) => "",
        Some(_) => "&",
    };
    let pair = form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .finish();
    let mut out = format!("{base}{separator}{pair}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// The user a password-change ticket is for: by `user_id`, or by `email`
/// in the database connection (`connection_id`), never both ways at once.
async fn password_change_user(state: &AppState, body: &PasswordChangeTicket) -> MgmtResult<User> {
    match (&body.user_id, &body.email, &body.connection_id) {
        (Some(_), None, None) => required_user(state, body.user_id.as_deref()).await,
        (Some(_), _, _) => Err(ManagementError::invalid_body(
            "Payload validation error: 'user_id' cannot be combined with 'email' or 'connection_id'.",
        )),
        (None, Some(email), Some(connection_id)) => {
            if connection_id != DEFAULT_CONNECTION_ID {
                return Err(ManagementError::not_found(
                    "The connection does not exist",
                    "inexistent_connection",
                ));
            }
            user_by_email(state, email).await
        }
        (None, _, _) => Err(ManagementError::invalid_body(
            "Payload validation error: give 'user_id', or 'email' with 'connection_id'.",
        )),
    }
}

async fn user_by_email(state: &AppState, email: &str) -> MgmtResult<User> {
    state
        .store()
        .users_with_email(email)
        .await?
        .into_iter()
        .map(|stored| stored.user)
        .find(|user| user.connection == DEFAULT_CONNECTION)
        .ok_or_else(StoredUser::missing)
}

/// The user named by a required `user_id`: 400 when absent, 404 when unknown.
pub(super) async fn required_user(state: &AppState, user_id: Option<&str>) -> MgmtResult<User> {
    let Some(id) = user_id else {
        return Err(ManagementError::invalid_body(
            "Payload validation error: 'Missing required property: user_id'.",
        ));
    };
    if id.is_empty() || id.len() > 255 || id.chars().any(char::is_control) {
        return Err(ManagementError::invalid_body(
            "Payload validation error: 'user_id' is not a valid user id.",
        ));
    }
    Ok(state
        .store()
        .user(id)
        .await?
        .ok_or_else(StoredUser::missing)?
        .user)
}

/// 400 unless `identity` (when given) is the user's database identity.
pub(super) fn check_identity(user: &User, identity: Option<&TicketIdentity>) -> MgmtResult<()> {
    let Some(identity) = identity else {
        return Ok(());
    };
    let database_id = user.user_id.strip_prefix("auth0|").unwrap_or(&user.user_id);
    if identity.provider != "auth0" || identity.user_id != database_id {
        return Err(ManagementError::invalid_body(
            "Payload validation error: 'identity' is not one of the user's identities.",
        ));
    }
    Ok(())
}

/// 400 for a user without an email address: there is nothing to verify or send to.
pub(super) fn require_email(user: &User) -> MgmtResult<()> {
    if user.email.as_deref().is_none_or(str::is_empty) {
        return Err(ManagementError::invalid_body(
            "The user has no email address.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_urls_must_be_absolute_http() {
        for good in [
            "https://app.test/done",
            "http://localhost:3000/cb?x=1#top",
            "HTTPS://APP.TEST",
        ] {
            assert!(is_http_url(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "javascript://app.test/%0aalert(1)",
            "/relative",
            "//app.test/x",
            "https://",
            "https:///path",
            "https://good.test@evil.test/",
            "https://app.test/a b",
            "https://app.test\\@evil.test",
            "ftp://app.test/x",
            "https://app.test/\u{0}",
            "https://:443/",
            "",
            "https://app.test/\r\nSet-Cookie: a",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
        assert!(!is_http_url(&format!(
            "https://app.test/{}",
            "a".repeat(3000)
        )));
    }

    #[test]
    fn email_goes_into_the_query_before_the_fragment() {
        assert_eq!(
            with_email("https://a.test/done", "a+b@x.test"),
            "https://a.test/done?email=a%2Bb%40x.test"
        );
        assert_eq!(
            with_email("https://a.test/done?x=1#f", "a@x.test"),
            "https://a.test/done?x=1&email=a%40x.test#f"
        );
        assert_eq!(
            with_email("https://a.test/done?", "a@x.test"),
            "https://a.test/done?email=a%40x.test"
        );
    }
}
