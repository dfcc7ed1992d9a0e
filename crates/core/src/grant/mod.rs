//! The grant decision: what a token holds, and why (SPEC.md §4, auth0-compat.md §3–§4).
//!
//! Two pure phases, because the caller must load per-API facts (the user's
//! permissions on the chosen API, client grants, consents) once the audience is known:
//!
//! 1. [`choose_audience`] ([`audience`]): `audience`, else `resource`, else the tenant
//!    `default_audience`, else (opt-in) the API inferred from the scopes, else `/userinfo`.
//! 2. [`decide`]: the granted scopes, the `permissions` claim, the token format,
//!    refresh and ID tokens, consent. It dispatches on the [`Flow`]:
//!    - [`user_flow`]: code, implicit, refresh, password, device code: OIDC scopes,
//!      RBAC, access policies, `offline_access` (§4 "User-delegated flows");
//!    - [`client_credentials`]: client grants, no RBAC (§4 "Client credentials");
//!    - [`consent`]: whether the consent screen is needed (§4 "Consent");
//!    - [`system_api`]: the Management API in user flows: end-user scopes, and
//!      any other management scope only through RBAC (§9).
//!
//! Every step writes the [`Trace`] ([`trace`]): one entry for the audience, one per
//! requested scope with the rule, a sentence and the fix. The `_traced` variants
//! return a [`Refusal`] on failure so the trace of a refused request can be logged too.
//!
//! Before the decision, each grant checks what it was presented, one pure
//! file per grant: [`authorization_code`], [`refresh_token`], [`device_code`]
//! at the token endpoint, [`authorize`] for `/authorize`; and every user flow
//! refuses a blocked user ([`check_not_blocked`]).
//!
//! No I/O and no clock: everything, the time included, comes in through the inputs.

mod audience;
pub mod authorization_code;
pub mod authorize;
mod client_credentials;
mod consent;
pub mod device_code;
pub mod refresh_token;
pub mod refusals;
mod system_api;
mod trace;
mod user_flow;

#[cfg(any(test, feature = "testing"))]
pub mod decision_cases;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use audience::{
    choose_audience, choose_audience_traced, AudienceChoice, AudienceInput, AudienceParam,
    ScopeOwners,
};
pub use system_api::{is_end_user_scope, END_USER_SCOPES};
pub use trace::{
    AudienceRule, AudienceTrace, RefusalRule, RefusalTrace, ScopeRule, ScopeTrace, Trace,
};

use crate::error::messages::USER_IS_BLOCKED;
use crate::error::{ErrorCode, OAuthError};
use crate::model::{
    Client, ClientGrant, EffectivePermission, ResourceServer, SigningAlg, TokenDialect, User,
    DEFAULT_ACCESS_TOKEN_LIFETIME,
};
use crate::scope::ScopeSet;

/// `access_denied` for client credentials when no audience was given and the tenant
/// has no default audience: Auth0's exact description (seen in many client setups).
pub const NO_AUDIENCE_PROVIDED: &str =
    "No audience parameter was provided, and no default audience has been configured";

/// `expires_in` of an opaque (`/userinfo`) access token from the token endpoint.
pub const OPAQUE_TOKEN_LIFETIME: u64 = DEFAULT_ACCESS_TOKEN_LIFETIME;
/// `expires_in` of an opaque access token from the implicit flow (web lifetime).
pub const OPAQUE_TOKEN_LIFETIME_FOR_WEB: u64 = 7_200;

/// The flow a token is being issued by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// `grant_type=authorization_code` (the code from `/authorize`).
    AuthorizationCode,
    /// `/authorize` with `response_type` containing `token` (implicit and hybrid).
    Implicit,
    /// `grant_type=refresh_token`.
    RefreshToken,
    /// `grant_type=client_credentials`: a client for itself.
    ClientCredentials,
    /// `password` and `password-realm`.
    Password,
    /// `urn:ietf:params:oauth:grant-type:device_code`.
    DeviceCode,
}

impl Flow {
    /// Every flow but client credentials acts for a user.
    pub fn is_user_flow(self) -> bool {
        self != Self::ClientCredentials
    }

    /// Refresh tokens come from the code, refresh, password and device flows,
    /// never from implicit or client credentials (auth0-compat.md §2 "Grants").
    pub fn can_issue_refresh_token(self) -> bool {
        matches!(
            self,
            Self::AuthorizationCode | Self::RefreshToken | Self::Password | Self::DeviceCode
        )
    }

    /// How the trace names the flow.
    pub fn describe(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "the authorization code flow",
            Self::Implicit => "the implicit flow",
            Self::RefreshToken => "the refresh token grant",
            Self::ClientCredentials => "the client credentials grant",
            Self::Password => "the password grant",
            Self::DeviceCode => "the device code flow",
        }
    }
}

/// What the access token is (auth0-compat.md §3 "Token format").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TokenFormat {
    /// A JWT for an API, signed with the API's algorithm, in the API's dialect.
    /// `lifetime` is `expires_in` in seconds.
    Jwt {
        /// The API's signing algorithm.
        alg: SigningAlg,
        /// Which claims the token carries.
        dialect: TokenDialect,
        /// Seconds the token lives.
        lifetime: u64,
    },
    /// An opaque token usable only at `/userinfo` (no API audience).
    Opaque,
}

/// The user a user flow acts for, with their facts on the chosen API.
#[derive(Debug, Clone, Copy)]
pub struct UserFacts<'a> {
    /// The user, loaded and not blocked.
    pub user: &'a User,
    /// The user's effective permissions ON THE CHOSEN API (direct ∪ via roles), with sources.
    pub permissions: &'a [EffectivePermission],
    /// For requested scopes the user lacks: the names of roles that would grant them
    /// on that API, for the fix text. `(scope, role names)`.
    pub roles_granting: &'a [(String, Vec<String>)],
}

