//! The protocols the app and the issuer speak: registration (this module) and the unlock
//! that every code needs afterwards ([`unlock`]). Sans-IO: both sides turn bytes into
//! bytes; the bank's app and servers carry them over their own channel. The design is
//! for an attacker who reads, changes, injects and drops every message
//! (docs/adr/0009, 0010; SECURITY.md).
//!
//! ```text
//! app                                                  issuer
//!  | code c (12 digits, Damm check digit), typed; app password p, chosen
//!  | SPAKE2 side A keyed by c → X; OPRF blind of p → B; device binding d
//!  | device key created with challenge H(X, B, d) → public key P, evidence E
//!  |-- request {institution, lookup = H(institution, phone), X, B, P, d, E} -->|
//!  |                    checks E (policy); finds the code by lookup (never by c);
//!  |                    counts the attempt; SPAKE2 side B keyed by c → Y, key K;
//!  |                    new OPRF key k, Z = k·B; the grant sealed under a key from K.
//!  |                    An unknown lookup or a void code gets a decoy of the same shape.
//!  |<-- response {attempt, Y, Z, sealed grant} ---------------------------------|
//!  | K from Y; opens the grant (the issuer's key confirmation: fails for a wrong c);
//!  | unblinds Z → OPRF(k, p); seed from K; stores the credential (seed sealed under p's
//!  | OPRF output); confirmation = HMAC(K, transcript), signed by the device key
//!  |-- confirmation {attempt, confirmation, signature} ---------------------->|
//!  |                    checks both (the app's key confirmation); creates the credential,
//!  |                    pending its first code; the code is used
//!  |<-- outcome {registered, serial, MAC under K} ------------------------------|
//! ```
//! Nothing an eavesdropper sees depends on the code except through the SPAKE2 messages,
//! which reveal nothing about it; an active attacker who does not know the code tests one
//! guess per exchange (at most five before the issuer voids the code). The seed never
//! crosses the wire. The transcript covers every field of the request and the response.
//!
//! Messages are JSON objects with `protocol = "digital-otp/registration"`,
//! `version = 2` and `type` = `request`, `response`, `confirmation`, `registered` or
//! `error`; unknown fields are refused; binary fields are lower-case hex.

mod code;
mod device;
mod error;
pub mod oprf;
pub mod pake;
mod params;
pub mod serving;
pub mod unlock;

use std::fmt;

use ring::hmac;
use zeroize::Zeroizing;

use crate::crypto::{self, hex, hkdf, sha256, sha256_parts, SealingKey};
use crate::host::{EvidenceKind, KeyEvidence};
use crate::json::{Fields, JsonError, Writer};
use pake::Exchange;

pub use code::RegistrationCode;
pub use device::{lookup, normalize_phone, Device};
pub use error::{
    attempts_remain, ProtocolError, RejectReason, CODE_DIGITS, MAX_MESSAGE_BYTES, PROTOCOL,
    VALIDITY_SECONDS, VERSION,
};
pub use params::{
    derive_keys, login_totp, transaction_suite, CredentialKeys, OtpParams,
    DEFAULT_TRANSACTION_SUITE,
};

/// The length of an attempt's id: the issuer's handle (16 bytes) and 16 random bytes.
pub const ATTEMPT_LEN: usize = 32;

/// The length of a SEC1 uncompressed P-256 public key.
pub const DEVICE_KEY_LEN: usize = 65;
/// Most certificates accepted in a device key's evidence.
const MAX_CERTIFICATES: usize = 10;

/// `N` bytes from a hex field of a message.
fn unhex<const N: usize>(text: &str, field: &'static str) -> Result<[u8; N], ProtocolError> {
    crypto::unhex_array(text).map_err(|_| ProtocolError::Field(field))
}

fn unhex_vec(text: &str, field: &'static str) -> Result<Vec<u8>, ProtocolError> {
    crypto::unhex(text).map_err(|_| ProtocolError::Field(field))
}

// ---------------------------------------------------------------- envelopes

const REQUEST_FIELDS: &[&str] = &[
    "protocol",
    "version",
    "type",
    "institution_id",
    "lookup",
    "pake",
    "blinded_password",
    "device_key",
    "device_binding",
    "evidence",
];
const EVIDENCE_FIELDS: &[&str] =
    &["kind", "certificates", "app_attest_object", "app_attest_key_id", "integrity_token"];
const RESPONSE_FIELDS: &[&str] =
    &["protocol", "version", "type", "attempt", "pake", "evaluation", "grant"];
const CONFIRMATION_FIELDS: &[&str] =
    &["protocol", "version", "type", "attempt", "confirmation", "signature"];
