//! Request parameters from `application/x-www-form-urlencoded` or JSON bodies.
//!
//! Rules (RFC 6749 §3.1–3.2, auth0-compat.md §2):
//! - both encodings are accepted (auth0-python sends JSON, auth0-spa-js forms);
//! - unknown parameters are kept but never required, so they are ignored;
//! - a parameter sent without a value, or as JSON `null`, is absent
//!   (auth0-python sends `"organization": null`);
//! - a parameter sent twice, a non-string JSON value, a malformed or oversized
//!   body is `invalid_request` in the OAuth shape, never axum's plain text.

use crate::client_ip::TrustedProxies;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use gatehouse_core::OAuthError;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};

use crate::error::ApiError;

/// Largest accepted body; a token request is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The parameters of one request.
#[derive(Debug, Default, Clone)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Every parameter, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The value of `name`, if present and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The value of `name`, or `invalid_request` naming it.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| {
            OAuthError::invalid_request(format!("Missing required parameter: {name}"))
        })
    }

    /// Parses a form-encoded string (also used for query strings).
    pub fn from_form(bytes: &[u8]) -> Result<Self, OAuthError> {
        let (mut map, mut seen) = (HashMap::new(), HashSet::new());
        for (key, value) in form_urlencoded::parse(bytes) {
            insert_once(
                &mut map,
                &mut seen,
                key.into_owned(),
                Some(value.into_owned()),
            )?;
        }
        Ok(Self(map))
    }

    /// Parses a JSON object body; a key given twice is refused like a form
    /// parameter given twice (a JSON map would silently keep the last).
    pub fn from_json(bytes: &[u8]) -> Result<Self, OAuthError> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|_| OAuthError::invalid_request("The request body is not valid JSON."))?;
        if !value.is_object() {
            return Err(OAuthError::invalid_request(
                "The request body must be a JSON object.",
            ));
        }
        let JsonMembers(members) = serde_json::from_slice(bytes)
            .map_err(|_| OAuthError::invalid_request("The request body is not valid JSON."))?;
        let (mut map, mut seen) = (HashMap::new(), HashSet::new());
        for (key, value) in members {
            let value = match value {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s),
                _ => {
                    return Err(OAuthError::invalid_request(format!(
                        "Parameter {key} must be a string."
                    )))
                }
            };
            insert_once(&mut map, &mut seen, key, value)?;
        }
        Ok(Self(map))
    }

    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

/// The members of a JSON object in order, duplicates included.
struct JsonMembers(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for JsonMembers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = JsonMembers;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<JsonMembers, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = access.next_entry()? {
                    members.push(member);
                }
                Ok(JsonMembers(members))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

/// Adds one parameter; `seen` also remembers the empty ones, so that
/// `a=&a=x` is a duplicate too.
fn insert_once(
    map: &mut HashMap<String, String>,
    seen: &mut HashSet<String>,
    key: String,
    value: Option<String>,
) -> Result<(), OAuthError> {
    if !seen.insert(key.clone()) {
        return Err(OAuthError::invalid_request(format!(
            "Parameter {key} must not be included more than once."
        )));
    }
    if key.contains('\0') || value.as_deref().is_some_and(|v| v.contains('\0')) {
        return Err(OAuthError::invalid_request(crate::error::NUL_MESSAGE));
    }
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        map.insert(key, value);
    }
    Ok(())
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| OAuthError::invalid_request("The request body is too large."))?;
        let params = if content_type.starts_with("application/json") {
            Params::from_json(&bytes)?
        } else if content_type.starts_with("application/x-www-form-urlencoded")
            || (content_type.is_empty() && bytes.is_empty())
        {
            Params::from_form(&bytes)?
        } else {
            return Err(OAuthError::invalid_request(
                "Content-Type must be application/x-www-form-urlencoded or application/json.",
            )
            .into());
        };
        Ok(params)
    }
}

/// The client's IP address when the server was started with connection info
/// (always, through [`crate::serve`]): the peer, or the address a trusted
/// proxy forwarded ([`crate::client_ip`]).
#[derive(Debug, Clone, Copy)]
pub struct PeerIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let proxies = parts.extensions.get::<TrustedProxies>();
        Ok(Self(match (peer, proxies) {
            (Some(peer), Some(proxies)) => Some(proxies.client_ip(peer, &parts.headers)),
            (peer, _) => peer.map(|ip| ip.to_canonical()),
        }))
    }
}

/// The key under which an IP is counted by rate limits and brute-force
/// protection: an IPv4 address (also written IPv4-mapped in IPv6) as itself,
/// any other IPv6 address by its /64, which one host usually holds whole
/// (counting its addresses one by one would let it rotate past every limit).
pub fn counted_ip(ip: Option<IpAddr>) -> String {
    match ip.map(|ip| ip.to_canonical()) {
        None => "unknown".to_string(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let prefix = u128::from(v6) & !(u128::MAX >> 64);
            format!("{}/64", std::net::Ipv6Addr::from(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_counted_by_its_64_and_ipv4_as_itself() {
        let key = |s: &str| counted_ip(Some(s.parse().unwrap()));
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:1:2:3"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_ne!(key("203.0.113.8"), key("203.0.113.7"));
        assert_eq!(counted_ip(None), "unknown");
    }

    #[test]
    fn nul_characters_are_refused() {
        for body in [&b"client_id=%00"[..], b"a%00=1", b"x=ab%00cd"] {
            let e = Params::from_form(body).unwrap_err();
            assert_eq!(e.error_description, crate::error::NUL_MESSAGE);
        }
        assert!(Params::from_json(br#"{"client_id": "a\u0000"}"#).is_err());
    }

    #[test]
    fn empty_and_null_are_absent() {
        let p = Params::from_form(b"a=&b=1").unwrap();
        assert_eq!(p.get("a"), None);
        assert_eq!(p.get("b"), Some("1"));
        let p = Params::from_json(br#"{"organization": null, "x": "y"}"#).unwrap();
        assert_eq!(p.get("organization"), None);
        assert_eq!(p.get("x"), Some("y"));
    }

    #[test]
    fn duplicates_and_wrong_types_are_rejected() {
        assert!(Params::from_form(b"a=1&a=2").is_err());
        assert!(Params::from_form(b"a=&a=2").is_err());
        assert!(Params::from_json(br#"{"a": "1", "a": "1"}"#).is_err());
        assert!(Params::from_json(br#"{"a": null, "a": "2"}"#).is_err());
        assert!(Params::from_json(br#"{"a": 1}"#).is_err());
        assert!(Params::from_json(br#"[1]"#).is_err());
        assert!(Params::from_json(b"{").is_err());
        let err = Params::default().require("code").unwrap_err();
        assert_eq!(err.error_description, "Missing required parameter: code");
    }
}
