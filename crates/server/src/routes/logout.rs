//! Logout (auth0-compat.md §5): both endpoints end the SSO session.
//!
//! - `GET /v2/logout?client_id&returnTo`: `returnTo` must be one of the
//!   client's `allowed_logout_urls` (the tenant's without `client_id`);
//!   without `returnTo`, the client's first allowed URL, else a "logged out"
//!   page. A URL that is not allowed shows Auth0's error text and is logged
//!   as `flo` with the rule and the allowed URLs.
//! - `GET|POST /oidc/logout` (OIDC RP-Initiated Logout 1.0): with a valid
//!   `id_token_hint` the session ends at once and the browser goes to
//!   `post_logout_redirect_uri` (allowed for the hint's client) with `state`;
//!   without a hint the person confirms first (`POST /oidc/logout/confirm`).

use super::authorize::respond::{redirect, with_query};
use crate::audit::{self, Event};
use crate::extract::Params;
use crate::pages::{self, PageError, PostedForm};
use crate::session;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_core::grant::refusals;
use gatehouse_core::jose::{decode_unverified, verify_jwt, VerifyingKey};
use gatehouse_core::model::Client;
use serde_json::{json, Value};

/// Auth0's error text for a `returnTo` that is not allowed (auth0-react#127).
pub fn return_to_not_allowed(url: &str) -> String {
    format!(
        "The \"returnTo\" querystring parameter \"{url}\" is not defined as a valid URL in \"Allowed Logout URLs\"."
    )
}

fn signed_out_page() -> Response {
    pages::html(
        StatusCode::OK,
        "logout.html",
        minijinja::context! { done => true },
    )
}

async fn find_client(state: &AppState, client_id: &str) -> Result<Option<Client>, PageError> {
    Ok(state.store().client(client_id).await?.map(|c| c.client))
}

/// A client the request names: it must exist.
async fn named_client(state: &AppState, client_id: &str) -> Result<Client, PageError> {
    find_client(state, client_id)
        .await?
        .ok_or_else(|| PageError::bad_request(format!("Unknown client: {client_id}")))
}

/// `url` when it is an allowed logout URL of `client` (or of the tenant).
async fn allowed_return(
    state: &AppState,
    client: Option<&Client>,
    url: &str,
) -> Result<String, PageError> {
    let list = match client {
        Some(c) => c.allowed_logout_urls.clone(),
        None => state.store().tenant_settings().await?.allowed_logout_urls,
    };
    if list.iter().any(|u| u == url) {
        Ok(url.to_string())
    } else {
        let message = return_to_not_allowed(url);
        log_refused_return(state, client, url, &list, &message).await;
        Err(PageError::bad_request(message))
    }
}

/// Logs `flo` for a return URL that is not allowed, with the rule; Auth0's
/// error page is answered unchanged.
async fn log_refused_return(
    state: &AppState,
    client: Option<&Client>,
    url: &str,
    allowed: &[String],
    message: &str,
) {
    let refusal = refusals::return_to_not_allowed(client, url, allowed);
    audit::record(
        state,
        Event {
            code: audit::codes::LOGOUT_FAILED,
            description: message.to_string(),
            client_id: client.map(|c| c.client_id.as_str()),
            client_name: client.map(|c| c.name.as_str()),
            refusal: Some(&refusal),
            extra: json!({ "return_to": url }),
            ..Event::default()
        },
    )
    .await;
}

/// Ends the session, clears the cookie on `response`, logs `slo`.
async fn end_session(
    state: &AppState,
    headers: &HeaderMap,
    client_id: Option<&str>,
    mut response: Response,
) -> Result<Response, PageError> {
    let now = state.now();
    if let Some(s) = session::end(state, headers, now).await? {
        audit::record(
            state,
            Event {
                code: audit::codes::LOGOUT_OK,
                description: String::new(),
                client_id,
                user_id: Some(&s.user_id),
                jti: None,
                trace: None,
                extra: json!({}),
                ..Event::default()
            },
        )
        .await;
    }
    session::clear_session_cookie(state, &mut response);
    Ok(response)
}

