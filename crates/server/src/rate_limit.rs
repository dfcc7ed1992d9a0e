//! Rate limits (auth0-compat.md §7), counted in fixed windows in the store so
//! that every node sees the same counts. What is counted, and where:
//!
//! - failed authentications per IP and per account (from any IP) at
//!   `/oauth/token` and `/u/login`: the password grant and the login page
//!   reserve a hit in both buckets atomically before the password is
//!   verified (so a concurrent burst cannot go past the limit) and give it
//!   back on success;
//! - failed client authentications per IP at `/oauth/token`,
//!   `/oauth/revoke`, `/oauth/introspect` and `/oauth/device/code`: a request
//!   that presents a secret or an assertion is refused (one read) while its
//!   IP is over the limit, right secret or not, and a failure is counted
//!   after; successes are never counted, so the client_credentials hot path
//!   does no extra write;
//! - signup attempts per IP at `/u/signup`;
//! - Management API requests per client (client credentials) or per
//!   (client, user) for a user's token, so one end user cannot use up an
//!   application's limit.
//!
//! A refusal is 429 with `x-ratelimit-limit`, `x-ratelimit-remaining` and
//! `x-ratelimit-reset` (epoch seconds), as in Auth0; filling a bucket logs
//! `api_limit`.

use crate::audit::{self, Event};
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_core::model::RateLimits;
use gatehouse_core::{ErrorCode, OAuthError};
use gatehouse_store::{RateWindow, StoreError};
use serde_json::json;

/// The Authentication API's description of a rate-limit refusal.
pub const TOO_MANY_REQUESTS: &str = "Too many requests. Try again later.";

