//! The tenant's email templates and email provider as stored, and the
//! [`Mailer`] in force: the stored provider when there is one and it is
//! enabled, else the node's [`super::MailConfig`].
//!
//! Both live in server values as JSON. The provider's SMTP password is sealed
//! under the master key (context [`PASSWORD_CONTEXT`]) and never leaves this
//! module in clear except into the [`SmtpSettings`] of a delivery.

use crate::state::AppState;
use gatehouse_core::sealing::{self, MasterKey, SealError};
use gatehouse_mail::templates::{self, EmailTemplate};
use gatehouse_mail::{Mailer, SmtpSettings, Transport};
use gatehouse_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// The server value holding the provider (JSON [`EmailProvider`], or `null` once deleted).
const PROVIDER_KEY: &str = "email_provider";
/// The sealing context of the provider's SMTP password.
pub const PASSWORD_CONTEXT: &str = "email-provider:smtp_pass";
/// The only provider Gatehouse speaks to.
pub const SMTP_PROVIDER: &str = "smtp";
/// The SMTP port with TLS from the first byte; any other uses STARTTLS.
const SMTPS_PORT: u16 = 465;

/// The server value holding template `name` (JSON [`EmailTemplate`]).
fn template_key(name: &str) -> String {
    format!("email_template:{name}")
}

/// Template `name` as stored, or Gatehouse's default; `None` for an unknown name.
pub async fn template(state: &AppState, name: &str) -> Result<Option<EmailTemplate>, StoreError> {
    match stored_template(state, name).await? {
        Some(template) => Ok(Some(template)),
        None => Ok(templates::default_template(name)),
    }
}

/// Template `name` as stored; `None` while it is Gatehouse's default.
pub async fn stored_template(
    state: &AppState,
    name: &str,
) -> Result<Option<EmailTemplate>, StoreError> {
    if !templates::NAMES.contains(&name) {
        return Ok(None);
    }
    match state.store().server_value(&template_key(name)).await? {
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("email template {name}: {e}"))),
        None => Ok(None),
    }
}

/// Stores a template (already checked).
pub async fn put_template(state: &AppState, template: &EmailTemplate) -> Result<(), StoreError> {
    state
        .store()
        .put_server_value(&template_key(&template.template), &template_json(template)?)
        .await
}

/// Stores a template (already checked) unless one is stored: `false` when one was.
pub async fn create_template(
    state: &AppState,
    template: &EmailTemplate,
) -> Result<bool, StoreError> {
    if stored_template(state, &template.template).await?.is_some() {
        return Ok(false);
    }
    // Insert-or-read settles two creates racing (identical ones both succeed).
    let text = template_json(template)?;
    let stored = state
        .store()
        .server_value_or_insert(&template_key(&template.template), &text)
        .await?;
    Ok(stored == text)
}

fn template_json(template: &EmailTemplate) -> Result<String, StoreError> {
    serde_json::to_string(template).map_err(|e| StoreError::Corrupt(format!("email template: {e}")))
}

/// The tenant's email provider as stored (Auth0's `smtp` provider).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailProvider {
    pub enabled: bool,
    /// The sender when a template names none; empty for the node's.
    pub default_from_address: Option<String>,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_user: Option<String>,
    /// The password sealed under the master key ([`seal_password`]); never shown.
    pub smtp_pass_sealed: Option<String>,
}

impl EmailProvider {
    /// The SMTP settings of a delivery, the password unsealed.
    pub fn smtp_settings(&self, master_key: &MasterKey) -> Result<SmtpSettings, SealError> {
        let password = self
            .smtp_pass_sealed
            .as_deref()
            .map(|sealed| unseal_password(master_key, sealed))
            .transpose()?;
        Ok(SmtpSettings {
            host: self.smtp_host.clone(),
            port: self.smtp_port,
            username: self.smtp_user.clone(),
            password,
            implicit_tls: self.smtp_port == SMTPS_PORT,
        })
    }

    /// The provider with its password sealed under `new_key` instead of
    /// `old_key` (`gatehouse keys rewrap`).
    pub fn resealed(&self, old_key: &MasterKey, new_key: &MasterKey) -> Result<Self, SealError> {
        let smtp_pass_sealed = self
            .smtp_pass_sealed
            .as_deref()
            .map(|sealed| unseal_password(old_key, sealed).map(|p| seal_password(new_key, &p)))
            .transpose()?;
        Ok(Self {
            smtp_pass_sealed,
            ..self.clone()
        })
    }
}

/// Seals an SMTP password for storage.
pub fn seal_password(master_key: &MasterKey, password: &str) -> String {
    sealing::seal(master_key, PASSWORD_CONTEXT, password.as_bytes())
}

