//! The log section: the event list with its filters (type, application,
//! user, dates) and paging, and each event with its decision trace in words.
//!
//! The filters go through the Management API's own `q` parser
//! ([`gatehouse_core::log_query`]), one term per field so each bad value gets
//! its own message, and the list is the store's `search_log_events`, as
//! `GET /api/v2/logs` reads it. An event's page explains it with
//! [`crate::explain::explain`], the function behind `gatehouse explain`.

use super::fix_links::{chosen_api_id, link_lines, segment, LinkedLine, Places};
use super::form::{FieldErrors, Fields};
use super::render::{page, page_with_status, AdminError, AdminResult};
use super::session::Admin;
use crate::explain::{explain, ExplainError};
use crate::routes::management::extract::MPath;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use gatehouse_core::explain::is_failure;
use gatehouse_core::grant::{RefusalTrace, Trace};
use gatehouse_core::log_query::{parse_log_query, LogFilter};
use gatehouse_core::model::DEFAULT_CONNECTION;
use gatehouse_core::time::iso8601;
use gatehouse_store::{LogEvent, LogOrder, LogQuery, LogWindow, Page};
use minijinja::context;
use serde::Serialize;
use std::collections::HashMap;

/// The log pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/logs", get(list))
        .route("/admin/logs/{log_id}", get(event))
}

/// Events per page.
const PER_PAGE: i64 = 25;
/// How deep paging reaches, as the Management API's offset paging (narrow
/// the dates to see older events).
const MAX_RECORDS: i64 = 1_000;

/// The event types the filter offers: Auth0's codes with Auth0's names.
pub const EVENT_TYPES: &[(&str, &str)] = &[
    ("s", "Success Login"),
    ("f", "Failed Login"),
    ("fp", "Failed Login (Incorrect Password)"),
    ("fu", "Failed Login (Invalid Email/Username)"),
    ("limit_wc", "Blocked Account"),
    ("ssa", "Success Silent Auth"),
    ("fsa", "Failed Silent Auth"),
    ("ss", "Success Signup"),
    ("slo", "Success Logout"),
    ("flo", "Failed Logout"),
    (
        "seacft",
        "Success Exchange (Authorization Code for Access Token)",
    ),
    (
        "feacft",
        "Failed Exchange (Authorization Code for Access Token)",
    ),
    (
        "seccft",
        "Success Exchange (Client Credentials for Access Token)",
    ),
    (
        "feccft",
        "Failed Exchange (Client Credentials for Access Token)",
    ),
    ("sepft", "Success Exchange (Password for Access Token)"),
    ("fepft", "Failed Exchange (Password for Access Token)"),
    (
        "sertft",
        "Success Exchange (Refresh Token for Access Token)",
    ),
    ("fertft", "Failed Exchange (Refresh Token for Access Token)"),
    ("ferrt", "Failed Exchange (Rotating Refresh Token reused)"),
    ("srrt", "Success Revocation"),
    ("sede", "Success Exchange (Device Code for Access Token)"),
    ("fede", "Failed Exchange (Device Code for Access Token)"),
    ("fco", "Failed by CORS"),
    ("api_limit", "Rate Limit On API"),
    ("sapi", "Success API Operation"),
];

/// A row of the event list (and of the home page's failures).
#[derive(Debug, Serialize)]
pub struct Row {
    pub href: String,
    pub time: String,
    pub code: String,
    pub failure: bool,
    pub description: String,
    pub application: Option<String>,
    pub user: Option<String>,
}

impl Row {
    pub fn of(event: &LogEvent) -> Self {
        Self::named(event, &HashMap::new())
    }

    /// A row whose application is named from `client_names` when the event
    /// recorded only the client's id.
    pub fn named(event: &LogEvent, client_names: &HashMap<String, String>) -> Self {
        let application = event.client_name.clone().or_else(|| {
            let id = event.client_id.as_ref()?;
            Some(client_names.get(id).unwrap_or(id).clone())
        });
        Self {
            href: event_href(&event.log_id),
            time: shown_time(event.date),
            code: event.event_type.clone(),
            failure: is_failure(&event.event_type),
            description: event.description.clone(),
            application,
            user: event.user_name.clone().or(event.user_id.clone()),
        }
    }
}

/// The dashboard page of a log event.
pub fn event_href(log_id: &str) -> String {
    format!("/admin/logs/{}", segment(log_id))
}

