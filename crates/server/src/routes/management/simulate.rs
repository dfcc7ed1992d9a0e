//! `POST /api/v2/x-gatehouse/simulate`: the would-be token for a client, a
//! user and a request, with the decision trace, issuing nothing
//! ([`crate::simulate`]). A Gatehouse extension (Auth0 has no such endpoint),
//! open to `read:logs` or `simulate:tokens`.

use super::error::{ManagementError, MgmtResult};
use super::extract::MJson;
use crate::simulate::{simulate as run, SimulateError, SimulateRequest, Simulation};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;

pub async fn simulate(
    State(state): State<AppState>,
    MJson(req): MJson<SimulateRequest>,
) -> MgmtResult<Json<Simulation>> {
    run(&state, &req).await.map(Json).map_err(rejection)
}

fn rejection(e: SimulateError) -> ManagementError {
    let message = e.to_string();
    match e {
        SimulateError::UnknownClient(_) => ManagementError::not_found(message, "inexistent_client"),
        SimulateError::UnknownUser(_) => ManagementError::not_found(message, "inexistent_user"),
        SimulateError::BadGrant(_)
        | SimulateError::UserNotAllowed
        | SimulateError::UserRequired(_) => ManagementError::invalid_body(message),
        SimulateError::Internal(cause) => ManagementError::internal(cause),
    }
}
