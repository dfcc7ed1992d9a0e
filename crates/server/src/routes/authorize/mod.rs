//! `GET /authorize` (RFC 6749 §4.1.1/§4.2.1, OIDC Core §3; auth0-compat.md §1).
//!
//! One pipeline, [`run`], serves the first visit and every return from a page:
//! 1. [`checks::validate`]: the request as small named steps; a bad client or
//!    redirect URI is an error page, every other error goes back through the
//!    response mode.
//! 2. Login: the SSO session must exist, and be fresh enough for `prompt=login`
//!    and `max_age`; otherwise the login (or, with `screen_hint=signup`, the
//!    signup) page, or `login_required` for `prompt=none`.
//! 3. The grant decision ([`crate::decision::decide`]) with the consent facts;
//!    a required consent shows the consent page, or `consent_required` for
//!    `prompt=none`.
//! 4. [`grant`]: the code and/or tokens, sent through the response mode
//!    ([`respond`]).
//!
//! Every refusal is logged (`fsa` for `prompt=none`, else `f`) with the
//! error's description and, when there is one, the trace and the rule.
//!
//! The login, signup and consent pages call [`run`] again with what the person
//! just did ([`Interaction`]), so their answers never travel in URLs.

pub mod checks;
pub(crate) mod grant;
pub mod respond;

use crate::actions::{self, FlowError, Mode, PostLogin, RequestFacts};
use crate::audit::{self, Event};
use crate::decision::{decide, Decided, DecisionFailure, DecisionRequest};
use crate::extract::Params;
use crate::pages::paths::{CONSENT_PATH, LOGIN_PATH, SIGNUP_PATH};
use crate::pages::PageError;
use crate::session;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use checks::{AuthorizeRequest, Invalid};
use gatehouse_core::claims::userinfo_audience;
use gatehouse_core::grant::authorize::session_is_fresh;
use gatehouse_core::grant::{
    check_not_blocked, AudienceParam, ConsentFacts, Flow, Refusal, RefusalTrace, Trace,
};
use gatehouse_core::model::{Client, User};
use gatehouse_core::{ErrorCode, OAuthError, ScopeSet};
use gatehouse_store::SsoSession;
use serde_json::json;

/// The person's answer on the consent page, if they were just there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentAnswer {
    /// Not asked in this round trip.
    Unasked,
    /// The consent page is being rendered: stop before issuing.
    Showing,
    Granted,
    Denied,
}

/// What the browser brings: its session, and what the person just did.
pub struct Interaction {
    pub session: Option<SsoSession>,
    /// The person entered their credentials in this round trip (satisfies
    /// `prompt=login` and `max_age`).
    pub fresh_login: bool,
    pub consent: ConsentAnswer,
}

/// `GET /authorize`.
pub async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let now = state.now();
    let session = match session::current(&state, &headers, now).await {
        Ok(s) => s,
        Err(e) => return PageError::from(e).into_response(),
    };
    let ix = Interaction {
        session,
        fresh_login: false,
        consent: ConsentAnswer::Unasked,
    };
    run(&state, query.as_deref().unwrap_or(""), ix, now).await
}

/// A request that passed login and the decision.
pub struct Ready {
    pub req: AuthorizeRequest,
    pub user: User,
    pub session: SsoSession,
    pub decided: Decided,
    pub flow: Flow,
}

/// The whole pipeline: a response to send.
pub async fn run(state: &AppState, query: &str, ix: Interaction, now: i64) -> Response {
    match prepare(state, query, ix, now).await {
        Ok(ready) => grant::issue(state, query, ready, now).await,
        Err(response) => response,
    }
}

/// Step 1 alone: the request is valid (known client, registered
/// `redirect_uri`, …). `Err` is the response to send instead, as `/authorize`
/// would: an error page, or the error through the response mode; a refusal
/// is logged.
pub async fn check_request(state: &AppState, query: &str) -> Result<AuthorizeRequest, Response> {
    let refused = match checks::validate(state, query).await {
        Ok(req) => return Ok(req),
        Err(Invalid::Internal(cause)) => return Err(PageError::internal(cause).into_response()),
        Err(refused) => refused,
    };
    Err(match refused {
        Invalid::Page(e) => {
            log_refusal(state, query, Refused::early(&e, None)).await;
            PageError::oauth(e).into_response()
        }
        Invalid::Refused(e, refusal) => {
            log_refusal(state, query, Refused::early(&e, Some(&refusal))).await;
            PageError::oauth(e).into_response()
        }
        Invalid::Respond(target, e) => {
            log_refusal(state, query, Refused::early(&e, None)).await;
            respond::error(&target, &e)
        }
        Invalid::Internal(cause) => PageError::internal(cause).into_response(),
    })
}

/// What a refused `/authorize` request's event names.
struct Refused<'a> {
    client: Option<&'a Client>,
    error: &'a OAuthError,
    trace: Option<&'a Trace>,
    refusal: Option<&'a RefusalTrace>,
}

