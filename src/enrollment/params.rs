//! The OTP parameters an issuer assigns to a credential, and the per-purpose keys both
//! sides derive from its seed.

use std::fmt;

use zeroize::Zeroizing;

use super::error::ProtocolError;
use crate::crypto::hkdf;
use crate::otp::ocra::{OcraSuite, QuestionFormat};
use crate::otp::{self, Algorithm, Secret, Totp, MAX_DIGITS, MIN_DIGITS};

/// The transaction suite: a SHA-256 of the canonical transaction as a 64-hex-digit
/// question, with a 30-second time step.
pub const DEFAULT_TRANSACTION_SUITE: &str = "OCRA-1:HOTP-SHA256-8:QH64-T30S";

/// The OTP parameters an issuer assigns to a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpParams {
    /// Login code hash.
    pub algorithm: Algorithm,
    /// Login code digits.
    pub digits: u8,
    /// Login code period in seconds.
    pub period: u64,
    /// The OCRA suite of transaction codes: `QH64` with a timestamp, no C, P or S.
    pub transaction_suite: OcraSuite,
}

impl OtpParams {
    /// The standard parameters: 6-digit HMAC-SHA1 TOTP every 30 seconds for logins, and
    /// [`DEFAULT_TRANSACTION_SUITE`] for transactions.
    pub fn standard() -> Result<Self, ProtocolError> {
        Ok(Self {
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: 30,
            transaction_suite: transaction_suite(DEFAULT_TRANSACTION_SUITE)?,
        })
    }
}

/// Parses and checks a transaction suite: it must take a 64-hex-digit question (the
/// SHA-256 of the canonical transaction) and a timestamp, and no counter, PIN or session.
pub fn transaction_suite(text: &str) -> Result<OcraSuite, ProtocolError> {
    let s: OcraSuite = text.parse().map_err(|_| ProtocolError::Field("transaction_suite"))?;
    let ok = s.question_format() == QuestionFormat::Hex
        && s.question_length() == 64
        && s.timestamp().is_some()
        && !s.uses_counter()
        && s.pin_hash().is_none()
        && s.session_length().is_none();
    if !ok {
        return Err(ProtocolError::Field("transaction_suite"));
    }
    Ok(s)
}

impl OtpParams {
    pub(super) fn check(&self) -> Result<(), ProtocolError> {
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&self.digits) {
            return Err(ProtocolError::Field("digits"));
        }
        if self.period == 0 || self.period > otp::MAX_PERIOD {
            return Err(ProtocolError::Field("period"));
        }
        Ok(())
    }
}

/// The per-purpose keys derived from a credential's seed.
pub struct CredentialKeys {
    /// The TOTP key for login codes.
    pub login: Secret,
    /// The OCRA key for transaction codes.
    pub transaction: Secret,
}

impl fmt::Debug for CredentialKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialKeys(<redacted>)")
    }
}

/// Derives the login and transaction keys from a seed, one HKDF output per purpose.
pub fn derive_keys(seed: &[u8; 32], params: &OtpParams) -> Result<CredentialKeys, ProtocolError> {
    let mut login = Zeroizing::new(vec![0u8; params.algorithm.output_len()]);
    hkdf(b"digital-otp/v1/keys", seed, &[b"totp"], &mut login);
    let mut tx = Zeroizing::new(vec![0u8; params.transaction_suite.algorithm().output_len()]);
    hkdf(b"digital-otp/v1/keys", seed, &[b"ocra"], &mut tx);
    Ok(CredentialKeys {
        login: Secret::from_bytes(&login).map_err(|_| ProtocolError::Crypto)?,
        transaction: Secret::from_bytes(&tx).map_err(|_| ProtocolError::Crypto)?,
    })
}

/// The TOTP for a credential's login codes.
pub fn login_totp(keys: &CredentialKeys, params: &OtpParams) -> Result<Totp, ProtocolError> {
    Totp::new(&keys.login, params.algorithm, params.digits, params.period, 0)
        .map_err(|_| ProtocolError::Field("period"))
}
