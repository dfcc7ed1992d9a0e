//! `grant_type=client_credentials` (RFC 6749 §4.4): a machine-to-machine token
//! for an API the client holds a client grant for (auth0-compat.md §4).

use super::{finish, Attempt, EventCodes};
use crate::actions::{self, FlowError, Mode, RequestFacts};
use crate::audit::codes;
use crate::decision::{decide, Decided, DecisionRequest};
use crate::error::ApiError;
use crate::issue::{mint, Mint, TokenResponse};
use crate::state::AppState;
use gatehouse_core::grant::{AudienceParam, Flow};
use gatehouse_core::model::Client;
use gatehouse_core::request::CLIENT_CREDENTIALS;
use gatehouse_core::ScopeSet;

/// The decision request of client credentials; shared with [`crate::simulate`].
pub(crate) fn decision_request<'a>(
    client: &'a Client,
    audience: Option<AudienceParam>,
    requested: &'a ScopeSet,
) -> DecisionRequest<'a> {
    DecisionRequest {
        flow: Flow::ClientCredentials,
        client,
        user: None,
        audience,
        requested_scopes: requested,
        consent: None,
    }
}

/// What to mint for client credentials; shared with [`crate::simulate`].
pub(crate) fn mint_request<'a>(client: &'a Client, decided: &'a Decided, now: i64) -> Mint<'a> {
    Mint {
        client,
        user: None,
        decided,
        grant_type: CLIENT_CREDENTIALS,
        nonce: None,
        sid: None,
        auth_time: None,
        refresh_token: None,
        now,
    }
}

pub async fn exchange(
    state: &AppState,
    client: &Client,
    audience: Option<AudienceParam>,
    scope: Option<ScopeSet>,
    request: &RequestFacts,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let requested = scope.unwrap_or_default();
    let requested_audience = audience.as_ref().map(|a| a.value().to_string());
    let result = async {
        let mut decided = decide(state, decision_request(client, audience, &requested)).await?;
        let effects = actions::credentials_exchange(state, client, &decided, request, Mode::Issue)
            .await
            .map_err(FlowError::into_decision_failure)?;
        decided.apply_actions(effects);
        let minted = mint(state, mint_request(client, &decided, now)).await?;
        Ok((minted, decided.decision.trace))
    }
    .await;
    let codes = EventCodes {
        ok: codes::CLIENT_CREDENTIALS_OK,
        failed: codes::CLIENT_CREDENTIALS_FAILED,
    };
    let attempt = Attempt {
        requested_audience,
        requested_scope: Some(requested.to_string()).filter(|s| !s.is_empty()),
        ..Attempt::new(codes, client)
    };
    finish(state, attempt, result).await
}
