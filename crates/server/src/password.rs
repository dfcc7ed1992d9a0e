//! Password hashing with argon2id (RFC 9106), OWASP's recommended parameters.
//! Hashing is CPU-bound, so callers in async code run it on the blocking pool,
//! at most one hash per core at a time: each one works in 19 MiB, and a burst
//! of logins must queue rather than multiply memory (and CPU contention) by
//! the number of requests in flight. The working memory is pooled and reused.

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// m = 19 MiB, t = 2, p = 1.
fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).unwrap_or_default()
}

/// Working memory of stored hashes with a larger `m` than this is not kept
/// for reuse (and hashes asking for more than 256 MiB are not computed).
const MAX_POOLED_BLOCKS: usize = 19 * 1024;
const MAX_BLOCKS: usize = 256 * 1024;

/// Argon2 working memory, reused across hashes: allocating 19 MiB per hash
/// costs a page fault per 4 KiB, and glibc keeps freed blocks of that size
/// resident in per-thread arenas. At most one buffer per hashing slot exists.
static BUFFERS: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Runs `work` in pooled memory; with `keep` false the buffer is freed after
/// (a one-off hash, so an idle process does not hold 19 MiB for it).
fn with_memory<T>(blocks: usize, keep: bool, work: impl FnOnce(&mut [Block]) -> T) -> T {
    let taken = BUFFERS.lock().unwrap_or_else(|p| p.into_inner()).pop();
    let mut buffer = taken.unwrap_or_default();
    if buffer.len() < blocks {
        buffer.resize(blocks, Block::default());
    }
    let result = work(&mut buffer[..blocks]);
    if keep && buffer.len() <= MAX_POOLED_BLOCKS {
        BUFFERS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(buffer);
    }
    result
}

/// A PHC string (`$argon2id$v=19$m=…`).
pub fn hash_password(password: &str) -> Result<String, String> {
    hash_password_keeping(password, true)
}

fn hash_password_keeping(password: &str, keep_memory: bool) -> Result<String, String> {
    let salt = SaltString::encode_b64(&gatehouse_core::ids::random_bytes(16))
        .map_err(|e| format!("argon2 salt: {e}"))?;
    let params = params();
    let mut raw_salt = [0u8; 64];
    let raw_salt = salt
        .as_salt()
        .decode_b64(&mut raw_salt)
        .map_err(|e| format!("argon2 salt: {e}"))?;
    let mut out = [0u8; 32];
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    with_memory(params.block_count(), keep_memory, |memory| {
        hasher.hash_password_into_with_memory(password.as_bytes(), raw_salt, &mut out, memory)
    })
    .map_err(|e| format!("argon2: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| format!("argon2: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| format!("argon2: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Checks a password against a PHC string (argon2id, argon2i or argon2d,
/// with the parameters it names); any malformed hash is a mismatch. The
/// comparison is constant-time.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from);
    let (Ok(version), Ok(params)) = (version, Params::try_from(&parsed)) else {
        return false;
    };
    if params.block_count() > MAX_BLOCKS {
        return false;
    }
    let mut raw_salt = [0u8; 64];
    let Ok(raw_salt) = salt.decode_b64(&mut raw_salt) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let hasher = Argon2::new(algorithm, version, params.clone());
    let computed = with_memory(params.block_count(), true, |memory| {
        hasher.hash_password_into_with_memory(password.as_bytes(), raw_salt, &mut out, memory)
    });
    computed.is_ok() && Output::new(&out).is_ok_and(|actual| actual == expected)
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

/// [`hash_password_blocking`] for a one-off hash (the first start's admin):
/// its working memory is freed at once rather than kept for the next login.
pub async fn hash_password_once(password: String) -> Result<String, String> {
    run_bounded(move || hash_password_keeping(&password, false)).await?
}

pub async fn verify_password_blocking(password: String, phc: String) -> bool {
    run_bounded(move || verify_password(&password, &phc))
        .await
        .unwrap_or(false)
}

/// What an unknown email (or a user without a password) is verified
/// against, with the same parameters as [`params`], so it costs the same
/// argon2id work as a wrong password and the answer's timing does not tell
/// whether the account exists.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$J9Y1z2n8m3mSgE0k2ZyF1g0B7Fz4b4Gm3qWm5k8s1yU";

/// How many times [`verify_password_or_dummy`] verified the dummy hash.
static DUMMY_VERIFICATIONS: AtomicU64 = AtomicU64::new(0);

/// Verifies `password` against the stored hash; without one (unknown user,
/// no password) verifies it against a dummy hash and answers false. Every
/// place a user's password is checked goes through here.
pub async fn verify_password_or_dummy(password: String, stored: Option<String>) -> bool {
    match stored {
        Some(phc) => verify_password_blocking(password, phc).await,
        None => {
            DUMMY_VERIFICATIONS.fetch_add(1, Ordering::Relaxed);
            let _ = verify_password_blocking(password, DUMMY_HASH.to_string()).await;
            false
        }
    }
}

/// The number of dummy verifications so far in this process (for tests
/// that check an unknown user costs a full verification).
pub fn dummy_verifications() -> u64 {
    DUMMY_VERIFICATIONS.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_has_the_real_parameters() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(parsed.algorithm, Algorithm::Argon2id.ident());
        let dummy = Params::try_from(&parsed).unwrap();
        let real = params();
        assert_eq!(
            (dummy.m_cost(), dummy.t_cost(), dummy.p_cost()),
            (real.m_cost(), real.t_cost(), real.p_cost())
        );
        assert!(!verify_password("anything", DUMMY_HASH));
    }

    #[tokio::test]
    async fn no_stored_hash_still_verifies_and_fails() {
        let before = dummy_verifications();
        assert!(!verify_password_or_dummy("pw".into(), None).await);
        assert!(dummy_verifications() > before);
        let real = hash_password("pw").unwrap();
        assert!(verify_password_or_dummy("pw".into(), Some(real)).await);
    }

    /// The crate's own PHC path (allocating its memory) and ours (pooled
    /// memory, PHC built by hand) agree in both directions, including for
    /// other parameters and variants.
    #[test]
    fn agrees_with_the_crates_own_phc_encoding() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let other = Params::new(8 * 1024, 3, 2, None).unwrap();
        for (algorithm, params) in [
            (Algorithm::Argon2id, params()),
            (Algorithm::Argon2i, other.clone()),
            (Algorithm::Argon2d, other),
        ] {
            let theirs = Argon2::new(algorithm, Version::V0x13, params)
                .hash_password(b"correct horse", &salt)
                .unwrap()
                .to_string();
            assert!(verify_password("correct horse", &theirs), "{theirs}");
            assert!(!verify_password("correct horsf", &theirs));
        }
        let ours = hash_password("correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }

    #[test]
    fn round_trip() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