const REGISTERED_FIELDS: &[&str] = &["protocol", "version", "type", "serial_number", "mac"];
const ERROR_FIELDS: &[&str] = &["protocol", "version", "type", "error"];
const GRANT_FIELDS: &[&str] = &[
    "serial_number",
    "institution_name",
    "algorithm",
    "digits",
    "period",
    "transaction_suite",
    "valid_until",
    "issuer_time",
];

/// A message's envelope (`protocol`, `version`, `type`) as a JSON object to add fields to.
pub(crate) fn envelope(protocol: &str, version: u32, kind: &str) -> Writer {
    Writer::new().string("protocol", protocol).uint("version", version).string("type", kind)
}

pub(crate) fn malformed(e: JsonError) -> ProtocolError {
    ProtocolError::Malformed(e.to_string())
}

/// Parses a message once and checks its envelope; returns its `type` and the other fields.
pub(crate) fn open_envelope(
    bytes: &[u8],
    protocol: &str,
    version: u32,
) -> Result<(String, Fields), ProtocolError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(ProtocolError::TooLarge);
    }
    let mut f = Fields::parse(bytes, None).map_err(malformed)?;
    let p = f.opt_string("protocol").map_err(malformed)?;
    let v = f.opt_uint::<u32>("version").map_err(malformed)?;
    if p.as_deref() != Some(protocol) || v != Some(version) {
        return Err(ProtocolError::Version);
    }
    let kind = f.opt_string("type").map_err(malformed)?.ok_or(ProtocolError::Field("type"))?;
    Ok((kind, f))
}

/// The fields of a message of one type, all of them known.
pub(crate) fn message(fields: Fields, known: &[&str]) -> Result<Fields, ProtocolError> {
    fields.only(known).map_err(malformed)?;
    Ok(fields)
}

/// The reason of an `error` message.
pub(crate) fn error_reason(fields: Fields) -> Result<RejectReason, ProtocolError> {
    let name = message(fields, ERROR_FIELDS)?.string("error").map_err(malformed)?;
    RejectReason::from_name(&name).ok_or(ProtocolError::Field("error"))
}

pub(crate) fn check_text(
    value: &str,
    max: usize,
    field: &'static str,
    ident: bool,
) -> Result<(), ProtocolError> {
    let ok = !value.is_empty()
        && value.chars().count() <= max
        && if ident {
            value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        } else {
            !value.chars().any(char::is_control) && value.trim() == value
        };
    if ok {
        Ok(())
    } else {
        Err(ProtocolError::Field(field))
    }
}

/// HMAC-SHA256.
pub(crate) fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    for p in parts {
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// Constant-time equality of two MACs.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a, b))
}

// ---------------------------------------------------------------- evidence

fn evidence_kind_name(kind: EvidenceKind) -> &'static str {
    match kind {
        EvidenceKind::None => "none",
        EvidenceKind::AndroidKeyAttestation => "android-key-attestation",
        EvidenceKind::AppleAppAttest => "apple-app-attest",
    }
}

fn encode_evidence(e: &KeyEvidence) -> Writer {
    let certificates: Vec<String> = e.certificate_chain.iter().map(|c| hex(c)).collect();
    Writer::new()
        .string("kind", evidence_kind_name(e.kind))
        .string_list("certificates", &certificates)
        .opt_string("app_attest_object", e.app_attest_object.as_deref().map(hex).as_deref())
        .opt_string("app_attest_key_id", e.app_attest_key_id.as_deref().map(hex).as_deref())
        .opt_string("integrity_token", e.integrity_token.as_deref())
}

fn decode_evidence(mut f: Fields) -> Result<KeyEvidence, ProtocolError> {
    f.only(EVIDENCE_FIELDS).map_err(malformed)?;
    let kind = match f.string("kind").map_err(malformed)?.as_str() {
        "none" => EvidenceKind::None,
        "android-key-attestation" => EvidenceKind::AndroidKeyAttestation,
        "apple-app-attest" => EvidenceKind::AppleAppAttest,
        _ => return Err(ProtocolError::Field("evidence")),
    };
    let certificates = f.string_list("certificates").map_err(malformed)?;
    if certificates.len() > MAX_CERTIFICATES {
        return Err(ProtocolError::Field("evidence"));
    }
    let certificate_chain =
        certificates.iter().map(|c| unhex_vec(c, "evidence")).collect::<Result<Vec<_>, _>>()?;
    let opt_bytes = |v: Option<String>| v.map(|t| unhex_vec(&t, "evidence")).transpose();
    let integrity_token = f.opt_string("integrity_token").map_err(malformed)?;
    if integrity_token.as_ref().is_some_and(|t| t.len() > 8192) {
        return Err(ProtocolError::Field("evidence"));
    }
    Ok(KeyEvidence {
        kind,
        certificate_chain,
        app_attest_object: opt_bytes(f.opt_string("app_attest_object").map_err(malformed)?)?,
        app_attest_key_id: opt_bytes(f.opt_string("app_attest_key_id").map_err(malformed)?)?,
        integrity_token,
    })
}

