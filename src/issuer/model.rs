//! The issuer's records. Plain data; the store persists them and the issuer's logic is
//! the only place that changes them. Every record but the audit entries carries a `mac`:
//! the issuer authenticates it under a key derived from the master key (`integrity`), and
//! refuses, as corrupt, a record whose MAC does not match where it is read.

use serde::{Deserialize, Serialize};

use super::attestation::AttestationPolicy;

/// An institution (a bank) served by this issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Institution {
    /// Id (letters, digits, `-`, `_`, `.`; at most 32).
    pub institution_id: String,
    /// Display name.
    pub name: String,
    /// What it requires of a device key's attestation.
    #[serde(default)]
    pub attestation: AttestationPolicy,
    /// Whether an Android device must also bring a passing Play Integrity verdict (decoded
    /// by the issuer's `IntegrityVerifier`).
    #[serde(default)]
    pub require_integrity: bool,
    /// Its channel table: the channels that may perform each service-desk operation (an
    /// operation not listed keeps its default, [`DeskOperation::default_channels`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channel_rules: Vec<ChannelRule>,
    /// The record's MAC.
    #[serde(default)]
    pub mac: String,
}

/// How a service-desk operation reaches the institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum DeskChannel {
    /// At a branch, the customer (or their agent) present.
    Branch,
    /// By telephone (the contact centre).
    Phone,
    /// Internet banking.
    Internet,
    /// A securities trading system: HTS, WTS or MTS.
    TradingSystem,
    /// The mobile web.
    MobileWeb,
}

impl DeskChannel {
    /// Every channel.
    pub const ALL: [DeskChannel; 5] = [
        DeskChannel::Branch,
        DeskChannel::Phone,
        DeskChannel::Internet,
        DeskChannel::TradingSystem,
        DeskChannel::MobileWeb,
    ];

    /// The name in audit entries and messages.
    pub fn name(self) -> &'static str {
        match self {
            DeskChannel::Branch => "branch",
            DeskChannel::Phone => "phone",
            DeskChannel::Internet => "internet",
            DeskChannel::TradingSystem => "trading system",
            DeskChannel::MobileWeb => "mobile web",
        }
    }
}

/// A service-desk operation whose channels an institution decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum DeskOperation {
    /// Registering an OTP device (possibly another institution's) for a customer.
    RegisterDevice,
    /// Cancelling the customer's OTP device here.
    Cancel,
    /// Reporting a device lost or stolen.
    ReportAccident,
    /// Clearing a loss or theft report.
    ClearAccident,
    /// Resetting the error count of a locked device.
    ResetErrorCount,
    /// Changing the customer's phone number (revokes the mobile OTP bound to the old one).
    ChangePhone,
    /// Device and customer inquiries, and the audit log.
    Inquiry,
}

impl DeskOperation {
    /// Every operation.
    pub const ALL: [DeskOperation; 7] = [
        DeskOperation::RegisterDevice,
        DeskOperation::Cancel,
        DeskOperation::ReportAccident,
        DeskOperation::ClearAccident,
        DeskOperation::ResetErrorCount,
        DeskOperation::ChangePhone,
        DeskOperation::Inquiry,
    ];

    /// The channels that may perform it unless the institution decides otherwise: an
    /// accident report and an inquiry through any channel; registration, cancellation and
    /// clearing at a branch or online (not by phone); an error reset and a phone change
    /// only at a branch.
    pub fn default_channels(self) -> &'static [DeskChannel] {
        use DeskChannel::*;
        match self {
            DeskOperation::ReportAccident | DeskOperation::Inquiry => &DeskChannel::ALL,
            DeskOperation::RegisterDevice
            | DeskOperation::Cancel
            | DeskOperation::ClearAccident => &[Branch, Internet, TradingSystem, MobileWeb],
            DeskOperation::ResetErrorCount | DeskOperation::ChangePhone => &[Branch],
        }
    }

    /// The name in audit entries and messages.
    pub fn name(self) -> &'static str {
        match self {
            DeskOperation::RegisterDevice => "device registration",
            DeskOperation::Cancel => "cancellation",
            DeskOperation::ReportAccident => "accident report",
            DeskOperation::ClearAccident => "accident clearing",
            DeskOperation::ResetErrorCount => "error-count reset",
            DeskOperation::ChangePhone => "phone number change",
            DeskOperation::Inquiry => "inquiry",
        }
    }
}

/// One line of an institution's channel table: the channels that may perform an
/// operation there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
pub struct ChannelRule {
    /// The operation.
    pub operation: DeskOperation,
    /// The channels allowed (empty: none).
    pub channels: Vec<DeskChannel>,
}

/// Individual or corporate customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum CustomerKind {
    /// A person.
    Individual,
    /// A company (not eligible for mobile OTP).
    Corporation,
}

