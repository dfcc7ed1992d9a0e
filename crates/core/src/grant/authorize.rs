//! The rules of an `/authorize` request (RFC 6749 §4.1.1/§4.2.1, OIDC Core
//! §3, OAuth 2.0 Multiple Response Types; auth0-compat.md §1).
//!
//! The parameters as types ([`ResponseType`], [`ResponseMode`], [`Prompt`]),
//! the checks that need no store ([`check_response_type`],
//! [`check_grant_type`], [`check_nonce`], [`check_pkce`], [`check_openid`]),
//! which flow the request is ([`ResponseType::flow`]), and whether an SSO
//! session is fresh enough for `prompt=login` and `max_age`
//! ([`session_is_fresh`]). Every refusal is an [`OAuthError`] to answer
//! through the response mode.

use super::Flow;
use crate::error::{ErrorCode, OAuthError};
use crate::model::Client;
use crate::pkce::{is_valid_verifier, Method};
use crate::request::{AUTHORIZATION_CODE, IMPLICIT};
use crate::scope::ScopeSet;

/// `response_mode` (auth0-compat.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// Parameters in the redirect URI's query.
    Query,
    /// Parameters in the redirect URI's fragment.
    Fragment,
    /// An auto-submitted HTML form posting to the redirect URI.
    FormPost,
    /// Auth0's `postMessage` to the redirect URI's origin (silent authentication).
    WebMessage,
}

impl ResponseMode {
    /// The mode named `s`, if known.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "query" => Self::Query,
            "fragment" => Self::Fragment,
            "form_post" => Self::FormPost,
            "web_message" => Self::WebMessage,
            _ => return None,
        })
    }

    /// The `response_mode` parameter, or `default` without one.
    pub fn from_param(raw: Option<&str>, default: Self) -> Result<Self, OAuthError> {
        match raw {
            None => Ok(default),
            Some(raw) => Self::parse(raw).ok_or_else(|| {
                OAuthError::invalid_request(format!("Unsupported response_mode: {raw}"))
            }),
        }
    }
}

/// `response_type` as an unordered set of words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResponseType {
    /// An authorization code.
    pub code: bool,
    /// An access token from the front channel.
    pub token: bool,
    /// An ID token from the front channel.
    pub id_token: bool,
}

impl ResponseType {
    /// Any non-empty set of `code`, `token`, `id_token`, separated by spaces.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut t = Self::default();
        for word in raw.split(' ').filter(|w| !w.is_empty()) {
            match word {
                "code" => t.code = true,
                "token" => t.token = true,
                "id_token" => t.id_token = true,
                _ => return None,
            }
        }
        (t != Self::default()).then_some(t)
    }

    /// Query for `code` alone, fragment whenever a token travels (Multiple
    /// Response Types §2.1).
    pub fn default_mode(self) -> ResponseMode {
        if self.token || self.id_token {
            ResponseMode::Fragment
        } else {
            ResponseMode::Query
        }
    }

    /// The flow the tokens are decided for: implicit when an access token,
    /// or an ID token without a code, comes from the front channel.
    pub fn flow(self) -> Flow {
        if self.token || (self.id_token && !self.code) {
            Flow::Implicit
        } else {
            Flow::AuthorizationCode
        }
    }
}

/// `prompt` (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prompt {
    /// Never show a page: answer `login_required` or `consent_required` instead.
    pub none: bool,
    /// Ask for the credentials again, even with an SSO session.
    pub login: bool,
    /// Show the consent page even when consent was given before.
    pub consent: bool,
    /// Accepted; Gatehouse has one account per browser.
    pub select_account: bool,
}

