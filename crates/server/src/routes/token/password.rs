//! `grant_type=password` and Auth0's `password-realm` (RFC 6749 §4.3,
//! auth0-compat.md §2): a user's email and password exchanged directly.

use super::user_grant::{issue, UserGrant};
use super::{finish, EventCodes};
use crate::audit::{self, codes, Event};
use crate::error::ApiError;
use crate::issue::TokenResponse;
use crate::password::verify_password_blocking;
use crate::state::AppState;
use gatehouse_core::error::messages::{
    TOO_MANY_ATTEMPTS, USER_IS_BLOCKED, WRONG_EMAIL_OR_PASSWORD,
};
use gatehouse_core::grant::{AudienceParam, Flow};
use gatehouse_core::model::{
    BruteForceProtection, Client, User, BRUTE_FORCE_BLOCK_SECONDS, DEFAULT_CONNECTION,
};
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
/// wrong passwords get the same answer; the log tells them apart (`fu`, `fp`).
/// Brute-force protection counts failures per (IP, identifier) in the store,
/// so every node sees the same count.
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
    let guard = BruteForce {
        state,
        client,
        settings: tenant.brute_force_protection,
        ip: &credentials.ip,
        identifier: credentials.username.to_lowercase(),
        now,
    };
    guard.check().await?;
    let stored = state
        .store()
        .user_by_email(&connection, &credentials.username)
        .await?;
    let Some(stored) = stored else {
        return Err(guard.failed(codes::UNKNOWN_USER, None).await);
    };
    let verified = match stored.password_hash.clone() {
        Some(hash) => verify_password_blocking(credentials.password, hash).await,
        None => false,
    };
    if !verified {
        return Err(guard
            .failed(codes::WRONG_PASSWORD, Some(&stored.user.user_id))
            .await);
    }
    guard.succeeded().await?;
    if stored.user.blocked {
        return Err(OAuthError::invalid_grant(USER_IS_BLOCKED).into());
    }
    Ok(stored.user)
}

/// Brute-force protection for one login attempt (auth0-compat.md §7).
struct BruteForce<'a> {
    state: &'a AppState,
    client: &'a Client,
    settings: BruteForceProtection,
    ip: &'a str,
    identifier: String,
    now: i64,
}

impl BruteForce<'_> {
    fn blocked() -> ApiError {
        OAuthError::new(ErrorCode::TooManyAttempts, TOO_MANY_ATTEMPTS).into()
    }

    /// Refuses the attempt while the (IP, identifier) pair is blocked.
    async fn check(&self) -> Result<(), ApiError> {
        if !self.settings.enabled {
            return Ok(());
        }
        let blocked = self
            .state
            .store()
            .login_blocked_until(self.ip, &self.identifier, self.now)
            .await?;
        match blocked {
            Some(_) => Err(Self::blocked()),
            None => Ok(()),
        }
    }

    /// Logs the failure (`fu`/`fp`), counts it, and logs `limit_wc` when it
    /// triggers the block.
    async fn failed(&self, code: &'static str, user_id: Option<&str>) -> ApiError {
        self.log(code, WRONG_EMAIL_OR_PASSWORD, user_id).await;
        if !self.settings.enabled {
            return OAuthError::invalid_grant(WRONG_EMAIL_OR_PASSWORD).into();
        }
        let threshold = i64::from(self.settings.max_attempts.clamp(1, 100));
        let counted = self
            .state
            .store()
            .record_login_failure(
                self.ip,
                &self.identifier,
                self.now,
                threshold,
                self.now + BRUTE_FORCE_BLOCK_SECONDS,
            )
            .await;
        match counted {
            Ok((failures, Some(_))) if failures == threshold => {
                let description = format!(
                    "Blocked {} for {} after {failures} failed logins",
                    self.ip, self.identifier
                );
                self.log(codes::BRUTE_FORCE_BLOCK, &description, user_id)
                    .await;
                Self::blocked()
            }
            Ok((_, Some(_))) => Self::blocked(),
            Ok((_, None)) => OAuthError::invalid_grant(WRONG_EMAIL_OR_PASSWORD).into(),
            Err(e) => e.into(),
        }
    }

    async fn succeeded(&self) -> Result<(), ApiError> {
        if self.settings.enabled {
            self.state
                .store()
                .clear_login_failures(self.ip, &self.identifier)
                .await?;
        }
        Ok(())
    }

    async fn log(&self, code: &'static str, description: &str, user_id: Option<&str>) {
        audit::record(
            self.state,
            Event {
                code,
                description: description.to_string(),
                client_id: Some(&self.client.client_id),
                user_id,
                jti: None,
                trace: None,
                extra: serde_json::json!({ "ip": self.ip }),
            },
        )
        .await;
    }
}
