//! JOSE: signing keys, JWKS, and compact JWS/JWT signing and verification.
//!
//! Signatures are checked, and HS256 signatures made, by `jsonwebtoken` on its
//! `aws-lc-rs` backend, which also supplies the JWK model and thumbprints. Key
//! generation, parsing of private keys, asymmetric signing with a key parsed
//! once, and hashing stay with `aws-lc-rs`; the self-signed certificates
//! published as `x5c` are built with `rcgen` on the same backend.
//!
//! - [`keys`]: [`KeyPair`], a tenant signing key (RS256, PS256, ES256 or EdDSA)
//!   with its `kid`, PKCS#8 private key, self-signed certificate and public JWK;
//!   [`KeyState`], its place in the rotation; [`Jwks`], the document served at
//!   `/.well-known/jwks.json` (auth0-compat.md §5).
//! - [`jwk`]: [`VerifyingKey`], a public key parsed from a JWK (a client's
//!   `private_key_jwt` key, or a key from a fetched JWKS), and helpers to pick
//!   the key a token names.
//! - [`jwt`]: compact JWS signing ([`sign_jwt`], [`sign_jwt_hs256`]),
//!   verification ([`verify_jwt`], [`verify_jwt_hs256`]), unverified decoding
//!   for routing ([`decode_unverified`]) and the OIDC `at_hash`/`c_hash`
//!   ([`half_hash`]).
//!
//! Verification checks the signature only: `alg: none` is always refused, the
//! algorithm must be in the caller's allow-list and must fit the key type, and
//! `crit` headers are refused. Claim checks (`exp`, `iss`, `aud`, …) belong to
//! the caller. Nothing here panics on input that came from outside.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod jwk;
pub mod jwt;
pub mod keys;

pub use jwk::{parse_jwks, select_key, VerifyingKey};
pub use jwt::{
    decode_unverified, half_hash, sign_jwt, sign_jwt_hs256, verify_jwt, verify_jwt_hs256, Header,
};
pub use keys::{Jwks, KeyPair, KeyState};

/// Why a JOSE operation failed: one variant per failed check.
///
/// The messages are for logs; the HTTP layer maps these to an OAuth error and
/// never sends them to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    /// Not a compact JWS (three base64url parts), or a part is not the JSON it should be.
    #[error("malformed JWS")]
    Malformed,
    /// An algorithm Gatehouse does not implement (including `none`).
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlg(String),
    /// A supported algorithm that the caller did not allow here.
    #[error("algorithm not allowed: {0}")]
    AlgNotAllowed(String),
    /// The algorithm does not fit the key (wrong key type, curve, or the JWK's own `alg`).
    #[error("algorithm {0} does not fit the key")]
    KeyAlgMismatch(String),
    /// The header has a `crit` member; no JWS extensions are understood (RFC 7515 §4.1.11).
    #[error("unsupported critical header parameter")]
    CriticalHeader,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// No key matches the token's `kid`.
    #[error("signing key not found")]
    KeyNotFound,
    /// A key (JWK, PKCS#8, certificate or secret) is unusable; the text says why.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The crypto backend failed (key generation, signing, certificate building).
    #[error("cryptographic operation failed")]
    Crypto,
}

/// Check a JWS signature (base64url, as in the token) over `message` with
/// `jsonwebtoken`. The caller has checked that `alg` fits `key`.
pub(crate) fn verify_with(
    key: &jsonwebtoken::DecodingKey,
    alg: jsonwebtoken::Algorithm,
    message: &[u8],
    signature: &str,
) -> Result<(), JoseError> {
    use jsonwebtoken::errors::ErrorKind;
    match jsonwebtoken::crypto::verify(signature, message, key, alg) {
        Ok(true) => Ok(()),
        Err(e) if matches!(e.kind(), ErrorKind::Base64(_)) => Err(JoseError::Malformed),
        Ok(false) | Err(_) => Err(JoseError::BadSignature),
    }
}

/// base64url without padding, as JOSE uses everywhere (RFC 7515 §2).
pub(crate) fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
