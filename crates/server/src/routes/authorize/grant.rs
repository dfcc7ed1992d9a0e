//! Step 4 of `/authorize`: what the response carries (OAuth 2.0 Multiple
//! Response Types §3–§5; OIDC Core §3.3.2.11 for `c_hash` and `at_hash`).
//!
//! - `code`: an authorization code (single use, 5 minutes), stored hashed
//!   with everything the token endpoint needs to decide again;
//! - `token`: an access token minted now, with the web lifetime;
//! - `id_token`: an ID token with `nonce`, `sid`, `at_hash` beside an access
//!   token and `c_hash` beside a code.

use super::{respond, Ready};
use crate::audit::{self, Event};
use crate::decision::Decided;
use crate::issue::{mint_front_channel, FrontChannelMint, Mint};
use crate::session;
use crate::state::AppState;
use axum::response::Response;
use gatehouse_core::grant::AudienceParam;
use gatehouse_core::ids;
use gatehouse_core::model::{Client, User};
use gatehouse_core::request::IMPLICIT;
use gatehouse_core::secret::hash_token;
use gatehouse_core::OAuthError;
use gatehouse_store::AuthorizationCode;
use serde_json::json;

/// How long an authorization code can be redeemed (RFC 6749 §4.1.2: short).
pub const CODE_LIFETIME: i64 = 300;

/// Who and what the front channel mints for.
pub(crate) struct FrontChannel<'a> {
    pub client: &'a Client,
    pub user: &'a User,
    pub decided: &'a Decided,
    pub nonce: Option<&'a str>,
    pub sid: &'a str,
    /// Set after `prompt=login` or `max_age`.
    pub auth_time: Option<i64>,
    pub now: i64,
}

/// What `/authorize` mints from; shared with [`crate::simulate`].
pub(crate) fn mint_request(f: FrontChannel<'_>) -> Mint<'_> {
    Mint {
        client: f.client,
        user: Some(f.user),
        decided: f.decided,
        grant_type: IMPLICIT,
        nonce: f.nonce,
        sid: Some(f.sid),
        auth_time: f.auth_time,
        refresh_token: None,
        now: f.now,
    }
}

pub async fn issue(state: &AppState, _query: &str, ready: Ready, now: i64) -> Response {
    let Ready {
        req,
        user,
        session,
        decided,
        ..
    } = ready;
    let require_auth_time = req.prompt.login || req.max_age.is_some();
    let mut params: Vec<(&'static str, String)> = Vec::new();
    let mut access_token_jti: Option<String> = None;
    let result: Result<(), String> = async {
        let code = if req.response_type.code {
            let code = ids::random_token(32);
            let (audience, resource) = match &req.audience {
                Some(AudienceParam::Audience(a)) => (Some(a.clone()), None),
                Some(AudienceParam::Resource(r)) => (None, Some(r.clone())),
                None => (None, None),
            };
            let record = AuthorizationCode {
                client_id: req.client.client_id.clone(),
                user_id: user.user_id.clone(),
                redirect_uri: Some(req.target.redirect_uri.clone()),
                code_challenge: req.code_challenge.clone(),
                code_challenge_method: req.code_challenge_method.clone(),
                scope: req.scope.to_string(),
                audience,
                resource,
                nonce: req.nonce.clone(),
                auth_time: session.auth_time,
                sid: Some(session.sid.clone()),
                require_auth_time,
                expires_at: now + CODE_LIFETIME,
                actions: decided.actions.clone(),
            };
            state
                .store()
                .insert_authorization_code(&hash_token(&code), &record)
                .await
                .map_err(|e| format!("store: {e}"))?;
            params.push(("code", code.clone()));
            Some(code)
        } else {
            None
        };
        if req.response_type.token || req.response_type.id_token {
            let minted = mint_front_channel(
                state,
                FrontChannelMint {
                    mint: mint_request(FrontChannel {
                        client: &req.client,
                        user: &user,
                        decided: &decided,
                        nonce: req.nonce.as_deref(),
                        sid: &session.sid,
                        auth_time: require_auth_time.then_some(session.auth_time),
                        now,
                    }),
                    access_token: req.response_type.token,
                    id_token: req.response_type.id_token,
                    code: code.as_deref(),
                },
            )
            .await
            .map_err(|e| format!("{e:?}"))?;
            access_token_jti = minted.access_token_jti;
            if let Some(at) = minted.access_token {
                params.push(("access_token", at));
                params.push(("token_type", "Bearer".into()));
                params.push(("expires_in", decided.decision.expires_in.to_string()));
                params.push(("scope", decided.decision.scope.to_string()));
            }
            if let Some(id) = minted.id_token {
                params.push(("id_token", id));
            }
        }
        session::touch(state, &session, now)
            .await
            .map_err(|e| format!("{e:?}"))?;
        Ok(())
    }
    .await;
    if let Err(cause) = result {
        tracing::error!(%cause, "authorize: issuing failed");
        return respond::error(&req.target, &OAuthError::server_error());
    }
    // Silent authentication is `ssa`; a front-channel token (implicit,
    // hybrid) is logged as a login with its jti so it can be explained.
    let code = if req.prompt.none {
        Some(audit::codes::SILENT_AUTH_OK)
    } else {
        access_token_jti.as_ref().map(|_| audit::codes::LOGIN_OK)
    };
    if let Some(code) = code {
        let scope = decided.decision.scope.to_string();
        audit::record(
            state,
            Event {
                code,
                description: String::new(),
                client_id: Some(&req.client.client_id),
                client_name: Some(&req.client.name),
                user_id: Some(&user.user_id),
                user_name: audit::user_name(&user),
                audience: decided.decision.audience.as_deref(),
                scope: Some(&scope),
                jti: access_token_jti.as_deref(),
                trace: Some(&decided.decision.trace),
                extra: json!({}),
                ..Event::default()
            },
        )
        .await;
    }
    respond::success(&req.target, params)
}
