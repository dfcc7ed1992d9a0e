//! Secrets at rest and comparisons in constant time.
//!
//! Client secrets, authorization codes, refresh tokens, device codes and opaque
//! access tokens are random values of at least 256 bits, so a fast hash is
//! enough to store them: SHA-256, hex. Passwords use argon2id (server side).

use aws_lc_rs::digest::{digest, SHA256};

/// The shortest client secret an operator may choose (seed files, bootstrap
/// presets): a secret is a password anyone who reaches the token endpoint can
/// guess at, and the fast hash above assumes it is not guessable. Generated
/// secrets are far longer.
pub const MIN_CLIENT_SECRET_CHARS: usize = 32;

/// SHA-256 of a high-entropy secret, lowercase hex: what the store keeps.
pub fn hash_token(secret: &str) -> String {
    digest(&SHA256, secret.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares in time independent of where the inputs differ (aws-lc's
/// `CRYPTO_memcmp`); only the lengths, which are public, may show.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// Checks a presented secret against its stored hash.
pub fn verify_token(presented: &str, stored_hash: &str) -> bool {
    constant_time_eq(hash_token(presented).as_bytes(), stored_hash.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_verifies() {
        let h = hash_token("abc");
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(verify_token("abc", &h));
        assert!(!verify_token("abd", &h));
        assert!(!constant_time_eq(b"a", b"ab"));
        assert!(!constant_time_eq(b"ab", b"ac"));
        assert!(constant_time_eq(b"ab", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
