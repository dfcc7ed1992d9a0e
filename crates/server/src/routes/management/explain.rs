//! `POST /api/v2/x-gatehouse/explain`: Gatehouse's extension that explains
//! a token, `jti` or log id over the Management API, so `gatehouse explain
//! --url` can ask a remote server. The words come from [`crate::explain`],
//! the same function the CLI calls on a local database.

use super::error::{ManagementError, MgmtResult};
use super::extract::MJson;
use crate::explain::{explain, ExplainError};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gatehouse_core::explain::Explanation;
use serde::Deserialize;
use utoipa::ToSchema;

/// What to explain.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainBody {
    /// A token (JWT or opaque), the `jti` of an access token, or a log id.
    pub input: String,
}

pub async fn explain_input(
    State(state): State<AppState>,
    MJson(body): MJson<ExplainBody>,
) -> MgmtResult<Json<Explanation>> {
    match explain(&state, &body.input).await {
        Ok(explanation) => Ok(Json(explanation)),
        Err(ExplainError::BadInput(message)) => Err(ManagementError::new(
            StatusCode::BAD_REQUEST,
            message,
            "invalid_input",
        )),
        Err(ExplainError::NotFound(message)) => {
            Err(ManagementError::not_found(message, "inexistent_token"))
        }
        Err(ExplainError::Internal(e)) => Err(e.into()),
    }
}
