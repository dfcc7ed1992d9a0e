//! Token requests parsed once into types (RFC 6749 §4, auth0-compat.md §2).
//!
//! No handler compares `grant_type` strings: [`GrantRequest::parse`] turns the
//! parameters into one variant per grant, with each grant's required
//! parameters checked in one place.

use crate::error::{ErrorCode, OAuthError};
use crate::grant::AudienceParam;
use crate::redact::Secret;
use crate::scope::ScopeSet;

/// `grant_type` of the authorization-code grant.
pub const AUTHORIZATION_CODE: &str = "authorization_code";
/// `grant_type` of the refresh-token grant.
pub const REFRESH_TOKEN: &str = "refresh_token";
/// `grant_type` of the client-credentials grant.
pub const CLIENT_CREDENTIALS: &str = "client_credentials";
/// `grant_type` of the resource-owner password grant.
pub const PASSWORD: &str = "password";
/// Auth0's password grant with a `realm` (connection).
pub const PASSWORD_REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
/// `grant_type` of the device-code grant (RFC 8628).
pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Tokens from `/authorize` (front channel); never a token request.
pub const IMPLICIT: &str = "implicit";

/// Every grant type Gatehouse implements, as a client's `grant_types` names them.
pub const GRANT_TYPES: &[&str] = &[
    AUTHORIZATION_CODE,
    IMPLICIT,
    REFRESH_TOKEN,
    CLIENT_CREDENTIALS,
    PASSWORD,
    PASSWORD_REALM,
    DEVICE_CODE,
];

/// One parsed token request.
#[derive(Debug, Clone, PartialEq)]
pub enum GrantRequest {
    /// Redeems a code from `/authorize`.
    AuthorizationCode {
        /// The authorization code.
        code: Secret<String>,
        /// Must repeat the `redirect_uri` of the authorization request, if it had one.
        redirect_uri: Option<String>,
        /// The PKCE verifier, when the request carried a challenge.
        code_verifier: Option<Secret<String>>,
    },
    /// Exchanges a refresh token for new tokens.
    RefreshToken {
        /// The refresh token.
        refresh_token: Secret<String>,
        /// An optional narrower scope.
        scope: Option<ScopeSet>,
    },
    /// A client acting for itself.
    ClientCredentials {
        /// The API asked for; `None` means the tenant's default audience.
        audience: Option<AudienceParam>,
        /// The scopes asked for; `None` means all the client grant allows.
        scope: Option<ScopeSet>,
    },
    /// A user's email and password, sent by a trusted client.
    Password {
        /// The user's email.
        username: String,
        /// The user's password.
        password: Secret<String>,
        /// The connection for password-realm; `None` means the tenant default.
        realm: Option<String>,
        /// The API asked for; `None` means the tenant's default audience.
        audience: Option<AudienceParam>,
        /// The scopes asked for.
        scope: ScopeSet,
        /// Which of the two grant type names was used.
        grant_type: &'static str,
    },
    /// Polls for the tokens of a device authorization.
    DeviceCode {
        /// The device code the device authorization endpoint issued.
        device_code: Secret<String>,
    },
}

