//! The issuer for JVM and Python backends (feature `issuer`). Thin: records and enums
//! mirror [`crate::issuer::model`], and every method delegates to
//! [`crate::issuer::Issuer`]. `actor` is the employee or channel id recorded in the audit log.

use std::sync::Arc;

use super::app::Transaction;
use super::engine::{HashAlgorithm, OtpSecret};
use crate::clock::{Clock, SystemClock};
use crate::error::IssuerError;
use crate::issuer::master_key::MasterKey;
use crate::issuer::model;
use crate::issuer::sqlite::SqliteStore;
use crate::issuer::store::{IssuerStore, MemoryStore};
use crate::issuer::{self, IssuerConfig, SmsGateway};

/// Individual or corporate customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CustomerKind {
    /// A person.
    Individual,
    /// A company (not eligible for mobile OTP).
    Corporation,
}

/// Domestic or foreign customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Residency {
    /// Domestic.
    Domestic,
    /// Foreign (not eligible for mobile OTP).
    Foreign,
}

/// A customer to register.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewCustomer {
    /// The institution.
    pub institution_id: String,
    /// The institution's customer id.
    pub customer_id: String,
    /// Name.
    pub name: String,
    /// Individual or corporation.
    pub kind: CustomerKind,
    /// Domestic or foreign.
    pub residency: Residency,
    /// Phone number (normalized to E.164; the SMS code goes there).
    pub phone_number: String,
}

/// The answer a customer gets: never why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Verification {
    /// Valid; it cannot be used again.
    Accepted,
    /// Wrong, reused, expired, locked, lost or unknown: the staff inquiry tells which.
    Rejected,
}

/// Loss or theft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AccidentKind {
    /// Lost.
    Lost,
    /// Stolen.
    Stolen,
}

/// Mobile OTP or a physical token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeviceKind {
    /// A digital OTP in the bank's app.
    Mobile,
    /// A physical OTP token or card.
    Hardware,
}

/// A device's state, shared by every institution using it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeviceState {
    /// Usable.
    Active,
    /// Locked after 10 consecutive wrong codes until a branch resets the count.
    Locked,
    /// Reported lost.
    Lost,
    /// Reported stolen.
    Stolen,
    /// Cancelled.
    Cancelled,
}

/// A registration's state at one institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RegistrationState {
    /// Waiting for the first code (mobile OTP).
    Pending,
    /// In use.
    Active,
    /// Cancelled at the customer's request.
    Cancelled,
    /// Replaced by a newer registration.
    Revoked,
}

/// A device's registration at an institution.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Registration {
    /// Institution.
    pub institution_id: String,
    /// Customer.
    pub customer_id: String,
    /// State.
    pub state: RegistrationState,
    /// When registered (Unix seconds).
    pub since: u64,
    /// When it ended, if it did.
    pub ended_at: Option<u64>,
    /// Why it ended.
    pub ended_reason: Option<String>,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuditRecord {
    /// Increasing id.
    pub id: u64,
    /// Unix seconds.
    pub at: u64,
    /// Institution (empty for centre-wide operations).
    pub institution_id: String,
    /// Employee or channel id.
    pub actor: String,
    /// Operation.
    pub action: String,
    /// `customer:ID` or `device:VENDOR:SERIAL`.
    pub subject: String,
    /// `ok`, `rejected` or `refused`.
    pub outcome: String,
    /// Details (never a code or secret).
    pub detail: String,
}

/// What the staff inquiry shows about a device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceReport {
    /// Vendor code (`DOTP` for mobile OTPs).
    pub vendor_code: String,
    /// Serial number.
    pub serial_number: String,
    /// Mobile or hardware.
    pub kind: DeviceKind,
    /// State.
    pub state: DeviceState,
    /// Past its validity.
    pub expired: bool,
    /// Consecutive wrong codes.
    pub error_count: u32,
    /// End of validity (Unix seconds).
    pub valid_until: u64,
    /// Registrations at institutions, current and past, oldest first.
    pub registrations: Vec<Registration>,
    /// History, newest first.
    pub history: Vec<AuditRecord>,
}

/// What the staff inquiry shows about a customer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CustomerReport {
    /// Institution.
    pub institution_id: String,
    /// Customer id.
    pub customer_id: String,
    /// Name.
    pub name: String,
    /// Individual or corporation.
    pub kind: CustomerKind,
    /// Domestic or foreign.
    pub residency: Residency,
    /// Their devices at this institution, current first.
    pub devices: Vec<DeviceReport>,
}

