//! `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5):
//! the device polls until the user approved at `/activate`. The answers
//! (`authorization_pending`, `slow_down`, `expired_token` once) are
//! [`gatehouse_core::grant::device_code`]'s; here: load, write, issue.

use super::user_grant::{issue, UserGrant};
use super::{finish, Attempt, EventCodes};
use crate::actions::{self, PostLoginSource, RequestFacts};
use crate::audit::codes;
use crate::decision::DecisionFailure;
use crate::error::ApiError;
use crate::issue::TokenResponse;
use crate::state::AppState;
use gatehouse_core::grant::device_code::{
    expiry_answer, invalid_device_code, pending_answer, poll_step, PollStep, PolledDeviceCode,
};
use gatehouse_core::grant::{check_not_blocked, AudienceParam, Flow};
use gatehouse_core::model::{Client, User};
use gatehouse_core::request::DEVICE_CODE;
use gatehouse_core::secret::hash_token;
use gatehouse_core::{ErrorCode, ScopeSet};
use gatehouse_store::{DeviceCode, DeviceStatus};

fn event_codes() -> EventCodes {
    EventCodes {
        ok: codes::DEVICE_EXCHANGE_OK,
        failed: codes::DEVICE_EXCHANGE_FAILED,
    }
}

pub async fn exchange(
    state: &AppState,
    client: &Client,
    device_code: &str,
    request: &RequestFacts,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let (record, user) = match poll(state, client, &hash_token(device_code), now).await {
        Ok(found) => found,
        Err(failure) => {
            return finish(state, Attempt::new(event_codes(), client), Err(failure)).await
        }
    };
    let requested = ScopeSet::parse(&record.request.scope);
    let result = issue(
        state,
        UserGrant {
            flow: Flow::DeviceCode,
            grant_type: DEVICE_CODE,
            client,
            user: &user,
            audience: record.request.audience.clone().map(AudienceParam::Audience),
            requested: &requested,
            auth_time: now,
            sid: None,
            nonce: None,
            include_auth_time: false,
            post_login: PostLoginSource::Run {
                request,
                protocol: actions::protocol::DEVICE,
            },
            from_code: None,
            now,
        },
    )
    .await
    .map(|issued| (issued.minted, issued.trace));
    let attempt = Attempt {
        user: Some(&user),
        requested_audience: record.request.audience.clone(),
        requested_scope: Some(record.request.scope.clone()),
        ..Attempt::new(event_codes(), client)
    };
    finish(state, attempt, result).await
}

/// One poll: the step [`poll_step`] decides, with its write.
async fn poll(
    state: &AppState,
    client: &Client,
    hash: &str,
    now: i64,
) -> Result<(DeviceCode, User), DecisionFailure> {
    let invalid = || DecisionFailure::oauth(invalid_device_code());
    let store = state.store();
    let Some(record) = store.device_code(hash).await? else {
        return Err(invalid());
    };
    let polled = PolledDeviceCode {
        client_id: &record.client_id,
        status: record.status,
        expires_at: record.expires_at,
    };
    let answer = match poll_step(&polled, client, now) {
        PollStep::Refuse(error) => error,
        PollStep::ReportExpiry => {
            let first = store
                .transition_device_code(hash, record.status, DeviceStatus::ExpiredReported, None)
                .await?;
            expiry_answer(first)
        }
        PollStep::RecordPoll => {
            let previous = store.touch_device_code(hash, now).await?;
            pending_answer(previous, record.request.interval, now)
        }
        PollStep::Consume => {
            let consumed = store
                .transition_device_code(hash, DeviceStatus::Approved, DeviceStatus::Consumed, None)
                .await?;
            let user_id = record.user_id.as_deref().filter(|_| consumed);
            let Some(user_id) = user_id else {
                return Err(invalid());
            };
            let user = store.user(user_id).await?.ok_or_else(invalid)?.user;
            check_not_blocked(&user, ErrorCode::InvalidGrant).map_err(DecisionFailure::oauth)?;
            return Ok((record, user));
        }
    };
    Err(DecisionFailure::oauth(answer))
}
