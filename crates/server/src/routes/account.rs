//! The pages of the emails' flows:
//!
//! - `/u/reset-password/request`: "Forgot your password?" (linked from the
//!   login page) asks for the address and queues the reset email. It shows
//!   the same page whether or not an account exists.
//! - `/u/reset-password?ticket=…`: the reset email's link. The new password is
//!   typed twice and checked against the connection's policy; only then is
//!   the ticket used (atomically, once). The new password ends the user's SSO
//!   sessions and clears brute-force blocks.
//! - `/u/email-verification?ticket=…`: the verification email's link. It
//!   marks the email verified and shows where to go next (or redirects to
//!   the ticket's `result_url`).
//!
//! A used, expired, superseded or unknown link gets a page that says which,
//! changes nothing and logs `fcp`/`fv`; so does a reset link of a blocked user.

use super::dbconnections::request_reset_email;
use crate::audit::{self, codes, Event};
use crate::extract::{counted_ip, Params, PeerIp};
use crate::pages::paths::{LOGIN_PATH, RESET_REQUEST_PATH};
use crate::pages::{self, PageError, PostedForm};
use crate::password::hash_password_blocking;
use crate::routes::management::connections;
use crate::session;
use crate::signup::plausible_email;
use crate::state::AppState;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::password_policy::{PasswordPolicy, PersonalInfo, MAX_PASSWORD_BYTES};
use gatehouse_store::{SessionKind, StoredUser, TicketKind, TicketRedemption, UserTicket};
use serde::Deserialize;
use serde_json::json;

/// What the reset request page says after a request, account or not.
pub const RESET_LINK_SENT: &str =
    "If an account uses this address, we have sent it a link to set a new password. \
     The link works once; a newer email replaces it.";

/// `?ticket=…`.
#[derive(Debug, Deserialize)]
pub struct TicketQuery {
    #[serde(default)]
    ticket: String,
}

/// A page with a title, one message and an optional link onwards.
fn message_page(
    status: StatusCode,
    title: &str,
    message: &str,
    tone: &str,
    link: Option<(&str, &str)>,
) -> Response {
    pages::html(
        status,
        "message.html",
        minijinja::context! {
            title,
            message,
            tone,
            link_url => link.map(|l| l.0),
            link_text => link.map(|l| l.1),
        },
    )
}

// ---- "Forgot your password?" ----

/// `GET /u/reset-password/request?<authorize query>`.
pub async fn reset_request_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let authorize = query.unwrap_or_default();
    reset_request_form(&state, &headers, StatusCode::OK, &authorize, "", None).await
}

async fn reset_request_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    authorize: &str,
    email: &str,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let csrf = session::csrf_token(state, headers);
    let login_url = (!authorize.is_empty()).then(|| format!("{LOGIN_PATH}?{authorize}"));
    let mut response = pages::html(
        status,
        "reset_request.html",
        minijinja::context! { csrf => &csrf.field, authorize, email, error, login_url },
    );
    csrf.set_cookie(state, &mut response);
    Ok(response)
}

/// `POST /u/reset-password/request`.
pub async fn reset_request_submit(
    State(state): State<AppState>,
    PeerIp(peer): PeerIp,
    headers: HeaderMap,
    PostedForm(params): PostedForm,
) -> Result<Response, PageError> {
    let authorize = params.get("authorize").unwrap_or("");
    let email = params.get("email").unwrap_or("").trim();
    if !plausible_email(email) {
        let error = Some("Enter a valid email address.");
        return reset_request_form(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            authorize,
            email,
            error,
        )
        .await;
    }
    let client_id = Params::from_form(authorize.as_bytes())
        .ok()
        .and_then(|p| p.get("client_id").map(str::to_string));
    let client_id = match client_id {
        Some(id) if state.store().client(&id).await?.is_some() => Some(id),
        _ => None,
    };
    let ip = counted_ip(peer);
    if let Err(refusal) = request_reset_email(&state, &ip, email, client_id.as_deref()).await {
        if refusal.status() == StatusCode::TOO_MANY_REQUESTS {
            let mut page = reset_request_form(
                &state,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                authorize,
                email,
                Some(crate::rate_limit::TOO_MANY_REQUESTS),
            )
            .await?;
            for name in [
                "x-ratelimit-limit",
                "x-ratelimit-remaining",
                "x-ratelimit-reset",
            ] {
                if let Some(v) = refusal.headers().get(name) {
                    page.headers_mut().insert(name, v.clone());
                }
            }
            return Ok(page);
        }
        return Ok(refusal);
    }
    let back = format!("{LOGIN_PATH}?{authorize}");
    Ok(message_page(
        StatusCode::OK,
        "Check your email",
        RESET_LINK_SENT,
        "ok",
        (!authorize.is_empty()).then_some((back.as_str(), "Back to log in")),
    ))
}

// ---- the links' pages ----

