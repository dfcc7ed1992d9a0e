//! Password-change and email-verification tickets: the single-use links in
//! the emails and in the Management API's `tickets/*` answers.
//!
//! The link carries a random 256-bit secret; the store keeps its SHA-256
//! only. Issuing a ticket supersedes the user's unused tickets of the same
//! kind, so only the newest link works; redeeming is atomic, so a link works
//! once even when clicked twice at the same moment.

use crate::pages::paths::{EMAIL_VERIFICATION_PATH, RESET_PASSWORD_PATH};
use crate::state::AppState;
use gatehouse_core::secret::hash_token;
use gatehouse_store::{StoreError, TicketKind, UserTicket};

/// Auth0's default ticket lifetime (`ttl_sec` 0 or absent): five days.
pub const DEFAULT_TTL_SECONDS: i64 = 432_000;
/// The longest lifetime a ticket may ask for: thirty days.
pub const MAX_TTL_SECONDS: i64 = 30 * 86_400;

/// What a new ticket is for.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    pub kind: TicketKind,
    pub user_id: &'a str,
    pub client_id: Option<&'a str>,
    pub result_url: Option<&'a str>,
    /// Clamped to 1..=[`MAX_TTL_SECONDS`]; 0 means [`DEFAULT_TTL_SECONDS`].
    pub ttl_seconds: i64,
    pub mark_email_verified: bool,
}

/// Stores a new ticket and returns its link (the only place its secret exists).
pub async fn issue(state: &AppState, ticket: NewTicket<'_>) -> Result<String, StoreError> {
    let secret = gatehouse_core::ids::random_token(32);
    let now = state.now();
    let ttl = match ticket.ttl_seconds {
        0 => DEFAULT_TTL_SECONDS,
        t => t.clamp(1, MAX_TTL_SECONDS),
    };
    let record = UserTicket {
        id_hash: hash_token(&secret),
        kind: ticket.kind,
        user_id: ticket.user_id.into(),
        client_id: ticket.client_id.map(str::to_string),
        result_url: ticket.result_url.map(str::to_string),
        mark_email_verified: ticket.mark_email_verified,
        created_at: now,
        expires_at: now + ttl,
        used_at: None,
        superseded_at: None,
    };
    state.store().insert_ticket(&record).await?;
    Ok(link(state, ticket.kind, &secret))
}

/// The page a ticket of `kind` opens, with the secret (Auth0's links end in `#`).
pub fn link(state: &AppState, kind: TicketKind, secret: &str) -> String {
    let path = match kind {
        TicketKind::PasswordChange => RESET_PASSWORD_PATH,
        TicketKind::EmailVerification => EMAIL_VERIFICATION_PATH,
    };
    format!("{}{path}?ticket={secret}#", state.base_url())
}

/// The store key of the ticket a link carries.
pub fn hash_of(secret: &str) -> String {
    hash_token(secret)
}
