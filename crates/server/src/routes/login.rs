//! The login and signup pages (`/u/login`, `/u/signup`): email and password
//! against the tenant's database connection, argon2id hashes.
//!
//! Both pages take the `/authorize` query string, carry it in a hidden field,
//! and on success start an SSO session and continue the authorization
//! ([`authorize::run`]) in the same response. The login page also serves the
//! device flow: with a `user_code` it continues at `/activate`.
//!
//! Signup needs a valid authorization request (known client, registered
//! `redirect_uri`) and the database connection's signup enabled
//! (`options.disable_signup`, as in Auth0); otherwise neither the page nor
//! its form creates anyone.

use super::authorize::{self, ConsentAnswer, Interaction};
use crate::actions::RequestFacts;
use crate::audit::{self, Event};
use crate::brute_force::{check_password, PasswordAttempt, PasswordCheck};
use crate::extract::{counted_ip, Params, PeerIp};
use crate::pages::paths::{ACTIVATE_PATH, LOGIN_PATH, SIGNUP_PATH};
use crate::pages::{self, PageError, PostedForm};
use crate::rate_limit::{Bucket, Hit, RateLimiter, Throttled, TOO_MANY_REQUESTS};
use crate::session;
use crate::signup::{self, Signup, SignupError};
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::error::messages::{TOO_MANY_ATTEMPTS, WRONG_EMAIL_OR_PASSWORD};
use gatehouse_core::model::User;
use serde_json::json;

pub use crate::signup::SIGNUP_DISABLED;

/// The response to send instead of the signup page or its result, if any:
/// see the module docs.
async fn signup_refused(state: &AppState, authorize: &str) -> Result<Option<Response>, PageError> {
    if let Err(response) = authorize::check_request(state, authorize).await {
        return Ok(Some(response));
    }
    if super::management::connections::database_options(state)
        .await?
        .disable_signup
    {
        return Err(PageError::bad_request(SIGNUP_DISABLED));
    }
    Ok(None)
}

/// Shown when a page is opened without the application's request.
const START_AGAIN: &str = "Start again from your application.";

/// What a login or signup page shows.
struct Form<'a> {
    template: &'static str,
    authorize: &'a str,
    user_code: &'a str,
    email: &'a str,
    error: Option<&'a str>,
}

impl<'a> Form<'a> {
    /// The page as first shown: no email typed, no error.
    fn blank(template: &'static str, authorize: &'a str, user_code: &'a str) -> Self {
        Self {
            template,
            authorize,
            user_code,
            email: "",
            error: None,
        }
    }
}

/// Renders the login or signup page with a CSRF token.
async fn page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    f: Form<'_>,
) -> Result<Response, PageError> {
    let params = Params::from_form(f.authorize.as_bytes()).unwrap_or_default();
    let client_name = match params.get("client_id") {
        Some(id) => match state.store().client(id).await? {
            Some(c) => c.client.name,
            None => {
                return Err(PageError::bad_request(
                    "Unknown client. Start again from your application.",
                ))
            }
        },
        None if !f.user_code.is_empty() || f.template == "login.html" => "your device".into(),
        None => return Err(PageError::bad_request(START_AGAIN)),
    };
    let email = if f.email.is_empty() {
        params.get("login_hint").unwrap_or("")
    } else {
        f.email
    };
    let options = super::management::connections::database_options(state).await?;
    let signup_open = !options.disable_signup;
    let policy = options.password_policy();
    let csrf = session::csrf_token(state, headers);
    let with_query = |path: &str| format!("{path}?{}", f.authorize);
    let mut response = pages::html(
        status,
        f.template,
        minijinja::context! {
            client_name,
            csrf => &csrf.field,
            authorize => f.authorize,
            user_code => f.user_code,
            email,
            error => f.error,
            signup_url => (signup_open && !f.authorize.is_empty()).then(|| with_query(SIGNUP_PATH)),
            login_url => with_query(LOGIN_PATH),
            reset_url => (!f.authorize.is_empty()).then(|| super::account::reset_request_url(f.authorize)),
            password_rules => policy.rule_lines(),
            password_min_length => policy.min_chars(),
        },
    );
    csrf.set_cookie(state, &mut response);
    Ok(response)
}

