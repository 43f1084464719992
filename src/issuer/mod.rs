//! The issuer side (feature `issuer`): what a bank, or an OTP centre serving several
//! banks, runs. It issues app registration codes (face to face after an SMS check, or
//! after the bank's own non-face-to-face verification), answers the app's registration
//! requests, verifies login and transaction codes (replay protection, a 10-strike error
//! counter shared by every institution using a device, bounded clock-drift learning),
//! and does the service desk's work: other institutions' OTP devices by vendor code and
//! serial number, accident reports and recovery, error-count resets, cancellation and
//! inquiry. Every operation is recorded in an append-only audit log.
//!
//! The logic is here; persistence is behind [`store::IssuerStore`] (SQLite by default,
//! [`store::MemoryStore`] for tests). Seeds are sealed under the operator's
//! [`master_key::MasterKey`], which is never stored in the database. The mobile library is
//! built without this module.

pub mod master_key;
pub mod model;
pub mod sqlite;
pub mod store;

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::clock::Clock;
use crate::enrollment::{
    self, normalize_phone, phone_hint, Grant, OtpParams, ProtocolError, RegistrationCode,
    RejectReason, Request,
};
use crate::error::HostError;
use crate::otp::ocra::{Ocra, OcraInput};
use crate::otp::{Algorithm, Hotp, Secret, Totp, Window};
use crate::transaction::{Transaction, TransactionError};

use master_key::{MasterKey, MasterKeyError};
use model::*;
use store::{IssuerStore, IssuerTx, StoreFault};

/// Vendor code of this SDK's mobile OTPs.
pub const MOBILE_VENDOR: &str = "DOTP";
const CHECK_KEY: &str = "master_key_check";

/// The bank's SMS gateway, implemented by the bank (from Kotlin, Python or Rust). Used
/// to send the 5-digit verification code of face-to-face issuance.
#[uniffi::export(with_foreign)]
pub trait SmsGateway: Send + Sync {
    /// Sends `message` to `phone_number` (E.164).
    fn send(&self, phone_number: String, message: String) -> Result<(), HostError>;
}

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
        }
    }
}

/// Everything the issuer can refuse or fail with (internal; `error::IssuerError` is the
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
    /// The operation does not fit the device's state.
    #[error("not possible in the device's current state: {0}")]
    InvalidState(&'static str),
    /// The SMS code (face to face) was wrong.
    #[error("the verification code is wrong; {remaining} attempts remain")]
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
}

/// The customer-facing answer of a verification: it never says why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The code is valid; it cannot be used again.
    Accepted,
    /// Wrong, reused, expired, locked, lost or unknown: the staff inquiry tells which.
    Rejected,
}

/// Loss or theft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accident {
    /// Lost.
    Lost,
    /// Stolen.
    Stolen,
}

/// A new customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer {
    /// Institution.
    pub institution_id: String,
    /// The institution's customer id.
    pub customer_id: String,
    /// Name.
    pub name: String,
    /// Individual or corporation.
    pub kind: CustomerKind,
    /// Domestic or foreign.
    pub residency: Residency,
    /// Phone number (normalized to E.164).
    pub phone_number: String,
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
    /// End of validity.
    pub valid_until: u64,
    /// Registrations at institutions, current and past.
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

fn device_id(vendor: &str, serial: &str) -> String {
    format!("{vendor}:{serial}")
}

fn hex32(text: &str) -> Result<[u8; 32], Fault> {
    let mut out = [0u8; 32];
    let n = base16ct::mixed::decode(text, &mut out)
        .map_err(|_| StoreFault::Corrupt("hex".into()))?
        .len();
    if n != 32 {
        return Err(StoreFault::Corrupt("hex length".into()).into());
    }
    Ok(out)
}

/// The issuer.
pub struct Issuer {
    store: Arc<dyn IssuerStore>,
    master: MasterKey,
    clock: Arc<dyn Clock>,
    sms: Option<Arc<dyn SmsGateway>>,
    config: IssuerConfig,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer").field("config", &self.config).finish_non_exhaustive()
    }
}

/// What a verification found, for the audit log and the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Accepted(u64),
    Wrong,
    Replay,
}

impl Issuer {
    /// An issuer over `store`. The first open records the master key's check value; a
    /// later open with another key is refused.
    pub fn open(
        store: Arc<dyn IssuerStore>,
        master: MasterKey,
        clock: Arc<dyn Clock>,
        sms: Option<Arc<dyn SmsGateway>>,
        config: IssuerConfig,
    ) -> Result<Self, Fault> {
        let check = master.check_value().to_string();
        store.transaction(&mut |tx| match tx.meta(CHECK_KEY)? {
            None => Ok(tx.put_meta(CHECK_KEY, &check)?),
            Some(v) if v == check => Ok(()),
            Some(_) => Err(MasterKeyError::Mismatch.into()),
        })?;
        Ok(Self { store, master, clock, sms, config })
    }

