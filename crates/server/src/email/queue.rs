//! Queueing mail and sending it.
//!
//! [`enqueue`] stores an intent (template, user, link settings) and wakes this
//! node's worker. Every node runs [`spawn_worker`]: it wakes on that signal or
//! once a second, leases due mails from the shared queue (so one node sends
//! each), and for each creates the link's ticket, renders the template and
//! hands the message to the [`gatehouse_mail::Mailer`] in force. A failed
//! delivery is retried with exponential backoff (5 s doubling, at most 15
//! minutes apart) for about a day; a permanent refusal or the last attempt
//! gives up and logs the failure (`fcpr`, `fvr`).

use super::settings;
use super::tickets::{self, NewTicket};
use crate::audit::{self, codes, Event};
use crate::state::AppState;
use gatehouse_core::model::User;
use gatehouse_mail::templates::{
    self, TemplateApplication, TemplateContext, TemplateUser, RESET_EMAIL, VERIFY_EMAIL,
};
use gatehouse_mail::{Message, Transport};
use gatehouse_store::{QueuedMail, StoreError, TicketKind};
use serde_json::json;
use std::time::Duration;

/// Mails claimed per pass: few, so the lease below outlasts sending them all
/// one after the other even when the SMTP server is slow.
const CLAIM_BATCH: i64 = 5;
/// How long a node holds the mails it claimed before another node may retry
/// them: every claimed mail's worst case (render plus delivery, both
/// bounded) with a minute to spare. Were it shorter, a slow SMTP server would
/// let another node send the batch's last mails again, each with a new link
/// that kills the one sent first.
const LEASE_SECONDS: i64 = CLAIM_BATCH
    * (gatehouse_mail::SEND_TIMEOUT.as_secs() as i64
        + gatehouse_mail::RENDER_TIMEOUT.as_secs() as i64
        + 1)
    + 60;
/// Attempts before a mail is given up (about a day with the backoff below).
pub const MAX_ATTEMPTS: i64 = 100;
const FIRST_RETRY_SECONDS: i64 = 5;
const MAX_RETRY_SECONDS: i64 = 900;
/// How long a mail may stay undeliverable before it is given up.
const GIVE_UP_AFTER_SECONDS: i64 = 86_400;

/// A mail to queue.
#[derive(Debug, Clone)]
pub struct MailRequest<'a> {
    /// One of [`templates::NAMES`].
    pub template: &'static str,
    pub user: &'a User,
    pub client_id: Option<&'a str>,
    pub result_url: Option<&'a str>,
    /// The link's lifetime; `None` for the template's.
    pub ttl_seconds: Option<i64>,
    /// Makes the mail a Management API job.
    pub job_id: Option<String>,
}

/// Queues a mail for the user's address and wakes the worker. A user without
/// an email address cannot be mailed ([`StoreError::NotFound`]).
pub async fn enqueue(state: &AppState, request: MailRequest<'_>) -> Result<QueuedMail, StoreError> {
    let Some(recipient) = request.user.email.as_deref() else {
        return Err(StoreError::NotFound);
    };
    let mut mail = QueuedMail::new(
        gatehouse_core::ids::random_hex(12),
        request.template,
        &request.user.user_id,
        recipient,
        state.now(),
    );
    mail.client_id = request.client_id.map(str::to_string);
    mail.result_url = request.result_url.map(str::to_string);
    mail.ttl_seconds = request.ttl_seconds;
    mail.job_id = request.job_id;
    state.store().enqueue_mail(&mail).await?;
    state.mail().wake.notify_one();
    Ok(mail)
}

