//! The protocols' constants and their one error. Messages never contain codes, keys,
//! passwords or personal data.

use std::fmt;

use crate::crypto::CryptoError;

/// The registration protocol's name in every registration message.
pub const PROTOCOL: &str = "digital-otp/registration";
/// The registration protocol version this SDK speaks.
pub const VERSION: u32 = 2;
/// Largest message accepted, in bytes (a request carries the device key's evidence: an
/// Android certificate chain in hex is about 10 KB).
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
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
    #[error("unsupported protocol or version")]
    Version,
    /// A field with an invalid value.
    #[error("invalid field '{0}' in the message")]
    Field(&'static str),
    /// The issuer's key confirmation does not match: the registration code was wrong,
    /// expired or used (the issuer answers every such failure alike), or the answer was
    /// altered or belongs to another registration.
    #[error(
        "the bank did not confirm the registration: the registration code is wrong, expired or \
         used, or the answer was altered"
    )]
    Confirmation,
    /// The issuer refused the registration or the unlock.
    #[error("the issuer refused: {0}")]
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

/// Why an issuer refuses, as told to the app. A wrong, expired or used registration code
/// is not among them: the issuer answers those with a response whose key confirmation
/// fails ([`ProtocolError::Confirmation`]), the same as any other failure of the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// The request was malformed.
    MalformedRequest,
    /// The institution requires hardware key attestation and the device's evidence did
    /// not pass.
    DeviceNotTrusted,
    /// The registration's confirmation failed, or the issuer's policy refused.
    Refused,
    /// The credential is locked after five wrong app passwords: register again.
    Locked,
    /// The credential cannot be used (unknown, cancelled, reported lost or stolen, or
    /// expired).
    NotUsable,
    /// The request's time is too far from the bank's, or not later than the last one.
    Stale,
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MalformedRequest => "the request was malformed",
            Self::DeviceNotTrusted => "the bank requires a device whose key is attested hardware",
            Self::Refused => "the bank refused the registration",
            Self::Locked => "the OTP is locked after 5 wrong app passwords; register again",
            Self::NotUsable => {
                "the OTP cannot be used (unknown, cancelled, lost, stolen or expired)"
            }
            Self::Stale => "the phone's clock or request is out of date; try again",
        })
    }
}

impl RejectReason {
    /// The reason's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Self::MalformedRequest => "malformed_request",
            Self::DeviceNotTrusted => "device_not_trusted",
            Self::Refused => "refused",
            Self::Locked => "locked",
            Self::NotUsable => "not_usable",
            Self::Stale => "stale",
        }
    }

    /// The reason of a wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::MalformedRequest,
            Self::DeviceNotTrusted,
            Self::Refused,
            Self::Locked,
            Self::NotUsable,
            Self::Stale,
        ]
        .into_iter()
        .find(|r| r.name() == name)
    }
}

/// "1 attempt remains", "4 attempts remain": for the messages that count attempts.
pub fn attempts_remain(n: u32) -> String {
    if n == 1 {
        "1 attempt remains".into()
    } else {
        format!("{n} attempts remain")
    }
}
