//! "Why this token?": a pasted token, `jti` or log id explained by
//! [`crate::explain::explain`], and the simulate form: what a token request
//! would get and why, from [`crate::simulate::simulate`] (both the functions
//! behind `gatehouse explain`).
//!
//! The pasted text is posted (never in a URL), explained in memory and
//! neither stored nor logged; the page answering it is `no-store`.

use super::fix_links::{chosen_api_id, link_lines, LinkedLine, Places};
use super::form::{AdminForm, FieldErrors, Fields};
use super::logs::{event_href, is_plain};
use super::render::{page, page_with_status, AdminError, AdminResult};
use super::session::Admin;
use crate::explain::{explain, ExplainError};
use crate::simulate::{simulate, SimulateError, SimulateRequest, Simulation};
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use gatehouse_core::explain::{Check, Explanation, Mistake};
use gatehouse_core::grant::{RefusalTrace, Trace};
use gatehouse_core::request::{
    AUTHORIZATION_CODE, CLIENT_CREDENTIALS, DEVICE_CODE, IMPLICIT, PASSWORD, REFRESH_TOKEN,
};
use gatehouse_store::Page;
use minijinja::{context, Value};
use serde::Serialize;

/// The "Why this token?" pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/why", get(show).post(explain_pasted))
        .route("/admin/why/simulate", get(simulate_form))
}

/// The grant types a simulation offers, as on the wire, with their names.
const GRANTS: &[(&str, &str)] = &[
    (
        AUTHORIZATION_CODE,
        "Authorization code (log in through /authorize)",
    ),
    (IMPLICIT, "Implicit"),
    (REFRESH_TOKEN, "Refresh token"),
    (PASSWORD, "Password"),
    (
        CLIENT_CREDENTIALS,
        "Client credentials (machine to machine)",
    ),
    (DEVICE_CODE, "Device code"),
];

/// `GET /admin/why`.
async fn show(State(state): State<AppState>, admin: Admin) -> AdminResult {
    let ctx = simulate_options(&state).await?;
    Ok(page(&admin, "why", "why.html", ctx))
}

/// `POST /admin/why`: the pasted input explained.
async fn explain_pasted(State(state): State<AppState>, form: AdminForm) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let input = fields.get("input").unwrap_or("");
    let options = simulate_options(&state).await?;
    let (status, explained, errors) = match explain(&state, input).await {
        Ok(explanation) => (
            StatusCode::OK,
            Some(explained_view(&state, explanation).await?),
            FieldErrors::default(),
        ),
        Err(ExplainError::BadInput(message) | ExplainError::NotFound(message)) => {
            let mut errors = FieldErrors::default();
            errors.add("input", sentence(&message));
            (StatusCode::UNPROCESSABLE_ENTITY, None, errors)
        }
        Err(ExplainError::Internal(e)) => return Err(AdminError::internal(format!("{e:?}"))),
    };
    let ctx = context! {
        pasted => input,
        paste_errors => errors.fields,
        explained,
        ..options
    };
    Ok(page_with_status(status, &admin, "why", "why.html", ctx))
}

/// An explanation as the page shows it.
#[derive(Debug, Serialize)]
struct ExplainedView {
    summary: String,
    checks: Vec<Check>,
    mistakes: Vec<Mistake>,
    lines: Vec<LinkedLine>,
    event_href: Option<String>,
}

async fn explained_view(
    state: &AppState,
    explanation: Explanation,
) -> Result<ExplainedView, AdminError> {
    let trace: Option<Trace> = explanation
        .trace
        .clone()
        .and_then(|t| serde_json::from_value(t).ok());
    let refusal: Option<RefusalTrace> = explanation
        .refusal
        .clone()
        .and_then(|r| serde_json::from_value(r).ok());
    let event = match &explanation.event {
        Some(e) => state.store().log_event(&e.log_id).await?,
        None => None,
    };
    let places = Places {
        user_id: event.as_ref().and_then(|e| e.user_id.clone()),
        client_id: event.as_ref().and_then(|e| e.client_id.clone()),
        api_id: chosen_api_id(state, trace.as_ref()).await?,
    };
    Ok(ExplainedView {
        summary: explanation.summary,
        checks: explanation.checks,
        mistakes: explanation.mistakes,
        lines: link_lines(explanation.lines, trace.as_ref(), refusal.as_ref(), &places),
        event_href: explanation.event.map(|e| event_href(&e.log_id)),
    })
}

