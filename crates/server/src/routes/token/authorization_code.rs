//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6): redeem
//! the code from `/authorize` once, check it with
//! [`gatehouse_core::grant::authorization_code`], then issue.

use super::user_grant::{issue, UserGrant};
use super::{finish, Attempt, EventCodes};
use crate::actions::PostLoginSource;
use crate::audit;
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
    let details = serde_json::json!({ "code": audit::mask(code) });
    let (record, user) =
        match redeem(state, client, &code_hash, redirect_uri, code_verifier, now).await {
            Ok(found) => found,
            Err((failure, issued_to)) => {
                let mut extra = details;
                if let (Some(id), serde_json::Value::Object(map)) = (issued_to, &mut extra) {
                    map.insert("requested_client_id".into(), id.into());
                }
                let attempt = Attempt {
                    extra,
                    ..Attempt::new(CODES(), client)
                };
                return finish(state, attempt, Err(failure)).await;
            }
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
                post_login: PostLoginSource::Carried(Box::new(record.actions.clone())),
                from_code: Some(&code_hash),
                now,
            },
        )
        .await?;
        Ok((issued.minted, issued.trace))
    }
    .await;
    let attempt = Attempt {
        user: Some(&user),
        requested_audience: record.audience.clone().or(record.resource.clone()),
        requested_scope: Some(record.scope.clone()),
        extra: details,
        ..Attempt::new(CODES(), client)
    };
    finish(state, attempt, result).await
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
/// checks it with [`check_code`]. A failure carries the client the code was
/// issued to, when the code was found (Auth0's `requested_client_id`).
async fn redeem(
    state: &AppState,
    client: &Client,
    code_hash: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    now: i64,
) -> Result<(AuthorizationCode, User), (DecisionFailure, Option<String>)> {
    let record = find_code(state, code_hash, now)
        .await
        .map_err(|failure| (failure, None))?;
    let issued_to = record.client_id.clone();
    check_found(state, client, record, redirect_uri, code_verifier, now)
        .await
        .map_err(|failure| (failure, Some(issued_to)))
}

fn invalid() -> DecisionFailure {
    DecisionFailure::oauth(OAuthError::invalid_grant(INVALID_AUTHORIZATION_CODE))
}

async fn find_code(
    state: &AppState,
    code_hash: &str,
    now: i64,
) -> Result<AuthorizationCode, DecisionFailure> {
    match state
        .store()
        .redeem_authorization_code(code_hash, now)
        .await?
    {
        CodeRedemption::Redeemed(record) => Ok(record),
        CodeRedemption::NotFound => Err(invalid()),
        CodeRedemption::AlreadyUsed {
            issued_family_id, ..
        } => {
            // RFC 6749 §4.1.2: a reused code revokes what it issued.
            if let Some(family_id) = issued_family_id {
                state.store().revoke_refresh_family(&family_id, now).await?;
            }
            Err(invalid())
        }
    }
}

async fn check_found(
    state: &AppState,
    client: &Client,
    record: AuthorizationCode,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    now: i64,
) -> Result<(AuthorizationCode, User), DecisionFailure> {
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
