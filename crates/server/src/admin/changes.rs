//! The log of changes made in the dashboard: each successful write is an
//! Auth0 `sapi` event ("Success API Operation"), as the same write through
//! the Management API is, naming the administrator who made it and the
//! Management API request it stands for.

use super::session::Admin;
use crate::audit::{self, codes};
use crate::bootstrap::DASHBOARD_CLIENT_NAME;
use crate::state::AppState;

/// Records that `admin` made the change that `method` `api_path` (relative
/// to `/api/v2`, e.g. `PATCH /clients/abc`) would have made.
pub async fn record(state: &AppState, admin: &Admin, method: &str, api_path: &str) {
    let path = format!("/api/v2{api_path}");
    audit::record(
        state,
        audit::Event {
            code: codes::MANAGEMENT_API_WRITE,
            description: format!("Dashboard: {method} {path}"),
            client_name: Some(DASHBOARD_CLIENT_NAME),
            user_id: Some(&admin.user.user_id),
            user_name: Some(admin.display_name()),
            extra: serde_json::json!({ "method": method, "path": path, "via": "dashboard" }),
            ..audit::Event::default()
        },
    )
    .await;
}
