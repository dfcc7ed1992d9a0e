//! Public keys from JWKs, for verifying signatures.
//!
//! A [`VerifyingKey`] is parsed once from a JWK (a client's registered key for
//! `private_key_jwt`, a key from a fetched JWKS, or one of our own keys) and
//! then verifies any number of tokens through `jsonwebtoken`.
//!
//! `jsonwebtoken`'s own JWK parsing (`DecodingKey::from_jwk`) checks nothing
//! and refuses padded base64url, so parsing here checks what it leaves out, up
//! front: the key is meant for signatures (`use`/`key_ops`), the key type and
//! curve are supported, the components have their lengths, an RSA modulus has
//! 2048 to 8192 bits, and aws-lc-rs accepts the key (a point is on its curve).
//! The checked key is kept as a `jsonwebtoken` [`Jwk`] in canonical form
//! (unpadded base64url, no leading zeros): that is what two keys compare by,
//! and what the `DecodingKey` is made from. [`parse_jwks`] and [`select_key`]
//! pick the key a token's `kid` names.

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents, VerificationAlgorithm};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine as _};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, OctetKeyPairParameters, OctetKeyPairType, RSAKeyParameters,
    RSAKeyType,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use super::{b64url, verify_with, JoseError};

/// base64url for JWK members: padding tolerated, as some publishers add it.
const JWK_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_RSA_MODULUS_LEN: usize = 256;
/// Largest RSA modulus accepted, in bytes (8192 bits).
const MAX_RSA_MODULUS_LEN: usize = 1024;

/// A public key to verify JWS signatures with.
#[derive(Clone, Debug)]
pub struct VerifyingKey {
    /// The JWK's `alg`, kept as written: a token must name exactly this one.
    alg: Option<String>,
    /// The checked key in canonical form, with its `kid`.
    jwk: Jwk,
    key: DecodingKey,
}

/// Keys are equal when their `alg`, `kid` and public key are; the
/// `DecodingKey` is derived from the `Jwk`.
impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.alg == other.alg && self.jwk == other.jwk
    }
}

impl Eq for VerifyingKey {}

impl VerifyingKey {
    /// Parse a public JWK: `RSA` (`n`, `e`), `EC` on P-256 or P-384 (`x`, `y`),
    /// or `OKP` Ed25519 (`x`). Private members are ignored. A key whose `use`
    /// is not `sig`, or whose `key_ops` lacks `verify`, is refused.
    pub fn from_jwk(jwk: &Value) -> Result<Self, JoseError> {
        let obj = jwk
            .as_object()
            .ok_or_else(|| invalid("JWK is not a JSON object"))?;
        let kty = opt_str(obj, "kty")?.ok_or_else(|| invalid("JWK has no kty"))?;
        check_signature_use(obj)?;
        let params = match kty {
            "RSA" => rsa_params(obj)?,
            "EC" => ec_params(obj)?,
            "OKP" => okp_params(obj)?,
            other => return Err(invalid(&format!("unsupported kty {other}"))),
        };
        let jwk = Jwk {
            common: CommonParameters {
                key_id: opt_str(obj, "kid")?.map(str::to_owned),
                ..CommonParameters::default()
            },
            algorithm: params,
        };
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| invalid(&e.to_string()))?;
        Ok(Self {
            alg: opt_str(obj, "alg")?.map(str::to_owned),
            jwk,
            key,
        })
    }

    /// The JWK's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.jwk.common.key_id.as_deref()
    }

    /// The JWK's `alg`, if it has one; a token must then use exactly this algorithm.
    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }

    /// The JWK key type: `RSA`, `EC` or `OKP`.
    pub fn kty(&self) -> &'static str {
        match self.jwk.algorithm {
            AlgorithmParameters::RSA(_) => "RSA",
            AlgorithmParameters::EllipticCurve(_) => "EC",
            AlgorithmParameters::OctetKeyPair(_) => "OKP",
            AlgorithmParameters::OctetKey(_) => "oct",
        }
    }

    /// Whether `alg` is one this key can verify: its family, and for ECDSA its curve.
    fn fits(&self, alg: Algorithm) -> bool {
        match (&self.jwk.algorithm, alg) {
            (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
                ec.curve == EllipticCurve::P256
            }
            (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES384) => {
                ec.curve == EllipticCurve::P384
            }
            (AlgorithmParameters::EllipticCurve(_), _) => false,
            _ => alg.family() == self.key.family(),
        }
    }

    /// Verify the base64url `signature` over `message` with `alg`, which must
    /// fit the key type.
    pub(crate) fn verify_signature(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &str,
    ) -> Result<(), JoseError> {
        if !self.fits(alg) {
            return Err(JoseError::KeyAlgMismatch(format!("{alg:?}")));
        }
        verify_with(&self.key, alg, message, signature)
    }
}

