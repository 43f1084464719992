//! The public errors, at the FFI edge: few, actionable, and free of secrets, codes,
//! passwords and personal data. This is the one place where the internal errors of the
//! core modules (`otp::SecretError`, `otp::ParamError`, `otp::ocra::SuiteError`,
//! `enrollment::ProtocolError`, `client::ClientError`, `issuer::Fault`, …) are mapped to
//! them; their messages become the `reason`. The core never imports this module.

use crate::otp::ocra::{InputError, SuiteError};
use crate::otp::uri::UriError;
use crate::otp::{ParamError, SecretError};

/// Why an OTP operation was refused. Kotlin sees `OtpException`, Swift `OtpError`,
/// Python `OtpError`. The `reason` explains the fault in English and never contains
/// a secret or a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
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

/// Why an app-side operation was refused. Kotlin sees `DigitalOtpException`. Each
/// variant says what the app should do; none carries a code, password, seed, phone
/// number or device id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum DigitalOtpError {
    /// The registration code is malformed or mistyped (check digit): ask the customer to re-type it.
    #[error("invalid registration code: {reason}")]
    InvalidRegistrationCode {
        /// What is wrong.
        reason: String,
    },
    /// The phone number or device id is malformed.
    #[error("invalid device information: {reason}")]
    InvalidDevice {
        /// What is wrong.
        reason: String,
    },
    /// The new password breaks the policy (6 digits, not common, repeated or sequential).
    #[error("the password does not meet the policy: {reason}")]
    WeakPassword {
        /// What is wrong.
        reason: String,
    },
    /// The password entered is not of the app password's form (6 digits): nothing was
    /// sent to the bank and no attempt was used. Ask again.
    #[error("the app password is exactly 6 digits; nothing was sent and no attempt was used")]
    MalformedPassword,
    /// Wrong password. After the fifth consecutive one the OTP is locked.
    #[error(
        "wrong password; {} before the OTP is locked",
        crate::enrollment::attempts_remain(*.attempts_remaining)
    )]
    WrongPassword {
        /// Attempts left before the lock.
        attempts_remaining: u32,
    },
    /// Locked after five wrong passwords; the seed is destroyed: register again.
    #[error("the OTP is locked after 5 wrong passwords; register again")]
    Locked,
    /// Registered on another phone number or device: register again on this one.
    #[error(
        "this OTP was registered on another phone number or device; register again on this one"
    )]
    DeviceMismatch,
    /// No OTP is registered for this institution.
    #[error("no OTP is registered for this institution")]
    NotRegistered,
    /// `confirmRegistration` or `completeRegistration` without the step before it, or
    /// after a failed attempt: begin again.
    #[error("no registration is in progress; begin one first")]
    NoRegistrationInProgress,
    /// The bank did not accept the registration: the code is wrong, expired or used (the
    /// bank answers all of these alike), the device is not trusted, or the bank refused.
    #[error("the bank refused the registration: {reason}")]
    RegistrationRejected {
        /// What is known of the reason.
        reason: String,
    },
    /// The credential waits for the bank's outcome of its registration: give it to
    /// `completeRegistration` (or register again).
    #[error("the registration is not finished; complete it with the bank's outcome")]
    RegistrationIncomplete,
    /// `completeLoginCode` (or another `complete…`) without its `begin…` step, or for
    /// another kind of request: begin again.
    #[error("no code is being made; begin one first")]
    NoCodeInProgress,
    /// The phone's clock differed too much from the bank's: the SDK learned the
    /// difference; try again.
    #[error("the phone's clock differed from the bank's; try again")]
    ClockOutOfSync,
    /// A change of password made with one attempt left: the bank confirmed the old
    /// password alone (one guess, not two) and the attempts are back to five; call
    /// `beginChangePassword` again.
    #[error("the bank confirmed the old password; begin the change of password again")]
    ChangePasswordAgain,
    /// The bank says this OTP cannot be used (cancelled, reported lost or stolen, or
    /// expired): contact the bank.
    #[error("the bank says this OTP cannot be used; contact the bank")]
    NotUsable,
    /// The bank's response is malformed, altered, or not for this registration: begin again.
    #[error("invalid response from the bank: {reason}")]
    InvalidResponse {
        /// What is wrong.
        reason: String,
    },
    /// The OTP is past its validity: register again.
    #[error("the OTP has expired; register again")]
    Expired,
    /// A transaction field is invalid.
    #[error("invalid transaction: {reason}")]
    InvalidTransaction {
        /// What is wrong.
        reason: String,
    },
    /// The platform's device key store (Keystore, Secure Enclave) failed.
    #[error("the device key store failed: {reason}")]
    KeyStoreFailed {
        /// What went wrong.
        reason: String,
    },
    /// The app's secure store failed or lost a write; nothing was half-written.
    #[error("the secure store failed: {reason}")]
    StorageFailed {
        /// What went wrong.
        reason: String,
    },
    /// Stored data is unreadable (altered or truncated); cancel the credential or reset.
    #[error("stored data is unreadable: {reason}")]
    CorruptedData {
        /// What is wrong.
        reason: String,
    },
    /// A cryptographic primitive, the random source or the clock failed.
    #[error("internal error: {reason}")]
    Internal {
        /// What failed.
        reason: String,
    },
}

