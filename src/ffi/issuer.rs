//! The issuer for JVM and Python backends (feature `issuer`). Thin: every method delegates
//! to [`crate::issuer::Issuer`]. The enums and records that cross as they are
//! (`CustomerKind`, `Residency`, `NewCustomer`, `Verification`, `AccidentKind`,
//! `DeviceKind`, `DeviceState`, `RegistrationState`, `AuditRecord`, `AuditFilter`,
//! `DeskChannel`, `DeskOperation`, `ChannelRule`, `Agent`, `StaffRole`) are the
//! core's own types; the reports are reshaped here (a registration's end is one tuple in
//! the core, two fields here), and `ImportedDevice` holds an `OtpSecret` object. `actor`
//! is the employee or channel id recorded in the audit log; a desk call's optional
//! `DeskContext` adds the channel, the agent and the staff role (omitted: a branch employee
//! of the institution, the customer present).

use std::sync::Arc;

use super::engine::{HashAlgorithm, OtpSecret};
use super::errors::IssuerError;
use crate::host::{Clock, SystemClock};
use crate::host::{IntegrityVerifier, SmsGateway};
use crate::issuer::attestation::AttestationPolicy;
use crate::issuer::master_key::MasterKey;
use crate::issuer::model::{
    self, AuditEntry as AuditRecord, AuditQuery as AuditFilter, CustomerKind, DeviceKind,
    DeviceState, LinkState as RegistrationState, Residency,
};
use crate::issuer::policy::{Agent, Caller, ChannelRule, DeskChannel, StaffRole};
use crate::issuer::sqlite::SqliteStore;
use crate::issuer::store::{IssuerStore, MemoryStore};
use crate::issuer::{
    self, Accident as AccidentKind, IssuerConfig, NewCustomer, Verdict as Verification,
};
use crate::transaction::Transaction;

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
    /// Mobile OTPs: the app-password evaluations the bank still allows before the lock
    /// (five unconfirmed in a row; 0: the next request locks it unless the last password
    /// was right). Null for a hardware token.
    pub app_password_attempts_left: Option<u32>,
    /// End of validity (Unix seconds).
    pub valid_until: u64,
    /// While reported lost or stolen: the institutions (with a current registration) that
    /// have not cleared the report yet.
    pub pending_clearance: Vec<String>,
    /// Registrations at institutions, current and past, oldest first (another
    /// institution's with an empty customer id, unless the caller is centre staff).
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

fn device_report(r: issuer::DeviceReport) -> DeviceReport {
    DeviceReport {
        vendor_code: r.vendor_code,
        serial_number: r.serial_number,
        kind: r.kind,
        state: r.state,
        expired: r.expired,
        error_count: r.error_count,
        app_password_attempts_left: r.app_password_attempts_left,
        valid_until: r.valid_until,
        pending_clearance: r.pending_clearance,
        registrations: r
            .links
            .into_iter()
            .map(|l| Registration {
                institution_id: l.institution_id,
                customer_id: l.customer_id,
                state: l.state,
                since: l.since,
                ended_at: l.ended.as_ref().map(|e| e.0),
                ended_reason: l.ended.map(|e| e.1),
            })
            .collect(),
        history: r.history,
    }
}

/// How a service-desk call came, beyond its actor: the channel, the representative acting
/// for the customer, and the caller's role. Omitted: a branch employee of the
/// institution, the customer present.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeskContext {
    /// The channel.
    pub channel: DeskChannel,
    /// The representative acting for the customer (corporations' physical OTPs only, at a
    /// branch, with a proof of authority).
    #[uniffi(default)]
    pub agent: Option<Agent>,
    /// Institution staff (the default) or central OTP centre staff.
    pub role: StaffRole,
}

/// The caller of a desk operation: `actor` in `context` (a branch employee without one).
fn caller(actor: &str, context: Option<DeskContext>) -> Caller {
    match context {
        None => Caller::branch(actor),
        Some(c) => Caller { actor: actor.into(), channel: c.channel, agent: c.agent, role: c.role },
    }
}

