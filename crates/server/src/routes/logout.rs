//! Logout (auth0-compat.md §5): both endpoints end the SSO session.
//!
//! - `GET /v2/logout?client_id&returnTo`: `returnTo` must be one of the
//!   client's `allowed_logout_urls` (the tenant's without `client_id`);
//!   without `returnTo`, the client's first allowed URL, else a "logged out"
//!   page. A URL that is not allowed shows Auth0's error text.
//! - `GET|POST /oidc/logout` (OIDC RP-Initiated Logout 1.0): with a valid
//!   `id_token_hint` the session ends at once and the browser goes to
//!   `post_logout_redirect_uri` (allowed for the hint's client) with `state`;
//!   without a hint the person confirms first (`POST /oidc/logout/confirm`).

use super::authorize::respond::{redirect, with_query};
use super::login::{internal, PostedForm};
use crate::audit::{self, Event};
use crate::extract::Params;
use crate::pages;
use crate::session;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::jose::{decode_unverified, verify_jwt, VerifyingKey};
use gatehouse_core::model::Client;
use serde_json::{json, Value};

/// Auth0's error text for a `returnTo` that is not allowed (auth0-react#127).
pub fn return_to_not_allowed(url: &str) -> String {
    format!(
        "The \"returnTo\" querystring parameter \"{url}\" is not defined as a valid URL in \"Allowed Logout URLs\"."
    )
}

fn bad_request(state: &AppState, description: &str) -> Response {
    pages::error_page(
        state,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        description,
    )
}

fn signed_out_page(state: &AppState) -> Response {
    pages::html(
        StatusCode::OK,
        "logout.html",
        minijinja::context! { tenant => pages::tenant_name(state), done => true },
    )
}

async fn find_client(state: &AppState, client_id: &str) -> Result<Option<Client>, String> {
    Ok(state
        .store()
        .client(client_id)
        .await
        .map_err(|e| e.to_string())?
        .map(|c| c.client))
}

/// Whether `url` is an allowed logout URL of `client` (or of the tenant).
async fn allowed(state: &AppState, client: Option<&Client>, url: &str) -> Result<bool, String> {
    let list = match client {
        Some(c) => c.allowed_logout_urls.clone(),
        None => {
            state
                .store()
                .tenant_settings()
                .await
                .map_err(|e| e.to_string())?
                .allowed_logout_urls
        }
    };
    Ok(list.iter().any(|u| u == url))
}

/// Ends the session, clears the cookie on `response`, logs `slo`.
async fn end_session(
    state: &AppState,
    headers: &HeaderMap,
    client_id: Option<&str>,
    mut response: Response,
) -> Response {
    let now = state.now();
    match session::end(state, headers, now).await {
        Ok(ended) => {
            if let Some(s) = ended {
                audit::record(
                    state,
                    Event {
                        code: audit::codes::LOGOUT_OK,
                        description: "Successful logout".into(),
                        client_id,
                        user_id: Some(&s.user_id),
                        jti: None,
                        trace: None,
                        extra: json!({}),
                    },
                )
                .await;
            }
        }
        Err(e) => return internal(state, &format!("{e:?}")),
    }
    session::clear_session_cookie(state, &mut response);
    response
}

/// `GET /v2/logout`.
pub async fn v2_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match Params::from_form(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return bad_request(&state, &e.error_description),
    };
    let client = match params.get("client_id") {
        Some(id) => match find_client(&state, id).await {
            Ok(Some(c)) => Some(c),
            Ok(None) => return bad_request(&state, &format!("Unknown client: {id}")),
            Err(e) => return internal(&state, &e),
        },
        None => None,
    };
    let target = match params.get("returnTo") {
        Some(url) => match allowed(&state, client.as_ref(), url).await {
            Ok(true) => Some(url.to_string()),
            Ok(false) => return bad_request(&state, &return_to_not_allowed(url)),
            Err(e) => return internal(&state, &e),
        },
        None => client
            .as_ref()
            .and_then(|c| c.allowed_logout_urls.first().cloned()),
    };
    let response = match target {
        Some(url) => redirect(&url),
        None => signed_out_page(&state),
    };
    end_session(&state, &headers, params.get("client_id"), response).await
}

/// The claims of an ID token Gatehouse signed (expired ones included: a
/// hint may be old), or `None`.
fn verify_hint(state: &AppState, token: &str) -> Option<Value> {
    let (header, _) = decode_unverified(token).ok()?;
    let key = state.keys().published_key(header.kid.as_deref()?)?;
    let claims = verify_jwt(
        token,
        &VerifyingKey::from(key.as_ref()),
        &[key.alg().as_str()],
    )
    .ok()?;
    (claims.get("iss").and_then(Value::as_str) == Some(state.issuer())).then_some(claims)
}

