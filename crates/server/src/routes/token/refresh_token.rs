//! `grant_type=refresh_token` (RFC 6749 §6; auth0-compat.md §2 "Refresh tokens").
//!
//! The rules (lifetimes, leeway, reuse, narrowing) are
//! [`gatehouse_core::grant::refresh_token`]'s; here: load the token, revoke
//! the family on reuse (`ferrt`), rotate for rotating clients, issue.

use super::{finish, Attempt, EventCodes};
use crate::actions::{self, FlowError, Mode, PostLogin, RequestFacts};
use crate::audit::codes;
use crate::decision::{decide, Decided, DecisionFailure, DecisionRequest, Explained};
use crate::error::ApiError;
use crate::issue::{mint, Mint, TokenResponse};
use crate::state::AppState;
use gatehouse_core::grant::refresh_token::{
    check_refresh_token, invalid_refresh_token, leeway_start, narrowed_scope,
    PresentedRefreshToken, RefreshRefusal,
};
use gatehouse_core::grant::refusals::{self, InvalidRefreshToken};
use gatehouse_core::grant::{check_not_blocked, AudienceParam, Flow};
use gatehouse_core::model::{Client, RotationType, User};
use gatehouse_core::request::REFRESH_TOKEN;
use gatehouse_core::secret::hash_token;
use gatehouse_core::{ids, ErrorCode, ScopeSet};
use gatehouse_store::RefreshFamily;

fn event_codes() -> EventCodes {
    EventCodes {
        ok: codes::REFRESH_EXCHANGE_OK,
        failed: codes::REFRESH_EXCHANGE_FAILED,
    }
}

fn invalid() -> DecisionFailure {
    DecisionFailure::oauth(invalid_refresh_token())
}

/// `Unknown or invalid refresh token.`, explained.
fn invalid_because(client: &Client, why: InvalidRefreshToken) -> DecisionFailure {
    DecisionFailure::explained(
        invalid_refresh_token(),
        refusals::refresh_token_invalid(client, why),
    )
}

pub async fn exchange(
    state: &AppState,
    client: &Client,
    refresh_token: &str,
    scope: Option<ScopeSet>,
    request: &RequestFacts,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let token_hash = hash_token(refresh_token);
    let requested_scope = scope.as_ref().map(ToString::to_string);
    let (family, user) = match check(state, client, &token_hash, now).await {
        Ok(found) => found,
        Err(failure) => {
            let attempt = Attempt {
                requested_scope,
                ..Attempt::new(event_codes(), client)
            };
            return finish(state, attempt, Err(failure)).await;
        }
    };
    let result = async {
        let requested = narrowed_scope(ScopeSet::parse(&family.scope), scope)
            .map_err(DecisionFailure::oauth)?;
        let mut decided = decide(
            state,
            decision_request(client, &user, family.audience.clone(), &requested),
        )
        .await?;
        let effects = actions::post_login(
            state,
            PostLogin {
                client,
                user: &user,
                decided: &decided,
                requested: &requested,
                protocol: actions::protocol::REFRESH,
                request,
                session_id: family.sid.as_deref(),
                auth_time: Some(family.auth_time),
                mode: Mode::Issue,
            },
        )
        .await
        .map_err(FlowError::into_decision_failure)?;
        decided.apply_actions(effects);
        let refresh_token = rotate(state, client, &family, &token_hash, now).await?;
        let minted = mint(
            state,
            mint_request(
                client,
                &user,
                &decided,
                family.sid.as_deref(),
                now,
                refresh_token,
            ),
        )
        .await?;
        Ok((minted, decided.decision.trace))
    }
    .await;
    let attempt = Attempt {
        user: Some(&user),
        requested_audience: family.audience.clone(),
        requested_scope: requested_scope.or(Some(family.scope.clone())),
        extra: serde_json::json!({ "family_id": family.id }),
        ..Attempt::new(event_codes(), client)
    };
    finish(state, attempt, result).await
}