impl Prompt {
    /// The `prompt` parameter: words among none, login, consent,
    /// select_account; `none` stands alone.
    pub fn parse(raw: Option<&str>) -> Result<Self, OAuthError> {
        let mut p = Self::default();
        for word in raw.unwrap_or("").split(' ').filter(|w| !w.is_empty()) {
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
}

/// `max_age`: seconds, a non-negative integer.
pub fn parse_max_age(raw: Option<&str>) -> Result<Option<i64>, OAuthError> {
    raw.map(|raw| {
        raw.parse::<u32>()
            .map(i64::from)
            .map_err(|_| OAuthError::invalid_request("max_age must be a non-negative integer."))
    })
    .transpose()
}

/// Whether an SSO session whose user logged in at `auth_time` may answer the
/// request: `prompt=login` needs a login in this round trip, `max_age` one at
/// most that many seconds ago.
pub fn session_is_fresh(
    prompt: Prompt,
    max_age: Option<i64>,
    auth_time: i64,
    logged_in_now: bool,
    now: i64,
) -> bool {
    logged_in_now
        || (!prompt.login && max_age.is_none_or(|max| now.saturating_sub(auth_time) <= max))
}

/// `response_type` must parse; tokens never travel in the query (Multiple
/// Response Types §2.1). `raw` is the parameter as sent, for the message.
pub fn check_response_type(
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
pub fn check_grant_type(client: &Client, t: ResponseType) -> Result<(), OAuthError> {
    if t.code && !client.allows_grant(AUTHORIZATION_CODE) {
        return Err(OAuthError::grant_type_not_allowed(AUTHORIZATION_CODE));
    }
    if (t.token || t.id_token) && !client.allows_grant(IMPLICIT) {
        return Err(OAuthError::grant_type_not_allowed(IMPLICIT));
    }
    Ok(())
}

/// `nonce` is required whenever an ID token comes from the front channel
/// (OIDC Core §3.2.2.1; auth0-compat.md §1).
pub fn check_nonce(nonce: Option<&str>, t: ResponseType) -> Result<(), OAuthError> {
    if t.id_token && nonce.is_none() {
        return Err(OAuthError::invalid_request(
            "Missing required parameter: nonce",
        ));
    }
    Ok(())
}

/// An ID token needs the `openid` scope.
pub fn check_openid(scope: &ScopeSet, t: ResponseType) -> Result<(), OAuthError> {
    if t.id_token && !scope.contains("openid") {
        return Err(OAuthError::invalid_request(
            "The openid scope is required when response_type includes id_token.",
        ));
    }
    Ok(())
}

/// A PKCE challenge accepted at `/authorize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `code_challenge` as sent.
    pub challenge: String,
    /// `code_challenge_method`; `plain` when absent.
    pub method: Method,
}

/// PKCE (RFC 7636 §4.3): `S256`; `plain` (also the default method) only when
/// the client allows it; public clients must send a challenge with `code`.
pub fn check_pkce(
    client: &Client,
    challenge: Option<&str>,
    method: Option<&str>,
    t: ResponseType,
) -> Result<Option<Challenge>, OAuthError> {
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
        return Ok(None);
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
    if !is_valid_verifier(challenge) {
        return Err(OAuthError::invalid_request(
            "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~].",
        ));
    }
    Ok(Some(Challenge {
        challenge: challenge.to_string(),
        method: parsed,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AppType, TokenEndpointAuthMethod};
    use crate::pkce::s256_challenge;

    const NOW: i64 = 1_700_000_000;
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn rt(raw: &str) -> ResponseType {
        ResponseType::parse(raw).unwrap_or_default()
    }

    fn spa() -> Client {
        let mut c = Client::new("spa", "SPA", AppType::Spa);
        c.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
        c
    }

    #[test]
    fn response_type_is_a_set() {
        assert_eq!(rt("id_token token"), rt("token id_token"));
        assert!(rt("code  id_token").id_token);
        assert_eq!(ResponseType::parse(""), None);
        assert_eq!(ResponseType::parse("code foo"), None);
    }

    #[test]
    fn flow_and_default_mode_follow_the_response_type() {
        let cases = [
            ("code", Flow::AuthorizationCode, ResponseMode::Query),
            (
                "code id_token",
                Flow::AuthorizationCode,
                ResponseMode::Fragment,
            ),
            ("code token", Flow::Implicit, ResponseMode::Fragment),
            ("id_token", Flow::Implicit, ResponseMode::Fragment),
            ("token", Flow::Implicit, ResponseMode::Fragment),
        ];
        for (raw, flow, mode) in cases {
            assert_eq!(rt(raw).flow(), flow, "{raw}");
            assert_eq!(rt(raw).default_mode(), mode, "{raw}");
        }
    }

    #[test]
    fn response_mode_and_type() {
        let fragment = ResponseMode::Fragment;
        assert_eq!(ResponseMode::from_param(None, fragment), Ok(fragment));
        assert_eq!(
            ResponseMode::from_param(Some("form_post"), fragment),
            Ok(ResponseMode::FormPost)
        );
        let unknown = ResponseMode::from_param(Some("jwt"), fragment);
        assert_eq!(unknown.map_err(|e| e.error), Err(ErrorCode::InvalidRequest));
        let unsupported = check_response_type(None, "foo", ResponseMode::Query);
        assert_eq!(
            unsupported.map_err(|e| e.error),
            Err(ErrorCode::UnsupportedResponseType)
        );
        let in_query = check_response_type(Some(rt("token")), "token", ResponseMode::Query);
        assert_eq!(
            in_query.map_err(|e| e.error),
            Err(ErrorCode::InvalidRequest)
        );
        assert!(check_response_type(Some(rt("code")), "code", ResponseMode::Query).is_ok());
    }

    #[test]
    fn prompt_and_max_age() {
        assert!(Prompt::parse(Some("login consent")).is_ok_and(|p| p.login && p.consent));
        assert!(Prompt::parse(None).is_ok_and(|p| p == Prompt::default()));
        assert!(Prompt::parse(Some("none login")).is_err());
        assert!(Prompt::parse(Some("sometimes")).is_err());
        assert_eq!(parse_max_age(None), Ok(None));
        assert_eq!(parse_max_age(Some("0")), Ok(Some(0)));
        assert!(parse_max_age(Some("-1")).is_err());
        assert!(parse_max_age(Some("soon")).is_err());
    }

    #[test]
    fn session_freshness() {
        let login = Prompt {
            login: true,
            ..Prompt::default()
        };
        let none = Prompt::default();
        // (prompt, max_age, logged in seconds ago, logged in this round trip, fresh)
        let cases = [
            (none, None, 86_400, false, true),
            (login, None, 0, false, false),
            (login, None, 0, true, true),
            (none, Some(60), 60, false, true),
            (none, Some(60), 61, false, false),
            (none, Some(0), 1, true, true),
        ];
        for (i, (prompt, max_age, ago, now_login, fresh)) in cases.into_iter().enumerate() {
            assert_eq!(
                session_is_fresh(prompt, max_age, NOW - ago, now_login, NOW),
                fresh,
                "case {i}"
            );
        }
    }

    #[test]
    fn grant_type_nonce_and_openid() {
        let mut client = spa();
        client.grant_types = vec![AUTHORIZATION_CODE.into()];
        assert!(check_grant_type(&client, rt("code")).is_ok());
        let implicit = check_grant_type(&client, rt("id_token"));
        assert_eq!(
            implicit.map_err(|e| e.error),
            Err(ErrorCode::UnauthorizedClient)
        );
        assert!(check_nonce(None, rt("code")).is_ok());
        assert!(check_nonce(None, rt("code id_token")).is_err());
        assert!(check_nonce(Some("n"), rt("id_token")).is_ok());
        let scope = ScopeSet::parse("profile");
        assert!(check_openid(&scope, rt("code")).is_ok());
        assert!(check_openid(&scope, rt("id_token")).is_err());
    }

    #[test]
    fn pkce_at_authorize() {
        let s256 = s256_challenge(VERIFIER);
        let code = rt("code");
        let refused = |challenge: Option<&str>, method: Option<&str>, client: &Client| {
            check_pkce(client, challenge, method, code)
                .expect_err("refused")
                .error_description
        };
        let spa = spa();
        assert_eq!(
            refused(None, None, &spa),
            "Missing required parameter: code_challenge (public clients must use PKCE)"
        );
        assert_eq!(
            refused(None, Some("S256"), &spa),
            "Missing required parameter: code_challenge"
        );
        assert_eq!(
            refused(Some(VERIFIER), Some("plain"), &spa),
            "The plain code_challenge_method is not allowed for this client. Use S256."
        );
        assert_eq!(
            refused(Some(VERIFIER), None, &spa),
            "The plain code_challenge_method is not allowed for this client. Use S256."
        );
        assert_eq!(
            refused(Some(&s256), Some("S512"), &spa),
            "Unsupported code_challenge_method: S512. Use S256."
        );
        assert_eq!(
            refused(Some("short"), Some("S256"), &spa),
            "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]."
        );
        let accepted = check_pkce(&spa, Some(&s256), Some("S256"), code);
        assert_eq!(
            accepted,
            Ok(Some(Challenge {
                challenge: s256.clone(),
                method: Method::S256
            }))
        );
        let mut plain_ok = spa.clone();
        plain_ok.allow_plain_pkce = true;
        let plain = check_pkce(&plain_ok, Some(VERIFIER), None, code);
        assert!(plain.is_ok_and(|c| c.is_some_and(|c| c.method == Method::Plain)));
        let mut web = Client::new("web", "Web", AppType::RegularWeb);
        web.token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretPost;
        assert_eq!(check_pkce(&web, None, None, code), Ok(None));
        assert_eq!(check_pkce(&spa, None, None, rt("id_token")), Ok(None));
    }
}