/// One thing that is counted.
#[derive(Debug, Clone, Copy)]
pub enum Bucket<'a> {
    /// Failed authentications (client or user credentials) from an IP.
    FailedAuthFromIp(&'a str),
    /// Failed logins for one account (identifier, lowercased), from any IP.
    FailedAuthForAccount(&'a str),
    /// Signup attempts from an IP.
    SignupsFromIp(&'a str),
    /// Emails asked for from an IP (password reset, verification).
    EmailsFromIp(&'a str),
    /// Emails asked for one address (lowercased), from any IP.
    EmailsToAddress(&'a str),
    /// Management API requests by one client with client credentials.
    ManagementClient(&'a str),
    /// Management API requests with a user's token: (client, user).
    ManagementUser(&'a str, &'a str),
}

impl Bucket<'_> {
    fn key(&self) -> String {
        match self {
            Self::FailedAuthFromIp(ip) => format!("auth-ip:{ip}"),
            Self::FailedAuthForAccount(account) => format!("auth-account:{account}"),
            Self::SignupsFromIp(ip) => format!("signup-ip:{ip}"),
            Self::EmailsFromIp(ip) => format!("email-ip:{ip}"),
            Self::EmailsToAddress(address) => format!("email-address:{address}"),
            Self::ManagementClient(client_id) => format!("management-client:{client_id}"),
            Self::ManagementUser(client_id, user_id) => {
                format!("management-user:{client_id}:{user_id}")
            }
        }
    }

    fn limit(&self, settings: &RateLimits) -> i64 {
        i64::from(
            match self {
                Self::FailedAuthFromIp(_) => settings.failed_logins_per_ip,
                Self::FailedAuthForAccount(_) => settings.failed_logins_per_account,
                Self::SignupsFromIp(_) => settings.signups_per_ip,
                Self::EmailsFromIp(_) => settings.emails_per_ip,
                Self::EmailsToAddress(_) => settings.emails_per_address,
                Self::ManagementClient(_) | Self::ManagementUser(..) => {
                    settings.management_requests_per_client
                }
            }
            .max(1),
        )
    }

    fn describe(&self, limit: i64, window: i64) -> String {
        match self {
            Self::FailedAuthFromIp(ip) => {
                format!("Rate limit reached: {limit} failed authentications from {ip} in {window} seconds")
            }
            Self::FailedAuthForAccount(account) => {
                format!("Rate limit reached: {limit} failed logins for {account} in {window} seconds")
            }
            Self::SignupsFromIp(ip) => {
                format!("Rate limit reached: {limit} signups from {ip} in {window} seconds")
            }
            Self::EmailsFromIp(ip) => {
                format!("Rate limit reached: {limit} email requests from {ip} in {window} seconds")
            }
            Self::EmailsToAddress(address) => format!(
                "Rate limit reached: {limit} email requests for {address} in {window} seconds"
            ),
            Self::ManagementClient(client_id) => format!(
                "Rate limit reached: {limit} Management API requests by {client_id} in {window} seconds"
            ),
            Self::ManagementUser(client_id, user_id) => format!(
                "Rate limit reached: {limit} Management API requests by {user_id} through {client_id} in {window} seconds"
            ),
        }
    }
}

/// A bucket's state after a request: its limit, what is left, when it resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub limit: i64,
    pub remaining: i64,
    pub resets_at: i64,
}

impl Window {
    fn of(limit: i64, window: RateWindow) -> Self {
        Self {
            limit,
            remaining: (limit - window.hits).max(0),
            resets_at: window.resets_at,
        }
    }

    /// Auth0's `x-ratelimit-*` headers.
    pub fn set_headers(&self, headers: &mut HeaderMap) {
        for (name, value) in [
            ("x-ratelimit-limit", self.limit),
            ("x-ratelimit-remaining", self.remaining),
            ("x-ratelimit-reset", self.resets_at),
        ] {
            headers.insert(name, HeaderValue::from(value));
        }
    }
}

/// A refusal: the bucket is full until `window.resets_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub window: Window,
}

impl Throttled {
    /// `429 {"error":"too_many_requests", …}` with the headers.
    pub fn oauth_response(&self) -> Response {
        let error = OAuthError::new(ErrorCode::TooManyRequests, TOO_MANY_REQUESTS);
        let mut response = crate::error::oauth_error_response(&error);
        self.window.set_headers(response.headers_mut());
        response
    }

    /// The Management API's shape: `{statusCode: 429, error: "Too Many
    /// Requests", message, errorCode: "too_many_requests"}` with the headers.
    pub fn management_response(&self) -> Response {
        let body = json!({
            "statusCode": 429,
            "error": "Too Many Requests",
            "message": "Global limit has been reached",
            "errorCode": "too_many_requests",
        });
        let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
        self.window.set_headers(response.headers_mut());
        response
    }

    /// Adds the headers to a response built elsewhere (an HTML page).
    pub fn set_headers(&self, headers: &mut HeaderMap) {
        self.window.set_headers(headers);
    }
}

/// What counting a hit found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// Within the limit (`None` while rate limits are off).
    Within(Option<Window>),
    Over(Throttled),
}

/// The addresses this node saw fill the failed-client-authentication bucket,
/// each until its window resets. A request presenting a client secret checks
/// this map instead of the database, so successful client credentials (the hot
/// path) cost no extra read; the database confirms a hit before a refusal. On
/// several nodes each node learns of a full bucket from the first failure it
/// counts itself.
#[derive(Debug, Default)]
pub struct ThrottledAddresses(std::sync::Mutex<std::collections::HashMap<String, i64>>);

impl ThrottledAddresses {
    /// More than this many throttled addresses at once: expired ones are
    /// dropped first, then new ones are not remembered (the database still
    /// counts and refuses their failures).
    const MAX_ENTRIES: usize = 10_000;

    pub fn remember(&self, ip: &str, until: i64, now: i64) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::MAX_ENTRIES {
            map.retain(|_, until| *until > now);
        }
        if map.len() < Self::MAX_ENTRIES {
            map.insert(ip.to_string(), until);
        }
    }

    pub fn is_throttled(&self, ip: &str, now: i64) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(ip) {
            Some(until) if *until > now => true,
            Some(_) => {
                map.remove(ip);
                false
            }
            None => false,
        }
    }

    pub fn forget(&self, ip: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(ip);
    }
}

