//! `grant_type=password` and Auth0's `password-realm` (RFC 6749 §4.3,
//! auth0-compat.md §2): a user's email and password exchanged directly.

use super::{finish, EventCodes};
use crate::audit::{self, codes, Event};
use crate::decision::{decide, DecisionFailure, DecisionRequest};
use crate::error::ApiError;
use crate::issue::{mint, new_refresh_family, Mint, NewFamily, TokenResponse};
use crate::password::verify_password_blocking;
use crate::state::AppState;
use gatehouse_core::error::messages::{USER_IS_BLOCKED, WRONG_EMAIL_OR_PASSWORD};
use gatehouse_core::grant::{AudienceParam, Flow};
use gatehouse_core::model::{Client, User, DEFAULT_CONNECTION};
use gatehouse_core::{OAuthError, ScopeSet};

pub struct Credentials {
    pub username: String,
    pub password: String,
    /// The connection named by password-realm; else the tenant's default directory.
    pub realm: Option<String>,
}

#[allow(clippy::too_many_arguments)]
pub async fn exchange(
    state: &AppState,
    client: &Client,
    credentials: Credentials,
    audience: Option<AudienceParam>,
    scope: ScopeSet,
    grant_type: &'static str,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let user = authenticate_user(state, client, credentials).await?;
    let result = async {
        let decided = decide(
            state,
            DecisionRequest {
                flow: Flow::Password,
                client,
                user: Some(&user),
                audience,
                requested_scopes: &scope,
                consent: None,
            },
        )
        .await?;
        let refresh_token = if decided.decision.issue_refresh_token {
            let (token, _) = new_refresh_family(
                state,
                NewFamily {
                    client,
                    user: &user,
                    audience: decided.decision.audience.clone(),
                    scope: &decided.decision.scope,
                    auth_time: now,
                    sid: None,
                    now,
                },
            )
            .await?;
            Some(token)
        } else {
            None
        };
        state
            .store()
            .record_login(&user.user_id, now)
            .await
            .map_err(DecisionFailure::from)?;
        let minted = mint(
            state,
            Mint {
                client,
                user: Some(&user),
                decided: &decided,
                grant_type,
                nonce: None,
                sid: None,
                auth_time: None,
                refresh_token,
                now,
            },
        )
        .await?;
        Ok((minted, decided.decision.trace))
    }
    .await;
    let codes = EventCodes {
        ok: codes::PASSWORD_EXCHANGE_OK,
        failed: codes::PASSWORD_EXCHANGE_FAILED,
    };
    finish(state, codes, client, Some(&user.user_id), result).await
}

/// Finds the user in the connection and checks the password. Unknown users and
/// wrong passwords get the same answer; the log tells them apart (`fu`, `fp`).
async fn authenticate_user(
    state: &AppState,
    client: &Client,
    credentials: Credentials,
) -> Result<User, ApiError> {
    let connection = match credentials.realm {
        Some(realm) => realm,
        None => state.store().tenant_settings().await?.default_directory,
    };
    if connection != DEFAULT_CONNECTION {
        return Err(OAuthError::invalid_request(format!(
            "The connection {connection} does not exist."
        ))
        .into());
    }
    let stored = state
        .store()
        .user_by_email(&connection, &credentials.username)
        .await?;
    let rejected = |code: &'static str, user_id: Option<String>| async move {
        audit::record(
            state,
            Event {
                code,
                description: WRONG_EMAIL_OR_PASSWORD.to_string(),
                client_id: Some(&client.client_id),
                user_id: user_id.as_deref(),
                jti: None,
                trace: None,
                extra: serde_json::json!({}),
            },
        )
        .await;
        ApiError::from(OAuthError::invalid_grant(WRONG_EMAIL_OR_PASSWORD))
    };
    let Some(stored) = stored else {
        return Err(rejected(codes::UNKNOWN_USER, None).await);
    };
    let Some(hash) = stored.password_hash.clone() else {
        return Err(rejected(codes::WRONG_PASSWORD, Some(stored.user.user_id)).await);
    };
    if !verify_password_blocking(credentials.password, hash).await {
        return Err(rejected(codes::WRONG_PASSWORD, Some(stored.user.user_id)).await);
    }
    if stored.user.blocked {
        return Err(OAuthError::invalid_grant(USER_IS_BLOCKED).into());
    }
    Ok(stored.user)
}
