//! Records the store keeps that are not Management API objects: keys, codes,
//! refresh-token families, device codes, opaque tokens, log events, and
//! Actions with their bindings and executions.

use gatehouse_core::actions::Effects;
pub use gatehouse_core::log_query::LogFilter;
use gatehouse_core::model::SigningAlg;
use serde::{Deserialize, Serialize};

/// A signing key as persisted. The private key never leaves the store except
/// to be loaded into memory for signing.
#[derive(Clone)]
pub struct StoredKey {
    pub kid: String,
    pub alg: SigningAlg,
    /// One of `next`, `current`, `previous`, `revoked`.
    pub state: String,
    /// The private key as stored: sealed under the master key
    /// (`sealed:v1:…`, see `gatehouse_core::sealing`), or — in databases
    /// written before sealing, until the next start seals it — base64 PKCS#8.
    pub private_key: String,
    pub cert_der: Vec<u8>,
    pub created_at: i64,
    pub state_changed_at: i64,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

/// What `/authorize` recorded with an authorization code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationCode {
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// The requested scope string.
    pub scope: String,
    /// The audience or resource parameter as sent to `/authorize`.
    pub audience: Option<String>,
    pub resource: Option<String>,
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub sid: Option<String>,
    /// Whether the ID token needs `auth_time` (prompt=login or max_age).
    #[serde(default)]
    pub require_auth_time: bool,
    pub expires_at: i64,
    /// What the post-login Actions did at `/authorize`, applied when the code is redeemed.
    #[serde(default, skip_serializing_if = "Effects::is_empty")]
    pub actions: Effects,
}

/// The result of redeeming a code: single use is enforced by the store.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeRedemption {
    Redeemed(AuthorizationCode),
    /// The code was used before; `issued_family_id` names what its first use
    /// issued, so the caller can revoke it (RFC 6749 §4.1.2).
    AlreadyUsed {
        code: AuthorizationCode,
        issued_family_id: Option<String>,
    },
    NotFound,
}

/// A refresh-token family: one grant, any number of rotations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshFamily {
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    /// The audience/resource the original request named (re-resolved on refresh).
    pub audience: Option<String>,
    /// The scope granted by the original exchange.
    pub scope: String,
    pub auth_time: i64,
    pub sid: Option<String>,
    pub created_at: i64,
    /// Absolute expiry; `None` for non-expiring tokens. Rotation never extends it.
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// One refresh token of a family.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshTokenRecord {
    pub token_hash: String,
    pub family_id: String,
    pub created_at: i64,
    pub rotated_at: Option<i64>,
    pub replaced_by: Option<String>,
}

/// An opaque (userinfo-only) access token.
#[derive(Debug, Clone, PartialEq)]
pub struct OpaqueToken {
    pub token_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    pub expires_at: i64,
    /// Keys the issuance's log event (the token is stored only as a hash).
    pub jti: Option<String>,
}

/// Device authorization state (RFC 8628); its rules live in core.
pub use gatehouse_core::grant::device_code::DeviceStatus;

/// What `/oauth/device/code` recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRequest {
    pub scope: String,
    pub audience: Option<String>,
    pub interval: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeviceCode {
    pub device_code_hash: String,
    pub user_code: String,
    pub client_id: String,
    pub request: DeviceRequest,
    pub status: DeviceStatus,
    pub user_id: Option<String>,
    pub expires_at: i64,
    pub last_polled_at: Option<i64>,
}

/// An SSO session. The cookie carries a random id of 256 bits; the store
/// keeps only its SHA-256 (`id_hash`), so a database leak yields no usable
/// cookie. `sid` is the public id put into ID tokens (`sid` claim).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSession {
    pub id_hash: String,
    pub sid: String,
    pub user_id: String,
    /// When the user last entered their credentials.
    pub auth_time: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// Absolute expiry (tenant `session_lifetime`); never extended.
    pub expires_at: i64,
    /// Idle expiry (tenant `idle_session_lifetime`), moved by activity.
    pub idle_expires_at: i64,
    pub ended_at: Option<i64>,
}

/// A log event with Auth0's event code (`seccft`, `ferrt`, …) and the
/// decision trace in `details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogEvent {
    pub log_id: String,
    pub date: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    /// Auth0's words for the event type ("Success Exchange", …).
    pub description: String,
    /// The access token's `jti` (JWT or opaque) for issuances.
    #[serde(default)]
    pub jti: Option<String>,
    /// The end user's (or the client's) address.
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    #[serde(default)]
    pub client_name: Option<String>,
    /// The user's email or username, as Auth0 shows it.
    #[serde(default)]
    pub user_name: Option<String>,
    /// The API the token was (or would have been) for.
    #[serde(default)]
    pub audience: Option<String>,
    /// The granted (or, for failures, requested) scope.
    #[serde(default)]
    pub scope: Option<String>,
    /// Event-specific fields: the decision `trace`, a `refusal`, Auth0's detail fields.
    pub details: serde_json::Value,
}

/// Which log events to read, in which order, and which slice of them.
#[derive(Debug, Clone)]
pub struct LogQuery {
    /// Every condition set must hold.
    pub filter: LogFilter,
    /// Ignored by [`LogWindow::Checkpoint`], which always reads by `log_id`.
    pub order: LogOrder,
    pub window: LogWindow,
}

