//! Tenant signing keys: generation, persistence parts, public JWK and raw signing.
//!
//! A [`KeyPair`] is what the key store keeps per signing key: the `kid`, the
//! algorithm, the PKCS#8 private key and a self-signed X.509 certificate whose
//! DER is published as `x5c` (Auth0 publishes one too, and some SDKs read it).
//! The store persists [`KeyPair::pkcs8_der`] and [`KeyPair::cert_der`] and
//! rebuilds the key with [`KeyPair::from_parts`]. [`KeyState`] is the key's
//! place in the rotation (next → current → previous → revoked), and [`Jwks`]
//! is the `/.well-known/jwks.json` document (auth0-compat.md §5).
//!
//! Keys are generated and parsed with aws-lc-rs and certified with rcgen; the
//! RFC 7638 thumbprint the `kid` comes from is `jsonwebtoken`'s.

use aws_lc_rs::digest;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::{self, SystemRandom};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaEncoding, RsaKeyPair,
    ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
};
use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::jwk::VerifyingKey;
use super::{b64url, JoseError};
use crate::model::SigningAlg;

/// Common name of the self-signed certificates.
const CERT_COMMON_NAME: &str = "Gatehouse signing key";
/// Certificate lifetime: about ten years.
const CERT_VALIDITY_DAYS: i64 = 3650;
/// Length of a generated `kid` (a prefix of the RFC 7638 thumbprint, ~160 bits).
const KID_LEN: usize = 27;
/// Smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_RSA_MODULUS_LEN: usize = 256;

/// Where a signing key is in the rotation (Management API `signing keys`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Published in the JWKS ahead of rotation, not yet signing.
    Next,
    /// The one key that signs.
    Current,
    /// Rotated out: still published so tokens it signed keep verifying.
    Previous,
    /// Withdrawn: not published, tokens it signed no longer verify.
    Revoked,
}

impl KeyState {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Current => "current",
            Self::Previous => "previous",
            Self::Revoked => "revoked",
        }
    }

    /// Inverse of [`KeyState::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "next" => Self::Next,
            "current" => Self::Current,
            "previous" => Self::Previous,
            "revoked" => Self::Revoked,
            _ => return None,
        })
    }

    /// Whether keys in this state appear in the public JWKS.
    pub fn is_published(self) -> bool {
        !matches!(self, Self::Revoked)
    }
}

/// The parsed private key, ready to sign.
#[derive(Clone)]
enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// Private key bytes: never printed, zeroed (best effort) when dropped.
#[derive(Clone)]
struct SecretDer(Vec<u8>);

impl Drop for SecretDer {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            *b = 0;
        }
        std::hint::black_box(&self.0);
    }
}

/// An asymmetric signing key of the tenant.
///
/// `Debug` prints `kid` and `alg` only; the private key shows as `[redacted]`.
#[derive(Clone)]
pub struct KeyPair {
    kid: String,
    alg: SigningAlg,
    pkcs8: SecretDer,
    cert_der: Vec<u8>,
    signer: Signer,
    jwk: Value,
    verifying: VerifyingKey,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("pkcs8_der", &"[redacted]")
            .field("cert_der_len", &self.cert_der.len())
            .finish()
    }
}

/// The public half of a parsed private key.
struct PublicKey {
    /// The key members of the JWK: `kty` and the key components.
    members: Value,
    /// What a certificate for the key carries: the RSA modulus, the EC point
    /// or the Ed25519 key.
    raw: Vec<u8>,
}

