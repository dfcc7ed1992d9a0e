//! The dashboard's home page: where the tenant stands and what to do next.
//!
//! The set-up steps are marked done from the tenant's state, beside the
//! counts of applications, APIs and roles and, for an admin who may read
//! the logs, the last failed events. The
//! tenant's own objects exclude what bootstrap made (the Management API, its
//! client, the dashboard's client, the Admin role).

use super::logs::Row;
use super::render::{page, AdminResult};
use super::session::{required_permissions, Admin};
use crate::bootstrap::{ADMIN_ROLE_NAME, MANAGEMENT_CLIENT_NAME};
use crate::state::AppState;
use axum::extract::State;
use axum::http::Method;
use gatehouse_core::explain::is_failure;
use gatehouse_core::log_query::LogFilter;
use gatehouse_store::{LogOrder, LogQuery, LogWindow, Page, StoreError};
use minijinja::context;
use serde::Serialize;

/// How many failed events the home page lists.
const FAILURES_SHOWN: usize = 10;
/// How far back the home page looks for them.
const RECENT_EVENTS: i64 = 500;

/// The tenant's own objects, counted.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
struct Tenant {
    applications: usize,
    apis: usize,
    roles: usize,
    user_with_role: bool,
}

/// `GET /admin`.
pub async fn show(State(state): State<AppState>, admin: Admin) -> AdminResult {
    let tenant = tenant(&state).await?;
    // The failures are log events: shown only to whom the Logs section is open.
    let may_read_logs = required_permissions(&Method::GET, "/admin/logs")
        .iter()
        .all(|p| admin.holds(p));
    let failures = if may_read_logs {
        last_failures(&state).await?
    } else {
        Vec::new()
    };
    let activity = match admin.holds("read:stats") {
        true => Some(activity(&state).await?),
        false => None,
    };
    Ok(page(
        &admin,
        "home",
        "home.html",
        context! {
            issuer => state.issuer(),
            steps => steps(&tenant),
            counts => tenant,
            activity,
            failures,
            may_read_logs,
        },
    ))
}

async fn tenant(state: &AppState) -> Result<Tenant, StoreError> {
    let store = state.store();
    let dashboard = state.dashboard_client_id().await?;
    let applications = store
        .clients(Page::ALL)
        .await?
        .iter()
        .filter(|c| {
            c.client.name != MANAGEMENT_CLIENT_NAME
                && Some(&c.client.client_id) != dashboard.as_ref()
        })
        .count();
    let apis = store
        .resource_servers(Page::ALL)
        .await?
        .iter()
        .filter(|api| !api.is_system)
        .count();
    let roles: Vec<_> = store
        .roles(Page::ALL)
        .await?
        .into_iter()
        .filter(|r| r.name != ADMIN_ROLE_NAME)
        .collect();
    let mut user_with_role = false;
    for role in &roles {
        let one = Page {
            offset: 0,
            limit: 1,
        };
        if !store.role_users(&role.id, one).await?.is_empty() {
            user_with_role = true;
            break;
        }
    }
    Ok(Tenant {
        applications,
        apis,
        roles: roles.len(),
        user_with_role,
    })
}

/// What `GET /api/v2/stats/active-users` and `/stats/daily` say about today.
#[derive(Debug, Serialize)]
struct Activity {
    active_users: i64,
    logins_today: i64,
    signups_today: i64,
}

async fn activity(state: &AppState) -> Result<Activity, StoreError> {
    use gatehouse_core::time::{day_of, DAY_SECONDS};
    let now = state.now();
    let store = state.store();
    let active_users = store
        .count_users_active_since(now.saturating_sub(30 * DAY_SECONDS))
        .await?;
    let today = day_of(now);
    let counts = store.daily_counts(today, today).await?;
    let (logins_today, signups_today) = counts.first().map_or((0, 0), |c| (c.logins, c.signups));
    Ok(Activity {
        active_users,
        logins_today,
        signups_today,
    })
}

/// A set-up step and whether the tenant has done it.
#[derive(Debug, Serialize)]
struct Step {
    done: bool,
    key: &'static str,
}

fn steps(t: &Tenant) -> Vec<Step> {
    vec![
        Step {
            done: t.apis > 0,
            key: "api",
        },
        Step {
            done: t.applications > 0,
            key: "application",
        },
        Step {
            done: t.roles > 0,
            key: "role",
        },
        Step {
            done: t.user_with_role,
            key: "user",
        },
    ]
}

/// The failed events among the newest [`RECENT_EVENTS`]: one read along the
/// log's date index, however large the log (the log has no index by type, so
/// asking for each failure code would scan it whole for the rare ones).
async fn last_failures(state: &AppState) -> Result<Vec<Row>, StoreError> {
    let query = LogQuery {
        filter: LogFilter::default(),
        order: LogOrder::NewestFirst,
        window: LogWindow::Page(Page {
            offset: 0,
            limit: RECENT_EVENTS,
        }),
    };
    Ok(state
        .store()
        .search_log_events(&query)
        .await?
        .iter()
        .filter(|e| is_failure(&e.event_type))
        .take(FAILURES_SHOWN)
        .map(Row::of)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_the_tenant() {
        let fresh = steps(&Tenant::default());
        assert!(fresh.iter().all(|s| !s.done));
        let done = steps(&Tenant {
            applications: 1,
            apis: 2,
            roles: 1,
            user_with_role: true,
        });
        assert!(done.iter().all(|s| s.done));
        let half = steps(&Tenant {
            apis: 1,
            ..Tenant::default()
        });
        let marks: Vec<bool> = half.iter().map(|s| s.done).collect();
        assert_eq!(marks, [true, false, false, false]);
    }
}