fn hint_client_id(claims: &Value) -> Option<String> {
    match claims.get("aud") {
        Some(Value::String(a)) => Some(a.clone()),
        Some(Value::Array(list)) => list.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// `post_logout_redirect_uri` with `state` appended.
fn with_state(url: &str, state_param: Option<&str>) -> String {
    let params: Vec<(&'static str, String)> = state_param
        .map(|s| ("state", s.to_string()))
        .into_iter()
        .collect();
    with_query(url, &params)
}

/// `GET|POST /oidc/logout`.
pub async fn oidc_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let source = if body.is_empty() {
        query.unwrap_or_default().into_bytes()
    } else {
        body.to_vec()
    };
    let params = match Params::from_form(&source) {
        Ok(p) => p,
        Err(e) => return bad_request(&state, &e.error_description),
    };
    let uri = params.get("post_logout_redirect_uri");
    let Some(hint) = params.get("id_token_hint") else {
        return confirmation_page(&state, &headers, &params).await;
    };
    let Some(claims) = verify_hint(&state, hint) else {
        return bad_request(
            &state,
            "The id_token_hint is not a valid ID token issued by this server.",
        );
    };
    let Some(client_id) = hint_client_id(&claims) else {
        return bad_request(&state, "The id_token_hint has no audience.");
    };
    if params.get("client_id").is_some_and(|c| c != client_id) {
        return bad_request(
            &state,
            "client_id does not match the audience of the id_token_hint.",
        );
    }
    if let Some(logout_hint) = params.get("logout_hint") {
        if claims.get("sid").and_then(Value::as_str) != Some(logout_hint) {
            return bad_request(
                &state,
                "logout_hint does not match the session of the id_token_hint.",
            );
        }
    }
    let client = match find_client(&state, &client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return bad_request(&state, &format!("Unknown client: {client_id}")),
        Err(e) => return internal(&state, &e),
    };
    let response = match uri {
        Some(url) if client.allowed_logout_urls.iter().any(|u| u == url) => {
            redirect(&with_state(url, params.get("state")))
        }
        Some(url) => {
            return bad_request(
                &state,
                &format!("The post_logout_redirect_uri \"{url}\" is not in the Allowed Logout URLs of client {client_id}."),
            )
        }
        None => signed_out_page(&state),
    };
    end_session(&state, &headers, Some(&client_id), response).await
}

async fn confirmation_page(state: &AppState, headers: &HeaderMap, params: &Params) -> Response {
    let client_name = match params.get("client_id") {
        Some(id) => match find_client(state, id).await {
            Ok(c) => c.map(|c| c.name),
            Err(e) => return internal(state, &e),
        },
        None => None,
    };
    let csrf = session::csrf_token(state, headers);
    let mut response = pages::html(
        StatusCode::OK,
        "logout.html",
        minijinja::context! {
            tenant => pages::tenant_name(state),
            done => false,
            client_name,
            client_id => params.get("client_id").unwrap_or(""),
            post_logout_redirect_uri => params.get("post_logout_redirect_uri").unwrap_or(""),
            state => params.get("state").unwrap_or(""),
            csrf => &csrf.field,
        },
    );
    csrf.set_cookie(state, &mut response);
    response
}

/// `POST /oidc/logout/confirm`: `decision=logout` ends the session.
pub async fn oidc_logout_confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    PostedForm(params): PostedForm,
) -> Response {
    let client = match params.get("client_id") {
        Some(id) => match find_client(&state, id).await {
            Ok(c) => c,
            Err(e) => return internal(&state, &e),
        },
        None => None,
    };
    let target = match params.get("post_logout_redirect_uri") {
        Some(url) => match allowed(&state, client.as_ref(), url).await {
            Ok(true) => Some(with_state(url, params.get("state"))),
            Ok(false) => return bad_request(&state, &return_to_not_allowed(url)),
            Err(e) => return internal(&state, &e),
        },
        None => None,
    };
    if params.get("decision") != Some("logout") {
        return match target {
            Some(url) => redirect(&url),
            None => pages::error_page(
                &state,
                StatusCode::OK,
                "logout_cancelled",
                "You are still logged in.",
            ),
        };
    }
    let response = match target {
        Some(url) => redirect(&url),
        None => signed_out_page(&state),
    };
    end_session(&state, &headers, params.get("client_id"), response).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth0_return_to_text_and_state() {
        assert_eq!(
            return_to_not_allowed("https://x/"),
            "The \"returnTo\" querystring parameter \"https://x/\" is not defined as a valid URL in \"Allowed Logout URLs\"."
        );
        assert_eq!(
            with_state("https://a/b", Some("s 1")),
            "https://a/b?state=s+1"
        );
        assert_eq!(with_state("https://a/b?x=1", None), "https://a/b?x=1");
    }
}
