//! Where the current time comes from.
//!
//! Gatehouse keeps time as seconds since the Unix epoch. Protocol code takes
//! `now` as an argument; the edges (the server's state, the CLI) read it from
//! a [`Clock`]: the [`SystemClock`] in production, a [`ManualClock`] in tests,
//! which stands still until a test moves it, so expiry is tested without
//! waiting.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in epoch seconds.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time, in seconds since the Unix epoch.
    fn now(&self) -> i64;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}

/// A clock that shows a set time until it is set or advanced: fixed when left
/// alone, advancing when a test says so.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `epoch_seconds`.
    pub fn at(epoch_seconds: i64) -> Self {
        Self(AtomicI64::new(epoch_seconds))
    }

    /// A clock showing the system time of its creation.
    pub fn starting_now() -> Self {
        Self::at(SystemClock.now())
    }

    /// Moves the clock forward (or back, for a negative `seconds`).
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sets the clock to `epoch_seconds`.
    pub fn set(&self, epoch_seconds: i64) {
        self.0.store(epoch_seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_reads_the_present() {
        // 2024-01-01, a date every machine running these tests is past.
        assert!(SystemClock.now() > 1_704_067_200);
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(1_000);
        assert_eq!(clock.now(), 1_000);
        assert_eq!(clock.now(), 1_000);
        clock.advance(61);
        assert_eq!(clock.now(), 1_061);
        clock.set(5);
        assert_eq!(clock.now(), 5);
    }

    #[test]
    fn a_manual_clock_starting_now_is_near_the_system_clock() {
        let before = SystemClock.now();
        let clock = ManualClock::starting_now();
        assert!((before..=SystemClock.now()).contains(&clock.now()));
    }

    #[test]
    fn clocks_are_shared_as_trait_objects() {
        let manual = std::sync::Arc::new(ManualClock::at(7));
        let shared: std::sync::Arc<dyn Clock> = manual.clone();
        manual.advance(3);
        assert_eq!(shared.now(), 10);
    }
}
