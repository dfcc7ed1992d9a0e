//! Issuing tokens to a user, once a grant (code, password, device code) has
//! established who the user is: decide, start a refresh-token family when the
//! decision allows one, mint.

use crate::actions::{self, FlowError, Mode, PostLogin, PostLoginSource};
use crate::decision::{decide, Decided, DecisionFailure, DecisionRequest};
use crate::issue::{mint, new_refresh_family, Mint, Minted, NewFamily};
use crate::state::AppState;
use gatehouse_core::grant::{AudienceParam, Flow, Trace};
use gatehouse_core::model::{Client, User};
use gatehouse_core::ScopeSet;

pub(crate) struct UserGrant<'a> {
    pub flow: Flow,
    pub grant_type: &'a str,
    pub client: &'a Client,
    pub user: &'a User,
    pub audience: Option<AudienceParam>,
    pub requested: &'a ScopeSet,
    /// The login this grant continues: when it happened and its SSO session.
    pub auth_time: i64,
    pub sid: Option<&'a str>,
    /// The ID token's `nonce`, from `/authorize`.
    pub nonce: Option<&'a str>,
    /// Whether the ID token carries `auth_time` (prompt=login or max_age).
    pub include_auth_time: bool,
    /// Run the post-login Actions now, or take what they did at `/authorize`.
    pub post_login: PostLoginSource<'a>,
    /// The hash of the code this grant redeems: the refresh-token family it
    /// starts is linked to the code, for reuse revocation.
    pub from_code: Option<&'a str>,
    pub now: i64,
}

pub(crate) struct Issued {
    pub minted: Minted,
    pub trace: Trace,
}

/// The decision request of a user grant; shared with [`crate::simulate`].
pub(crate) fn decision_request<'a>(g: &UserGrant<'a>) -> DecisionRequest<'a> {
    DecisionRequest {
        flow: g.flow,
        client: g.client,
        user: Some(g.user),
        audience: g.audience.clone(),
        requested_scopes: g.requested,
        consent: None,
    }
}

/// What to mint for a user grant; shared with [`crate::simulate`].
pub(crate) fn mint_request<'a>(
    g: &UserGrant<'a>,
    decided: &'a Decided,
    refresh_token: Option<String>,
) -> Mint<'a> {
    Mint {
        client: g.client,
        user: Some(g.user),
        decided,
        grant_type: g.grant_type,
        nonce: g.nonce,
        sid: g.sid,
        auth_time: g.include_auth_time.then_some(g.auth_time),
        refresh_token,
        now: g.now,
    }
}

pub(crate) async fn issue(
    state: &AppState,
    mut g: UserGrant<'_>,
) -> Result<Issued, DecisionFailure> {
    let mut decided = decide(state, decision_request(&g)).await?;
    let effects =
        match std::mem::replace(&mut g.post_login, PostLoginSource::Carried(Box::default())) {
            PostLoginSource::Carried(effects) => *effects,
            PostLoginSource::Run { request, protocol } => actions::post_login(
                state,
                PostLogin {
                    client: g.client,
                    user: g.user,
                    decided: &decided,
                    requested: g.requested,
                    protocol,
                    request,
                    session_id: g.sid,
                    auth_time: Some(g.auth_time),
                    mode: Mode::Issue,
                },
            )
            .await
            .map_err(FlowError::into_decision_failure)?,
        };
    decided.apply_actions(effects);
    let refresh_token = if decided.decision.issue_refresh_token {
        let family = NewFamily {
            client: g.client,
            user: g.user,
            audience: decided.decision.audience.clone(),
            scope: &decided.decision.scope,
            auth_time: g.auth_time,
            sid: g.sid.map(str::to_string),
            from_code: g.from_code,
            now: g.now,
        };
        Some(new_refresh_family(state, family).await?)
    } else {
        None
    };
    let minted = mint(state, mint_request(&g, &decided, refresh_token)).await?;
    Ok(Issued {
        minted,
        trace: decided.decision.trace,
    })
}
