//! The issuer side (feature `issuer`): what a bank, or an OTP centre serving several
//! banks, runs. It issues app registration codes (face to face after an SMS check, or
//! after the bank's own non-face-to-face verification), answers the app's registration
//! requests, verifies login and transaction codes (replay protection, a 10-strike error
//! counter shared by every institution using a device, bounded clock-drift learning),
//! and does the service desk's work: other institutions' OTP devices by vendor code and
//! serial number, accident reports and recovery, error-count resets, cancellation and
//! inquiry. Every operation is recorded in an append-only audit log.
//!
//! One file per seam, all of them `impl Issuer` blocks over the helpers here:
//! - [`codes`]: registration codes (face to face with an SMS check, non-face-to-face);
//! - [`registration`]: the app's registration request and the issuer's answer;
//! - [`verification`]: login and transaction codes, as a pure decision over the device's
//!   state ([`verification::decide`]) and the store transaction around it;
//! - [`desk`]: institutions, customers, other institutions' devices, accidents, error
//!   counts, cancellation, inquiry and the audit log;
//! - [`error`]: the internal error [`Fault`].
//!
//! Persistence is behind [`store::IssuerStore`] (SQLite by default, [`store::MemoryStore`]
//! for tests), which knows nothing of the logic here. Seeds are sealed under the
//! operator's [`master_key::MasterKey`], which is never stored in the database. The mobile
//! library is built without this module.

pub mod api_keys;
pub mod attestation;
pub mod codes;
pub mod customers;
pub mod desk;
pub mod error;
mod group;
pub mod integrity;
pub mod maintenance;
pub mod master_key;
pub mod model;
#[cfg(feature = "postgres")]
mod pg_connect;
pub mod policy;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod registration;
pub mod sqlite;
pub mod store;
pub mod unlock;
pub mod verification;

use std::sync::{Arc, RwLock};

use zeroize::Zeroizing;

use crate::enrollment::{self, OtpParams};
use crate::host::{Clock, IntegrityVerifier, SmsGateway};
use crate::otp::{Algorithm, Secret};

pub use error::Fault;
pub use model::Verdict;

use integrity::Checked;
use master_key::{KeyRing, MasterKey, MasterKeyError};
use model::*;
use store::{IssuerStore, IssuerTx, Rollback, StoreFault};

/// Vendor code of this SDK's mobile OTPs.
pub const MOBILE_VENDOR: &str = "DOTP";
/// The meta key of version 1's single check value.
const CHECK_KEY: &str = "master_key_check";
/// The meta key of the known master keys.
const KEYS_KEY: &str = "master_keys";

/// Issuer settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerConfig {
    /// Lifetime of an app registration code (seconds); default 10 minutes.
    pub code_ttl: u64,
    /// Lifetime of a face-to-face SMS code (seconds); default 5 minutes.
    pub sms_ttl: u64,
    /// Wrong attempts that void a registration code or SMS code; default 5.
    pub max_code_attempts: u32,
    /// Consecutive wrong OTP codes that lock a device; default 10.
    pub max_errors: u32,
    /// Steps accepted on each side of the expected one; default 1.
    pub window_steps: u32,
    /// Largest learned clock drift, in steps; default 4 (two minutes at 30 s).
    pub max_drift_steps: u32,
    /// Validity of a new mobile OTP (seconds); default 3 years.
    pub validity: u64,
    /// How long audit entries are kept (seconds); default 10 years.
    pub audit_retention: u64,
    /// Wrong app passwords in a row that lock a mobile OTP; default 5.
    pub max_password_attempts: u32,
    /// How long an answered registration waits for its confirmation (seconds); default
    /// 10 minutes.
    pub attempt_ttl: u64,
    /// For the crate's tests of an attacker who searches every code: registration codes
    /// drawn from `0..n` (feature `test-support`; never in a release).
    #[cfg(feature = "test-support")]
    pub test_code_space: Option<u64>,
}

