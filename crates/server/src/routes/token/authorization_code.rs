//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6): redeem
//! the code from `/authorize` once, check it with
//! [`gatehouse_core::grant::authorization_code`], then issue.

use super::user_grant::{issue, UserGrant};
use super::{finish, EventCodes};
use crate::audit::codes;
use crate::decision::DecisionFailure;
use crate::error::ApiError;
use crate::issue::TokenResponse;
use crate::state::AppState;
use gatehouse_core::error::messages::INVALID_AUTHORIZATION_CODE;
use gatehouse_core::grant::authorization_code::{check_code, IssuedCode};
use gatehouse_core::grant::{check_not_blocked, AudienceParam, Flow};
use gatehouse_core::model::{Client, User};
use gatehouse_core::request::AUTHORIZATION_CODE;
use gatehouse_core::secret::hash_token;
use gatehouse_core::{ErrorCode, OAuthError, ScopeSet};
use gatehouse_store::{AuthorizationCode, CodeRedemption};

const CODES: fn() -> EventCodes = || EventCodes {
    ok: codes::CODE_EXCHANGE_OK,
    failed: codes::CODE_EXCHANGE_FAILED,
};

pub async fn exchange(
    state: &AppState,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let code_hash = hash_token(code);
    let (record, user) =
        match redeem(state, client, &code_hash, redirect_uri, code_verifier, now).await {
            Ok(found) => found,
            Err(failure) => return finish(state, CODES(), client, None, Err(failure)).await,
        };
    let requested = ScopeSet::parse(&record.scope);
    let audience = code_audience(record.audience.clone(), record.resource.clone());
    let result = async {
        let issued = issue(
            state,
            UserGrant {
                flow: Flow::AuthorizationCode,
                grant_type: AUTHORIZATION_CODE,
                client,
                user: &user,
                audience,
                requested: &requested,
                auth_time: record.auth_time,
                sid: record.sid.as_deref(),
                nonce: record.nonce.as_deref(),
                include_auth_time: record.require_auth_time,
                now,
            },
        )
        .await?;
        if let Some(family_id) = &issued.family_id {
            state.store().set_code_family(&code_hash, family_id).await?;
        }
        Ok((issued.minted, issued.trace))
    }
    .await;
    finish(state, CODES(), client, Some(&user.user_id), result).await
}

/// The audience the code was requested with: `audience`, else `resource`;
/// shared with [`crate::simulate`].
pub(crate) fn code_audience(
    audience: Option<String>,
    resource: Option<String>,
) -> Option<AudienceParam> {
    match (audience, resource) {
        (Some(a), _) => Some(AudienceParam::Audience(a)),
        (None, Some(r)) => Some(AudienceParam::Resource(r)),
        (None, None) => None,
    }
}

/// Redeems the code (single use; a reused code revokes what it issued) and
/// checks it with [`check_code`].
async fn redeem(
    state: &AppState,
    client: &Client,
    code_hash: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    now: i64,
) -> Result<(AuthorizationCode, User), DecisionFailure> {
    let invalid = || DecisionFailure::oauth(OAuthError::invalid_grant(INVALID_AUTHORIZATION_CODE));
    let record = match state
        .store()
        .redeem_authorization_code(code_hash, now)
        .await?
    {
        CodeRedemption::Redeemed(record) => record,
        CodeRedemption::NotFound => return Err(invalid()),
        CodeRedemption::AlreadyUsed {
            issued_family_id, ..
        } => {
            // RFC 6749 §4.1.2: a reused code revokes what it issued.
            if let Some(family_id) = issued_family_id {
                state.store().revoke_refresh_family(&family_id, now).await?;
            }
            return Err(invalid());
        }
    };
    let issued = IssuedCode {
        client_id: &record.client_id,
        redirect_uri: record.redirect_uri.as_deref(),
        code_challenge: record.code_challenge.as_deref(),
        code_challenge_method: record.code_challenge_method.as_deref(),
        expires_at: record.expires_at,
    };
    check_code(&issued, client, redirect_uri, code_verifier, now)
        .map_err(DecisionFailure::oauth)?;
    let user = state
        .store()
        .user(&record.user_id)
        .await?
        .ok_or_else(invalid)?
        .user;
    check_not_blocked(&user, ErrorCode::InvalidGrant).map_err(DecisionFailure::oauth)?;
    Ok((record, user))
}
