//! The parameters HOTP, TOTP, OCRA and Key URIs share: the HMAC hash, the limits on
//! digits, periods and windows, and the error of a parameter out of range.

use std::fmt;
use std::str::FromStr;

/// HMAC hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// HMAC-SHA-1, the default of RFC 4226 and most authenticator apps.
    #[default]
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

impl Algorithm {
    /// The name used in otpauth URIs and OCRA suites: `SHA1`, `SHA256`, `SHA512`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    /// Output length of the hash in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = ParamError;
    /// Accepts `SHA1`, `SHA256`, `SHA512`, in any case, with or without a hyphen (`sha-256`).
    fn from_str(s: &str) -> Result<Self, ParamError> {
        let upper: String =
            s.chars().filter(|c| *c != '-').collect::<String>().to_ascii_uppercase();
        match upper.as_str() {
            "SHA1" => Ok(Self::Sha1),
            "SHA256" => Ok(Self::Sha256),
            "SHA512" => Ok(Self::Sha512),
            _ => Err(ParamError::UnknownAlgorithm),
        }
    }
}

/// Fewest digits accepted for HOTP/TOTP codes.
pub const MIN_DIGITS: u8 = 6;
/// Most digits: a 31-bit truncated value has at most 10 decimal digits.
pub const MAX_DIGITS: u8 = 10;
/// Longest TOTP period accepted, in seconds (one hour).
pub const MAX_PERIOD: u64 = 3600;
/// Widest verification window accepted on each side, in steps.
pub const MAX_WINDOW: u32 = 100;

/// Bad parameters or inputs for HOTP/TOTP. Messages never contain secrets or codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// Digits outside the accepted range.
    #[error("digits must be between {min} and {max}, got {got}")]
    Digits {
        /// Given.
        got: u64,
        /// Lowest accepted.
        min: u8,
        /// Highest accepted.
        max: u8,
    },
    /// Period zero or above [`MAX_PERIOD`].
    #[error("the period must be between 1 and {MAX_PERIOD} seconds, got {0}")]
    Period(u64),
    /// Window wider than [`MAX_WINDOW`].
    #[error("the verification window may span at most {MAX_WINDOW} steps on each side")]
    Window,
    /// A time earlier than T0.
    #[error("the time {time} is earlier than T0 ({t0})")]
    BeforeT0 {
        /// Given time (Unix seconds).
        time: u64,
        /// T0 (Unix seconds).
        t0: u64,
    },
    /// A computation would leave the range of 64-bit numbers.
    #[error("the time or counter is out of range")]
    Overflow,
    /// The hash name is not SHA1, SHA256 or SHA512.
    #[error("unknown algorithm (expected SHA1, SHA256 or SHA512)")]
    UnknownAlgorithm,
    /// A code of the wrong length or with characters other than digits.
    #[error("a code must be exactly {digits} decimal digits")]
    MalformedCode {
        /// Expected length.
        digits: u8,
    },
}

/// Checks a digit count against `min..=MAX_DIGITS`.
pub(crate) fn check_digits(digits: u64, min: u8) -> Result<u8, ParamError> {
    if digits < u64::from(min) || digits > u64::from(MAX_DIGITS) {
        return Err(ParamError::Digits { got: digits, min, max: MAX_DIGITS });
    }
    Ok(digits as u8)
}