impl From<crate::enrollment::ProtocolError> for DigitalOtpError {
    fn from(e: crate::enrollment::ProtocolError) -> Self {
        use crate::enrollment::ProtocolError as P;
        let reason = e.to_string();
        match e {
            P::CodeFormat | P::CodeCheckDigit => Self::InvalidRegistrationCode { reason },
            P::PhoneNumber(_) | P::DeviceId => Self::InvalidDevice { reason },
            P::Rejected(r) => match r {
                crate::enrollment::RejectReason::Locked => Self::Locked,
                crate::enrollment::RejectReason::NotUsable => Self::NotUsable,
                crate::enrollment::RejectReason::Stale => Self::ClockOutOfSync,
                r => Self::RegistrationRejected { reason: r.to_string() },
            },
            P::Confirmation => Self::RegistrationRejected { reason },
            P::Crypto => Self::Internal { reason },
            P::Malformed(_) | P::TooLarge | P::Version | P::Field(_) => {
                Self::InvalidResponse { reason }
            }
        }
    }
}

impl From<crate::client::ClientError> for DigitalOtpError {
    fn from(e: crate::client::ClientError) -> Self {
        use crate::client::ClientError as C;
        let reason = e.to_string();
        match e {
            C::Protocol(p) => p.into(),
            C::Policy(p) => Self::WeakPassword { reason: p.to_string() },
            C::WrongPassword { remaining } => Self::WrongPassword { attempts_remaining: remaining },
            C::MalformedPassword => Self::MalformedPassword,
            C::Locked => Self::Locked,
            C::DeviceMismatch => Self::DeviceMismatch,
            C::NotRegistered => Self::NotRegistered,
            C::NoPendingRegistration => Self::NoRegistrationInProgress,
            C::NoUnlockInProgress => Self::NoCodeInProgress,
            C::Unconfirmed => Self::RegistrationIncomplete,
            C::Stale => Self::ClockOutOfSync,
            C::ChangeAgain => Self::ChangePasswordAgain,
            C::NotUsable => Self::NotUsable,
            C::Keys(_) => Self::KeyStoreFailed { reason },
            C::Expired => Self::Expired,
            C::Transaction(t) => Self::InvalidTransaction { reason: t.to_string() },
            C::Store(_) | C::LostWrite => Self::StorageFailed { reason },
            C::Corrupted(_) => Self::CorruptedData { reason },
            C::Internal(_) | C::Clock(_) => Self::Internal { reason },
        }
    }
}