/// The tenant's limits at one moment, for one request.
pub struct RateLimiter<'a> {
    state: &'a AppState,
    settings: RateLimits,
    /// For the `api_limit` log event.
    client_id: Option<&'a str>,
    now: i64,
}

impl<'a> RateLimiter<'a> {
    pub fn new(
        state: &'a AppState,
        settings: RateLimits,
        client_id: Option<&'a str>,
        now: i64,
    ) -> Self {
        Self {
            state,
            settings,
            client_id,
            now,
        }
    }

    /// With the tenant's current settings.
    pub async fn load(
        state: &'a AppState,
        client_id: Option<&'a str>,
        now: i64,
    ) -> Result<Self, StoreError> {
        let settings = state.store().tenant_settings().await?.rate_limits;
        Ok(Self::new(state, settings, client_id, now))
    }

    fn window_seconds(&self) -> i64 {
        i64::from(self.settings.window_seconds.clamp(1, 86_400))
    }

    /// Refused when `bucket` is already full; counts nothing.
    pub async fn check(&self, bucket: Bucket<'_>) -> Result<Option<Throttled>, StoreError> {
        if !self.settings.enabled {
            return Ok(None);
        }
        let limit = bucket.limit(&self.settings);
        let window = self
            .state
            .store()
            .rate_limit_hits(&bucket.key(), self.now, self.window_seconds())
            .await?;
        Ok((window.hits >= limit).then(|| Throttled {
            window: Window::of(limit, window),
        }))
    }

    /// Counts one hit on `bucket`; Over when it went past the limit. The hit
    /// that fills the bucket logs `api_limit`.
    pub async fn hit(&self, bucket: Bucket<'_>) -> Result<Hit, StoreError> {
        if !self.settings.enabled {
            return Ok(Hit::Within(None));
        }
        let limit = bucket.limit(&self.settings);
        let window = self
            .state
            .store()
            .hit_rate_limit(&bucket.key(), self.now, self.window_seconds())
            .await?;
        if window.hits == limit {
            self.log(bucket, limit).await;
        }
        let window_state = Window::of(limit, window);
        Ok(if window.hits > limit {
            Hit::Over(Throttled {
                window: window_state,
            })
        } else {
            Hit::Within(Some(window_state))
        })
    }

    /// Reserves one hit on `bucket` only while it is below its limit, in one
    /// atomic store statement; refused (nothing counted) when it is full. The
    /// hit that fills the bucket logs `api_limit`.
    pub async fn reserve(&self, bucket: Bucket<'_>) -> Result<Option<Throttled>, StoreError> {
        if !self.settings.enabled {
            return Ok(None);
        }
        let limit = bucket.limit(&self.settings);
        let seconds = self.window_seconds();
        let reserved = self
            .state
            .store()
            .reserve_rate_limit(&bucket.key(), self.now, seconds, limit)
            .await?;
        match reserved {
            Some(window) => {
                if window.hits == limit {
                    self.log(bucket, limit).await;
                }
                Ok(None)
            }
            None => Ok(Some(Throttled {
                window: Window {
                    limit,
                    remaining: 0,
                    resets_at: self.now - self.now.rem_euclid(seconds) + seconds,
                },
            })),
        }
    }

    /// Gives back a hit reserved by [`Self::reserve`].
    pub async fn release(&self, bucket: Bucket<'_>) -> Result<(), StoreError> {
        if self.settings.enabled {
            self.state
                .store()
                .release_rate_limit(&bucket.key(), self.now, self.window_seconds())
                .await?;
        }
        Ok(())
    }

