//! `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5):
//! the device polls until the user approved at `/activate`.
//!
//! Auth0's polling answers: 403 `authorization_pending` while waiting, 429
//! `slow_down` when polled faster than the interval, 403 `expired_token` once
//! after expiry and `invalid_grant` after that.

use super::user_grant::{issue, UserGrant};
use super::{finish, EventCodes};
use crate::audit::codes;
use crate::decision::DecisionFailure;
use crate::error::ApiError;
use crate::issue::TokenResponse;
use crate::state::AppState;
use gatehouse_core::error::messages;
use gatehouse_core::grant::{AudienceParam, Flow};
use gatehouse_core::model::{Client, User};
use gatehouse_core::request::DEVICE_CODE;
use gatehouse_core::secret::hash_token;
use gatehouse_core::{ErrorCode, OAuthError, ScopeSet};
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
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let (record, user) = match poll(state, client, &hash_token(device_code), now).await {
        Ok(found) => found,
        Err(failure) => return Err(failure.into_api_error()),
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
            now,
        },
    )
    .await
    .map(|issued| (issued.minted, issued.trace));
    finish(state, event_codes(), client, Some(&user.user_id), result).await
}

fn refuse(code: ErrorCode, description: &str) -> DecisionFailure {
    DecisionFailure::oauth(OAuthError::new(code, description))
}

/// One poll: the state machine of RFC 8628 §3.5.
async fn poll(
    state: &AppState,
    client: &Client,
    hash: &str,
    now: i64,
) -> Result<(DeviceCode, User), DecisionFailure> {
    let invalid = || refuse(ErrorCode::InvalidGrant, messages::INVALID_DEVICE_CODE);
    let store = state.store();
    let Some(record) = store.device_code(hash).await? else {
        return Err(invalid());
    };
    if record.client_id != client.client_id {
        return Err(invalid());
    }
    if matches!(
        record.status,
        DeviceStatus::Consumed | DeviceStatus::ExpiredReported
    ) {
        return Err(invalid());
    }
    if record.expires_at <= now {
        let first = store
            .transition_device_code(hash, record.status, DeviceStatus::ExpiredReported, None)
            .await?;
        return Err(if first {
            refuse(ErrorCode::ExpiredToken, messages::EXPIRED_TOKEN)
        } else {
            invalid()
        });
    }
    match record.status {
        DeviceStatus::Pending => {
            let previous = store.touch_device_code(hash, now).await?;
            let too_fast = previous.is_some_and(|p| now - p < record.request.interval);
            Err(if too_fast {
                refuse(ErrorCode::SlowDown, messages::SLOW_DOWN)
            } else {
                refuse(
                    ErrorCode::AuthorizationPending,
                    messages::AUTHORIZATION_PENDING,
                )
            })
        }
        DeviceStatus::Denied => Err(refuse(
            ErrorCode::AccessDenied,
            "The user denied the authorization request.",
        )),
        DeviceStatus::Approved => {
            if !store
                .transition_device_code(hash, DeviceStatus::Approved, DeviceStatus::Consumed, None)
                .await?
            {
                return Err(invalid());
            }
            let user_id = record.user_id.clone().ok_or_else(invalid)?;
            let user = store.user(&user_id).await?.ok_or_else(invalid)?.user;
            if user.blocked {
                return Err(refuse(ErrorCode::InvalidGrant, messages::USER_IS_BLOCKED));
            }
            Ok((record, user))
        }
        DeviceStatus::Consumed | DeviceStatus::ExpiredReported => Err(invalid()),
    }
}
