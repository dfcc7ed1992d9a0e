//! Actions: what Auth0-shaped JavaScript may change in a login, a token
//! exchange or a signup, and the rules that bound it (auth0-compat.md §10).
//!
//! The engine (`gatehouse-actions`) runs the code and records every call on
//! the `api` object as an [`ApiCall`]. This module turns those records into
//! effects with Auth0's rules: restricted and `auth0.com` claims are dropped
//! with a warning, custom claims are capped in size, scopes are added or
//! removed, a denial stops the flow, metadata updates merge. Every effect
//! becomes a sentence in the decision trace.

mod claims;
mod effects;
#[cfg(test)]
mod tests;

pub use claims::{
    is_auth0_namespace, is_oidc_standard_claim, is_restricted_claim, merge_custom_claims,
    MAX_CUSTOM_CLAIMS_BYTES, OIDC_STANDARD_CLAIMS, RESTRICTED_CLAIMS,
};
pub use effects::{
    action_failed_refusal, action_failed_refusal_in, ActionNote, Denial, Effects, NoteKind,
    ScopeChange, Unsupported,
};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The triggers Gatehouse runs, with Auth0's ids and handler names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Trigger {
    /// Every user token issuance: code, implicit, password, device, refresh.
    #[serde(rename = "post-login")]
    PostLogin,
    /// `client_credentials`.
    #[serde(rename = "credentials-exchange")]
    CredentialsExchange,
    /// A signup through the page, `/dbconnections/signup` or the Management API.
    #[serde(rename = "pre-user-registration")]
    PreUserRegistration,
}

impl Trigger {
    /// Every trigger, in the order Auth0 lists them.
    pub const ALL: [Trigger; 3] = [
        Trigger::PostLogin,
        Trigger::CredentialsExchange,
        Trigger::PreUserRegistration,
    ];

    /// Auth0's trigger id (`post-login`, …).
    pub fn id(self) -> &'static str {
        match self {
            Self::PostLogin => "post-login",
            Self::CredentialsExchange => "credentials-exchange",
            Self::PreUserRegistration => "pre-user-registration",
        }
    }

    /// The export the trigger calls.
    pub fn handler(self) -> &'static str {
        match self {
            Self::PostLogin => "onExecutePostLogin",
            Self::CredentialsExchange => "onExecuteCredentialsExchange",
            Self::PreUserRegistration => "onExecutePreUserRegistration",
        }
    }

    /// Auth0's current version of the trigger.
    pub fn version(self) -> &'static str {
        match self {
            Self::PostLogin => "v3",
            Self::CredentialsExchange | Self::PreUserRegistration => "v2",
        }
    }

    /// The trigger with Auth0's id `id`.
    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.id() == id)
    }
}

/// One call on the `api` object, in call order: `accessToken.setCustomClaim`
/// with its JSON arguments (a value JSON cannot hold becomes `null`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiCall {
    /// `group.method`, as called: `accessToken.setCustomClaim`.
    pub method: String,
    /// The arguments, as JSON.
    pub args: Vec<Value>,
}