/// Domestic or foreign customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum Residency {
    /// Domestic.
    Domestic,
    /// Foreign (not eligible for mobile OTP).
    Foreign,
}

/// A customer of an institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The institution.
    pub institution_id: String,
    /// The institution's customer id.
    pub customer_id: String,
    /// Name (personal data: never logged).
    pub name: String,
    /// Individual or corporation.
    pub kind: CustomerKind,
    /// Domestic or foreign.
    pub residency: Residency,
    /// Phone number, E.164.
    pub phone_e164: String,
    /// When registered (Unix seconds).
    pub created_at: u64,
    /// The person across institutions: a keyed hash of the real-name number (hex; the
    /// number itself is never stored). `None` for customers registered without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// The record's MAC.
    #[serde(default)]
    pub mac: String,
}

/// Mobile OTP (this SDK's app) or a physical token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// A digital OTP in the bank's app.
    Mobile,
    /// A physical OTP token or card.
    Hardware,
}

/// How a device's codes move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Moving {
    /// Time-based with this period (seconds).
    Totp {
        /// Period in seconds.
        period: u64,
    },
    /// Counter-based.
    Hotp,
}

/// A device's state, shared by every institution that uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
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

/// An OTP device: a mobile OTP or a physical token, known by vendor code and serial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtpDevice {
    /// `VENDOR:SERIAL`.
    pub device_id: String,
    /// Vendor code (`DOTP` for this SDK's mobile OTP).
    pub vendor_code: String,
    /// Serial number.
    pub serial_number: String,
    /// Mobile or hardware.
    pub kind: DeviceKind,
    /// The seed (mobile: the 32-byte enrollment seed; hardware: the token key), sealed
    /// under the master key (nonce ‖ ciphertext ‖ tag, hex).
    pub sealed_secret: String,
    /// HMAC hash of login codes.
    pub algorithm: String,
    /// Digits of login codes.
    pub digits: u8,
    /// Time or counter based.
    pub moving: Moving,
    /// The OCRA suite of transaction codes (mobile only).
    pub transaction_suite: Option<String>,
    /// State.
    pub state: DeviceState,
    /// Consecutive wrong codes, across institutions.
    pub error_count: u32,
    /// Last accepted login step (TOTP) or counter (HOTP); anything at or below is a replay.
    pub last_login_step: Option<u64>,
    /// Last accepted transaction time step (the latest; older steps still verify once).
    pub last_transaction_step: Option<u64>,
    /// The transaction codes accepted within the window: (time step, keyed tag of the
    /// transaction). A code of the same transaction and step is a replay; another
    /// transaction in the same step is not.
    #[serde(default)]
    pub used_transactions: Vec<(u64, String)>,
    /// Learned clock drift, in steps.
    pub drift_steps: i64,
    /// End of validity (Unix seconds).
    pub valid_until: u64,
    /// Salted device binding the app sent (mobile only, hex).
    pub device_binding: Option<String>,
    /// When created.
    pub created_at: u64,
    /// The app's unlock state (mobile only).
    #[serde(default)]
    pub unlock: Option<Unlock>,
    /// The open loss or theft report, while the device is lost or stolen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accident: Option<AccidentReport>,
    /// The record's MAC.
    #[serde(default)]
    pub mac: String,
}

/// An open loss or theft report: it blocks the device everywhere until every institution
/// with a current registration has cleared it, the first clearing in person at a branch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccidentReport {
    /// When reported (Unix seconds).
    pub reported_at: u64,
    /// Whether an institution has cleared it in person at a branch (then the others may
    /// clear it online).
    pub cleared_in_person: bool,
    /// The institutions that have cleared it.
    pub cleared_at: Vec<String>,
}

/// What the issuer keeps to serve a mobile OTP's unlocks: the device key that signs
/// them, the sealed OPRF key and answer key, and the count of the app password's guesses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unlock {
    /// The device key's public key (SEC1 uncompressed P-256, hex).
    pub device_key: String,
    /// Where the device key lives, if its attestation said (`None`: unattested).
    pub key_level: Option<super::attestation::SecurityLevel>,
    /// The OPRF key seed and the answer key, sealed under the master key.
    pub sealed_keys: String,
    /// Evaluations since the last confirmed one (each a guess of the app password).
    pub unconfirmed: u32,
    /// Evaluations so far (the next one's number is this plus one).
    pub evaluations: u64,
    /// The time of the last unlock request (Unix ms): the next must be later.
    pub last_request_ms: u64,
}

/// A registration's state at one institution.
// In the bindings: `RegistrationState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
#[uniffi(name = "RegistrationState")]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// Waiting for the first code (mobile OTP).
    Pending,
    /// In use.
    Active,
    /// Cancelled at the customer's request.
    Cancelled,
    /// Replaced by a newer registration.
    Revoked,
}

