//! The would-be token, without issuing it: `gatehouse explain --simulate` and
//! `POST /api/v2/x-gatehouse/simulate` (SPEC.md §4).
//!
//! [`simulate`] runs what the real grant runs, from the same functions: the
//! pre-checks (grant type enabled, audience known at `/authorize`, user not
//! blocked), the decision request each grant module builds, the grant
//! decision ([`crate::decision::decide`]), and the claim builders of
//! [`crate::issue`]. So a simulation and a real issuance cannot disagree.
//!
//! It never writes: no token, no code, no refresh family, no log event, no
//! login count. The Actions bound to the flow run ([`actions::Mode::Simulate`]):
//! their claims, scopes and denials show in the would-be token and its trace,
//! and nothing they would write (metadata, a failed execution) is written. What only a real issuance has is a placeholder,
//! [`SIMULATED`]: the access token's `jti`, the ID token's `at_hash`, the
//! `sid` of a login session (code, implicit, refresh) and the implicit
//! flow's `nonce`. `iat`, `exp` and `auth_time` come from the server's clock
//! ([`AppState::now`]).
//!
//! What the request cannot say is assumed: `/authorize` is called with the
//! client's first callback URL, without `prompt` or `nonce` (code) and with
//! `response_type=id_token token` (implicit, an ID token when `openid` is
//! granted); a refresh token's family holds `audience` and `scope`.
//! Management API route: [`crate::routes::management::simulate`].

use crate::actions::{self, FlowError, Mode, PostLogin, PostLoginSource, RequestFacts};
use crate::decision::{decide, Decided, DecisionFailure};
use crate::error::ApiError;
use crate::issue::{access_token_claims, id_token_claims, Mint};
use crate::routes::authorize::checks::{check_audience_exists, is_loopback};
use crate::routes::authorize::grant::{self as front, FrontChannel};
use crate::routes::authorize::{decide_at_authorize, AuthorizeFacts};
use crate::routes::token::check_grant_allowed;
use crate::routes::token::user_grant::{self, UserGrant};
use crate::routes::token::{authorization_code, client_credentials, password, refresh_token};
use crate::state::AppState;
use gatehouse_core::explain::{decision_lines, Line};
use gatehouse_core::grant::{
    check_not_blocked, refusals, AudienceParam, Flow, RefusalTrace, Trace,
};
use gatehouse_core::model::{Client, RotationType, SigningAlg, User, DEFAULT_CONNECTION};
use gatehouse_core::request::{
    audience_param, AUTHORIZATION_CODE, CLIENT_CREDENTIALS, DEVICE_CODE, IMPLICIT, PASSWORD,
    REFRESH_TOKEN,
};
use gatehouse_core::{ErrorCode, OAuthError, ScopeSet};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The value of every claim only a real issuance has (`jti`, `at_hash`, `sid`, …).
pub const SIMULATED: &str = "(simulated)";

/// What to simulate: the inputs of a token request, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateRequest {
    pub client_id: String,
    /// The user's `user_id` or email; required by every grant but client credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// RFC 8707 `resource` (same meaning as `audience`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Space-separated. For `refresh_token`: the scope the refresh token was granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `authorization_code` (default), `implicit` (or `token`), `refresh_token`,
    /// `password`, `client_credentials`, `urn:ietf:params:oauth:grant-type:device_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
}

/// Whether the real request would get tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Issued,
    Refused,
}

/// The OAuth error the real request would get, with Auth0's exact strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SimulatedError {
    pub error: String,
    pub error_description: String,
}

/// `jwt` for an API, `opaque` for `/userinfo` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessTokenFormat {
    Jwt,
    Opaque,
}

