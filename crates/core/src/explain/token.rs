//! The checks a JWT must pass at this tenant, each said in words: which key
//! signed it, whether it has expired, who issued it, and what kind of token
//! it is (an access token for an API, or an ID token pasted by mistake).

use super::{ago, Check, Mistake, MistakeKind};
use crate::jose::{verify_jwt, verify_jwt_hs256, Header, VerifyingKey};
use crate::time::iso8601;
use serde_json::Value;

/// A signing key this tenant has or had.
#[derive(Debug, Clone)]
pub struct KnownKey {
    /// Its `kid`.
    pub kid: String,
    /// `next`, `current`, `previous` or `revoked`.
    pub state: String,
    /// When it entered that state.
    pub state_changed_at: i64,
    /// The public key, for keys still published.
    pub verifying: Option<VerifyingKey>,
}

/// What the tenant knows about the audience a token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceKind {
    /// An API of this tenant (identifier, name).
    Api {
        /// The API identifier.
        identifier: String,
        /// Its name.
        name: String,
    },
    /// A client of this tenant: the token is an ID token.
    Client {
        /// The `client_id`.
        client_id: String,
        /// Its name.
        name: String,
    },
    /// Nothing this tenant has.
    Unknown,
}

/// The tenant facts a JWT is checked against.
#[derive(Debug, Clone)]
pub struct Tenant<'a> {
    /// This tenant's issuer (`https://host/`).
    pub issuer: &'a str,
    /// Every key the tenant has or had.
    pub keys: &'a [KnownKey],
    /// For an HS256 token: the secret of the API it names, if that API is HS256.
    pub hs256_secret: Option<&'a [u8]>,
    /// What the token's `aud` names.
    pub audience: &'a AudienceKind,
    /// The current time.
    pub now: i64,
}

/// The checks of a JWT, and the mistakes they reveal.
#[derive(Debug, Clone, PartialEq)]
pub struct JwtReport {
    /// Signature, expiry, issuer, audience: each holds or not, with why.
    pub checks: Vec<Check>,
    /// What the person probably pasted by mistake.
    pub mistakes: Vec<Mistake>,
}

/// Checks a JWT (already decoded without trust) against the tenant.
pub fn check_jwt(token: &str, header: &Header, claims: &Value, tenant: &Tenant) -> JwtReport {
    let mut report = JwtReport {
        checks: Vec::new(),
        mistakes: Vec::new(),
    };
    signature(token, header, tenant, &mut report);
    expiry(claims, tenant.now, &mut report);
    issuer(claims, tenant.issuer, &mut report);
    audience(claims, tenant.audience, &mut report);
    report
}

fn signature(token: &str, header: &Header, tenant: &Tenant, report: &mut JwtReport) {
    if header.alg == "HS256" {
        let (holds, detail) = match tenant.hs256_secret {
            Some(secret) => match verify_jwt_hs256(token, secret) {
                Ok(_) => (
                    true,
                    "HS256, verified with the API's signing secret".to_string(),
                ),
                Err(e) => (false, format!("HS256 with the API's signing secret: {e}")),
            },
            None => (
                false,
                "HS256, but the API it names is not an HS256 API of this tenant".to_string(),
            ),
        };
        report.checks.push(check("signature", holds, detail));
        return;
    }
    let kid = header.kid.as_deref().unwrap_or("");
    let known = tenant.keys.iter().find(|k| k.kid == kid);
    let (holds, detail) = match known {
        None => {
            report.mistakes.push(Mistake {
                kind: MistakeKind::UnknownKey,
                message: format!(
                    "The token was signed with key {} ({}), a key this tenant never had: \
                     it was issued by another server or tenant, or forged.",
                    if kid.is_empty() { "without a kid" } else { kid },
                    header.alg
                ),
                fix: Some(format!(
                    "Get the token from this tenant ({}); this tenant's keys are {}.",
                    tenant.issuer,
                    key_list(tenant.keys)
                )),
            });
            (
                false,
                format!("key {kid:?} is not one of this tenant's keys"),
            )
        }
        Some(key) => match &key.verifying {
            None => {
                report.mistakes.push(Mistake {
                    kind: MistakeKind::RevokedKey,
                    message: format!(
                        "The token was signed with key {kid}, which this tenant {} on {}: \
                         no client or API accepts it any more.",
                        if key.state == "revoked" {
                            "revoked"
                        } else {
                            "no longer publishes"
                        },
                        iso8601(key.state_changed_at)
                    ),
                    fix: Some("Get a new token.".into()),
                });
                (false, format!("key {kid} is {}", key.state))
            }
            Some(verifying) => match verify_jwt(token, verifying, &[header.alg.as_str()]) {
                Ok(_) => (
                    true,
                    format!("{} with key {kid} ({})", header.alg, key.state),
                ),
                Err(e) => {
                    report.mistakes.push(Mistake {
                        kind: MistakeKind::BadSignature,
                        message: format!(
                            "The signature does not verify with key {kid} ({e}): the token \
                             was changed after it was issued, or copied incompletely."
                        ),
                        fix: Some("Copy the whole token again, as the client received it.".into()),
                    });
                    (false, format!("{} with key {kid}: {e}", header.alg))
                }
            },
        },
    };
    report.checks.push(check("signature", holds, detail));
}

