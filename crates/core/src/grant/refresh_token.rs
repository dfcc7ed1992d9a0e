//! The refresh token grant (RFC 6749 §6; auth0-compat.md §2 "Refresh tokens").
//!
//! A refresh token belongs to a family (one grant, any number of rotations).
//! It is honoured when the family is the presenting client's, not revoked,
//! not past its absolute expiry, the token not idle too long, and, once
//! rotated, only within the client's `leeway`. A rotated token presented
//! after the leeway is reuse: the caller revokes the family. Every refusal
//! is 403 `invalid_grant` `Unknown or invalid refresh token.`, which
//! auth0-spa-js matches on.

use crate::error::messages::INVALID_REFRESH_TOKEN;
use crate::error::OAuthError;
use crate::model::{Client, ExpirationType};
use crate::scope::ScopeSet;

/// A presented refresh token with the facts of its family.
#[derive(Debug, Clone, Copy)]
pub struct PresentedRefreshToken<'a> {
    /// The client the family was issued to.
    pub family_client_id: &'a str,
    /// The family was revoked (logout, reuse, an admin).
    pub family_revoked: bool,
    /// The family's absolute expiry; `None` never expires. Rotation never extends it.
    pub family_expires_at: Option<i64>,
    /// When this token was issued; idle lifetime runs from here.
    pub issued_at: i64,
    /// When this token was replaced by a newer one, if it was.
    pub rotated_at: Option<i64>,
}

/// Why a refresh token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// Unknown to this client, revoked or expired.
    Invalid,
    /// Already rotated and presented after the leeway: revoke the family.
    Reused,
}

impl RefreshRefusal {
    /// The answer, the same for every refusal.
    pub fn error(self) -> OAuthError {
        invalid_refresh_token()
    }
}

/// `invalid_grant` `Unknown or invalid refresh token.`
pub fn invalid_refresh_token() -> OAuthError {
    OAuthError::invalid_grant(INVALID_REFRESH_TOKEN)
}

/// Whether `client` may use `token` now.
pub fn check_refresh_token(
    token: &PresentedRefreshToken,
    client: &Client,
    now: i64,
) -> Result<(), RefreshRefusal> {
    if token.family_client_id != client.client_id || token.family_revoked {
        return Err(RefreshRefusal::Invalid);
    }
    let absolute_expired = token.family_expires_at.is_some_and(|at| at <= now);
    if absolute_expired || idle_expired(client, token.issued_at, now) {
        return Err(RefreshRefusal::Invalid);
    }
    match token.rotated_at {
        Some(rotated_at) if !within_leeway(client, rotated_at, now) => Err(RefreshRefusal::Reused),
        _ => Ok(()),
    }
}

/// A `scope` parameter may narrow the original grant, never widen it.
pub fn narrowed_scope(
    granted: ScopeSet,
    requested: Option<ScopeSet>,
) -> Result<ScopeSet, OAuthError> {
    match requested {
        None => Ok(granted),
        Some(scope) if scope.is_subset_of(&granted) => Ok(scope),
        Some(_) => Err(OAuthError::invalid_scope(
            "The requested scope exceeds the scope granted with the refresh token.",
        )),
    }
}

/// The earliest rotation a predecessor token may still be used after, for a
/// rotating client with a `leeway`; `None` without leeway.
pub fn leeway_start(client: &Client, now: i64) -> Option<i64> {
    let leeway = i64::try_from(client.refresh_token.leeway).unwrap_or(0);
    (leeway > 0).then(|| now.saturating_sub(leeway))
}

fn within_leeway(client: &Client, rotated_at: i64, now: i64) -> bool {
    leeway_start(client, now).is_some_and(|start| rotated_at >= start)
}