impl KeyPair {
    /// Generate a fresh key: RS256 and PS256 get RSA 2048, ES256 P-256, EdDSA
    /// Ed25519. HS256 has no key pair and is refused.
    ///
    /// The `kid` is the first 27 characters of the key's RFC 7638 JWK
    /// thumbprint (SHA-256), so it is unique per key and stable across
    /// restarts. The certificate is self-signed (CN=Gatehouse signing key) and
    /// valid for about ten years from yesterday.
    pub fn generate(alg: SigningAlg) -> Result<Self, JoseError> {
        let pkcs8 = match alg {
            SigningAlg::RS256 | SigningAlg::PS256 => {
                let key = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| JoseError::Crypto)?;
                let der: Pkcs8V1Der<'static> = key.as_der().map_err(|_| JoseError::Crypto)?;
                der.as_ref().to_vec()
            }
            SigningAlg::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map_err(|_| JoseError::Crypto)?
                .as_ref()
                .to_vec(),
            SigningAlg::EdDSA => Ed25519KeyPair::generate()
                .and_then(|k| k.to_pkcs8v1())
                .map_err(|_| JoseError::Crypto)?
                .as_ref()
                .to_vec(),
            SigningAlg::HS256 => return Err(JoseError::UnsupportedAlg(alg.as_str().into())),
        };
        let pkcs8 = SecretDer(pkcs8);
        let signer = parse_signer(alg, &pkcs8.0)?;
        let public = public_key(&signer)?;
        let mut kid = thumbprint(&public.members)?;
        kid.truncate(KID_LEN);
        let cert_der = self_signed_cert(&pkcs8.0)?;
        Self::assemble(kid, alg, pkcs8, cert_der, signer, public)
    }

    /// Rebuild a key from what the store persisted.
    ///
    /// Checks that the private key is of the type `alg` needs (RSA ≥ 2048
    /// bits, P-256, Ed25519) and that `cert_der` is a DER structure carrying
    /// this key's public key.
    pub fn from_parts(
        kid: String,
        alg: SigningAlg,
        pkcs8_der: Vec<u8>,
        cert_der: Vec<u8>,
    ) -> Result<Self, JoseError> {
        let pkcs8 = SecretDer(pkcs8_der);
        if kid.is_empty() {
            return Err(JoseError::InvalidKey("empty kid".into()));
        }
        let signer = parse_signer(alg, &pkcs8.0)?;
        let public = public_key(&signer)?;
        check_cert_matches(&cert_der, &public.raw)?;
        Self::assemble(kid, alg, pkcs8, cert_der, signer, public)
    }

    fn assemble(
        kid: String,
        alg: SigningAlg,
        pkcs8: SecretDer,
        cert_der: Vec<u8>,
        signer: Signer,
        public: PublicKey,
    ) -> Result<Self, JoseError> {
        let jwk = build_jwk(&kid, alg, &cert_der, public.members);
        let verifying = VerifyingKey::from_jwk(&jwk)?;
        Ok(Self {
            kid,
            alg,
            pkcs8,
            cert_der,
            signer,
            jwk,
            verifying,
        })
    }

    /// The key id, as in the JWKS and in token headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWS algorithm this key signs with.
    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// The private key as PKCS#8 DER, for the store. Handle as a secret.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8.0
    }

    /// The self-signed certificate (DER), published as `x5c`.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The public JWK with `kty`, `use: "sig"`, `alg`, `kid`, the key
    /// components (`n`/`e`, `crv`/`x`/`y` or `crv`/`x`), `x5t` and `x5c`.
    pub fn public_jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// The public half, for verifying tokens this key signed.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// The raw JWS signature over `message`: RSASSA-PKCS1-v1_5 or RSASSA-PSS
    /// with SHA-256 for RS256/PS256, fixed-size `r || s` (64 bytes) for ES256,
    /// Ed25519 for EdDSA.
    ///
    /// This signs with the key parsed once, not with `jsonwebtoken`: its
    /// `crypto::sign` parses (and for RSA, fully checks) the private key again
    /// for every signature, which made RS256 and PS256 signing about three
    /// times slower and ES256 and EdDSA about twice as slow (measured here
    /// against aws-lc-rs 1.19). The tests verify these signatures with
    /// `jsonwebtoken` and check the JWS sizes.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        match &self.signer {
            Signer::Rsa(key) => {
                let padding: &'static dyn RsaEncoding = match self.alg {
                    SigningAlg::PS256 => &RSA_PSS_SHA256,
                    _ => &RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0u8; key.public_modulus_len()];
                key.sign(padding, &SystemRandom::new(), message, &mut sig)
                    .map_err(|_| JoseError::Crypto)?;
                Ok(sig)
            }
            Signer::Ec(key) => key
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| JoseError::Crypto),
            Signer::Ed(key) => key
                .try_sign(message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| JoseError::Crypto),
        }
    }
}

/// Parse the PKCS#8 key with the key type `alg` requires.
fn parse_signer(alg: SigningAlg, pkcs8: &[u8]) -> Result<Signer, JoseError> {
    let reject = |e: aws_lc_rs::error::KeyRejected| {
        JoseError::InvalidKey(format!("{} private key rejected: {e}", alg.as_str()))
    };
    match alg {
        SigningAlg::RS256 | SigningAlg::PS256 => {
            let key = RsaKeyPair::from_pkcs8(pkcs8).map_err(reject)?;
            if key.public_modulus_len() < MIN_RSA_MODULUS_LEN {
                return Err(JoseError::InvalidKey(
                    "RSA key shorter than 2048 bits".into(),
                ));
            }
            Ok(Signer::Rsa(key))
        }
        SigningAlg::ES256 => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
            .map(Signer::Ec)
            .map_err(reject),
        SigningAlg::EdDSA => Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map(Signer::Ed)
            .map_err(reject),
        SigningAlg::HS256 => Err(JoseError::UnsupportedAlg(alg.as_str().into())),
    }
}

