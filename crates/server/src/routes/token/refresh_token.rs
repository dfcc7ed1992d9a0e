//! `grant_type=refresh_token` (RFC 6749 §6; auth0-compat.md §2 "Refresh tokens").
//!
//! Rotating clients get a new refresh token on every use and the old one dies;
//! presenting a dead one revokes the whole family (`ferrt`), except the
//! immediate predecessor within the client's `leeway`. Absolute lifetime is
//! never extended by rotation; idle lifetime runs from the token's issuance.

use super::{finish, EventCodes};
use crate::audit::{self, codes, Event};
use crate::decision::{decide, DecisionFailure, DecisionRequest};
use crate::error::ApiError;
use crate::issue::{mint, Mint, TokenResponse};
use crate::state::AppState;
use gatehouse_core::error::messages::{INVALID_REFRESH_TOKEN, USER_IS_BLOCKED};
use gatehouse_core::grant::{AudienceParam, Flow};
use gatehouse_core::model::{Client, ExpirationType, RotationType, User};
use gatehouse_core::request::REFRESH_TOKEN;
use gatehouse_core::secret::hash_token;
use gatehouse_core::{ids, OAuthError, ScopeSet};
use gatehouse_store::{RefreshFamily, RefreshTokenRecord};

fn event_codes() -> EventCodes {
    EventCodes {
        ok: codes::REFRESH_EXCHANGE_OK,
        failed: codes::REFRESH_EXCHANGE_FAILED,
    }
}

fn invalid() -> DecisionFailure {
    DecisionFailure::oauth(OAuthError::invalid_grant(INVALID_REFRESH_TOKEN))
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
        let requested = narrowed_scope(&family, scope)?;
        let decided = decide(
            state,
            DecisionRequest {
                flow: Flow::RefreshToken,
                client,
                user: Some(&user),
                audience: family.audience.clone().map(AudienceParam::Audience),
                requested_scopes: &requested,
                consent: None,
            },
        )
        .await?;
        let refresh_token = rotate(state, client, &family, &token_hash, now).await?;
        let minted = mint(
            state,
            Mint {
                client,
                user: Some(&user),
                decided: &decided,
                grant_type: REFRESH_TOKEN,
                nonce: None,
                sid: family.sid.as_deref(),
                auth_time: None,
                refresh_token,
                now,
            },
        )
        .await?;
        Ok((minted, decided.decision.trace))
    }
    .await;
    finish(state, event_codes(), client, Some(&user.user_id), result).await
}

/// A `scope` parameter may narrow the original grant, never widen it.
fn narrowed_scope(
    family: &RefreshFamily,
    scope: Option<ScopeSet>,
) -> Result<ScopeSet, DecisionFailure> {
    let original = ScopeSet::parse(&family.scope);
    match scope {
        None => Ok(original),
        Some(scope) if scope.is_subset_of(&original) => Ok(scope),
        Some(_) => Err(DecisionFailure::oauth(OAuthError::invalid_scope(
            "The requested scope exceeds the scope granted with the refresh token.",
        ))),
    }
}

/// Finds the token and checks family, client, lifetimes, reuse and the user.
async fn check(
    state: &AppState,
    client: &Client,
    token_hash: &str,
    now: i64,
) -> Result<(RefreshFamily, User), DecisionFailure> {
    let Some((token, family)) = state.store().refresh_token(token_hash).await? else {
        return Err(invalid());
    };
    if family.client_id != client.client_id || family.revoked_at.is_some() {
        return Err(invalid());
    }
    if family.expires_at.is_some_and(|at| at <= now) || idle_expired(client, &token, now) {
        return Err(invalid());
    }
    if let Some(rotated_at) = token.rotated_at {
        if !within_leeway(client, rotated_at, now) {
            reuse_detected(state, client, &family, now).await?;
            return Err(invalid());
        }
    }
    let user = state
        .store()
        .user(&family.user_id)
        .await?
        .ok_or_else(invalid)?
        .user;
    if user.blocked {
        return Err(DecisionFailure::oauth(OAuthError::invalid_grant(
            USER_IS_BLOCKED,
        )));
    }
    Ok((family, user))
}

fn idle_expired(client: &Client, token: &RefreshTokenRecord, now: i64) -> bool {
    let settings = &client.refresh_token;
    settings.expiration_type == ExpirationType::Expiring
        && !settings.infinite_idle_token_lifetime
        && token
            .created_at
            .saturating_add(i64::try_from(settings.idle_token_lifetime).unwrap_or(i64::MAX / 2))
            <= now
}

fn within_leeway(client: &Client, rotated_at: i64, now: i64) -> bool {
    let leeway = i64::try_from(client.refresh_token.leeway).unwrap_or(0);
    leeway > 0 && now - rotated_at <= leeway
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
    let leeway = i64::try_from(client.refresh_token.leeway).unwrap_or(0);
    let leeway_since = (leeway > 0).then_some(now - leeway);
    let rotated = state
        .store()
        .rotate_refresh_token(token_hash, &hash_token(&next), now, leeway_since)
        .await?;
    if !rotated {
        reuse_detected(state, client, family, now).await?;
        return Err(invalid());
    }
    Ok(Some(next))
}