/// The access token the real request would get.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SimulatedAccessToken {
    pub format: AccessTokenFormat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub alg: Option<SigningAlg>,
    /// The claim set (JWT only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub claims: Option<Value>,
    /// What an opaque token is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The ID token the real request would get.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SimulatedIdToken {
    #[schema(value_type = Object)]
    pub claims: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SimulatedClient {
    pub client_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SimulatedUser {
    pub user_id: String,
    pub email: Option<String>,
}

/// What the real request would get, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Simulation {
    pub outcome: Outcome,
    #[serde(default)]
    pub error: Option<SimulatedError>,
    #[serde(default)]
    pub access_token: Option<SimulatedAccessToken>,
    #[serde(default)]
    pub id_token: Option<SimulatedIdToken>,
    /// A refresh token would come with the access token.
    pub refresh_token: bool,
    /// The response `scope` (issued only).
    #[serde(default)]
    pub scope: Option<String>,
    /// The response `expires_in` (issued only).
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// `/authorize` would show the consent page first (code and implicit).
    #[serde(default)]
    pub consent_required: bool,
    /// The grant decision's trace; `None` when a pre-check refused.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub trace: Option<Trace>,
    /// Why a refusal outside the decision refused (the grant type, say).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub refusal: Option<RefusalTrace>,
    /// The decision in words, as `gatehouse explain` prints a real token's.
    #[serde(default)]
    pub lines: Vec<Line>,
    /// The grant type, as on the wire.
    pub grant: String,
    pub client: SimulatedClient,
    #[serde(default)]
    pub user: Option<SimulatedUser>,
}

