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
/// The device-flow user code's alphabet: consonants without look-alikes.
const USER_CODE_LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

/// `len` characters drawn uniformly from `alphabet` (at most 256 symbols):
/// random bytes from the last incomplete round of the alphabet are skipped,
/// which would otherwise favour its first symbols.
fn random_from(alphabet: &[u8], len: usize) -> String {
    let unbiased_below = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let missing = len - out.len();
        out.extend(
            random_bytes(len)
                .into_iter()
                .filter(|&b| usize::from(b) < unbiased_below)
                .filter_map(|b| alphabet.get(usize::from(b) % alphabet.len()))
                .map(|&symbol| char::from(symbol))
                .take(missing),
        );
    }
    out
}

/// A random alphanumeric string of `len` characters (unbiased).
pub fn random_alphanumeric(len: usize) -> String {
    random_from(ALPHANUMERIC, len)
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
    let mut code = random_from(USER_CODE_LETTERS, 8);
    code.insert(4, '-');
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

    #[test]
    fn draws_cover_their_alphabet_and_nothing_else() {
        let drawn = random_from(USER_CODE_LETTERS, 2000);
        assert_eq!(drawn.len(), 2000);
        assert!(drawn.bytes().all(|b| USER_CODE_LETTERS.contains(&b)));
        let unseen: Vec<char> = USER_CODE_LETTERS
            .iter()
            .map(|&b| char::from(b))
            .filter(|&c| !drawn.contains(c))
            .collect();
        assert!(unseen.is_empty(), "{unseen:?}");
        let code = user_code();
        assert_eq!(code.as_bytes()[4], b'-', "{code}");
        let letters = code.replacen('-', "", 1);
        assert_eq!(letters.len(), 8, "{code}");
        assert!(
            letters.bytes().all(|b| USER_CODE_LETTERS.contains(&b)),
            "{code}"
        );
    }
}