/// What verifying the audit log found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuditVerification {
    /// Chained entries checked.
    pub entries: u64,
    /// What is wrong, one sentence each (empty: the log is whole).
    pub faults: Vec<String>,
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
        integrity: Option<Arc<dyn IntegrityVerifier>>,
    ) -> Result<Arc<Self>, IssuerError> {
        let master = MasterKey::from_hex(master_key_hex).map_err(issuer::Fault::from)?;
        let clock = clock.unwrap_or_else(|| Arc::new(SystemClock));
        let mut inner = issuer::Issuer::open(store, master, clock, sms, IssuerConfig::default())?;
        if let Some(v) = integrity {
            inner = inner.with_integrity_verifier(v);
        }
        Ok(Arc::new(Self { inner }))
    }
}

#[uniffi::export]
impl Issuer {
    /// Opens (creating if needed) the SQLite database at `path`. The master key (64 hex
    /// digits) seals the seeds; the database refuses a different key than it was
    /// created with. `clock` defaults to the system clock; `sms` is the bank's gateway
    /// for face-to-face issuance; `integrity` decodes Play Integrity tokens for
    /// institutions that require them.
    #[uniffi::constructor(default(clock = None, sms = None, integrity = None))]
    pub fn open_sqlite(
        path: String,
        master_key_hex: String,
        clock: Option<Arc<dyn Clock>>,
        sms: Option<Arc<dyn SmsGateway>>,
        integrity: Option<Arc<dyn IntegrityVerifier>>,
    ) -> Result<Arc<Self>, IssuerError> {
        let store = SqliteStore::open(&path).map_err(issuer::Fault::from)?;
        Self::build(Arc::new(store), &master_key_hex, clock, sms, integrity)
    }

