//! The authorization code grant at the token endpoint (RFC 6749 §4.1.3,
//! RFC 7636 §4.6, auth0-compat.md §2 "Grants").
//!
//! A code is exchanged once (the store enforces that), by the client it was
//! issued to, before it expires, with the `redirect_uri` sent to `/authorize`
//! and the PKCE verifier. Public clients must have used PKCE; `plain` only
//! when the client allows it. Every refusal is 403 `invalid_grant`, except a
//! missing verifier (400 `invalid_request`).

use crate::error::messages::INVALID_AUTHORIZATION_CODE;
use crate::error::OAuthError;
use crate::model::Client;
use crate::pkce::{check_code_verifier, Method};

/// What `/authorize` stored with a code, as far as the exchange checks it.
#[derive(Debug, Clone, Copy)]
pub struct IssuedCode<'a> {
    /// The client the code was issued to.
    pub client_id: &'a str,
    /// The `redirect_uri` sent to `/authorize`.
    pub redirect_uri: Option<&'a str>,
    /// The PKCE challenge sent to `/authorize`.
    pub code_challenge: Option<&'a str>,
    /// Its method as sent (`S256` or `plain`); absent means `plain`.
    pub code_challenge_method: Option<&'a str>,
    /// Unix seconds; the code is dead from this second on.
    pub expires_at: i64,
}

/// Whether `client` may exchange `code` now with what the request presents.
pub fn check_code(
    code: &IssuedCode,
    client: &Client,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    now: i64,
) -> Result<(), OAuthError> {
    if code.client_id != client.client_id || code.expires_at <= now {
        return Err(OAuthError::invalid_grant(INVALID_AUTHORIZATION_CODE));
    }
    check_redirect_uri(code.redirect_uri, redirect_uri)?;
    check_pkce(code, client, verifier)
}

/// The same `redirect_uri` as at `/authorize`, if one was sent there.
fn check_redirect_uri(expected: Option<&str>, presented: Option<&str>) -> Result<(), OAuthError> {
    match expected {
        Some(expected) if presented != Some(expected) => Err(OAuthError::invalid_grant(
            "The redirect_uri does not match the one used at /authorize.",
        )),
        _ => Ok(()),
    }
}