/// The public half of the parsed key.
fn public_key(signer: &Signer) -> Result<PublicKey, JoseError> {
    match signer {
        Signer::Rsa(key) => {
            let public = key.public_key();
            let n = public.modulus().big_endian_without_leading_zero();
            let e = public.exponent().big_endian_without_leading_zero();
            Ok(PublicKey {
                members: json!({ "kty": "RSA", "n": b64url(n), "e": b64url(e) }),
                raw: n.to_vec(),
            })
        }
        Signer::Ec(key) => {
            // X9.62 uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
            let point = key.public_key().as_ref();
            match (point.first(), point.get(1..33), point.get(33..)) {
                (Some(4), Some(x), Some(y)) if point.len() == 65 => Ok(PublicKey {
                    members: json!({ "kty": "EC", "crv": "P-256", "x": b64url(x), "y": b64url(y) }),
                    raw: point.to_vec(),
                }),
                _ => Err(JoseError::InvalidKey(
                    "unexpected P-256 point encoding".into(),
                )),
            }
        }
        Signer::Ed(key) => {
            let x = key.public_key().as_ref();
            Ok(PublicKey {
                members: json!({ "kty": "OKP", "crv": "Ed25519", "x": b64url(x) }),
                raw: x.to_vec(),
            })
        }
    }
}

/// The RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key.
fn thumbprint(members: &Value) -> Result<String, JoseError> {
    let jwk: Jwk = serde_json::from_value(members.clone()).map_err(|_| JoseError::Crypto)?;
    Ok(jwk.thumbprint(ThumbprintHash::SHA256))
}

/// Build the public JWK (auth0-compat.md §5 for the RSA shape).
fn build_jwk(kid: &str, alg: SigningAlg, cert_der: &[u8], members: Value) -> Value {
    let x5t = b64url(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der).as_ref());
    let x5c = base64::engine::general_purpose::STANDARD.encode(cert_der);
    let mut jwk = members;
    if let Some(obj) = jwk.as_object_mut() {
        obj.insert("use".into(), json!("sig"));
        obj.insert("alg".into(), json!(alg.as_str()));
        obj.insert("kid".into(), json!(kid));
        obj.insert("x5t".into(), json!(x5t));
        obj.insert("x5c".into(), json!([x5c]));
    }
    jwk
}

/// A self-signed certificate for the key, signed by the key itself (RSA keys
/// sign it with PKCS#1 v1.5 SHA-256, also for PS256).
fn self_signed_cert(pkcs8: &[u8]) -> Result<Vec<u8>, JoseError> {
    let key = rcgen::KeyPair::try_from(pkcs8).map_err(|_| JoseError::Crypto)?;
    let mut params = rcgen::CertificateParams::default();
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::CommonName, CERT_COMMON_NAME);
    params.distinguished_name = name;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now
        .checked_sub(time::Duration::days(1))
        .ok_or(JoseError::Crypto)?;
    params.not_after = now
        .checked_add(time::Duration::days(CERT_VALIDITY_DAYS))
        .ok_or(JoseError::Crypto)?;
    let mut serial = [0u8; 16];
    rand::fill(&mut serial).map_err(|_| JoseError::Crypto)?;
    if let Some(first) = serial.first_mut() {
        // A positive INTEGER of full length.
        *first = (*first & 0x7f) | 0x40;
    }
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&key).map_err(|_| JoseError::Crypto)?;
    Ok(cert.der().as_ref().to_vec())
}

/// A persisted certificate must be DER (a SEQUENCE) and carry this key's
/// public key bytes.
fn check_cert_matches(cert_der: &[u8], public_key: &[u8]) -> Result<(), JoseError> {
    if cert_der.first() != Some(&0x30) {
        return Err(JoseError::InvalidKey("certificate is not DER".into()));
    }
    if public_key.is_empty() || !cert_der.windows(public_key.len()).any(|w| w == public_key) {
        return Err(JoseError::InvalidKey(
            "certificate does not match the private key".into(),
        ));
    }
    Ok(())
}

