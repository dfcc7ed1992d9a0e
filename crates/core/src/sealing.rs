//! Sealing secrets at rest: AES-256-GCM under the master key (the
//! key-encryption key, 32 random bytes).
//!
//! A sealed value is text: `sealed:v1:` + base64url (no padding) of
//! `nonce (12 bytes) || ciphertext || tag (16 bytes)`, with a fresh random
//! nonce per seal. The caller's context (for a signing key: its algorithm and
//! kid, see [`signing_key_context`]) is the associated data, so a sealed value
//! only opens in the row it was written for.
//!
//! The master key's text form is base64url without padding (43 characters);
//! 64 hexadecimal digits are accepted as well.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The prefix of the current sealed format.
pub const SEALED_PREFIX: &str = "sealed:v1:";
const MASTER_KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// Why a value could not be unsealed or a master key not read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// The tag did not verify: another master key, another context, or a
    /// changed ciphertext.
    #[error("the master key does not match the one the signing keys were sealed with")]
    Mismatch,
    /// Not in the sealed format; says which part is wrong.
    #[error("not a sealed value ({0})")]
    Malformed(&'static str),
    /// The master key's text is neither of its two forms.
    #[error("the master key must be 32 bytes as base64url (43 characters) or hex (64 digits)")]
    BadMasterKey,
}

/// The key-encryption key. Its bytes never appear in `Debug` output and are
/// zeroed (best effort) when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey([u8; MASTER_KEY_LEN]);

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.0 = [0; MASTER_KEY_LEN];
        std::hint::black_box(&self.0);
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// A new random key from the system CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; MASTER_KEY_LEN];
        bytes.copy_from_slice(&crate::ids::random_bytes(MASTER_KEY_LEN));
        Self(bytes)
    }

    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; MASTER_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Parses the text form (surrounding whitespace, e.g. a file's final
    /// newline, is ignored).
    pub fn parse(text: &str) -> Result<Self, SealError> {
        let text = text.trim();
        let bytes = if text.len() == 2 * MASTER_KEY_LEN {
            (0..MASTER_KEY_LEN)
                .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2).unwrap_or("-"), 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| SealError::BadMasterKey)?
        } else {
            URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .map_err(|_| SealError::BadMasterKey)?
        };
        let bytes: [u8; MASTER_KEY_LEN] = bytes.try_into().map_err(|_| SealError::BadMasterKey)?;
        Ok(Self(bytes))
    }

    /// The text form: base64url without padding.
    pub fn to_text(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    fn aead_key(&self) -> LessSafeKey {
        // AES-256 accepts every 32-byte key.
        LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &self.0).unwrap_or_else(|_| std::process::abort()),
        )
    }
}

/// The associated data binding a sealed signing key to its row.
pub fn signing_key_context(alg: &str, kid: &str) -> String {
    format!("gatehouse signing key\0{alg}\0{kid}")
}

/// Whether `stored` is in a sealed format (of any version).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with("sealed:")
}

/// Seals `plaintext` for `context` under `key`.
pub fn seal(key: &MasterKey, context: &str, plaintext: &[u8]) -> String {
    let nonce_bytes: [u8; NONCE_LEN] = crate::ids::random_bytes(NONCE_LEN)
        .try_into()
        .unwrap_or_else(|_| std::process::abort());
    let mut in_out = plaintext.to_vec();
    // Sealing only fails for inputs far beyond GCM's 64 GiB limit.
    key.aead_key()
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(context.as_bytes()),
            &mut in_out,
        )
        .unwrap_or_else(|_| std::process::abort());
    let mut blob = nonce_bytes.to_vec();
    blob.extend_from_slice(&in_out);
    format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(blob))
}

/// Opens a value [`seal`] wrote for `context` under `key`.
pub fn unseal(key: &MasterKey, context: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
    let encoded = sealed
        .strip_prefix(SEALED_PREFIX)
        .ok_or(if is_sealed(sealed) {
            SealError::Malformed("unknown version")
        } else {
            SealError::Malformed("no sealed:v1: prefix")
        })?;
    let blob = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| SealError::Malformed("bad base64url"))?;
    if blob.len() < NONCE_LEN + TAG_LEN {
        return Err(SealError::Malformed("too short"));
    }
    let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
    let nonce =
        Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Malformed("nonce"))?;
    let mut in_out = ciphertext.to_vec();
    let plaintext = key
        .aead_key()
        .open_in_place(nonce, Aad::from(context.as_bytes()), &mut in_out)
        .map_err(|_| SealError::Mismatch)?;
    Ok(plaintext.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTEXT: &str = "gatehouse signing key\0RS256\0kid-1";

    #[test]
    fn round_trip() {
        let key = MasterKey::generate();
        let sealed = seal(&key, CONTEXT, b"private key bytes");
        assert!(sealed.starts_with(SEALED_PREFIX));
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("private"));
        assert_eq!(
            unseal(&key, CONTEXT, &sealed).unwrap(),
            b"private key bytes"
        );
        // A fresh nonce every time.
        assert_ne!(sealed, seal(&key, CONTEXT, b"private key bytes"));
    }

    #[test]
    fn wrong_key_is_a_mismatch() {
        let sealed = seal(&MasterKey::generate(), CONTEXT, b"secret");
        assert_eq!(
            unseal(&MasterKey::generate(), CONTEXT, &sealed),
            Err(SealError::Mismatch)
        );
    }

    #[test]
    fn tampered_ciphertext_is_refused() {
        let key = MasterKey::generate();
        let sealed = seal(&key, CONTEXT, b"secret");
        let mut blob = URL_SAFE_NO_PAD
            .decode(sealed.strip_prefix(SEALED_PREFIX).unwrap())
            .unwrap();
        let last = blob.len() - TAG_LEN - 1;
        blob[last] ^= 1;
        let tampered = format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(&blob));
        assert_eq!(unseal(&key, CONTEXT, &tampered), Err(SealError::Mismatch));
        let truncated = &sealed[..SEALED_PREFIX.len() + 20];
        assert!(matches!(
            unseal(&key, CONTEXT, truncated),
            Err(SealError::Malformed(_))
        ));
    }

    #[test]
    fn a_value_sealed_for_one_row_does_not_open_in_another() {
        let key = MasterKey::generate();
        let sealed = seal(&key, &signing_key_context("RS256", "kid-1"), b"secret");
        for other in [
            signing_key_context("RS256", "kid-2"),
            signing_key_context("PS256", "kid-1"),
        ] {
            assert_eq!(unseal(&key, &other, &sealed), Err(SealError::Mismatch));
        }
    }

    #[test]
    fn plain_and_unknown_versions_are_not_opened() {
        let key = MasterKey::generate();
        assert!(!is_sealed("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"));
        assert_eq!(
            unseal(&key, CONTEXT, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
            Err(SealError::Malformed("no sealed:v1: prefix"))
        );
        assert_eq!(
            unseal(&key, CONTEXT, "sealed:v9:AAAA"),
            Err(SealError::Malformed("unknown version"))
        );
    }

    #[test]
    fn master_key_text_forms() {
        let key = MasterKey::generate();
        let text = key.to_text();
        assert_eq!(text.len(), 43);
        assert_eq!(MasterKey::parse(&format!("{text}\n")).unwrap(), key);
        let hex: String = key.0.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(MasterKey::parse(&hex).unwrap(), key);
        for bad in ["", "short", &text[..42], &hex[..62], &"zz".repeat(32)] {
            assert_eq!(MasterKey::parse(bad), Err(SealError::BadMasterKey), "{bad}");
        }
        assert_eq!(format!("{key:?}"), "MasterKey([redacted])");
    }
}