/// `GET /v2/logout`.
pub async fn v2_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = parse(query.unwrap_or_default().as_bytes())?;
    let client = match params.get("client_id") {
        Some(id) => Some(named_client(&state, id).await?),
        None => None,
    };
    let target = match params.get("returnTo") {
        Some(url) => Some(allowed_return(&state, client.as_ref(), url).await?),
        None => client
            .as_ref()
            .and_then(|c| c.allowed_logout_urls.first().cloned()),
    };
    let response = match target {
        Some(url) => redirect(&url),
        None => signed_out_page(),
    };
    end_session(&state, &headers, params.get("client_id"), response).await
}

/// The request's parameters; a malformed one is `invalid_request`.
fn parse(source: &[u8]) -> Result<Params, PageError> {
    Params::from_form(source).map_err(|e| PageError::bad_request(e.error_description))
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
) -> Result<Response, PageError> {
    let source = if body.is_empty() {
        query.unwrap_or_default().into_bytes()
    } else {
        body.to_vec()
    };
    let params = parse(&source)?;
    let uri = params.get("post_logout_redirect_uri");
    let Some(hint) = params.get("id_token_hint") else {
        return confirmation_page(&state, &headers, &params).await;
    };
    let Some(claims) = verify_hint(&state, hint) else {
        return Err(PageError::bad_request(
            "The id_token_hint is not a valid ID token issued by this server.",
        ));
    };
    let Some(client_id) = hint_client_id(&claims) else {
        return Err(PageError::bad_request("The id_token_hint has no audience."));
    };
    if params.get("client_id").is_some_and(|c| c != client_id) {
        return Err(PageError::bad_request(
            "client_id does not match the audience of the id_token_hint.",
        ));
    }
    if let Some(logout_hint) = params.get("logout_hint") {
        if claims.get("sid").and_then(Value::as_str) != Some(logout_hint) {
            return Err(PageError::bad_request(
                "logout_hint does not match the session of the id_token_hint.",
            ));
        }
    }
    let client = named_client(&state, &client_id).await?;
    let response = match uri {
        Some(url) if client.allowed_logout_urls.iter().any(|u| u == url) => {
            redirect(&with_state(url, params.get("state")))
        }
        Some(url) => {
            let message = format!(
                "The post_logout_redirect_uri \"{url}\" is not in the Allowed Logout URLs of client {client_id}."
            );
            log_refused_return(
                &state,
                Some(&client),
                url,
                &client.allowed_logout_urls,
                &message,
            )
            .await;
            return Err(PageError::bad_request(message));
        }
        None => signed_out_page(),
    };
    end_session(&state, &headers, Some(&client_id), response).await
}

async fn confirmation_page(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Response, PageError> {
    let client_name = match params.get("client_id") {
        Some(id) => find_client(state, id).await?.map(|c| c.name),
        None => None,
    };
    let csrf = session::csrf_token(state, headers);
    let mut response = pages::html(
        StatusCode::OK,
        "logout.html",
        minijinja::context! {
            done => false,
            client_name,
            client_id => params.get("client_id").unwrap_or(""),
            post_logout_redirect_uri => params.get("post_logout_redirect_uri").unwrap_or(""),
            state => params.get("state").unwrap_or(""),
            csrf => &csrf.field,
        },
    );
    csrf.set_cookie(state, &mut response);
    Ok(response)
}

/// `POST /oidc/logout/confirm`: `decision=logout` ends the session.
pub async fn oidc_logout_confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    PostedForm(params): PostedForm,
) -> Result<Response, PageError> {
    let client = match params.get("client_id") {
        Some(id) => find_client(&state, id).await?,
        None => None,
    };
    let target = match params.get("post_logout_redirect_uri") {
        Some(url) => {
            let url = allowed_return(&state, client.as_ref(), url).await?;
            Some(with_state(&url, params.get("state")))
        }
        None => None,
    };
    if params.get("decision") != Some("logout") {
        return Ok(match target {
            Some(url) => redirect(&url),
            None => pages::error::error_page(
                StatusCode::OK,
                "logout_cancelled",
                "You are still logged in.",
            ),
        });
    }
    let response = match target {
        Some(url) => redirect(&url),
        None => signed_out_page(),
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
