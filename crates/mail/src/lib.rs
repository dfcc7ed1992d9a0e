//! Gatehouse's outgoing email.
//!
//! - [`Mailer`]: sends one [`Message`], over SMTP ([`Transport::Smtp`], lettre
//!   over rustls: STARTTLS for `smtp://`, implicit TLS for `smtps://`) or, with
//!   no mail server configured, by writing it as an `.eml` file to an outbox
//!   directory ([`Transport::Outbox`]). A [`SendError`] says whether trying
//!   again later can help.
//! - [`templates`]: Auth0's email templates (`verify_email`, `reset_email`,
//!   `welcome_email`) in Liquid, their defaults, checking and rendering.
//!
//! Queueing, retries and tickets are the server's: this crate only turns a
//! template into a message and a message into a delivery.

mod bounded;
mod compose;
mod outbox;
mod smtp;
pub mod templates;

pub use compose::{check_address, html_to_text};

/// The longest one delivery may take (an SMTP exchange is cut off after it).
pub const SEND_TIMEOUT: std::time::Duration = smtp::TIMEOUT;
/// The longest one template render may take.
pub const RENDER_TIMEOUT: std::time::Duration = bounded::MAX_RENDER_TIME;
use std::path::PathBuf;

/// Where mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    Smtp(SmtpSettings),
    /// Each message becomes `<dir>/<timestamp>-<id>.eml`.
    Outbox(PathBuf),
}

/// An SMTP server, from `--smtp-url` or the Management API's email provider.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `smtps://`: TLS from the first byte. Otherwise STARTTLS when the server
    /// offers it, and required when credentials go to a host that is not loopback.
    pub implicit_tls: bool,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("implicit_tls", &self.implicit_tls)
            .finish()
    }
}

/// A `--smtp-url` that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid SMTP URL: {0}")]
pub struct SmtpUrlError(pub String);

impl SmtpSettings {
    /// Parses `smtp://[user[:pass]@]host[:port]` (default port 587) or
    /// `smtps://…` (default 465); user and password are percent-decoded.
    pub fn from_url(url: &str) -> Result<Self, SmtpUrlError> {
        smtp::parse_url(url)
    }

    /// Checks and normalises a host given on its own (the Management API's
    /// `smtp_host`): a name or an IP address, IPv6 with or without brackets.
    pub fn check_host(host: &str) -> Result<String, SmtpUrlError> {
        smtp::check_host(host)
    }
}

/// One rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `Name <address>` or a bare address.
    pub from: String,
    pub to: String,
    pub subject: String,
    /// The rendered template; a plain-text part is derived from it.
    pub html: String,
}

/// A delivery that did not happen.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason}")]
pub struct SendError {
    /// The server refused for good (a 5xx reply, an invalid address): do not retry.
    pub permanent: bool,
    pub reason: String,
}

impl SendError {
    fn permanent(reason: impl Into<String>) -> Self {
        Self {
            permanent: true,
            reason: reason.into(),
        }
    }

    fn transient(reason: impl Into<String>) -> Self {
        Self {
            permanent: false,
            reason: reason.into(),
        }
    }
}

/// Sends messages through one [`Transport`].
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
}

impl Mailer {
    pub fn new(transport: Transport) -> Self {
        Self { transport }
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Delivers `message` (bounded: an SMTP exchange gives up after 30 s).
    pub async fn send(&self, message: &Message) -> Result<(), SendError> {
        let email = compose::build(message)?;
        match &self.transport {
            Transport::Smtp(settings) => smtp::send(settings, email).await,
            Transport::Outbox(dir) => outbox::write(dir, email.formatted()).await.map(drop),
        }
    }
}