    /// An issuer in memory (tests and demos).
    #[uniffi::constructor(default(clock = None, sms = None, integrity = None))]
    pub fn in_memory(
        master_key_hex: String,
        clock: Option<Arc<dyn Clock>>,
        sms: Option<Arc<dyn SmsGateway>>,
        integrity: Option<Arc<dyn IntegrityVerifier>>,
    ) -> Result<Arc<Self>, IssuerError> {
        Self::build(Arc::new(MemoryStore::new()), &master_key_hex, clock, sms, integrity)
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
        Ok(self.inner.register_customer(&actor, &customer)?)
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

    /// Answers an app's registration message with the bytes to send back: to its
    /// request, a response (a wrong, expired or used code gets one too, whose key
    /// confirmation fails on the phone); to its confirmation, the outcome. Persisted and
    /// audited.
    pub fn handle_registration(&self, actor: String, message: Vec<u8>) -> Vec<u8> {
        self.inner.handle_registration(&actor, &message)
    }

    /// Answers an app's unlock request (every code needs one) with the evaluation of its
    /// password's OPRF, counting the guess first, or a refusal (locked, not usable,
    /// stale). Persisted and audited.
    pub fn handle_unlock(&self, actor: String, request: Vec<u8>) -> Vec<u8> {
        self.inner.handle_unlock(&actor, &request)
    }

    /// Sets what an institution requires of a device key's attestation, and whether an
    /// Android device must bring a passing Play Integrity verdict. Persisted and audited.
    pub fn set_attestation_policy(
        &self,
        actor: String,
        institution_id: String,
        policy: AttestationPolicy,
        require_integrity: bool,
    ) -> Result<(), IssuerError> {
        Ok(self.inner.set_attestation_policy(
            &actor,
            &institution_id,
            &policy,
            require_integrity,
        )?)
    }

    /// Verifies the audit log's hash chain: every rewritten, inserted or deleted entry is
    /// reported.
    pub fn verify_audit(&self) -> Result<AuditVerification, IssuerError> {
        let check = self.inner.verify_audit()?;
        Ok(AuditVerification {
            entries: check.entries,
            faults: check.faults.iter().map(ToString::to_string).collect(),
        })
    }

    /// Rotates the master key to `new_master_key_hex` (64 hex digits): every sealed value
    /// and row is re-sealed under it while the issuer keeps serving, then the old key is
    /// forgotten (keep it until this returns, then replace the key file). Returns the rows
    /// re-sealed. Audited.
    pub fn rotate_master_key(
        &self,
        actor: String,
        new_master_key_hex: String,
    ) -> Result<u64, IssuerError> {
        let key = MasterKey::from_hex(&new_master_key_hex).map_err(issuer::Fault::from)?;
        Ok(self.inner.rotate_master_key(&actor, key)?.rows)
    }

    /// Verifies a login code of the customer's OTP device at this institution.
    pub fn verify_login(
        &self,
        actor: String,
        institution_id: String,
        customer_id: String,
        code: String,
    ) -> Result<Verification, IssuerError> {
        Ok(self.inner.verify_login(&actor, &institution_id, &customer_id, &code)?)
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
        Ok(self.inner.verify_transaction(
            &actor,
            &institution_id,
            &customer_id,
            &code,
            &transaction,
        )?)
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

    /// Registers an OTP device (possibly another institution's, then the same person's)
    /// for a customer by vendor code and serial number; with `possession_code`, a current
    /// code must verify. `context`: the channel and agent (omitted: at a branch). Audited.
    #[uniffi::method(default(possession_code = None, context = None))]
    #[allow(clippy::too_many_arguments)] // the foreign call's named arguments
    pub fn register_device(
        &self,
        actor: String,
        institution_id: String,
        customer_id: String,
        vendor_code: String,
        serial_number: String,
        possession_code: Option<String>,
        context: Option<DeskContext>,
    ) -> Result<(), IssuerError> {
        Ok(self.inner.register_device(
            caller(&actor, context),
            &institution_id,
            &customer_id,
            &vendor_code,
            &serial_number,
            possession_code.as_deref(),
        )?)
    }

    /// Cancels the customer's OTP device at this institution (never through an agent for a
    /// mobile OTP). Audited.
    #[uniffi::method(default(context = None))]
    pub fn cancel(
        &self,
        actor: String,
        institution_id: String,
        customer_id: String,
        context: Option<DeskContext>,
    ) -> Result<(), IssuerError> {
        Ok(self.inner.cancel(caller(&actor, context), &institution_id, &customer_id)?)
    }

    /// Reports a device lost or stolen: refused at every institution until each one with a
    /// current registration has cleared the report. Any channel by default. Audited.
    #[uniffi::method(default(context = None))]
    pub fn report_accident(
        &self,
        actor: String,
        institution_id: String,
        vendor_code: String,
        serial_number: String,
        kind: AccidentKind,
        context: Option<DeskContext>,
    ) -> Result<(), IssuerError> {
        Ok(self.inner.report_accident(
            caller(&actor, context),
            &institution_id,
            &vendor_code,
            &serial_number,
            kind,
        )?)
    }

    /// Clears a loss or theft report at this institution: the first clearing in person at
    /// a branch, the others then online too. Returns the institutions that still have to
    /// clear it (empty: accepted again everywhere). Audited.
    #[uniffi::method(default(context = None))]
    pub fn recover(
        &self,
        actor: String,
        institution_id: String,
        vendor_code: String,
        serial_number: String,
        context: Option<DeskContext>,
    ) -> Result<Vec<String>, IssuerError> {
        Ok(self.inner.recover(
            caller(&actor, context),
            &institution_id,
            &vendor_code,
            &serial_number,
        )?)
    }

    /// Resets the device's error count at every institution and unlocks it (at a branch by
    /// default). Audited.
    #[uniffi::method(default(context = None))]
    pub fn reset_error_count(
        &self,
        actor: String,
        institution_id: String,
        vendor_code: String,
        serial_number: String,
        context: Option<DeskContext>,
    ) -> Result<(), IssuerError> {
        Ok(self.inner.reset_error_count(
            caller(&actor, context),
            &institution_id,
            &vendor_code,
            &serial_number,
        )?)
    }

    /// Changes the customer's phone number: the mobile OTP bound to the old number is
    /// revoked (register the app again from the new one) and outstanding registration codes
    /// are voided. At a branch by default, never through an agent. Audited.
    #[uniffi::method(default(context = None))]
    pub fn change_phone(
        &self,
        actor: String,
        institution_id: String,
        customer_id: String,
        phone_number: String,
        context: Option<DeskContext>,
    ) -> Result<(), IssuerError> {
        Ok(self.inner.change_phone(
            caller(&actor, context),
            &institution_id,
            &customer_id,
            &phone_number,
        )?)
    }

    /// Sets which channels may perform each desk operation at the institution (operations
    /// not listed keep their defaults). Persisted and audited.
    pub fn set_channel_rules(
        &self,
        actor: String,
        institution_id: String,
        rules: Vec<ChannelRule>,
    ) -> Result<(), IssuerError> {
        Ok(self.inner.set_channel_rules(&actor, &institution_id, &rules)?)
    }

    /// The institution's channel table, every operation listed.
    pub fn channel_rules(&self, institution_id: String) -> Result<Vec<ChannelRule>, IssuerError> {
        Ok(self.inner.channel_rules(&institution_id)?)
    }

    /// Staff inquiry by customer: their devices as `device_inquiry` shows them. Audited.
    #[uniffi::method(default(context = None))]
    pub fn customer_inquiry(
        &self,
        actor: String,
        institution_id: String,
        customer_id: String,
        context: Option<DeskContext>,
    ) -> Result<CustomerReport, IssuerError> {
        let r =
            self.inner.customer_inquiry(caller(&actor, context), &institution_id, &customer_id)?;
        Ok(CustomerReport {
            institution_id: r.customer.institution_id,
            customer_id: r.customer.customer_id,
            name: r.customer.name,
            kind: r.customer.kind,
            residency: r.customer.residency,
            devices: r.devices.into_iter().map(device_report).collect(),
        })
    }

    /// Staff inquiry by device: institution staff see other institutions' registrations
    /// without the customer and only their own and the centre's history; centre staff see
    /// everything. Audited.
    #[uniffi::method(default(context = None))]
    pub fn device_inquiry(
        &self,
        actor: String,
        institution_id: String,
        vendor_code: String,
        serial_number: String,
        context: Option<DeskContext>,
    ) -> Result<DeviceReport, IssuerError> {
        Ok(device_report(self.inner.device_inquiry(
            caller(&actor, context),
            &institution_id,
            &vendor_code,
            &serial_number,
        )?))
    }

    /// The whole audit log, newest first: the operator's view. Staff use `audit_for`.
    pub fn audit(&self, filter: AuditFilter) -> Result<Vec<AuditRecord>, IssuerError> {
        Ok(self.inner.audit(&filter)?)
    }

    /// The audit log as a staff member of the institution may see it, newest first: its
    /// own entries and the centre-wide ones (centre staff: everything). Audited.
    #[uniffi::method(default(context = None))]
    pub fn audit_for(
        &self,
        actor: String,
        institution_id: String,
        filter: AuditFilter,
        context: Option<DeskContext>,
    ) -> Result<Vec<AuditRecord>, IssuerError> {
        Ok(self.inner.audit_for(caller(&actor, context), &institution_id, &filter)?)
    }

    /// Deletes audit entries past the retention period (10 years); returns how many.
    pub fn purge_expired_audit(&self) -> Result<u64, IssuerError> {
        Ok(self.inner.purge_expired_audit()?)
    }
}
