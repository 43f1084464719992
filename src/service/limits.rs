//! Rate limits (governor's GCRA, in memory, per instance): per API key on every channel
//! call, per customer on verification, per device on unlock, and per customer's code and
//! per device on registration. They slow a flood or an online guesser down; the
//! issuer's own counts (ten wrong codes lock the device, five unconfirmed password
//! evaluations lock the app) hold in the database whatever the limits, across instances.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::reply::ApiError;
use crate::crypto::hex;

/// The limits, in requests per minute (with a burst of the same size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Channel calls per API key.
    pub per_key_per_minute: u32,
    /// Verifications per customer (institution and customer id), unlocks per device
    /// (institution and serial number), and registration requests per customer's code
    /// (the request's lookup) and per device (its binding).
    pub per_customer_per_minute: u32,
}

impl Default for Limits {
    /// 6,000 calls a minute per key; 20 verifications a minute per customer.
    fn default() -> Self {
        Limits { per_key_per_minute: 6_000, per_customer_per_minute: 20 }
    }
}

/// The limiters of one instance.
pub struct Limiters {
    per_key: DefaultKeyedRateLimiter<String>,
    per_customer: DefaultKeyedRateLimiter<String>,
    calls: AtomicU64,
}

fn quota(per_minute: u32) -> Quota {
    let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(n).allow_burst(n)
}

fn check(limiter: &DefaultKeyedRateLimiter<String>, key: &str) -> Result<(), ApiError> {
    limiter.check_key(&key.to_owned()).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::too_many(wait.as_secs().max(1))
    })
}

impl Limiters {
    /// Limiters for `limits`.
    pub fn new(limits: Limits) -> Self {
        Limiters {
            per_key: RateLimiter::keyed(quota(limits.per_key_per_minute)),
            per_customer: RateLimiter::keyed(quota(limits.per_customer_per_minute)),
            calls: AtomicU64::new(0),
        }
    }

    /// Counts a channel call of the key `key_id` (429 past the limit).
    pub fn key(&self, key_id: &str) -> Result<(), ApiError> {
        // Forget idle keys now and then, so that the maps stay small.
        if self.calls.fetch_add(1, Ordering::Relaxed) % 10_000 == 9_999 {
            self.per_key.retain_recent();
            self.per_customer.retain_recent();
        }
        check(&self.per_key, key_id)
    }

    /// Counts a verification for the customer (429 past the limit).
    pub fn customer(&self, institution: &str, customer: &str) -> Result<(), ApiError> {
        check(&self.per_customer, &format!("{institution}\u{0}customer\u{0}{customer}"))
    }

    /// Counts an unlock for the device (429 past the limit).
    pub fn device(&self, institution: &str, serial: &str) -> Result<(), ApiError> {
        check(&self.per_customer, &format!("{institution}\u{0}device\u{0}{serial}"))
    }

    /// Counts a registration request for the customer's outstanding code (`lookup`, which
    /// the app derives from the institution and the phone number) and for the device
    /// (`binding`, the salted hash of phone number and device id): 429 past either limit.
    pub fn registration(
        &self,
        institution: &str,
        lookup: &[u8; 32],
        binding: &[u8; 32],
    ) -> Result<(), ApiError> {
        check(&self.per_customer, &format!("{institution}\u{0}code\u{0}{}", hex(lookup)))?;
        check(&self.per_customer, &format!("{institution}\u{0}binding\u{0}{}", hex(binding)))
    }
}