    /// The settings.
    pub fn config(&self) -> &IssuerConfig {
        &self.config
    }

    fn now(&self) -> Result<u64, Fault> {
        self.clock.now_unix_seconds().map_err(Fault::Clock)
    }

    /// Runs `f` in a transaction and returns its result.
    fn tx<T>(&self, mut f: impl FnMut(&mut dyn IssuerTx) -> Result<T, Fault>) -> Result<T, Fault> {
        let mut out = None;
        self.store.transaction(&mut |tx| {
            out = Some(f(tx)?);
            Ok(())
        })?;
        out.ok_or(Fault::Store(StoreFault::Database("transaction produced no result".into())))
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
        let entry = |outcome: String, detail: String| AuditEntry {
            id: 0,
            at: now,
            institution_id: institution_id.to_string(),
            actor: actor.to_string(),
            action: action.to_string(),
            subject: subject.to_string(),
            outcome,
            detail,
        };
        let result = self.tx(|tx| {
            let (value, outcome, detail) = f(tx, now)?;
            tx.append_audit(&entry(outcome, detail))?;
            Ok(value)
        });
        if let Err(e) = &result {
            if !matches!(e, Fault::Store(_)) {
                let _ = self.tx(|tx| Ok(tx.append_audit(&entry("refused".into(), e.to_string()))?));
            }
        }
        result
    }

    // -------------------------------------------------------------- set-up

    /// Adds (or renames) an institution served by this issuer.
    pub fn add_institution(
        &self,
        actor: &str,
        institution_id: &str,
        name: &str,
    ) -> Result<(), Fault> {
        check_id(institution_id, "the institution id")?;
        if name.trim().is_empty()
            || name.chars().count() > 100
            || name.chars().any(char::is_control)
        {
            return Err(Fault::InvalidInput(
                "the institution name must be 1 to 100 characters".into(),
            ));
        }
        let inst = Institution { institution_id: institution_id.into(), name: name.trim().into() };
        self.audited(
            actor,
            institution_id,
            "add_institution",
            &format!("institution:{institution_id}"),
            |tx, _| {
                tx.put_institution(&inst)?;
                Ok(((), "ok".into(), String::new()))
            },
        )
    }

    /// Registers a customer of an institution.
    pub fn register_customer(&self, actor: &str, c: &NewCustomer) -> Result<(), Fault> {
        check_id(&c.customer_id, "the customer id")?;
        let phone = normalize_phone(&c.phone_number)?;
        if c.name.trim().is_empty() || c.name.chars().count() > 100 {
            return Err(Fault::InvalidInput("the name must be 1 to 100 characters".into()));
        }
        let subject = format!("customer:{}", c.customer_id);
        self.audited(actor, &c.institution_id, "register_customer", &subject, |tx, now| {
            tx.institution(&c.institution_id)?.ok_or(Fault::UnknownInstitution)?;
            if tx.customer(&c.institution_id, &c.customer_id)?.is_some() {
                return Err(Fault::CustomerExists);
            }
            tx.put_customer(&Customer {
                institution_id: c.institution_id.clone(),
                customer_id: c.customer_id.clone(),
                name: c.name.trim().into(),
                kind: c.kind,
                residency: c.residency,
                phone_e164: phone.clone(),
                created_at: now,
            })?;
            Ok(((), "ok".into(), String::new()))
        })
    }

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

    // -------------------------------------------------------------- registration codes