fn evidence_digest(e: &KeyEvidence) -> [u8; 32] {
    sha256(&encode_evidence(e).finish())
}

// ---------------------------------------------------------------- messages

/// A parsed registration request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The institution whose code the customer typed.
    pub institution_id: String,
    /// Which customer's outstanding code to use: [`lookup`] of the institution and the
    /// phone number (never derived from the code).
    pub lookup: [u8; 32],
    /// The app's SPAKE2 message, keyed by the code.
    pub pake: [u8; pake::MESSAGE_LEN],
    /// The OPRF blinded element of the app password.
    pub blinded_password: [u8; oprf::ELEMENT_LEN],
    /// The device key's public key (SEC1 uncompressed P-256).
    pub device_key: [u8; DEVICE_KEY_LEN],
    /// The salted hash of the phone number and device id.
    pub device_binding: [u8; 32],
    /// The platform's evidence about the device key.
    pub evidence: KeyEvidence,
}

impl Request {
    /// Parses a request message.
    pub fn parse(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let (kind, fields) = open_envelope(bytes, PROTOCOL, VERSION)?;
        if kind != "request" {
            return Err(ProtocolError::Field("type"));
        }
        let mut m = message(fields, REQUEST_FIELDS)?;
        let institution_id = m.string("institution_id").map_err(malformed)?;
        check_text(&institution_id, 64, "institution_id", true)?;
        let evidence = decode_evidence(m.object("evidence").map_err(malformed)?)?;
        let s = |m: &mut Fields, k: &'static str| m.string(k).map_err(malformed);
        Ok(Self {
            institution_id,
            lookup: unhex(&s(&mut m, "lookup")?, "lookup")?,
            pake: unhex(&s(&mut m, "pake")?, "pake")?,
            blinded_password: unhex(&s(&mut m, "blinded_password")?, "blinded_password")?,
            device_key: unhex(&s(&mut m, "device_key")?, "device_key")?,
            device_binding: unhex(&s(&mut m, "device_binding")?, "device_binding")?,
            evidence,
        })
    }

    /// Encodes the request message.
    pub fn encode(&self) -> Vec<u8> {
        envelope(PROTOCOL, VERSION, "request")
            .string("institution_id", self.institution_id.as_str())
            .string("lookup", hex(&self.lookup))
            .string("pake", hex(&self.pake))
            .string("blinded_password", hex(&self.blinded_password))
            .string("device_key", hex(&self.device_key))
            .string("device_binding", hex(&self.device_binding))
            .object("evidence", encode_evidence(&self.evidence))
            .finish()
    }

    /// The challenge the device key's evidence must carry: fresh for every request (the
    /// SPAKE2 message and the blinded element are random), fixed before the key exists.
    pub fn attestation_challenge(&self) -> [u8; 32] {
        sha256_parts(&[
            b"digital-otp/v2/attestation",
            self.institution_id.as_bytes(),
            &self.pake,
            &self.blinded_password,
            &self.device_binding,
        ])
    }

    fn digest(&self) -> [u8; 32] {
        sha256_parts(&[
            b"digital-otp/v2/request",
            self.institution_id.as_bytes(),
            &self.lookup,
            &self.pake,
            &self.blinded_password,
            &self.device_key,
            &self.device_binding,
            &evidence_digest(&self.evidence),
        ])
    }
}

/// What the issuer tells the app about the new credential (sealed in the response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The credential's serial number.
    pub serial_number: String,
    /// The institution's id (letters, digits, `-`, `_`, `.`; at most 64).
    pub institution_id: String,
    /// The institution's display name.
    pub institution_name: String,
    /// OTP parameters.
    pub params: OtpParams,
    /// End of validity (Unix seconds, issuer clock).
    pub valid_until: u64,
    /// The issuer's clock when it answered (Unix seconds).
    pub issuer_time: u64,
}

impl Grant {
    fn check(&self) -> Result<(), ProtocolError> {
        check_text(&self.serial_number, 64, "serial_number", true)?;
        check_text(&self.institution_id, 64, "institution_id", true)?;
        check_text(&self.institution_name, 100, "institution_name", false)?;
        self.params.check()?;
        if self.valid_until <= self.issuer_time {
            return Err(ProtocolError::Field("valid_until"));
        }
        Ok(())
    }