/// Why a link does not work, in words for the person holding it.
fn unusable(redemption: &TicketRedemption) -> &'static str {
    match redemption {
        TicketRedemption::Used => "This link was already used. Links in these emails work once.",
        TicketRedemption::Expired => "This link has expired. Ask for a new email.",
        TicketRedemption::Superseded => {
            "A newer email replaced this link. Use the link in the latest email."
        }
        TicketRedemption::NotFound | TicketRedemption::Redeemed(_) => {
            "This link is not valid. Check that you copied the whole link, or ask for a new email."
        }
    }
}

/// The ticket a link names, if it is of `kind` and still usable at `now`.
async fn usable_ticket(
    state: &AppState,
    secret: &str,
    kind: TicketKind,
) -> Result<Result<UserTicket, TicketRedemption>, PageError> {
    if secret.is_empty() || secret.len() > 128 {
        return Ok(Err(TicketRedemption::NotFound));
    }
    let now = state.now();
    Ok(
        match state
            .store()
            .ticket(&crate::email::tickets::hash_of(secret))
            .await?
        {
            None => Err(TicketRedemption::NotFound),
            Some(t) if t.kind != kind => Err(TicketRedemption::NotFound),
            Some(t) if t.used_at.is_some() => Err(TicketRedemption::Used),
            Some(t) if t.superseded_at.is_some() => Err(TicketRedemption::Superseded),
            Some(t) if t.expires_at <= now => Err(TicketRedemption::Expired),
            Some(t) => Ok(t),
        },
    )
}

async fn log_ticket_event(
    state: &AppState,
    code: &str,
    description: &str,
    ticket: Option<&UserTicket>,
) {
    audit::record(
        state,
        Event {
            code,
            description: description.into(),
            client_id: ticket.and_then(|t| t.client_id.as_deref()),
            user_id: ticket.map(|t| t.user_id.as_str()),
            extra: json!({}),
            ..Event::default()
        },
    )
    .await;
}

async fn link_refused(
    state: &AppState,
    code: &str,
    why: &TicketRedemption,
    title: &str,
) -> Response {
    let message = unusable(why);
    log_ticket_event(state, code, message, None).await;
    // A dead reset link leads to asking for a new one.
    let again = (code == codes::PASSWORD_CHANGE_FAILED)
        .then_some((RESET_REQUEST_PATH, "Ask for a new email"));
    message_page(StatusCode::BAD_REQUEST, title, message, "error", again)
}

/// A blocked user's reset link changes nothing: `change_password` mails such
/// a user no link, and one mailed before the block must not set the password
/// (nor lift brute-force blocks) of an account an administrator blocked.
async fn blocked_refusal(state: &AppState, ticket: &UserTicket, title: &str) -> Response {
    const BLOCKED: &str = "This account is blocked. Contact the administrator.";
    log_ticket_event(state, codes::PASSWORD_CHANGE_FAILED, BLOCKED, Some(ticket)).await;
    message_page(StatusCode::BAD_REQUEST, title, BLOCKED, "error", None)
}

/// `GET /u/reset-password?ticket=…`.
pub async fn reset_password_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<TicketQuery>,
) -> Result<Response, PageError> {
    let ticket = match usable_ticket(&state, &query.ticket, TicketKind::PasswordChange).await? {
        Ok(t) => t,
        Err(why) => {
            return Ok(link_refused(
                &state,
                codes::PASSWORD_CHANGE_FAILED,
                &why,
                "Reset your password",
            )
            .await)
        }
    };
    let Some(user) = state.store().user(&ticket.user_id).await? else {
        return Ok(link_refused(
            &state,
            codes::PASSWORD_CHANGE_FAILED,
            &TicketRedemption::NotFound,
            "Reset your password",
        )
        .await);
    };
    if user.user.blocked {
        return Ok(blocked_refusal(&state, &ticket, "Reset your password").await);
    }
    let policy = connections::database_options(&state)
        .await?
        .password_policy();
    reset_form(
        &state,
        &headers,
        StatusCode::OK,
        &query.ticket,
        &user,
        &policy,
        None,
    )
    .await
}

async fn reset_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    secret: &str,
    user: &StoredUser,
    policy: &PasswordPolicy,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let csrf = session::csrf_token(state, headers);
    let mut response = pages::html(
        status,
        "reset_password.html",
        minijinja::context! {
            csrf => &csrf.field,
            ticket => secret,
            email => user.user.email.as_deref().unwrap_or(""),
            rules => policy.rule_lines(),
            error,
        },
    );
    csrf.set_cookie(state, &mut response);
    Ok(response)
}