/// The login page for the device flow (from `/activate`).
pub async fn device_login_page(
    state: &AppState,
    headers: &HeaderMap,
    user_code: &str,
) -> Result<Response, PageError> {
    page(
        state,
        headers,
        StatusCode::OK,
        Form::blank("login.html", "", user_code),
    )
    .await
}

/// `GET /u/login?<authorize query>`.
pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = query.unwrap_or_default();
    if query.is_empty() {
        return Err(PageError::bad_request(START_AGAIN));
    }
    page(
        &state,
        &headers,
        StatusCode::OK,
        Form::blank("login.html", &query, ""),
    )
    .await
}

/// `GET /u/signup?<authorize query>`.
pub async fn signup_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = query.unwrap_or_default();
    if let Some(refused) = signup_refused(&state, &query).await? {
        return Ok(refused);
    }
    page(
        &state,
        &headers,
        StatusCode::OK,
        Form::blank("signup.html", &query, ""),
    )
    .await
}

/// `POST /u/login`.
pub async fn login_submit(
    State(state): State<AppState>,
    PeerIp(peer): PeerIp,
    headers: HeaderMap,
    PostedForm(params): PostedForm,
) -> Result<Response, PageError> {
    let authorize = params.get("authorize").unwrap_or("");
    let user_code = params.get("user_code").unwrap_or("");
    let email = params.get("email").unwrap_or("").trim();
    let password = params.get("password").unwrap_or("");
    let again = |status: StatusCode, error: &'static str| {
        let form = Form {
            template: "login.html",
            authorize,
            user_code,
            email,
            error: Some(error),
        };
        page(&state, &headers, status, form)
    };
    let now = state.now();
    let tenant = state.store().tenant_settings().await?;
    let client_id = Params::from_form(authorize.as_bytes())
        .ok()
        .and_then(|p| p.get("client_id").map(str::to_string));
    let ip = counted_ip(peer);
    let attempt = PasswordAttempt {
        client_id: client_id.as_deref(),
        ip: &ip,
        connection: &tenant.default_directory,
        email,
        password: password.into(),
        failure_description: "Wrong email or password",
        now,
    };
    let user = match check_password(&state, &tenant, attempt).await? {
        PasswordCheck::Verified(stored) => stored.user,
        PasswordCheck::Wrong => {
            return again(StatusCode::BAD_REQUEST, WRONG_EMAIL_OR_PASSWORD).await
        }
        PasswordCheck::Locked => {
            return again(StatusCode::TOO_MANY_REQUESTS, TOO_MANY_ATTEMPTS).await
        }
        PasswordCheck::Throttled(throttled) => {
            let page = again(StatusCode::TOO_MANY_REQUESTS, TOO_MANY_REQUESTS).await?;
            return Ok(with_limit_headers(page, &throttled));
        }
    };
    if user.blocked {
        return again(StatusCode::BAD_REQUEST, "This account is blocked.").await;
    }
    state.store().record_login(&user.user_id, now).await?;
    log(
        &state,
        audit::codes::LOGIN_OK,
        "",
        authorize,
        Some(&user.user_id),
    )
    .await;
    continue_after_login(&state, &headers, &user, authorize, user_code, now).await
}

