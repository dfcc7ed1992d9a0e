//! Device activation (`/activate`, RFC 8628 §3.3): the person logs in,
//! enters (or confirms) the code their device shows, sees which application
//! asks for what, and approves or denies; the device's next poll of
//! `/oauth/token` then gets tokens or `access_denied`.

use super::authorize::respond::redirect;
use super::login::device_login_page;
use crate::pages::paths::ACTIVATE_PATH;
use crate::pages::{self, PageError, PostedForm};
use crate::session;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_store::{DeviceCode, DeviceStatus};
use std::collections::HashMap;

/// `BCDF-GHJK` from what a person typed (any case, spaces, with or without dash).
pub fn normalize_user_code(raw: &str) -> String {
    let letters: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_uppercase())
        .take(16)
        .collect();
    if letters.len() == 8 {
        format!("{}-{}", &letters[..4], &letters[4..])
    } else {
        letters
    }
}

struct View<'a> {
    user_code: &'a str,
    error: Option<&'a str>,
    device: Option<(&'a DeviceCode, String)>,
    done: Option<bool>,
}

fn render(
    state: &AppState,
    headers: &HeaderMap,
    user: &str,
    status: StatusCode,
    v: View<'_>,
) -> Response {
    let csrf = session::csrf_token(state, headers);
    let scopes: Vec<HashMap<&str, String>> = v
        .device
        .as_ref()
        .map(|(d, _)| {
            d.request
                .scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(|s| HashMap::from([("value", s.to_string()), ("description", s.to_string())]))
                .collect()
        })
        .unwrap_or_default();
    let mut response = pages::html(
        status,
        "activate.html",
        minijinja::context! {
            user,
            user_code => v.user_code,
            error => v.error,
            client_name => v.device.map(|(_, name)| name),
            scopes,
            done => v.done.is_some(),
            approved => v.done == Some(true),
            csrf => &csrf.field,
        },
    );
    csrf.set_cookie(state, &mut response);
    response
}

/// A pending, unexpired device code and its client's name.
async fn pending(
    state: &AppState,
    user_code: &str,
    now: i64,
) -> Result<Option<(DeviceCode, String)>, PageError> {
    if user_code.is_empty() {
        return Ok(None);
    }
    let code = state.store().device_code_by_user_code(user_code).await?;
    let Some(code) = code.filter(|c| c.status == DeviceStatus::Pending && c.expires_at > now)
    else {
        return Ok(None);
    };
    let name = state
        .store()
        .client(&code.client_id)
        .await?
        .map(|c| c.client.name)
        .unwrap_or_else(|| code.client_id.clone());
    Ok(Some((code, name)))
}

/// `GET /activate[?user_code=…]`.
pub async fn activate_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params =
        crate::extract::Params::from_form(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let user_code = normalize_user_code(params.get("user_code").unwrap_or(""));
    let now = state.now();
    let Some(user) = logged_in_user(&state, &headers, now).await? else {
        return device_login_page(&state, &headers, &user_code).await;
    };
    let found = pending(&state, &user_code, now).await?;
    let error = (!user_code.is_empty() && found.is_none())
        .then_some("That code is not valid or has expired. Check your device and try again.");
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(render(
        &state,
        &headers,
        &user,
        status,
        View {
            user_code: &user_code,
            error,
            device: found.as_ref().map(|(d, n)| (d, n.clone())),
            done: None,
        },
    ))
}

/// `POST /activate`: `decision=lookup` (go to the confirmation), `approve` or `deny`.
pub async fn activate_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    PostedForm(params): PostedForm,
) -> Result<Response, PageError> {
    let user_code = normalize_user_code(params.get("user_code").unwrap_or(""));
    let lookup = format!("{ACTIVATE_PATH}?user_code={user_code}");
    let decision = params.get("decision").unwrap_or("lookup");
    if decision != "approve" && decision != "deny" {
        return Ok(redirect(&lookup));
    }
    let now = state.now();
    let Some(session) = session::current(&state, &headers, now).await? else {
        return Ok(redirect(&lookup));
    };
    let Some(found) = pending(&state, &user_code, now).await? else {
        return Ok(redirect(&lookup));
    };
    let approve = decision == "approve";
    let to = if approve {
        DeviceStatus::Approved
    } else {
        DeviceStatus::Denied
    };
    let transitioned = state
        .store()
        .transition_device_code(
            &found.0.device_code_hash,
            DeviceStatus::Pending,
            to,
            Some(&session.user_id),
        )
        .await?;
    if !transitioned {
        return Ok(redirect(&lookup));
    }
    let user = logged_in_user(&state, &headers, now)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    Ok(render(
        &state,
        &headers,
        &user,
        StatusCode::OK,
        View {
            user_code: &user_code,
            error: None,
            device: None,
            done: Some(approve),
        },
    ))
}

/// The display name of the session's user.
async fn logged_in_user(
    state: &AppState,
    headers: &HeaderMap,
    now: i64,
) -> Result<Option<String>, PageError> {
    let Some(s) = session::current(state, headers, now).await? else {
        return Ok(None);
    };
    let user = state.store().user(&s.user_id).await?;
    Ok(user
        .filter(|u| !u.user.blocked)
        .map(|u| u.user.display_name().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_normalize() {
        assert_eq!(normalize_user_code("bcdf ghjk"), "BCDF-GHJK");
        assert_eq!(normalize_user_code("BCDF-GHJK"), "BCDF-GHJK");
        assert_eq!(normalize_user_code("bcd"), "BCD");
        assert_eq!(normalize_user_code("ü1-"), "");
    }
}
