//! Signing in to the dashboard through Gatehouse's own `/authorize`: the
//! dashboard is a first-party client of its tenant
//! ([`crate::bootstrap::ensure_dashboard_client`]) using the authorization
//! code with PKCE, like any web application.
//!
//! 1. `GET /admin/sign-in` shows the sign-in page (and why, after a refusal).
//! 2. `GET /admin/sign-in/start` keeps `state`, the PKCE verifier and the
//!    page to return to in a short-lived cookie and redirects to `/authorize`.
//! 3. `GET /admin/callback` checks `state`, redeems the code in-process with
//!    the token endpoint's own exchange (so it is logged like any exchange),
//!    and opens a dashboard session only for a user holding the dashboard
//!    permission ([`super::session::PERMISSION`]).
//! 4. `POST /admin/sign-out` ends the dashboard session, then the SSO
//!    session through `/v2/logout`.

use super::form::AdminForm;
use super::render::{bare, AdminError, AdminResult};
use super::session::{self, is_dashboard_path, may_use_dashboard, set_cookie};
use crate::bootstrap::{dashboard_callback, dashboard_signed_out, ensure_dashboard_client};
use crate::routes::token::authorization_code;
use crate::session::cookie;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cookie::time::Duration;
use cookie::{Cookie, SameSite};
use gatehouse_core::ids;
use gatehouse_core::jose::decode_unverified;
use gatehouse_core::pkce::s256_challenge;
use gatehouse_core::secret::constant_time_eq;
use minijinja::context;
use serde::Deserialize;

/// The cookie holding one sign-in's `state`, verifier and return path.
const TRANSACTION_COOKIE: &str = "gatehouse_admin_tx";
/// How long a sign-in may take at `/authorize`.
const TRANSACTION_SECONDS: i64 = 600;

#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    return_to: Option<String>,
    /// `login` to sign in as someone else.
    prompt: Option<String>,
}

/// `GET /admin/sign-in`: the page; a signed-in admin goes straight on.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> AdminResult {
    if session::signed_in(&state, &headers).await?.is_some() {
        return Ok(Redirect::to(&return_path(query.return_to.as_deref())).into_response());
    }
    Ok(sign_in_page(
        StatusCode::OK,
        None,
        query.return_to.as_deref(),
    ))
}

fn sign_in_page(status: StatusCode, problem: Option<String>, return_to: Option<&str>) -> Response {
    let start = match return_to.filter(|p| is_dashboard_path(p)) {
        Some(path) => format!("/admin/sign-in/start?return_to={}", encode(path)),
        None => "/admin/sign-in/start".into(),
    };
    bare(
        status,
        "sign_in.html",
        context! { problem => problem, start => start },
    )
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn return_path(requested: Option<&str>) -> String {
    requested
        .filter(|p| is_dashboard_path(p))
        .unwrap_or("/admin")
        .to_string()
}

/// `GET /admin/sign-in/start`: off to `/authorize`.
pub async fn start(State(state): State<AppState>, Query(query): Query<SignInQuery>) -> AdminResult {
    let client = ensure_dashboard_client(state.store(), state.issuer(), state.now()).await?;
    let tx_state = ids::random_token(16);
    let verifier = ids::random_token(32);
    let back = return_path(query.return_to.as_deref());
    let mut params = vec![
        ("response_type", "code".to_string()),
        ("client_id", client.client_id),
        ("redirect_uri", dashboard_callback(state.issuer())),
        ("scope", "openid profile email".to_string()),
        ("state", tx_state.clone()),
        ("code_challenge", s256_challenge(&verifier)),
        ("code_challenge_method", "S256".to_string()),
    ];
    if query.prompt.as_deref() == Some("login") {
        params.push(("prompt", "login".to_string()));
    }
    let query_string = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let mut response = Redirect::to(&format!("/authorize?{query_string}")).into_response();
    let value = format!("{tx_state}.{verifier}.{}", URL_SAFE_NO_PAD.encode(back));
    set_cookie(
        &mut response,
        transaction_cookie(&state, &value, TRANSACTION_SECONDS),
    );
    Ok(response)
}

fn transaction_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let cookie = Cookie::build((TRANSACTION_COOKIE, value))
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.issuer().starts_with("https://"))
        .max_age(Duration::seconds(max_age))
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// One sign-in in progress, as its cookie holds it.
struct Transaction {
    state: String,
    verifier: String,
    return_to: String,
}

