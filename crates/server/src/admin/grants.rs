//! Machine-to-machine access, the one write behind two pages: an API's
//! "Machine-to-machine applications" tab and an application's "APIs" tab
//! both give a client scopes on an API (a client grant) or take them away,
//! through the Management API's `client-grants` handlers, and log it.

use super::changes;
use super::session::Admin;
use crate::routes::management::client_grants::{self, CreateGrant, UpdateGrant};
use crate::routes::management::error::MgmtResult;
use crate::routes::management::extract::{MJson, MPath};
use crate::state::AppState;
use axum::extract::State;
use gatehouse_core::model::{ClientGrant, SubjectType};

/// Whether [`save`] created the grant or changed an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Created,
    Updated,
}

/// Gives `client_id` exactly `scopes` on the API `audience`: updates
/// `existing` (the client's grant on that API) or creates one.
pub async fn save(
    state: &AppState,
    admin: &Admin,
    client_id: &str,
    audience: &str,
    existing: Option<&ClientGrant>,
    scopes: Vec<String>,
) -> MgmtResult<Saved> {
    match existing {
        Some(grant) => {
            let body = UpdateGrant {
                scope: Some(scopes),
                allow_all_scopes: None,
                organization_usage: None,
                allow_any_organization: None,
            };
            client_grants::update(State(state.clone()), MPath(grant.id.clone()), MJson(body))
                .await
                .map(drop)?;
            changes::record(
                state,
                admin,
                "PATCH",
                &format!("/client-grants/{}", grant.id),
            )
            .await;
            Ok(Saved::Updated)
        }
        None => {
            let body = CreateGrant {
                client_id: client_id.to_string(),
                audience: audience.to_string(),
                scope: scopes,
                subject_type: Some(SubjectType::Client),
                allow_all_scopes: None,
                organization_usage: None,
                allow_any_organization: None,
            };
            client_grants::create(State(state.clone()), MJson(body))
                .await
                .map(drop)?;
            changes::record(state, admin, "POST", "/client-grants").await;
            Ok(Saved::Created)
        }
    }
}

/// Takes the grant away: the client may no longer call the API.
pub async fn remove(state: &AppState, admin: &Admin, grant: &ClientGrant) -> MgmtResult<()> {
    client_grants::delete(State(state.clone()), MPath(grant.id.clone())).await?;
    changes::record(
        state,
        admin,
        "DELETE",
        &format!("/client-grants/{}", grant.id),
    )
    .await;
    Ok(())
}