/// The JWKS document: `{"keys": [...]}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Jwks {
    /// Public JWKs, one per published key.
    pub keys: Vec<Value>,
}

impl Jwks {
    /// The JWKS of the given keys, in order (the caller filters by [`KeyState::is_published`]).
    pub fn from_key_pairs<'a>(keys: impl IntoIterator<Item = &'a KeyPair>) -> Self {
        Self {
            keys: keys.into_iter().map(KeyPair::public_jwk).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    fn field<'a>(jwk: &'a Value, name: &str) -> &'a str {
        jwk.get(name).and_then(Value::as_str).unwrap()
    }

    fn decode(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).unwrap()
    }

    #[test]
    fn key_state_round_trips() {
        for s in [
            KeyState::Next,
            KeyState::Current,
            KeyState::Previous,
            KeyState::Revoked,
        ] {
            assert_eq!(KeyState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
        }
        assert_eq!(KeyState::parse("Current"), None);
        assert!(!KeyState::Revoked.is_published());
        assert!(KeyState::Next.is_published());
    }

    #[test]
    fn keys_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<KeyPair>();
        assert_send_sync::<VerifyingKey>();
        assert_send_sync::<Jwks>();
    }

    #[test]
    fn hs256_has_no_key_pair() {
        assert!(matches!(
            KeyPair::generate(SigningAlg::HS256),
            Err(JoseError::UnsupportedAlg(_))
        ));
    }

    #[test]
    fn rsa_jwk_has_auth0_shape() {
        let key = KeyPair::generate(SigningAlg::RS256).unwrap();
        let jwk = key.public_jwk();
        assert_eq!(field(&jwk, "kty"), "RSA");
        assert_eq!(field(&jwk, "use"), "sig");
        assert_eq!(field(&jwk, "alg"), "RS256");
        assert_eq!(field(&jwk, "kid"), key.kid());
        assert_eq!(key.kid().len(), KID_LEN);
        let n = decode(field(&jwk, "n"));
        assert_eq!(n.len(), 256);
        assert_ne!(n.first(), Some(&0));
        assert_eq!(decode(field(&jwk, "e")), vec![1, 0, 1]);
        assert!(jwk.get("d").is_none() && jwk.get("p").is_none());
    }

    #[test]
    fn ec_and_okp_jwks_have_their_shapes() {
        let ec = KeyPair::generate(SigningAlg::ES256).unwrap().public_jwk();
        assert_eq!(field(&ec, "kty"), "EC");
        assert_eq!(field(&ec, "crv"), "P-256");
        assert_eq!(field(&ec, "alg"), "ES256");
        assert_eq!(decode(field(&ec, "x")).len(), 32);
        assert_eq!(decode(field(&ec, "y")).len(), 32);
        assert!(ec.get("d").is_none());

        let ed = KeyPair::generate(SigningAlg::EdDSA).unwrap().public_jwk();
        assert_eq!(field(&ed, "kty"), "OKP");
        assert_eq!(field(&ed, "crv"), "Ed25519");
        assert_eq!(field(&ed, "alg"), "EdDSA");
        assert_eq!(field(&ed, "use"), "sig");
        assert_eq!(decode(field(&ed, "x")).len(), 32);
        assert!(ed.get("d").is_none() && ed.get("y").is_none());
    }

    #[test]
    fn x5c_is_the_der_cert_and_x5t_its_sha1() {
        for alg in SigningAlg::ASYMMETRIC {
            let key = KeyPair::generate(alg).unwrap();
            let jwk = key.public_jwk();
            let x5c = jwk.get("x5c").and_then(Value::as_array).unwrap();
            assert_eq!(x5c.len(), 1);
            let der = STANDARD
                .decode(x5c.first().unwrap().as_str().unwrap())
                .unwrap();
            assert_eq!(der, key.cert_der());
            // SEQUENCE with a long-form length.
            assert_eq!(der.first(), Some(&0x30));
            assert!(matches!(der.get(1), Some(0x81 | 0x82)));
            let cn = CERT_COMMON_NAME.as_bytes();
            assert!(der.windows(cn.len()).any(|w| w == cn));
            let sha1 = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
            assert_eq!(decode(field(&jwk, "x5t")), sha1.as_ref());
        }
    }

    /// RFC 7638 §3: SHA-256 of the required members, sorted, no whitespace.
    fn rfc7638_thumbprint(jwk: &Value) -> String {
        let members: &[&str] = match field(jwk, "kty") {
            "RSA" => &["e", "kty", "n"],
            "EC" => &["crv", "kty", "x", "y"],
            _ => &["crv", "kty", "x"],
        };
        let canonical = members
            .iter()
            .map(|m| format!(r#""{m}":"{}""#, field(jwk, m)))
            .collect::<Vec<_>>()
            .join(",");
        let hash = digest::digest(&digest::SHA256, format!("{{{canonical}}}").as_bytes());
        URL_SAFE_NO_PAD.encode(hash)
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint_prefix() {
        for alg in SigningAlg::ASYMMETRIC {
            let key = KeyPair::generate(alg).unwrap();
            let full = rfc7638_thumbprint(&key.public_jwk());
            assert_eq!(key.kid(), &full[..KID_LEN], "{alg:?}");
        }
        let a = KeyPair::generate(SigningAlg::EdDSA).unwrap();
        let b = KeyPair::generate(SigningAlg::EdDSA).unwrap();
        assert_ne!(a.kid(), b.kid());
    }

    #[test]
    fn from_parts_round_trips() {
        for alg in SigningAlg::ASYMMETRIC {
            let key = KeyPair::generate(alg).unwrap();
            let back = KeyPair::from_parts(
                key.kid().to_owned(),
                alg,
                key.pkcs8_der().to_vec(),
                key.cert_der().to_vec(),
            )
            .unwrap();
            assert_eq!(back.public_jwk(), key.public_jwk());
            assert_eq!(back.alg(), alg);
        }
    }

    #[test]
    fn from_parts_rejects_mismatches() {
        let rsa = KeyPair::generate(SigningAlg::RS256).unwrap();
        let ec = KeyPair::generate(SigningAlg::ES256).unwrap();
        let ec2 = KeyPair::generate(SigningAlg::ES256).unwrap();
        let parts = |alg, k: &KeyPair, cert: &KeyPair| {
            KeyPair::from_parts(
                "kid".into(),
                alg,
                k.pkcs8_der().to_vec(),
                cert.cert_der().to_vec(),
            )
        };
        // Key type does not fit the algorithm.
        assert!(matches!(
            parts(SigningAlg::ES256, &rsa, &rsa),
            Err(JoseError::InvalidKey(_))
        ));
        assert!(matches!(
            parts(SigningAlg::EdDSA, &ec, &ec),
            Err(JoseError::InvalidKey(_))
        ));
        assert!(matches!(
            parts(SigningAlg::HS256, &ec, &ec),
            Err(JoseError::UnsupportedAlg(_))
        ));
        // Certificate of another key.
        assert!(matches!(
            parts(SigningAlg::ES256, &ec, &ec2),
            Err(JoseError::InvalidKey(_))
        ));
        // Garbage.
        for (pkcs8, cert) in [
            (vec![], ec.cert_der().to_vec()),
            (vec![0x30, 0x03, 0x02, 0x01], ec.cert_der().to_vec()),
            (ec.pkcs8_der().to_vec(), vec![]),
            (ec.pkcs8_der().to_vec(), vec![0x04; 100]),
        ] {
            assert!(KeyPair::from_parts("kid".into(), SigningAlg::ES256, pkcs8, cert).is_err());
        }
        assert!(KeyPair::from_parts(
            String::new(),
            SigningAlg::ES256,
            ec.pkcs8_der().to_vec(),
            ec.cert_der().to_vec()
        )
        .is_err());
    }

    #[test]
    fn debug_redacts_the_private_key() {
        let key = KeyPair::generate(SigningAlg::EdDSA).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("[redacted]"));
        assert!(shown.contains(key.kid()));
        assert!(!shown.contains(&format!("{:?}", key.pkcs8_der())));
    }

    #[test]
    fn signatures_have_jws_sizes() {
        let sizes = [
            (SigningAlg::RS256, 256),
            (SigningAlg::PS256, 256),
            (SigningAlg::ES256, 64),
            (SigningAlg::EdDSA, 64),
        ];
        for (alg, len) in sizes {
            let key = KeyPair::generate(alg).unwrap();
            assert_eq!(key.sign(b"msg").unwrap().len(), len, "{alg:?}");
        }
    }

    #[test]
    fn jwks_serializes_as_keys() {
        let key = KeyPair::generate(SigningAlg::ES256).unwrap();
        let jwks = Jwks::from_key_pairs([&key]);
        let value = serde_json::to_value(&jwks).unwrap();
        assert_eq!(value, json!({ "keys": [key.public_jwk()] }));
    }
}