/// A physical OTP device to import.
#[derive(uniffi::Record)]
pub struct ImportedDevice {
    /// Vendor code.
    pub vendor_code: String,
    /// Serial number.
    pub serial_number: String,
    /// The token's secret.
    pub secret: Arc<OtpSecret>,
    /// HMAC hash.
    pub algorithm: HashAlgorithm,
    /// Digits (6–10).
    pub digits: u8,
    /// TOTP period in seconds, or null for a counter-based (HOTP) token.
    pub period_seconds: Option<u64>,
    /// End of validity (Unix seconds).
    pub valid_until: u64,
}

/// A filter over the audit log; null fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct AuditFilter {
    /// Only this institution.
    #[uniffi(default)]
    pub institution_id: Option<String>,
    /// Only this subject (`customer:ID`, `device:VENDOR:SERIAL`).
    #[uniffi(default)]
    pub subject: Option<String>,
    /// Only this action.
    #[uniffi(default)]
    pub action: Option<String>,
    /// From (inclusive, Unix seconds).
    #[uniffi(default)]
    pub from: Option<u64>,
    /// Until (exclusive).
    #[uniffi(default)]
    pub until: Option<u64>,
    /// At most this many, newest first (0: 1000).
    #[uniffi(default)]
    pub limit: u32,
}

fn audit_record(e: model::AuditEntry) -> AuditRecord {
    AuditRecord {
        id: e.id,
        at: e.at,
        institution_id: e.institution_id,
        actor: e.actor,
        action: e.action,
        subject: e.subject,
        outcome: e.outcome,
        detail: e.detail,
    }
}

fn device_report(r: issuer::DeviceReport) -> DeviceReport {
    DeviceReport {
        vendor_code: r.vendor_code,
        serial_number: r.serial_number,
        kind: match r.kind {
            model::DeviceKind::Mobile => DeviceKind::Mobile,
            model::DeviceKind::Hardware => DeviceKind::Hardware,
        },
        state: match r.state {
            model::DeviceState::Active => DeviceState::Active,
            model::DeviceState::Locked => DeviceState::Locked,
            model::DeviceState::Lost => DeviceState::Lost,
            model::DeviceState::Stolen => DeviceState::Stolen,
            model::DeviceState::Cancelled => DeviceState::Cancelled,
        },
        expired: r.expired,
        error_count: r.error_count,
        valid_until: r.valid_until,
        registrations: r
            .links
            .into_iter()
            .map(|l| Registration {
                institution_id: l.institution_id,
                customer_id: l.customer_id,
                state: match l.state {
                    model::LinkState::Pending => RegistrationState::Pending,
                    model::LinkState::Active => RegistrationState::Active,
                    model::LinkState::Cancelled => RegistrationState::Cancelled,
                    model::LinkState::Revoked => RegistrationState::Revoked,
                },
                since: l.since,
                ended_at: l.ended.as_ref().map(|e| e.0),
                ended_reason: l.ended.map(|e| e.1),
            })
            .collect(),
        history: r.history.into_iter().map(audit_record).collect(),
    }
}

fn kind(k: CustomerKind) -> model::CustomerKind {
    match k {
        CustomerKind::Individual => model::CustomerKind::Individual,
        CustomerKind::Corporation => model::CustomerKind::Corporation,
    }
}

fn residency(r: Residency) -> model::Residency {
    match r {
        Residency::Domestic => model::Residency::Domestic,
        Residency::Foreign => model::Residency::Foreign,
    }
}

fn verification(v: issuer::Verdict) -> Verification {
    match v {
        issuer::Verdict::Accepted => Verification::Accepted,
        issuer::Verdict::Rejected => Verification::Rejected,
    }
}

/// The vendor code of this SDK's mobile OTPs (`DOTP`), for `deviceInquiry` and the like.
#[uniffi::export]
pub fn mobile_vendor_code() -> String {
    issuer::MOBILE_VENDOR.to_string()
}

/// A new random master key, as 64 hex digits: write it to the operator's key file
/// (never into the database).
#[uniffi::export]
pub fn generate_master_key() -> Result<String, IssuerError> {
    let (_, hex) = MasterKey::generate().map_err(issuer::Fault::from)?;
    Ok(hex.to_string())
}

/// The bank's (or OTP centre's) side of digital OTP: registration codes, registration,
/// verification, the service desk, inquiry and the audit log. Safe to use from many
/// threads; every state change is one database transaction.
#[derive(Debug, uniffi::Object)]
pub struct Issuer {
    inner: issuer::Issuer,
}

impl Issuer {
    fn build(
        store: Arc<dyn IssuerStore>,
        master_key_hex: &str,
        clock: Option<Arc<dyn Clock>>,
        sms: Option<Arc<dyn SmsGateway>>,
    ) -> Result<Arc<Self>, IssuerError> {
        let master = MasterKey::from_hex(master_key_hex).map_err(issuer::Fault::from)?;
        let clock = clock.unwrap_or_else(|| Arc::new(SystemClock));
        Ok(Arc::new(Self {
            inner: issuer::Issuer::open(store, master, clock, sms, IssuerConfig::default())?,
        }))
    }
}

