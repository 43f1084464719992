//! A bank for the app-side tests: one institution on the issuer with an in-memory store,
//! customers registered on demand (individual, domestic, phone [`PHONE`] unless another is
//! given), codes issued non-face-to-face, verification looked up by the credential's
//! serial, and the app's round trips to it: a registration (request, response,
//! confirmation, outcome), a login code, a transaction code and a change of password
//! (unlock request, answer).

use std::sync::Arc;

use digital_otp::client::{
    Client, ClientError, CredentialSummary, GeneratedCode, TransactionCode, MIN_PBKDF2_ITERATIONS,
};
use digital_otp::enrollment::{Device, RegistrationCode};
use digital_otp::host::{Clock, DeviceKeys, SecureStore};
use digital_otp::issuer::master_key::MasterKey;
use digital_otp::issuer::model::{CustomerKind, LinkState, Residency};
use digital_otp::issuer::store::{IssuerStore, MemoryStore};
use digital_otp::issuer::{Fault, Issuer, IssuerConfig, NewCustomer, Verdict, MOBILE_VENDOR};
use digital_otp::transaction::Transaction;

/// The phone number of customers registered without one.
pub const PHONE: &str = "010-1234-5678";

/// A credential's state at the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialState {
    Pending,
    Active,
    Revoked,
}

/// An app over `store` with device `keys` and `clock`, with the fewest PBKDF2 iterations
/// (the tests register many credentials).
pub fn app(
    store: Arc<dyn SecureStore>,
    keys: Arc<dyn DeviceKeys>,
    clock: Arc<dyn Clock>,
) -> Client {
    Client::with_iterations(store, keys, clock, MIN_PBKDF2_ITERATIONS)
}

pub struct Bank {
    pub issuer: Issuer,
    institution: String,
}

impl Bank {
    pub fn new(institution: &str, name: &str, clock: Arc<dyn Clock>) -> Self {
        let (key, _) = MasterKey::generate().unwrap();
        let bank = Self::on(Arc::new(MemoryStore::new()), key, institution, clock);
        bank.issuer.add_institution("test", institution, name).unwrap();
        bank
    }

    /// The bank on `store` under master `key`, whose institution `institution` is already
    /// there or added next (a bank that outlives its process).
    pub fn on(
        store: Arc<dyn IssuerStore>,
        key: MasterKey,
        institution: &str,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let issuer = Issuer::open(store, key, clock, None, IssuerConfig::default()).unwrap();
        Self { issuer, institution: institution.into() }
    }

    /// The institution's id.
    pub fn id(&self) -> &str {
        &self.institution
    }

    /// A registration code for `customer` (registered first with phone [`PHONE`] if new).
    pub fn issue_registration_code(&self, customer: &str) -> Result<RegistrationCode, Fault> {
        self.issue_registration_code_for(customer, PHONE)
    }

    /// A registration code for `customer`, registered first with `phone` if new. The bank
    /// finds the code by the institution and the phone: one outstanding code per phone.
    pub fn issue_registration_code_for(
        &self,
        customer: &str,
        phone: &str,
    ) -> Result<RegistrationCode, Fault> {
        let new = NewCustomer {
            institution_id: self.institution.clone(),
            customer_id: customer.into(),
            name: "홍길동".into(),
            kind: CustomerKind::Individual,
            residency: Residency::Domestic,
            phone_number: phone.into(),
            real_name_number: None,
        };
        match self.issuer.register_customer("test", &new) {
            Ok(()) | Err(Fault::CustomerExists) => {}
            Err(e) => return Err(e),
        }
        self.issuer.issue_non_face_to_face("test", &self.institution, customer, "kyc-test")
    }

    /// The bank's answer to a registration message (a request or a confirmation).
    pub fn handle_registration(&self, message: &[u8]) -> Vec<u8> {
        self.issuer.handle_registration("mobile-app", message)
    }

    /// The bank's answer to an unlock request.
    pub fn handle_unlock(&self, request: &[u8]) -> Vec<u8> {
        self.issuer.handle_unlock("mobile-app", request)
    }

    /// A whole registration of `app` with `code`: request, response, confirmation,
    /// outcome.
    pub fn register(
        &self,
        app: &Client,
        code: &str,
        device: &Device,
        password: &str,
    ) -> Result<CredentialSummary, ClientError> {
        let request = app.begin_registration(&self.institution, code, device.clone(), password)?;
        let confirmation = app.confirm_registration(&self.handle_registration(&request))?;
        app.complete_registration(&self.institution, &self.handle_registration(&confirmation))
    }

    /// Registers `app` on `device` for `customer` (whose phone on record is the device's,
    /// if the customer is new) with a new code.
    pub fn register_phone(
        &self,
        app: &Client,
        customer: &str,
        device: &Device,
        password: &str,
    ) -> Result<CredentialSummary, ClientError> {
        let code = self.issue_registration_code_for(customer, device.phone()).unwrap();
        self.register(app, code.as_str(), device, password)
    }

    /// A login code: the unlock request, the bank's answer, the code.
    pub fn login_code(
        &self,
        app: &Client,
        device: &Device,
        password: &str,
    ) -> Result<GeneratedCode, ClientError> {
        let request = app.begin_login_code(&self.institution, password, device)?;
        app.complete_login_code(&self.handle_unlock(&request))
    }

    /// A transaction code for `tx`: the unlock request, the bank's answer, the code.
    pub fn transaction_code(
        &self,
        app: &Client,
        device: &Device,
        password: &str,
        tx: &Transaction,
    ) -> Result<TransactionCode, ClientError> {
        let request = app.begin_transaction_code(&self.institution, password, device, tx)?;
        app.complete_transaction_code(&self.handle_unlock(&request))
    }

    /// A change of the app password: the unlock request, the bank's answer, the re-seal.
    pub fn change_password(
        &self,
        app: &Client,
        device: &Device,
        old: &str,
        new: &str,
    ) -> Result<(), ClientError> {
        let request = app.begin_change_password(&self.institution, old, new, device)?;
        app.complete_change_password(&self.handle_unlock(&request))
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