/// `2026-12-07 13:10:38 UTC`.
fn shown_time(epoch: i64) -> String {
    let iso = iso8601(epoch);
    match iso.get(..19) {
        Some(prefix) => format!("{} UTC", prefix.replace('T', " ")),
        None => iso,
    }
}

/// `GET /admin/logs`.
async fn list(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> AdminResult {
    let fields = Fields::parse(query.unwrap_or_default().as_bytes());
    let clients = client_names(&state).await?;
    let options = filter_options(&clients);
    let wanted = match resolve_user(&state, &fields.text("user")).await? {
        Ok(user_id) => read_filters(&fields, user_id),
        Err(message) => {
            let mut errors = read_filters(&fields, None).err().unwrap_or_default();
            errors.add("user", message);
            Err(errors)
        }
    };
    let (filter, index) = match wanted {
        Ok(wanted) => wanted,
        Err(errors) => {
            // htmx swaps only successful answers into the results.
            let status = if headers.contains_key("hx-request") {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let ctx = context! { errors, typed => fields.typed(), ..options };
            return Ok(page_with_status(
                status,
                &admin,
                "logs",
                "logs_list.html",
                ctx,
            ));
        }
    };
    let offset = index * PER_PAGE;
    let mut events = state
        .store()
        .search_log_events(&LogQuery {
            filter: filter.clone(),
            order: LogOrder::NewestFirst,
            window: LogWindow::Page(Page {
                offset,
                limit: PER_PAGE + 1,
            }),
        })
        .await?;
    let more = events.len() > PER_PAGE as usize;
    events.truncate(PER_PAGE as usize);
    let deeper = offset + 2 * PER_PAGE <= MAX_RECORDS;
    let names: HashMap<String, String> = clients.into_iter().collect();
    let rows: Vec<Row> = events.iter().map(|e| Row::named(e, &names)).collect();
    let ctx = context! {
        rows,
        filtered => filter != LogFilter::default(),
        typed => fields.typed(),
        errors => FieldErrors::default(),
        page_number => index + 1,
        newer => (index > 0).then(|| page_href(&fields, index - 1)),
        older => (more && deeper).then(|| page_href(&fields, index + 1)),
        too_deep => more && !deeper,
        ..options
    };
    Ok(page(&admin, "logs", "logs_list.html", ctx))
}

/// Every application's id and name, by name.
async fn client_names(state: &AppState) -> Result<Vec<(String, String)>, AdminError> {
    let mut clients: Vec<(String, String)> = state
        .store()
        .clients(Page::ALL)
        .await?
        .into_iter()
        .map(|c| (c.client.client_id, c.client.name))
        .collect();
    clients.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(clients)
}

/// The selects of the filter form.
fn filter_options(clients: &[(String, String)]) -> minijinja::Value {
    let mut types = vec![(String::new(), "Any event".to_string())];
    types.extend(
        EVENT_TYPES
            .iter()
            .map(|(code, name)| (code.to_string(), format!("{name} ({code})"))),
    );
    let mut client_options = vec![(String::new(), "Any application".to_string())];
    client_options.extend(clients.iter().cloned());
    context! { type_options => types, client_options }
}

/// The user filter as a `user_id`: an email is looked up in the database
/// connection; `Err` is the message shown next to the field.
async fn resolve_user(
    state: &AppState,
    text: &str,
) -> Result<Result<Option<String>, String>, AdminError> {
    if text.is_empty() {
        return Ok(Ok(None));
    }
    if !is_plain(text) {
        return Ok(Err("Enter an email or a user id.".to_string()));
    }
    if !text.contains('@') {
        return Ok(Ok(Some(text.to_string())));
    }
    Ok(
        match state
            .store()
            .user_by_email(DEFAULT_CONNECTION, text)
            .await?
        {
            Some(found) => Ok(Some(found.user.user_id)),
            None => Err("No user has this email. Enter an email or a user id.".to_string()),
        },
    )
}

/// Whether `text` can be an id or email to look up: no control character
/// (PostgreSQL refuses NUL), and no longer than any id the tenant makes.
pub fn is_plain(text: &str) -> bool {
    text.len() <= 512 && !text.chars().any(char::is_control)
}

/// The filter and page index the form asks for, or a message per bad field.
/// `user_id` is the user field already resolved ([`resolve_user`]).
fn read_filters(fields: &Fields, user_id: Option<String>) -> Result<(LogFilter, i64), FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut filter = LogFilter::default();
    if let Some(code) = fields.opt("type") {
        if EVENT_TYPES.iter().any(|(c, _)| *c == code) {
            filter.event_type = Some(code);
        } else {
            errors.add("type", "Choose an event type from the list.");
        }
    }
    if let Some(client) = fields.opt("client") {
        match term("client_id", &client) {
            Ok(f) => filter.client_id = f.client_id,
            Err(_) => errors.add("client", "Choose an application from the list."),
        }
    }
    if let Some(user) = user_id {
        match term("user_id", &user) {
            Ok(f) => filter.user_id = f.user_id,
            Err(_) => errors.add("user", "Enter an email or a user id."),
        }
    }
    let from = day(fields, "from", &mut errors, |f| f.date_from);
    let to = day(fields, "to", &mut errors, |f| f.date_to);
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            errors.add("to", "The end date is before the start date.");
        }
    }
    (filter.date_from, filter.date_to) = (from, to);
    let index = match fields.opt("page") {
        None => 0,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (0..MAX_RECORDS / PER_PAGE).contains(&n) => n,
            _ => {
                errors.general(format!(
                    "There is no page {text}: the list pages through the newest \
                     {MAX_RECORDS} events; narrow the dates to see older ones."
                ));
                0
            }
        },
    };
    if errors.is_empty() {
        Ok((filter, index))
    } else {
        Err(errors)
    }
}