/// A device registered for a customer at an institution (kept after it ends: history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Store-assigned id (0 before the first write).
    pub link_id: u64,
    /// Institution.
    pub institution_id: String,
    /// Customer.
    pub customer_id: String,
    /// Device.
    pub device_id: String,
    /// State.
    pub state: LinkState,
    /// When registered.
    pub since: u64,
    /// When it ended, and why.
    pub ended: Option<(u64, String)>,
    /// The record's MAC (over everything but `link_id`).
    #[serde(default)]
    pub mac: String,
}

impl Link {
    /// Pending or active.
    pub fn is_current(&self) -> bool {
        matches!(self.state, LinkState::Pending | LinkState::Active)
    }
}

/// How an app registration code was issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// At a branch, after the customer showed the SMS verification code.
    FaceToFace,
    /// After the bank's own non-face-to-face identity verification.
    NonFaceToFace {
        /// The bank's verification reference.
        reference: String,
    },
}

/// The state of a registration code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeState {
    /// Waiting for the app.
    Issued,
    /// Redeemed.
    Used,
    /// Voided after 5 wrong redemption attempts, or by a newer code.
    Void,
}

/// An app registration code: sealed, found by a keyed MAC of the institution and the
/// customer's phone (never of the code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    /// A random id (hex).
    pub code_ref: String,
    /// The keyed MAC of the protocol's lookup (institution and phone).
    pub lookup: String,
    /// The code's 12 digits, sealed under the master key.
    pub sealed_code: String,
    /// Institution.
    pub institution_id: String,
    /// Customer.
    pub customer_id: String,
    /// How it was issued.
    pub channel: Channel,
    /// When issued.
    pub issued_at: u64,
    /// When it expires.
    pub expires_at: u64,
    /// Registration attempts started with it (each a guess of the code, until one is
    /// confirmed).
    pub failed_attempts: u32,
    /// State.
    pub state: CodeState,
    /// The attempts answered and awaiting their confirmation (sealed).
    #[serde(default)]
    pub attempts: Vec<String>,
    /// The record's MAC.
    #[serde(default)]
    pub mac: String,
}

/// A face-to-face SMS verification in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsChallenge {
    /// Institution.
    pub institution_id: String,
    /// Customer.
    pub customer_id: String,
    /// The keyed MAC of the salt and the 5-digit code.
    pub code_hash: String,
    /// Salt (hex).
    pub salt: String,
    /// When it expires.
    pub expires_at: u64,
    /// Wrong attempts so far.
    pub failed_attempts: u32,
    /// The record's MAC.
    #[serde(default)]
    pub mac: String,
}

/// One audit record: who did what, when, with what outcome. Never a secret or code.
// In the bindings: `AuditRecord`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
#[uniffi(name = "AuditRecord")]
pub struct AuditEntry {
    /// Increasing id.
    pub id: u64,
    /// Unix seconds.
    pub at: u64,
    /// Institution (empty for centre-wide operations).
    pub institution_id: String,
    /// Employee or channel id.
    pub actor: String,
    /// Operation, e.g. `verify_login`.
    pub action: String,
    /// `customer:ID` or `device:VENDOR:SERIAL`.
    pub subject: String,
    /// `ok`, `rejected` or `refused`.
    pub outcome: String,
    /// Details (never a code or secret).
    pub detail: String,
    /// The hash chain: SHA-256 of the previous entry's hash and this entry (hex); the
    /// chain's head is authenticated under the master key.
    #[serde(default)]
    #[uniffi(default)]
    pub hash: String,
}

/// A filter over the audit log; null fields match everything.
// In the bindings: `AuditFilter`.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
#[uniffi(name = "AuditFilter")]
pub struct AuditQuery {
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

impl AuditQuery {
    /// Whether an entry passes the filter (for stores that filter in Rust).
    pub fn matches(&self, e: &AuditEntry) -> bool {
        self.institution_id.as_ref().is_none_or(|i| *i == e.institution_id)
            && self.subject.as_ref().is_none_or(|s| *s == e.subject)
            && self.action.as_ref().is_none_or(|a| *a == e.action)
            && self.from.is_none_or(|f| e.at >= f)
            && self.until.is_none_or(|u| e.at < u)
    }

    /// The effective limit.
    pub fn effective_limit(&self) -> usize {
        if self.limit == 0 {
            1000
        } else {
            self.limit as usize
        }
    }
}

/// The customer-facing answer of a verification: it never says why a code was refused.
// In the bindings: `Verification`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[uniffi(name = "Verification")]
pub enum Verdict {
    /// The code is valid; it cannot be used again.
    Accepted,
    /// Wrong, reused, expired, locked, lost or unknown: the staff inquiry tells which.
    Rejected,
}
