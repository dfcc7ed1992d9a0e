//! Email: what Gatehouse sends and the single-use links it sends.
//!
//! - [`tickets`]: password-change and email-verification tickets — a random
//!   secret in the link, its SHA-256 in the store, single use, expiring; a new
//!   ticket supersedes the user's older one of the same kind.
//! - [`queue`]: queueing a mail ([`queue::enqueue`]) and the worker every node
//!   runs, which leases due mails, creates their tickets, renders their
//!   templates and sends them, retrying with backoff.
//! - [`settings`]: the tenant's email templates and email provider as stored
//!   (Management API `email-templates`, `emails/provider`), and which
//!   [`gatehouse_mail::Mailer`] is in force.
//!
//! [`MailConfig`] is the node's own configuration (`--smtp-url`,
//! `--smtp-from`, the outbox directory); a provider stored through the
//! Management API takes precedence over `--smtp-url`.

pub mod queue;
pub mod settings;
pub mod tickets;

use gatehouse_mail::Transport;
use std::sync::OnceLock;

/// The sender address when neither `--smtp-from` nor the provider names one.
pub const DEFAULT_FROM: &str = "Gatehouse <no-reply@gatehouse.local>";

/// How this node sends mail when the tenant stored no email provider.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `--smtp-url`, or the outbox `<data-dir>/outbox/`.
    pub transport: Transport,
    /// `--smtp-from`.
    pub from: Option<String>,
}

/// The node's mail machinery, inside [`crate::AppState`].
#[derive(Default)]
pub struct MailRuntime {
    config: OnceLock<MailConfig>,
    /// Wakes this node's worker when a mail is queued here.
    pub wake: tokio::sync::Notify,
}

impl MailRuntime {
    /// Sets the node's configuration once, before the worker starts.
    pub fn configure(&self, config: MailConfig) {
        let _ = self.config.set(config);
    }

    /// The node's configuration; `None` until [`Self::configure`].
    pub fn config(&self) -> Option<&MailConfig> {
        self.config.get()
    }
}