impl Default for IssuerConfig {
    fn default() -> Self {
        Self {
            code_ttl: 600,
            sms_ttl: 300,
            max_code_attempts: 5,
            max_errors: 10,
            window_steps: 1,
            max_drift_steps: 4,
            validity: enrollment::VALIDITY_SECONDS,
            audit_retention: 10 * 365 * 24 * 3600 + 3 * 24 * 3600,
            max_password_attempts: 5,
            attempt_ttl: 600,
            #[cfg(feature = "test-support")]
            test_code_space: None,
        }
    }
}

/// Loss or theft.
// In the bindings: `AccidentKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[uniffi(name = "AccidentKind")]
pub enum Accident {
    /// Lost.
    Lost,
    /// Stolen.
    Stolen,
}

/// A customer to register.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
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
    /// The real-name number (resident, alien or corporate registration number, or a
    /// business registration number; hyphens allowed): the person across institutions is
    /// known by a keyed hash of it, and the number itself is not stored. Null: the person
    /// is matched across institutions only by an identical customer id.
    #[uniffi(default)]
    pub real_name_number: Option<String>,
}

impl std::fmt::Debug for NewCustomer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCustomer")
            .field("institution_id", &self.institution_id)
            .field("customer_id", &self.customer_id)
            .field("kind", &self.kind)
            .field("residency", &self.residency)
            .field("name", &"<redacted>")
            .field("phone_number", &"<redacted>")
            .field("real_name_number", &self.real_name_number.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A physical OTP device to import.
pub struct ImportDevice {
    /// Vendor code.
    pub vendor_code: String,
    /// Serial number.
    pub serial_number: String,
    /// The token's secret.
    pub secret: Secret,
    /// HMAC hash.
    pub algorithm: Algorithm,
    /// Digits.
    pub digits: u8,
    /// Time or counter based.
    pub moving: Moving,
    /// End of validity (Unix seconds).
    pub valid_until: u64,
}

/// What the staff inquiry shows about a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceReport {
    /// Vendor code.
    pub vendor_code: String,
    /// Serial number.
    pub serial_number: String,
    /// Mobile or hardware.
    pub kind: DeviceKind,
    /// State (shared by every institution).
    pub state: DeviceState,
    /// Whether it is past its validity.
    pub expired: bool,
    /// Consecutive wrong codes.
    pub error_count: u32,
    /// Mobile OTPs: the app-password evaluations the bank still allows before the lock
    /// (five unconfirmed in a row; 0 means the next request locks it, unless the last
    /// password was right and its code or confirmation is still to come). `None` for a
    /// hardware token.
    pub app_password_attempts_left: Option<u32>,
    /// End of validity.
    pub valid_until: u64,
    /// While it is reported lost or stolen: the institutions with a current registration
    /// that have not cleared the report yet.
    pub pending_clearance: Vec<String>,
    /// Registrations at institutions, current and past (another institution's without
    /// the customer, unless the caller is centre staff).
    pub links: Vec<Link>,
    /// The device's audit history, newest first.
    pub history: Vec<AuditEntry>,
}

/// What the staff inquiry shows about a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerReport {
    /// The customer.
    pub customer: Customer,
    /// Their devices at this institution (current first), with each device's state.
    pub devices: Vec<DeviceReport>,
}

/// Checks an id (institution, customer, vendor code, serial number).
fn check_id(value: &str, what: &str) -> Result<(), Fault> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Fault::InvalidInput(format!("{what} must be 1 to 64 letters, digits, '-', '_' or '.'")))
    }
}

/// Checks the actor of an operation: the employee or channel that performs it, recorded
/// in the audit log (1 to 64 characters, no control characters).
fn check_actor(actor: &str) -> Result<(), Fault> {
    let n = actor.chars().count();
    if actor.trim().is_empty() || n > 64 || actor.chars().any(char::is_control) {
        return Err(Fault::InvalidInput(
            "the actor must be 1 to 64 characters without control characters".into(),
        ));
    }
    Ok(())
}

/// Checks the ids of a staff or channel call before anything is read or recorded, and
/// that the institution exists (when one is named): an unknown institution gets no audit
/// entry, since there is no institution to record it for.
fn check_caller(tx: &mut dyn IssuerTx, actor: &str, institution_id: &str) -> Result<(), Fault> {
    check_actor(actor)?;
    if !institution_id.is_empty() {
        check_id(institution_id, "the institution id")?;
        tx.institution(institution_id)?.ok_or(Fault::UnknownInstitution)?;
    }
    Ok(())
}