/// RFC 7636 §4.6; public clients must have used PKCE, since they have no secret.
fn check_pkce(
    code: &IssuedCode,
    client: &Client,
    verifier: Option<&str>,
) -> Result<(), OAuthError> {
    match code.code_challenge {
        Some(challenge) => {
            let method = code
                .code_challenge_method
                .and_then(Method::parse)
                .unwrap_or(Method::Plain);
            if method == Method::Plain && !client.allow_plain_pkce {
                return Err(OAuthError::invalid_grant(
                    "The plain code_challenge_method is not allowed for this client.",
                ));
            }
            check_code_verifier(challenge, method, verifier)
        }
        None if verifier.is_some() => Err(OAuthError::invalid_grant(
            "A code_verifier was sent but no code_challenge was used at /authorize.",
        )),
        None if client.is_public() => Err(OAuthError::invalid_grant(
            "Public clients must use PKCE (code_challenge at /authorize).",
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::messages::INVALID_CODE_VERIFIER;
    use crate::error::ErrorCode;
    use crate::model::{AppType, TokenEndpointAuthMethod};
    use crate::pkce::s256_challenge;

    const NOW: i64 = 1_700_000_000;
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CALLBACK: &str = "http://localhost:4200/callback";

    fn spa() -> Client {
        let mut c = Client::new("spa", "SPA", AppType::Spa);
        c.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
        c
    }

    fn web() -> Client {
        let mut c = Client::new("web", "Web", AppType::RegularWeb);
        c.token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretPost;
        c
    }

    /// One exchange: the stored code (issued to `spa` with S256 and the
    /// callback, alive for a minute) and the request, then the tweaks.
    struct Exchange {
        challenge: Option<String>,
        method: Option<&'static str>,
        issued_to: &'static str,
        expires_at: i64,
        stored_redirect: Option<&'static str>,
        client: Client,
        redirect_uri: Option<&'static str>,
        verifier: Option<&'static str>,
    }

    impl Exchange {
        fn new() -> Self {
            Self {
                challenge: Some(s256_challenge(VERIFIER)),
                method: Some("S256"),
                issued_to: "spa",
                expires_at: NOW + 60,
                stored_redirect: Some(CALLBACK),
                client: spa(),
                redirect_uri: Some(CALLBACK),
                verifier: Some(VERIFIER),
            }
        }

        fn run(&self) -> Result<(), OAuthError> {
            let code = IssuedCode {
                client_id: self.issued_to,
                redirect_uri: self.stored_redirect,
                code_challenge: self.challenge.as_deref(),
                code_challenge_method: self.method,
                expires_at: self.expires_at,
            };
            check_code(&code, &self.client, self.redirect_uri, self.verifier, NOW)
        }
    }

    type Tweak = fn(&mut Exchange);

    #[test]
    fn refusals() {
        let invalid_code = (ErrorCode::InvalidGrant, INVALID_AUTHORIZATION_CODE);
        let bad_verifier = (ErrorCode::InvalidGrant, INVALID_CODE_VERIFIER);
        let cases: Vec<(&str, Tweak, (ErrorCode, &str))> = vec![
            (
                "redirect_uri mismatch",
                |e| e.redirect_uri = Some("http://localhost:4200/other"),
                (
                    ErrorCode::InvalidGrant,
                    "The redirect_uri does not match the one used at /authorize.",
                ),
            ),
            (
                "redirect_uri missing when one was sent to /authorize",
                |e| e.redirect_uri = None,
                (
                    ErrorCode::InvalidGrant,
                    "The redirect_uri does not match the one used at /authorize.",
                ),
            ),
            (
                "another client's code",
                |e| {
                    e.client = web();
                    e.issued_to = "spa";
                },
                invalid_code,
            ),
            ("expired code", |e| e.expires_at = NOW - 1, invalid_code),
            (
                "code expiring this second",
                |e| e.expires_at = NOW,
                invalid_code,
            ),
            (
                "public client without PKCE",
                |e| {
                    e.challenge = None;
                    e.method = None;
                    e.verifier = None;
                },
                (
                    ErrorCode::InvalidGrant,
                    "Public clients must use PKCE (code_challenge at /authorize).",
                ),
            ),
            (
                "plain refused for a client that does not allow it",
                |e| {
                    e.challenge = Some(VERIFIER.into());
                    e.method = Some("plain");
                },
                (
                    ErrorCode::InvalidGrant,
                    "The plain code_challenge_method is not allowed for this client.",
                ),
            ),
            (
                "no method stored means plain",
                |e| {
                    e.challenge = Some(VERIFIER.into());
                    e.method = None;
                },
                (
                    ErrorCode::InvalidGrant,
                    "The plain code_challenge_method is not allowed for this client.",
                ),
            ),
            (
                "verifier without a challenge",
                |e| {
                    e.client = web();
                    e.issued_to = "web";
                    e.challenge = None;
                    e.method = None;
                },
                (
                    ErrorCode::InvalidGrant,
                    "A code_verifier was sent but no code_challenge was used at /authorize.",
                ),
            ),
            (
                "missing verifier",
                |e| e.verifier = None,
                (
                    ErrorCode::InvalidRequest,
                    "Missing required parameter: code_verifier",
                ),
            ),
            (
                "wrong verifier",
                |e| e.verifier = Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                bad_verifier,
            ),
            (
                "the challenge itself as verifier",
                |e| e.verifier = Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
                bad_verifier,
            ),
            ("short verifier", |e| e.verifier = Some("abc"), bad_verifier),
        ];
        for (name, tweak, (error, description)) in cases {
            let mut exchange = Exchange::new();
            tweak(&mut exchange);
            let refused = exchange.run().expect_err(name);
            assert_eq!(refused.error, error, "{name}");
            assert_eq!(refused.error_description, description, "{name}");
        }
    }

    #[test]
    fn acceptances() {
        let cases: Vec<(&str, Tweak)> = vec![
            ("S256 with the callback", |_| {}),
            ("no redirect_uri at /authorize, none now", |e| {
                e.stored_redirect = None;
                e.redirect_uri = None;
            }),
            ("no redirect_uri at /authorize, any now", |e| {
                e.stored_redirect = None;
            }),
            ("plain for a client that allows it", |e| {
                e.client.allow_plain_pkce = true;
                e.challenge = Some(VERIFIER.into());
                e.method = Some("plain");
            }),
            ("confidential client without PKCE", |e| {
                e.client = web();
                e.issued_to = "web";
                e.challenge = None;
                e.method = None;
                e.verifier = None;
            }),
            ("confidential client with PKCE", |e| {
                e.client = web();
                e.issued_to = "web";
            }),
        ];
        for (name, tweak) in cases {
            let mut exchange = Exchange::new();
            tweak(&mut exchange);
            assert_eq!(exchange.run(), Ok(()), "{name}");
        }
    }
}
