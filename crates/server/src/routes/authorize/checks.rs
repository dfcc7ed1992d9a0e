//! The validation of an `/authorize` request as small named steps
//! (auth0-compat.md §1), in the order they run:
//!
//! 1. [`check_client`] and [`check_redirect_uri`]: until both pass, nothing
//!    may redirect, so their failures are error pages ([`Invalid::Page`]).
//! 2. [`check_response_mode`] (an unknown mode is answered in the default
//!    one) and [`check_web_origin`] (a page on failure: without an allowed
//!    origin nothing can be posted); then every other step answers through
//!    the response mode ([`Invalid::Respond`]):
//!    [`check_response_type`], [`check_grant_type`], [`check_nonce`],
//!    [`check_pkce`], [`check_prompt`], [`check_max_age`], [`check_audience`].
//!
//! Unknown parameters are ignored.

use super::respond::{ResponseMode, Target};
use crate::cors::origin_of;
use crate::extract::Params;
use crate::state::AppState;
use gatehouse_core::grant::AudienceParam;
use gatehouse_core::model::Client;
use gatehouse_core::pkce::Method;
use gatehouse_core::request::{audience_param, AUTHORIZATION_CODE};
use gatehouse_core::{ErrorCode, OAuthError, ScopeSet};

/// Why a request was refused, and how to tell.
pub enum Invalid {
    /// Show the error page: the redirect target is not trusted (yet).
    Page(OAuthError),
    /// Answer through the response mode.
    Respond(Box<Target>, OAuthError),
    /// A store failure (logged; rendered as a server error).
    Internal(String),
}

/// `response_type` as an unordered set of words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResponseType {
    pub code: bool,
    pub token: bool,
    pub id_token: bool,
}

impl ResponseType {
    /// Query for `code` alone, fragment whenever a token travels (Multiple
    /// Response Types §2.1).
    fn default_mode(self) -> ResponseMode {
        if self.token || self.id_token {
            ResponseMode::Fragment
        } else {
            ResponseMode::Query
        }
    }
}