    fn encode(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(
            Writer::new()
                .string("serial_number", self.serial_number.as_str())
                .string("institution_name", self.institution_name.as_str())
                .string("algorithm", self.params.algorithm.name())
                .uint("digits", self.params.digits)
                .uint("period", self.params.period)
                .string("transaction_suite", self.params.transaction_suite.to_string())
                .uint("valid_until", self.valid_until)
                .uint("issuer_time", self.issuer_time)
                .finish(),
        )
    }

    fn decode(bytes: &[u8], institution_id: &str) -> Result<Self, ProtocolError> {
        let mut m = Fields::parse(bytes, Some(GRANT_FIELDS)).map_err(malformed)?;
        let s = |m: &mut Fields, k: &'static str| m.string(k).map_err(malformed);
        let grant = Self {
            serial_number: s(&mut m, "serial_number")?,
            institution_id: institution_id.to_string(),
            institution_name: s(&mut m, "institution_name")?,
            params: OtpParams {
                algorithm: s(&mut m, "algorithm")?
                    .parse()
                    .map_err(|_| ProtocolError::Field("algorithm"))?,
                digits: m.uint("digits").map_err(malformed)?,
                period: m.uint("period").map_err(malformed)?,
                transaction_suite: transaction_suite(&s(&mut m, "transaction_suite")?)?,
            },
            valid_until: m.uint("valid_until").map_err(malformed)?,
            issuer_time: m.uint("issuer_time").map_err(malformed)?,
        };
        grant.check()?;
        Ok(grant)
    }
}

/// The keys both sides derive from the SPAKE2 key and the transcript.
struct Keys {
    grant: Zeroizing<[u8; 32]>,
    seed: Zeroizing<[u8; 32]>,
    app_confirm: Zeroizing<[u8; 32]>,
    result: Zeroizing<[u8; 32]>,
    unlock: Zeroizing<[u8; 32]>,
}

fn key_schedule(k: &[u8; 32], transcript: &[u8; 32]) -> Keys {
    let derive = |label: &[u8]| {
        let mut out = Zeroizing::new([0u8; 32]);
        hkdf(transcript, k, &[b"digital-otp/v2/", label], &mut *out);
        out
    };
    Keys {
        grant: derive(b"grant"),
        seed: derive(b"seed"),
        app_confirm: derive(b"app-confirm"),
        result: derive(b"result"),
        unlock: derive(b"unlock-response"),
    }
}

/// The transcript of the request and the response's public part.
fn transcript(
    request: &Request,
    attempt: &[u8; ATTEMPT_LEN],
    pake_b: &[u8; pake::MESSAGE_LEN],
    evaluation: &[u8; oprf::ELEMENT_LEN],
) -> [u8; 32] {
    sha256_parts(&[b"digital-otp/v2/transcript", &request.digest(), attempt, pake_b, evaluation])
}

/// The transcript with the sealed grant: what the confirmation covers.
fn confirmed_transcript(transcript: &[u8; 32], sealed_grant: &[u8]) -> [u8; 32] {
    sha256_parts(&[b"digital-otp/v2/confirmed", transcript, &sha256(sealed_grant)])
}

/// What the device key signs with the confirmation.
fn signed_digest(confirmed: &[u8; 32], confirmation: &[u8; 32]) -> [u8; 32] {
    sha256_parts(&[b"digital-otp/v2/device-signature", confirmed, confirmation])
}

fn outcome_mac(result_key: &[u8; 32], attempt: &[u8; ATTEMPT_LEN], serial: &str) -> [u8; 32] {
    mac(result_key, &[b"digital-otp/v2/registered", attempt, serial.as_bytes()])
}

// ---------------------------------------------------------------- the app's side

/// The app's half of a registration before the response: the SPAKE2 state and the
/// OPRF blind, in memory only.
pub struct PendingRegistration {
    exchange: Exchange,
    blind: oprf::Blind,
    password: Zeroizing<Vec<u8>>,
    request: Request,
    /// The salt of the device binding.
    pub device_salt: [u8; 16],
}

impl fmt::Debug for PendingRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PendingRegistration(<redacted>)")
    }
}

/// A response the app accepted: the issuer confirmed the key (it knew the code).
pub struct Answered {
    /// What the issuer granted.
    pub grant: Grant,
    /// The seed (both sides derived it; it never crossed the wire).
    pub seed: Zeroizing<[u8; 32]>,
    /// The app password's OPRF output under the credential's key.
    pub password_output: Zeroizing<[u8; oprf::OUTPUT_LEN]>,
    /// The key that authenticates the issuer's unlock answers for this credential.
    pub unlock_key: Zeroizing<[u8; 32]>,
    /// The salted device binding sent to the issuer.
    pub device_binding: [u8; 32],
    /// Its salt.
    pub device_salt: [u8; 16],
    /// What the device key must sign ([`Answered::confirmation`] carries the signature).
    pub to_sign: [u8; 32],
    attempt: [u8; ATTEMPT_LEN],
    confirmation: [u8; 32],
    result_key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for Answered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answered").field("grant", &self.grant).finish_non_exhaustive()
    }
}

