//! The validation of an `/authorize` request as small named steps
//! (auth0-compat.md §1), in the order they run:
//!
//! 1. [`check_client`] and [`check_redirect_uri`]: until both pass, nothing
//!    may redirect, so their failures are error pages ([`Invalid::Page`];
//!    [`Invalid::Refused`] with the rule for a callback URL not allowed).
//! 2. the response mode ([`ResponseMode::from_param`]; an unknown mode is
//!    answered in the default one) and [`check_web_origin`] (a page on
//!    failure: without an allowed origin nothing can be posted); then every
//!    other step answers through
//!    the response mode ([`Invalid::Respond`]): the rules of
//!    [`gatehouse_core::grant::authorize`] (response type, grant type, nonce,
//!    PKCE, prompt, max_age, openid), then [`check_audience`] against the store.
//!
//! Unknown parameters are ignored.

use super::respond::Target;
use crate::cors::origin_of;
use crate::extract::Params;
use crate::state::AppState;
use gatehouse_core::grant::authorize::{
    check_grant_type, check_nonce, check_openid, check_pkce, check_response_type, parse_max_age,
    Prompt, ResponseMode, ResponseType,
};
use gatehouse_core::grant::refusals::{self, OriginCheck};
use gatehouse_core::grant::{AudienceParam, RefusalTrace};
use gatehouse_core::model::Client;
use gatehouse_core::request::audience_param;
use gatehouse_core::{OAuthError, ScopeSet};

/// Why a request was refused, and how to tell.
pub enum Invalid {
    /// Show the error page: the redirect target is not trusted (yet).
    Page(OAuthError),
    /// Show the error page, explained (a callback URL or web origin the
    /// client does not allow).
    Refused(OAuthError, Box<RefusalTrace>),
    /// Answer through the response mode.
    Respond(Box<Target>, OAuthError),
    /// A store failure (logged; rendered as a server error).
    Internal(String),
}

/// A validated `/authorize` request.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub client: Client,
    pub target: Target,
    pub response_type: ResponseType,
    pub scope: ScopeSet,
    pub audience: Option<AudienceParam>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub screen_hint_signup: bool,
    pub login_hint: Option<String>,
    /// The redirect URI is on this machine (localhost or a loopback address).
    pub loopback: bool,
}

/// Runs every step on the raw query string.
pub async fn validate(state: &AppState, query: &str) -> Result<AuthorizeRequest, Invalid> {
    let params = Params::from_form(query.as_bytes()).map_err(Invalid::Page)?;
    let client = check_client(state, &params).await?;
    let redirect_uri = check_redirect_uri(&client, &params)?;
    let raw_type = params.get("response_type").unwrap_or("");
    let parsed_type = ResponseType::parse(raw_type);
    let default_mode = parsed_type.unwrap_or_default().default_mode();
    let (mode, mode_error) =
        match ResponseMode::from_param(params.get("response_mode"), default_mode) {
            Ok(mode) => (mode, None),
            Err(e) => (default_mode, Some(e)),
        };
    let target = Target {
        web_origin: check_web_origin(&client, &redirect_uri, mode)?,
        redirect_uri,
        mode,
        state: params.get("state").map(str::to_string),
    };
    let respond = |err: OAuthError| Invalid::Respond(Box::new(target.clone()), err);
    if let Some(e) = mode_error {
        return Err(respond(e));
    }
    let response_type = check_response_type(parsed_type, raw_type, mode).map_err(respond)?;
    check_grant_type(&client, response_type).map_err(respond)?;
    let nonce = params.get("nonce");
    check_nonce(nonce, response_type).map_err(respond)?;
    let challenge = check_pkce(
        &client,
        params.get("code_challenge"),
        params.get("code_challenge_method"),
        response_type,
    )
    .map_err(respond)?;
    let prompt = Prompt::parse(params.get("prompt")).map_err(respond)?;
    let max_age = parse_max_age(params.get("max_age")).map_err(respond)?;
    let audience = check_audience(state, &params)
        .await
        .map_err(Invalid::Internal)?
        .map_err(respond)?;
    let scope = ScopeSet::parse(params.get("scope").unwrap_or("openid"));
    check_openid(&scope, response_type).map_err(respond)?;
    Ok(AuthorizeRequest {
        loopback: is_loopback(&target.redirect_uri),
        client,
        target,
        response_type,
        scope,
        audience,
        nonce: nonce.map(str::to_string),
        code_challenge: challenge.as_ref().map(|c| c.challenge.clone()),
        code_challenge_method: challenge.map(|c| c.method.as_str().to_string()),
        prompt,
        max_age,
        screen_hint_signup: params.get("screen_hint") == Some("signup"),
        login_hint: params.get("login_hint").map(str::to_string),
    })
}