impl LogQuery {
    /// Every event, newest first.
    pub fn all() -> Self {
        Self {
            filter: LogFilter::default(),
            order: LogOrder::NewestFirst,
            window: LogWindow::Page(Page::ALL),
        }
    }
}

/// The order of a search by date; equal dates are ordered by `log_id` the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogOrder {
    #[default]
    NewestFirst,
    OldestFirst,
}

/// A page of the ordered matches, or the checkpoint form: the `take` events
/// with a `log_id` after `after` (from the first when `None`), by `log_id`
/// ascending.
#[derive(Debug, Clone)]
pub enum LogWindow {
    Page(Page),
    Checkpoint { after: Option<String>, take: i64 },
}

/// A page request for list endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: i64,
    pub limit: i64,
}

impl Page {
    pub const ALL: Page = Page {
        offset: 0,
        limit: i64::MAX,
    };
}

/// A secret of an Action: its name, the value sealed under the master key
/// (the server seals/unseals; the store never sees plaintext), when it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionSecret {
    pub name: String,
    pub sealed_value: String,
    pub updated_at: i64,
}

/// What a deploy froze: the code and secrets that run when the Action is bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployedAction {
    pub number: i64,
    pub code: String,
    pub secrets: Vec<ActionSecret>,
    pub deployed_at: i64,
}

/// A trigger an Action supports, as Auth0 writes it (`{id, version}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerRef {
    pub id: String,
    pub version: String,
}

/// An Action (Auth0's Actions): its current code and, once deployed, the
/// snapshot that runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAction {
    pub id: String,
    pub name: String,
    pub code: String,
    pub runtime: String,
    /// `[{id, version}]`, as Auth0 writes them.
    pub supported_triggers: Vec<TriggerRef>,
    pub dependencies: serde_json::Value,
    pub secrets: Vec<ActionSecret>,
    pub deployed: Option<DeployedAction>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One place in a trigger's flow: which Action runs there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionBinding {
    pub id: String,
    pub trigger_id: String,
    pub action_id: String,
    pub display_name: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One run of a trigger's flow (Auth0's execution): per-Action results as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionExecution {
    pub id: String,
    pub trigger_id: String,
    pub status: String,
    pub results: serde_json::Value,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The templates a queued mail can be rendered from (Auth0's names).
pub mod mail_templates {
    pub const VERIFY_EMAIL: &str = "verify_email";
    pub const RESET_EMAIL: &str = "reset_email";
    pub const WELCOME_EMAIL: &str = "welcome_email";
}

/// One queued email: what to send to whom, not the rendered message. The
/// sender creates the link's ticket and renders the template when it sends,
/// so no ticket secret is ever stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    pub id: String,
    /// One of [`mail_templates`].
    pub template: String,
    pub user_id: String,
    pub recipient: String,
    /// The application the mail is about (`{{ application.name }}`).
    pub client_id: Option<String>,
    /// Where the link's page sends the user when done.
    pub result_url: Option<String>,
    /// The link's lifetime; `None` for the template's default.
    pub ttl_seconds: Option<i64>,
    /// Set when the mail is a Management API job (`GET /api/v2/jobs/{id}`).
    pub job_id: Option<String>,
    /// Send attempts that failed so far.
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
    /// Set when sending was given up (too many attempts or a permanent refusal).
    pub failed_at: Option<i64>,
    pub created_at: i64,
}

impl QueuedMail {
    /// A mail due now, never attempted.
    pub fn new(id: String, template: &str, user_id: &str, recipient: &str, now: i64) -> Self {
        Self {
            id,
            template: template.into(),
            user_id: user_id.into(),
            recipient: recipient.into(),
            client_id: None,
            result_url: None,
            ttl_seconds: None,
            job_id: None,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            sent_at: None,
            failed_at: None,
            created_at: now,
        }
    }
}

/// What a ticket lets its holder do once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    /// Set a new password (`/u/reset-password?ticket=…`).
    PasswordChange,
    /// Mark the email verified (`/u/email-verification?ticket=…`).
    EmailVerification,
}

impl TicketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordChange => "password_change",
            Self::EmailVerification => "email_verification",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "password_change" => Some(Self::PasswordChange),
            "email_verification" => Some(Self::EmailVerification),
            _ => None,
        }
    }
}

/// A single-use link, stored by the SHA-256 of its secret only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTicket {
    /// SHA-256 of the ticket's secret, hex.
    pub id_hash: String,
    pub kind: TicketKind,
    pub user_id: String,
    pub client_id: Option<String>,
    pub result_url: Option<String>,
    /// A password change through this ticket also marks the email verified.
    pub mark_email_verified: bool,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// When a newer ticket of the same kind for the same user replaced it.
    pub superseded_at: Option<i64>,
}

/// Why a ticket could not be redeemed, or that it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketRedemption {
    /// This call used it: nobody else can.
    Redeemed(UserTicket),
    Used,
    Expired,
    /// A newer ticket of the same kind replaced it.
    Superseded,
    NotFound,
}
