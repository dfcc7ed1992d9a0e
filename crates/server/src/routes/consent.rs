//! The consent page (`/u/consent`; auth0-compat.md §4 "Consent"): what the
//! application asks for, with each API scope's description; Accept stores the
//! consent (per user, client and API) and continues the authorization,
//! Decline answers `access_denied`.

use super::authorize::{self, ConsentAnswer, Interaction};
use crate::pages::{self, PageError, PostedForm};
use crate::session;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;

#[derive(Serialize)]
struct ScopeLine {
    value: String,
    description: String,
}

/// Plain-language descriptions of the OpenID Connect scopes.
fn oidc_description(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "openid" => "Know who you are",
        "profile" => "See your name, nickname and picture",
        "email" => "See your email address",
        "offline_access" => "Stay connected when you are not using it",
        "address" => "See your address",
        "phone" => "See your phone number",
        _ => return None,
    })
}

/// `GET /u/consent?<authorize query>`.
pub async fn consent_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = query.unwrap_or_default();
    let now = state.now();
    let session = session::current(&state, &headers, now).await?;
    let ix = Interaction {
        session,
        fresh_login: false,
        consent: ConsentAnswer::Showing,
    };
    let ready = match authorize::prepare(&state, &query, ix, now).await {
        Ok(ready) => ready,
        Err(response) => return Ok(response),
    };
    let decision = &ready.decided.decision;
    if !decision.consent_required {
        return Ok(authorize::respond::redirect(&format!("/authorize?{query}")));
    }
    let api = ready.decided.api.as_ref();
    let scopes: Vec<ScopeLine> = decision
        .scope
        .iter()
        .map(|s| ScopeLine {
            value: s.to_string(),
            description: oidc_description(s)
                .map(str::to_string)
                .or_else(|| {
                    api.and_then(|a| a.scopes.iter().find(|d| d.value == s))
                        .map(|d| d.description.clone())
                        .filter(|d| !d.is_empty())
                })
                .unwrap_or_else(|| s.to_string()),
        })
        .collect();
    let csrf = session::csrf_token(&state, &headers);
    let mut response = pages::html(
        StatusCode::OK,
        "consent.html",
        minijinja::context! {
            client_name => ready.req.client.name,
            api_name => api.map(|a| a.name.clone()),
            user => ready.user.display_name(),
            scopes,
            loopback => ready.req.loopback,
            csrf => &csrf.field,
            authorize => query,
        },
    );
    csrf.set_cookie(&state, &mut response);
    Ok(response)
}

/// `POST /u/consent`: `decision=accept` or `deny`.
pub async fn consent_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    PostedForm(params): PostedForm,
) -> Result<Response, PageError> {
    let now = state.now();
    let session = session::current(&state, &headers, now).await?;
    let consent = if params.get("decision") == Some("accept") {
        ConsentAnswer::Granted
    } else {
        ConsentAnswer::Denied
    };
    let ix = Interaction {
        session,
        fresh_login: false,
        consent,
    };
    Ok(authorize::run(&state, params.get("authorize").unwrap_or(""), ix, now).await)
}
