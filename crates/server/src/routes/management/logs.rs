//! `/api/v2/logs` and `/api/v2/users/{id}/logs`: reading the log events
//! Gatehouse records (Auth0's event codes, auth0-compat.md §7 and §12).
//!
//! Two ways to list, as Auth0 has them:
//! - search criteria: `q` (parsed by [`gatehouse_core::log_query`]), `sort`
//!   (`date:-1`, the default, or `date:1`), `page`/`per_page` (at most 100)
//!   and `include_totals`;
//! - checkpoint: `from=<log_id>&take=N` returns the next events after that id
//!   in `log_id` order, with a `Link: <…>; rel="next"` header to follow; every
//!   other parameter is ignored.
//!
//! Each issuance's `details` carry the decision trace, so "why this token" is
//! one request away.

use super::error::{ManagementError, MgmtResult};
use super::extract::{MPath, MQuery};
use super::render::check_id;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_core::log_query::{parse_log_query, LogFilter};
use gatehouse_core::time::iso8601;
use gatehouse_store::{LogEvent, LogOrder, LogQuery, LogWindow, Page};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

/// Auth0 returns at most 100 log events per request, in either mode.
pub const MAX_PER_PAGE: u64 = 100;
/// `per_page` and `take` when not given.
pub const DEFAULT_PER_PAGE: u64 = 50;

/// Auth0's `$event_schema` of a log event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventSchema {
    pub version: String,
}

/// A log event as the Management API renders it; absent facts are left out,
/// as Auth0 does, `details` always present.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LogEvent)]
pub struct LogEventView {
    pub log_id: String,
    /// ISO 8601.
    pub date: String,
    /// Auth0's event code, e.g. `seccft` or `fp`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The same as `ip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The issuer's host.
    pub hostname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Event-specific fields; for issuances, the decision trace.
    pub details: Value,
    #[serde(rename = "$event_schema")]
    pub event_schema: EventSchema,
}

fn render(e: &LogEvent, hostname: &str) -> Value {
    let view = LogEventView {
        log_id: e.log_id.clone(),
        date: iso8601(e.date),
        event_type: e.event_type.clone(),
        description: e.description.clone(),
        ip: e.ip.clone(),
        client_ip: e.ip.clone(),
        user_agent: e.user_agent.clone(),
        hostname: hostname.to_string(),
        client_id: e.client_id.clone(),
        client_name: e.client_name.clone(),
        user_id: e.user_id.clone(),
        user_name: e.user_name.clone(),
        audience: e.audience.clone(),
        scope: e.scope.clone(),
        details: e.details.clone(),
        event_schema: EventSchema {
            version: "1.0.0".into(),
        },
    };
    serde_json::to_value(view).unwrap_or(Value::Null)
}