/// Why an issuer operation was refused. Kotlin sees `IssuerException`. None carries a
/// code, seed, key or personal data.
#[cfg(feature = "issuer")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum IssuerError {
    /// Mobile OTP is for individual domestic customers; offer a physical OTP.
    #[error("not eligible for mobile OTP: {reason}")]
    NotEligible {
        /// Why.
        reason: String,
    },
    /// No such institution; add it first.
    #[error("unknown institution")]
    UnknownInstitution,
    /// No such customer at this institution.
    #[error("unknown customer")]
    UnknownCustomer,
    /// The customer already exists.
    #[error("the customer already exists")]
    CustomerExists,
    /// No OTP device with this vendor code and serial number.
    #[error("no OTP device with this vendor code and serial number")]
    UnknownDevice,
    /// A device with this vendor code and serial number already exists.
    #[error("an OTP device with this vendor code and serial number already exists")]
    DeviceExists,
    /// The customer has no OTP device at this institution.
    #[error("the customer has no OTP device at this institution")]
    NoDevice,
    /// The customer already has an OTP device at this institution; cancel it first.
    #[error("the customer already has an OTP device at this institution; cancel it first")]
    AlreadyHasDevice,
    /// The device is not registered at this institution.
    #[error("this OTP device is not registered at this institution")]
    NotRegisteredHere,
    /// The institution does not allow this operation through this channel, or an agent
    /// may not do it (only for a corporation's physical OTP, at a branch), or a loss report
    /// must first be cleared in person at a branch.
    #[error("not permitted: {reason}")]
    NotPermitted {
        /// Why.
        reason: String,
    },
    /// Not possible in the device's current state (locked, lost, expired, cancelled…).
    #[error("not possible in the device's current state: {reason}")]
    InvalidState {
        /// Why.
        reason: String,
    },
    /// The SMS verification code shown by the customer is wrong.
    #[error(
        "the verification code is wrong; {}",
        crate::enrollment::attempts_remain(*.attempts_remaining)
    )]
    WrongVerificationCode {
        /// Attempts left before the verification is void.
        attempts_remaining: u32,
    },
    /// No valid SMS verification is pending (none sent, expired or void): send a new one.
    #[error("no valid verification code is pending; send a new one")]
    NoVerificationPending,
    /// The code given to prove possession of the device did not verify.
    #[error("the code does not prove possession of the device")]
    PossessionNotProven,
    /// Invalid input (ids, phone number, parameters, transaction).
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong.
        reason: String,
    },
    /// The SMS gateway failed or none is configured.
    #[error("the SMS gateway failed: {reason}")]
    SmsFailed {
        /// Why.
        reason: String,
    },
    /// The master key is malformed or not the one the database was created with.
    #[error("master key problem: {reason}")]
    MasterKey {
        /// What is wrong.
        reason: String,
    },
    /// The database failed; nothing was half-written.
    #[error("the issuer database failed: {reason}")]
    StorageFailed {
        /// What failed.
        reason: String,
    },
    /// An internal failure (random source, clock).
    #[error("internal error: {reason}")]
    Internal {
        /// What failed.
        reason: String,
    },
}

#[cfg(feature = "issuer")]
impl From<crate::issuer::Fault> for IssuerError {
    fn from(e: crate::issuer::Fault) -> Self {
        use crate::issuer::Fault as F;
        let reason = e.to_string();
        match e {
            F::NotEligible(r) => Self::NotEligible { reason: r.into() },
            F::UnknownInstitution => Self::UnknownInstitution,
            F::UnknownCustomer => Self::UnknownCustomer,
            F::CustomerExists => Self::CustomerExists,
            F::UnknownDevice => Self::UnknownDevice,
            F::DeviceExists => Self::DeviceExists,
            F::NoDevice => Self::NoDevice,
            F::AlreadyHasDevice => Self::AlreadyHasDevice,
            F::NotRegisteredHere => Self::NotRegisteredHere,
            F::InvalidState(r) => Self::InvalidState { reason: r.into() },
            F::NotPermitted(r) => Self::NotPermitted { reason: r },
            F::WrongVerificationCode { remaining } => {
                Self::WrongVerificationCode { attempts_remaining: remaining }
            }
            F::NoVerificationPending => Self::NoVerificationPending,
            F::PossessionNotProven => Self::PossessionNotProven,
            F::InvalidInput(_) | F::Transaction(_) | F::MalformedCode(_) => {
                Self::InvalidInput { reason }
            }
            F::Protocol(p) => match p {
                crate::enrollment::ProtocolError::Crypto => Self::Internal { reason },
                _ => Self::InvalidInput { reason },
            },
            F::Sms(_) | F::NoSmsGateway => Self::SmsFailed { reason },
            F::MasterKey(crate::issuer::master_key::MasterKeyError::Random) => {
                Self::Internal { reason }
            }
            F::MasterKey(_) => Self::MasterKey { reason },
            F::Store(_) => Self::StorageFailed { reason },
            F::Clock(_) | F::Crypto(_) => Self::Internal { reason },
        }
    }
}
