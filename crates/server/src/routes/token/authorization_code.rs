//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6): a code
//! from `/authorize` exchanged once, by the client it was issued to, with the
//! same `redirect_uri` and the PKCE verifier.

use super::user_grant::{issue, UserGrant};
use super::{finish, EventCodes};
use crate::audit::codes;
use crate::decision::DecisionFailure;
use crate::error::ApiError;
use crate::issue::TokenResponse;
use crate::state::AppState;
use gatehouse_core::error::messages::{INVALID_AUTHORIZATION_CODE, USER_IS_BLOCKED};
use gatehouse_core::grant::{AudienceParam, Flow};
use gatehouse_core::model::{Client, User};
use gatehouse_core::pkce::{check_code_verifier, Method};
use gatehouse_core::request::AUTHORIZATION_CODE;
use gatehouse_core::secret::hash_token;
use gatehouse_core::{OAuthError, ScopeSet};
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
    let audience = match (&record.audience, &record.resource) {
        (Some(a), _) => Some(AudienceParam::Audience(a.clone())),
        (None, Some(r)) => Some(AudienceParam::Resource(r.clone())),
        (None, None) => None,
    };
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

/// Redeems the code (single use) and runs the checks of RFC 6749 §4.1.3.
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
    if record.client_id != client.client_id || record.expires_at <= now {
        return Err(invalid());
    }
    check_redirect_uri(&record, redirect_uri).map_err(DecisionFailure::oauth)?;
    check_pkce(&record, client, code_verifier).map_err(DecisionFailure::oauth)?;
    let user = state
        .store()
        .user(&record.user_id)
        .await?
        .ok_or_else(invalid)?
        .user;
    if user.blocked {
        return Err(DecisionFailure::oauth(OAuthError::invalid_grant(
            USER_IS_BLOCKED,
        )));
    }
    Ok((record, user))
}

/// RFC 6749 §4.1.3: the same `redirect_uri` as at `/authorize`, if one was sent there.
fn check_redirect_uri(
    record: &AuthorizationCode,
    presented: Option<&str>,
) -> Result<(), OAuthError> {
    match (&record.redirect_uri, presented) {
        (Some(expected), Some(got)) if expected == got => Ok(()),
        (Some(_), _) => Err(OAuthError::invalid_grant(
            "The redirect_uri does not match the one used at /authorize.",
        )),
        (None, _) => Ok(()),
    }
}

/// RFC 7636 §4.6; public clients must have used PKCE, since they have no secret.
fn check_pkce(
    record: &AuthorizationCode,
    client: &Client,
    verifier: Option<&str>,
) -> Result<(), OAuthError> {
    match &record.code_challenge {
        Some(challenge) => {
            let method = record
                .code_challenge_method
                .as_deref()
                .and_then(Method::parse)
                .unwrap_or(Method::Plain);
            if method == Method::Plain && !client.allow_plain_pkce {
                return Err(OAuthError::invalid_grant(
                    "The plain code_challenge_method is not allowed for this client.",
                ));
            }
            check_code_verifier(challenge, method, verifier)
        }
        None if verifier.is_some() => Err(OAuthError::invalid_grant(
            "A code_verifier was sent but no code_challenge was used at /authorize.",
        )),
        None if client.is_public() => Err(OAuthError::invalid_grant(
            "Public clients must use PKCE (code_challenge at /authorize).",
        )),
        None => Ok(()),
    }
}
