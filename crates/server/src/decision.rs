//! Gathering the facts for the grant decision, then calling it.
//!
//! The decision itself is pure ([`gatehouse_core::grant`]); this module does the
//! reads it needs, in its two phases: the APIs that could be the audience, then,
//! once the audience is known, the user's permissions on it, the roles that
//! would grant what is missing, and the client's grants.

use crate::error::ApiError;
use crate::state::AppState;
use gatehouse_core::actions::Effects;
use gatehouse_core::grant::{
    choose_audience_traced, decide_traced, refusals, AudienceChoice, AudienceInput, AudienceParam,
    ConsentFacts, Decision, DecisionInput, Flow, Refusal, RefusalTrace, Trace, UserFacts,
};
use gatehouse_core::model::{Client, ResourceServer, TenantSettings, User};
use gatehouse_core::scope::is_oidc_scope;
use gatehouse_core::{OAuthError, ScopeSet};
use gatehouse_store::Page;

/// Why a decision could not be made: a refusal with its trace (logged), a
/// refusal before the decision explained by a [`RefusalTrace`], or an
/// internal failure.
pub enum DecisionFailure {
    Refused(Refusal),
    Explained(Box<Explained>),
    Internal(ApiError),
}

/// A refusal outside the decision (a reused refresh token, say) with its
/// explanation, and the event code when it is not the grant's failure code.
pub struct Explained {
    pub error: OAuthError,
    pub refusal: RefusalTrace,
    pub event_code: Option<&'static str>,
}

impl From<ApiError> for DecisionFailure {
    fn from(e: ApiError) -> Self {
        Self::Internal(e)
    }
}

impl From<gatehouse_store::StoreError> for DecisionFailure {
    fn from(e: gatehouse_store::StoreError) -> Self {
        Self::Internal(e.into())
    }
}

impl DecisionFailure {
    pub fn trace(&self) -> Option<&Trace> {
        match self {
            Self::Refused(r) => Some(&r.trace),
            Self::Explained(_) | Self::Internal(_) => None,
        }
    }
    /// The explanation of the refusal, when there is one.
    pub fn refusal(&self) -> Option<&RefusalTrace> {
        match self {
            Self::Refused(r) => r.refusal.as_deref(),
            Self::Explained(e) => Some(&e.refusal),
            Self::Internal(_) => None,
        }
    }
    /// The OAuth error answered, if the failure is one.
    pub fn oauth_error(&self) -> Option<&OAuthError> {
        match self {
            Self::Refused(r) => Some(&r.error),
            Self::Explained(e) => Some(&e.error),
            Self::Internal(ApiError::OAuth(e)) => Some(e),
            Self::Internal(_) => None,
        }
    }
    pub fn into_api_error(self) -> ApiError {
        match self {
            Self::Refused(r) => ApiError::OAuth(r.error),
            Self::Explained(e) => ApiError::OAuth(e.error),
            Self::Internal(e) => e,
        }
    }
    pub fn oauth(error: OAuthError) -> Self {
        Self::Internal(ApiError::OAuth(error))
    }
    /// `error`, explained by `refusal`.
    pub fn explained(error: OAuthError, refusal: RefusalTrace) -> Self {
        Self::Explained(Box::new(Explained {
            error,
            refusal,
            event_code: None,
        }))
    }
}

/// What a decision needs beyond the request.
pub struct DecisionRequest<'a> {
    pub flow: Flow,
    pub client: &'a Client,
    pub user: Option<&'a User>,
    pub audience: Option<AudienceParam>,
    pub requested_scopes: &'a ScopeSet,
    pub consent: Option<ConsentFacts<'a>>,
}

/// A made decision with the API it chose, and what the Actions added
/// (custom claims; their scope changes are already in `decision`).
pub struct Decided {
    pub decision: Decision,
    pub api: Option<ResourceServer>,
    pub actions: Effects,
}

impl Decided {
    /// Takes in the effects of an Actions flow: scopes into the decision and
    /// its trace, claims for minting.
    pub fn apply_actions(&mut self, effects: Effects) {
        effects.apply_to_decision(&mut self.decision);
        self.actions = effects;
    }
}