impl<'a> Refused<'a> {
    /// A refusal of step 1, before the client is known for sure.
    fn early(error: &'a OAuthError, refusal: Option<&'a RefusalTrace>) -> Self {
        Self {
            client: None,
            error,
            trace: None,
            refusal,
        }
    }
}

/// Logs a refused `/authorize` request: `fsa` for `prompt=none`, else `f`,
/// described by the error.
async fn log_refusal(state: &AppState, query: &str, refused: Refused<'_>) {
    let params = Params::from_form(query.as_bytes()).unwrap_or_default();
    let code = if params.get("prompt") == Some("none") {
        audit::codes::SILENT_AUTH_FAILED
    } else {
        audit::codes::LOGIN_FAILED
    };
    let client_id = refused
        .client
        .map(|c| c.client_id.as_str())
        .or(params.get("client_id"));
    audit::record(
        state,
        Event {
            code,
            description: refused.error.error_description.clone(),
            client_id,
            client_name: refused.client.map(|c| c.name.as_str()),
            audience: params.get("audience").or(params.get("resource")),
            scope: params.get("scope"),
            trace: refused.trace,
            refusal: refused.refusal,
            extra: json!({
                "error": {
                    "oauthError": refused.error.error.as_str(),
                    "message": refused.error.error_description,
                },
                "redirect_uri": params.get("redirect_uri"),
            }),
            ..Event::default()
        },
    )
    .await;
}

/// Why steps 2–3 stopped: a refusal answered through the response mode (and
/// logged), or a response to send as it is (a page to show first, a server
/// error).
enum Stop {
    Refuse(OAuthError, Option<Box<Refusal>>),
    Send(Response),
}

impl From<Response> for Stop {
    fn from(response: Response) -> Self {
        Self::Send(response)
    }
}

/// Steps 1–3: validation, login, decision and consent. `Err` is the response
/// to send instead (an error, or a page to show first).
pub async fn prepare(
    state: &AppState,
    query: &str,
    ix: Interaction,
    now: i64,
) -> Result<Ready, Response> {
    let req = check_request(state, query).await?;
    let target = req.target.clone();
    let client = req.client.clone();
    match prepare_checked(state, query, req, ix, now).await {
        Ok(ready) => Ok(ready),
        Err(Stop::Send(response)) => Err(response),
        Err(Stop::Refuse(error, decision)) => {
            let refused = Refused {
                client: Some(&client),
                error: &error,
                trace: decision.as_ref().map(|r| &*r.trace),
                refusal: decision.as_ref().and_then(|r| r.refusal.as_deref()),
            };
            log_refusal(state, query, refused).await;
            Err(respond::error(&target, &error))
        }
    }
}

async fn prepare_checked(
    state: &AppState,
    query: &str,
    req: AuthorizeRequest,
    ix: Interaction,
    now: i64,
) -> Result<Ready, Stop> {
    let fail = |e: OAuthError| Stop::Refuse(e, None);
    let internal = |cause: String| {
        tracing::error!(%cause, "authorize failed");
        Stop::Send(respond::error(&req.target, &OAuthError::server_error()))
    };
    let refused = |failure: DecisionFailure| match failure {
        DecisionFailure::Refused(r) => Stop::Refuse(r.error.clone(), Some(Box::new(r))),
        DecisionFailure::Explained(e) => Stop::Refuse(e.error, None),
        DecisionFailure::Internal(e) => internal(format!("{e:?}")),
    };

    // Step 2: who is logged in, and is that fresh enough?
    let (session, user) = match logged_in(state, &req, ix.session, ix.fresh_login, now).await {
        Ok(Some(found)) => found,
        Ok(None) if req.prompt.none => {
            return Err(fail(OAuthError::new(
                ErrorCode::LoginRequired,
                "Login required",
            )))
        }
        Ok(None) => {
            // With signup disabled the hint falls back to the login page.
            let signup_open = || async {
                crate::routes::management::connections::database_options(state)
                    .await
                    .is_ok_and(|o| !o.disable_signup)
            };
            let page = if req.screen_hint_signup && signup_open().await {
                SIGNUP_PATH
            } else {
                LOGIN_PATH
            };
            return Err(respond::redirect(&format!("{page}?{query}")).into());
        }
        Err(cause) => return Err(internal(cause)),
    };
    check_not_blocked(&user, ErrorCode::AccessDenied).map_err(fail)?;

    // Step 3: the decision, then consent.
    let flow = req.response_type.flow();
    let facts = AuthorizeFacts {
        client: &req.client,
        user: &user,
        flow,
        audience: req.audience.clone(),
        scope: &req.scope,
        prompt_consent: req.prompt.consent,
        loopback: req.loopback,
    };
    let (mut decided, consent_key) = decide_at_authorize(state, &facts).await.map_err(refused)?;
    if decided.decision.consent_required {
        match ix.consent {
            ConsentAnswer::Granted => {
                state
                    .store()
                    .put_consent(
                        &user.user_id,
                        &req.client.client_id,
                        &consent_key,
                        &decided.decision.scope.to_string(),
                        now,
                    )
                    .await
                    .map_err(|e| internal(format!("store: {e}")))?;
            }
            ConsentAnswer::Denied => {
                return Err(fail(OAuthError::access_denied(
                    "User did not authorize the request",
                )))
            }
            ConsentAnswer::Showing => {}
            ConsentAnswer::Unasked if req.prompt.none => {
                return Err(fail(OAuthError::new(
                    ErrorCode::ConsentRequired,
                    "Consent required",
                )))
            }
            ConsentAnswer::Unasked => {
                return Err(respond::redirect(&format!("{CONSENT_PATH}?{query}")).into())
            }
        }
    }
    // Step 3b: the post-login Actions, once nothing is left to ask.
    if ix.consent != ConsentAnswer::Showing {
        let params = Params::from_form(query.as_bytes()).unwrap_or_default();
        let request = RequestFacts::get(&params);
        let login = PostLogin {
            client: &req.client,
            user: &user,
            decided: &decided,
            requested: &req.scope,
            protocol: protocol_of(&req),
            request: &request,
            session_id: Some(&session.sid),
            auth_time: Some(session.auth_time),
            mode: Mode::Issue,
        };
        match actions::post_login(state, login).await {
            Ok(effects) => decided.apply_actions(effects),
            Err(FlowError::Internal(e)) => return Err(internal(format!("{e:?}"))),
            Err(refused) => {
                let mut refusal = Refusal::new(refused.oauth_error(), decided.decision.trace);
                refusal.refusal = refused.refusal().map(Box::new);
                return Err(Stop::Refuse(refusal.error.clone(), Some(Box::new(refusal))));
            }
        }
    }
    Ok(Ready {
        req,
        user,
        session,
        decided,
        flow,
    })
}