impl From<&super::KeyPair> for VerifyingKey {
    fn from(key: &super::KeyPair) -> Self {
        key.verifying_key().clone()
    }
}

/// Parse a JWKS document (`{"keys": [...]}`), skipping keys that cannot
/// verify signatures (encryption keys, unsupported types); a client or an
/// issuer may publish those next to its signing keys.
pub fn parse_jwks(jwks: &Value) -> Result<Vec<VerifyingKey>, JoseError> {
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("JWKS has no keys array"))?;
    Ok(keys
        .iter()
        .filter_map(|k| VerifyingKey::from_jwk(k).ok())
        .collect())
}

/// Pick the key a token names: the one with that `kid`, or, for a token
/// without `kid`, the only key there is.
pub fn select_key<'a>(
    keys: &'a [VerifyingKey],
    kid: Option<&str>,
) -> Result<&'a VerifyingKey, JoseError> {
    match kid {
        Some(kid) => keys.iter().find(|k| k.kid() == Some(kid)),
        None => match keys {
            [only] => Some(only),
            _ => None,
        },
    }
    .ok_or(JoseError::KeyNotFound)
}

fn invalid(why: &str) -> JoseError {
    JoseError::InvalidKey(why.to_owned())
}

/// RFC 7517 §4.2–4.3: a `use` other than `sig`, or `key_ops` without
/// `verify`, means the key is not for verifying signatures.
fn check_signature_use(obj: &Map<String, Value>) -> Result<(), JoseError> {
    if let Some(usage) = opt_str(obj, "use")? {
        if usage != "sig" {
            return Err(invalid("JWK use is not sig"));
        }
    }
    if let Some(ops) = obj.get("key_ops") {
        let ops = ops
            .as_array()
            .ok_or_else(|| invalid("JWK key_ops is not an array"))?;
        if !ops.iter().any(|op| op.as_str() == Some("verify")) {
            return Err(invalid("JWK key_ops lacks verify"));
        }
    }
    Ok(())
}

/// An optional string member; present with another type is an error.
fn opt_str<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, JoseError> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(&format!("JWK {name} is not a string"))),
    }
}

/// A required base64url member.
fn b64_member(obj: &Map<String, Value>, name: &str) -> Result<Vec<u8>, JoseError> {
    let text = opt_str(obj, name)?.ok_or_else(|| invalid(&format!("JWK has no {name}")))?;
    JWK_B64
        .decode(text)
        .map_err(|_| invalid(&format!("JWK {name} is not base64url")))
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros);
    bytes
}

fn rsa_params(obj: &Map<String, Value>) -> Result<AlgorithmParameters, JoseError> {
    let n = strip_leading_zeros(b64_member(obj, "n")?);
    let e = strip_leading_zeros(b64_member(obj, "e")?);
    if n.len() < MIN_RSA_MODULUS_LEN {
        return Err(invalid("RSA key shorter than 2048 bits"));
    }
    if n.len() > MAX_RSA_MODULUS_LEN {
        return Err(invalid("RSA key longer than 8192 bits"));
    }
    if e.is_empty() {
        return Err(invalid("RSA exponent is zero"));
    }
    RsaPublicKeyComponents { n: &n, e: &e }
        .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
        .map_err(|_| invalid("RSA key rejected"))?;
    Ok(AlgorithmParameters::RSA(RSAKeyParameters {
        key_type: RSAKeyType::RSA,
        n: b64url(&n),
        e: b64url(&e),
    }))
}