    /// Reserves a failed login in the IP's and the account's buckets before
    /// the password is verified; refused (nothing kept) when either is full.
    /// A success or an attempt that never reaches the check gives them back
    /// ([`Self::release_authentication`]).
    pub async fn reserve_authentication(
        &self,
        ip: &str,
        account: &str,
    ) -> Result<Option<Throttled>, StoreError> {
        if let Some(throttled) = self.reserve(Bucket::FailedAuthFromIp(ip)).await? {
            return Ok(Some(throttled));
        }
        let throttled = self.reserve(Bucket::FailedAuthForAccount(account)).await?;
        if throttled.is_some() {
            self.release(Bucket::FailedAuthFromIp(ip)).await?;
        }
        Ok(throttled)
    }

    /// Gives back the hits of [`Self::reserve_authentication`].
    pub async fn release_authentication(&self, ip: &str, account: &str) -> Result<(), StoreError> {
        self.release(Bucket::FailedAuthFromIp(ip)).await?;
        self.release(Bucket::FailedAuthForAccount(account)).await
    }

    /// Counts a failed client authentication from `ip`; Over when the IP
    /// went past its limit.
    pub async fn failed_client_authentication(
        &self,
        ip: &str,
    ) -> Result<Option<Throttled>, StoreError> {
        let hit = self.hit(Bucket::FailedAuthFromIp(ip)).await?;
        let full = match &hit {
            Hit::Over(throttled) => Some(&throttled.window),
            Hit::Within(Some(window)) if window.remaining == 0 => Some(window),
            Hit::Within(_) => None,
        };
        if let Some(window) = full {
            self.state
                .throttled_addresses()
                .remember(ip, window.resets_at, self.now);
        }
        Ok(match hit {
            Hit::Over(throttled) => Some(throttled),
            Hit::Within(_) => None,
        })
    }

    async fn log(&self, bucket: Bucket<'_>, limit: i64) {
        let ip = match bucket {
            Bucket::FailedAuthFromIp(ip) | Bucket::SignupsFromIp(ip) => Some(ip),
            _ => None,
        };
        audit::record(
            self.state,
            Event {
                code: audit::codes::RATE_LIMIT,
                description: bucket.describe(limit, self.window_seconds()),
                client_id: self.client_id,
                user_id: None,
                jti: None,
                trace: None,
                extra: json!({ "ip": ip }),
                ..Event::default()
            },
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttled_addresses_expire_and_are_bounded() {
        let throttled = ThrottledAddresses::default();
        throttled.remember("192.0.2.1", 100, 0);
        assert!(throttled.is_throttled("192.0.2.1", 99));
        assert!(!throttled.is_throttled("192.0.2.2", 99));
        assert!(!throttled.is_throttled("192.0.2.1", 100));
        throttled.remember("192.0.2.1", 100, 0);
        throttled.forget("192.0.2.1");
        assert!(!throttled.is_throttled("192.0.2.1", 1));
        for i in 0..ThrottledAddresses::MAX_ENTRIES + 5 {
            throttled.remember(&format!("ip{i}"), 10, 0);
        }
        assert!(!throttled.is_throttled("ip10004", 1), "over the bound");
        throttled.remember("late", 50, 20);
        assert!(
            throttled.is_throttled("late", 21),
            "expired entries made room"
        );
    }

    #[test]
    fn windows_and_headers() {
        let window = Window::of(
            10,
            RateWindow {
                hits: 12,
                resets_at: 1_700_000_060,
            },
        );
        assert_eq!(window.remaining, 0);
        let mut headers = HeaderMap::new();
        window.set_headers(&mut headers);
        assert_eq!(headers["x-ratelimit-limit"], "10");
        assert_eq!(headers["x-ratelimit-remaining"], "0");
        assert_eq!(headers["x-ratelimit-reset"], "1700000060");
        let settings = RateLimits {
            signups_per_ip: 0,
            ..RateLimits::default()
        };
        assert_eq!(Bucket::SignupsFromIp("1.2.3.4").limit(&settings), 1);
        assert_ne!(
            Bucket::FailedAuthFromIp("a").key(),
            Bucket::SignupsFromIp("a").key()
        );
    }
}
