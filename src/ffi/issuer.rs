//! The issuer counterpart for JVM and Python backends (feature `issuer`). Thin: it
//! delegates to [`crate::issuer::Issuer`].

use std::sync::Arc;

use super::app::Transaction;
use crate::clock::{Clock, SystemClock};
use crate::error::IssuerError;
use crate::issuer::minimal::{self as issuer, CredentialState};

/// A credential's state at the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum IssuerCredentialState {
    /// Registered; activated by the first code that verifies.
    Pending,
    /// In use.
    Active,
    /// Replaced by a newer registration of the same customer.
    Revoked,
}

impl From<CredentialState> for IssuerCredentialState {
    fn from(s: CredentialState) -> Self {
        match s {
            CredentialState::Pending => Self::Pending,
            CredentialState::Active => Self::Active,
            CredentialState::Revoked => Self::Revoked,
        }
    }
}

/// The bank's side of digital OTP for one institution (in memory): issues registration
/// codes, answers the app's registration requests, and verifies login and transaction
/// codes with replay protection.
#[derive(Debug, uniffi::Object)]
pub struct Issuer {
    inner: issuer::Issuer,
}

#[uniffi::export]
impl Issuer {
    /// An issuer for `institution_id` (letters, digits, `-`, `_`, `.`) with the system clock.
    #[uniffi::constructor]
    pub fn new(institution_id: String, institution_name: String) -> Arc<Self> {
        Self::with_clock(institution_id, institution_name, Arc::new(SystemClock))
    }

    /// An issuer with its own clock (for tests).
    #[uniffi::constructor]
    pub fn with_clock(institution_id: String, institution_name: String, clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(Self {
            inner: issuer::Issuer::new(&institution_id, &institution_name, clock),
        })
    }

    /// Issues a single-use app registration code for a customer (valid 10 minutes),
    /// formatted `1234-5678-9012` for display. Only hashes of it are kept.
    pub fn issue_registration_code(&self, customer_id: String) -> Result<String, IssuerError> {
        Ok(self.inner.issue_registration_code(&customer_id)?.display())
    }

    /// Answers an app's registration request with the bytes to send back: a response, or
    /// an error message the app reports as `RegistrationRejected`.
    pub fn handle_registration(&self, request: Vec<u8>) -> Vec<u8> {
        self.inner.handle_registration(&request)
    }

    /// Verifies a login code (±1 step); false for a wrong, replayed or revoked one. The
    /// first success activates a pending credential.
    pub fn verify_login(&self, serial_number: String, code: String) -> Result<bool, IssuerError> {
        Ok(self.inner.verify_login(&serial_number, &code)?)
    }

    /// Verifies a transaction code for exactly `transaction`; false for a wrong or
    /// replayed one or another transaction.
    pub fn verify_transaction(&self, serial_number: String, code: String, transaction: Transaction) -> Result<bool, IssuerError> {
        Ok(self.inner.verify_transaction(&serial_number, &code, &transaction.into())?)
    }

    /// A credential's state, or null for an unknown serial number.
    pub fn credential_state(&self, serial_number: String) -> Option<IssuerCredentialState> {
        self.inner.credential_state(&serial_number).map(Into::into)
    }

    /// The serial number of a customer's current credential, if any.
    pub fn serial_of(&self, customer_id: String) -> Option<String> {
        self.inner.serial_of(&customer_id)
    }
}