/// Reads `audience`, else RFC 8707 `resource`; both given must agree.
pub fn audience_param(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<AudienceParam>, OAuthError> {
    match (get("audience"), get("resource")) {
        (Some(a), Some(r)) if a != r => Err(OAuthError::invalid_request(
            "audience and resource name different APIs.",
        )),
        (Some(a), _) => Ok(Some(AudienceParam::Audience(a))),
        (None, Some(r)) => Ok(Some(AudienceParam::Resource(r))),
        (None, None) => Ok(None),
    }
}

impl GrantRequest {
    /// Parses the parameters of a token request; `get` returns a parameter's
    /// value, absent when missing or empty.
    pub fn parse(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, OAuthError> {
        let require = |name: &str| {
            get(name).ok_or_else(|| {
                OAuthError::invalid_request(format!("Missing required parameter: {name}"))
            })
        };
        let grant_type = require("grant_type")?;
        let scope = get("scope").map(|s| ScopeSet::parse(&s));
        Ok(match grant_type.as_str() {
            AUTHORIZATION_CODE => Self::AuthorizationCode {
                code: require("code")?.into(),
                redirect_uri: get("redirect_uri"),
                code_verifier: get("code_verifier").map(Secret::new),
            },
            REFRESH_TOKEN => Self::RefreshToken {
                refresh_token: require("refresh_token")?.into(),
                scope,
            },
            CLIENT_CREDENTIALS => Self::ClientCredentials {
                audience: audience_param(get)?,
                scope,
            },
            PASSWORD | PASSWORD_REALM => Self::Password {
                username: require("username")?,
                password: require("password")?.into(),
                realm: if grant_type == PASSWORD_REALM {
                    Some(require("realm")?)
                } else {
                    None
                },
                audience: audience_param(get)?,
                scope: scope.unwrap_or_default(),
                grant_type: if grant_type == PASSWORD_REALM {
                    PASSWORD_REALM
                } else {
                    PASSWORD
                },
            },
            DEVICE_CODE => Self::DeviceCode {
                device_code: require("device_code")?.into(),
            },
            other => {
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    format!("Unsupported grant type: {other}"),
                ))
            }
        })
    }

    /// The grant type as registered in a client's `grant_types`.
    pub fn grant_type(&self) -> &'static str {
        match self {
            Self::AuthorizationCode { .. } => AUTHORIZATION_CODE,
            Self::RefreshToken { .. } => REFRESH_TOKEN,
            Self::ClientCredentials { .. } => CLIENT_CREDENTIALS,
            Self::Password { grant_type, .. } => grant_type,
            Self::DeviceCode { .. } => DEVICE_CODE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<GrantRequest, OAuthError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        GrantRequest::parse(&|k| map.get(k).cloned())
    }

    #[test]
    fn each_grant_checks_its_parameters() {
        assert_eq!(
            parse(&[("grant_type", "authorization_code")])
                .unwrap_err()
                .error_description,
            "Missing required parameter: code"
        );
        assert_eq!(
            parse(&[
                ("grant_type", PASSWORD_REALM),
                ("username", "u"),
                ("password", "p")
            ])
            .unwrap_err()
            .error_description,
            "Missing required parameter: realm"
        );
        let err = parse(&[("grant_type", "magic")]).unwrap_err();
        assert_eq!(err.error, ErrorCode::UnsupportedGrantType);
        assert_eq!(
            parse(&[]).unwrap_err().error_description,
            "Missing required parameter: grant_type"
        );
        let cc = parse(&[
            ("grant_type", "client_credentials"),
            ("resource", "https://api/"),
        ])
        .unwrap();
        assert_eq!(
            cc,
            GrantRequest::ClientCredentials {
                audience: Some(AudienceParam::Resource("https://api/".into())),
                scope: None
            }
        );
        assert!(parse(&[
            ("grant_type", "client_credentials"),
            ("audience", "a"),
            ("resource", "b")
        ])
        .is_err());
    }

    #[test]
    fn secrets_in_a_request_never_print() {
        let requests = [
            parse(&[
                ("grant_type", "authorization_code"),
                ("code", "the-code-value"),
                ("code_verifier", "the-verifier-value"),
            ]),
            parse(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "the-refresh-value"),
            ]),
            parse(&[
                ("grant_type", "password"),
                ("username", "alice@example.com"),
                ("password", "the-password-value"),
            ]),
            parse(&[
                ("grant_type", DEVICE_CODE),
                ("device_code", "the-device-value"),
            ]),
        ];
        for request in requests {
            let shown = format!("{:?}", request.unwrap());
            assert!(!shown.contains("-value"), "{shown}");
            assert!(shown.contains("[redacted]"), "{shown}");
        }
    }
}