/// A device's key: `VENDOR:SERIAL`.
fn device_id(vendor: &str, serial: &str) -> String {
    format!("{vendor}:{serial}")
}

/// A device's key from a caller's vendor code and serial number, both checked.
fn checked_device_id(vendor: &str, serial: &str) -> Result<String, Fault> {
    check_id(vendor, "the vendor code")?;
    check_id(serial, "the serial number")?;
    Ok(device_id(vendor, serial))
}

/// `N` bytes from a hex column of a stored record.
fn stored_hex<const N: usize>(text: &str) -> Result<[u8; N], Fault> {
    Ok(crate::crypto::unhex_array(text).map_err(|_| StoreFault::Corrupt("hex".into()))?)
}

/// The issuer.
pub struct Issuer {
    store: Arc<dyn IssuerStore>,
    /// The master keys: swapped whole by a rotation while other threads serve.
    keys: RwLock<Arc<KeyRing>>,
    clock: Arc<dyn Clock>,
    sms: Option<Arc<dyn SmsGateway>>,
    integrity: Option<Arc<dyn IntegrityVerifier>>,
    config: IssuerConfig,
}

/// The master keys a database knows: their ids and check values (meta `master_keys`).
fn known_keys(tx: &mut dyn IssuerTx) -> Result<Vec<(String, String)>, Fault> {
    let Some(list) = tx.meta(KEYS_KEY)? else { return Ok(Vec::new()) };
    list.split(',')
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.split_once('=')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or(Fault::Store(StoreFault::Corrupt("master_keys".into())))
        })
        .collect()
}

fn put_known_keys(tx: &mut dyn IssuerTx, keys: &[(String, String)]) -> Result<(), Fault> {
    let list: Vec<String> = keys.iter().map(|(id, check)| format!("{id}={check}")).collect();
    Ok(tx.put_meta(KEYS_KEY, &list.join(","))?)
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Who does what, when and where: the part of an audit entry fixed before an operation
/// runs. The one way audit entries are made.
#[derive(Debug, Clone, Copy)]
struct Audit<'a> {
    at: u64,
    institution_id: &'a str,
    actor: &'a str,
    action: &'a str,
}

impl Audit<'_> {
    /// The entry for `subject` with its outcome (`ok`, `rejected`, `refused`) and detail.
    fn entry(&self, subject: &str, outcome: &str, detail: &str) -> AuditEntry {
        AuditEntry {
            id: 0,
            at: self.at,
            institution_id: self.institution_id.into(),
            actor: self.actor.into(),
            action: self.action.into(),
            subject: subject.into(),
            outcome: outcome.into(),
            detail: detail.into(),
            hash: String::new(),
        }
    }

    /// Appends the entry in a transaction of its own (after a rolled-back operation). A
    /// failure to record it is not reported: the operation's own error is.
    fn record(&self, issuer: &Issuer, subject: &str, outcome: &str, detail: &str) {
        let entry = self.entry(subject, outcome, detail);
        let _ = issuer.tx(|tx| Ok(tx.append_audit(&entry)?));
    }
}

impl Issuer {
    /// An issuer over `store` with one master key. The first open records the key's check
    /// value; a later open with another key is refused.
    pub fn open(
        store: Arc<dyn IssuerStore>,
        master: MasterKey,
        clock: Arc<dyn Clock>,
        sms: Option<Arc<dyn SmsGateway>>,
        config: IssuerConfig,
    ) -> Result<Self, Fault> {
        Self::open_ring(store, KeyRing::new(master), clock, sms, config)
    }

