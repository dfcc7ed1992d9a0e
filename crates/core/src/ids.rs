//! Random identifiers and secrets.
//!
//! Every identifier that a client could guess must not be guessable: codes,
//! refresh tokens, session ids and secrets carry at least 256 bits from the
//! system CSPRNG. Object ids follow Auth0's visible prefixes (`rol_`, `cgr_`,
//! `auth0|<24 hex>`) so they look familiar in SDK output.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// `n` random bytes from the system CSPRNG.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    // The system RNG only fails if the OS cannot provide entropy; nothing sane
    // can be issued then, so that is fatal.
    SystemRandom::new()
        .fill(&mut buf)
        .unwrap_or_else(|_| std::process::abort());
    buf
}

/// A URL-safe random token with `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(bytes))
}

/// Lowercase hex of `bytes` random bytes.
pub fn random_hex(bytes: usize) -> String {
    random_bytes(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A random alphanumeric string of `len` characters (unbiased).
pub fn random_alphanumeric(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes(len) {
            // 248 = 62 * 4: reject the tail to avoid modulo bias.
            if b < 248 && out.len() < len {
                out.push(ALPHANUMERIC[usize::from(b) % 62] as char);
            }
        }
    }
    out
}

/// Object id with Auth0's prefix style, e.g. `rol_` + 16 alphanumerics.
pub fn prefixed(prefix: &str) -> String {
    format!("{prefix}_{}", random_alphanumeric(16))
}

/// A database user id: `auth0|` + 24 hex characters.
pub fn user_id() -> String {
    format!("auth0|{}", random_hex(12))
}

/// A client id: 32 alphanumerics, like Auth0's.
pub fn client_id() -> String {
    random_alphanumeric(32)
}

/// A client secret: 64 URL-safe characters (48 bytes of entropy).
pub fn client_secret() -> String {
    random_token(48)
}

/// A device-flow user code: 8 letters from an alphabet without look-alikes, as `ABCD-EFGH`.
pub fn user_code() -> String {
    const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut code = String::with_capacity(9);
    let mut n = 0;
    while n < 8 {
        for b in random_bytes(16) {
            // 240 = 20 * 12
            if b < 240 && n < 8 {
                if n == 4 {
                    code.push('-');
                }
                code.push(LETTERS[usize::from(b) % 20] as char);
                n += 1;
            }
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(random_token(32).len(), 43);
        assert!(user_id().starts_with("auth0|"));
        assert_eq!(user_id().len(), "auth0|".len() + 24);
        assert_eq!(client_id().len(), 32);
        assert!(client_id().chars().all(|c| c.is_ascii_alphanumeric()));
        let code = user_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert_ne!(random_token(32), random_token(32));
        assert!(prefixed("rol").starts_with("rol_"));
    }
}
