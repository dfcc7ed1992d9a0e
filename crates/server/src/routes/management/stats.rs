//! `/api/v2/stats`: the tenant's activity, counted by the store's SQL.
//!
//! - `GET /stats/active-users`: a bare number, the users whose last login
//!   is within the last 30 days.
//! - `GET /stats/daily?from=YYYYMMDD&to=YYYYMMDD` (both days inclusive,
//!   UTC): per day with any activity, the successful logins (`s` log
//!   events) and signups (`ss`); `leaked_passwords` is always 0 (Gatehouse
//!   has no breached-password detection). `created_at` and `updated_at` are
//!   the day's first and last counted event. Without `to` the range ends
//!   today; without `from` it spans 30 days.

use super::error::{ManagementError, MgmtResult};
use super::extract::MQuery;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use gatehouse_core::time::{day_of, iso8601, parse_yyyymmdd, DAY_SECONDS};
use gatehouse_store::DailyCounts;
use serde::{Deserialize, Serialize};

/// How far back a login makes a user active.
const ACTIVE_DAYS: i64 = 30;
/// The span of `daily` when `from` is not given.
const DEFAULT_DAYS: i64 = 30;

pub async fn active_users(State(state): State<AppState>) -> MgmtResult<Json<i64>> {
    let since = state.now().saturating_sub(ACTIVE_DAYS * DAY_SECONDS);
    Ok(Json(state.store().count_users_active_since(since).await?))
}

/// The query of `GET /stats/daily`.
#[derive(Debug, Default, Deserialize)]
pub struct DailyQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One day of `GET /stats/daily`, as Auth0 shapes it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DailyStats {
    /// The day, at midnight UTC.
    pub date: String,
    pub logins: i64,
    pub signups: i64,
    /// Always 0: Gatehouse has no breached-password detection.
    pub leaked_passwords: i64,
    /// The day's last counted event.
    pub updated_at: String,
    /// The day's first counted event.
    pub created_at: String,
}

impl From<DailyCounts> for DailyStats {
    fn from(counts: DailyCounts) -> Self {
        Self {
            date: iso8601(counts.day.saturating_mul(DAY_SECONDS)),
            logins: counts.logins,
            signups: counts.signups,
            leaked_passwords: 0,
            updated_at: iso8601(counts.last_event_at),
            created_at: iso8601(counts.first_event_at),
        }
    }
}

fn day_parameter(name: &str, value: Option<&str>) -> MgmtResult<Option<i64>> {
    value
        .map(|text| {
            parse_yyyymmdd(text).ok_or_else(|| {
                ManagementError::invalid_query(format!(
                    "Query validation error: '{name}' must be a day as YYYYMMDD, not {text:?}."
                ))
            })
        })
        .transpose()
}

pub async fn daily(
    State(state): State<AppState>,
    MQuery(query): MQuery<DailyQuery>,
) -> MgmtResult<Json<Vec<DailyStats>>> {
    let last = day_parameter("to", query.to.as_deref())?.unwrap_or(day_of(state.now()));
    let first = day_parameter("from", query.from.as_deref())?
        .unwrap_or(last.saturating_sub(DEFAULT_DAYS - 1));
    if first > last {
        return Err(ManagementError::invalid_query(
            "Query validation error: 'from' must not be after 'to'.",
        ));
    }
    let days = state.store().daily_counts(first, last).await?;
    Ok(Json(days.into_iter().map(DailyStats::from).collect()))
}
