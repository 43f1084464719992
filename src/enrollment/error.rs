//! The enrollment protocol's constants and its one error. Messages never contain codes,
//! keys or personal data.

use std::fmt;

use crate::crypto::CryptoError;

/// The protocol name in every message.
pub const PROTOCOL: &str = "digital-otp/registration";
/// The protocol version this SDK speaks.
pub const VERSION: u32 = 1;
/// Largest message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 8192;
/// Digits in a registration code, check digit included.
pub const CODE_DIGITS: usize = 12;
/// How long a credential is valid: 3 years.
pub const VALIDITY_SECONDS: u64 = 3 * 365 * 24 * 3600 + 24 * 3600;

/// Protocol and input faults. Messages never contain codes, keys or personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// A registration code that is not 12 digits.
    #[error("a registration code is {CODE_DIGITS} digits (spaces and hyphens allowed)")]
    CodeFormat,
    /// A registration code whose check digit does not match: a typing mistake.
    #[error("the registration code has a typing mistake (its check digit does not match)")]
    CodeCheckDigit,
    /// A phone number that cannot be normalized to E.164.
    #[error("invalid phone number: {0}")]
    PhoneNumber(&'static str),
    /// An empty, overlong or control-character device id.
    #[error("the device id must be 1 to 256 characters without control characters")]
    DeviceId,
    /// A message that is not valid JSON of the expected shape.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A message larger than [`MAX_MESSAGE_BYTES`].
    #[error("the message is larger than {MAX_MESSAGE_BYTES} bytes")]
    TooLarge,
    /// Another protocol or version.
    #[error("unsupported protocol or version (expected {PROTOCOL} version {VERSION})")]
    Version,
    /// A field with an invalid value.
    #[error("invalid field '{0}' in the message")]
    Field(&'static str),
    /// The issuer's confirmation does not match: the response was altered, or belongs
    /// to another request, code or device.
    #[error(
        "the issuer's key confirmation failed: the response does not belong to this registration"
    )]
    Confirmation,
    /// The issuer refused the registration.
    #[error("the issuer refused the registration: {0}")]
    Rejected(RejectReason),
    /// The OS random source or a key agreement failed.
    #[error("a cryptographic operation failed")]
    Crypto,
}

impl From<CryptoError> for ProtocolError {
    fn from(_: CryptoError) -> Self {
        Self::Crypto
    }
}

/// Why an issuer refuses a registration, as told to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// Unknown, already used, or voided registration code.
    InvalidCode,
    /// The registration code has expired.
    ExpiredCode,
    /// The request was malformed.
    MalformedRequest,
    /// The customer may not register (for example not eligible, or the issuer's policy).
    Refused,
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidCode => "the registration code is not valid (unknown, used or void); ask the bank for a new one",
            Self::ExpiredCode => "the registration code has expired; ask the bank for a new one",
            Self::MalformedRequest => "the request was malformed",
            Self::Refused => "the bank refused the registration",
        })
    }
}

impl RejectReason {
    /// The reason's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidCode => "invalid_code",
            Self::ExpiredCode => "expired_code",
            Self::MalformedRequest => "malformed_request",
            Self::Refused => "refused",
        }
    }

    pub(super) fn from_name(name: &str) -> Option<Self> {
        [Self::InvalidCode, Self::ExpiredCode, Self::MalformedRequest, Self::Refused]
            .into_iter()
            .find(|r| r.name() == name)
    }
}
