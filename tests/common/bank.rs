//! A bank for the app-side tests: one institution on the issuer with an in-memory store,
//! customers registered on demand (individual, domestic, phone 010-1234-5678), codes
//! issued non-face-to-face, and verification looked up by the credential's serial.

use std::sync::Arc;

use digital_otp::enrollment::RegistrationCode;
use digital_otp::host::Clock;
use digital_otp::issuer::master_key::MasterKey;
use digital_otp::issuer::model::{CustomerKind, LinkState, Residency};
use digital_otp::issuer::store::MemoryStore;
use digital_otp::issuer::{Fault, Issuer, IssuerConfig, NewCustomer, Verdict, MOBILE_VENDOR};
use digital_otp::transaction::Transaction;

/// A credential's state at the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialState {
    Pending,
    Active,
    Revoked,
}

pub struct Bank {
    pub issuer: Issuer,
    institution: String,
}

impl Bank {
    pub fn new(institution: &str, name: &str, clock: Arc<dyn Clock>) -> Self {
        let (key, _) = MasterKey::generate().unwrap();
        let issuer =
            Issuer::open(Arc::new(MemoryStore::new()), key, clock, None, IssuerConfig::default())
                .unwrap();
        issuer.add_institution("test", institution, name).unwrap();
        Self { issuer, institution: institution.into() }
    }

    pub fn issue_registration_code(&self, customer: &str) -> Result<RegistrationCode, Fault> {
        let new = NewCustomer {
            institution_id: self.institution.clone(),
            customer_id: customer.into(),
            name: "홍길동".into(),
            kind: CustomerKind::Individual,
            residency: Residency::Domestic,
            phone_number: "010-1234-5678".into(),
        };
        match self.issuer.register_customer("test", &new) {
            Ok(()) | Err(Fault::CustomerExists) => {}
            Err(e) => return Err(e),
        }
        self.issuer.issue_non_face_to_face("test", &self.institution, customer, "kyc-test")
    }

    pub fn handle_registration(&self, request: &[u8]) -> Vec<u8> {
        self.issuer.handle_registration("mobile-app", request)
    }

    fn customer_of(&self, serial: &str) -> Result<String, Fault> {
        let report =
            self.issuer.device_inquiry("test", &self.institution, MOBILE_VENDOR, serial)?;
        Ok(report.links.last().map(|l| l.customer_id.clone()).unwrap_or_default())
    }

    pub fn verify_login(&self, serial: &str, code: &str) -> Result<bool, Fault> {
        let customer = self.customer_of(serial)?;
        Ok(self.issuer.verify_login("web", &self.institution, &customer, code)?
            == Verdict::Accepted)
    }

    pub fn verify_transaction(
        &self,
        serial: &str,
        code: &str,
        tx: &Transaction,
    ) -> Result<bool, Fault> {
        let customer = self.customer_of(serial)?;
        Ok(self.issuer.verify_transaction("web", &self.institution, &customer, code, tx)?
            == Verdict::Accepted)
    }

    pub fn credential_state(&self, serial: &str) -> Option<CredentialState> {
        let report =
            self.issuer.device_inquiry("test", &self.institution, MOBILE_VENDOR, serial).ok()?;
        Some(match report.links.last()?.state {
            LinkState::Pending => CredentialState::Pending,
            LinkState::Active => CredentialState::Active,
            LinkState::Revoked | LinkState::Cancelled => CredentialState::Revoked,
        })
    }
}