/// Starts this node's sender; it ends with the runtime, or after its current
/// pass once [`super::MailRuntime::stop`] was called.
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    let holder = format!("mail-{}", gatehouse_core::ids::random_hex(8));
    tokio::spawn(async move {
        while !state.mail().is_stopping() {
            // Each pass is its own task: a panic while sending one mail ends
            // that pass (its mails return when their lease expires), not the worker.
            let pass = {
                let (state, holder) = (state.clone(), holder.clone());
                tokio::spawn(async move { send_due(&state, &holder).await })
            };
            match pass.await {
                // A full batch: more may be due right away.
                Ok(Ok(n)) if n as i64 >= CLAIM_BATCH => continue,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "mail queue pass failed"),
                Err(e) => tracing::error!(error = %e, "mail queue pass panicked"),
            }
            tokio::select! {
                _ = state.mail().wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    })
}

/// One pass: claims the due mails and tries each once; returns how many.
pub async fn send_due(state: &AppState, holder: &str) -> Result<usize, StoreError> {
    let Some((mailer, default_from)) = settings::mailer(state).await? else {
        return Ok(0);
    };
    let now = state.now();
    let due = state
        .store()
        .claim_mail(holder, now, now + LEASE_SECONDS, CLAIM_BATCH)
        .await?;
    for mail in &due {
        let outcome = match compose(state, mail, &default_from).await? {
            Composed::Message(message, link) => match mailer.send(&message).await {
                Ok(()) => {
                    if matches!(mailer.transport(), Transport::Outbox(_)) {
                        tracing::info!(to = %mail.recipient, link = %link, "mail written to the outbox");
                    }
                    Ok(())
                }
                Err(e) => Err((e.permanent, e.reason)),
            },
            Composed::Dropped(reason) => Err((true, reason)),
        };
        settle(state, holder, mail, outcome).await?;
    }
    Ok(due.len())
}

enum Composed {
    /// The message and its link (empty for a welcome mail).
    Message(Message, String),
    /// Nothing to send any more (the user was deleted, the template is broken).
    Dropped(String),
}

async fn compose(
    state: &AppState,
    mail: &QueuedMail,
    default_from: &str,
) -> Result<Composed, StoreError> {
    let Some(user) = state.store().user(&mail.user_id).await? else {
        return Ok(Composed::Dropped("the user no longer exists".into()));
    };
    let Some(template) = settings::template(state, &mail.template).await? else {
        return Ok(Composed::Dropped(format!(
            "unknown template {}",
            mail.template
        )));
    };
    let result_url = mail.result_url.clone().or(template.result_url.clone());
    let ticket_kind = match mail.template.as_str() {
        VERIFY_EMAIL => Some(TicketKind::EmailVerification),
        RESET_EMAIL => Some(TicketKind::PasswordChange),
        _ => None,
    };
    let link = match ticket_kind {
        Some(kind) => {
            let ttl = mail
                .ttl_seconds
                .or(template.url_lifetime_in_seconds)
                .unwrap_or(tickets::DEFAULT_TTL_SECONDS);
            tickets::issue(
                state,
                NewTicket {
                    kind,
                    user_id: &user.user.user_id,
                    client_id: mail.client_id.as_deref(),
                    result_url: result_url.as_deref(),
                    ttl_seconds: ttl,
                    mark_email_verified: false,
                },
            )
            .await?
        }
        None => String::new(),
    };
    let application = match &mail.client_id {
        Some(id) => state
            .store()
            .client(id)
            .await?
            .map(|c| TemplateApplication {
                name: c.client.name,
                client_id: c.client.client_id,
            }),
        None => None,
    }
    .unwrap_or_else(|| TemplateApplication {
        name: crate::pages::TENANT_NAME.into(),
        client_id: String::new(),
    });
    let context = TemplateContext {
        url: link.clone(),
        user: template_user(&user.user),
        application,
        tenant: crate::pages::TENANT_NAME.into(),
        friendly_name: crate::pages::TENANT_NAME.into(),
    };
    let rendered = match templates::render(&template, &context) {
        Ok(r) => r,
        Err(e) => {
            return Ok(Composed::Dropped(format!(
                "the template does not render: {e}"
            )))
        }
    };
    let from = if template.from.trim().is_empty() {
        default_from.to_string()
    } else {
        template.from.clone()
    };
    Ok(Composed::Message(
        Message {
            from,
            to: mail.recipient.clone(),
            subject: rendered.subject,
            html: rendered.html,
        },
        link,
    ))
}

