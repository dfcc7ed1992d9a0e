//! The device code grant at the token endpoint (RFC 8628 §3.4–§3.5,
//! auth0-compat.md §2 errors).
//!
//! The device polls until the user approved at `/activate`. Each poll is one
//! [`PollStep`]; the steps that write (recording the poll, reporting the
//! expiry, consuming the code) tell the caller what to write, and the answer
//! then follows from what the write found:
//! - pending: 403 `authorization_pending`, or 429 `slow_down` when polled
//!   faster than the interval ([`pending_answer`]);
//! - expired: 403 `expired_token` once, `invalid_grant` after that
//!   ([`expiry_answer`]);
//! - denied: 403 `access_denied`; approved: the tokens, once.

use crate::error::messages::{
    AUTHORIZATION_PENDING, EXPIRED_TOKEN, INVALID_DEVICE_CODE, SLOW_DOWN,
};
use crate::error::{ErrorCode, OAuthError};
use crate::model::Client;

/// Where a device code is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the user at `/activate`.
    Pending,
    /// The user approved; the next poll gets the tokens.
    Approved,
    /// The user refused.
    Denied,
    /// The tokens were issued.
    Consumed,
    /// Expired and already reported once as `expired_token`.
    ExpiredReported,
}

impl DeviceStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Consumed => "consumed",
            Self::ExpiredReported => "expired_reported",
        }
    }

    /// The status of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "denied" => Self::Denied,
            "consumed" => Self::Consumed,
            "expired_reported" => Self::ExpiredReported,
            _ => return None,
        })
    }
}

/// A polled device code, as far as the poll checks it.
#[derive(Debug, Clone, Copy)]
pub struct PolledDeviceCode<'a> {
    /// The client the code was issued to.
    pub client_id: &'a str,
    /// Its status when loaded.
    pub status: DeviceStatus,
    /// Unix seconds; the code is dead from this second on.
    pub expires_at: i64,
}

/// What one poll does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollStep {
    /// Answer with this error; nothing to write.
    Refuse(OAuthError),
    /// Mark the code as reported expired, then answer [`expiry_answer`].
    ReportExpiry,
    /// Record the poll time, then answer [`pending_answer`] with the previous one.
    RecordPoll,
    /// Consume the approved code, then issue the tokens.
    Consume,
}

/// The step of a poll by `client` at `now`.
pub fn poll_step(code: &PolledDeviceCode, client: &Client, now: i64) -> PollStep {
    if code.client_id != client.client_id {
        return PollStep::Refuse(invalid_device_code());
    }
    match code.status {
        DeviceStatus::Consumed | DeviceStatus::ExpiredReported => {
            PollStep::Refuse(invalid_device_code())
        }
        _ if code.expires_at <= now => PollStep::ReportExpiry,
        DeviceStatus::Pending => PollStep::RecordPoll,
        DeviceStatus::Denied => PollStep::Refuse(OAuthError::access_denied(
            "The user denied the authorization request.",
        )),
        DeviceStatus::Approved => PollStep::Consume,
    }
}

/// `expired_token` for the first report of an expiry, `invalid_grant` after.
pub fn expiry_answer(first_report: bool) -> OAuthError {
    if first_report {
        OAuthError::new(ErrorCode::ExpiredToken, EXPIRED_TOKEN)
    } else {
        invalid_device_code()
    }
}

/// `slow_down` when the previous poll was less than `interval` seconds ago,
/// else `authorization_pending`.
pub fn pending_answer(previous_poll: Option<i64>, interval: i64, now: i64) -> OAuthError {
    if previous_poll.is_some_and(|p| now.saturating_sub(p) < interval) {
        OAuthError::new(ErrorCode::SlowDown, SLOW_DOWN)
    } else {
        OAuthError::new(ErrorCode::AuthorizationPending, AUTHORIZATION_PENDING)
    }
}

/// `invalid_grant` `Invalid or expired device code.`
pub fn invalid_device_code() -> OAuthError {
    OAuthError::invalid_grant(INVALID_DEVICE_CODE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AppType;

    const NOW: i64 = 1_700_000_000;

    fn tv() -> Client {
        Client::new("tv", "TV", AppType::Native)
    }

    fn code(client_id: &str, status: DeviceStatus, expires_at: i64) -> PolledDeviceCode<'_> {
        PolledDeviceCode {
            client_id,
            status,
            expires_at,
        }
    }

    #[test]
    fn poll_steps() {
        use DeviceStatus::*;
        let live = NOW + 60;
        let invalid = PollStep::Refuse(invalid_device_code());
        let cases = [
            (
                "another client's code",
                code("other", Approved, live),
                invalid.clone(),
            ),
            ("consumed", code("tv", Consumed, live), invalid.clone()),
            (
                "expiry reported before",
                code("tv", ExpiredReported, NOW - 1),
                invalid,
            ),
            (
                "pending, expired",
                code("tv", Pending, NOW),
                PollStep::ReportExpiry,
            ),
            (
                "approved, expired",
                code("tv", Approved, NOW - 1),
                PollStep::ReportExpiry,
            ),
            (
                "denied, expired",
                code("tv", Denied, NOW - 1),
                PollStep::ReportExpiry,
            ),
            ("pending", code("tv", Pending, live), PollStep::RecordPoll),
            (
                "denied",
                code("tv", Denied, live),
                PollStep::Refuse(OAuthError::access_denied(
                    "The user denied the authorization request.",
                )),
            ),
            ("approved", code("tv", Approved, live), PollStep::Consume),
        ];
        for (name, polled, expected) in cases {
            assert_eq!(poll_step(&polled, &tv(), NOW), expected, "{name}");
        }
    }

    #[test]
    fn answers() {
        assert_eq!(expiry_answer(true).error, ErrorCode::ExpiredToken);
        assert_eq!(expiry_answer(true).status(), 403);
        assert_eq!(expiry_answer(false), invalid_device_code());
        let pending = |previous| pending_answer(previous, 5, NOW).error;
        assert_eq!(pending(None), ErrorCode::AuthorizationPending);
        assert_eq!(pending(Some(NOW - 5)), ErrorCode::AuthorizationPending);
        assert_eq!(pending(Some(NOW - 4)), ErrorCode::SlowDown);
        assert_eq!(pending_answer(Some(NOW), 5, NOW).status(), 429);
    }

    #[test]
    fn status_names_round_trip() {
        use DeviceStatus::*;
        for s in [Pending, Approved, Denied, Consumed, ExpiredReported] {
            assert_eq!(DeviceStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(DeviceStatus::parse("unknown"), None);
    }
}