/// One `field:"value"` term through the Management API's parser.
fn term(field: &str, value: &str) -> Result<LogFilter, String> {
    let quoted = value.replace('\\', "\\\\").replace('"', "\\\"");
    parse_log_query(&format!("{field}:\"{quoted}\"")).map_err(|e| e.0)
}

/// A date field (`YYYY-MM-DD`, as a date input sends it) as the bound the
/// parser gives it: a start date from its first second, an end date to its last.
fn day(
    fields: &Fields,
    name: &str,
    errors: &mut FieldErrors,
    bound: fn(&LogFilter) -> Option<i64>,
) -> Option<i64> {
    let text = fields.opt(name)?;
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let parsed = shaped
        .then(|| parse_log_query(&format!("date:{text}")).ok())
        .flatten()
        .and_then(|f| bound(&f));
    if parsed.is_none() {
        errors.add(name, "Enter a date as YYYY-MM-DD, e.g. 2026-01-31.");
    }
    parsed
}

/// The list at page `index` with the same filters.
fn page_href(fields: &Fields, index: i64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for name in ["type", "client", "user", "from", "to"] {
        if let Some(value) = fields.opt(name) {
            query.append_pair(name, &value);
        }
    }
    if index > 0 {
        query.append_pair("page", &index.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        "/admin/logs".to_string()
    } else {
        format!("/admin/logs?{query}")
    }
}

/// One fact of an event, with the page it links to.
#[derive(Debug, Serialize)]
struct Fact {
    label: &'static str,
    value: String,
    href: Option<String>,
    mono: bool,
}

/// `GET /admin/logs/{log_id}`.
async fn event(
    State(state): State<AppState>,
    admin: Admin,
    Path(log_id): Path<String>,
) -> AdminResult {
    let not_found = || AdminError::not_found("This log event");
    if !is_plain(&log_id) {
        return Err(not_found());
    }
    let event = state
        .store()
        .log_event(&log_id)
        .await?
        .ok_or_else(not_found)?;
    let explanation = explain(&state, &event.log_id).await.map_err(|e| match e {
        ExplainError::BadInput(_) | ExplainError::NotFound(_) => not_found(),
        ExplainError::Internal(e) => AdminError::internal(format!("{e:?}")),
    })?;
    let trace: Option<Trace> = explanation
        .trace
        .clone()
        .and_then(|t| serde_json::from_value(t).ok());
    let refusal: Option<RefusalTrace> = explanation
        .refusal
        .clone()
        .and_then(|r| serde_json::from_value(r).ok());
    let places = Places {
        user_id: event.user_id.clone(),
        client_id: event.client_id.clone(),
        api_id: chosen_api_id(&state, trace.as_ref()).await?,
    };
    let lines: Vec<LinkedLine> =
        link_lines(explanation.lines, trace.as_ref(), refusal.as_ref(), &places);
    let raw = crate::routes::management::logs::get_one(State(state.clone()), MPath(log_id))
        .await
        .map(|json| serde_json::to_string_pretty(&json.0).unwrap_or_default())
        .unwrap_or_default();
    let ctx = context! {
        row => Row::of(&event),
        name => crate::audit::event_name(&event.event_type),
        facts => facts(&event),
        lines,
        raw,
    };
    Ok(page(&admin, "logs", "logs_event.html", ctx))
}

/// The facts of an event worth a line, each linked to its page when it has one.
fn facts(e: &LogEvent) -> Vec<Fact> {
    let fact = |label, value: &str, href: Option<String>, mono| Fact {
        label,
        value: value.to_string(),
        href,
        mono,
    };
    let mut facts = vec![
        fact("When", &shown_time(e.date), None, false),
        fact(
            "Type",
            &format!(
                "{} ({})",
                crate::audit::event_name(&e.event_type),
                e.event_type
            ),
            None,
            false,
        ),
        fact("Description", &e.description, None, false),
    ];
    if let Some(id) = &e.client_id {
        let name = e.client_name.as_deref().unwrap_or(id);
        let href = format!("/admin/applications/{}", segment(id));
        facts.push(fact("Application", name, Some(href), false));
        facts.push(fact("Client id", id, None, true));
    }
    if let Some(id) = &e.user_id {
        let name = e.user_name.as_deref().unwrap_or(id);
        let href = format!("/admin/users/{}", segment(id));
        facts.push(fact("User", name, Some(href), false));
        facts.push(fact("User id", id, None, true));
    }
    let optional = [
        ("Audience", &e.audience, true),
        ("Scope", &e.scope, true),
        ("IP address", &e.ip, true),
        ("User agent", &e.user_agent, false),
    ];
    for (label, value, mono) in optional {
        if let Some(value) = value {
            facts.push(fact(label, value, None, mono));
        }
    }
    facts.push(fact("Log id", &e.log_id, None, true));
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(query: &str) -> Fields {
        Fields::parse(query.as_bytes())
    }

    #[test]
    fn filters_become_the_management_api_filter() {
        let (filter, index) = read_filters(
            &fields("type=feccft&client=abc&from=2026-01-01&to=2026-01-02&page=2"),
            Some("auth0|u1".into()),
        )
        .unwrap();
        assert_eq!(filter.event_type.as_deref(), Some("feccft"));
        assert_eq!(filter.client_id.as_deref(), Some("abc"));
        assert_eq!(filter.user_id.as_deref(), Some("auth0|u1"));
        assert_eq!(filter.date_from, Some(1_767_225_600));
        assert_eq!(filter.date_to, Some(1_767_225_600 + 2 * 86_400 - 1));
        assert_eq!(index, 2);
        let (empty, index) = read_filters(&fields(""), None).unwrap();
        assert_eq!((empty, index), (LogFilter::default(), 0));
    }

    #[test]
    fn every_bad_filter_gets_its_own_message() {
        let errors = read_filters(
            &fields("type=nope&client=a%0Ab&from=2026-13-01&to=yesterday"),
            Some("x\u{1}y".into()),
        )
        .unwrap_err();
        for field in ["type", "client", "user", "from", "to"] {
            assert!(errors.fields.contains_key(field), "{field}: {errors:?}");
        }
        let reversed = read_filters(&fields("from=2026-02-02&to=2026-02-01"), None).unwrap_err();
        assert!(reversed.fields["to"].contains("before"));
        let deep = read_filters(&fields("page=40"), None).unwrap_err();
        assert_eq!(deep.general.len(), 1);
        assert!(read_filters(&fields("page=-1"), None).is_err());
    }

    #[test]
    fn page_links_keep_the_filters() {
        let f = fields("type=fp&user=a%40b.c&page=3&csrf=x");
        assert_eq!(page_href(&f, 0), "/admin/logs?type=fp&user=a%40b.c");
        assert_eq!(page_href(&f, 4), "/admin/logs?type=fp&user=a%40b.c&page=4");
        assert_eq!(page_href(&fields(""), 0), "/admin/logs");
    }

    #[test]
    fn times_read_as_utc() {
        assert_eq!(shown_time(1_767_225_600), "2026-01-01 00:00:00 UTC");
    }
}
