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
    /// Set at shutdown: the worker ends after the pass it is in.
    stopping: std::sync::atomic::AtomicBool,
}

impl MailRuntime {
    /// Sets the node's configuration once, before the worker starts.
    pub fn configure(&self, config: MailConfig) {
        let _ = self.config.set(config);
    }

    /// Asks the worker to end after its current pass (at shutdown, so the
    /// events that pass records are in before the log is flushed).
    pub fn stop(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.wake.notify_one();
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The node's configuration; `None` until [`Self::configure`].
    pub fn config(&self) -> Option<&MailConfig> {
        self.config.get()
    }
}

use crate::state::AppState;
use gatehouse_core::model::User;
use gatehouse_mail::templates::{VERIFY_EMAIL, WELCOME_EMAIL};
use gatehouse_store::StoreError;

/// After a signup: the verification email when its template is enabled
/// (Auth0's default), else the welcome email when that one is.
pub async fn after_signup(
    state: &AppState,
    user: &User,
    client_id: Option<&str>,
) -> Result<(), StoreError> {
    let verify = settings::template(state, VERIFY_EMAIL).await?;
    if !user.email_verified && verify.is_some_and(|t| t.enabled) {
        return send_to(state, VERIFY_EMAIL, user, client_id).await;
    }
    welcome(state, user, client_id).await
}

/// After `POST /api/v2/users`, as Auth0: `verify_email: true` sends the
/// verification email, `false` sends nothing, and without it an unverified
/// user gets it when the template is enabled.
pub async fn after_management_create(
    state: &AppState,
    user: &User,
    verify_email: Option<bool>,
) -> Result<(), StoreError> {
    let send = match verify_email {
        Some(asked) => asked,
        None => {
            !user.email_verified
                && settings::template(state, VERIFY_EMAIL)
                    .await?
                    .is_some_and(|t| t.enabled)
        }
    };
    if send {
        send_to(state, VERIFY_EMAIL, user, None).await?;
    }
    Ok(())
}

/// The welcome email, when its template is enabled (after signup without
/// verification, or once the email is verified).
pub async fn welcome(
    state: &AppState,
    user: &User,
    client_id: Option<&str>,
) -> Result<(), StoreError> {
    if settings::template(state, WELCOME_EMAIL)
        .await?
        .is_some_and(|t| t.enabled)
    {
        send_to(state, WELCOME_EMAIL, user, client_id).await?;
    }
    Ok(())
}

/// Queues `template` for `user`, with the template's own link settings.
pub async fn send_to(
    state: &AppState,
    template: &'static str,
    user: &User,
    client_id: Option<&str>,
) -> Result<(), StoreError> {
    queue::enqueue(
        state,
        queue::MailRequest {
            template,
            user,
            client_id,
            result_url: None,
            ttl_seconds: None,
            job_id: None,
        },
    )
    .await
    .map(|_| ())
}