    /// An issuer over `store` with a ring of master keys (the current one and keys being
    /// retired, during a rotation). At least one key of the ring must be one the database
    /// knows (by its check value); the current key is recorded.
    pub fn open_ring(
        store: Arc<dyn IssuerStore>,
        ring: KeyRing,
        clock: Arc<dyn Clock>,
        sms: Option<Arc<dyn SmsGateway>>,
        config: IssuerConfig,
    ) -> Result<Self, Fault> {
        let issuer =
            Self { store, keys: RwLock::new(Arc::new(ring)), clock, sms, integrity: None, config };
        let ring = issuer.ring();
        issuer.tx_raw(|tx| {
            let mut known = known_keys(tx)?;
            if known.is_empty() {
                // A new database, or one of version 1 (a single check value).
                if let Some(v) = tx.meta(CHECK_KEY)? {
                    let k = ring.keys().iter().find(|k| k.check_value() == v);
                    let k = k.ok_or(Fault::MasterKey(MasterKeyError::Mismatch))?;
                    known.push((k.id().to_string(), v));
                }
            } else if !known.iter().any(|(id, check)| {
                ring.keys().iter().any(|k| k.id() == id && k.check_value() == check)
            }) {
                return Err(MasterKeyError::Mismatch.into());
            }
            let current = ring.current();
            if !known.iter().any(|(id, _)| id == current.id()) {
                known.push((current.id().to_string(), current.check_value().to_string()));
            }
            put_known_keys(tx, &known)
        })?;
        Ok(issuer)
    }

    /// Uses `verifier` to decode Play Integrity tokens (for institutions that require
    /// them).
    pub fn with_integrity_verifier(mut self, verifier: Arc<dyn IntegrityVerifier>) -> Self {
        self.integrity = Some(verifier);
        self
    }

    /// The master keys in use.
    pub(crate) fn ring(&self) -> Arc<KeyRing> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The settings.
    pub fn config(&self) -> &IssuerConfig {
        &self.config
    }

    fn now(&self) -> Result<u64, Fault> {
        self.clock.now_unix_seconds().map_err(Fault::Clock)
    }

    /// Runs `f` in a transaction whose records are authenticated (MACs set on every
    /// write, checked on every read; audit entries chained) and returns its result: its
    /// writes commit together if it returns `Ok`, and none of them does otherwise.
    fn tx<T>(&self, mut f: impl FnMut(&mut dyn IssuerTx) -> Result<T, Fault>) -> Result<T, Fault> {
        let ring = self.ring();
        self.tx_raw(|tx| f(&mut Checked { tx, ring: &ring }))
    }

    /// [`Self::tx`] for `f` that only reads ([`IssuerStore::read`]: beside the writers
    /// where the store can).
    fn read_tx<T>(
        &self,
        mut f: impl FnMut(&mut dyn IssuerTx) -> Result<T, Fault>,
    ) -> Result<T, Fault> {
        let ring = self.ring();
        self.run_tx(false, |tx| f(&mut Checked { tx, ring: &ring }))
    }

    /// Runs `f` in a transaction over the store as it is (no MACs).
    fn tx_raw<T>(&self, f: impl FnMut(&mut dyn IssuerTx) -> Result<T, Fault>) -> Result<T, Fault> {
        self.run_tx(true, f)
    }

    /// Runs `f` in a transaction that may write (`writes`) or only reads.
    fn run_tx<T>(
        &self,
        writes: bool,
        mut f: impl FnMut(&mut dyn IssuerTx) -> Result<T, Fault>,
    ) -> Result<T, Fault> {
        let mut out = None;
        let mut failure = None;
        let mut body = |tx: &mut dyn IssuerTx| {
            failure = None;
            match f(tx) {
                Ok(value) => {
                    out = Some(value);
                    Ok(())
                }
                Err(Fault::Store(e)) => Err(Rollback::Store(e)),
                Err(e) => {
                    failure = Some(e);
                    Err(Rollback::Abort)
                }
            }
        };
        let result =
            if writes { self.store.transaction(&mut body) } else { self.store.read(&mut body) };
        match result {
            Ok(()) => out
                .ok_or(Fault::Store(StoreFault::Database("transaction produced no result".into()))),
            Err(Rollback::Store(e)) => Err(Fault::Store(e)),
            Err(Rollback::Abort) => Err(failure.unwrap_or(Fault::Store(StoreFault::Database(
                "transaction rolled back without a reason".into(),
            )))),
        }
    }

