//! The issuer's JWKS (RFC 7517) parsed into verification keys.
//!
//! Each key is checked when the JWKS is read, not when a token arrives: a key
//! that is not for signatures (`use` other than `sig`, `key_ops` without
//! `verify`), a symmetric key (`kty: oct`: never trusted from a JWKS), a key
//! with an unknown `alg` or curve, or one whose numbers do not decode is
//! skipped, and the rest of the set stays usable. A token's key must then fit
//! the token's `alg` ([`VerificationKey::fits`]).

use crate::algorithm::{Algorithm, KeyKind};
use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// One public key of the issuer, ready to verify signatures.
#[derive(Clone)]
pub(crate) struct VerificationKey {
    pub(crate) kid: Option<String>,
    /// The JWK's own `alg`, when it names one: then only that algorithm.
    pub(crate) alg: Option<Algorithm>,
    pub(crate) kind: KeyKind,
    pub(crate) key: DecodingKey,
}

impl VerificationKey {
    /// Whether this key may verify a token signed with `alg`: the key type
    /// (and curve) fits, and the JWK's own `alg`, if any, is the same
    /// (RFC 8725 §3.1).
    pub(crate) fn fits(&self, alg: Algorithm) -> bool {
        self.kind == alg.key_kind() && self.alg.is_none_or(|own| own == alg)
    }
}

/// The usable keys of one JWKS document.
#[derive(Clone, Default)]
pub(crate) struct KeySet {
    keys: Vec<Arc<VerificationKey>>,
}

/// The members of a JWK the guard reads.
#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default, rename = "use")]
    public_key_use: Option<String>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<Value>,
}

impl KeySet {
    /// Parses a JWKS document; `Err` only when it is not a JWKS at all.
    /// Keys the guard cannot use are skipped (see the module docs).
    pub(crate) fn from_json(body: &[u8]) -> Result<Self, serde_json::Error> {
        let raw: RawJwks = serde_json::from_slice(body)?;
        let keys = raw
            .keys
            .into_iter()
            .filter_map(|value| serde_json::from_value::<RawJwk>(value).ok())
            .filter_map(|jwk| verification_key(&jwk))
            .map(Arc::new)
            .collect();
        Ok(Self { keys })
    }

    /// How many usable keys the set holds.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key a token with this `kid` and `alg` names. A token without a
    /// `kid` is accepted only when exactly one key fits its `alg`.
    pub(crate) fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<Arc<VerificationKey>> {
        let found = match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|key| key.kid.as_deref() == Some(kid) && key.fits(alg)),
            None => {
                let mut fitting = self.keys.iter().filter(|key| key.fits(alg));
                let only = fitting.next()?;
                fitting.next().is_none().then_some(only)
            }
        };
        found.cloned()
    }
}

fn verification_key(jwk: &RawJwk) -> Option<VerificationKey> {
    if !is_for_verification(jwk) {
        return None;
    }
    let alg = match &jwk.alg {
        Some(name) => Some(Algorithm::from_name(name)?),
        None => None,
    };
    let (kind, key) = decoding_key(jwk)?;
    if alg.is_some_and(|alg| alg.key_kind() != kind) {
        return None;
    }
    Some(VerificationKey {
        kid: jwk.kid.clone(),
        alg,
        kind,
        key,
    })
}

/// RFC 7517 §4.2–4.3: `use` and `key_ops` may restrict a key to other uses.
fn is_for_verification(jwk: &RawJwk) -> bool {
    let use_ok = jwk.public_key_use.as_deref().is_none_or(|u| u == "sig");
    let ops_ok = jwk
        .key_ops
        .as_ref()
        .is_none_or(|ops| ops.iter().any(|op| op == "verify"));
    use_ok && ops_ok
}

fn decoding_key(jwk: &RawJwk) -> Option<(KeyKind, DecodingKey)> {
    match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("RSA", _) => {
            let key = DecodingKey::from_rsa_components(jwk.n.as_deref()?, jwk.e.as_deref()?);
            Some((KeyKind::Rsa, key.ok()?))
        }
        ("EC", Some(curve @ ("P-256" | "P-384"))) => {
            let kind = if curve == "P-256" {
                KeyKind::EcP256
            } else {
                KeyKind::EcP384
            };
            let key = DecodingKey::from_ec_components(jwk.x.as_deref()?, jwk.y.as_deref()?);
            Some((kind, key.ok()?))
        }
        ("OKP", Some("Ed25519")) => {
            let key = DecodingKey::from_ed_components(jwk.x.as_deref()?);
            Some((KeyKind::Ed25519, key.ok()?))
        }
        // `oct` (a shared secret) and anything unknown.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

    fn set(keys: Value) -> KeySet {
        KeySet::from_json(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn skips_what_cannot_verify_and_keeps_the_rest() {
        let keys = set(json!([
            {"kty": "RSA", "kid": "good", "use": "sig", "alg": "RS256", "n": N, "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": N, "e": "AQAB"},
            {"kty": "RSA", "kid": "ops", "key_ops": ["encrypt"], "n": N, "e": "AQAB"},
            {"kty": "oct", "kid": "secret", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "hmac-alg", "alg": "HS256", "n": N, "e": "AQAB"},
            {"kty": "RSA", "kid": "ec-alg", "alg": "ES256", "n": N, "e": "AQAB"},
            {"kty": "EC", "kid": "secp256k1", "crv": "secp256k1", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "no-n", "e": "AQAB"},
            {"kty": 7},
            "not an object"
        ]));
        assert_eq!(keys.len(), 1);
        assert!(keys.find(Some("good"), Algorithm::RS256).is_some());
        assert!(keys.find(Some("secret"), Algorithm::RS256).is_none());
    }

    #[test]
    fn the_jwk_alg_pins_the_algorithm() {
        let keys = set(json!([{"kty": "RSA", "kid": "k", "alg": "RS256", "n": N, "e": "AQAB"}]));
        assert!(keys.find(Some("k"), Algorithm::RS256).is_some());
        assert!(keys.find(Some("k"), Algorithm::PS256).is_none());
        assert!(keys.find(Some("k"), Algorithm::ES256).is_none());
        let keys = set(json!([{"kty": "RSA", "kid": "k", "n": N, "e": "AQAB"}]));
        assert!(keys.find(Some("k"), Algorithm::PS256).is_some());
        assert!(keys.find(Some("k"), Algorithm::EdDSA).is_none());
    }

    #[test]
    fn a_token_without_kid_needs_exactly_one_fitting_key() {
        let one = set(json!([{"kty": "RSA", "kid": "a", "n": N, "e": "AQAB"}]));
        assert!(one.find(None, Algorithm::RS256).is_some());
        let two = set(json!([
            {"kty": "RSA", "kid": "a", "n": N, "e": "AQAB"},
            {"kty": "RSA", "kid": "b", "n": N, "e": "AQAB"}
        ]));
        assert!(two.find(None, Algorithm::RS256).is_none());
    }

    #[test]
    fn not_a_jwks_is_an_error() {
        assert!(KeySet::from_json(b"[]").is_err());
        assert!(KeySet::from_json(b"{}").is_err());
        assert!(KeySet::from_json(b"<html>").is_err());
    }
}
