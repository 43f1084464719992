//! Time, injectable: the app (or a test) may supply its own clock.

use crate::error::HostError;

/// A source of the current time. The SDK uses [`SystemClock`] unless the app gives its own
/// (tests do, to move time). Implementations must not block.
#[uniffi::export(with_foreign)]
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_unix_seconds(&self) -> Result<u64, HostError>;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_seconds(&self) -> Result<u64, HostError> {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .map_err(|_| HostError::Failed { reason: "the system clock is before 1970".into() })
    }
}

/// A clock that stays where it is set, for tests and demos.
#[derive(Debug, Default)]
pub struct FixedClock {
    now: std::sync::atomic::AtomicU64,
}

impl FixedClock {
    /// A clock showing `now`.
    pub fn new(now: u64) -> Self {
        Self { now: now.into() }
    }
    /// Moves the clock to `now`.
    pub fn set(&self, now: u64) {
        self.now.store(now, std::sync::atomic::Ordering::SeqCst);
    }
    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: u64) {
        self.now.fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_unix_seconds(&self) -> Result<u64, HostError> {
        Ok(self.now.load(std::sync::atomic::Ordering::SeqCst))
    }
}
