//! The ceilings that bound Gatehouse on this machine, measured in-process on
//! every core: raw RS256 and ES256 JWT signing (client_credentials tokens/s
//! cannot beat them) and raw argon2id verification (password-grant logins/s
//! cannot beat it).

use super::gatehouse::PASSWORD;
use gatehouse_core::jose::{sign_jwt, KeyPair};
use gatehouse_core::model::SigningAlg;
use serde::Serialize;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Operations per second, all threads together (or per core).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Ceilings {
    #[serde(rename = "RS256")]
    pub rs256: f64,
    #[serde(rename = "ES256")]
    pub es256: f64,
    pub argon2id: f64,
}

impl Ceilings {
    /// Each ceiling over `window` on `threads` threads (blocking; run it off
    /// the async workers).
    pub fn measure(window: Duration, threads: usize) -> Result<Self, String> {
        Ok(Self {
            rs256: signing_rate(SigningAlg::RS256, window, threads)?,
            es256: signing_rate(SigningAlg::ES256, window, threads)?,
            argon2id: argon2_rate(window, threads)?,
        })
    }

    pub fn per_core(&self, threads: usize) -> Self {
        let n = threads.max(1) as f64;
        Self {
            rs256: self.rs256 / n,
            es256: self.es256 / n,
            argon2id: self.argon2id / n,
        }
    }

    pub fn rounded(&self) -> Self {
        Self {
            rs256: self.rs256.round(),
            es256: self.es256.round(),
            argon2id: self.argon2id.round(),
        }
    }
}

/// Runs `work` on `threads` OS threads for `window`; returns operations/s.
fn parallel_rate(
    threads: usize,
    window: Duration,
    work: impl Fn() -> Result<(), String> + Send + Sync + 'static,
) -> Result<f64, String> {
    let work = Arc::new(work);
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let (work, count, stop) = (work.clone(), count.clone(), stop.clone());
            std::thread::spawn(move || -> Result<(), String> {
                while !stop.load(Ordering::Relaxed) {
                    work()?;
                    count.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    std::thread::sleep(window);
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        handle
            .join()
            .map_err(|_| "benchmark thread panicked".to_string())??;
    }
    Ok(count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

fn signing_rate(alg: SigningAlg, window: Duration, threads: usize) -> Result<f64, String> {
    let key = Arc::new(KeyPair::generate(alg).map_err(|e| e.to_string())?);
    let claims = json!({"iss": "https://bench/", "sub": "x@clients", "aud": super::RS256_API, "iat": 1, "exp": 2, "scope": "read"});
    parallel_rate(threads, window, move || {
        sign_jwt(&key, "JWT", &claims)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

fn argon2_rate(window: Duration, threads: usize) -> Result<f64, String> {
    let hash = gatehouse_server::password::hash_password(PASSWORD)?;
    parallel_rate(threads, window, move || {
        if gatehouse_server::password::verify_password(PASSWORD, &hash) {
            Ok(())
        } else {
            Err("argon2 verify failed".into())
        }
    })
}