impl PendingRegistration {
    /// Starts a registration for `institution_id`: the SPAKE2 message keyed by `code`, the
    /// blinded `password` and the device binding. The request is finished by
    /// [`Self::request`] once the device key exists (its evidence carries
    /// [`Self::attestation_challenge`]).
    pub fn start(
        code: &RegistrationCode,
        device: &Device,
        institution_id: &str,
        password: &[u8],
    ) -> Result<Self, ProtocolError> {
        check_text(institution_id, 64, "institution_id", true)?;
        let (exchange, pake) = Exchange::app(code.as_str().as_bytes(), institution_id)?;
        let (blind, blinded_password) = oprf::Blind::new(password)?;
        let mut device_salt = [0u8; 16];
        crypto::random(&mut device_salt)?;
        let request = Request {
            institution_id: institution_id.to_string(),
            lookup: device.lookup(institution_id),
            pake,
            blinded_password,
            device_key: [0; DEVICE_KEY_LEN],
            device_binding: device.binding(&device_salt),
            evidence: KeyEvidence::default(),
        };
        Ok(Self {
            exchange,
            blind,
            password: Zeroizing::new(password.to_vec()),
            request,
            device_salt,
        })
    }

    /// The challenge the device key's evidence must carry.
    pub fn attestation_challenge(&self) -> [u8; 32] {
        self.request.attestation_challenge()
    }

    /// The institution.
    pub fn institution_id(&self) -> &str {
        &self.request.institution_id
    }

    /// The request to send, with the device key and its evidence.
    pub fn request(
        &mut self,
        device_key: [u8; DEVICE_KEY_LEN],
        evidence: KeyEvidence,
    ) -> Result<Vec<u8>, ProtocolError> {
        if device_key[0] != 4 {
            return Err(ProtocolError::Field("device_key"));
        }
        self.request.device_key = device_key;
        self.request.evidence = evidence;
        Ok(self.request.encode())
    }

    /// Checks the issuer's response: opens the sealed grant with the SPAKE2 key (the
    /// issuer's key confirmation) and unblinds the password's OPRF output. Consumes the
    /// pending state: a failed attempt must start again.
    pub fn answer(self, response: &[u8]) -> Result<Answered, ProtocolError> {
        let (kind, fields) = open_envelope(response, PROTOCOL, VERSION)?;
        let mut m = match kind.as_str() {
            "response" => message(fields, RESPONSE_FIELDS)?,
            "error" => return Err(ProtocolError::Rejected(error_reason(fields)?)),
            _ => return Err(ProtocolError::Field("type")),
        };
        let s = |m: &mut Fields, k: &'static str| m.string(k).map_err(malformed);
        let attempt: [u8; ATTEMPT_LEN] = unhex(&s(&mut m, "attempt")?, "attempt")?;
        let pake_b: [u8; pake::MESSAGE_LEN] = unhex(&s(&mut m, "pake")?, "pake")?;
        let evaluation: [u8; oprf::ELEMENT_LEN] = unhex(&s(&mut m, "evaluation")?, "evaluation")?;
        let sealed_grant = unhex_vec(&s(&mut m, "grant")?, "grant")?;
        let k = self.exchange.finish(&pake_b)?;
        let t = transcript(&self.request, &attempt, &pake_b, &evaluation);
        let keys = key_schedule(&k, &t);
        let plain = SealingKey::new(&keys.grant)?
            .open(&t, &sealed_grant)
            .map_err(|_| ProtocolError::Confirmation)?;
        let grant = Grant::decode(&plain, &self.request.institution_id)?;
        let password_output = self.blind.finish(&self.password, &evaluation, "evaluation")?;
        let confirmed = confirmed_transcript(&t, &sealed_grant);
        let confirmation = mac(&*keys.app_confirm, &[&confirmed]);
        Ok(Answered {
            grant,
            seed: keys.seed,
            password_output,
            unlock_key: keys.unlock,
            device_binding: self.request.device_binding,
            device_salt: self.device_salt,
            to_sign: signed_digest(&confirmed, &confirmation),
            attempt,
            confirmation,
            result_key: keys.result,
        })
    }
}

