//! Brute-force protection for every place a password is checked (the
//! password grant and the login page), auth0-compat.md §7: attempts are
//! counted per (IP, identifier) in the store, so every node sees the same
//! count. Each attempt is reserved atomically *before* its password is
//! verified, so concurrent guesses cannot overshoot the tenant's
//! `max_attempts`; the reservation that uses up the last attempt blocks the
//! pair (until an admin or a password change unblocks it, or 30 days pass),
//! so even an attempt abandoned mid-check ends in a visible block; its
//! failure logs `limit_wc`, and a success clears the count and the block.

use crate::audit::{self, codes, Event};
use crate::password::verify_password_or_dummy;
use crate::rate_limit::{RateLimiter, Throttled};
use crate::state::AppState;
use gatehouse_core::model::{BruteForceProtection, TenantSettings, BRUTE_FORCE_BLOCK_SECONDS};
use gatehouse_core::redact::Secret;
use gatehouse_store::{StoreError, StoredUser};

/// Whether the attempt may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Blocked,
}

/// The guard for one login attempt.
pub struct BruteForce<'a> {
    pub state: &'a AppState,
    pub client_id: Option<&'a str>,
    pub settings: BruteForceProtection,
    pub ip: &'a str,
    /// The email or username as typed, lowercased.
    pub identifier: String,
    pub now: i64,
    /// Set by [`Self::reserve`] when this attempt took the pair's last one.
    last_attempt: bool,
}

impl<'a> BruteForce<'a> {
    pub fn new(
        state: &'a AppState,
        client_id: Option<&'a str>,
        settings: BruteForceProtection,
        ip: &'a str,
        identifier: String,
        now: i64,
    ) -> Self {
        Self {
            state,
            client_id,
            settings,
            ip,
            identifier,
            now,
            last_attempt: false,
        }
    }

    fn limit(&self) -> i64 {
        i64::from(self.settings.max_attempts.clamp(1, 100))
    }

    /// Reserves this attempt before the password is verified: Blocked while
    /// the pair is blocked or its attempts are used up (or in flight).
    pub async fn reserve(&mut self) -> Result<Verdict, StoreError> {
        if !self.settings.enabled {
            return Ok(Verdict::Allowed);
        }
        let limit = self.limit();
        let reserved = self
            .state
            .store()
            .reserve_login_attempt(
                self.ip,
                &self.identifier,
                self.now,
                limit,
                self.now + BRUTE_FORCE_BLOCK_SECONDS,
            )
            .await?;
        let Some(attempt) = reserved else {
            return Ok(Verdict::Blocked);
        };
        self.last_attempt = attempt >= limit;
        Ok(Verdict::Allowed)
    }

    /// Logs the failure (`fu`/`fp` with `description`); when it was the
    /// pair's last attempt (whose reservation blocked the pair), logs
    /// `limit_wc` and answers Blocked.
    pub async fn failed(
        &self,
        code: &'static str,
        description: &str,
        user_id: Option<&str>,
    ) -> Result<Verdict, StoreError> {
        self.log(code, description, user_id).await;
        if !self.settings.enabled || !self.last_attempt {
            return Ok(Verdict::Allowed);
        }
        let description = format!(
            "Blocked {} for {} after {} failed logins",
            self.ip,
            self.identifier,
            self.limit()
        );
        self.log(codes::BRUTE_FORCE_BLOCK, &description, user_id)
            .await;
        Ok(Verdict::Blocked)
    }

    /// A successful login clears the pair's count.
    pub async fn succeeded(&self) -> Result<(), StoreError> {
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
                client_id: self.client_id,
                user_id,
                user_name: Some(&self.identifier),
                ip: Some(self.ip),
                jti: None,
                trace: None,
                extra: serde_json::json!({ "ip": self.ip }),
                ..Event::default()
            },
        )
        .await;
    }
}

/// One email and password to check, and who is asking.
pub struct PasswordAttempt<'a> {
    pub client_id: Option<&'a str>,
    /// The address the lockout and the rate limits count.
    pub ip: &'a str,
    pub connection: &'a str,
    pub email: &'a str,
    pub password: Secret<String>,
    /// The log description of a failure (`fu`/`fp`).
    pub failure_description: &'a str,
    pub now: i64,
}

/// What checking a password found.
pub enum PasswordCheck {
    /// The password is right (the user may still be blocked).
    Verified(Box<StoredUser>),
    /// Unknown email or wrong password; logged as `fu`/`fp`.
    Wrong,
    /// The (IP, email) pair is blocked: `too_many_attempts`.
    Locked,
    /// Too many failures from this address or for this account.
    Throttled(Throttled),
}

/// Checks a password the way every login does: reserves a failure in the
/// rate limits and an attempt in the lockout *before* verifying, verifies
/// (against a dummy hash for unknown emails, so both cost the same), then
/// logs and counts a failure or clears the lockout and gives the rate-limit
/// hits back on success.
pub async fn check_password(
    state: &AppState,
    tenant: &TenantSettings,
    attempt: PasswordAttempt<'_>,
) -> Result<PasswordCheck, StoreError> {
    let identifier = attempt.email.to_lowercase();
    let limiter = RateLimiter::new(state, tenant.rate_limits, attempt.client_id, attempt.now);
    if let Some(throttled) = limiter
        .reserve_authentication(attempt.ip, &identifier)
        .await?
    {
        return Ok(PasswordCheck::Throttled(throttled));
    }
    let mut guard = BruteForce::new(
        state,
        attempt.client_id,
        tenant.brute_force_protection,
        attempt.ip,
        identifier,
        attempt.now,
    );
    if guard.reserve().await? == Verdict::Blocked {
        limiter
            .release_authentication(attempt.ip, &guard.identifier)
            .await?;
        return Ok(PasswordCheck::Locked);
    }
    let stored = if attempt.email.is_empty() {
        None
    } else {
        state
            .store()
            .user_by_email(attempt.connection, attempt.email)
            .await?
    };
    let hash = stored.as_ref().and_then(|s| s.password_hash.clone());
    let verified = verify_password_or_dummy(attempt.password.into_inner(), hash).await;
    let stored = match stored {
        Some(stored) if verified => Box::new(stored),
        // The rate-limit hits reserved above stay counted.
        other => {
            let user_id = other.as_ref().map(|s| s.user.user_id.as_str());
            let code = match user_id {
                Some(_) => codes::WRONG_PASSWORD,
                None => codes::UNKNOWN_USER,
            };
            return Ok(
                match guard
                    .failed(code, attempt.failure_description, user_id)
                    .await?
                {
                    Verdict::Blocked => PasswordCheck::Locked,
                    Verdict::Allowed => PasswordCheck::Wrong,
                },
            );
        }
    };
    guard.succeeded().await?;
    limiter
        .release_authentication(attempt.ip, &guard.identifier)
        .await?;
    Ok(PasswordCheck::Verified(stored))
}
