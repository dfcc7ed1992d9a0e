//! `/api/v2/jobs`: the verification-email job (auth0-compat.md §11).
//!
//! `POST /jobs/verification-email` queues a `verify_email` mail that carries
//! the job's id; `GET /jobs/{id}` reads that mail: `pending` until it is
//! sent (`completed`) or given up (`failed`). The queue worker creates the
//! link's ticket when it sends, so the job never holds a secret.

use super::error::{ManagementError, MgmtResult};
use super::extract::{MJson, MPath};
use super::render::check_id;
use super::tickets::{
    check_client, check_identity, refuse_organization, require_email, required_user, TicketIdentity,
};
use crate::email::queue::{self, MailRequest};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gatehouse_core::time::iso8601;
use gatehouse_mail::templates::VERIFY_EMAIL;
use gatehouse_store::{QueuedMail, StoreError};
use serde::{Deserialize, Serialize};

/// `POST /jobs/verification-email`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationEmailJob {
    pub user_id: Option<String>,
    /// The application the mail names (`{{ application.name }}`).
    pub client_id: Option<String>,
    pub identity: Option<TicketIdentity>,
    /// Refused: Gatehouse has no organizations.
    pub organization_id: Option<String>,
}

/// A job as Auth0 shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobView {
    /// `verification_email`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `pending`, `completed` or `failed`.
    pub status: &'static str,
    pub created_at: String,
    /// `job_` and 16 alphanumerics.
    pub id: String,
}

const VERIFICATION_EMAIL: &str = "verification_email";

pub async fn verification_email(
    State(state): State<AppState>,
    MJson(body): MJson<VerificationEmailJob>,
) -> MgmtResult<(StatusCode, Json<JobView>)> {
    refuse_organization(body.organization_id.as_deref())?;
    check_client(&state, body.client_id.as_deref()).await?;
    let user = required_user(&state, body.user_id.as_deref()).await?;
    check_identity(&user, body.identity.as_ref())?;
    require_email(&user)?;
    let mail = queue::enqueue(
        &state,
        MailRequest {
            template: VERIFY_EMAIL,
            user: &user,
            client_id: body.client_id.as_deref(),
            result_url: None,
            ttl_seconds: None,
            job_id: Some(gatehouse_core::ids::prefixed("job")),
        },
    )
    .await
    .map_err(|e| match e {
        // `enqueue` refuses a user without an address this way; checked above.
        StoreError::NotFound => ManagementError::invalid_body("The user has no email address."),
        e => e.into(),
    })?;
    Ok((StatusCode::CREATED, Json(view(&mail)?)))
}

pub async fn get_one(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<Json<JobView>> {
    check_id(&id, "id")?;
    let mail =
        state.store().mail_by_job(&id).await?.ok_or_else(|| {
            ManagementError::not_found("The job does not exist.", "inexistent_job")
        })?;
    Ok(Json(view(&mail)?))
}

fn view(mail: &QueuedMail) -> MgmtResult<JobView> {
    let id = mail
        .job_id
        .clone()
        .ok_or_else(|| ManagementError::internal(format!("mail {} is no job", mail.id)))?;
    let status = match (mail.sent_at, mail.failed_at) {
        (Some(_), _) => "completed",
        (None, Some(_)) => "failed",
        (None, None) => "pending",
    };
    Ok(JobView {
        kind: VERIFICATION_EMAIL,
        status,
        created_at: iso8601(mail.created_at),
        id,
    })
}
