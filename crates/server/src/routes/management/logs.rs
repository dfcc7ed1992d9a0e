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
use serde_json::{json, Value};

fn render(e: &LogEvent) -> Value {
    json!({
        "log_id": e.log_id,
        "date": iso8601(e.date),
        "type": e.event_type,
        "description": e.description,
        "client_id": e.client_id,
        "user_id": e.user_id,
        "details": e.details,
    })
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