/// Why nothing could be simulated (the request itself is wrong).
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("The client {0} does not exist.")]
    UnknownClient(String),
    #[error("The user {0} does not exist.")]
    UnknownUser(String),
    #[error("Unknown grant {0:?}: use authorization_code, implicit, refresh_token, password, client_credentials or urn:ietf:params:oauth:grant-type:device_code.")]
    BadGrant(String),
    #[error("client_credentials acts for no user: leave out user.")]
    UserNotAllowed,
    #[error("{0} acts for a user: name one with user (a user_id or an email).")]
    UserRequired(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<gatehouse_store::StoreError> for SimulateError {
    fn from(e: gatehouse_store::StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

/// The grant type of a simulation: its flow and its wire name.
fn parse_grant(grant: Option<&str>) -> Result<(Flow, &'static str), SimulateError> {
    Ok(match grant.unwrap_or(AUTHORIZATION_CODE) {
        AUTHORIZATION_CODE => (Flow::AuthorizationCode, AUTHORIZATION_CODE),
        IMPLICIT | "token" => (Flow::Implicit, IMPLICIT),
        REFRESH_TOKEN => (Flow::RefreshToken, REFRESH_TOKEN),
        PASSWORD => (Flow::Password, PASSWORD),
        CLIENT_CREDENTIALS => (Flow::ClientCredentials, CLIENT_CREDENTIALS),
        DEVICE_CODE => (Flow::DeviceCode, DEVICE_CODE),
        other => return Err(SimulateError::BadGrant(other.to_string())),
    })
}

/// The would-be token for `req`, without issuing it (see the module docs).
pub async fn simulate(
    state: &AppState,
    req: &SimulateRequest,
) -> Result<Simulation, SimulateError> {
    let (flow, grant) = parse_grant(req.grant.as_deref())?;
    let client = find_client(state, &req.client_id).await?;
    let user = match (&req.user, flow.is_user_flow()) {
        (Some(_), false) => return Err(SimulateError::UserNotAllowed),
        (None, true) => return Err(SimulateError::UserRequired(grant.to_string())),
        (Some(who), true) => Some(find_user(state, who).await?),
        (None, false) => None,
    };
    let ctx = Context {
        state,
        req,
        flow,
        grant,
        client: &client,
        user: user.as_ref(),
    };
    let mut simulation = match run(&ctx).await {
        Ok(sim) => sim,
        Err(Stop::Refused(error, trace, refusal)) => ctx.refused(error, trace.map(|t| *t), refusal),
        Err(Stop::Internal(cause)) => return Err(SimulateError::Internal(cause)),
    };
    let apis = crate::explain::tenant_apis(state)
        .await
        .map_err(|e| SimulateError::Internal(format!("{e:?}")))?;
    simulation.lines = decision_lines(
        simulation
            .error
            .as_ref()
            .map(|e| e.error_description.as_str()),
        simulation.refusal.as_ref(),
        simulation.trace.as_ref(),
        &apis,
    );
    Ok(simulation)
}

async fn find_client(state: &AppState, client_id: &str) -> Result<Client, SimulateError> {
    state
        .store()
        .client(client_id)
        .await?
        .map(|c| c.client)
        .ok_or_else(|| SimulateError::UnknownClient(client_id.to_string()))
}

/// By `user_id`, else by email in the database connection.
async fn find_user(state: &AppState, who: &str) -> Result<User, SimulateError> {
    if let Some(found) = state.store().user(who).await? {
        return Ok(found.user);
    }
    state
        .store()
        .user_by_email(DEFAULT_CONNECTION, who)
        .await?
        .map(|u| u.user)
        .ok_or_else(|| SimulateError::UnknownUser(who.to_string()))
}

struct Context<'a> {
    state: &'a AppState,
    req: &'a SimulateRequest,
    flow: Flow,
    grant: &'static str,
    client: &'a Client,
    user: Option<&'a User>,
}

/// Why a simulation stopped before issuing.
enum Stop {
    /// The real request is refused with this error (and this trace, from the decision).
    Refused(OAuthError, Option<Box<Trace>>, Option<RefusalTrace>),
    Internal(String),
}

impl From<DecisionFailure> for Stop {
    fn from(f: DecisionFailure) -> Self {
        match f {
            DecisionFailure::Refused(r) => {
                Self::Refused(r.error, Some(r.trace), r.refusal.map(|b| *b))
            }
            DecisionFailure::Explained(e) => Self::Refused(e.error, None, Some(e.refusal)),
            DecisionFailure::Internal(e) => e.into(),
        }
    }
}

impl From<ApiError> for Stop {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::OAuth(e) => Self::Refused(e, None, None),
            ApiError::RateLimited(_) => Self::Internal("rate limited".into()),
            ApiError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<OAuthError> for Stop {
    fn from(e: OAuthError) -> Self {
        Self::Refused(e, None, None)
    }
}

/// A parameter as the endpoints read it: an empty value is no value.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

async fn run(ctx: &Context<'_>) -> Result<Simulation, Stop> {
    check_grant_allowed(ctx.client, ctx.grant).map_err(|e| {
        let refusal = refusals::grant_type_not_enabled(ctx.client, ctx.grant);
        Stop::Refused(e, None, Some(refusal))
    })?;
    let audience = audience_param(&|name| match name {
        "audience" => given(&ctx.req.audience).map(str::to_string),
        "resource" => given(&ctx.req.resource).map(str::to_string),
        _ => None,
    })?;
    // `/authorize` and the device authorization endpoint refuse an unknown
    // audience before anything else.
    let at_authorize = matches!(ctx.flow, Flow::AuthorizationCode | Flow::Implicit);
    if at_authorize || ctx.flow == Flow::DeviceCode {
        check_audience_exists(ctx.state, audience.as_ref())
            .await
            .map_err(Stop::Internal)??;
    }
    let user = match ctx.user {
        Some(user) => {
            let error = if at_authorize {
                ErrorCode::AccessDenied
            } else {
                ErrorCode::InvalidGrant
            };
            check_not_blocked(user, error)?;
            Some(user)
        }
        None => None,
    };
    let default_scope = if at_authorize { "openid" } else { "" };
    let requested = ScopeSet::parse(given(&ctx.req.scope).unwrap_or(default_scope));
    match (ctx.flow, user) {
        (Flow::ClientCredentials, _) => client_credentials(ctx, audience, &requested).await,
        (Flow::AuthorizationCode, Some(user)) => code(ctx, user, audience, &requested).await,
        (Flow::Implicit, Some(user)) => implicit(ctx, user, audience, &requested).await,
        (Flow::RefreshToken, Some(user)) => refresh(ctx, user, audience, &requested).await,
        (Flow::Password | Flow::DeviceCode, Some(user)) => {
            token_user_grant(ctx, user, audience, &requested).await
        }
        (_, None) => Err(Stop::Internal("a user flow without a user".into())),
    }
}

async fn client_credentials(
    ctx: &Context<'_>,
    audience: Option<AudienceParam>,
    requested: &ScopeSet,
) -> Result<Simulation, Stop> {
    let request = client_credentials::decision_request(ctx.client, audience, requested);
    let mut decided = decide(ctx.state, request).await?;
    let effects = actions::credentials_exchange(
        ctx.state,
        ctx.client,
        &decided,
        &RequestFacts::default(),
        Mode::Simulate,
    )
    .await
    .map_err(|e| flow_stop(e, &decided))?;
    decided.apply_actions(effects);
    let mint = client_credentials::mint_request(ctx.client, &decided, ctx.state.now());
    Ok(ctx.issued(&mint, false, false))
}

/// The code flow: `/authorize` decides with consent (it may refuse or ask
/// for consent), then the token endpoint decides again and issues.
async fn code(
    ctx: &Context<'_>,
    user: &User,
    audience: Option<AudienceParam>,
    requested: &ScopeSet,
) -> Result<Simulation, Stop> {
    let (at_authorize, _) = decide_at_authorize(
        ctx.state,
        &authorize_facts(ctx, user, audience.clone(), requested),
    )
    .await?;
    let (audience, resource) = match audience {
        Some(AudienceParam::Audience(a)) => (Some(a), None),
        Some(AudienceParam::Resource(r)) => (None, Some(r)),
        None => (None, None),
    };
    let grant = UserGrant {
        flow: Flow::AuthorizationCode,
        grant_type: AUTHORIZATION_CODE,
        client: ctx.client,
        user,
        audience: authorization_code::code_audience(audience, resource),
        requested,
        auth_time: ctx.state.now(),
        sid: Some(SIMULATED),
        nonce: None,
        include_auth_time: false,
        // The Actions run below, as at `/authorize`, without writing.
        post_login: PostLoginSource::Carried(Box::default()),
        from_code: None,
        now: ctx.state.now(),
    };
    let mut decided = decide(ctx.state, user_grant::decision_request(&grant)).await?;
    post_login_actions(ctx, user, &mut decided, requested, actions::protocol::CODE).await?;
    let refresh = decided.decision.issue_refresh_token;
    let mint = user_grant::mint_request(&grant, &decided, None);
    Ok(ctx.issued(&mint, refresh, at_authorize.decision.consent_required))
}

/// The implicit flow: `/authorize` decides with consent and mints an access
/// token, and an ID token when `openid` is granted (`response_type=id_token token`).
async fn implicit(
    ctx: &Context<'_>,
    user: &User,
    audience: Option<AudienceParam>,
    requested: &ScopeSet,
) -> Result<Simulation, Stop> {
    let facts = authorize_facts(ctx, user, audience, requested);
    let (mut decided, _) = decide_at_authorize(ctx.state, &facts).await?;
    post_login_actions(
        ctx,
        user,
        &mut decided,
        requested,
        actions::protocol::IMPLICIT,
    )
    .await?;
    let nonce = decided.decision.issue_id_token.then_some(SIMULATED);
    let mint = front::mint_request(FrontChannel {
        client: ctx.client,
        user,
        decided: &decided,
        nonce,
        sid: SIMULATED,
        auth_time: None,
        now: ctx.state.now(),
    });
    Ok(ctx.issued(&mint, false, decided.decision.consent_required))
}

/// The consent facts of `/authorize` for a request to the client's first
/// callback URL, without `prompt=consent`.
fn authorize_facts<'a>(
    ctx: &Context<'a>,
    user: &'a User,
    audience: Option<AudienceParam>,
    requested: &'a ScopeSet,
) -> AuthorizeFacts<'a> {
    AuthorizeFacts {
        client: ctx.client,
        user,
        flow: ctx.flow,
        audience,
        scope: requested,
        prompt_consent: false,
        loopback: ctx.client.callbacks.first().is_some_and(|c| is_loopback(c)),
    }
}

/// The refresh grant for a refresh token of the code flow whose family holds
/// `audience` and `requested`; rotating clients get a new refresh token.
async fn refresh(
    ctx: &Context<'_>,
    user: &User,
    audience: Option<AudienceParam>,
    requested: &ScopeSet,
) -> Result<Simulation, Stop> {
    let family_audience = audience.map(|a| a.value().to_string());
    let request = refresh_token::decision_request(ctx.client, user, family_audience, requested);
    let mut decided = decide(ctx.state, request).await?;
    post_login_actions(
        ctx,
        user,
        &mut decided,
        requested,
        actions::protocol::REFRESH,
    )
    .await?;
    let rotating = ctx.client.refresh_token.rotation_type == RotationType::Rotating;
    let now = ctx.state.now();
    let mint = refresh_token::mint_request(ctx.client, user, &decided, Some(SIMULATED), now, None);
    Ok(ctx.issued(&mint, rotating, false))
}

/// Password and device code: the user is known, the token endpoint issues.
async fn token_user_grant(
    ctx: &Context<'_>,
    user: &User,
    audience: Option<AudienceParam>,
    requested: &ScopeSet,
) -> Result<Simulation, Stop> {
    // The device authorization request stores `audience` (or `resource`) as the audience.
    let audience = match ctx.flow {
        Flow::DeviceCode => audience.map(|a| AudienceParam::Audience(a.value().to_string())),
        _ => audience,
    };
    if ctx.flow == Flow::Password {
        let tenant = ctx
            .state
            .store()
            .tenant_settings()
            .await
            .map_err(ApiError::from)?;
        password::connection(None, &tenant)?;
    }
    let grant = UserGrant {
        flow: ctx.flow,
        grant_type: ctx.grant,
        client: ctx.client,
        user,
        audience,
        requested,
        auth_time: ctx.state.now(),
        sid: None,
        nonce: None,
        include_auth_time: false,
        // The Actions run below, without writing.
        post_login: PostLoginSource::Carried(Box::default()),
        from_code: None,
        now: ctx.state.now(),
    };
    let mut decided = decide(ctx.state, user_grant::decision_request(&grant)).await?;
    let protocol = match ctx.flow {
        Flow::DeviceCode => actions::protocol::DEVICE,
        _ => actions::protocol::PASSWORD,
    };
    post_login_actions(ctx, user, &mut decided, requested, protocol).await?;
    let refresh = decided.decision.issue_refresh_token;
    let mint = user_grant::mint_request(&grant, &decided, None);
    Ok(ctx.issued(&mint, refresh, false))
}

/// The post-login Actions on the would-be decision, writing nothing: a
/// denial or a failure refuses the simulation as it would the request.
async fn post_login_actions(
    ctx: &Context<'_>,
    user: &User,
    decided: &mut Decided,
    requested: &ScopeSet,
    protocol: &'static str,
) -> Result<(), Stop> {
    let request = RequestFacts::default();
    let login = PostLogin {
        client: ctx.client,
        user,
        decided,
        requested,
        protocol,
        request: &request,
        session_id: Some(SIMULATED),
        auth_time: Some(ctx.state.now()),
        mode: Mode::Simulate,
    };
    let effects = actions::post_login(ctx.state, login)
        .await
        .map_err(|e| flow_stop(e, decided))?;
    decided.apply_actions(effects);
    Ok(())
}

/// A flow that did not let the request through, as the simulation's refusal.
fn flow_stop(error: FlowError, decided: &Decided) -> Stop {
    match error {
        FlowError::Internal(e) => Stop::Internal(format!("{e:?}")),
        refused => Stop::Refused(
            refused.oauth_error(),
            Some(Box::new(decided.decision.trace.clone())),
            refused.refusal(),
        ),
    }
}

impl Context<'_> {
    fn base(&self, outcome: Outcome) -> Simulation {
        Simulation {
            outcome,
            error: None,
            access_token: None,
            id_token: None,
            refresh_token: false,
            scope: None,
            expires_in: None,
            consent_required: false,
            trace: None,
            refusal: None,
            lines: Vec::new(),
            grant: self.grant.to_string(),
            client: SimulatedClient {
                client_id: self.client.client_id.clone(),
                name: self.client.name.clone(),
            },
            user: self.user.map(|u| SimulatedUser {
                user_id: u.user_id.clone(),
                email: u.email.clone(),
            }),
        }
    }

    fn refused(
        &self,
        error: OAuthError,
        trace: Option<Trace>,
        refusal: Option<RefusalTrace>,
    ) -> Simulation {
        Simulation {
            error: Some(SimulatedError {
                error: error.error.as_str().to_string(),
                error_description: error.error_description,
            }),
            trace,
            refusal,
            ..self.base(Outcome::Refused)
        }
    }

    /// The tokens `mint` describes, from the claim builders [`crate::issue::mint`] uses.
    fn issued(&self, mint: &Mint<'_>, refresh_token: bool, consent_required: bool) -> Simulation {
        let decision = &mint.decided.decision;
        let access_token = Some(simulated_access_token(self.state, mint));
        let id_token = match (decision.issue_id_token, mint.user) {
            (true, Some(user)) => Some(simulated_id_token(self.state, mint, user)),
            _ => None,
        };
        Simulation {
            access_token,
            id_token,
            refresh_token,
            scope: Some(decision.scope.to_string()),
            expires_in: Some(decision.expires_in),
            consent_required,
            trace: Some(decision.trace.clone()),
            ..self.base(Outcome::Issued)
        }
    }
}