fn ec_params(obj: &Map<String, Value>) -> Result<AlgorithmParameters, JoseError> {
    let (curve, len, verification) = match opt_str(obj, "crv")? {
        Some("P-256") => (EllipticCurve::P256, 32, &signature::ECDSA_P256_SHA256_FIXED),
        Some("P-384") => (EllipticCurve::P384, 48, &signature::ECDSA_P384_SHA384_FIXED),
        Some(other) => return Err(invalid(&format!("unsupported EC curve {other}"))),
        None => return Err(invalid("JWK has no crv")),
    };
    let x = b64_member(obj, "x")?;
    let y = b64_member(obj, "y")?;
    if x.len() != len || y.len() != len {
        return Err(invalid("EC coordinates have the wrong length"));
    }
    // X9.62 uncompressed point: 0x04 || x || y.
    parse_check(verification, &[&[4u8][..], &x, &y].concat())?;
    Ok(AlgorithmParameters::EllipticCurve(
        EllipticCurveKeyParameters {
            key_type: EllipticCurveKeyType::EC,
            curve,
            x: b64url(&x),
            y: b64url(&y),
        },
    ))
}

fn okp_params(obj: &Map<String, Value>) -> Result<AlgorithmParameters, JoseError> {
    match opt_str(obj, "crv")? {
        Some("Ed25519") => {}
        Some(other) => return Err(invalid(&format!("unsupported OKP curve {other}"))),
        None => return Err(invalid("JWK has no crv")),
    }
    let x = b64_member(obj, "x")?;
    if x.len() != signature::ED25519_PUBLIC_KEY_LEN {
        return Err(invalid("Ed25519 key has the wrong length"));
    }
    parse_check(&signature::ED25519, &x)?;
    Ok(AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
        key_type: OctetKeyPairType::OctetKeyPair,
        curve: EllipticCurve::Ed25519,
        x: b64url(&x),
    }))
}

