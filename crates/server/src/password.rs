//! Password hashing with argon2id (RFC 9106), OWASP's recommended parameters.
//! Hashing is CPU-bound, so callers in async code run it on the blocking pool,
//! at most one hash per core at a time: each one holds 19 MiB, and a burst of
//! logins must queue rather than multiply memory (and CPU contention) by the
//! number of requests in flight.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// m = 19 MiB, t = 2, p = 1.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=…`).
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&gatehouse_core::ids::random_bytes(16))
        .map_err(|e| format!("argon2 salt: {e}"))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("argon2: {e}"))
}

/// Checks a password against a PHC string; any malformed hash is a mismatch.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Runs `work` on the blocking pool once one of the per-core hashing slots
/// is free.
async fn run_bounded<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    });
    let _slot = slots
        .acquire()
        .await
        .map_err(|e| format!("argon2 slot: {e}"))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| format!("argon2 task: {e}"))
}

/// Async wrappers that keep argon2 off the request threads.
pub async fn hash_password_blocking(password: String) -> Result<String, String> {
    run_bounded(move || hash_password(&password)).await?
}

pub async fn verify_password_blocking(password: String, phc: String) -> bool {
    run_bounded(move || verify_password(&password, &phc))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