/// Auth0's `event.transaction.protocol` of an `/authorize` request.
fn protocol_of(req: &AuthorizeRequest) -> &'static str {
    let rt = &req.response_type;
    match (rt.code, rt.token || rt.id_token) {
        (true, true) => actions::protocol::HYBRID,
        (true, false) => actions::protocol::CODE,
        _ => actions::protocol::IMPLICIT,
    }
}

/// The session's user when the session is fresh enough ([`session_is_fresh`]).
async fn logged_in(
    state: &AppState,
    req: &AuthorizeRequest,
    session: Option<SsoSession>,
    fresh_login: bool,
    now: i64,
) -> Result<Option<(SsoSession, User)>, String> {
    let Some(session) = session else {
        return Ok(None);
    };
    if !session_is_fresh(req.prompt, req.max_age, session.auth_time, fresh_login, now) {
        return Ok(None);
    }
    let user = state
        .store()
        .user(&session.user_id)
        .await
        .map_err(|e| format!("store: {e}"))?;
    Ok(user.map(|u| (session, u.user)))
}

/// What the decision at `/authorize` needs from the request.
pub struct AuthorizeFacts<'a> {
    pub client: &'a Client,
    pub user: &'a User,
    pub flow: Flow,
    pub audience: Option<AudienceParam>,
    pub scope: &'a ScopeSet,
    /// `prompt=consent` was sent.
    pub prompt_consent: bool,
    /// The redirect URI is a loopback address.
    pub loopback: bool,
}

/// The decision at `/authorize`, with consent: a first pass with no consent,
/// then, when consent is needed and not forced, a second pass with what the
/// user consented to before. Returns the decision and the consent's storage
/// key. Reads only; shared with [`crate::simulate`].
pub async fn decide_at_authorize(
    state: &AppState,
    f: &AuthorizeFacts<'_>,
) -> Result<(Decided, String), DecisionFailure> {
    let mut decided = decide_with_consent(state, f, None).await?;
    let consent_key = consent_audience(state, &decided);
    if decided.decision.consent_required && !f.prompt_consent {
        let stored = state
            .store()
            .consent(&f.user.user_id, &f.client.client_id, &consent_key)
            .await?;
        if let Some(stored) = stored {
            let consented = ScopeSet::parse(&stored);
            decided = decide_with_consent(state, f, Some(&consented)).await?;
        }
    }
    Ok((decided, consent_key))
}

async fn decide_with_consent(
    state: &AppState,
    f: &AuthorizeFacts<'_>,
    consented: Option<&ScopeSet>,
) -> Result<Decided, DecisionFailure> {
    decide(
        state,
        DecisionRequest {
            flow: f.flow,
            client: f.client,
            user: Some(f.user),
            audience: f.audience.clone(),
            requested_scopes: f.scope,
            consent: Some(ConsentFacts {
                consented,
                prompt_consent: f.prompt_consent,
                loopback_redirect: f.loopback,
            }),
        },
    )
    .await
}

/// Consents are stored per API; with no API, under the userinfo audience.
fn consent_audience(state: &AppState, decided: &Decided) -> String {
    decided
        .decision
        .audience
        .clone()
        .unwrap_or_else(|| userinfo_audience(state.issuer()))
}