/// Let the backend validate the key (e.g. the point is on the curve).
fn parse_check(alg: &'static dyn VerificationAlgorithm, bytes: &[u8]) -> Result<(), JoseError> {
    ParsedPublicKey::new(alg, bytes)
        .map(|_| ())
        .map_err(|_| invalid("public key rejected"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::KeyPair;
    use crate::model::SigningAlg;
    use serde_json::json;

    fn err(jwk: Value) -> String {
        match VerifyingKey::from_jwk(&jwk) {
            Err(JoseError::InvalidKey(why)) => why,
            other => panic!("expected InvalidKey, got {other:?}"),
        }
    }

    #[test]
    fn parses_own_keys() {
        for alg in SigningAlg::ASYMMETRIC {
            let key = KeyPair::generate(alg).unwrap();
            let vk = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
            assert_eq!(vk.kid(), Some(key.kid()));
            assert_eq!(vk.alg(), Some(alg.as_str()));
            assert_eq!(&vk, key.verifying_key());
            assert_eq!(VerifyingKey::from(&key), vk);
        }
    }

    #[test]
    fn rejects_bad_jwks() {
        let rsa = KeyPair::generate(SigningAlg::RS256).unwrap().public_jwk();
        let ec = KeyPair::generate(SigningAlg::ES256).unwrap().public_jwk();
        let with = |base: &Value, k: &str, v: Value| {
            let mut j = base.clone();
            j.as_object_mut().unwrap().insert(k.into(), v);
            j
        };
        let without = |base: &Value, k: &str| {
            let mut j = base.clone();
            j.as_object_mut().unwrap().remove(k);
            j
        };
        assert!(err(json!("RSA")).contains("object"));
        assert!(err(without(&rsa, "kty")).contains("kty"));
        assert!(err(with(&rsa, "kty", json!("oct"))).contains("unsupported"));
        assert!(err(with(&rsa, "kty", json!(1))).contains("string"));
        assert!(err(with(&rsa, "use", json!("enc"))).contains("use"));
        assert!(err(with(&rsa, "key_ops", json!(["encrypt"]))).contains("key_ops"));
        assert!(err(without(&rsa, "n")).contains("no n"));
        assert!(err(with(&rsa, "n", json!("!!!"))).contains("base64url"));
        // 1024-bit modulus.
        assert!(err(with(&rsa, "n", json!("AQ".repeat(64)))).contains("2048"));
        assert!(err(with(&rsa, "e", json!("AA"))).contains("zero"));
        assert!(err(with(&ec, "crv", json!("P-521"))).contains("curve"));
        assert!(err(with(&ec, "x", json!("AAAA"))).contains("length"));
        // Right length, not on the curve.
        let zeros = URL_SAFE_NO_PAD_ENC.encode([0u8; 32]);
        assert!(err(with(&ec, "x", json!(zeros))).contains("rejected"));
        assert!(err(json!({"kty": "OKP", "crv": "X25519", "x": zeros})).contains("curve"));
        assert!(err(json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"})).contains("length"));
        // Accepted: key_ops with verify, no use.
        let ok = with(&without(&ec, "use"), "key_ops", json!(["verify"]));
        assert!(VerifyingKey::from_jwk(&ok).is_ok());
    }

    const URL_SAFE_NO_PAD_ENC: GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn tolerates_padding_and_leading_zero() {
        let key = KeyPair::generate(SigningAlg::RS256).unwrap();
        let mut jwk = key.public_jwk();
        let n = JWK_B64
            .decode(jwk.get("n").unwrap().as_str().unwrap())
            .unwrap();
        let padded = base64::engine::general_purpose::URL_SAFE.encode([&[0u8][..], &n].concat());
        jwk.as_object_mut()
            .unwrap()
            .insert("n".into(), json!(padded));
        let vk = VerifyingKey::from_jwk(&jwk).unwrap();
        assert_eq!(&vk, key.verifying_key());
    }

    #[test]
    fn parse_jwks_skips_unusable_keys() {
        let a = KeyPair::generate(SigningAlg::ES256).unwrap();
        let b = KeyPair::generate(SigningAlg::EdDSA).unwrap();
        let doc = json!({ "keys": [
            a.public_jwk(),
            {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "oct", "k": "c2VjcmV0"},
            b.public_jwk(),
        ]});
        let keys = parse_jwks(&doc).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(select_key(&keys, Some(b.kid())).unwrap().kty(), "OKP");
        assert_eq!(select_key(&keys, Some(a.kid())).unwrap().kty(), "EC");
        assert_eq!(select_key(&keys, Some("nope")), Err(JoseError::KeyNotFound));
        assert_eq!(select_key(&keys, None), Err(JoseError::KeyNotFound));
        assert_eq!(select_key(&keys[..1], None).unwrap().kid(), Some(a.kid()));
        assert!(parse_jwks(&json!({"keys": {}})).is_err());
        assert!(parse_jwks(&json!([])).is_err());
    }

    #[test]
    fn alg_must_fit_key_type() {
        let ec = VerifyingKey::from(&KeyPair::generate(SigningAlg::ES256).unwrap());
        let zeros = b64url(&[0; 64]);
        for alg in [
            Algorithm::RS256,
            Algorithm::ES384,
            Algorithm::EdDSA,
            Algorithm::HS256,
        ] {
            assert!(matches!(
                ec.verify_signature(alg, b"m", &zeros),
                Err(JoseError::KeyAlgMismatch(_))
            ));
        }
        assert_eq!(
            ec.verify_signature(Algorithm::ES256, b"m", &zeros),
            Err(JoseError::BadSignature)
        );
    }
}
