//! Compact JWS (RFC 7515) signing and verification, and the OIDC half hashes.
//!
//! Tokens are `base64url(header) . base64url(claims) . base64url(signature)`.
//! Signing writes the header `{"alg","typ","kid"}`; verification checks the
//! signature and the algorithm only, in this order:
//!
//! 1. three base64url parts, a JSON-object header with a string `alg`;
//! 2. no `crit` header (no extension is understood);
//! 3. `alg` is implemented (`none` never is), in the caller's allow-list, equal
//!    to the JWK's own `alg` when it has one, and fits the key type;
//! 4. the signature verifies;
//! 5. the claims are a JSON object.
//!
//! Claim checks (`exp`, `nbf`, `iss`, `aud`, …) are the caller's job.
//!
//! The signatures themselves are made and checked by `jsonwebtoken`
//! (`crypto::sign`, `crypto::verify`), except asymmetric signing, which uses
//! the key [`KeyPair`] parsed once (see [`KeyPair::sign`] for why). The compact
//! serialization around them stays here, small as it is, because
//! `jsonwebtoken`'s `encode` writes the header members in another order (the
//! tokens would change), its `Header` type refuses header members that are not
//! strings, and its `decode` cannot name `alg: none` or a `crit` header as the
//! reason it refuses a token.

use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use super::jwk::VerifyingKey;
use super::keys::KeyPair;
use super::{b64url, verify_with, JoseError};
use crate::model::SigningAlg;

/// The JOSE header fields Gatehouse reads.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Header {
    /// The signature algorithm, e.g. `RS256`.
    pub alg: String,
    /// The media type: `JWT`, `at+jwt`, …
    #[serde(default)]
    pub typ: Option<String>,
    /// Which key signed the token.
    #[serde(default)]
    pub kid: Option<String>,
}

/// The header Gatehouse writes, in this member order.
#[derive(Serialize)]
struct OutHeader<'a> {
    alg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    typ: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

/// The pieces of a compact JWS, decoded as far as routing needs.
struct Parts<'a> {
    header: Header,
    header_b64: &'a str,
    payload_b64: &'a str,
    signature_b64: &'a str,
}

impl<'a> Parts<'a> {
    fn split(token: &'a str) -> Result<Self, JoseError> {
        let mut it = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (it.next(), it.next(), it.next(), it.next())
        else {
            return Err(JoseError::Malformed);
        };
        let header: Value = decode_json(header_b64)?;
        if !header.is_object() {
            return Err(JoseError::Malformed);
        }
        if header.get("crit").is_some() {
            return Err(JoseError::CriticalHeader);
        }
        let header: Header = serde_json::from_value(header).map_err(|_| JoseError::Malformed)?;
        Ok(Self {
            header,
            header_b64,
            payload_b64,
            signature_b64,
        })
    }

    /// The JWS signing input: `header_b64 . payload_b64`.
    fn signing_input(&self) -> String {
        format!("{}.{}", self.header_b64, self.payload_b64)
    }

    /// The base64url signature; an empty one (an unsigned token) is malformed.
    fn signature(&self) -> Result<&'a str, JoseError> {
        if self.signature_b64.is_empty() {
            return Err(JoseError::Malformed);
        }
        Ok(self.signature_b64)
    }

    fn claims(&self) -> Result<Value, JoseError> {
        let claims: Value = decode_json(self.payload_b64)?;
        if claims.is_object() {
            Ok(claims)
        } else {
            Err(JoseError::Malformed)
        }
    }
}

fn decode_json(part: &str) -> Result<Value, JoseError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JoseError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JoseError::Malformed)
}