fn simulated_access_token(state: &AppState, mint: &Mint<'_>) -> SimulatedAccessToken {
    match access_token_claims(state, mint, SIMULATED) {
        Some(jwt) => SimulatedAccessToken {
            format: AccessTokenFormat::Jwt,
            alg: Some(jwt.alg),
            claims: Some(jwt.claims),
            note: None,
        },
        None => SimulatedAccessToken {
            format: AccessTokenFormat::Opaque,
            alg: None,
            claims: None,
            note: Some("opaque, for /userinfo only".into()),
        },
    }
}

/// The ID token beside an access token; `at_hash` would hash the real token.
fn simulated_id_token(state: &AppState, mint: &Mint<'_>, user: &User) -> SimulatedIdToken {
    let mut claims = id_token_claims(state, mint, user, Some(SIMULATED), None).claims;
    if let Some(at_hash) = claims.get_mut("at_hash") {
        *at_hash = Value::String(SIMULATED.into());
    }
    SimulatedIdToken { claims }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_names_parse_as_on_the_wire() {
        assert_eq!(
            parse_grant(None).ok(),
            Some((Flow::AuthorizationCode, AUTHORIZATION_CODE))
        );
        assert_eq!(
            parse_grant(Some("token")).ok(),
            Some((Flow::Implicit, IMPLICIT))
        );
        assert_eq!(
            parse_grant(Some(DEVICE_CODE)).ok(),
            Some((Flow::DeviceCode, DEVICE_CODE))
        );
        assert!(matches!(
            parse_grant(Some("Password")),
            Err(SimulateError::BadGrant(_))
        ));
    }

    #[test]
    fn request_refuses_unknown_fields() {
        let parsed: Result<SimulateRequest, _> =
            serde_json::from_str(r#"{"client_id":"c","bogus":1}"#);
        assert!(parsed.is_err());
    }
}
