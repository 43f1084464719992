//! What the host platform provides: the foreign traits an app (or a bank's backend)
//! implements in Kotlin, Swift, Python or Rust, and their one error type. Nothing here
//! depends on the rest of the crate.
//!
//! Re-entry: the SDK may hold one of its own locks while it calls these methods, so an
//! implementation must not call back into the SDK (not even to read), and must not
//! block for long (a keystore operation or a clock read, not a network round trip).

/// The error of every foreign callback (`SecureStore`, `Clock`, `SmsGateway`):
/// implementations throw `Failed` with a reason; anything unexpected that a callback
/// throws arrives as `Unexpected`. Kotlin sees `HostException`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum HostError {
    /// The callback failed for a reason it explains (never put secrets in it).
    #[error("{reason}")]
    Failed {
        /// What went wrong.
        reason: String,
    },
    /// The callback threw something other than `HostError`.
    #[error("unexpected error in a callback: {reason}")]
    Unexpected {
        /// The foreign exception's description.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for HostError {
    /// Keeps only the first line of the foreign exception (bounded): Kotlin passes a whole
    /// stack trace, which could carry whatever the app put in its messages.
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        let first = e.reason.lines().next().unwrap_or("").trim();
        let reason: String = first.chars().take(200).collect();
        Self::Unexpected { reason }
    }
}

/// Key-value storage the app provides, backed by the platform keystore.
///
/// Contract: `write` replaces the value atomically (a reader sees the old or the new
/// value, never a mix); `delete` of a missing key succeeds; errors are thrown as
/// `HostError`. The SDK reads back what it wrote where it matters (the password failure
/// counter, registration) and reports a store that loses writes. The SDK serializes its
/// own read-modify-write cycles and holds a lock while it calls the store: an
/// implementation must not call back into the SDK.
#[uniffi::export(with_foreign)]
pub trait SecureStore: Send + Sync {
    /// The value stored under `key`, or null if there is none.
    fn read(&self, key: String) -> Result<Option<Vec<u8>>, HostError>;
    /// Stores `value` under `key`, replacing any previous value atomically.
    fn write(&self, key: String, value: Vec<u8>) -> Result<(), HostError>;
    /// Removes `key`. Removing a missing key is not an error.
    fn delete(&self, key: String) -> Result<(), HostError>;
}

/// A source of the current time. The SDK uses [`SystemClock`] unless the app gives its own
/// (tests do, to move time). Implementations must not block and must not call back into
/// the SDK; a clock that cannot tell the time throws `HostError` (the SDK reports it as
/// an internal error).
#[uniffi::export(with_foreign)]
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_unix_seconds(&self) -> Result<u64, HostError>;
}

/// The bank's SMS gateway, implemented by the bank (from Kotlin, Python or Rust). Used
/// to send the 5-digit verification code of face-to-face issuance. The issuer calls it
/// after the verification code is committed, outside its database transaction; an
/// implementation must not call back into the issuer. (Feature `issuer`: the mobile
/// library has no use for it.)
#[cfg(feature = "issuer")]
#[uniffi::export(with_foreign)]
pub trait SmsGateway: Send + Sync {
    /// Sends `message` to `phone_number` (E.164).
    fn send(&self, phone_number: String, message: String) -> Result<(), HostError>;
}

/// The operating system's clock: the SDK's only source of the system time.
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