/// The decision request of a refresh: the family's audience, the family's
/// scope (or the narrower `scope`); shared with [`crate::simulate`].
pub(crate) fn decision_request<'a>(
    client: &'a Client,
    user: &'a User,
    family_audience: Option<String>,
    requested: &'a ScopeSet,
) -> DecisionRequest<'a> {
    DecisionRequest {
        flow: Flow::RefreshToken,
        client,
        user: Some(user),
        audience: family_audience.map(AudienceParam::Audience),
        requested_scopes: requested,
        consent: None,
    }
}

/// What to mint for a refresh; shared with [`crate::simulate`].
pub(crate) fn mint_request<'a>(
    client: &'a Client,
    user: &'a User,
    decided: &'a Decided,
    sid: Option<&'a str>,
    now: i64,
    refresh_token: Option<String>,
) -> Mint<'a> {
    Mint {
        client,
        user: Some(user),
        decided,
        grant_type: REFRESH_TOKEN,
        nonce: None,
        sid,
        auth_time: None,
        refresh_token,
        now,
    }
}

/// Finds the token, checks it with [`check_refresh_token`] (revoking the
/// family on reuse) and loads the user.
async fn check(
    state: &AppState,
    client: &Client,
    token_hash: &str,
    now: i64,
) -> Result<(RefreshFamily, User), DecisionFailure> {
    let Some((token, family)) = state.store().refresh_token(token_hash).await? else {
        return Err(invalid_because(client, InvalidRefreshToken::Unknown));
    };
    let presented = PresentedRefreshToken {
        family_client_id: &family.client_id,
        family_revoked: family.revoked_at.is_some(),
        family_expires_at: family.expires_at,
        issued_at: token.created_at,
        rotated_at: token.rotated_at,
    };
    match check_refresh_token(&presented, client, now) {
        Ok(()) => {}
        Err(RefreshRefusal::Reused) => {
            let since = token.rotated_at.map(|at| now.saturating_sub(at));
            return Err(reuse_detected(state, client, &family, since, now).await);
        }
        Err(RefreshRefusal::Invalid) => {
            let why = if family.client_id != client.client_id {
                InvalidRefreshToken::OtherClient
            } else if family.revoked_at.is_some() {
                InvalidRefreshToken::Revoked
            } else {
                InvalidRefreshToken::Expired
            };
            return Err(invalid_because(client, why));
        }
    }
    let user = state
        .store()
        .user(&family.user_id)
        .await?
        .ok_or_else(invalid)?
        .user;
    check_not_blocked(&user, ErrorCode::InvalidGrant).map_err(DecisionFailure::oauth)?;
    Ok((family, user))
}

/// A rotated token came back `since_rotation` seconds after its rotation:
/// revoke the family; the failure is logged as `ferrt` with the likely cause.
async fn reuse_detected(
    state: &AppState,
    client: &Client,
    family: &RefreshFamily,
    since_rotation: Option<i64>,
    now: i64,
) -> DecisionFailure {
    if let Err(e) = state.store().revoke_refresh_family(&family.id, now).await {
        return e.into();
    }
    DecisionFailure::Explained(Box::new(Explained {
        error: invalid_refresh_token(),
        refusal: refusals::refresh_token_reused(client, since_rotation),
        event_code: Some(codes::REFRESH_TOKEN_REUSED),
    }))
}

/// Rotating clients get a new token in place of the presented one; losing a
/// concurrent race counts as reuse.
async fn rotate(
    state: &AppState,
    client: &Client,
    family: &RefreshFamily,
    token_hash: &str,
    now: i64,
) -> Result<Option<String>, DecisionFailure> {
    if client.refresh_token.rotation_type != RotationType::Rotating {
        return Ok(None);
    }
    let next = ids::random_token(32);
    let rotated = state
        .store()
        .rotate_refresh_token(
            token_hash,
            &hash_token(&next),
            now,
            leeway_start(client, now),
        )
        .await?;
    if !rotated {
        // Lost a race with a concurrent refresh of the same token.
        return Err(reuse_detected(state, client, family, Some(0), now).await);
    }
    Ok(Some(next))
}
