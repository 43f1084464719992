//! The issuer's internal error: every refusal and failure of an issuer operation, with
//! `#[from]` conversions from the errors of the layers below. The public form,
//! `IssuerError`, is mapped from it in one place at the FFI edge (`ffi::errors`).

use crate::crypto::CryptoError;
use crate::enrollment::ProtocolError;
use crate::host::HostError;
use crate::transaction::TransactionError;

use super::master_key::MasterKeyError;
use super::store::StoreFault;

/// Everything the issuer can refuse or fail with (internal; `ffi::IssuerError` is the
/// public form).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    /// Mobile OTP is for individual domestic customers only.
    #[error("not eligible for mobile OTP: {0}")]
    NotEligible(&'static str),
    /// Unknown institution.
    #[error("unknown institution")]
    UnknownInstitution,
    /// Unknown customer.
    #[error("unknown customer")]
    UnknownCustomer,
    /// The customer already exists.
    #[error("the customer already exists")]
    CustomerExists,
    /// Unknown device (vendor code + serial number).
    #[error("no OTP device with this vendor code and serial number")]
    UnknownDevice,
    /// The device already exists.
    #[error("an OTP device with this vendor code and serial number already exists")]
    DeviceExists,
    /// The customer has no current OTP device at the institution.
    #[error("the customer has no OTP device at this institution")]
    NoDevice,
    /// The customer already has a current OTP device at the institution.
    #[error("the customer already has an OTP device at this institution; cancel it first")]
    AlreadyHasDevice,
    /// The device is not registered at this institution.
    #[error("this OTP device is not registered at this institution")]
    NotRegisteredHere,
    /// The institution's channel table or the agent rules do not allow the operation.
    #[error("not permitted: {0}")]
    NotPermitted(String),
    /// The operation does not fit the device's state.
    #[error("not possible in the device's current state: {0}")]
    InvalidState(&'static str),
    /// The SMS code (face to face) was wrong.
    #[error(
        "the verification code is wrong; {}",
        crate::enrollment::attempts_remain(*.remaining)
    )]
    WrongVerificationCode {
        /// Attempts left.
        remaining: u32,
    },
    /// No SMS code is pending, it expired, or it was voided.
    #[error("no valid verification code is pending; send a new one")]
    NoVerificationPending,
    /// The possession proof (a current code of the device) was wrong.
    #[error("the code does not prove possession of the device")]
    PossessionNotProven,
    /// The code to verify is not of the device's form (its number of decimal digits): it
    /// is refused without counting as a wrong code.
    #[error("malformed code: {0}")]
    MalformedCode(String),
    /// Invalid input (ids, phone numbers, parameters).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A malformed transaction.
    #[error("invalid transaction: {0}")]
    Transaction(#[from] TransactionError),
    /// The SMS gateway failed.
    #[error("the SMS gateway failed: {0}")]
    Sms(HostError),
    /// No SMS gateway was configured.
    #[error("no SMS gateway is configured")]
    NoSmsGateway,
    /// The master key is wrong, or a sealed seed is damaged.
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreFault),
    /// A protocol or crypto failure.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The clock failed.
    #[error("the clock failed: {0}")]
    Clock(HostError),
    /// The random source failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}