/// `GET /admin/why/simulate`: the would-be token of the form's request.
async fn simulate_form(
    State(state): State<AppState>,
    admin: Admin,
    RawQuery(query): RawQuery,
) -> AdminResult {
    let fields = Fields::parse(query.unwrap_or_default().as_bytes());
    let options = simulate_options(&state).await?;
    let request = match simulate_request(&fields) {
        Ok(request) => simulate(&state, &request).await.map_err(|e| match e {
            SimulateError::Internal(cause) => Err(AdminError::internal(cause)),
            refused => Ok(simulate_errors(&refused)),
        }),
        Err(errors) => Err(Ok(errors)),
    };
    let (status, simulation, errors) = match request {
        Ok(simulation) => (
            StatusCode::OK,
            Some(simulation_view(&state, simulation).await?),
            FieldErrors::default(),
        ),
        Err(Ok(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, None, errors),
        Err(Err(internal)) => return Err(internal),
    };
    let ctx = context! {
        sim => fields.typed(),
        sim_errors => errors,
        simulation,
        ..options
    };
    Ok(page_with_status(status, &admin, "why", "why.html", ctx))
}

/// The selects of the simulate form.
async fn simulate_options(state: &AppState) -> Result<Value, AdminError> {
    let mut clients = state.store().clients(Page::ALL).await?;
    clients.sort_by(|a, b| a.client.name.cmp(&b.client.name));
    let mut client_options = vec![(String::new(), "Choose an application".to_string())];
    client_options.extend(clients.into_iter().map(|c| {
        let label = format!("{} ({})", c.client.name, c.client.client_id);
        (c.client.client_id, label)
    }));
    let mut api_options = vec![(String::new(), "None: no audience".to_string())];
    api_options.extend(
        state
            .store()
            .resource_servers(Page::ALL)
            .await?
            .into_iter()
            .map(|api| {
                let label = format!("{} ({})", api.name, api.identifier);
                (api.identifier, label)
            }),
    );
    let grant_options: Vec<(&str, &str)> = GRANTS.to_vec();
    Ok(context! { client_options, api_options, grant_options })
}

/// The simulation the form asks for, or a message per bad field.
fn simulate_request(fields: &Fields) -> Result<SimulateRequest, FieldErrors> {
    let mut errors = FieldErrors::default();
    let client = fields.text("client");
    if client.is_empty() {
        errors.add("client", "Choose an application.");
    } else if !is_plain(&client) {
        errors.add("client", "Choose an application from the list.");
    }
    if !is_plain(&fields.text("api")) {
        errors.add("api", "Choose an API from the list.");
    }
    let grant = fields
        .opt("grant")
        .unwrap_or_else(|| AUTHORIZATION_CODE.into());
    if !GRANTS.iter().any(|(g, _)| *g == grant) {
        errors.add("grant", "Choose a grant type from the list.");
    }
    let user = fields.opt("user");
    match (grant == CLIENT_CREDENTIALS, &user) {
        (true, Some(_)) => errors.add(
            "user",
            "Client credentials act for the application itself: leave the user empty.",
        ),
        (false, None) => errors.add("user", "Enter the user's email or user id."),
        (false, Some(who)) if !is_plain(who) => {
            errors.add("user", "Enter the user's email or user id.")
        }
        _ => {}
    }
    let scope = fields.text("scope");
    if let Some(message) = scope_error(&scope) {
        errors.add("scope", message);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(SimulateRequest {
        client_id: client,
        user,
        audience: fields.opt("api"),
        resource: None,
        scope: Some(scope).filter(|s| !s.is_empty()),
        grant: Some(grant),
    })
}

/// What is wrong with a scope text, if anything: scopes are separated by
/// spaces and made of RFC 6749's characters (printable ASCII but `"` and `\`).
fn scope_error(scope: &str) -> Option<String> {
    if scope.contains(',') {
        return Some("Separate scopes with spaces, not commas.".into());
    }
    let bad = scope
        .chars()
        .find(|c| !c.is_ascii_graphic() && *c != ' ' || *c == '"' || *c == '\\')?;
    Some(format!(
        "A scope cannot contain {}: use letters, digits and punctuation such as read:items, \
         separated by spaces.",
        match bad {
            '"' => "a quote".to_string(),
            '\\' => "a backslash".to_string(),
            c if c.is_whitespace() => "tabs or line breaks".to_string(),
            c => format!("'{c}'"),
        }
    ))
}

/// A refusal of the request itself, next to the field it is about.
fn simulate_errors(error: &SimulateError) -> FieldErrors {
    let mut errors = FieldErrors::default();
    let (field, message) = match error {
        SimulateError::UnknownClient(_) => ("client", "This application does not exist.".into()),
        SimulateError::UnknownUser(_) => (
            "user",
            "No user has this email or user id in the database connection.".into(),
        ),
        SimulateError::BadGrant(_) => ("grant", "Choose a grant type from the list.".into()),
        other => ("user", other.to_string()),
    };
    errors.add(field, message);
    errors
}

/// A simulation as the page shows it.
#[derive(Debug, Serialize)]
struct SimulationView {
    issued: bool,
    error: Option<String>,
    scope: Option<String>,
    expires_in: Option<u64>,
    access_format: Option<String>,
    access_claims: Option<String>,
    id_claims: Option<String>,
    refresh_token: bool,
    consent_required: bool,
    client: String,
    user: Option<String>,
    lines: Vec<LinkedLine>,
}

async fn simulation_view(state: &AppState, s: Simulation) -> Result<SimulationView, AdminError> {
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let places = Places {
        user_id: s.user.as_ref().map(|u| u.user_id.clone()),
        client_id: Some(s.client.client_id.clone()),
        api_id: chosen_api_id(state, s.trace.as_ref()).await?,
    };
    let access = s.access_token.as_ref();
    Ok(SimulationView {
        issued: s.outcome == crate::simulate::Outcome::Issued,
        error: s
            .error
            .as_ref()
            .map(|e| format!("{}: {}", e.error, e.error_description)),
        scope: s.scope.clone(),
        expires_in: s.expires_in,
        access_format: access.map(|a| match a.format {
            crate::simulate::AccessTokenFormat::Jwt => "JWT".to_string(),
            crate::simulate::AccessTokenFormat::Opaque => {
                a.note.clone().unwrap_or_else(|| "opaque".into())
            }
        }),
        access_claims: access.and_then(|a| a.claims.as_ref()).map(pretty),
        id_claims: s.id_token.as_ref().map(|t| pretty(&t.claims)),
        refresh_token: s.refresh_token,
        consent_required: s.consent_required,
        client: s.client.name.clone(),
        user: s
            .user
            .as_ref()
            .map(|u| u.email.clone().unwrap_or_else(|| u.user_id.clone())),
        lines: link_lines(s.lines, s.trace.as_ref(), s.refusal.as_ref(), &places),
    })
}

/// `explain`'s one-line reasons read as a sentence on the page.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut text: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(query: &str) -> Fields {
        Fields::parse(query.as_bytes())
    }

    #[test]
    fn a_complete_form_is_the_simulate_request() {
        let req = simulate_request(&fields(
            "client=c1&user=bob%40example.com&api=https%3A%2F%2Fapi%2F&scope=openid+read%3Ax&grant=password",
        ))
        .unwrap();
        assert_eq!(req.client_id, "c1");
        assert_eq!(req.user.as_deref(), Some("bob@example.com"));
        assert_eq!(req.audience.as_deref(), Some("https://api/"));
        assert_eq!(req.scope.as_deref(), Some("openid read:x"));
        assert_eq!(req.grant.as_deref(), Some(PASSWORD));
        let machine =
            simulate_request(&fields("client=c1&api=&scope=&grant=client_credentials")).unwrap();
        assert_eq!(
            (machine.user, machine.audience, machine.scope),
            (None, None, None)
        );
    }

    #[test]
    fn every_bad_value_gets_its_message() {
        let errors =
            simulate_request(&fields("grant=magic&scope=read%3Aa%2Cread%3Ab")).unwrap_err();
        for field in ["client", "grant", "user", "scope"] {
            assert!(errors.fields.contains_key(field), "{field}: {errors:?}");
        }
        let errors =
            simulate_request(&fields("client=c&user=u&grant=client_credentials")).unwrap_err();
        assert!(errors.fields["user"].contains("leave the user empty"));
        let errors = simulate_request(&fields("client=c%00&user=a%00b&api=x%01")).unwrap_err();
        for field in ["client", "user", "api"] {
            assert!(errors.fields.contains_key(field), "{field}: {errors:?}");
        }
        assert!(scope_error("openid read:x").is_none());
        assert!(scope_error("read:\"x\"").unwrap().contains("quote"));
        assert!(scope_error("read:x\tb").unwrap().contains("tabs"));
        assert!(scope_error("lecture:é").unwrap().contains("'é'"));
    }

    #[test]
    fn reasons_read_as_sentences() {
        assert_eq!(sentence("not a token: x"), "Not a token: x.");
        assert_eq!(sentence("Done."), "Done.");
    }
}
