//! Property tests (a bounded fuzz that runs in `cargo test`): the token
//! request parser and JWT decoding/verification never panic on arbitrary
//! input and answer with a proper error, and no mutation of a valid token
//! still verifies unless it decodes to the very same header and claims; the
//! log search `q` parses or fails with a message.
//!
//! `PROPTEST_CASES` overrides the 256 cases per property.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gatehouse_core::error::ErrorCode;
use gatehouse_core::jose::{
    decode_unverified, sign_jwt, sign_jwt_hs256, verify_jwt, verify_jwt_hs256, KeyPair,
};
use gatehouse_core::model::SigningAlg;
use gatehouse_core::request::GrantRequest;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The parameter names the parser reads, so generated maps hit every branch.
const NAMES: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "audience",
    "resource",
    "username",
    "password",
    "realm",
    "device_code",
    "client_id",
];

const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
    "http://auth0.com/oauth/grant-type/password-realm",
    "urn:ietf:params:oauth:grant-type:device_code",
];

/// A value: a known grant type, or any string (control characters, other
/// scripts, empty).
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(GRANT_TYPES).prop_map(str::to_string),
        any::<String>(),
        "[ -~]{0,40}",
    ]
}

fn params() -> impl Strategy<Value = HashMap<String, String>> {
    proptest::collection::hash_map(
        prop_oneof![
            4 => proptest::sample::select(NAMES).prop_map(str::to_string),
            1 => any::<String>(),
        ],
        value(),
        0..8,
    )
}

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// One RS256 and one ES256 key for the whole binary (RSA generation is slow).
fn keys() -> &'static [KeyPair] {
    static KEYS: OnceLock<Vec<KeyPair>> = OnceLock::new();
    KEYS.get_or_init(|| {
        vec![
            KeyPair::generate(SigningAlg::RS256).unwrap(),
            KeyPair::generate(SigningAlg::ES256).unwrap(),
        ]
    })
}

fn claims() -> Value {
    json!({"iss": "https://issuer.example/", "sub": "auth0|1", "exp": 4_000_000_000_i64, "scope": "openid"})
}

/// A token with one byte replaced, inserted or removed.
fn mutate(token: &str, position: usize, byte: u8, kind: u8) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let at = position % (bytes.len() + 1);
    match kind % 3 {
        0 if at < bytes.len() => bytes[at] = byte,
        1 => bytes.insert(at, byte),
        _ if at < bytes.len() => {
            bytes.remove(at);
        }
        _ => bytes.push(byte),
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The decoded header and claims, when the token still decodes.
fn decoded(token: &str) -> Option<(String, Value)> {
    let (header, claims) = decode_unverified(token).ok()?;
    Some((format!("{header:?}"), claims))
}

proptest! {
    #![proptest_config(config())]

    /// The log search `q` parses or is refused with a message, never panics;
    /// query-like pieces make the generator reach the parser's branches.
    #[test]
    fn log_queries_parse_or_fail_with_a_message(
        pieces in proptest::collection::vec(
            prop_oneof![
                Just("type:".to_string()), Just("date:".to_string()), Just("user_id:".to_string()),
                Just("[".to_string()), Just("]".to_string()), Just(" TO ".to_string()),
                Just(" AND ".to_string()), Just("\"".to_string()), Just("*".to_string()),
                Just("2024-01-01".to_string()), Just("T10:00:00Z".to_string()), Just("+02:00".to_string()),
                ".{0,6}",
            ],
            0..12,
        )
    ) {
        let q = pieces.concat();
        if let Err(e) = gatehouse_core::log_query::parse_log_query(&q) {
            prop_assert!(!e.0.is_empty());
        }
    }

    #[test]
    fn token_requests_parse_or_fail_with_an_oauth_error(map in params()) {
        let parsed = GrantRequest::parse(&|name| map.get(name).filter(|v| !v.is_empty()).cloned());
        match parsed {
            Ok(request) => {
                let grant_type = map.get("grant_type").map(String::as_str);
                prop_assert_eq!(Some(request.grant_type()), grant_type);
            }
            Err(e) => {
                prop_assert!(matches!(
                    e.error,
                    ErrorCode::InvalidRequest | ErrorCode::UnsupportedGrantType
                ));
                prop_assert!(!e.error_description.is_empty());
                prop_assert!(e.status() >= 400 && e.status() < 500);
            }
        }
    }

    #[test]
    fn arbitrary_strings_never_verify(token in prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,90}",
        // A header that decodes, with any alg and kid, then junk.
        ("[a-zA-Z0-9]{0,8}", "[ -~]{0,12}", "[A-Za-z0-9_-]{0,40}").prop_map(|(alg, kid, rest)| {
            let header = json!({"alg": alg, "kid": kid}).to_string();
            format!("{}.{}.{rest}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims().to_string()))
        }),
    ]) {
        let _ = decode_unverified(&token);
        for key in keys() {
            let alg = key.alg().as_str();
            prop_assert!(verify_jwt(&token, key.verifying_key(), &[alg]).is_err());
        }
        prop_assert!(verify_jwt_hs256(&token, b"a shared secret").is_err());
    }

    #[test]
    fn mutated_tokens_verify_only_when_nothing_changed(
        position in any::<usize>(),
        byte in any::<u8>(),
        kind in any::<u8>(),
        which in 0usize..3,
    ) {
        let secret = b"a shared secret of enough length";
        let token = match which {
            2 => sign_jwt_hs256(secret, "JWT", &claims()).unwrap(),
            i => sign_jwt(&keys()[i], "JWT", &claims()).unwrap(),
        };
        let original = decoded(&token);
        let mutated = mutate(&token, position, byte, kind);
        let verified = match which {
            2 => verify_jwt_hs256(&mutated, secret),
            i => verify_jwt(&mutated, keys()[i].verifying_key(), &[keys()[i].alg().as_str()]),
        };
        if let Ok(claims) = verified {
            // Only a change base64url decoding ignores (trailing bits) may pass.
            prop_assert_eq!(decoded(&mutated), original);
            prop_assert_eq!(claims, claims_of(&token));
        }
    }
}

fn claims_of(token: &str) -> Value {
    decode_unverified(token).unwrap().1
}