/// `prompt` (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
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
    let parsed_type = parse_response_type(raw_type);
    let default_mode = parsed_type.unwrap_or_default().default_mode();
    let (mode, mode_error) = match check_response_mode(&params, default_mode) {
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
    let nonce = check_nonce(&params, response_type).map_err(respond)?;
    let (code_challenge, code_challenge_method) =
        check_pkce(&client, &params, response_type).map_err(respond)?;
    let prompt = check_prompt(&params).map_err(respond)?;
    let max_age = check_max_age(&params).map_err(respond)?;
    let audience = check_audience(state, &params)
        .await
        .map_err(Invalid::Internal)?
        .map_err(respond)?;
    let scope = ScopeSet::parse(params.get("scope").unwrap_or("openid"));
    if response_type.id_token && !scope.contains("openid") {
        return Err(respond(OAuthError::invalid_request(
            "The openid scope is required when response_type includes id_token.",
        )));
    }
    Ok(AuthorizeRequest {
        loopback: is_loopback(&target.redirect_uri),
        client,
        target,
        response_type,
        scope,
        audience,
        nonce,
        code_challenge,
        code_challenge_method,
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
        Err(Invalid::Page(OAuthError::invalid_request(format!(
            "The redirect_uri \"{uri}\" is not in the list of allowed callback URLs of client {}.",
            client.client_id
        ))))
    }
}

fn parse_response_type(raw: &str) -> Option<ResponseType> {
    let mut t = ResponseType::default();
    for word in raw.split(' ').filter(|w| !w.is_empty()) {
        match word {
            "code" => t.code = true,
            "token" => t.token = true,
            "id_token" => t.id_token = true,
            _ => return None,
        }
    }
    (t != ResponseType::default()).then_some(t)
}

/// `response_mode`: query, fragment, form_post or web_message; the default
/// follows `response_type`. An unknown mode is answered in the default mode.
fn check_response_mode(params: &Params, default: ResponseMode) -> Result<ResponseMode, OAuthError> {
    match params.get("response_mode") {
        None => Ok(default),
        Some(raw) => ResponseMode::parse(raw).ok_or_else(|| {
            OAuthError::invalid_request(format!("Unsupported response_mode: {raw}"))
        }),
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
        return Err(Invalid::Page(OAuthError::invalid_request(format!(
            "The origin \"{origin}\" is not in the Allowed Web Origins of client {}; \
             response_mode=web_message cannot answer it.",
            client.client_id
        ))));
    }
    Ok(origin)
}

/// `response_type`: any non-empty set of `code`, `token`, `id_token`; tokens
/// never travel in the query (Multiple Response Types §2.1).
fn check_response_type(
    parsed: Option<ResponseType>,
    raw: &str,
    mode: ResponseMode,
) -> Result<ResponseType, OAuthError> {
    let t = parsed.ok_or_else(|| {
        OAuthError::new(
            ErrorCode::UnsupportedResponseType,
            format!("Unsupported response type: {raw}"),
        )
    })?;
    if mode == ResponseMode::Query && (t.token || t.id_token) {
        return Err(OAuthError::invalid_request(format!(
            "response_mode=query is not allowed with response_type={raw}."
        )));
    }
    Ok(t)
}

/// The client must allow the grant: `authorization_code` for `code`,
/// `implicit` for tokens from the front channel.
fn check_grant_type(client: &Client, t: ResponseType) -> Result<(), OAuthError> {
    if t.code && !client.allows_grant(AUTHORIZATION_CODE) {
        return Err(OAuthError::grant_type_not_allowed(AUTHORIZATION_CODE));
    }
    if (t.token || t.id_token) && !client.allows_grant("implicit") {
        return Err(OAuthError::grant_type_not_allowed("implicit"));
    }
    Ok(())
}

/// `nonce` is required whenever an ID token comes from the front channel
/// (OIDC Core §3.2.2.1; auth0-compat.md §1).
fn check_nonce(params: &Params, t: ResponseType) -> Result<Option<String>, OAuthError> {
    let nonce = params.get("nonce").map(str::to_string);
    if t.id_token && nonce.is_none() {
        return Err(OAuthError::invalid_request(
            "Missing required parameter: nonce",
        ));
    }
    Ok(nonce)
}

/// PKCE (RFC 7636 §4.3): `S256`; `plain` (also the default method) only when
/// the client allows it; public clients must send a challenge with `code`.
fn check_pkce(
    client: &Client,
    params: &Params,
    t: ResponseType,
) -> Result<(Option<String>, Option<String>), OAuthError> {
    let challenge = params.get("code_challenge");
    let method = params.get("code_challenge_method");
    let Some(challenge) = challenge else {
        if method.is_some() {
            return Err(OAuthError::invalid_request(
                "Missing required parameter: code_challenge",
            ));
        }
        if t.code && client.is_public() {
            return Err(OAuthError::invalid_request(
                "Missing required parameter: code_challenge (public clients must use PKCE)",
            ));
        }
        return Ok((None, None));
    };
    let parsed = Method::parse(method.unwrap_or("plain")).ok_or_else(|| {
        OAuthError::invalid_request(format!(
            "Unsupported code_challenge_method: {}. Use S256.",
            method.unwrap_or("")
        ))
    })?;
    if parsed == Method::Plain && !client.allow_plain_pkce {
        return Err(OAuthError::invalid_request(
            "The plain code_challenge_method is not allowed for this client. Use S256.",
        ));
    }
    if !gatehouse_core::pkce::is_valid_verifier(challenge) {
        return Err(OAuthError::invalid_request(
            "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~].",
        ));
    }
    let method = match parsed {
        Method::S256 => "S256",
        Method::Plain => "plain",
    };
    Ok((Some(challenge.to_string()), Some(method.to_string())))
}

/// `prompt`: none, login, consent, select_account; `none` stands alone.
fn check_prompt(params: &Params) -> Result<Prompt, OAuthError> {
    let mut p = Prompt::default();
    let raw = params.get("prompt").unwrap_or("");
    for word in raw.split(' ').filter(|w| !w.is_empty()) {
        match word {
            "none" => p.none = true,
            "login" => p.login = true,
            "consent" => p.consent = true,
            "select_account" => p.select_account = true,
            other => {
                return Err(OAuthError::invalid_request(format!(
                    "Unsupported prompt value: {other}"
                )))
            }
        }
    }
    if p.none && (p.login || p.consent || p.select_account) {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other prompt values.",
        ));
    }
    Ok(p)
}

/// `max_age`: seconds, a non-negative integer.
fn check_max_age(params: &Params) -> Result<Option<i64>, OAuthError> {
    params
        .get("max_age")
        .map(|raw| {
            raw.parse::<u32>()
                .map(i64::from)
                .map_err(|_| OAuthError::invalid_request("max_age must be a non-negative integer."))
        })
        .transpose()
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
    if let Some(aud) = &audience {
        let api = state
            .store()
            .resource_server_by_identifier(aud.value())
            .await
            .map_err(|e| format!("store: {e}"))?;
        if api.is_none() {
            return Ok(Err(OAuthError::service_not_found(aud.value())));
        }
    }
    Ok(Ok(audience))
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
    fn response_type_is_a_set() {
        let a = parse_response_type("id_token token").unwrap();
        assert_eq!(a, parse_response_type("token id_token").unwrap());
        assert!(parse_response_type("code  id_token").unwrap().id_token);
        assert!(parse_response_type("").is_none());
        assert!(parse_response_type("code foo").is_none());
    }

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