/// What consent the user already gave, for interactive flows (`/authorize`).
#[derive(Debug, Clone, Copy)]
pub struct ConsentFacts<'a> {
    /// The scopes the user consented to for this client and API, if any.
    pub consented: Option<&'a ScopeSet>,
    /// The request sent `prompt=consent`.
    pub prompt_consent: bool,
    /// The redirect URI is a loopback address (`localhost`, `127.0.0.1`, `[::1]`).
    pub loopback_redirect: bool,
}

/// Everything phase 2 needs; the caller loaded the per-API facts after phase 1.
#[derive(Debug, Clone, Copy)]
pub struct DecisionInput<'a> {
    /// The flow the token is issued by.
    pub flow: Flow,
    /// The client the token is for.
    pub client: &'a Client,
    /// The outcome of phase 1.
    pub audience: &'a AudienceChoice,
    /// The requested scopes. For the refresh grant: the originally granted scope,
    /// or the narrower `scope` parameter.
    pub requested_scopes: &'a ScopeSet,
    /// `None` only for client credentials.
    pub user: Option<UserFacts<'a>>,
    /// Grants of this client (and `default_for: third_party_clients` ones) for the
    /// chosen API; filtered again with [`ClientGrant::applies_to`].
    pub client_grants: &'a [ClientGrant],
    /// Only for interactive flows; `None` = consent not evaluated.
    pub consent: Option<ConsentFacts<'a>>,
}

/// What to issue (SPEC.md §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The API identifier; `None` = `/userinfo` only.
    pub audience: Option<String>,
    /// The response and token `scope`: the granted scopes in request order (OIDC
    /// scopes, API scopes, `offline_access` when a refresh token is issued).
    pub scope: ScopeSet,
    /// The granted API scopes alone.
    pub api_scopes: ScopeSet,
    /// The `permissions` claim, sorted; `Some` only with RBAC on and an `_authz`
    /// dialect (auth0-compat.md §3 "Token dialects").
    pub permissions: Option<Vec<String>>,
    /// JWT or opaque.
    pub token_format: TokenFormat,
    /// `expires_in` of the access token, JWT or opaque.
    pub expires_in: u64,
    /// A refresh token is issued with the access token.
    pub issue_refresh_token: bool,
    /// `openid` was requested in a user flow.
    pub issue_id_token: bool,
    /// The consent screen is needed (`false` when consent was not evaluated).
    pub consent_required: bool,
    /// Why each scope was granted or dropped, for the log event.
    pub trace: Trace,
}

/// A refused request: the error to send and the trace to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The error to answer with.
    pub error: OAuthError,
    /// Boxed: a refusal travels in `Err`, which should stay small.
    pub trace: Box<Trace>,
    /// The rule, in words, when the refusal is one `gatehouse explain` names
    /// (a missing client grant, an unknown audience).
    pub refusal: Option<Box<RefusalTrace>>,
}

impl Refusal {
    /// A refusal with the trace gathered so far.
    pub fn new(error: OAuthError, trace: Trace) -> Self {
        Self {
            error,
            trace: Box::new(trace),
            refusal: None,
        }
    }

    /// The same refusal, explained by `refusal`.
    pub fn because(mut self, refusal: RefusalTrace) -> Self {
        self.refusal = Some(Box::new(refusal));
        self
    }
}

impl From<Refusal> for OAuthError {
    fn from(r: Refusal) -> Self {
        r.error
    }
}

/// A blocked user gets nothing: `error` (`invalid_grant` at the token
/// endpoint, `access_denied` at `/authorize`) with `user is blocked`, the
/// words auth0-spa-js logs the user out on (auth0-compat.md §2).
pub fn check_not_blocked(user: &User, error: ErrorCode) -> Result<(), OAuthError> {
    if user.blocked {
        Err(OAuthError::new(error, USER_IS_BLOCKED))
    } else {
        Ok(())
    }
}

/// Decides what a token holds (auth0-compat.md §4).
pub fn decide(input: &DecisionInput) -> Result<Decision, OAuthError> {
    decide_traced(input).map_err(|r| r.error)
}

/// [`decide`], keeping the trace of a refusal for the log event.
pub fn decide_traced(input: &DecisionInput) -> Result<Decision, Refusal> {
    if input.flow.is_user_flow() {
        user_flow::decide(input)
    } else {
        client_credentials::decide(input)
    }
}

/// The token format and `expires_in` (auth0-compat.md §3 "Token format", "Lifetimes"):
/// a JWT for an API (the web lifetime, capped at `token_lifetime`, for implicit);
/// an opaque token for `/userinfo` only.
fn token_format(flow: Flow, api: Option<&ResourceServer>) -> (TokenFormat, u64) {
    match api {
        Some(api) => {
            let lifetime = if flow == Flow::Implicit {
                api.token_lifetime_for_web.min(api.token_lifetime)
            } else {
                api.token_lifetime
            };
            let format = TokenFormat::Jwt {
                alg: api.signing_alg,
                dialect: api.token_dialect,
                lifetime,
            };
            (format, lifetime)
        }
        None if flow == Flow::Implicit => (TokenFormat::Opaque, OPAQUE_TOKEN_LIFETIME_FOR_WEB),
        None => (TokenFormat::Opaque, OPAQUE_TOKEN_LIFETIME),
    }
}

/// How the trace names a client: `Name (client_id)`.
fn client_label(client: &Client) -> String {
    format!("{} ({})", client.name, client.client_id)
}