/// The APIs phase 1 may choose from. User flows pass every API so dropped
/// scopes can name the API that defines them; client credentials, the hot
/// path, only the named one.
async fn candidate_apis(
    state: &AppState,
    tenant: &TenantSettings,
    req: &DecisionRequest<'_>,
) -> Result<Vec<ResourceServer>, DecisionFailure> {
    if req.flow.is_user_flow() {
        return Ok(state.store().resource_servers(Page::ALL).await?);
    }
    let named = req
        .audience
        .as_ref()
        .map(|a| a.value().to_string())
        .or_else(|| tenant.default_audience.clone());
    Ok(match named {
        Some(identifier) => state
            .store()
            .resource_server_by_identifier(&identifier)
            .await?
            .into_iter()
            .collect(),
        None => Vec::new(),
    })
}

/// Phase 1 refuses only an audience no API has: explain it with the closest
/// known identifier. Client credentials loaded only the named API, so the
/// refused path loads them all (and decides phase 1 again over them, for the
/// trace's "did you mean").
async fn unknown_audience(
    state: &AppState,
    tenant: &TenantSettings,
    req: &DecisionRequest<'_>,
    apis: Vec<ResourceServer>,
    refusal: Refusal,
) -> DecisionFailure {
    let apis = if req.flow.is_user_flow() {
        apis
    } else {
        match state.store().resource_servers(Page::ALL).await {
            Ok(all) => all,
            Err(e) => return e.into(),
        }
    };
    let refusal = choose_audience_traced(&AudienceInput {
        requested: req.audience.clone(),
        requested_scopes: req.requested_scopes,
        tenant,
        apis: &apis,
    })
    .err()
    .unwrap_or(refusal);
    let named = req
        .audience
        .as_ref()
        .map(|a| a.value().to_string())
        .or_else(|| tenant.default_audience.clone())
        .unwrap_or_default();
    let identifiers: Vec<&str> = apis.iter().map(|a| a.identifier.as_str()).collect();
    let because = refusals::unknown_audience(req.client, &named, &identifiers);
    DecisionFailure::Refused(refusal.because(because))
}

/// Runs both phases of the grant decision with the facts from the store.
pub async fn decide(
    state: &AppState,
    req: DecisionRequest<'_>,
) -> Result<Decided, DecisionFailure> {
    let tenant = state.store().tenant_settings().await?;
    let apis = candidate_apis(state, &tenant, &req).await?;
    let choice: AudienceChoice = match choose_audience_traced(&AudienceInput {
        requested: req.audience.clone(),
        requested_scopes: req.requested_scopes,
        tenant: &tenant,
        apis: &apis,
    }) {
        Ok(choice) => choice,
        Err(refusal) => return Err(unknown_audience(state, &tenant, &req, apis, refusal).await),
    };

    let (grants, permissions, roles_granting) = match &choice.api {
        Some(api) => {
            let grants = state
                .store()
                .client_grants_for(&req.client.client_id, &api.identifier)
                .await?;
            let (permissions, roles) = match req.user {
                Some(user) => {
                    let permissions = state
                        .store()
                        .effective_permissions(&user.user_id, &api.identifier)
                        .await?;
                    let missing: Vec<String> = req
                        .requested_scopes
                        .iter()
                        .filter(|s| !is_oidc_scope(s))
                        .filter(|s| !permissions.iter().any(|p| p.permission_name == *s))
                        .map(str::to_string)
                        .collect();
                    let roles = if missing.is_empty() {
                        Vec::new()
                    } else {
                        state
                            .store()
                            .roles_granting(&api.identifier, &missing)
                            .await?
                    };
                    (permissions, roles)
                }
                None => (Vec::new(), Vec::new()),
            };
            (grants, permissions, roles)
        }
        None => (Vec::new(), Vec::new(), Vec::new()),
    };

    let decision = decide_traced(&DecisionInput {
        flow: req.flow,
        client: req.client,
        audience: &choice,
        requested_scopes: req.requested_scopes,
        user: req.user.map(|user| UserFacts {
            user,
            permissions: &permissions,
            roles_granting: &roles_granting,
        }),
        client_grants: &grants,
        consent: req.consent,
    })
    .map_err(DecisionFailure::Refused)?;
    Ok(Decided {
        decision,
        api: choice.api,
        actions: Effects::default(),
    })
}
