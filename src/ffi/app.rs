//! The app side for Kotlin, Swift and Python: `DigitalOtp` and its records. Thin: each
//! method converts its arguments and delegates to [`crate::client::Client`]. The records
//! that cross as they are (`CredentialInfo`, `CredentialStatus`, `LoginCode`,
//! `Transaction`) are the core's own types; only `DeviceInfo` (which redacts) and
//! `TransactionCode` (a code with its summary) are defined here.

use std::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::errors::DigitalOtpError;
use crate::client::{
    self, Client, CredentialSummary as CredentialInfo, GeneratedCode as LoginCode,
};
use crate::enrollment::{self, Device};
use crate::host::SecureStore;
use crate::host::{Clock, SystemClock};
use crate::transaction::Transaction;

/// A store in memory, for tests and demos (from Kotlin, Swift or Python too).
#[uniffi::export]
pub fn memory_store() -> Arc<dyn SecureStore> {
    Arc::new(crate::storage::MemoryStore::new())
}

/// A store in the directory `path` (created if missing), with atomic writes. For
/// desktop apps, tools and tests; mobile apps implement `SecureStore` over the
/// platform keystore instead.
#[cfg(feature = "file-store")]
#[uniffi::export]
pub fn file_store(path: String) -> Result<Arc<dyn SecureStore>, crate::host::HostError> {
    Ok(Arc::new(crate::storage::FileStore::open(path)?))
}

/// The phone number and device id a credential is bound to. Give the platform's values
/// (Android: the SIM's line number and a per-install id; iOS: `identifierForVendor`).
/// The SDK stores only a salted hash; `toString()` is redacted.
#[derive(uniffi::Object)]
#[uniffi::export(Display)]
pub struct DeviceInfo {
    inner: Device,
}

impl fmt::Display for DeviceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceInfo(<redacted>)")
    }
}

impl fmt::Debug for DeviceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[uniffi::export]
impl DeviceInfo {
    /// Checks and normalizes: the phone number to E.164 (`010-1234-5678` becomes
    /// `+821012345678`), the device id to 1–256 characters without control characters.
    #[uniffi::constructor]
    pub fn new(phone_number: String, device_id: String) -> Result<Arc<Self>, DigitalOtpError> {
        Ok(Arc::new(Self { inner: Device::new(&phone_number, &device_id)? }))
    }

    /// The phone number in E.164 form.
    pub fn phone_number_e164(&self) -> String {
        self.inner.phone().to_string()
    }
}

/// A transaction code, bound to exactly one transaction.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct TransactionCode {
    /// The code.
    pub code: String,
    /// The canonical summary the customer confirmed, e.g.
    /// `Transfer KRW 1,500,000 to 홍길동 (account 110123456789)`.
    pub summary: String,
    /// The credential's serial number.
    pub serial_number: String,
    /// First second (Unix time, device clock) the code is valid.
    pub valid_from: u64,
    /// First second it no longer is.
    pub valid_until: u64,
    /// Seconds left.
    pub seconds_remaining: u64,
}

impl fmt::Debug for TransactionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransactionCode")
            .field("serial_number", &self.serial_number)
            .finish_non_exhaustive()
    }
}

/// Checks a new app password against the policy (6 digits; not common, repeated or
/// sequential), so the UI can refuse it before registering.
#[uniffi::export]
pub fn check_password_policy(password: String) -> Result<(), DigitalOtpError> {
    let password = Zeroizing::new(password);
    client::check_password_policy(&password)
        .map_err(|e| DigitalOtpError::WeakPassword { reason: e.to_string() })
}

/// Checks a typed registration code (12 digits, check digit) without any network call.
#[uniffi::export]
pub fn check_registration_code(code: String) -> Result<(), DigitalOtpError> {
    let code = Zeroizing::new(code);
    enrollment::RegistrationCode::parse(&code)?;
    Ok(())
}

/// The canonical summary of a transaction: what the app must show, and the customer
/// confirm, before `generateForTransaction`.
#[uniffi::export]
pub fn transaction_summary(transaction: Transaction) -> Result<String, DigitalOtpError> {
    let c = transaction
        .canonical()
        .map_err(|e| DigitalOtpError::InvalidTransaction { reason: e.to_string() })?;
    Ok(c.summary())
}

/// The digital OTP of one app: registers with banks, keeps the credentials in the
/// app's `SecureStore`, and generates login and transaction codes. Safe to use from
/// many threads.
#[derive(uniffi::Object)]
pub struct DigitalOtp {
    inner: Client,
}

