//! The tenant's email templates and email provider as stored, and the
//! [`Mailer`] in force: the stored provider when there is one and it is
//! enabled, else the node's [`super::MailConfig`].

use crate::state::AppState;
use gatehouse_mail::templates::{self, EmailTemplate};
use gatehouse_mail::Mailer;
use gatehouse_store::StoreError;

/// The server value holding template `name` (JSON [`EmailTemplate`]).
fn template_key(name: &str) -> String {
    format!("email_template:{name}")
}

/// Template `name` as stored, or Gatehouse's default; `None` for an unknown name.
pub async fn template(state: &AppState, name: &str) -> Result<Option<EmailTemplate>, StoreError> {
    match state.store().server_value(&template_key(name)).await? {
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("email template {name}: {e}"))),
        None => Ok(templates::default_template(name)),
    }
}

/// Stores a template (already checked).
pub async fn put_template(state: &AppState, template: &EmailTemplate) -> Result<(), StoreError> {
    let text = serde_json::to_string(template)
        .map_err(|e| StoreError::Corrupt(format!("email template: {e}")))?;
    state
        .store()
        .put_server_value(&template_key(&template.template), &text)
        .await
}

/// The mailer in force and its default sender; `None` when this node has no
/// mail configuration (then mail stays queued).
pub async fn mailer(state: &AppState) -> Result<Option<(Mailer, String)>, StoreError> {
    Ok(state.mail().config().map(|config| {
        let from = config
            .from
            .clone()
            .unwrap_or_else(|| super::DEFAULT_FROM.to_string());
        (Mailer::new(config.transport.clone()), from)
    }))
}