fn unseal_password(master_key: &MasterKey, sealed: &str) -> Result<String, SealError> {
    let plain = sealing::unseal(master_key, PASSWORD_CONTEXT, sealed)?;
    String::from_utf8(plain).map_err(|_| SealError::Malformed("the password is not UTF-8"))
}

/// The stored provider; `None` when none is configured.
pub async fn provider(state: &AppState) -> Result<Option<EmailProvider>, StoreError> {
    stored_provider(state.store()).await
}

/// [`provider`] for tools that hold a store but no server (`gatehouse keys rewrap`).
pub async fn stored_provider(store: &dyn Store) -> Result<Option<EmailProvider>, StoreError> {
    match store.server_value(PROVIDER_KEY).await? {
        Some(text) => serde_json::from_str::<Option<EmailProvider>>(&text)
            .map_err(|e| StoreError::Corrupt(format!("email provider: {e}"))),
        None => Ok(None),
    }
}

/// Stores the provider (already checked, its password sealed).
pub async fn put_provider(state: &AppState, provider: &EmailProvider) -> Result<(), StoreError> {
    store_provider(state.store(), provider).await
}

/// [`put_provider`] for tools that hold a store but no server.
pub async fn store_provider(store: &dyn Store, provider: &EmailProvider) -> Result<(), StoreError> {
    let text = serde_json::to_string(provider)
        .map_err(|e| StoreError::Corrupt(format!("email provider: {e}")))?;
    store.put_server_value(PROVIDER_KEY, &text).await
}

/// Stores the provider unless one is configured: `false` when one was.
pub async fn create_provider(
    state: &AppState,
    provider: &EmailProvider,
) -> Result<bool, StoreError> {
    // A deleted provider leaves `null`, which a create may replace; the
    // insert-or-read settles two creates racing on an empty store.
    if self::provider(state).await?.is_some() {
        return Ok(false);
    }
    let text = serde_json::to_string(provider)
        .map_err(|e| StoreError::Corrupt(format!("email provider: {e}")))?;
    let stored = state
        .store()
        .server_value_or_insert(PROVIDER_KEY, &text)
        .await?;
    if stored == text {
        return Ok(true);
    }
    put_provider(state, provider).await.map(|()| true)
}

/// Removes the provider: mail goes back to the node's configuration.
pub async fn delete_provider(state: &AppState) -> Result<(), StoreError> {
    state.store().put_server_value(PROVIDER_KEY, "null").await
}

/// The mailer in force and its default sender; `None` when this node has no
/// mail configuration (then mail stays queued).
///
/// An enabled stored provider wins over `--smtp-url`; the sender is the
/// provider's `default_from_address`, else `--smtp-from`, else
/// [`super::DEFAULT_FROM`].
pub async fn mailer(state: &AppState) -> Result<Option<(Mailer, String)>, StoreError> {
    let Some(config) = state.mail().config() else {
        return Ok(None);
    };
    let node_from = || {
        config
            .from
            .clone()
            .unwrap_or_else(|| super::DEFAULT_FROM.to_string())
    };
    let Some(provider) = provider(state).await?.filter(|p| p.enabled) else {
        return Ok(Some((Mailer::new(config.transport.clone()), node_from())));
    };
    let settings = provider
        .smtp_settings(state.keys().master_key())
        .map_err(|e| StoreError::Corrupt(format!("email provider password: {e}")))?;
    let from = provider
        .default_from_address
        .clone()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(node_from);
    Ok(Some((Mailer::new(Transport::Smtp(settings)), from)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> EmailProvider {
        EmailProvider {
            enabled: true,
            default_from_address: None,
            smtp_host: "smtp.example.com".into(),
            smtp_port: 587,
            smtp_user: Some("mailer".into()),
            smtp_pass_sealed: None,
        }
    }

    #[test]
    fn the_password_opens_only_under_its_key_and_moves_on_rewrap() {
        let key = MasterKey::generate();
        let other = MasterKey::generate();
        let stored = EmailProvider {
            smtp_pass_sealed: Some(seal_password(&key, "hunter2")),
            ..provider()
        };
        assert!(!serde_json::to_string(&stored).unwrap().contains("hunter2"));
        let settings = stored.smtp_settings(&key).unwrap();
        assert_eq!(settings.password.as_deref(), Some("hunter2"));
        assert!(!settings.implicit_tls);
        assert!(stored.smtp_settings(&other).is_err());

        let moved = stored.resealed(&key, &other).unwrap();
        assert_eq!(
            moved.smtp_settings(&other).unwrap().password.as_deref(),
            Some("hunter2")
        );
        assert!(moved.smtp_settings(&key).is_err());
    }

    #[test]
    fn port_465_is_implicit_tls() {
        let smtps = EmailProvider {
            smtp_port: 465,
            ..provider()
        };
        assert!(
            smtps
                .smtp_settings(&MasterKey::generate())
                .unwrap()
                .implicit_tls
        );
    }
}