impl fmt::Debug for DigitalOtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DigitalOtp")
    }
}

#[uniffi::export]
impl DigitalOtp {
    /// A digital OTP over the app's store, with the system clock.
    #[uniffi::constructor]
    pub fn new(store: Arc<dyn SecureStore>) -> Arc<Self> {
        Self::with_clock(store, Arc::new(SystemClock))
    }

    /// A digital OTP over the app's store and a clock (for tests).
    #[uniffi::constructor]
    pub fn with_clock(store: Arc<dyn SecureStore>, clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(Self { inner: Client::new(store, clock) })
    }

    /// Starts registering with a bank: checks the typed registration code (a typo is
    /// refused here) and returns the request to send to the bank. Writes nothing.
    pub fn begin_registration(
        &self,
        registration_code: String,
        device: Arc<DeviceInfo>,
    ) -> Result<Vec<u8>, DigitalOtpError> {
        let code = Zeroizing::new(registration_code);
        // The device was checked when `DeviceInfo` was built; `begin_registration` takes raw text.
        let request = self.inner.begin_registration_with(&code, device.inner.clone())?;
        Ok(request)
    }

    /// Finishes the registration with the bank's response and sets the app password.
    /// Persists the new credential (replacing this bank's previous one) all-or-nothing;
    /// on failure nothing is written and other credentials are untouched.
    pub fn complete_registration(
        &self,
        response: Vec<u8>,
        password: String,
    ) -> Result<CredentialInfo, DigitalOtpError> {
        let password = Zeroizing::new(password);
        Ok(self.inner.complete_registration(&response, &password)?)
    }

    /// Marks a pending credential active once the bank confirms its first code.
    /// Persists the state.
    pub fn confirm_activation(&self, institution_id: String) -> Result<(), DigitalOtpError> {
        Ok(self.inner.confirm_activation(&institution_id)?)
    }

    /// A login code for the bank `institution_id`. Checks the password (persisting the
    /// failure count first; the fifth consecutive wrong password locks the credential).
    pub fn generate(
        &self,
        institution_id: String,
        password: String,
        device: Arc<DeviceInfo>,
    ) -> Result<LoginCode, DigitalOtpError> {
        let password = Zeroizing::new(password);
        Ok(self.inner.generate(&institution_id, &password, &device.inner)?)
    }

    /// A transaction code bound to exactly `transaction`, with the summary the customer
    /// must have confirmed. Checks the password like `generate` (persisting the count).
    pub fn generate_for_transaction(
        &self,
        institution_id: String,
        password: String,
        device: Arc<DeviceInfo>,
        transaction: Transaction,
    ) -> Result<TransactionCode, DigitalOtpError> {
        let password = Zeroizing::new(password);
        let (c, summary) = self.inner.generate_for_transaction(
            &institution_id,
            &password,
            &device.inner,
            &transaction,
        )?;
        Ok(TransactionCode {
            code: c.code,
            summary,
            serial_number: c.serial_number,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
            seconds_remaining: c.seconds_remaining,
        })
    }

    /// Changes the app password of one credential; the old one is required (a wrong one
    /// counts as a failure). Persists the re-sealed seed.
    pub fn change_password(
        &self,
        institution_id: String,
        old_password: String,
        new_password: String,
        device: Arc<DeviceInfo>,
    ) -> Result<(), DigitalOtpError> {
        let (old, new) = (Zeroizing::new(old_password), Zeroizing::new(new_password));
        Ok(self.inner.change_password(&institution_id, &old, &new, &device.inner)?)
    }

    /// Every credential in the app, with its status on `device`.
    pub fn credentials(
        &self,
        device: Arc<DeviceInfo>,
    ) -> Result<Vec<CredentialInfo>, DigitalOtpError> {
        Ok(self.inner.credentials(&device.inner)?)
    }

    /// Removes one bank's credential, leaving the others. Persists the removal.
    pub fn cancel(&self, institution_id: String) -> Result<(), DigitalOtpError> {
        Ok(self.inner.cancel(&institution_id)?)
    }

    /// For a forgotten password: deletes every credential in the app (then register
    /// again). Persists the deletion.
    pub fn reset_all(&self) -> Result<(), DigitalOtpError> {
        Ok(self.inner.reset_all()?)
    }
}
