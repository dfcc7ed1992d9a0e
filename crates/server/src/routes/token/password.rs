//! `grant_type=password` and Auth0's `password-realm` (RFC 6749 §4.3,
//! auth0-compat.md §2): a user's email and password exchanged directly.

use super::user_grant::{issue, UserGrant};
use super::{finish, EventCodes};
use crate::audit::codes;
use crate::brute_force::{BruteForce, Verdict};
use crate::error::ApiError;
use crate::issue::TokenResponse;
use crate::password::verify_password_or_dummy;
use crate::rate_limit::RateLimiter;
use crate::state::AppState;
use gatehouse_core::error::messages::{
    TOO_MANY_ATTEMPTS, USER_IS_BLOCKED, WRONG_EMAIL_OR_PASSWORD,
};
use gatehouse_core::grant::{AudienceParam, Flow};
use gatehouse_core::model::{Client, User, DEFAULT_CONNECTION};
use gatehouse_core::{ErrorCode, OAuthError, ScopeSet};

pub struct Credentials {
    pub username: String,
    pub password: String,
    /// The connection named by password-realm; else the tenant's default directory.
    pub realm: Option<String>,
    /// The end user's IP, for brute-force protection.
    pub ip: String,
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
    let user = authenticate_user(state, client, credentials, now).await?;
    if let Err(e) = state.store().record_login(&user.user_id, now).await {
        tracing::warn!(error = %e, "could not record the login");
    }
    let result = issue(
        state,
        UserGrant {
            flow: Flow::Password,
            grant_type,
            client,
            user: &user,
            audience,
            requested: &scope,
            auth_time: now,
            sid: None,
            nonce: None,
            include_auth_time: false,
            now,
        },
    )
    .await
    .map(|issued| (issued.minted, issued.trace));
    let codes = EventCodes {
        ok: codes::PASSWORD_EXCHANGE_OK,
        failed: codes::PASSWORD_EXCHANGE_FAILED,
    };
    finish(state, codes, client, Some(&user.user_id), result).await
}

/// Finds the user in the connection and checks the password. Unknown users and
/// wrong passwords get the same answer after the same argon2id work; the log
/// tells them apart (`fu`, `fp`). Brute-force protection ([`BruteForce`])
/// reserves the attempt per (IP, identifier), and [`RateLimiter`] a failure
/// per IP and per account, before the password is checked.
async fn authenticate_user(
    state: &AppState,
    client: &Client,
    credentials: Credentials,
    now: i64,
) -> Result<User, ApiError> {
    let tenant = state.store().tenant_settings().await?;
    let connection = credentials
        .realm
        .clone()
        .unwrap_or_else(|| tenant.default_directory.clone());
    if connection != DEFAULT_CONNECTION {
        return Err(OAuthError::invalid_request(format!(
            "The connection {connection} does not exist."
        ))
        .into());
    }
    let mut guard = BruteForce::new(
        state,
        Some(&client.client_id),
        tenant.brute_force_protection,
        &credentials.ip,
        credentials.username.to_lowercase(),
        now,
    );
    let limiter = RateLimiter::new(state, tenant.rate_limits, Some(&client.client_id), now);
    if let Some(throttled) = limiter
        .reserve_authentication(&credentials.ip, &guard.identifier)
        .await?
    {
        return Err(ApiError::RateLimited(throttled));
    }
    if guard.reserve().await? == Verdict::Blocked {
        limiter
            .release_authentication(&credentials.ip, &guard.identifier)
            .await?;
        return Err(too_many_attempts());
    }
    let stored = state
        .store()
        .user_by_email(&connection, &credentials.username)
        .await?;
    let hash = stored.as_ref().and_then(|s| s.password_hash.clone());
    let verified = verify_password_or_dummy(credentials.password, hash).await;
    let Some(stored) = stored else {
        return Err(failed(&guard, codes::UNKNOWN_USER, None).await);
    };
    if !verified {
        let user_id = Some(stored.user.user_id.as_str());
        return Err(failed(&guard, codes::WRONG_PASSWORD, user_id).await);
    }
    guard.succeeded().await?;
    limiter
        .release_authentication(&credentials.ip, &guard.identifier)
        .await?;
    if stored.user.blocked {
        return Err(OAuthError::invalid_grant(USER_IS_BLOCKED).into());
    }
    Ok(stored.user)
}

fn too_many_attempts() -> ApiError {
    OAuthError::new(ErrorCode::TooManyAttempts, TOO_MANY_ATTEMPTS).into()
}

/// The answer to a failed attempt (its rate-limit hits were reserved
/// before the check and stay counted): `invalid_grant`; `too_many_attempts`
/// once the pair is blocked.
async fn failed(guard: &BruteForce<'_>, code: &'static str, user_id: Option<&str>) -> ApiError {
    match guard.failed(code, WRONG_EMAIL_OR_PASSWORD, user_id).await {
        Err(e) => e.into(),
        Ok(Verdict::Blocked) => too_many_attempts(),
        Ok(Verdict::Allowed) => OAuthError::invalid_grant(WRONG_EMAIL_OR_PASSWORD).into(),
    }
}