/// `POST /u/signup`. Attempts are rate-limited per IP, so probing which
/// emails exist ("The user already exists.") is slow.
pub async fn signup_submit(
    State(state): State<AppState>,
    PeerIp(peer): PeerIp,
    headers: HeaderMap,
    PostedForm(params): PostedForm,
) -> Result<Response, PageError> {
    let authorize = params.get("authorize").unwrap_or("");
    let email = params.get("email").unwrap_or("").trim();
    let password = params.get("password").unwrap_or("");
    let again = |error: &'static str| Form {
        template: "signup.html",
        authorize,
        user_code: "",
        email,
        error: Some(error),
    };
    if let Some(refused) = signup_refused(&state, authorize).await? {
        return Ok(refused);
    }
    let ip = counted_ip(peer);
    let client_id = Params::from_form(authorize.as_bytes())
        .ok()
        .and_then(|p| p.get("client_id").map(str::to_string));
    let limiter = RateLimiter::load(&state, client_id.as_deref(), state.now()).await?;
    if let Hit::Over(throttled) = limiter.hit(Bucket::SignupsFromIp(&ip)).await? {
        let form = again(TOO_MANY_REQUESTS);
        let page = page(&state, &headers, StatusCode::TOO_MANY_REQUESTS, form).await?;
        return Ok(with_limit_headers(page, &throttled));
    }
    let client = match &client_id {
        Some(id) => state.store().client(id).await?.map(|c| c.client),
        None => None,
    };
    let signup = Signup {
        email,
        password,
        ..Signup::default()
    };
    let request = RequestFacts::post(&params);
    let user = match signup::register(&state, &signup, client.as_ref(), &request).await {
        Ok(user) => user,
        Err(SignupError::Store(e)) => return Err(e.into()),
        Err(SignupError::Internal(e)) => return Err(PageError::internal(e)),
        Err(refused) => {
            let shown = signup_refusal(&refused);
            let form = Form {
                error: Some(&shown),
                ..again("")
            };
            return page(&state, &headers, StatusCode::BAD_REQUEST, form).await;
        }
    };
    let now = state.now();
    continue_after_login(&state, &headers, &user, authorize, "", now).await
}

/// Starts the SSO session (ending any previous one in this browser) and
/// continues the authorization or the device activation.
async fn continue_after_login(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    authorize: &str,
    user_code: &str,
    now: i64,
) -> Result<Response, PageError> {
    session::end(state, headers, now).await?;
    let (cookie, new_session) = session::start(state, &user.user_id, now).await?;
    let max_age = new_session.expires_at - now;
    let mut response = if authorize.is_empty() {
        let target = format!(
            "{ACTIVATE_PATH}?user_code={}",
            form_urlencoded::byte_serialize(user_code.as_bytes()).collect::<String>()
        );
        super::authorize::respond::redirect(&target)
    } else {
        let ix = Interaction {
            session: Some(new_session),
            fresh_login: true,
            consent: ConsentAnswer::Unasked,
        };
        authorize::run(state, authorize, ix, now).await
    };
    session::set_session_cookie(state, &mut response, &cookie, max_age);
    Ok(response)
}

fn with_limit_headers(mut page: Response, throttled: &Throttled) -> Response {
    throttled.set_headers(page.headers_mut());
    page
}

/// What the signup page says when no account was created.
fn signup_refusal(error: &SignupError) -> String {
    match error {
        SignupError::Disabled => SIGNUP_DISABLED.into(),
        SignupError::InvalidEmail => "Enter a valid email address.".into(),
        SignupError::Password(e, _) => format!("{}.", e.message()),
        SignupError::Refused(message) => message.clone(),
        // The page is rate-limited per IP; Auth0's page says so too.
        SignupError::Exists => "The user already exists.".into(),
        SignupError::Store(_) | SignupError::Internal(_) => "Something went wrong.".into(),
    }
}

async fn log(
    state: &AppState,
    code: &str,
    description: &str,
    authorize: &str,
    user_id: Option<&str>,
) {
    let params = Params::from_form(authorize.as_bytes()).unwrap_or_default();
    audit::record(
        state,
        Event {
            code,
            description: description.into(),
            client_id: params.get("client_id"),
            user_id,
            jti: None,
            trace: None,
            extra: json!({}),
            ..Event::default()
        },
    )
    .await;
}