fn idle_expired(client: &Client, issued_at: i64, now: i64) -> bool {
    let settings = &client.refresh_token;
    let idle = i64::try_from(settings.idle_token_lifetime).unwrap_or(i64::MAX / 2);
    settings.expiration_type == ExpirationType::Expiring
        && !settings.infinite_idle_token_lifetime
        && issued_at.saturating_add(idle) <= now
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::model::{AppType, RefreshTokenSettings};

    const NOW: i64 = 1_700_000_000;
    const IDLE: u64 = 3_600;
    const LEEWAY: u64 = 10;

    /// An SPA: rotating, expiring, one hour idle lifetime, 10 s leeway.
    fn spa() -> Client {
        let mut c = Client::new("spa", "SPA", AppType::Spa);
        c.refresh_token = RefreshTokenSettings {
            idle_token_lifetime: IDLE,
            leeway: LEEWAY,
            ..RefreshTokenSettings::for_spa()
        };
        c
    }

    /// A live token of `spa`, issued a minute ago.
    fn live() -> PresentedRefreshToken<'static> {
        PresentedRefreshToken {
            family_client_id: "spa",
            family_revoked: false,
            family_expires_at: Some(NOW + 86_400),
            issued_at: NOW - 60,
            rotated_at: None,
        }
    }

    type Tweak = fn(&mut PresentedRefreshToken<'static>, &mut Client);

    #[test]
    fn refusals() {
        use RefreshRefusal::{Invalid, Reused};
        let cases: Vec<(&str, Tweak, RefreshRefusal)> = vec![
            (
                "another client's token",
                |t, _| t.family_client_id = "web",
                Invalid,
            ),
            ("revoked family", |t, _| t.family_revoked = true, Invalid),
            (
                "absolute lifetime over",
                |t, _| t.family_expires_at = Some(NOW),
                Invalid,
            ),
            (
                "idle lifetime over",
                |t, _| t.issued_at = NOW - i64::try_from(IDLE).unwrap(),
                Invalid,
            ),
            (
                "rotated, no leeway",
                |t, c| {
                    c.refresh_token.leeway = 0;
                    t.rotated_at = Some(NOW);
                },
                Reused,
            ),
            (
                "rotated, past the leeway",
                |t, _| t.rotated_at = Some(NOW - i64::try_from(LEEWAY).unwrap() - 1),
                Reused,
            ),
        ];
        for (name, tweak, expected) in cases {
            let (mut token, mut client) = (live(), spa());
            tweak(&mut token, &mut client);
            assert_eq!(
                check_refresh_token(&token, &client, NOW),
                Err(expected),
                "{name}"
            );
        }
        let error = Reused.error();
        assert_eq!(error.error, ErrorCode::InvalidGrant);
        assert_eq!(error.error_description, "Unknown or invalid refresh token.");
        assert_eq!(Invalid.error(), error);
    }

    #[test]
    fn acceptances() {
        let cases: Vec<(&str, Tweak)> = vec![
            ("live token", |_, _| {}),
            ("non-expiring family", |t, _| t.family_expires_at = None),
            ("idle lifetime not over yet", |t, _| {
                t.issued_at = NOW - i64::try_from(IDLE).unwrap() + 1;
            }),
            ("infinite idle lifetime", |t, c| {
                c.refresh_token.infinite_idle_token_lifetime = true;
                t.issued_at = 0;
            }),
            ("non-expiring client ignores the idle lifetime", |t, c| {
                c.refresh_token.expiration_type = ExpirationType::NonExpiring;
                t.issued_at = 0;
            }),
            ("rotated within the leeway", |t, _| {
                t.rotated_at = Some(NOW - i64::try_from(LEEWAY).unwrap());
            }),
        ];
        for (name, tweak) in cases {
            let (mut token, mut client) = (live(), spa());
            tweak(&mut token, &mut client);
            assert_eq!(check_refresh_token(&token, &client, NOW), Ok(()), "{name}");
        }
    }

    #[test]
    fn scope_narrows_never_widens() {
        let granted = || ScopeSet::parse("openid offline_access read:a");
        assert_eq!(narrowed_scope(granted(), None), Ok(granted()));
        let narrow = ScopeSet::parse("read:a");
        assert_eq!(narrowed_scope(granted(), Some(narrow.clone())), Ok(narrow));
        let wider = narrowed_scope(granted(), Some(ScopeSet::parse("read:a write:a")));
        assert_eq!(wider.map_err(|e| e.error), Err(ErrorCode::InvalidScope));
    }

    #[test]
    fn leeway_start_is_none_without_leeway() {
        let mut client = spa();
        assert_eq!(leeway_start(&client, NOW), Some(NOW - 10));
        client.refresh_token.leeway = 0;
        assert_eq!(leeway_start(&client, NOW), None);
    }
}