fn expiry(claims: &Value, now: i64, report: &mut JwtReport) {
    let Some(exp) = claims.get("exp").and_then(Value::as_i64) else {
        report
            .checks
            .push(check("expiry", false, "the token has no exp claim".into()));
        return;
    };
    if exp > now {
        let detail = format!(
            "valid until {} (in {})",
            iso8601(exp),
            ago(exp.saturating_sub(now))
        );
        report.checks.push(check("expiry", true, detail));
        return;
    }
    report.mistakes.push(Mistake {
        kind: MistakeKind::Expired,
        message: format!(
            "The token expired {} ago, at {}; APIs reject it.",
            ago(now.saturating_sub(exp)),
            iso8601(exp)
        ),
        fix: Some(
            "Get a fresh token: the SDK does it with getTokenSilently / a refresh token; \
             the explanation below is of the token as it was issued."
                .into(),
        ),
    });
    let detail = format!(
        "expired {} ago, at {}",
        ago(now.saturating_sub(exp)),
        iso8601(exp)
    );
    report.checks.push(check("expiry", false, detail));
}

fn issuer(claims: &Value, expected: &str, report: &mut JwtReport) {
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if iss == expected {
        report.checks.push(check(
            "issuer",
            true,
            format!("issued by this tenant, {iss}"),
        ));
        return;
    }
    let hint = if iss.trim_end_matches('/') == expected.trim_end_matches('/') {
        " The two differ only in the trailing slash, which SDKs compare exactly."
    } else {
        ""
    };
    report.mistakes.push(Mistake {
        kind: MistakeKind::OtherIssuer,
        message: format!(
            "The token was issued by {}, not by this tenant ({expected}).{hint}",
            if iss.is_empty() {
                "nobody (no iss claim)"
            } else {
                iss
            }
        ),
        fix: Some(format!(
            "Explain it against the server that issued it, or point the client's domain at \
             {expected}."
        )),
    });
    report.checks.push(check(
        "issuer",
        false,
        format!("iss is {iss:?}, this tenant is {expected:?}"),
    ));
}

fn audience(claims: &Value, kind: &AudienceKind, report: &mut JwtReport) {
    let (holds, detail) = match kind {
        AudienceKind::Api { identifier, name } => (true, format!("for API {name} ({identifier})")),
        AudienceKind::Client { client_id, name } => {
            report.mistakes.push(Mistake {
                kind: MistakeKind::IdToken,
                message: format!(
                    "This is an ID token, not an access token: its aud is the client_id of \
                     {name} ({client_id}). An ID token tells the application who logged in; \
                     an API must reject it."
                ),
                fix: Some(
                    "Send the access token to your API (auth0-spa-js: getTokenSilently(); \
                     the token response's access_token), and ask for it with audience set \
                     to your API's identifier."
                        .into(),
                ),
            });
            (false, format!("aud is the client {client_id}: an ID token"))
        }
        AudienceKind::Unknown => (
            false,
            format!(
                "aud {} names no API or client of this tenant",
                claims.get("aud").map(Value::to_string).unwrap_or_default()
            ),
        ),
    };
    report.checks.push(check("audience", holds, detail));
}

fn check(name: &str, holds: bool, detail: String) -> Check {
    Check {
        name: name.into(),
        holds,
        detail,
    }
}

fn key_list(keys: &[KnownKey]) -> String {
    let published: Vec<String> = keys
        .iter()
        .filter(|k| k.verifying.is_some())
        .map(|k| format!("{} ({})", k.kid, k.state))
        .collect();
    if published.is_empty() {
        "none yet".into()
    } else {
        published.join(", ")
    }
}

/// The `aud` values of a token: a string or an array of strings.
pub fn audiences(claims: &Value) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}