/// `base64url(header) . base64url(claims)`; the claims must be a JSON object.
fn signing_input(
    alg: &str,
    typ: &str,
    kid: Option<&str>,
    claims: &Value,
) -> Result<String, JoseError> {
    if !claims.is_object() {
        return Err(JoseError::Malformed);
    }
    let header = OutHeader {
        alg,
        typ: Some(typ).filter(|t| !t.is_empty()),
        kid,
    };
    let header = serde_json::to_vec(&header).map_err(|_| JoseError::Malformed)?;
    let claims = serde_json::to_vec(claims).map_err(|_| JoseError::Malformed)?;
    Ok(format!("{}.{}", b64url(&header), b64url(&claims)))
}

/// Sign `claims` (a JSON object) as a compact JWS with `key`: header
/// `{"alg","typ","kid"}`, where `typ` is `JWT` for ID tokens and `at+jwt` for
/// RFC 9068 access tokens (an empty `typ` is left out).
pub fn sign_jwt(key: &KeyPair, typ: &str, claims: &Value) -> Result<String, JoseError> {
    let input = signing_input(key.alg().as_str(), typ, Some(key.kid()), claims)?;
    let signature = key.sign(input.as_bytes())?;
    Ok(format!("{input}.{}", b64url(&signature)))
}

/// Sign `claims` with HMAC-SHA256 under a shared secret (APIs configured for
/// HS256, ID tokens of clients using HS256). The header has no `kid`.
pub fn sign_jwt_hs256(secret: &[u8], typ: &str, claims: &Value) -> Result<String, JoseError> {
    if secret.is_empty() {
        return Err(JoseError::InvalidKey("empty HS256 secret".into()));
    }
    let input = signing_input(SigningAlg::HS256.as_str(), typ, None, claims)?;
    let key = EncodingKey::from_secret(secret);
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256)
        .map_err(|_| JoseError::Crypto)?;
    Ok(format!("{input}.{signature}"))
}

/// Decode the header and claims WITHOUT verifying anything, to find out which
/// key or which client a token claims to come from. Never trust the result
/// before [`verify_jwt`] or [`verify_jwt_hs256`] has passed.
pub fn decode_unverified(token: &str) -> Result<(Header, Value), JoseError> {
    let parts = Parts::split(token)?;
    let claims = parts.claims()?;
    Ok((parts.header, claims))
}

/// Parse the header `alg` and check it against the allow-list. `jsonwebtoken`
/// knows no `none`, so it is never implemented.
fn check_alg(alg: &str, allowed: &[&str]) -> Result<Algorithm, JoseError> {
    let parsed: Algorithm = alg
        .parse()
        .map_err(|_| JoseError::UnsupportedAlg(alg.to_owned()))?;
    if !allowed.contains(&alg) {
        return Err(JoseError::AlgNotAllowed(alg.to_owned()));
    }
    Ok(parsed)
}

/// Verify a compact JWS signed with an asymmetric key and return its claims.
///
/// `allowed` lists the acceptable algorithm names (`RS256`, `RS384`, `RS512`,
/// `PS256`, `PS384`, `PS512`, `ES256`, `ES384`, `EdDSA`). `none` is always
/// refused, as is HS256 (use [`verify_jwt_hs256`]: a public key is no secret),
/// any algorithm outside `allowed`, one that differs from the JWK's `alg`, and
/// one that does not fit the key type. No claim is checked.
pub fn verify_jwt(token: &str, key: &VerifyingKey, allowed: &[&str]) -> Result<Value, JoseError> {
    let parts = Parts::split(token)?;
    let alg = check_alg(&parts.header.alg, allowed)?;
    if key.alg().is_some_and(|a| a != parts.header.alg) {
        return Err(JoseError::KeyAlgMismatch(parts.header.alg.clone()));
    }
    key.verify_signature(alg, parts.signing_input().as_bytes(), parts.signature()?)?;
    parts.claims()
}