/// `POST /u/reset-password`.
pub async fn reset_password_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    PostedForm(params): PostedForm,
) -> Result<Response, PageError> {
    const TITLE: &str = "Reset your password";
    let secret = params.get("ticket").unwrap_or("");
    let password = params.get("password").unwrap_or("");
    let confirm = params.get("password_confirm").unwrap_or("");
    let ticket = match usable_ticket(&state, secret, TicketKind::PasswordChange).await? {
        Ok(t) => t,
        Err(why) => {
            return Ok(link_refused(&state, codes::PASSWORD_CHANGE_FAILED, &why, TITLE).await)
        }
    };
    let Some(mut user) = state.store().user(&ticket.user_id).await? else {
        return Ok(link_refused(
            &state,
            codes::PASSWORD_CHANGE_FAILED,
            &TicketRedemption::NotFound,
            TITLE,
        )
        .await);
    };
    if user.user.blocked {
        return Ok(blocked_refusal(&state, &ticket, TITLE).await);
    }
    let policy = connections::database_options(&state)
        .await?
        .password_policy();
    let again = |error: String| {
        let (state, headers, user, policy) = (&state, &headers, &user, &policy);
        async move {
            reset_form(
                state,
                headers,
                StatusCode::BAD_REQUEST,
                secret,
                user,
                policy,
                Some(&error),
            )
            .await
        }
    };
    if password != confirm {
        return again("The two passwords are not the same.".into()).await;
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return again("The password is too long.".into()).await;
    }
    if let Err(e) = policy.check(password, &PersonalInfo::of(&user.user)) {
        log_ticket_event(
            &state,
            codes::PASSWORD_CHANGE_FAILED,
            e.message(),
            Some(&ticket),
        )
        .await;
        return again(format!("{}.", e.message())).await;
    }
    let hash = hash_password_blocking(password.to_string())
        .await
        .map_err(PageError::internal)?;
    // Used only now, when everything else passed: a typo does not burn the link.
    let now = state.now();
    let ticket = match state.store().redeem_ticket(&ticket.id_hash, now).await? {
        TicketRedemption::Redeemed(t) => t,
        other => {
            return Ok(link_refused(&state, codes::PASSWORD_CHANGE_FAILED, &other, TITLE).await)
        }
    };
    user.password_hash = Some(hash);
    if ticket.mark_email_verified {
        user.user.email_verified = true;
    }
    user.user.updated_at = now;
    state.store().update_user(&user).await?;
    state
        .store()
        .end_user_sessions(SessionKind::Sso, &user.user.user_id, now)
        .await?;
    if let Some(email) = &user.user.email {
        state
            .store()
            .clear_login_blocks(&email.to_lowercase())
            .await?;
    }
    log_ticket_event(&state, codes::PASSWORD_CHANGED, "", Some(&ticket)).await;
    let link = ticket.result_url.as_deref().map(|url| (url, "Continue"));
    Ok(message_page(
        StatusCode::OK,
        "Password changed",
        "Your password was changed. Log in with the new password.",
        "ok",
        link,
    ))
}

/// `GET /u/email-verification?ticket=…`.
pub async fn verify_email(
    State(state): State<AppState>,
    Query(query): Query<TicketQuery>,
) -> Result<Response, PageError> {
    const TITLE: &str = "Verify your email";
    let ticket = match usable_ticket(&state, &query.ticket, TicketKind::EmailVerification).await? {
        Ok(t) => t,
        Err(why) => {
            return Ok(link_refused(&state, codes::EMAIL_VERIFICATION_FAILED, &why, TITLE).await)
        }
    };
    let now = state.now();
    let ticket = match state.store().redeem_ticket(&ticket.id_hash, now).await? {
        TicketRedemption::Redeemed(t) => t,
        other => {
            return Ok(link_refused(&state, codes::EMAIL_VERIFICATION_FAILED, &other, TITLE).await)
        }
    };
    let Some(mut user) = state.store().user(&ticket.user_id).await? else {
        return Ok(link_refused(
            &state,
            codes::EMAIL_VERIFICATION_FAILED,
            &TicketRedemption::NotFound,
            TITLE,
        )
        .await);
    };
    let newly_verified = !user.user.email_verified;
    user.user.email_verified = true;
    user.user.updated_at = now;
    state.store().update_user(&user).await?;
    log_ticket_event(&state, codes::EMAIL_VERIFIED, "", Some(&ticket)).await;
    if newly_verified {
        if let Err(e) = crate::email::welcome(&state, &user.user, ticket.client_id.as_deref()).await
        {
            tracing::warn!(error = %e, "could not queue the welcome email");
        }
    }
    const VERIFIED: &str = "Your email was verified. You can continue using the application.";
    if let Some(url) = &ticket.result_url {
        let base = url.split('#').next().unwrap_or(url);
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("success", "true")
            .append_pair("code", "success")
            .append_pair("message", VERIFIED)
            .finish();
        let separator = if base.contains('?') { '&' } else { '?' };
        let target = format!("{base}{separator}{query}");
        return Ok(super::authorize::respond::redirect(&target));
    }
    Ok(message_page(
        StatusCode::OK,
        "Email verified",
        VERIFIED,
        "ok",
        None,
    ))
}

/// The "Forgot your password?" link of the login page.
pub fn reset_request_url(authorize: &str) -> String {
    format!("{RESET_REQUEST_PATH}?{authorize}")
}
