//! The app side for Kotlin, Swift and Python: `DigitalOtp` and its records. Thin: each
//! method converts its arguments and delegates to [`crate::client::Client`]. The records
//! that cross as they are (`CredentialInfo`, `CredentialStatus`, `LoginCode`,
//! `TransactionCode`, `Transaction`) are the core's own types; only `DeviceInfo` (which
//! redacts) is defined here.

use std::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::errors::DigitalOtpError;
use crate::client::{
    self, Client, CredentialSummary as CredentialInfo, GeneratedCode as LoginCode, TransactionCode,
};
use crate::enrollment::{self, Device};
use crate::host::{Clock, DeviceKeys, SecureStore, SystemClock};
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

/// Device keys in software, kept in `store` (desktop, the CLI and tests): the private
/// keys are ordinary bytes in the store, so they give none of the protection of a
/// hardware key, and their evidence is `None`. Mobile apps implement `DeviceKeys` over
/// the Android Keystore or the Secure Enclave.
#[cfg(feature = "file-store")]
#[uniffi::export]
pub fn software_device_keys(store: Arc<dyn SecureStore>) -> Arc<dyn DeviceKeys> {
    Arc::new(crate::storage::SoftwareKeys::new(store))
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
/// app's `SecureStore` (the seeds sealed under the app password's bank-assisted key), and
/// makes login and transaction codes, each after one round trip to the bank that counts
/// the password guesses. Every step is sans-IO: the app carries the bytes to its bank.
/// Safe to use from many threads; calls that derive a key take a fraction of a second:
/// keep them off the main thread.
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
    /// A digital OTP over the app's store and the platform's device keys, with the
    /// system clock.
    #[uniffi::constructor]
    pub fn new(store: Arc<dyn SecureStore>, keys: Arc<dyn DeviceKeys>) -> Arc<Self> {
        Self::with_clock(store, keys, Arc::new(SystemClock))
    }

    /// A digital OTP over the app's store, the platform's device keys and a clock (for
    /// tests).
    #[uniffi::constructor]
    pub fn with_clock(
        store: Arc<dyn SecureStore>,
        keys: Arc<dyn DeviceKeys>,
        clock: Arc<dyn Clock>,
    ) -> Arc<Self> {
        Arc::new(Self { inner: Client::new(store, keys, clock) })
    }

    /// Registration, step 1: checks the typed registration code (a typo is refused
    /// here), the new app password (the policy) and the device, creates the credential's
    /// device key through `DeviceKeys` (a failure there is `KeyStoreFailed`; software keys
    /// keep that key in the store), and returns the request to send to the bank
    /// `institution_id`. Writes no credential.
    pub fn begin_registration(
        &self,
        institution_id: String,
        registration_code: String,
        device: Arc<DeviceInfo>,
        password: String,
    ) -> Result<Vec<u8>, DigitalOtpError> {
        let code = Zeroizing::new(registration_code);
        let password = Zeroizing::new(password);
        Ok(self.inner.begin_registration(
            &institution_id,
            &code,
            device.inner.clone(),
            &password,
        )?)
    }

    /// Registration, step 2: checks the bank's response (a wrong, expired or used code
    /// fails here as `RegistrationRejected`) and stores the credential, not yet confirmed,
    /// replacing this bank's previous one all-or-nothing. Returns the confirmation to send
    /// to the bank. Persists the credential.
    pub fn confirm_registration(&self, response: Vec<u8>) -> Result<Vec<u8>, DigitalOtpError> {
        Ok(self.inner.confirm_registration(&response)?)
    }

    /// Registration, step 3: the bank's outcome for the registration with
    /// `institution_id` (the bank the request went to). Registered: the credential is
    /// pending until the bank accepts its first code. Refused: the credential and its
    /// device key are deleted. An altered outcome is `InvalidResponse` and changes nothing.
    /// Persists the state.
    pub fn complete_registration(
        &self,
        institution_id: String,
        outcome: Vec<u8>,
    ) -> Result<CredentialInfo, DigitalOtpError> {
        Ok(self.inner.complete_registration(&institution_id, &outcome)?)
    }

    /// Marks a pending credential active once the bank confirms its first code.
    /// Persists the state.
    pub fn confirm_activation(&self, institution_id: String) -> Result<(), DigitalOtpError> {
        Ok(self.inner.confirm_activation(&institution_id)?)
    }

    /// A login code, step 1: the unlock request to send to the bank `institution_id`
    /// (the password never leaves the phone; the bank counts the guess). Persists the
    /// request's time.
    pub fn begin_login_code(
        &self,
        institution_id: String,
        password: String,
        device: Arc<DeviceInfo>,
    ) -> Result<Vec<u8>, DigitalOtpError> {
        let password = Zeroizing::new(password);
        Ok(self.inner.begin_login_code(&institution_id, &password, &device.inner)?)
    }

    /// A login code, step 2: the code from the bank's answer. A wrong password is
    /// `WrongPassword` with the attempts the bank still allows; the fifth wrong one in a
    /// row locks the credential. Persists what the answer changes.
    pub fn complete_login_code(&self, answer: Vec<u8>) -> Result<LoginCode, DigitalOtpError> {
        Ok(self.inner.complete_login_code(&answer)?)
    }

    /// A transaction code, step 1: checks `transaction` (show its `transactionSummary`
    /// first) and returns the unlock request for the bank. Persists the request's time.
    pub fn begin_transaction_code(
        &self,
        institution_id: String,
        password: String,
        device: Arc<DeviceInfo>,
        transaction: Transaction,
    ) -> Result<Vec<u8>, DigitalOtpError> {
        let password = Zeroizing::new(password);
        Ok(self.inner.begin_transaction_code(
            &institution_id,
            &password,
            &device.inner,
            &transaction,
        )?)
    }

    /// A transaction code, step 2: the code bound to exactly the transaction of step 1,
    /// with its summary, from the bank's answer. Persists what the answer changes.
    pub fn complete_transaction_code(
        &self,
        answer: Vec<u8>,
    ) -> Result<TransactionCode, DigitalOtpError> {
        Ok(self.inner.complete_transaction_code(&answer)?)
    }

    /// Changing the app password, step 1: the new one must follow the policy; returns the
    /// request for the bank (which counts two guesses; with one attempt left it checks the
    /// old password alone and step 2 says `ChangePasswordAgain`). Persists the request's
    /// time.
    pub fn begin_change_password(
        &self,
        institution_id: String,
        old_password: String,
        new_password: String,
        device: Arc<DeviceInfo>,
    ) -> Result<Vec<u8>, DigitalOtpError> {
        let (old, new) = (Zeroizing::new(old_password), Zeroizing::new(new_password));
        Ok(self.inner.begin_change_password(&institution_id, &old, &new, &device.inner)?)
    }

    /// Changing the app password, step 2: with the bank's answer, a right old password
    /// re-seals the seed under the new one (a wrong one counts like any other). Persists
    /// the re-sealed seed.
    pub fn complete_change_password(&self, answer: Vec<u8>) -> Result<(), DigitalOtpError> {
        Ok(self.inner.complete_change_password(&answer)?)
    }

    /// Every credential in the app, with its status on `device`.
    pub fn credentials(
        &self,
        device: Arc<DeviceInfo>,
    ) -> Result<Vec<CredentialInfo>, DigitalOtpError> {
        Ok(self.inner.credentials(&device.inner)?)
    }

    /// Removes one bank's credential and its device key, leaving the others. Persists the
    /// removal.
    pub fn cancel(&self, institution_id: String) -> Result<(), DigitalOtpError> {
        Ok(self.inner.cancel(&institution_id)?)
    }

    /// For a forgotten password: deletes every credential in the app and their device
    /// keys (then register again). Persists the deletion.
    pub fn reset_all(&self) -> Result<(), DigitalOtpError> {
        Ok(self.inner.reset_all()?)
    }
}