impl Answered {
    /// The confirmation message, with the device key's signature of [`Self::to_sign`].
    pub fn confirmation(&self, signature: &[u8]) -> Vec<u8> {
        envelope(PROTOCOL, VERSION, "confirmation")
            .string("attempt", hex(&self.attempt))
            .string("confirmation", hex(&self.confirmation))
            .string("signature", hex(signature))
            .finish()
    }

    /// Checks the issuer's outcome: `Ok(serial)` when it registered this credential.
    pub fn outcome(&self, bytes: &[u8]) -> Result<(), ProtocolError> {
        check_outcome(&self.result_key, &self.attempt, &self.grant.serial_number, bytes)
    }

    /// The key that authenticates the outcome, and the attempt (to check it later).
    pub fn outcome_key(&self) -> (Zeroizing<[u8; 32]>, [u8; ATTEMPT_LEN]) {
        (self.result_key.clone(), self.attempt)
    }
}

/// Checks an outcome message against the key and attempt of [`Answered::outcome_key`].
pub fn check_outcome(
    result_key: &[u8; 32],
    attempt: &[u8; ATTEMPT_LEN],
    serial: &str,
    bytes: &[u8],
) -> Result<(), ProtocolError> {
    let (kind, fields) = open_envelope(bytes, PROTOCOL, VERSION)?;
    match kind.as_str() {
        "registered" => {
            let mut m = message(fields, REGISTERED_FIELDS)?;
            let got_serial = m.string("serial_number").map_err(malformed)?;
            let got: [u8; 32] = unhex(&m.string("mac").map_err(malformed)?, "mac")?;
            // An altered or foreign outcome is not the bank's answer: the registration
            // stays unconfirmed, so the genuine outcome can still complete it.
            if got_serial != serial || !same(&got, &outcome_mac(result_key, attempt, serial)) {
                return Err(ProtocolError::Field("mac"));
            }
            Ok(())
        }
        "error" => Err(ProtocolError::Rejected(error_reason(fields)?)),
        _ => Err(ProtocolError::Field("type")),
    }
}

/// For the crate's attack tests (feature `test-support`): what an attacker who guessed
/// the SPAKE2 key could check.
#[cfg(feature = "test-support")]
pub mod testing {
    use super::*;