/// `client_id` must name a registered client.
async fn check_client(state: &AppState, params: &Params) -> Result<Client, Invalid> {
    let client_id = params.require("client_id").map_err(Invalid::Page)?;
    match state.store().client(client_id).await {
        Ok(Some(stored)) => Ok(stored.client),
        Ok(None) => Err(Invalid::Page(OAuthError::invalid_request(format!(
            "Unknown client: {client_id}"
        )))),
        Err(e) => Err(Invalid::Internal(format!("store: {e}"))),
    }
}

/// `redirect_uri` must equal one of the client's `callbacks` exactly, after
/// dropping any `#fragment` (RFC 6749 §3.1.2; auth0-compat.md §1).
fn check_redirect_uri(client: &Client, params: &Params) -> Result<String, Invalid> {
    let raw = params.require("redirect_uri").map_err(Invalid::Page)?;
    let uri = raw.split('#').next().unwrap_or(raw);
    if client.callbacks.iter().any(|c| c == uri) {
        Ok(uri.to_string())
    } else {
        Err(Invalid::Refused(
            OAuthError::invalid_request(format!(
                "The redirect_uri \"{uri}\" is not in the list of allowed callback URLs of client {}.",
                client.client_id
            )),
            Box::new(refusals::redirect_uri_not_allowed(client, uri)),
        ))
    }
}

/// `web_message` posts to the redirect URI's origin, which must be one of the
/// client's allowed web origins (auth0-compat.md §1 "Silent authentication").
fn check_web_origin(
    client: &Client,
    redirect_uri: &str,
    mode: ResponseMode,
) -> Result<String, Invalid> {
    let origin = origin_of(redirect_uri).unwrap_or_default();
    if mode == ResponseMode::WebMessage
        && !client
            .web_origins
            .iter()
            .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(&origin))
    {
        return Err(Invalid::Refused(
            OAuthError::invalid_request(format!(
                "The origin \"{origin}\" is not in the Allowed Web Origins of client {}; \
                 response_mode=web_message cannot answer it.",
                client.client_id
            )),
            Box::new(refusals::origin_not_allowed(
                client,
                &origin,
                OriginCheck::WebMessage,
            )),
        ));
    }
    Ok(origin)
}

/// `audience` (or `resource`) must name an API: otherwise `access_denied`
/// `Service not found: <aud>` (auth0-compat.md §1). The outer `Err` is a
/// store failure.
async fn check_audience(
    state: &AppState,
    params: &Params,
) -> Result<Result<Option<AudienceParam>, OAuthError>, String> {
    let audience = match audience_param(&|name| params.get(name).map(str::to_string)) {
        Ok(a) => a,
        Err(e) => return Ok(Err(e)),
    };
    Ok(check_audience_exists(state, audience.as_ref())
        .await?
        .map(|()| audience))
}

/// `Service not found: <aud>` unless the audience names an API; shared with
/// [`crate::simulate`]. The outer `Err` is a store failure.
pub async fn check_audience_exists(
    state: &AppState,
    audience: Option<&AudienceParam>,
) -> Result<Result<(), OAuthError>, String> {
    if let Some(aud) = audience {
        let api = state
            .store()
            .resource_server_by_identifier(aud.value())
            .await
            .map_err(|e| format!("store: {e}"))?;
        if api.is_none() {
            return Ok(Err(OAuthError::service_not_found(aud.value())));
        }
    }
    Ok(Ok(()))
}

/// `localhost`, `*.localhost`, `127.0.0.0/8` or `[::1]`.
pub fn is_loopback(uri: &str) -> bool {
    let Some(origin) = origin_of(uri) else {
        return false;
    };
    let authority = origin.split("://").nth(1).unwrap_or("");
    let host = if authority.starts_with('[') {
        authority
            .split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or("").to_string()
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("http://localhost:4200/callback"));
        assert!(is_loopback("http://127.0.0.1:8080/"));
        assert!(is_loopback("http://[::1]:3000/cb"));
        assert!(is_loopback("http://app.localhost/cb"));
        assert!(!is_loopback("https://app.example.com/cb"));
        assert!(!is_loopback("com.example.app:/cb"));
    }
}