#[uniffi::export]
impl Issuer {
    /// Opens (creating if needed) the SQLite database at `path`. The master key (64 hex
    /// digits) seals the seeds; the database refuses a different key than it was
    /// created with. `clock` defaults to the system clock; `sms` is the bank's gateway
    /// for face-to-face issuance.
    #[uniffi::constructor(default(clock = None, sms = None))]
    pub fn open_sqlite(
        path: String,
        master_key_hex: String,
        clock: Option<Arc<dyn Clock>>,
        sms: Option<Arc<dyn SmsGateway>>,
    ) -> Result<Arc<Self>, IssuerError> {
        let store = SqliteStore::open(&path).map_err(issuer::Fault::from)?;
        Self::build(Arc::new(store), &master_key_hex, clock, sms)
    }

    /// An issuer in memory (tests and demos).
    #[uniffi::constructor(default(clock = None, sms = None))]
    pub fn in_memory(
        master_key_hex: String,
        clock: Option<Arc<dyn Clock>>,
        sms: Option<Arc<dyn SmsGateway>>,
    ) -> Result<Arc<Self>, IssuerError> {
        Self::build(Arc::new(MemoryStore::new()), &master_key_hex, clock, sms)
    }

    /// Adds (or renames) an institution. Persisted and audited.
    pub fn add_institution(
        &self,
        actor: String,
        institution_id: String,
        name: String,
    ) -> Result<(), IssuerError> {
        Ok(self.inner.add_institution(&actor, &institution_id, &name)?)
    }

    /// Registers a customer of an institution. Persisted and audited.
    pub fn register_customer(
        &self,
        actor: String,
        customer: NewCustomer,
    ) -> Result<(), IssuerError> {
        Ok(self.inner.register_customer(
            &actor,
            &issuer::NewCustomer {
                institution_id: customer.institution_id,
                customer_id: customer.customer_id,
                name: customer.name,
                kind: kind(customer.kind),
                residency: residency(customer.residency),
                phone_number: customer.phone_number,
            },
        )?)
    }

    /// Face to face, step 1: sends a 5-digit verification code to the customer's phone.
    pub fn start_face_to_face(
        &self,
        actor: String,
        institution_id: String,
        customer_id: String,
    ) -> Result<(), IssuerError> {
        Ok(self.inner.start_face_to_face(&actor, &institution_id, &customer_id)?)
    }

    /// Face to face, step 2: the code the customer shows; returns the app registration
    /// code (`1234-5678-9012`) to hand over. Five wrong codes void the verification.
    pub fn confirm_face_to_face(
        &self,
        actor: String,
        institution_id: String,
        customer_id: String,
        shown_code: String,
    ) -> Result<String, IssuerError> {
        Ok(self
            .inner
            .confirm_face_to_face(&actor, &institution_id, &customer_id, &shown_code)?
            .display())
    }

    /// Non-face-to-face: after the bank's own identity verification (its reference is
    /// recorded), returns an app registration code.
    pub fn issue_non_face_to_face(
        &self,
        actor: String,
        institution_id: String,
        customer_id: String,
        verification_reference: String,
    ) -> Result<String, IssuerError> {
        Ok(self
            .inner
            .issue_non_face_to_face(&actor, &institution_id, &customer_id, &verification_reference)?
            .display())
    }

    /// Answers an app's registration request with the bytes to send back (a response,
    /// or an error the app reports as `RegistrationRejected`). Persisted and audited.
    pub fn handle_registration(&self, actor: String, request: Vec<u8>) -> Vec<u8> {
        self.inner.handle_registration(&actor, &request)
    }

    /// Verifies a login code of the customer's OTP device at this institution.
    pub fn verify_login(
        &self,
        actor: String,
        institution_id: String,
        customer_id: String,
        code: String,
    ) -> Result<Verification, IssuerError> {
        Ok(verification(self.inner.verify_login(&actor, &institution_id, &customer_id, &code)?))
    }

    /// Verifies a transaction code for exactly `transaction`.
    pub fn verify_transaction(
        &self,
        actor: String,
        institution_id: String,
        customer_id: String,
        code: String,
        transaction: Transaction,
    ) -> Result<Verification, IssuerError> {
        Ok(verification(self.inner.verify_transaction(
            &actor,
            &institution_id,
            &customer_id,
            &code,
            &transaction.into(),
        )?))
    }