/// The host of the issuer URL, without scheme, port or path.
fn hostname(issuer: &str) -> &str {
    let rest = issuer.split_once("://").map_or(issuer, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    if authority.starts_with('[') {
        // An IPv6 literal keeps its brackets; only a port after them goes.
        return authority.split_once("]:").map_or(authority, |(host, _)| {
            authority.get(..=host.len()).unwrap_or(authority)
        });
    }
    authority.split(':').next().unwrap_or(authority)
}

fn render_all(state: &AppState, events: &[LogEvent]) -> Vec<Value> {
    let host = hostname(state.issuer());
    events.iter().map(|e| render(e, host)).collect()
}

/// The query string of `GET /api/v2/logs`.
#[derive(Debug, Default, Deserialize)]
pub struct LogsParams {
    pub q: Option<String>,
    pub sort: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
    pub include_totals: Option<bool>,
    pub from: Option<String>,
    pub take: Option<u64>,
}

/// The query string of `GET /api/v2/users/{id}/logs`.
#[derive(Debug, Default, Deserialize)]
pub struct UserLogsParams {
    pub sort: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
    pub include_totals: Option<bool>,
}

fn invalid(message: impl std::fmt::Display) -> ManagementError {
    ManagementError::invalid_query(format!("Query validation error: '{message}'."))
}

fn parse_sort(sort: Option<&str>) -> MgmtResult<LogOrder> {
    match sort {
        None | Some("date:-1") => Ok(LogOrder::NewestFirst),
        Some("date:1") => Ok(LogOrder::OldestFirst),
        Some(_) => Err(invalid(
            "sort must be date:1 (oldest first) or date:-1 (newest first)",
        )),
    }
}

fn parse_q(q: Option<&str>) -> MgmtResult<LogFilter> {
    parse_log_query(q.unwrap_or("")).map_err(|e| invalid(format!("q: {e}")))
}

fn check_count(name: &str, value: Option<u64>) -> MgmtResult<u64> {
    let value = value.unwrap_or(DEFAULT_PER_PAGE);
    if value == 0 || value > MAX_PER_PAGE {
        return Err(invalid(format!(
            "{name} must be between 1 and {MAX_PER_PAGE}"
        )));
    }
    Ok(value)
}

/// How far offset paging reaches, as in Auth0; checkpoints go further.
const MAX_PAGED_RECORDS: u64 = 1_000;

/// A page of the search, as the store wants it. Auth0 refuses a page that
/// ends past the first 1,000 records (`N * RPP + RPP > 1000`), whatever
/// the number of matches, and so does this: deeper offsets are scans.
fn page_of(page: Option<u64>, per_page: Option<u64>) -> MgmtResult<Page> {
    let per_page = check_count("per_page", per_page)?;
    let index = page.unwrap_or(0);
    let end = index
        .checked_mul(per_page)
        .and_then(|offset| offset.checked_add(per_page));
    if end.is_none_or(|end| end > MAX_PAGED_RECORDS) {
        return Err(ManagementError::invalid_query(format!(
            "Requesting page {index} exceeds the allowed maximum of {MAX_PAGED_RECORDS} \
             records. To fetch results beyond {MAX_PAGED_RECORDS}, use the checkpoint \
             pagination method."
        )));
    }
    let offset =
        i64::try_from(index.saturating_mul(per_page)).map_err(|_| invalid("page is too large"))?;
    Ok(Page {
        offset,
        limit: i64::try_from(per_page).unwrap_or(i64::MAX),
    })
}

pub async fn list(
    State(state): State<AppState>,
    MQuery(params): MQuery<LogsParams>,
) -> MgmtResult<Response> {
    if params.from.is_some() || params.take.is_some() {
        return checkpoint(&state, params.from, params.take).await;
    }
    let filter = parse_q(params.q.as_deref())?;
    search(
        &state,
        filter,
        params.sort.as_deref(),
        params.page,
        params.per_page,
        params.include_totals,
    )
    .await
}

pub async fn list_for_user(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MQuery(params): MQuery<UserLogsParams>,
) -> MgmtResult<Response> {
    check_id(&id, "id")?;
    let filter = LogFilter {
        user_id: Some(id),
        ..LogFilter::default()
    };
    search(
        &state,
        filter,
        params.sort.as_deref(),
        params.page,
        params.per_page,
        params.include_totals,
    )
    .await
}

async fn search(
    state: &AppState,
    filter: LogFilter,
    sort: Option<&str>,
    page: Option<u64>,
    per_page: Option<u64>,
    include_totals: Option<bool>,
) -> MgmtResult<Response> {
    let order = parse_sort(sort)?;
    let page = page_of(page, per_page)?;
    let query = LogQuery {
        filter,
        order,
        window: LogWindow::Page(page),
    };
    let events = render_all(state, &state.store().search_log_events(&query).await?);
    if !include_totals.unwrap_or(false) {
        return Ok(Json(json!(events)).into_response());
    }
    let total = state.store().count_log_events(&query.filter).await?;
    Ok(Json(json!({
        "start": page.offset,
        "limit": page.limit,
        "length": events.len(),
        "total": total,
        "logs": events,
    }))
    .into_response())
}

/// Checkpoint mode: the `take` events after `from` by `log_id`, and a `Link`
/// to the next batch (the same URL again when there was nothing new).
/// Checkpoints hand out only events at least this old. A log id is fixed
/// when the event is made and the row commits a little later, and each node
/// numbers its own events: an event of the current second could still
/// appear before a cursor already handed out, and the export would skip it
/// for good. A few seconds later every event of that second has committed
/// (with node clocks within that much of each other).
const CHECKPOINT_SETTLE_SECONDS: i64 = 5;

async fn checkpoint(
    state: &AppState,
    from: Option<String>,
    take: Option<u64>,
) -> MgmtResult<Response> {
    let take = check_count("take", take)?;
    let from = from.filter(|f| !f.is_empty());
    if let Some(from) = &from {
        if from.len() > 255 || from.chars().any(char::is_control) {
            return Err(invalid("from is not a valid log_id"));
        }
    }
    let query = LogQuery {
        filter: LogFilter {
            date_to: Some(state.now().saturating_sub(CHECKPOINT_SETTLE_SECONDS)),
            ..LogFilter::default()
        },
        order: LogOrder::OldestFirst,
        window: LogWindow::Checkpoint {
            after: from.clone(),
            take: i64::try_from(take).unwrap_or(i64::MAX),
        },
    };
    let events = state.store().search_log_events(&query).await?;
    let next_from = events.last().map(|e| e.log_id.clone()).or(from);
    let link = next_link(state.base_url(), next_from.as_deref(), take);
    let mut response = Json(json!(render_all(state, &events))).into_response();
    if let Ok(value) = HeaderValue::from_str(&link) {
        response.headers_mut().insert(header::LINK, value);
    }
    Ok(response)
}

fn next_link(base_url: &str, from: Option<&str>, take: u64) -> String {
    let from = from
        .map(|f| format!("from={}&", url_encode(f)))
        .unwrap_or_default();
    format!("<{base_url}/api/v2/logs?{from}take={take}>; rel=\"next\"")
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn get_one(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<Json<Value>> {
    check_id(&id, "id")?;
    let event = state.store().log_event(&id).await?.ok_or_else(|| {
        ManagementError::not_found("The log event does not exist", "inexistent_log")
    })?;
    Ok(Json(render(&event, hostname(state.issuer()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        assert_eq!(hostname("https://auth.example.com/"), "auth.example.com");
        assert_eq!(hostname("http://127.0.0.1:3000/"), "127.0.0.1");
        assert_eq!(hostname("http://[::1]:3000/"), "[::1]");
        assert_eq!(
            hostname("https://auth.example.com/tenant/"),
            "auth.example.com"
        );
    }

    #[test]
    fn sorts_and_links() {
        assert_eq!(parse_sort(None).unwrap(), LogOrder::NewestFirst);
        assert_eq!(parse_sort(Some("date:1")).unwrap(), LogOrder::OldestFirst);
        assert!(parse_sort(Some("log_id:1")).is_err());
        assert_eq!(
            next_link("https://h", Some("a b"), 10),
            "<https://h/api/v2/logs?from=a%20b&take=10>; rel=\"next\""
        );
        assert_eq!(
            next_link("https://h", None, 5),
            "<https://h/api/v2/logs?take=5>; rel=\"next\""
        );
    }
}