/// Verify an HS256 compact JWS under a shared secret (constant-time tag
/// comparison) and return its claims. Any other `alg` is refused.
pub fn verify_jwt_hs256(token: &str, secret: &[u8]) -> Result<Value, JoseError> {
    if secret.is_empty() {
        return Err(JoseError::InvalidKey("empty HS256 secret".into()));
    }
    let parts = Parts::split(token)?;
    let alg = check_alg(&parts.header.alg, &[SigningAlg::HS256.as_str()])?;
    let key = DecodingKey::from_secret(secret);
    verify_with(
        &key,
        alg,
        parts.signing_input().as_bytes(),
        parts.signature()?,
    )?;
    parts.claims()
}

/// The OIDC `at_hash` / `c_hash` (OIDC Core §3.1.3.6, §3.3.2.11): base64url of
/// the left half of the hash of the ASCII `value`, with the hash of the ID
/// token's algorithm: SHA-256 for RS256, PS256, ES256 and HS256, SHA-512 for
/// EdDSA (Ed25519).
pub fn half_hash(value: &str, alg: SigningAlg) -> String {
    let hash = match alg {
        SigningAlg::EdDSA => &digest::SHA512,
        SigningAlg::RS256 | SigningAlg::PS256 | SigningAlg::ES256 | SigningAlg::HS256 => {
            &digest::SHA256
        }
    };
    let digest = digest::digest(hash, value.as_bytes());
    let bytes = digest.as_ref();
    let (left, _) = bytes.split_at(bytes.len() / 2);
    b64url(left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
    use serde_json::json;
    use std::sync::OnceLock;

    /// One generated key per algorithm, shared by the tests.
    fn key(alg: SigningAlg) -> &'static KeyPair {
        static KEYS: OnceLock<Vec<KeyPair>> = OnceLock::new();
        KEYS.get_or_init(|| {
            SigningAlg::ASYMMETRIC
                .iter()
                .map(|a| KeyPair::generate(*a).unwrap())
                .collect()
        })
        .iter()
        .find(|k| k.alg() == alg)
        .unwrap()
    }

    fn claims() -> Value {
        json!({"iss": "https://tenant.example/", "sub": "auth0|1", "aud": "api", "exp": 4_102_444_800u64, "scope": "read:x"})
    }

    fn jwt_alg(alg: SigningAlg) -> Algorithm {
        match alg {
            SigningAlg::RS256 => Algorithm::RS256,
            SigningAlg::PS256 => Algorithm::PS256,
            SigningAlg::ES256 => Algorithm::ES256,
            SigningAlg::EdDSA => Algorithm::EdDSA,
            SigningAlg::HS256 => Algorithm::HS256,
        }
    }

    fn lenient(alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        v.validate_aud = false;
        v
    }

    /// Decode with the independent `jsonwebtoken` crate, key from our JWK.
    fn jsonwebtoken_decode(
        token: &str,
        jwk: Value,
        alg: Algorithm,
    ) -> jsonwebtoken::errors::Result<Value> {
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).unwrap();
        let key = DecodingKey::from_jwk(&jwk)?;
        jsonwebtoken::decode::<Value>(token, &key, &lenient(alg)).map(|d| d.claims)
    }

    fn replace_part(token: &str, index: usize, with: &str) -> String {
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[index] = with;
        parts.join(".")
    }

    #[test]
    fn signs_and_verifies_every_alg_both_ways() {
        for alg in SigningAlg::ASYMMETRIC {
            let key = key(alg);
            let token = sign_jwt(key, "at+jwt", &claims()).unwrap();

            let (header, unverified) = decode_unverified(&token).unwrap();
            assert_eq!(header.alg, alg.as_str());
            assert_eq!(header.typ.as_deref(), Some("at+jwt"));
            assert_eq!(header.kid.as_deref(), Some(key.kid()));
            assert_eq!(unverified, claims());

            let theirs = jsonwebtoken_decode(&token, key.public_jwk(), jwt_alg(alg)).unwrap();
            assert_eq!(theirs, claims(), "{alg:?}");

            let vk = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
            let ours = verify_jwt(&token, &vk, &[alg.as_str()]).unwrap();
            assert_eq!(ours, claims(), "{alg:?}");
        }
    }

    #[test]
    fn verifies_tokens_jsonwebtoken_signed() {
        for alg in [SigningAlg::ES256, SigningAlg::EdDSA] {
            let key = key(alg);
            let encoding = match alg {
                SigningAlg::ES256 => EncodingKey::from_ec_der(key.pkcs8_der()),
                _ => EncodingKey::from_ed_der(key.pkcs8_der()),
            };
            let mut header = jsonwebtoken::Header::new(jwt_alg(alg));
            header.kid = Some(key.kid().to_owned());
            let token = jsonwebtoken::encode(&header, &claims(), &encoding).unwrap();
            let ours = verify_jwt(&token, key.verifying_key(), &[alg.as_str()]).unwrap();
            assert_eq!(ours, claims(), "{alg:?}");
        }
    }

    #[test]
    fn header_members_of_any_json_type_are_accepted() {
        // jsonwebtoken's Header takes string members only: why the compact
        // serialization is parsed here.
        let key = key(SigningAlg::ES256);
        let header = b64url(br#"{"alg":"ES256","typ":"JWT","iat":1,"x-ok":true}"#);
        let input = format!(
            "{header}.{}",
            b64url(&serde_json::to_vec(&claims()).unwrap())
        );
        let signature = key.sign(input.as_bytes()).unwrap();
        let token = format!("{input}.{}", b64url(&signature));
        assert!(jsonwebtoken::decode_header(&token).is_err());
        assert_eq!(
            verify_jwt(&token, key.verifying_key(), &["ES256"]).unwrap(),
            claims()
        );
    }

    #[test]
    fn header_is_alg_typ_kid_in_order() {
        let key = key(SigningAlg::ES256);
        let token = sign_jwt(key, "JWT", &claims()).unwrap();
        let header = URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap();
        let expected = format!(r#"{{"alg":"ES256","typ":"JWT","kid":"{}"}}"#, key.kid());
        assert_eq!(String::from_utf8(header).unwrap(), expected);
        assert!(matches!(
            sign_jwt(key, "JWT", &json!(["not", "an", "object"])),
            Err(JoseError::Malformed)
        ));
    }

    #[test]
    fn tampering_breaks_the_signature() {
        for alg in SigningAlg::ASYMMETRIC {
            let key = key(alg);
            let token = sign_jwt(key, "JWT", &claims()).unwrap();
            let mut forged = claims();
            forged["sub"] = json!("auth0|2");
            let forged_b64 = b64url(&serde_json::to_vec(&forged).unwrap());
            let tampered = replace_part(&token, 1, &forged_b64);
            assert_eq!(
                verify_jwt(&tampered, key.verifying_key(), &[alg.as_str()]),
                Err(JoseError::BadSignature),
                "{alg:?}"
            );
            assert!(jsonwebtoken_decode(&tampered, key.public_jwk(), jwt_alg(alg)).is_err());
            // A valid signature by another key of the same type.
            let other = KeyPair::generate(alg).unwrap();
            let theirs = sign_jwt(&other, "JWT", &claims()).unwrap();
            assert_eq!(
                verify_jwt(&theirs, key.verifying_key(), &[alg.as_str()]),
                Err(JoseError::BadSignature)
            );
        }
    }

    #[test]
    fn alg_none_and_unlisted_algs_are_refused() {
        let key = key(SigningAlg::RS256);
        let token = sign_jwt(key, "JWT", &claims()).unwrap();
        let vk = key.verifying_key();
        let none = replace_part(&token, 0, &b64url(br#"{"alg":"none","typ":"JWT"}"#));
        assert_eq!(
            verify_jwt(&none, vk, &["RS256", "none"]),
            Err(JoseError::UnsupportedAlg("none".into()))
        );
        let unsigned = format!("{}.", none.rsplit_once('.').unwrap().0);
        assert!(verify_jwt(&unsigned, vk, &["RS256", "none"]).is_err());
        assert!(verify_jwt_hs256(&unsigned, b"secret").is_err());
        assert_eq!(
            verify_jwt(&token, vk, &["PS256", "ES256"]),
            Err(JoseError::AlgNotAllowed("RS256".into()))
        );
        assert_eq!(
            verify_jwt(&token, vk, &[]),
            Err(JoseError::AlgNotAllowed("RS256".into()))
        );
    }

    #[test]
    fn alg_must_fit_the_key() {
        // An RS256 token checked against an EC key.
        let rs = sign_jwt(key(SigningAlg::RS256), "JWT", &claims()).unwrap();
        let ec = key(SigningAlg::ES256).verifying_key();
        assert!(matches!(
            verify_jwt(&rs, ec, &["RS256", "ES256"]),
            Err(JoseError::KeyAlgMismatch(_))
        ));
        // A PS256 token against the RS256 key's JWK (its alg says RS256).
        let ps = sign_jwt(key(SigningAlg::PS256), "JWT", &claims()).unwrap();
        let rsa = key(SigningAlg::RS256).verifying_key();
        assert!(matches!(
            verify_jwt(&ps, rsa, &["RS256", "PS256"]),
            Err(JoseError::KeyAlgMismatch(_))
        ));
        // Classic confusion: HS256 signed with the public key as the secret.
        let mut jwk = key(SigningAlg::RS256).public_jwk();
        jwk.as_object_mut().unwrap().remove("alg");
        let no_alg = VerifyingKey::from_jwk(&jwk).unwrap();
        let secret = serde_json::to_vec(&jwk).unwrap();
        let hs = sign_jwt_hs256(&secret, "JWT", &claims()).unwrap();
        assert!(matches!(
            verify_jwt(&hs, &no_alg, &["RS256", "HS256"]),
            Err(JoseError::KeyAlgMismatch(_))
        ));
        // Without a JWK alg, RSA keys verify PS256 too (private_key_jwt).
        assert!(verify_jwt(&ps, &VerifyingKey::from(key(SigningAlg::PS256)), &["PS256"]).is_ok());
    }

    #[test]
    fn verifies_rs384_client_assertions() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA384};
        let key = key(SigningAlg::RS256);
        let rsa = RsaKeyPair::from_pkcs8(key.pkcs8_der()).unwrap();
        let header = b64url(br#"{"alg":"RS384","typ":"JWT"}"#);
        let input = format!(
            "{header}.{}",
            b64url(&serde_json::to_vec(&claims()).unwrap())
        );
        let mut sig = vec![0; rsa.public_modulus_len()];
        rsa.sign(
            &RSA_PKCS1_SHA384,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .unwrap();
        let token = format!("{input}.{}", b64url(&sig));

        let mut jwk = key.public_jwk();
        jwk.as_object_mut().unwrap().remove("alg");
        let theirs = jsonwebtoken_decode(&token, jwk.clone(), Algorithm::RS384).unwrap();
        assert_eq!(theirs, claims());
        let vk = VerifyingKey::from_jwk(&jwk).unwrap();
        assert_eq!(
            verify_jwt(&token, &vk, &["RS256", "RS384", "PS256"]).unwrap(),
            claims()
        );
        assert_eq!(
            verify_jwt(&token, &vk, &["RS256"]),
            Err(JoseError::AlgNotAllowed("RS384".into()))
        );
    }

    #[test]
    fn hs256_round_trips_and_matches_jsonwebtoken() {
        let secret = b"a-client-secret-of-reasonable-length-0123456789";
        let token = sign_jwt_hs256(secret, "JWT", &claims()).unwrap();
        let (header, _) = decode_unverified(&token).unwrap();
        assert_eq!((header.alg.as_str(), header.kid), ("HS256", None));
        assert_eq!(verify_jwt_hs256(&token, secret).unwrap(), claims());

        let theirs = jsonwebtoken::decode::<Value>(
            &token,
            &DecodingKey::from_secret(secret),
            &lenient(Algorithm::HS256),
        )
        .unwrap();
        assert_eq!(theirs.claims, claims());

        let header = jsonwebtoken::Header::new(Algorithm::HS256);
        let made =
            jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(secret)).unwrap();
        assert_eq!(verify_jwt_hs256(&made, secret).unwrap(), claims());

        assert_eq!(
            verify_jwt_hs256(&token, b"other"),
            Err(JoseError::BadSignature)
        );
        assert!(matches!(
            verify_jwt_hs256(&token, b""),
            Err(JoseError::InvalidKey(_))
        ));
        assert!(matches!(
            sign_jwt_hs256(b"", "JWT", &claims()),
            Err(JoseError::InvalidKey(_))
        ));
        let rs = sign_jwt(key(SigningAlg::RS256), "JWT", &claims()).unwrap();
        assert_eq!(
            verify_jwt_hs256(&rs, secret),
            Err(JoseError::AlgNotAllowed("RS256".into()))
        );
        // An asymmetric verify never accepts HS256.
        assert!(verify_jwt(&token, key(SigningAlg::RS256).verifying_key(), &["HS256"]).is_err());
    }

    #[test]
    fn malformed_tokens_are_errors_not_panics() {
        let vk = key(SigningAlg::ES256).verifying_key();
        let good = sign_jwt(key(SigningAlg::ES256), "JWT", &claims()).unwrap();
        let crit = replace_part(&good, 0, &b64url(br#"{"alg":"ES256","crit":["exp"]}"#));
        let cases = [
            String::new(),
            ".".into(),
            "..".into(),
            "a.b.c".into(),
            "a.b.c.d.e".into(),
            format!("{good}.extra"),
            replace_part(&good, 0, "eyJhbGciOiJFUzI1NiJ9=="),
            replace_part(&good, 0, &b64url(b"[1,2]")),
            replace_part(&good, 0, &b64url(br#"{"typ":"JWT"}"#)),
            replace_part(&good, 0, &b64url(br#"{"alg":5}"#)),
            replace_part(&good, 0, &b64url(b"\xff\xfe")),
            replace_part(&good, 1, "!!"),
            replace_part(&good, 2, ""),
            replace_part(&good, 2, "$$"),
            replace_part(&good, 2, "AA"),
        ];
        for token in &cases {
            assert!(verify_jwt(token, vk, &["ES256"]).is_err(), "{token}");
            assert!(verify_jwt_hs256(token, b"s").is_err(), "{token}");
        }
        assert_eq!(
            verify_jwt(&crit, vk, &["ES256"]),
            Err(JoseError::CriticalHeader)
        );
        assert_eq!(decode_unverified("a.b"), Err(JoseError::Malformed));
        // Claims that are not an object.
        let array = replace_part(&good, 1, &b64url(b"[1]"));
        assert_eq!(decode_unverified(&array), Err(JoseError::Malformed));
    }

    #[test]
    fn half_hash_matches_the_oidc_spec() {
        // OIDC Core 1.0 appendix A.4 (c_hash of the code, RS256).
        assert_eq!(
            half_hash(
                "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk",
                SigningAlg::RS256
            ),
            "LDktKdoQak3Pk0cnXxCltA"
        );
        // Computed with Python's hashlib.
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnNTzxb4Je";
        for alg in [
            SigningAlg::RS256,
            SigningAlg::PS256,
            SigningAlg::ES256,
            SigningAlg::HS256,
        ] {
            assert_eq!(half_hash(token, alg), "exRqfZmGsVn1s9d1G-1zfw");
        }
        assert_eq!(
            half_hash(token, SigningAlg::EdDSA),
            "hfXCOjbTU93bvpcpDRcCk8lMzTIWiwIFNJpk7bzDAfE"
        );
    }
}