    /// Imports a physical OTP device with its secret. Persisted (sealed) and audited.
    pub fn import_device(&self, actor: String, device: ImportedDevice) -> Result<(), IssuerError> {
        Ok(self.inner.import_device(
            &actor,
            &issuer::ImportDevice {
                vendor_code: device.vendor_code,
                serial_number: device.serial_number,
                secret: device.secret.secret().clone(),
                algorithm: device.algorithm.into(),
                digits: device.digits,
                moving: match device.period_seconds {
                    Some(period) => model::Moving::Totp { period },
                    None => model::Moving::Hotp,
                },
                valid_until: device.valid_until,
            },
        )?)
    }

    /// Registers an OTP device (possibly another institution's) for a customer by vendor
    /// code and serial number; with `possession_code`, a current code must verify.
    #[uniffi::method(default(possession_code = None))]
    pub fn register_device(
        &self,
        actor: String,
        institution_id: String,
        customer_id: String,
        vendor_code: String,
        serial_number: String,
        possession_code: Option<String>,
    ) -> Result<(), IssuerError> {
        Ok(self.inner.register_device(
            &actor,
            &institution_id,
            &customer_id,
            &vendor_code,
            &serial_number,
            possession_code.as_deref(),
        )?)
    }

    /// Cancels the customer's OTP device at this institution.
    pub fn cancel(
        &self,
        actor: String,
        institution_id: String,
        customer_id: String,
    ) -> Result<(), IssuerError> {
        Ok(self.inner.cancel(&actor, &institution_id, &customer_id)?)
    }

    /// Reports a device lost or stolen: refused at every institution.
    pub fn report_accident(
        &self,
        actor: String,
        institution_id: String,
        vendor_code: String,
        serial_number: String,
        kind: AccidentKind,
    ) -> Result<(), IssuerError> {
        let accident = match kind {
            AccidentKind::Lost => issuer::Accident::Lost,
            AccidentKind::Stolen => issuer::Accident::Stolen,
        };
        Ok(self.inner.report_accident(
            &actor,
            &institution_id,
            &vendor_code,
            &serial_number,
            accident,
        )?)
    }

    /// Recovers a device reported lost or stolen: accepted again everywhere.
    pub fn recover(
        &self,
        actor: String,
        institution_id: String,
        vendor_code: String,
        serial_number: String,
    ) -> Result<(), IssuerError> {
        Ok(self.inner.recover(&actor, &institution_id, &vendor_code, &serial_number)?)
    }

    /// Resets the device's error count at every institution and unlocks it.
    pub fn reset_error_count(
        &self,
        actor: String,
        institution_id: String,
        vendor_code: String,
        serial_number: String,
    ) -> Result<(), IssuerError> {
        Ok(self.inner.reset_error_count(&actor, &institution_id, &vendor_code, &serial_number)?)
    }

    /// Staff inquiry by customer. Audited.
    pub fn customer_inquiry(
        &self,
        actor: String,
        institution_id: String,
        customer_id: String,
    ) -> Result<CustomerReport, IssuerError> {
        let r = self.inner.customer_inquiry(&actor, &institution_id, &customer_id)?;
        Ok(CustomerReport {
            institution_id: r.customer.institution_id,
            customer_id: r.customer.customer_id,
            name: r.customer.name,
            kind: match r.customer.kind {
                model::CustomerKind::Individual => CustomerKind::Individual,
                model::CustomerKind::Corporation => CustomerKind::Corporation,
            },
            residency: match r.customer.residency {
                model::Residency::Domestic => Residency::Domestic,
                model::Residency::Foreign => Residency::Foreign,
            },
            devices: r.devices.into_iter().map(device_report).collect(),
        })
    }

    /// Staff inquiry by device. Audited.
    pub fn device_inquiry(
        &self,
        actor: String,
        institution_id: String,
        vendor_code: String,
        serial_number: String,
    ) -> Result<DeviceReport, IssuerError> {
        Ok(device_report(self.inner.device_inquiry(
            &actor,
            &institution_id,
            &vendor_code,
            &serial_number,
        )?))
    }

    /// The audit log, newest first.
    pub fn audit(&self, filter: AuditFilter) -> Result<Vec<AuditRecord>, IssuerError> {
        let q = model::AuditQuery {
            institution_id: filter.institution_id,
            subject: filter.subject,
            action: filter.action,
            from: filter.from,
            until: filter.until,
            limit: filter.limit,
        };
        Ok(self.inner.audit(&q)?.into_iter().map(audit_record).collect())
    }

    /// Deletes audit entries past the retention period (10 years); returns how many.
    pub fn purge_expired_audit(&self) -> Result<u64, IssuerError> {
        Ok(self.inner.purge_expired_audit()?)
    }
}