    /// Runs an operation and records it in the audit log: on success in the same
    /// transaction; on failure in a transaction of its own (the failed one rolled back).
    fn audited<T>(
        &self,
        actor: &str,
        institution_id: &str,
        action: &str,
        subject: &str,
        mut f: impl FnMut(&mut dyn IssuerTx, u64) -> Result<(T, String, String), Fault>,
    ) -> Result<T, Fault> {
        let now = self.now()?;
        let audit = Audit { at: now, institution_id, actor, action };
        // Who asks, and for which institution, is checked first: a refusal there is not
        // recorded (no actor or institution to record it for).
        check_actor(actor)?;
        // Only the centre-wide import of physical devices names no institution.
        if !institution_id.is_empty() || action != "import_device" {
            check_id(institution_id, "the institution id")?;
        }
        let creates_institution = action == "add_institution";
        let mut caller_ok = false;
        let result = self.tx(|tx| {
            if !creates_institution {
                check_caller(tx, actor, institution_id)?;
            }
            caller_ok = true;
            let (value, outcome, detail) = f(tx, now)?;
            tx.append_audit(&audit.entry(subject, &outcome, &detail))?;
            Ok(value)
        });
        if let Err(e) = &result {
            if caller_ok && !matches!(e, Fault::Store(_)) {
                audit.record(self, subject, "refused", &e.to_string());
            }
        }
        result
    }

    /// The customer, if eligible for a mobile OTP (an individual, domestic customer).
    fn eligible(
        tx: &mut dyn IssuerTx,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<Customer, Fault> {
        let c = tx.customer(institution_id, customer_id)?.ok_or(Fault::UnknownCustomer)?;
        if c.kind == CustomerKind::Corporation {
            return Err(Fault::NotEligible(
                "mobile OTP is for individual customers; corporations use a physical OTP",
            ));
        }
        if c.residency == Residency::Foreign {
            return Err(Fault::NotEligible(
                "mobile OTP is for domestic customers; foreign customers use a physical OTP",
            ));
        }
        Ok(c)
    }

    /// The customer's current device at the institution, with its link.
    fn current_device(
        tx: &mut dyn IssuerTx,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<Option<(Link, OtpDevice)>, Fault> {
        for link in tx.links_of_customer(institution_id, customer_id)?.into_iter().rev() {
            if link.is_current() {
                let device = tx
                    .device(&link.device_id)?
                    .ok_or(StoreFault::Corrupt("link to a missing device".into()))?;
                return Ok(Some((link, device)));
            }
        }
        Ok(None)
    }

    /// The device's secret (the seed of a mobile OTP), opened with the master key.
    fn device_secret(&self, d: &OtpDevice) -> Result<Zeroizing<Vec<u8>>, Fault> {
        Ok(self.ring().open(&d.device_id, &d.sealed_secret)?)
    }

    /// A device with a current registration at the institution.
    fn device_here(
        tx: &mut dyn IssuerTx,
        institution_id: &str,
        id: &str,
    ) -> Result<OtpDevice, Fault> {
        let d = tx.device(id)?.ok_or(Fault::UnknownDevice)?;
        if !tx
            .links_of_device(id)?
            .iter()
            .any(|l| l.institution_id == institution_id && l.is_current())
        {
            return Err(Fault::NotRegisteredHere);
        }
        Ok(d)
    }
}

/// The OTP parameters of a mobile OTP.
fn device_params(d: &OtpDevice) -> Result<OtpParams, Fault> {
    let period = match d.moving {
        Moving::Totp { period } => period,
        Moving::Hotp => return Err(StoreFault::Corrupt("mobile OTPs are time-based".into()).into()),
    };
    Ok(OtpParams {
        algorithm: d.algorithm.parse().map_err(|_| StoreFault::Corrupt("algorithm".into()))?,
        digits: d.digits,
        period,
        transaction_suite: enrollment::transaction_suite(
            d.transaction_suite.as_deref().unwrap_or(enrollment::DEFAULT_TRANSACTION_SUITE),
        )?,
    })
}
