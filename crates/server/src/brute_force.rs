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
use crate::state::AppState;
use gatehouse_core::model::{BruteForceProtection, BRUTE_FORCE_BLOCK_SECONDS};
use gatehouse_store::StoreError;

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
                jti: None,
                trace: None,
                extra: serde_json::json!({ "ip": self.ip }),
            },
        )
        .await;
    }
}
