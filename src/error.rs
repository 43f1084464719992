//! Public errors: few, actionable, and free of secrets, codes, passwords and
//! personal data. The engine's detailed errors (`otp::SecretError`,
//! `otp::ParamError`, `otp::ocra::SuiteError`, …) convert into them; their
//! messages become the `reason`.

use crate::otp::ocra::{InputError, SuiteError};
use crate::otp::uri::UriError;
use crate::otp::{ParamError, SecretError};

/// Why an OTP operation was refused. Kotlin sees `OtpException`, Swift `OtpError`,
/// Python `OtpError`. The `reason` explains the fault in English and never contains
/// a secret or a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum OtpError {
    /// The secret is malformed (bad base32 or hex) or of a refused length (under 80 bits).
    #[error("invalid secret: {reason}")]
    InvalidSecret {
        /// What is wrong.
        reason: String,
    },
    /// A parameter is out of range: digits, period, window, time before T0, algorithm name.
    #[error("invalid parameter: {reason}")]
    InvalidParameter {
        /// What is wrong.
        reason: String,
    },
    /// The code to verify is not the expected number of decimal digits.
    #[error("malformed code: {reason}")]
    MalformedCode {
        /// What is wrong.
        reason: String,
    },
    /// The OCRA suite string is invalid; the reason names the invalid part.
    #[error("invalid OCRA suite: {reason}")]
    InvalidOcraSuite {
        /// What is wrong.
        reason: String,
    },
    /// The OCRA inputs do not match the suite (missing or extra counter, PIN, session data
    /// or timestamp; a question with characters outside its format or too long).
    #[error("invalid OCRA input: {reason}")]
    InvalidOcraInput {
        /// What is wrong.
        reason: String,
    },
    /// The otpauth:// URI is malformed.
    #[error("invalid otpauth URI: {reason}")]
    InvalidUri {
        /// What is wrong.
        reason: String,
    },
    /// The operating system's random source failed; retry later.
    #[error("the operating system's random source failed")]
    RandomSourceFailed,
}

impl From<SecretError> for OtpError {
    fn from(e: SecretError) -> Self {
        match e {
            SecretError::RandomSource => Self::RandomSourceFailed,
            e => Self::InvalidSecret { reason: e.to_string() },
        }
    }
}

impl From<ParamError> for OtpError {
    fn from(e: ParamError) -> Self {
        match e {
            ParamError::MalformedCode { .. } => Self::MalformedCode { reason: e.to_string() },
            e => Self::InvalidParameter { reason: e.to_string() },
        }
    }
}

impl From<SuiteError> for OtpError {
    fn from(e: SuiteError) -> Self {
        Self::InvalidOcraSuite { reason: e.to_string() }
    }
}

impl From<InputError> for OtpError {
    fn from(e: InputError) -> Self {
        match e {
            InputError::Param(p) => p.into(),
            e => Self::InvalidOcraInput { reason: e.to_string() },
        }
    }
}

impl From<UriError> for OtpError {
    fn from(e: UriError) -> Self {
        Self::InvalidUri { reason: e.to_string() }
    }
}