    /// Whether the sealed grant of `response` (to `request`) opens under the key that a
    /// SPAKE2 key `k` would give: the check an attacker needs to test a guess.
    pub fn opens_grant(k: &[u8; 32], request: &[u8], response: &[u8]) -> bool {
        let (Ok(request), Ok((_, fields))) =
            (Request::parse(request), open_envelope(response, PROTOCOL, VERSION))
        else {
            return false;
        };
        let Ok(mut m) = message(fields, RESPONSE_FIELDS) else { return false };
        let mut field = |key: &'static str| m.string(key).ok();
        let (Some(a), Some(p), Some(e), Some(g)) =
            (field("attempt"), field("pake"), field("evaluation"), field("grant"))
        else {
            return false;
        };
        let (Ok(a), Ok(p), Ok(e), Ok(g)) =
            (unhex(&a, "a"), unhex(&p, "p"), unhex(&e, "e"), unhex_vec(&g, "g"))
        else {
            return false;
        };
        let t = transcript(&request, &a, &p, &e);
        let keys = key_schedule(k, &t);
        SealingKey::new(&keys.grant).is_ok_and(|key| key.open(&t, &g).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::serving::{answer, decoy, parse_incoming, reject, Confirmation, Incoming};
    use super::*;

    const BANK: &str = "bank-a";

    fn grant() -> Grant {
        Grant {
            serial_number: "BANKA0000000001".into(),
            institution_id: BANK.into(),
            institution_name: "Bank A".into(),
            params: OtpParams::standard().unwrap(),
            valid_until: 2_000_000_000,
            issuer_time: 1_700_000_000,
        }
    }

    fn device() -> Device {
        Device::new("010-1234-5678", "device-1").unwrap()
    }

    /// The app's request with a dummy device key.
    fn request(code: &RegistrationCode) -> (PendingRegistration, Vec<u8>) {
        let mut pending = PendingRegistration::start(code, &device(), BANK, b"482915").unwrap();
        let mut key = [7u8; DEVICE_KEY_LEN];
        key[0] = 4;
        let bytes = pending.request(key, KeyEvidence::default()).unwrap();
        (pending, bytes)
    }

    #[test]
    fn default_suite_is_valid() {
        assert!(transaction_suite(DEFAULT_TRANSACTION_SUITE).is_ok());
        for bad in [
            "OCRA-1:HOTP-SHA256-8:QN08-T30S",
            "OCRA-1:HOTP-SHA256-8:QH64",
            "OCRA-1:HOTP-SHA256-8:C-QH64-T30S",
        ] {
            assert!(transaction_suite(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn codes_have_a_check_digit_that_catches_typos() {
        for _ in 0..50 {
            let code = RegistrationCode::generate().unwrap();
            assert_eq!(code.as_str().len(), 12);
            assert_eq!(RegistrationCode::parse(&code.display()).unwrap(), code);
            let digits: Vec<u8> = code.as_str().bytes().collect();
            for i in 0..12 {
                let mut t = digits.clone();
                t[i] = b'0' + (t[i] - b'0' + 1) % 10;
                let typo = String::from_utf8(t).unwrap();
                assert_eq!(
                    RegistrationCode::parse(&typo).unwrap_err(),
                    ProtocolError::CodeCheckDigit
                );
            }
            for i in 0..11 {
                let mut t = digits.clone();
                if t[i] != t[i + 1] {
                    t.swap(i, i + 1);
                    let typo = String::from_utf8(t).unwrap();
                    assert_eq!(
                        RegistrationCode::parse(&typo).unwrap_err(),
                        ProtocolError::CodeCheckDigit
                    );
                }
            }
        }
        for bad in ["", "12345", "1234567890123", "12345678901a", "１２３４５６７８９０１２"]
        {
            assert_eq!(
                RegistrationCode::parse(bad).unwrap_err(),
                ProtocolError::CodeFormat,
                "{bad}"
            );
        }
        assert!(!format!("{:?}", RegistrationCode::generate().unwrap())
            .chars()
            .any(|c| c.is_ascii_digit()));
    }

    #[test]
    fn phone_numbers_normalize_to_e164() {
        for (raw, want) in [
            ("010-1234-5678", "+821012345678"),
            ("010 1234 5678", "+821012345678"),
            ("+82 10-1234-5678", "+821012345678"),
            ("0082-10-1234-5678", "+821012345678"),
            ("(02) 123-4567", "+8221234567"),
            ("+1 (650) 253-0000", "+16502530000"),
            ("+44 (0)20 7946 0018", "+442079460018"),
            ("+82 (0)2-123-4567", "+8221234567"),
        ] {
            assert_eq!(normalize_phone(raw).unwrap(), want, "{raw}");
        }
        // Every common way of writing one Korean mobile number (issue 15, item 11).
        for raw in [
            "010-1234-5678",
            "01012345678",
            "010 1234 5678",
            "010.1234.5678",
            "010/1234/5678",
            "(010) 1234-5678",
            "010–1234–5678",
            "０１０－１２３４－５６７８",
            "010\u{00A0}1234\u{00A0}5678",
            "+82 10-1234-5678",
            "+82-10-1234-5678",
            "+82.10.1234.5678",
            "+821012345678",
            "+82 010-1234-5678",
            "+82 (0)10-1234-5678",
            "+82(0)1012345678",
            "+82-010-1234-5678",
            "＋82 10 1234 5678",
            "0082-10-1234-5678",
            "0082 010 1234 5678",
            "82-10-1234-5678",
            "82 10 1234 5678",
            "821012345678",
            "82 010-1234-5678",
        ] {
            assert_eq!(normalize_phone(raw).as_deref(), Ok("+821012345678"), "{raw}");
        }
        for bad in [
            "",
            "1234",
            "+0 123456789",
            "010-1234-567x",
            "+1234567890123456",
            "+82 10",
            "10-1234-5678",
            "010+1234",
            "010_1234_5678",
        ] {
            assert!(normalize_phone(bad).is_err(), "{bad}");
        }
        assert!(Device::new("010-1234-5678", "").is_err());
        assert!(Device::new("010-1234-5678", "a\nb").is_err());
        assert!(Device::new("010-1234-5678", &"x".repeat(257)).is_err());
    }

    #[test]
    fn both_sides_agree_on_the_seed_and_confirm_each_other() {
        let code = RegistrationCode::generate().unwrap();
        let (pending, bytes) = request(&code);
        let req = Request::parse(&bytes).unwrap();
        assert_eq!(req.lookup, device().lookup(BANK));
        assert!(!String::from_utf8_lossy(&bytes).contains(code.as_str()));
        let key_seed = oprf::new_key_seed().unwrap();
        let (response, attempt) =
            answer(&req, code.as_str().as_bytes(), &key_seed, &grant(), &[0; 16]).unwrap();
        let answered = pending.answer(&response).unwrap();
        assert_eq!(answered.grant, grant());
        assert_eq!(*answered.seed, *attempt.seed);
        assert_eq!(*answered.unlock_key, *attempt.unlock_key);
        assert_eq!(answered.to_sign, attempt.signed_digest);
        let confirmation = answered.confirmation(&[1, 2, 3]);
        let Incoming::Confirmation(c) = parse_incoming(&confirmation).unwrap() else {
            panic!("not a confirmation")
        };
        assert!(attempt.confirms(&c));
        assert_eq!(c.signature, [1, 2, 3]);
        answered.outcome(&attempt.registered(&grant().serial_number)).unwrap();
        assert_eq!(
            answered.outcome(&reject(RejectReason::Refused)).unwrap_err(),
            ProtocolError::Rejected(RejectReason::Refused)
        );
    }

    #[test]
    fn a_wrong_code_and_a_decoy_fail_the_same_way() {
        let code = RegistrationCode::generate().unwrap();
        let key_seed = oprf::new_key_seed().unwrap();
        let (pending, bytes) = request(&code);
        let req = Request::parse(&bytes).unwrap();
        let (wrong, _) = answer(&req, b"000000000000", &key_seed, &grant(), &[0; 16]).unwrap();
        assert_eq!(pending.answer(&wrong).unwrap_err(), ProtocolError::Confirmation);
        let (pending, bytes) = request(&code);
        let req = Request::parse(&bytes).unwrap();
        let fake = decoy(&req, &grant()).unwrap();
        let (real, _) =
            answer(&req, code.as_str().as_bytes(), &key_seed, &grant(), &[0; 16]).unwrap();
        assert_eq!(fake.len(), real.len(), "a decoy is as long as a real response");
        assert_eq!(pending.answer(&fake).unwrap_err(), ProtocolError::Confirmation);
    }

    #[test]
    fn an_altered_response_or_a_wrong_confirmation_is_refused() {
        let code = RegistrationCode::generate().unwrap();
        let key_seed = oprf::new_key_seed().unwrap();
        let (_, bytes) = request(&code);
        let req = Request::parse(&bytes).unwrap();
        let (response, attempt) =
            answer(&req, code.as_str().as_bytes(), &key_seed, &grant(), &[0; 16]).unwrap();
        let text = String::from_utf8(response.clone()).unwrap();
        // Every hex digit of the response changed in turn: the confirmation (or the parse) fails.
        let start = text.find("\"grant\":\"").unwrap() + 9;
        for i in [start, start + 40, text.len() - 4] {
            let (pending, _) = {
                let mut p = PendingRegistration::start(&code, &device(), BANK, b"482915").unwrap();
                let mut key = [7u8; DEVICE_KEY_LEN];
                key[0] = 4;
                let b = p.request(key, KeyEvidence::default()).unwrap();
                (p, b)
            };
            let mut t = text.clone().into_bytes();
            t[i] = if t[i] == b'0' { b'1' } else { b'0' };
            assert!(pending.answer(&t).is_err());
        }
        let wrong = Confirmation { attempt: attempt.id, confirmation: [0; 32], signature: vec![] };
        assert!(!attempt.confirms(&wrong));
        let other = Confirmation { attempt: [1; 32], ..wrong };
        assert!(!attempt.confirms(&other));
    }

    #[test]
    fn malformed_requests_are_refused() {
        let code = RegistrationCode::generate().unwrap();
        let (_, bytes) = request(&code);
        let good = String::from_utf8(bytes).unwrap();
        assert!(Request::parse(good.as_bytes()).is_ok());
        for bad in [
            good.replace("\"request\"", "\"response\""),
            good.replace("\"version\":2", "\"version\":1"),
            good.replace("\"lookup\"", "\"look\""),
            good.replace("\"kind\":\"none\"", "\"kind\":\"tpm\""),
            good.replace("\"bank-a\"", "\"bank a\""),
            "[]".into(),
            "{".into(),
            format!("{:width$}", good, width = MAX_MESSAGE_BYTES + 1),
        ] {
            assert!(Request::parse(bad.as_bytes()).is_err(), "{}", &bad[..bad.len().min(80)]);
        }
    }

    #[test]
    fn evidence_round_trips() {
        let e = KeyEvidence {
            kind: EvidenceKind::AndroidKeyAttestation,
            certificate_chain: vec![vec![1, 2], vec![3]],
            app_attest_object: Some(vec![4]),
            app_attest_key_id: None,
            integrity_token: Some("token".into()),
        };
        let f = Fields::parse(&encode_evidence(&e).finish(), None).unwrap();
        f.only(EVIDENCE_FIELDS).unwrap();
        assert_eq!(decode_evidence(f).unwrap(), e);
    }

    #[test]
    fn keys_per_purpose_differ() {
        let keys = derive_keys(&[5u8; 32], &OtpParams::standard().unwrap()).unwrap();
        assert_eq!(keys.login.len(), 20);
        assert_eq!(keys.transaction.len(), 32);
        assert_ne!(keys.login.expose(), &keys.transaction.expose()[..20]);
    }
}
