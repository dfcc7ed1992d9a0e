//! `/api/v2/logs`: the log events Gatehouse records (Auth0's event codes,
//! auth0-compat.md §7), newest first. Each issuance's `details` carry the
//! decision trace, so "why this token" is one request away.

use super::error::{ManagementError, MgmtResult};
use super::extract::{MPath, MQuery};
use super::pagination::Paging;
use super::render::check_id;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use gatehouse_core::time::iso8601;
use gatehouse_store::{LogEvent, Page};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

/// A log event as the Management API renders it.
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
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    /// For issuances, the decision trace.
    pub details: Value,
}

fn render(e: &LogEvent) -> Value {
    let view = LogEventView {
        log_id: e.log_id.clone(),
        date: iso8601(e.date),
        event_type: e.event_type.clone(),
        description: e.description.clone(),
        client_id: e.client_id.clone(),
        user_id: e.user_id.clone(),
        details: e.details.clone(),
    };
    serde_json::to_value(view).unwrap_or(Value::Null)
}

pub async fn list(
    State(state): State<AppState>,
    MQuery(paging): MQuery<Paging>,
) -> MgmtResult<Json<Value>> {
    let w = paging.window()?;
    let page = Page {
        offset: i64::try_from(w.offset).unwrap_or(i64::MAX),
        limit: i64::try_from(w.limit).unwrap_or(i64::MAX),
    };
    let events: Vec<Value> = state
        .store()
        .log_events(page)
        .await?
        .iter()
        .map(render)
        .collect();
    if !w.include_totals {
        return Ok(Json(json!(events)));
    }
    let total = state.store().count_log_events().await?;
    Ok(Json(json!({
        "start": w.offset,
        "limit": w.limit,
        "length": events.len(),
        "total": total,
        "logs": events,
    })))
}

pub async fn get_one(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<Json<Value>> {
    check_id(&id, "id")?;
    let event = state.store().log_event(&id).await?.ok_or_else(|| {
        ManagementError::not_found("The log event does not exist", "inexistent_log")
    })?;
    Ok(Json(render(&event)))
}