fn template_user(user: &User) -> TemplateUser {
    TemplateUser {
        user_id: user.user_id.clone(),
        email: user.email.clone().unwrap_or_default(),
        email_verified: user.email_verified,
        name: user.name.clone(),
        nickname: user.nickname.clone(),
        given_name: user.given_name.clone(),
        family_name: user.family_name.clone(),
        user_metadata: user.user_metadata.clone(),
        app_metadata: user.app_metadata.clone(),
    }
}

/// Records the outcome of one attempt: sent, retried later, or given up.
async fn settle(
    state: &AppState,
    holder: &str,
    mail: &QueuedMail,
    outcome: Result<(), (bool, String)>,
) -> Result<(), StoreError> {
    let now = state.now();
    let store = state.store();
    match outcome {
        Ok(()) => {
            store.mark_mail_sent(&mail.id, holder, now).await?;
            log_request(state, mail, true, "").await;
        }
        Err((permanent, reason)) => {
            let attempts = mail.attempts + 1;
            let too_old = now - mail.created_at >= GIVE_UP_AFTER_SECONDS;
            if permanent || attempts >= MAX_ATTEMPTS || too_old {
                tracing::warn!(mail = %mail.id, to = %mail.recipient, error = %reason, "mail given up");
                store.fail_mail(&mail.id, holder, now, &reason).await?;
                log_request(state, mail, false, &reason).await;
            } else {
                tracing::info!(mail = %mail.id, attempt = attempts, error = %reason, "mail not sent yet; will retry");
                store
                    .retry_mail(&mail.id, holder, now + retry_delay(attempts), &reason)
                    .await?;
            }
        }
    }
    Ok(())
}

/// The wait before attempt `attempts + 1`: 5 s, doubling, at most 15 minutes.
pub fn retry_delay(attempts: i64) -> i64 {
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    FIRST_RETRY_SECONDS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_RETRY_SECONDS)
}

/// The request events: `svr`/`fvr` for verification mail, `scpr`/`fcpr` for reset mail.
async fn log_request(state: &AppState, mail: &QueuedMail, sent: bool, reason: &str) {
    let code = match (mail.template.as_str(), sent) {
        (VERIFY_EMAIL, true) => codes::VERIFICATION_EMAIL_REQUEST_OK,
        (VERIFY_EMAIL, false) => codes::VERIFICATION_EMAIL_REQUEST_FAILED,
        (RESET_EMAIL, true) => codes::PASSWORD_CHANGE_REQUEST_OK,
        (RESET_EMAIL, false) => codes::PASSWORD_CHANGE_REQUEST_FAILED,
        _ => return,
    };
    audit::record(
        state,
        Event {
            code,
            description: reason.into(),
            client_id: mail.client_id.as_deref(),
            user_id: Some(&mail.user_id),
            user_name: Some(&mail.recipient),
            extra: json!({"email": mail.recipient}),
            ..Event::default()
        },
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_outlasts_a_whole_batch_at_its_slowest() {
        let worst_per_mail = gatehouse_mail::SEND_TIMEOUT + gatehouse_mail::RENDER_TIMEOUT;
        assert!(LEASE_SECONDS as u64 > CLAIM_BATCH as u64 * worst_per_mail.as_secs());
    }

    #[test]
    fn retries_back_off_and_are_capped() {
        assert_eq!(retry_delay(1), 5);
        assert_eq!(retry_delay(2), 10);
        assert_eq!(retry_delay(3), 20);
        assert_eq!(retry_delay(60), MAX_RETRY_SECONDS);
    }
}
