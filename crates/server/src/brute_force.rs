//! Brute-force protection for every place a password is checked (the
//! password grant and the login page), auth0-compat.md §7: failures are
//! counted per (IP, identifier) in the store, so every node sees the same
//! count; reaching the tenant's `max_attempts` blocks the pair and logs
//! `limit_wc`, a success clears the count.

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
}

impl BruteForce<'_> {
    /// Blocked while the (IP, identifier) pair is blocked.
    pub async fn check(&self) -> Result<Verdict, StoreError> {
        if !self.settings.enabled {
            return Ok(Verdict::Allowed);
        }
        let blocked = self
            .state
            .store()
            .login_blocked_until(self.ip, &self.identifier, self.now)
            .await?;
        Ok(match blocked {
            Some(_) => Verdict::Blocked,
            None => Verdict::Allowed,
        })
    }

    /// Logs the failure (`fu`/`fp` with `description`), counts it, and logs
    /// `limit_wc` when this failure triggers the block.
    pub async fn failed(
        &self,
        code: &'static str,
        description: &str,
        user_id: Option<&str>,
    ) -> Result<Verdict, StoreError> {
        self.log(code, description, user_id).await;
        if !self.settings.enabled {
            return Ok(Verdict::Allowed);
        }
        let threshold = i64::from(self.settings.max_attempts.clamp(1, 100));
        let (failures, blocked_until) = self
            .state
            .store()
            .record_login_failure(
                self.ip,
                &self.identifier,
                self.now,
                threshold,
                self.now + BRUTE_FORCE_BLOCK_SECONDS,
            )
            .await?;
        if blocked_until.is_none() {
            return Ok(Verdict::Allowed);
        }
        if failures == threshold {
            let description = format!(
                "Blocked {} for {} after {failures} failed logins",
                self.ip, self.identifier
            );
            self.log(codes::BRUTE_FORCE_BLOCK, &description, user_id)
                .await;
        }
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