    /// Face to face, step 1: sends a 5-digit verification code to the customer's phone
    /// through the SMS gateway.
    pub fn start_face_to_face(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<(), Fault> {
        let gateway = self.sms.clone().ok_or(Fault::NoSmsGateway)?;
        let subject = format!("customer:{customer_id}");
        let mut digits = Zeroizing::new([0u8; 16]);
        enrollment::random(&mut *digits)?;
        let code = Zeroizing::new(format!("{:05}", u128::from_le_bytes(*digits) % 100_000));
        let mut salt = [0u8; 16];
        enrollment::random(&mut salt)?;
        let hash = sms_hash(&salt, &code);
        let ttl = self.config.sms_ttl;
        let phone =
            self.audited(actor, institution_id, "start_face_to_face", &subject, |tx, now| {
                let c = Self::eligible(tx, institution_id, customer_id)?;
                tx.put_sms(&SmsChallenge {
                    institution_id: institution_id.into(),
                    customer_id: customer_id.into(),
                    code_hash: base16ct::lower::encode_string(&hash),
                    salt: base16ct::lower::encode_string(&salt),
                    expires_at: now.saturating_add(ttl),
                    failed_attempts: 0,
                })?;
                Ok((c.phone_e164, "ok".into(), "verification code sent".into()))
            })?;
        let message =
            format!("[digital OTP] Verification code {}. Show it to the bank employee.", &*code);
        gateway.send(phone, message).map_err(Fault::Sms)
    }

    /// Face to face, step 2: the employee enters the code the customer shows; if it
    /// matches, an app registration code is issued (give it to the customer).
    pub fn confirm_face_to_face(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
        shown_code: &str,
    ) -> Result<RegistrationCode, Fault> {
        let subject = format!("customer:{customer_id}");
        let max = self.config.max_code_attempts;
        // A wrong code is counted (and committed) before it is reported.
        let matched =
            self.audited(actor, institution_id, "confirm_face_to_face", &subject, |tx, now| {
                Self::eligible(tx, institution_id, customer_id)?;
                let mut sms =
                    tx.sms(institution_id, customer_id)?.ok_or(Fault::NoVerificationPending)?;
                if now >= sms.expires_at || sms.failed_attempts >= max {
                    tx.delete_sms(institution_id, customer_id)?;
                    return Ok((
                        Err(Fault::NoVerificationPending),
                        "refused".into(),
                        "expired or void".into(),
                    ));
                }
                let salt: [u8; 16] = hex32_16(&sms.salt)?;
                let ok = bool::from(subtle::ConstantTimeEq::ct_eq(
                    sms_hash(&salt, shown_code).as_slice(),
                    hex32(&sms.code_hash)?.as_slice(),
                ));
                if ok {
                    tx.delete_sms(institution_id, customer_id)?;
                    Ok((Ok(()), "ok".into(), "identity verified".into()))
                } else {
                    sms.failed_attempts += 1;
                    let remaining = max.saturating_sub(sms.failed_attempts);
                    if remaining == 0 {
                        tx.delete_sms(institution_id, customer_id)?;
                    } else {
                        tx.put_sms(&sms)?;
                    }
                    Ok((
                        Err(Fault::WrongVerificationCode { remaining }),
                        "rejected".into(),
                        "wrong verification code".into(),
                    ))
                }
            })?;
        matched?;
        self.issue_code(actor, institution_id, customer_id, Channel::FaceToFace)
    }

    /// Non-face-to-face: after the bank's own identity verification (its reference is
    /// recorded), issues an app registration code directly.
    pub fn issue_non_face_to_face(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
        verification_reference: &str,
    ) -> Result<RegistrationCode, Fault> {
        if verification_reference.trim().is_empty() || verification_reference.len() > 128 {
            return Err(Fault::InvalidInput(
                "the verification reference must be 1 to 128 characters".into(),
            ));
        }
        self.issue_code(
            actor,
            institution_id,
            customer_id,
            Channel::NonFaceToFace { reference: verification_reference.trim().into() },
        )
    }

    fn issue_code(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
        channel: Channel,
    ) -> Result<RegistrationCode, Fault> {
        let code = RegistrationCode::generate()?;
        let ttl = self.config.code_ttl;
        let subject = format!("customer:{customer_id}");
        let how = match &channel {
            Channel::FaceToFace => "face to face".to_string(),
            Channel::NonFaceToFace { reference } => {
                format!("non-face-to-face, verification {reference}")
            }
        };
        self.audited(actor, institution_id, "issue_registration_code", &subject, |tx, now| {
            let customer = Self::eligible(tx, institution_id, customer_id)?;
            // One outstanding code per customer: a new one voids the others.
            for mut old in tx.codes_of_customer(institution_id, customer_id)? {
                if old.state == CodeState::Issued {
                    old.state = CodeState::Void;
                    tx.put_code(&old)?;
                }
            }
            tx.put_code(&CodeRecord {
                code_id: base16ct::lower::encode_string(&code.id()),
                salt: base16ct::lower::encode_string(&code.salt()),
                institution_id: institution_id.into(),
                customer_id: customer_id.into(),
                phone_hint: base16ct::lower::encode_string(&phone_hint(&customer.phone_e164)),
                channel: channel.clone(),
                issued_at: now,
                expires_at: now.saturating_add(ttl),
                failed_attempts: 0,
                state: CodeState::Issued,
            })?;
            Ok(((), "ok".into(), how.clone()))
        })?;
        Ok(code)
    }

    // -------------------------------------------------------------- registration

    /// Answers an app's registration request: the response bytes, or an error message
    /// the app reports as "rejected". On success the customer's previous mobile OTP at
    /// this institution is revoked (reason recorded) and the new one is pending until
    /// its first code verifies. `actor` is the channel (e.g. `mobile-app`).
    pub fn handle_registration(&self, actor: &str, request: &[u8]) -> Vec<u8> {
        match self.register(actor, request) {
            Ok(bytes) => bytes,
            Err(reason) => enrollment::reject(reason),
        }
    }

    fn register(&self, actor: &str, request: &[u8]) -> Result<Vec<u8>, RejectReason> {
        let now = self.now().map_err(|_| RejectReason::Refused)?;
        let audit = |inst: &str, subject: &str, outcome: &str, detail: &str| {
            let entry = AuditEntry {
                id: 0,
                at: now,
                institution_id: inst.into(),
                actor: actor.into(),
                action: "register_mobile_otp".into(),
                subject: subject.into(),
                outcome: outcome.into(),
                detail: detail.into(),
            };
            let _ = self.tx(|tx| Ok(tx.append_audit(&entry)?));
        };
        let Ok(request) = Request::parse(request) else {
            audit("", "", "rejected", "malformed request");
            return Err(RejectReason::MalformedRequest);
        };
        let code_id = base16ct::lower::encode_string(&request.code_id);
        let hint = base16ct::lower::encode_string(&request.phone_hint);
        let max = self.config.max_code_attempts;
        let validity = self.config.validity;
        let mut audit_note: Option<(String, String, &'static str)> = None;
        let result = self.tx(|tx| {
            audit_note = None;
            let Some(mut code) = tx.code(&code_id)? else {
                // A wrong code: count it against the outstanding code of the customer whose
                // phone sent it (the phone hint), voiding that code after `max` attempts.
                for mut c in tx.open_codes_by_phone_hint(&hint)? {
                    c.failed_attempts += 1;
                    if c.failed_attempts >= max {
                        c.state = CodeState::Void;
                    }
                    tx.put_code(&c)?;
                    audit_note = Some((
                        c.institution_id.clone(),
                        format!("customer:{}", c.customer_id),
                        "wrong registration code",
                    ));
                }
                return Ok(Err(RejectReason::InvalidCode));
            };
            let subject = format!("customer:{}", code.customer_id);
            if code.state != CodeState::Issued {
                audit_note =
                    Some((code.institution_id.clone(), subject, "used or void registration code"));
                return Ok(Err(RejectReason::InvalidCode));
            }
            if now >= code.expires_at {
                code.state = CodeState::Void;
                tx.put_code(&code)?;
                audit_note =
                    Some((code.institution_id.clone(), subject, "expired registration code"));
                return Ok(Err(RejectReason::ExpiredCode));
            }
            let customer = match Self::eligible(tx, &code.institution_id, &code.customer_id) {
                Ok(c) => c,
                Err(_) => {
                    audit_note =
                        Some((code.institution_id.clone(), subject, "customer not eligible"));
                    return Ok(Err(RejectReason::Refused));
                }
            };
            if phone_hint(&customer.phone_e164) != request.phone_hint {
                code.failed_attempts += 1;
                tx.put_code(&code)?;
                audit_note = Some((
                    code.institution_id.clone(),
                    subject,
                    "phone number differs from the one on record",
                ));
                return Ok(Err(RejectReason::Refused));
            }
            let institution =
                tx.institution(&code.institution_id)?.ok_or(Fault::UnknownInstitution)?;
            let serial = format!("{:010}", tx.next_serial(&code.institution_id)?);
            let serial_number = format!(
                "{}{}",
                institution.institution_id.to_ascii_uppercase().replace(['-', '_', '.'], ""),
                serial
            );
            let params = OtpParams::standard()?;
            let grant = Grant {
                serial_number: serial_number.clone(),
                institution_id: institution.institution_id.clone(),
                institution_name: institution.name.clone(),
                params: params.clone(),
                valid_until: now.saturating_add(validity),
                issuer_time: now,
            };
            let salt = hex32(&code.salt)?;
            let (response, seed) = enrollment::accept(&request, &salt, &grant)?;
            let id = device_id(MOBILE_VENDOR, &serial_number);
            // One mobile OTP per person per institution: revoke the previous one.
            for mut link in tx.links_of_customer(&code.institution_id, &code.customer_id)? {
                if link.is_current() {
                    if let Some(mut old) = tx.device(&link.device_id)? {
                        if old.kind == DeviceKind::Mobile {
                            old.state = DeviceState::Cancelled;
                            tx.put_device(&old)?;
                            link.state = LinkState::Revoked;
                            link.ended = Some((now, "re-registered on a new device".into()));
                            tx.put_link(&link)?;
                        } else {
                            audit_note = Some((
                                code.institution_id.clone(),
                                subject,
                                "already has a physical OTP",
                            ));
                            return Ok(Err(RejectReason::Refused));
                        }
                    }
                }
            }
            tx.put_device(&OtpDevice {
                device_id: id.clone(),
                vendor_code: MOBILE_VENDOR.into(),
                serial_number: serial_number.clone(),
                kind: DeviceKind::Mobile,
                sealed_secret: self.master.seal(&id, &*seed)?,
                algorithm: params.algorithm.name().into(),
                digits: params.digits,
                moving: Moving::Totp { period: params.period },
                transaction_suite: Some(params.transaction_suite.to_string()),
                state: DeviceState::Active,
                error_count: 0,
                last_login_step: None,
                last_transaction_step: None,
                drift_steps: 0,
                valid_until: grant.valid_until,
                device_binding: Some(base16ct::lower::encode_string(&request.device_binding)),
                created_at: now,
            })?;
            tx.put_link(&Link {
                link_id: 0,
                institution_id: code.institution_id.clone(),
                customer_id: code.customer_id.clone(),
                device_id: id.clone(),
                state: LinkState::Pending,
                since: now,
                ended: None,
            })?;
            code.state = CodeState::Used;
            tx.put_code(&code)?;
            tx.append_audit(&AuditEntry {
                id: 0,
                at: now,
                institution_id: code.institution_id.clone(),
                actor: actor.into(),
                action: "register_mobile_otp".into(),
                subject: format!("device:{id}"),
                outcome: "ok".into(),
                detail: format!("customer {}, pending activation", code.customer_id),
            })?;
            Ok(Ok(response))
        });
        if let Some((inst, subject, detail)) = &audit_note {
            audit(inst, subject, "rejected", detail);
        }
        match result {
            Ok(r) => r,
            Err(_) => Err(RejectReason::Refused),
        }
    }

    // -------------------------------------------------------------- verification

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

    fn device_secret(&self, d: &OtpDevice) -> Result<Zeroizing<Vec<u8>>, Fault> {
        Ok(self.master.open(&d.device_id, &d.sealed_secret)?)
    }

    fn login_check(&self, d: &OtpDevice, code: &str, now: u64) -> Result<Check, Fault> {
        let secret = self.device_secret(d)?;
        let algorithm: Algorithm =
            d.algorithm.parse().map_err(|_| StoreFault::Corrupt("algorithm".into()))?;
        let key = match d.kind {
            DeviceKind::Mobile => {
                let seed: [u8; 32] =
                    secret.as_slice().try_into().map_err(|_| StoreFault::Corrupt("seed".into()))?;
                let params = device_params(d)?;
                enrollment::derive_keys(&seed, &params)?.login
            }
            DeviceKind::Hardware => {
                Secret::from_bytes(&secret).map_err(|_| StoreFault::Corrupt("secret".into()))?
            }
        };
        let w = self.config.window_steps;
        let matched = match d.moving {
            Moving::Totp { period } => {
                let totp = Totp::new(&key, algorithm, d.digits, period, 0)
                    .map_err(|e| StoreFault::Corrupt(e.to_string()))?;
                let center = (i128::from(totp.step_at(now).unwrap_or(0))
                    + i128::from(d.drift_steps))
                .max(0) as u64;
                Hotp::new(&key, algorithm, d.digits)
                    .map_err(|e| StoreFault::Corrupt(e.to_string()))?
                    .verify(code, center, Window::new(w, w).unwrap_or(Window::EXACT))
                    .unwrap_or(None)
            }
            Moving::Hotp => {
                let next = d.last_login_step.map_or(0, |l| l.saturating_add(1));
                Hotp::new(&key, algorithm, d.digits)
                    .map_err(|e| StoreFault::Corrupt(e.to_string()))?
                    .verify(code, next, Window::new(0, 10).unwrap_or(Window::EXACT))
                    .unwrap_or(None)
            }
        };
        Ok(match matched {
            None => Check::Wrong,
            Some(step) if d.last_login_step.is_some_and(|last| step <= last) => Check::Replay,
            Some(step) => Check::Accepted(step),
        })
    }

    /// The common part of login and transaction verification: state checks, the check
    /// itself, counters, drift, activation, audit, all in one transaction.
    fn verify_with(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
        action: &str,
        check: &dyn Fn(&OtpDevice, u64) -> Result<Check, Fault>,
        transaction: bool,
    ) -> Result<Verdict, Fault> {
        let now = self.now()?;
        let max_errors = self.config.max_errors;
        let max_drift = i64::from(self.config.max_drift_steps);
        self.tx(|tx| {
            let mut audit = AuditEntry {
                id: 0,
                at: now,
                institution_id: institution_id.into(),
                actor: actor.into(),
                action: action.into(),
                subject: format!("customer:{customer_id}"),
                outcome: "rejected".into(),
                detail: String::new(),
            };
            let Some((mut link, mut d)) = Self::current_device(tx, institution_id, customer_id)?
            else {
                audit.detail = "no OTP device".into();
                tx.append_audit(&audit)?;
                return Ok(Verdict::Rejected);
            };
            audit.subject = format!("device:{}", d.device_id);
            let refusal = match d.state {
                DeviceState::Locked => Some("device locked (error count)"),
                DeviceState::Lost => Some("device reported lost"),
                DeviceState::Stolen => Some("device reported stolen"),
                DeviceState::Cancelled => Some("device cancelled"),
                DeviceState::Active if now >= d.valid_until => Some("device expired"),
                DeviceState::Active => None,
            };
            if let Some(why) = refusal {
                audit.detail = why.into();
                tx.append_audit(&audit)?;
                return Ok(Verdict::Rejected);
            }
            let result = check(&d, now)?;
            let verdict = match result {
                Check::Accepted(step) => {
                    if transaction {
                        d.last_transaction_step = Some(step);
                    } else {
                        d.last_login_step = Some(step);
                        if let Moving::Totp { period } = d.moving {
                            let now_step = (now / period) as i64;
                            d.drift_steps = (step as i64 - now_step).clamp(-max_drift, max_drift);
                        }
                    }
                    d.error_count = 0;
                    if link.state == LinkState::Pending {
                        link.state = LinkState::Active;
                        tx.put_link(&link)?;
                        audit.detail = "accepted; activated".into();
                    } else {
                        audit.detail = "accepted".into();
                    }
                    audit.outcome = "ok".into();
                    Verdict::Accepted
                }
                Check::Replay => {
                    // Not counted: a double submission must not lock the customer out.
                    audit.detail = "code already used".into();
                    Verdict::Rejected
                }
                Check::Wrong => {
                    d.error_count += 1;
                    if d.error_count >= max_errors {
                        d.state = DeviceState::Locked;
                        audit.detail =
                            format!("wrong code; error count {}: device locked", d.error_count);
                    } else {
                        audit.detail = format!("wrong code; error count {}", d.error_count);
                    }
                    Verdict::Rejected
                }
            };
            if result != Check::Replay {
                tx.put_device(&d)?;
            }
            tx.append_audit(&audit)?;
            Ok(verdict)
        })
    }

    /// Verifies a login code of the customer's OTP device at this institution. The answer
    /// never says why a code was refused; the staff inquiry does.
    pub fn verify_login(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
        code: &str,
    ) -> Result<Verdict, Fault> {
        self.verify_with(
            actor,
            institution_id,
            customer_id,
            "verify_login",
            &|d, now| self.login_check(d, code, now),
            false,
        )
    }

    /// Verifies a transaction code for exactly `transaction` (mobile OTPs).
    pub fn verify_transaction(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
        code: &str,
        transaction: &Transaction,
    ) -> Result<Verdict, Fault> {
        let question = transaction.canonical()?.question();
        let window = self.config.window_steps;
        let check = |d: &OtpDevice, now: u64| -> Result<Check, Fault> {
            let Some(suite_text) = &d.transaction_suite else {
                return Ok(Check::Wrong);
            };
            let params = device_params(d)?;
            let seed: [u8; 32] = self
                .device_secret(d)?
                .as_slice()
                .try_into()
                .map_err(|_| StoreFault::Corrupt("seed".into()))?;
            let keys = enrollment::derive_keys(&seed, &params)?;
            let suite = enrollment::transaction_suite(suite_text)?;
            let Some(steps) = suite.time_steps_at(now) else {
                return Ok(Check::Wrong);
            };
            let input =
                OcraInput { question: &question, time_steps: Some(steps), ..Default::default() };
            let matched = Ocra::new(suite, &keys.transaction)
                .verify(code, &input, Window::new(window, window).unwrap_or(Window::EXACT))
                .unwrap_or(None);
            Ok(match matched {
                None => Check::Wrong,
                Some(s) if d.last_transaction_step.is_some_and(|l| s <= l) => Check::Replay,
                Some(s) => Check::Accepted(s),
            })
        };
        self.verify_with(actor, institution_id, customer_id, "verify_transaction", &check, true)
    }

    // -------------------------------------------------------------- service desk

    /// Imports a physical OTP device (one call per device).
    pub fn import_device(&self, actor: &str, d: &ImportDevice) -> Result<(), Fault> {
        check_id(&d.vendor_code, "the vendor code")?;
        check_id(&d.serial_number, "the serial number")?;
        if d.vendor_code == MOBILE_VENDOR {
            return Err(Fault::InvalidInput(format!(
                "the vendor code {MOBILE_VENDOR} is reserved for mobile OTPs"
            )));
        }
        if !(crate::otp::MIN_DIGITS..=crate::otp::MAX_DIGITS).contains(&d.digits) {
            return Err(Fault::InvalidInput("digits must be 6 to 10".into()));
        }
        if let Moving::Totp { period } = d.moving {
            if period == 0 || period > crate::otp::MAX_PERIOD {
                return Err(Fault::InvalidInput("the period must be 1 to 3600 seconds".into()));
            }
        }
        let id = device_id(&d.vendor_code, &d.serial_number);
        let sealed = self.master.seal(&id, d.secret.expose())?;
        self.audited(actor, "", "import_device", &format!("device:{id}"), |tx, now| {
            if tx.device(&id)?.is_some() {
                return Err(Fault::DeviceExists);
            }
            tx.put_device(&OtpDevice {
                device_id: id.clone(),
                vendor_code: d.vendor_code.clone(),
                serial_number: d.serial_number.clone(),
                kind: DeviceKind::Hardware,
                sealed_secret: sealed.clone(),
                algorithm: d.algorithm.name().into(),
                digits: d.digits,
                moving: d.moving,
                transaction_suite: None,
                state: DeviceState::Active,
                error_count: 0,
                last_login_step: None,
                last_transaction_step: None,
                drift_steps: 0,
                valid_until: d.valid_until,
                device_binding: None,
                created_at: now,
            })?;
            Ok(((), "ok".into(), String::new()))
        })
    }

    /// Registers an OTP device (possibly issued by another institution) for a customer by
    /// vendor code and serial number; with `possession_code`, a current code must verify.
    /// One OTP device per customer per institution.
    pub fn register_device(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
        vendor_code: &str,
        serial_number: &str,
        possession_code: Option<&str>,
    ) -> Result<(), Fault> {
        let id = device_id(vendor_code, serial_number);
        let possession = match possession_code {
            None => None,
            Some(code) => {
                let d = self.tx(|tx| tx.device(&id)?.ok_or(Fault::UnknownDevice))?;
                Some(self.login_check(&d, code, self.now()?)?)
            }
        };
        self.audited(
            actor,
            institution_id,
            "register_device",
            &format!("device:{id}"),
            |tx, now| {
                tx.customer(institution_id, customer_id)?.ok_or(Fault::UnknownCustomer)?;
                let mut d = tx.device(&id)?.ok_or(Fault::UnknownDevice)?;
                if d.kind == DeviceKind::Mobile {
                    return Err(Fault::InvalidState("a mobile OTP is registered through the app"));
                }
                match d.state {
                    DeviceState::Active if now < d.valid_until => {}
                    DeviceState::Active => {
                        return Err(Fault::InvalidState("the device has expired"))
                    }
                    DeviceState::Locked => {
                        return Err(Fault::InvalidState(
                            "the device is locked; reset its error count first",
                        ))
                    }
                    DeviceState::Lost | DeviceState::Stolen => {
                        return Err(Fault::InvalidState("the device is reported lost or stolen"))
                    }
                    DeviceState::Cancelled => {
                        return Err(Fault::InvalidState("the device is cancelled"))
                    }
                }
                if Self::current_device(tx, institution_id, customer_id)?.is_some() {
                    return Err(Fault::AlreadyHasDevice);
                }
                if tx
                    .links_of_device(&id)?
                    .iter()
                    .any(|l| l.is_current() && l.customer_id != customer_id)
                {
                    return Err(Fault::InvalidState("the device belongs to another customer"));
                }
                let mut detail = format!("customer {customer_id}");
                if let Some(check) = possession {
                    match check {
                        Check::Accepted(step) => {
                            d.last_login_step = Some(step);
                            d.error_count = 0;
                            tx.put_device(&d)?;
                            detail.push_str(", possession proven");
                        }
                        _ => return Err(Fault::PossessionNotProven),
                    }
                }
                tx.put_link(&Link {
                    link_id: 0,
                    institution_id: institution_id.into(),
                    customer_id: customer_id.into(),
                    device_id: id.clone(),
                    state: LinkState::Active,
                    since: now,
                    ended: None,
                })?;
                Ok(((), "ok".into(), detail.clone()))
            },
        )
    }

    /// Cancels the customer's OTP device at this institution (a mobile OTP is cancelled
    /// for good; a physical one stays usable at other institutions).
    pub fn cancel(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<(), Fault> {
        self.audited(
            actor,
            institution_id,
            "cancel",
            &format!("customer:{customer_id}"),
            |tx, now| {
                let (mut link, mut d) = Self::current_device(tx, institution_id, customer_id)?
                    .ok_or(Fault::NoDevice)?;
                link.state = LinkState::Cancelled;
                link.ended = Some((now, "cancelled at the customer's request".into()));
                tx.put_link(&link)?;
                if d.kind == DeviceKind::Mobile {
                    d.state = DeviceState::Cancelled;
                    tx.put_device(&d)?;
                }
                Ok(((), "ok".into(), format!("device {}", d.device_id)))
            },
        )
    }

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

    /// Records a loss or theft: the device is refused at every institution.
    pub fn report_accident(
        &self,
        actor: &str,
        institution_id: &str,
        vendor_code: &str,
        serial_number: &str,
        accident: Accident,
    ) -> Result<(), Fault> {
        let id = device_id(vendor_code, serial_number);
        self.audited(actor, institution_id, "report_accident", &format!("device:{id}"), |tx, _| {
            let mut d = Self::device_here(tx, institution_id, &id)?;
            if d.state == DeviceState::Cancelled {
                return Err(Fault::InvalidState("the device is cancelled"));
            }
            d.state = match accident {
                Accident::Lost => DeviceState::Lost,
                Accident::Stolen => DeviceState::Stolen,
            };
            tx.put_device(&d)?;
            Ok(((), "ok".into(), format!("{accident:?}").to_lowercase()))
        })
    }

    /// Recovers a device reported lost or stolen (at a branch, the customer present):
    /// every institution that uses it accepts it again.
    pub fn recover(
        &self,
        actor: &str,
        institution_id: &str,
        vendor_code: &str,
        serial_number: &str,
    ) -> Result<(), Fault> {
        let id = device_id(vendor_code, serial_number);
        self.audited(actor, institution_id, "recover_accident", &format!("device:{id}"), |tx, _| {
            let mut d = Self::device_here(tx, institution_id, &id)?;
            if !matches!(d.state, DeviceState::Lost | DeviceState::Stolen) {
                return Err(Fault::InvalidState("the device is not reported lost or stolen"));
            }
            d.state = if d.error_count >= self.config.max_errors {
                DeviceState::Locked
            } else {
                DeviceState::Active
            };
            tx.put_device(&d)?;
            Ok(((), "ok".into(), String::new()))
        })
    }

    /// Resets the device's error count (at every institution) and unlocks it.
    pub fn reset_error_count(
        &self,
        actor: &str,
        institution_id: &str,
        vendor_code: &str,
        serial_number: &str,
    ) -> Result<(), Fault> {
        let id = device_id(vendor_code, serial_number);
        self.audited(
            actor,
            institution_id,
            "reset_error_count",
            &format!("device:{id}"),
            |tx, _| {
                let mut d = Self::device_here(tx, institution_id, &id)?;
                let before = d.error_count;
                d.error_count = 0;
                if d.state == DeviceState::Locked {
                    d.state = DeviceState::Active;
                }
                tx.put_device(&d)?;
                Ok(((), "ok".into(), format!("error count {before} -> 0")))
            },
        )
    }

    // -------------------------------------------------------------- inquiry and audit

    /// A device's report. The device and its links are read in a transaction; the
    /// history after it (the audit query takes the store on its own).
    fn report(&self, d: OtpDevice, links: Vec<Link>, now: u64) -> Result<DeviceReport, Fault> {
        let history = self.store.audit(&AuditQuery {
            subject: Some(format!("device:{}", d.device_id)),
            limit: 100,
            ..Default::default()
        })?;
        Ok(DeviceReport {
            expired: now >= d.valid_until,
            vendor_code: d.vendor_code,
            serial_number: d.serial_number,
            kind: d.kind,
            state: d.state,
            error_count: d.error_count,
            valid_until: d.valid_until,
            links,
            history,
        })
    }

    /// Staff inquiry by device: state, error count, institutions (current and past) and history.
    pub fn device_inquiry(
        &self,
        actor: &str,
        institution_id: &str,
        vendor_code: &str,
        serial_number: &str,
    ) -> Result<DeviceReport, Fault> {
        let id = device_id(vendor_code, serial_number);
        let now = self.now()?;
        let (d, links) = self.audited(
            actor,
            institution_id,
            "device_inquiry",
            &format!("device:{id}"),
            |tx, _| {
                let d = tx.device(&id)?.ok_or(Fault::UnknownDevice)?;
                let links = tx.links_of_device(&id)?;
                Ok(((d, links), "ok".into(), String::new()))
            },
        )?;
        self.report(d, links, now)
    }

    /// Staff inquiry by customer: the customer and their devices at this institution
    /// (current first).
    pub fn customer_inquiry(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
    ) -> Result<CustomerReport, Fault> {
        let now = self.now()?;
        let (customer, devices) = self.audited(
            actor,
            institution_id,
            "customer_inquiry",
            &format!("customer:{customer_id}"),
            |tx, _| {
                let customer =
                    tx.customer(institution_id, customer_id)?.ok_or(Fault::UnknownCustomer)?;
                let mut links = tx.links_of_customer(institution_id, customer_id)?;
                links.sort_by_key(|l| {
                    (!l.is_current(), std::cmp::Reverse(l.since), std::cmp::Reverse(l.link_id))
                });
                let mut devices = Vec::new();
                let mut seen = std::collections::HashSet::new();
                for l in links {
                    if seen.insert(l.device_id.clone()) {
                        if let Some(d) = tx.device(&l.device_id)? {
                            let device_links = tx.links_of_device(&d.device_id)?;
                            devices.push((d, device_links));
                        }
                    }
                }
                Ok(((customer, devices), "ok".into(), String::new()))
            },
        )?;
        let devices = devices
            .into_iter()
            .map(|(d, links)| self.report(d, links, now))
            .collect::<Result<_, _>>()?;
        Ok(CustomerReport { customer, devices })
    }

    /// The audit log, newest first.
    pub fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, Fault> {
        Ok(self.store.audit(query)?)
    }

    /// Deletes audit entries older than the retention period; returns how many.
    pub fn purge_expired_audit(&self) -> Result<u64, Fault> {
        let before = self.now()?.saturating_sub(self.config.audit_retention);
        Ok(self.store.purge_audit(before)?)
    }
}

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

fn sms_hash(salt: &[u8; 16], code: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"digital-otp/v1/sms");
    ctx.update(salt);
    ctx.update(code.trim().as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

fn hex32_16(text: &str) -> Result<[u8; 16], Fault> {
    let mut out = [0u8; 16];
    let n = base16ct::mixed::decode(text, &mut out)
        .map_err(|_| StoreFault::Corrupt("hex".into()))?
        .len();
    if n != 16 {
        return Err(StoreFault::Corrupt("hex length".into()).into());
    }
    Ok(out)
}
