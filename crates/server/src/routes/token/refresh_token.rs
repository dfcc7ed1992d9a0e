//! `grant_type=refresh_token` (RFC 6749 §6; auth0-compat.md §2 "Refresh tokens").
//!
//! The rules (lifetimes, leeway, reuse, narrowing) are
//! [`gatehouse_core::grant::refresh_token`]'s; here: load the token, revoke
//! the family on reuse (`ferrt`), rotate for rotating clients, issue.

use super::{finish, EventCodes};
use crate::audit::{self, codes, Event};
use crate::decision::{decide, Decided, DecisionFailure, DecisionRequest};
use crate::error::ApiError;
use crate::issue::{mint, Mint, TokenResponse};
use crate::state::AppState;
use gatehouse_core::grant::refresh_token::{
    check_refresh_token, invalid_refresh_token, leeway_start, narrowed_scope,
    PresentedRefreshToken, RefreshRefusal,
};
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

pub async fn exchange(
    state: &AppState,
    client: &Client,
    refresh_token: &str,
    scope: Option<ScopeSet>,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let token_hash = hash_token(refresh_token);
    let (family, user) = match check(state, client, &token_hash, now).await {
        Ok(found) => found,
        Err(failure) => return finish(state, event_codes(), client, None, Err(failure)).await,
    };
    let result = async {
        let requested = narrowed_scope(ScopeSet::parse(&family.scope), scope)
            .map_err(DecisionFailure::oauth)?;
        let decided = decide(
            state,
            decision_request(client, &user, family.audience.clone(), &requested),
        )
        .await?;
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
    finish(state, event_codes(), client, Some(&user.user_id), result).await
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
        return Err(invalid());
    };
    let presented = PresentedRefreshToken {
        family_client_id: &family.client_id,
        family_revoked: family.revoked_at.is_some(),
        family_expires_at: family.expires_at,
        issued_at: token.created_at,
        rotated_at: token.rotated_at,
    };
    if let Err(refusal) = check_refresh_token(&presented, client, now) {
        if refusal == RefreshRefusal::Reused {
            reuse_detected(state, client, &family, now).await?;
        }
        return Err(DecisionFailure::oauth(refusal.error()));
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

/// A rotated token came back: revoke the family and log `ferrt`.
async fn reuse_detected(
    state: &AppState,
    client: &Client,
    family: &RefreshFamily,
    now: i64,
) -> Result<(), DecisionFailure> {
    state.store().revoke_refresh_family(&family.id, now).await?;
    audit::record(
        state,
        Event {
            code: codes::REFRESH_TOKEN_REUSED,
            description: "A rotated refresh token was reused; its family is revoked.".into(),
            client_id: Some(&client.client_id),
            user_id: Some(&family.user_id),
            jti: None,
            trace: None,
            extra: serde_json::json!({ "family_id": family.id }),
            ..Event::default()
        },
    )
    .await;
    Ok(())
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
        reuse_detected(state, client, family, now).await?;
        return Err(invalid());
    }
    Ok(Some(next))
}
