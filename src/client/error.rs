//! The app side's internal error. Its public form, `DigitalOtpError`, is mapped from it in
//! one place at the FFI edge (`ffi::errors`).

use super::policy::{PasswordPolicyError, MAX_PASSWORD_ATTEMPTS};
use crate::enrollment::ProtocolError;
use crate::host::HostError;
use crate::storage::BlobError;
use crate::transaction::TransactionError;

/// Everything that can go wrong on the app side (internal; `ffi::DigitalOtpError` is
/// the public form).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Registration code, device info or message problems.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The new password breaks the policy.
    #[error("the password does not meet the policy: {0}")]
    Policy(#[from] PasswordPolicyError),
    /// Wrong password; `remaining` attempts before the credential locks.
    #[error("wrong password; {} before the OTP is locked", crate::enrollment::attempts_remain(*.remaining))]
    WrongPassword {
        /// Attempts left.
        remaining: u32,
    },
    /// The password entered is not 6 digits: refused before anything is sent, so it
    /// costs no attempt.
    #[error("the app password is exactly 6 digits; nothing was sent and no attempt was used")]
    MalformedPassword,
    /// Locked after five wrong passwords: register again.
    #[error("the OTP is locked after {MAX_PASSWORD_ATTEMPTS} wrong passwords; register again")]
    Locked,
    /// Used on another phone number or device than it was registered on.
    #[error(
        "this OTP was registered on another phone number or device; register again on this one"
    )]
    DeviceMismatch,
    /// No credential for that institution.
    #[error("no OTP is registered for this institution")]
    NotRegistered,
    /// `confirm_registration` without `begin_registration`, or after a failed attempt.
    #[error("no registration is in progress; begin one first")]
    NoPendingRegistration,
    /// `complete_…_code` without its `begin_…_code`, or after it was answered.
    #[error("no code is being unlocked; begin one first")]
    NoUnlockInProgress,
    /// The credential waits for the bank's outcome of its registration.
    #[error("the registration is not finished; complete it with the bank's outcome")]
    Unconfirmed,
    /// The bank refused because the phone's clock (or the request) is out of date: the
    /// clock offset was corrected; try again.
    #[error("the phone's clock differed from the bank's; try again")]
    Stale,
    /// A change of password with one attempt left: the bank confirmed the old password
    /// on its own (counting one guess, not two); begin the change again.
    #[error("the bank confirmed the old password; begin the change of password again")]
    ChangeAgain,
    /// The bank says the credential cannot be used (cancelled, lost, stolen, expired).
    #[error(
        "the bank says this OTP cannot be used (cancelled, reported lost or stolen, or expired)"
    )]
    NotUsable,
    /// Past its validity.
    #[error("the OTP has expired; register again")]
    Expired,
    /// A transaction field is invalid.
    #[error("invalid transaction: {0}")]
    Transaction(#[from] TransactionError),
    /// The app's store failed.
    #[error("the secure store failed: {0}")]
    Store(#[from] HostError),
    /// The app's store accepted a write but did not keep it.
    #[error("the secure store did not keep a write")]
    LostWrite,
    /// A stored blob is not readable.
    #[error("stored data is unreadable: {0}")]
    Corrupted(#[from] BlobError),
    /// A cryptographic primitive failed.
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// The clock failed.
    #[error("the clock failed: {0}")]
    Clock(HostError),
    /// The platform's device key store failed.
    #[error("the device key store failed: {0}")]
    Keys(HostError),
}
