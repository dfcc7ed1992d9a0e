//! The Logs tab of a user: their recent events, newest first, each opening
//! its explanation at `/admin/logs/{log_id}`.

use super::super::render::{page, AdminResult};
use super::super::session::Admin;
use super::{encode, load, short_date, tabs, user_path, UserSummary};
use crate::audit::event_name;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use gatehouse_core::explain::is_failure;
use gatehouse_core::log_query::LogFilter;
use gatehouse_store::{LogEvent, LogOrder, LogQuery, LogWindow, Page};
use minijinja::context;
use serde::{Deserialize, Serialize};

/// Events per page.
const PER_PAGE: i64 = 50;
/// How far back the pages go (Auth0's own limit for offset paging).
const MAX_PAGES: i64 = 1_000 / PER_PAGE;

/// `?page=`.
#[derive(Debug, Default, Deserialize)]
pub struct LogsPage {
    page: Option<String>,
}

/// One event row.
#[derive(Debug, Serialize)]
struct EventRow {
    href: String,
    date: String,
    code: String,
    what: String,
    failed: bool,
    application: String,
    ip: String,
    scope: String,
}

impl EventRow {
    fn of(e: &LogEvent) -> Self {
        Self {
            href: format!("/admin/logs/{}", encode(&e.log_id)),
            date: short_date(e.date),
            code: e.event_type.clone(),
            what: if e.description.is_empty() {
                event_name(&e.event_type).to_string()
            } else {
                e.description.clone()
            },
            failed: is_failure(&e.event_type),
            application: e
                .client_name
                .clone()
                .or(e.client_id.clone())
                .unwrap_or_default(),
            ip: e.ip.clone().unwrap_or_default(),
            scope: e.scope.clone().unwrap_or_default(),
        }
    }
}

/// `GET /admin/users/{id}/logs`.
pub async fn logs(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(query): Query<LogsPage>,
) -> AdminResult {
    let user = load(&state, &id).await?;
    let index = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(0)
        .clamp(0, MAX_PAGES - 1);
    // One more than a page tells whether there is a next one.
    let search = LogQuery {
        filter: LogFilter {
            user_id: Some(id.clone()),
            ..LogFilter::default()
        },
        order: LogOrder::NewestFirst,
        window: LogWindow::Page(Page {
            offset: index * PER_PAGE,
            limit: PER_PAGE + 1,
        }),
    };
    let mut events = state.store().search_log_events(&search).await?;
    let has_next = events.len() > PER_PAGE as usize && index + 1 < MAX_PAGES;
    events.truncate(PER_PAGE as usize);
    let rows: Vec<EventRow> = events.iter().map(EventRow::of).collect();
    let link = |i: i64| user_path(&id, &format!("/logs?page={i}"));
    Ok(page(
        &admin,
        "users",
        "users_logs.html",
        context! {
            user => UserSummary::of(&user),
            tabs => tabs(&user.user_id),
            tab => "logs",
            events => rows,
            previous => (index > 0).then(|| link(index - 1)),
            next => has_next.then(|| link(index + 1)),
        },
    ))
}
