//! `grant_type=password` and Auth0's `password-realm` (RFC 6749 §4.3,
//! auth0-compat.md §2): a user's email and password exchanged directly.

use super::user_grant::{issue, UserGrant};
use super::{finish, Attempt, EventCodes};
use crate::actions::{self, PostLoginSource, RequestFacts};
use crate::audit::codes;
use crate::brute_force::{check_password, PasswordAttempt, PasswordCheck};
use crate::error::ApiError;
use crate::issue::TokenResponse;
use crate::state::AppState;
use gatehouse_core::error::messages::{TOO_MANY_ATTEMPTS, WRONG_EMAIL_OR_PASSWORD};
use gatehouse_core::grant::{check_not_blocked, AudienceParam, Flow};
use gatehouse_core::model::{Client, TenantSettings, User, DEFAULT_CONNECTION};
use gatehouse_core::redact::Secret;
use gatehouse_core::{ErrorCode, OAuthError, ScopeSet};

pub struct Credentials {
    pub username: String,
    pub password: Secret<String>,
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
    request: &RequestFacts,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let requested_audience = audience.as_ref().map(|a| a.value().to_string());
    let requested_scope = Some(scope.to_string()).filter(|s| !s.is_empty());
    let ip = credentials.ip.clone();
    // The end user's address, as brute-force protection counts it.
    let request = RequestFacts {
        ip: Some(ip.clone()),
        ..request.clone()
    };
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
            post_login: PostLoginSource::Run {
                request: &request,
                protocol: actions::protocol::PASSWORD,
            },
            from_code: None,
            now,
        },
    )
    .await
    .map(|issued| (issued.minted, issued.trace));
    let codes = EventCodes {
        ok: codes::PASSWORD_EXCHANGE_OK,
        failed: codes::PASSWORD_EXCHANGE_FAILED,
    };
    let attempt = Attempt {
        user: Some(&user),
        requested_audience,
        requested_scope,
        ip: Some(ip),
        ..Attempt::new(codes, client)
    };
    finish(state, attempt, result).await
}

/// The connection a password grant logs into: the `realm`, else the tenant's
/// `default_directory`; only the database connection exists. The simulation
/// asks the same question.
pub(crate) fn connection(
    realm: Option<&str>,
    tenant: &TenantSettings,
) -> Result<String, OAuthError> {
    let connection = realm.unwrap_or(&tenant.default_directory).to_string();
    if connection == DEFAULT_CONNECTION {
        Ok(connection)
    } else {
        Err(OAuthError::invalid_request(format!(
            "The connection {connection} does not exist."
        )))
    }
}

/// Finds the user in the connection and checks the password with
/// [`check_password`] (lockout and rate limits reserved first). Unknown users
/// and wrong passwords get the same answer after the same argon2id work; the
/// log tells them apart (`fu`, `fp`).
async fn authenticate_user(
    state: &AppState,
    client: &Client,
    credentials: Credentials,
    now: i64,
) -> Result<User, ApiError> {
    let tenant = state.store().tenant_settings().await?;
    let connection = connection(credentials.realm.as_deref(), &tenant)?;
    let attempt = PasswordAttempt {
        client_id: Some(&client.client_id),
        ip: &credentials.ip,
        connection: &connection,
        email: &credentials.username,
        password: credentials.password,
        failure_description: WRONG_EMAIL_OR_PASSWORD,
        now,
    };
    let stored = match check_password(state, &tenant, attempt).await? {
        PasswordCheck::Verified(stored) => *stored,
        PasswordCheck::Wrong => {
            return Err(OAuthError::invalid_grant(WRONG_EMAIL_OR_PASSWORD).into())
        }
        PasswordCheck::Locked => return Err(too_many_attempts()),
        PasswordCheck::Throttled(throttled) => return Err(ApiError::RateLimited(throttled)),
    };
    check_not_blocked(&stored.user, ErrorCode::InvalidGrant)?;
    Ok(stored.user)
}

fn too_many_attempts() -> ApiError {
    OAuthError::new(ErrorCode::TooManyAttempts, TOO_MANY_ATTEMPTS).into()
}