fn transaction(headers: &HeaderMap) -> Option<Transaction> {
    let mut parts = cookie(headers, TRANSACTION_COOKIE)?.split('.');
    let (state, verifier, back) = (parts.next()?, parts.next()?, parts.next()?);
    let back = String::from_utf8(URL_SAFE_NO_PAD.decode(back).ok()?).ok()?;
    Some(Transaction {
        state: state.to_string(),
        verifier: verifier.to_string(),
        return_to: return_path(Some(&back)),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

const SIGN_IN_EXPIRED: &str =
    "The sign-in took too long or was started in another tab. Sign in again.";

/// `GET /admin/callback`: the answer of `/authorize`.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> AdminResult {
    let refuse = |status, message: String| {
        let mut response = sign_in_page(status, Some(message), None);
        set_cookie(&mut response, transaction_cookie(&state, "", 0));
        Ok(response)
    };
    let Some(tx) = transaction(&headers) else {
        return refuse(StatusCode::BAD_REQUEST, SIGN_IN_EXPIRED.into());
    };
    let state_matches = query
        .state
        .as_deref()
        .is_some_and(|s| constant_time_eq(s.as_bytes(), tx.state.as_bytes()));
    if !state_matches {
        return refuse(StatusCode::BAD_REQUEST, SIGN_IN_EXPIRED.into());
    }
    if let Some(error) = query.error {
        let description = query.error_description.unwrap_or_default();
        return refuse(
            StatusCode::UNAUTHORIZED,
            format!("Sign-in did not finish ({error}): {description}"),
        );
    }
    let Some(code) = query.code else {
        return refuse(StatusCode::BAD_REQUEST, SIGN_IN_EXPIRED.into());
    };
    let user_id = match redeem(&state, &code, &tx.verifier).await? {
        Some(user_id) => user_id,
        None => return refuse(StatusCode::BAD_REQUEST, SIGN_IN_EXPIRED.into()),
    };
    if !may_use_dashboard(&state, &user_id).await? {
        let who = state
            .store()
            .user(&user_id)
            .await?
            .and_then(|u| u.user.email)
            .unwrap_or(user_id);
        return refuse(StatusCode::FORBIDDEN, no_access_message(&who));
    }
    let mut response = Redirect::to(&tx.return_to).into_response();
    set_cookie(&mut response, transaction_cookie(&state, "", 0));
    set_cookie(&mut response, session::start(&state, &user_id).await?);
    Ok(response)
}

fn no_access_message(who: &str) -> String {
    format!(
        "You are signed in as {who}, and this account cannot use the dashboard. \
         An administrator can give it the permission {} on the Gatehouse Management API, \
         for example through the Admin role.",
        session::PERMISSION
    )
}

/// Redeems the code as the dashboard client; the user it was issued for, or
/// `None` when the code is not (or no longer) good.
async fn redeem(
    state: &AppState,
    code: &str,
    verifier: &str,
) -> Result<Option<String>, AdminError> {
    let client = ensure_dashboard_client(state.store(), state.issuer(), state.now()).await?;
    let callback = dashboard_callback(state.issuer());
    let issued = authorization_code::exchange(
        state,
        &client,
        code,
        Some(&callback),
        Some(verifier),
        state.now(),
    )
    .await;
    let Ok(tokens) = issued else {
        return Ok(None);
    };
    let subject = tokens
        .id_token
        .as_deref()
        .and_then(|t| decode_unverified(t).ok())
        .and_then(|(_, claims)| claims.get("sub").and_then(|s| s.as_str()).map(String::from));
    Ok(subject)
}

/// `POST /admin/sign-out`: ends the dashboard session, then the SSO session.
pub async fn sign_out(State(state): State<AppState>, form: AdminForm) -> AdminResult {
    let cleared = session::end(&state, &form.admin).await?;
    let client = ensure_dashboard_client(state.store(), state.issuer(), state.now()).await?;
    let logout = format!(
        "/v2/logout?client_id={}&returnTo={}",
        encode(&client.client_id),
        encode(&dashboard_signed_out(state.issuer()))
    );
    let mut response = Redirect::to(&logout).into_response();
    set_cookie(&mut response, cleared);
    Ok(response)
}
