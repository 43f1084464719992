//! Key attestation: the issuer's check of the platform evidence that a device key is a
//! non-exportable hardware key of a genuine app (docs/adr/0012). [`verify`] checks one
//! [`KeyEvidence`] against an [`AttestationPolicy`] and says which hardware holds the key;
//! [`apply`] turns its result into the policy's decision (off, warn and audit, require).
//!
//! - Android Key Attestation: the chain (leaf first) verifies link by link up to a trust
//!   anchor, every certificate valid now; the leaf's key is the device key, and its
//!   KeyDescription has the challenge, a TEE or StrongBox level and an allowed package.
//! - Apple App Attest: the `x5c` chain verifies up to a trust anchor; the leaf's nonce
//!   binds `authData` and `SHA-256(challenge ‖ device key)`; `authData` names an allowed
//!   app, a fresh key (counter 0), an accepted environment and the leaf's key.
//!
//! Not checked here: Google's revocation list and Play Integrity tokens (the issuer does
//! them elsewhere), Apple's receipt. Nothing here panics on any input; errors name the
//! failed check, never key material.

use serde::{Deserialize, Serialize};
use x509_parser::asn1_rs::{Any, FromDer as _};
use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::crypto::{sha256, sha256_concat};
use crate::host::{EvidenceKind, KeyEvidence};

// Bounds: chain length, certificate and App Attest object sizes, packages in an app id.
const MAX_CHAIN: usize = 10;
const MAX_CERTIFICATE: usize = 16 * 1024;
const MAX_OBJECT: usize = 64 * 1024;
const MAX_PACKAGES: usize = 64;

/// The contents of the OID 1.3.6.1.4.1.11129.2.1.17 (Android KeyDescription).
const KEY_DESCRIPTION_OID: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0xD6, 0x79, 0x02, 0x01, 0x11];
/// The contents of the OID 1.2.840.113635.100.8.2 (App Attest nonce).
const APPLE_NONCE_OID: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x63, 0x64, 0x08, 0x02];
/// A P-256 SubjectPublicKeyInfo up to its 65-byte point (id-ecPublicKey, prime256v1).
const P256_SPKI_PREFIX: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A,
    0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// The App Attest production environment's aaguid.
const AAGUID_PRODUCTION: [u8; 16] = *b"appattest\0\0\0\0\0\0\0";
/// The App Attest development environment's aaguid.
const AAGUID_DEVELOPMENT: [u8; 16] = *b"appattestdevelop";

/// How the issuer treats key attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// Not checked: every device key is accepted, unattested.
    #[default]
    Off,
    /// Checked; a failure is accepted (the key counts as unattested) and audited.
    Warn,
    /// Checked; a failure refuses the device key.
    Require,
}

/// Where a device key lives, as its attestation says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum SecurityLevel {
    /// In software (Android's software keystore): never accepted as attested.
    Software,
    /// In Android's trusted execution environment (TEE).
    TrustedEnvironment,
    /// In an Android StrongBox (a separate secure element).
    StrongBox,
    /// In Apple's Secure Enclave.
    SecureEnclave,
}

/// What the issuer accepts as key attestation: the requirement, the trust anchors and the
/// apps. The default checks nothing (`Off`, empty lists).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, uniffi::Record)]
#[serde(default)]
pub struct AttestationPolicy {
    /// Off, warn or require.
    pub requirement: Requirement,
    /// Android trust anchors (DER; Google's roots): a chain ends in one or a certificate it signed.
    #[uniffi(default)]
    pub android_roots: Vec<Vec<u8>>,
    /// Allowed Android package names (attestationApplicationId); empty allows any.
    #[uniffi(default)]
    pub android_packages: Vec<String>,
    /// Apple trust anchors (DER; the Apple App Attestation Root CA in production).
    #[uniffi(default)]
    pub apple_roots: Vec<Vec<u8>>,
    /// Allowed Apple apps, `TEAMID.bundle.id`; empty refuses all Apple evidence.
    #[uniffi(default)]
    pub apple_app_ids: Vec<String>,
    /// Whether App Attest's development environment is accepted too.
    #[uniffi(default = false)]
    pub apple_development: bool,
}

/// A device key that passed attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attested {
    /// The kind of evidence that vouched for it.
    pub kind: EvidenceKind,
    /// Where the key lives.
    pub level: SecurityLevel,
}

/// Why attestation evidence was not accepted. The messages name the check, never a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    /// The platform gave no evidence.
    #[error("no key attestation evidence")]
    Missing,
    /// The evidence is not well formed (the part that is not).
    #[error("malformed attestation evidence: {0}")]
    Malformed(&'static str),
    /// The policy cannot be used (a trust anchor that is not a DER certificate).
    #[error("unusable attestation policy: {0}")]
    Policy(&'static str),
    /// The chain does not end at one of the policy's trust anchors.
    #[error("the attestation chain does not end at a trusted root")]
    UntrustedRoot,
    /// A certificate is not signed by the next one.
    #[error("a certificate of the attestation chain has a bad signature")]
    BadSignature,
    /// A certificate is not valid at the time of the check.
    #[error("a certificate of the attestation chain is not valid at this time")]
    NotValidAt,
    /// The attested key is not the device key, or (Apple) the credential not the leaf's key.
    #[error("the attested key is not the expected key")]
    KeyMismatch,
    /// The App Attest credential is not the key id the app gave.
    #[error("the App Attest credential is not the given key id")]
    KeyIdMismatch,
    /// The evidence is not bound to this challenge (and, for Apple, this device key).
    #[error("the attestation is not bound to this challenge")]
    ChallengeMismatch,
    /// The key is not in secure hardware.
    #[error("the key's security level is too low: {0:?}")]
    InsufficientLevel(SecurityLevel),
    /// The evidence is for an app the policy does not allow.
    #[error("the attestation is for an app that is not allowed")]
    AppMismatch,
    /// The App Attest key has signed before (its counter is not zero).
    #[error("the App Attest key has been used before")]
    CounterNotZero,
    /// The App Attest development environment, which the policy does not accept.
    #[error("the App Attest development environment is not accepted")]
    DevelopmentEnvironment,
}

use AttestationError::Malformed;

/// A check's result.
type Checked<T> = Result<T, AttestationError>;

/// Checks `evidence` about `device_key` (65 bytes, SEC1 uncompressed P-256) for
/// `challenge` under `policy`, at `now_unix` (Unix seconds), and says where the key lives.
/// It ignores `policy.requirement`: [`apply`] makes the decision.
pub fn verify(
    evidence: &KeyEvidence,
    device_key: &[u8],
    challenge: &[u8; 32],
    policy: &AttestationPolicy,
    now_unix: u64,
) -> Result<Attested, AttestationError> {
    let check = Check { key: device_key, challenge, policy, now: now_unix };
    match evidence.kind {
        EvidenceKind::None => Err(AttestationError::Missing),
        _ if device_key.len() != 65 || device_key[0] != 0x04 => {
            Err(Malformed("device key is not an uncompressed P-256 point"))
        }
        EvidenceKind::AndroidKeyAttestation => check.android(evidence),
        EvidenceKind::AppleAppAttest => check.apple(evidence),
    }
}

/// What the policy makes of a check's result: `Ok(Some(_))` accepted and attested, `Ok(None)`
/// accepted without attestation (`Off`, whatever the result; `Warn` with a failure, whose
/// reason the caller keeps to audit), `Err` refused (`Require` with a failure).
pub fn apply(
    policy: &AttestationPolicy,
    result: Result<Attested, AttestationError>,
) -> Result<Option<Attested>, AttestationError> {
    match (policy.requirement, result) {
        (Requirement::Off, _) => Ok(None),
        (_, Ok(attested)) => Ok(Some(attested)),
        (Requirement::Warn, Err(_)) => Ok(None),
        (Requirement::Require, Err(e)) => Err(e),
    }
}

/// One check's inputs (the device key already known to be 65 bytes, `04 ‖ x ‖ y`).
struct Check<'a> {
    key: &'a [u8],
    challenge: &'a [u8; 32],
    policy: &'a AttestationPolicy,
    now: u64,
}

impl Check<'_> {
    fn android(&self, evidence: &KeyEvidence) -> Checked<Attested> {
        let chain =
            verify_chain(&evidence.certificate_chain, &self.policy.android_roots, self.now)?;
        let leaf = chain.first().ok_or(Malformed("empty certificate chain"))?;
        if p256_point(leaf.public_key()) != Some(self.key) {
            return Err(AttestationError::KeyMismatch);
        }
        // Only the leaf has a KeyDescription (else an app's attested key certifies a forgery).
        for issuer in chain.iter().skip(1) {
            if extension(issuer, KEY_DESCRIPTION_OID)?.is_some() {
                return Err(Malformed("key description in an issuing certificate"));
            }
        }
        let ext = extension(leaf, KEY_DESCRIPTION_OID)?.ok_or(Malformed("no key description"))?;
        let description = key_description(ext)?;
        if description.challenge != self.challenge.as_slice() {
            return Err(AttestationError::ChallengeMismatch);
        }
        let level = match description.level {
            1 => SecurityLevel::TrustedEnvironment,
            2 => SecurityLevel::StrongBox,
            _ => return Err(AttestationError::InsufficientLevel(SecurityLevel::Software)),
        };
        let allowed = &self.policy.android_packages;
        if !allowed.is_empty() {
            let names = package_names([description.software, description.hardware])?;
            if !names.iter().flatten().any(|n| allowed.iter().any(|p| p.as_bytes() == *n)) {
                return Err(AttestationError::AppMismatch);
            }
        }
        Ok(Attested { kind: EvidenceKind::AndroidKeyAttestation, level })
    }

    fn apple(&self, evidence: &KeyEvidence) -> Checked<Attested> {
        let object = evidence.app_attest_object.as_deref().filter(|o| o.len() <= MAX_OBJECT);
        let mut input = object.ok_or(Malformed("App Attest object missing or too large"))?;
        let parsed: AttestationObject =
            ciborium::de::from_reader(&mut input).map_err(|_| Malformed("App Attest CBOR"))?;
        if !input.is_empty() {
            return Err(Malformed("bytes after the App Attest object"));
        }
        if parsed.fmt != "apple-appattest" {
            return Err(Malformed("App Attest format"));
        }
        let ders = parsed.statement.x5c.iter().map(|c| c.as_bytes().map(Vec::as_slice));
        let ders = ders.collect::<Option<Vec<_>>>().ok_or(Malformed("x5c"))?;
        let auth_data = parsed.auth_data.as_bytes().ok_or(Malformed("authData"))?.as_slice();

        let chain = verify_chain(&ders, &self.policy.apple_roots, self.now)?;
        let leaf = chain.first().ok_or(Malformed("empty certificate chain"))?;
        let point =
            p256_point(leaf.public_key()).ok_or(Malformed("App Attest key is not P-256"))?;
        let ext = extension(leaf, APPLE_NONCE_OID)?.ok_or(Malformed("no App Attest nonce"))?;
        let client_data_hash = sha256_concat(&[self.challenge, self.key]);
        if apple_nonce(ext)? != sha256_concat(&[auth_data, &client_data_hash]).as_slice() {
            return Err(AttestationError::ChallengeMismatch);
        }
        let auth = AuthData::parse(auth_data)?;
        if auth.credential_id != sha256(point).as_slice() {
            return Err(AttestationError::KeyMismatch);
        }
        if evidence.app_attest_key_id.as_ref().is_some_and(|id| id.as_slice() != auth.credential_id)
        {
            return Err(AttestationError::KeyIdMismatch);
        }
        if !self.policy.apple_app_ids.iter().any(|id| sha256(id.as_bytes()) == auth.rp_id_hash) {
            return Err(AttestationError::AppMismatch);
        }
        if auth.sign_count != 0 {
            return Err(AttestationError::CounterNotZero);
        }
        match auth.aaguid {
            AAGUID_PRODUCTION => {}
            AAGUID_DEVELOPMENT if self.policy.apple_development => {}
            AAGUID_DEVELOPMENT => return Err(AttestationError::DevelopmentEnvironment),
            _ => return Err(Malformed("App Attest aaguid")),
        }
        Ok(Attested { kind: EvidenceKind::AppleAppAttest, level: SecurityLevel::SecureEnclave })
    }
}

/// Parses a chain (leaf first) and checks it: each certificate valid at `now` and signed
/// by the next, the last equal to a trust anchor or signed by one's key.
fn verify_chain<'a, D: AsRef<[u8]>>(
    ders: &'a [D],
    roots: &[Vec<u8>],
    now: u64,
) -> Checked<Vec<X509Certificate<'a>>> {
    if ders.is_empty() || ders.len() > MAX_CHAIN {
        return Err(Malformed("certificate chain empty or too long"));
    }
    let chain = ders.iter().map(|d| certificate(d.as_ref())).collect::<Checked<Vec<_>>>()?;
    let now = i64::try_from(now).map_err(|_| AttestationError::NotValidAt)?;
    for cert in &chain {
        let validity = cert.validity();
        if now < validity.not_before.timestamp() || now > validity.not_after.timestamp() {
            return Err(AttestationError::NotValidAt);
        }
    }
    for (cert, issuer) in chain.iter().zip(chain.iter().skip(1)) {
        check_signature(cert, issuer.public_key())?;
    }
    let (Some(last), Some(last_der)) = (chain.last(), ders.last()) else {
        return Err(Malformed("certificate chain empty or too long"));
    };
    for root in roots {
        if root.as_slice() == last_der.as_ref() {
            return Ok(chain);
        }
        let anchor = certificate(root)
            .map_err(|_| AttestationError::Policy("a trust anchor is not a DER certificate"))?;
        if check_signature(last, anchor.public_key()).is_ok() {
            return Ok(chain);
        }
    }
    Err(AttestationError::UntrustedRoot)
}

/// One DER certificate, with nothing after it.
fn certificate(der: &[u8]) -> Checked<X509Certificate<'_>> {
    if der.len() > MAX_CERTIFICATE {
        return Err(Malformed("certificate too large"));
    }
    let (rest, cert) = X509Certificate::from_der(der).map_err(|_| Malformed("certificate"))?;
    if !rest.is_empty() || cert.signature_algorithm != cert.tbs_certificate.signature {
        return Err(Malformed("certificate"));
    }
    Ok(cert)
}

/// Whether `key` signed `cert`.
fn check_signature(cert: &X509Certificate<'_>, key: &SubjectPublicKeyInfo<'_>) -> Checked<()> {
    match cert.verify_signature(Some(key)) {
        Ok(()) => Ok(()),
        Err(X509Error::SignatureUnsupportedAlgorithm) => Err(Malformed("signature algorithm")),
        Err(_) => Err(AttestationError::BadSignature),
    }
}

/// The 65-byte point of a P-256 public key.
fn p256_point<'a>(spki: &SubjectPublicKeyInfo<'a>) -> Option<&'a [u8]> {
    spki.raw.strip_prefix(P256_SPKI_PREFIX).filter(|p| p.len() == 65 && p[0] == 0x04)
}

/// The value of the certificate's extension `oid`, if it has it (once).
fn extension<'a>(cert: &X509Certificate<'a>, oid: &[u8]) -> Checked<Option<&'a [u8]>> {
    let mut found = cert.extensions().iter().filter(|e| e.oid.as_bytes() == oid);
    match (found.next(), found.next()) {
        (first, None) => Ok(first.map(|e| e.value)),
        _ => Err(Malformed("duplicate extension")),
    }
}

/// The App Attest attestation object (the receipt and any other key are ignored; a key
/// given twice is refused).
#[derive(Deserialize)]
struct AttestationObject {
    fmt: String,
    #[serde(rename = "attStmt")]
    statement: Statement,
    #[serde(rename = "authData")]
    auth_data: ciborium::Value,
}

/// The attestation statement: the chain, leaf first (DER byte strings).
#[derive(Deserialize)]
struct Statement {
    x5c: Vec<ciborium::Value>,
}

/// The App Attest authenticator data.
struct AuthData<'a> {
    rp_id_hash: [u8; 32],
    sign_count: u32,
    aaguid: [u8; 16],
    credential_id: &'a [u8],
}

impl<'a> AuthData<'a> {
    /// `rpIdHash(32) ‖ flags(1) ‖ signCount(4) ‖ aaguid(16) ‖ idLength(2) ‖ id ‖ key`.
    fn parse(data: &'a [u8]) -> Checked<Self> {
        let bad = || Malformed("authData");
        let (rp_id_hash, rest) = data.split_first_chunk::<32>().ok_or_else(bad)?;
        let (flags, rest) = rest.split_first().ok_or_else(bad)?;
        let (count, rest) = rest.split_first_chunk::<4>().ok_or_else(bad)?;
        let (aaguid, rest) = rest.split_first_chunk::<16>().ok_or_else(bad)?;
        let (length, rest) = rest.split_first_chunk::<2>().ok_or_else(bad)?;
        let credential_id = rest.get(..usize::from(u16::from_be_bytes(*length))).ok_or_else(bad)?;
        // The attested credential data flag (AT): App Attest always sets it.
        if flags & 0x40 == 0 {
            return Err(Malformed("authData without attested credential data"));
        }
        let sign_count = u32::from_be_bytes(*count);
        Ok(Self { rp_id_hash: *rp_id_hash, sign_count, aaguid: *aaguid, credential_id })
    }
}

/// A DER identifier: class (0 universal, 2 context-specific), constructed, tag number.
type Id = (u8, bool, u32);
const INTEGER: Id = (0, false, 2);
const OCTET_STRING: Id = (0, false, 4);
const ENUMERATED: Id = (0, false, 10);
const SEQUENCE: Id = (0, true, 16);
const SET: Id = (0, true, 17);
const APPLICATION_ID: Id = (2, true, 709); // attestationApplicationId: [709] EXPLICIT
const NONCE_TAG: Id = (2, true, 1); // the App Attest nonce: [1] EXPLICIT

/// A reader of consecutive DER elements (asn1-rs reads each one's header).
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The next element's identifier and contents.
    fn next(&mut self) -> Checked<(Id, &'a [u8])> {
        let (rest, any) = Any::from_der(self.0).map_err(|_| Malformed("DER"))?;
        self.0 = rest;
        let header = &any.header;
        Ok(((header.class() as u8, header.is_constructed(), header.tag().0), any.data))
    }

    /// The next element's contents, if it is an `id`.
    fn expect(&mut self, id: Id, what: &'static str) -> Checked<&'a [u8]> {
        match self.next() {
            Ok((found, value)) if found == id => Ok(value),
            _ => Err(Malformed(what)),
        }
    }

    /// The contents of the one element of `input`, an `id`.
    fn only(input: &'a [u8], id: Id, what: &'static str) -> Checked<Self> {
        let mut outer = Der(input);
        let inner = outer.expect(id, what)?;
        if !outer.0.is_empty() {
            return Err(Malformed(what));
        }
        Ok(Der(inner))
    }
}

/// The parts of an Android KeyDescription this check reads.
struct KeyDescription<'a> {
    /// The lower of the two security levels (0 software, 1 TEE, 2 StrongBox).
    level: u8,
    challenge: &'a [u8],
    software: &'a [u8],
    hardware: &'a [u8],
}

/// Parses a KeyDescription (any fields after hardwareEnforced are ignored).
fn key_description(ext: &[u8]) -> Checked<KeyDescription<'_>> {
    let level = |value: &[u8]| match value {
        [level @ 0..=2] => Ok(*level),
        _ => Err(Malformed("security level")),
    };
    let mut d = Der::only(ext, SEQUENCE, "key description")?;
    d.expect(INTEGER, "attestation version")?;
    let attestation_level = level(d.expect(ENUMERATED, "security level")?)?;
    d.expect(INTEGER, "keymint version")?;
    let keymint_level = level(d.expect(ENUMERATED, "security level")?)?;
    let challenge = d.expect(OCTET_STRING, "attestation challenge")?;
    d.expect(OCTET_STRING, "unique id")?;
    let software = d.expect(SEQUENCE, "software enforced")?;
    let hardware = d.expect(SEQUENCE, "hardware enforced")?;
    let level = attestation_level.min(keymint_level);
    Ok(KeyDescription { level, challenge, software, hardware })
}

/// The package names of the attestationApplicationId in the authorization lists, or
/// `None` if neither has one. Other tags are skipped.
fn package_names(lists: [&[u8]; 2]) -> Checked<Option<Vec<&[u8]>>> {
    let mut found = None;
    for list in lists {
        let mut items = Der(list);
        while !items.0.is_empty() {
            let (id, value) = items.next().map_err(|_| Malformed("authorization list"))?;
            if (id.0, id.2) == (APPLICATION_ID.0, APPLICATION_ID.2) {
                if found.is_some() || id != APPLICATION_ID {
                    return Err(Malformed("attestation application id"));
                }
                found = Some(value);
            }
        }
    }
    let Some(explicit) = found else { return Ok(None) };
    let octets = Der::only(explicit, OCTET_STRING, "attestation application id")?;
    let mut id = Der::only(octets.0, SEQUENCE, "attestation application id")?;
    let mut infos = Der(id.expect(SET, "package infos")?);
    id.expect(SET, "signature digests")?;
    let mut names = Vec::new();
    while !infos.0.is_empty() {
        if names.len() == MAX_PACKAGES {
            return Err(Malformed("too many packages"));
        }
        let mut info = Der(infos.expect(SEQUENCE, "package info")?);
        names.push(info.expect(OCTET_STRING, "package name")?);
        info.expect(INTEGER, "package version")?;
    }
    Ok(Some(names))
}

/// The nonce of the App Attest extension: `SEQUENCE { [1] EXPLICIT OCTET STRING }`.
fn apple_nonce(ext: &[u8]) -> Checked<&[u8]> {
    let mut sequence = Der::only(ext, SEQUENCE, "App Attest nonce")?;
    Der(sequence.expect(NONCE_TAG, "App Attest nonce")?).expect(OCTET_STRING, "App Attest nonce")
}

/// Attestation evidence for the crate's tests, under test roots (made with rcgen). Never in
/// a release build.
#[cfg(feature = "test-support")]
pub mod testing {
    use ciborium::Value;
    use rcgen::{
        date_time_ymd, BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension,
        DnType, IsCa, Issuer, KeyPair, PublicKeyData, SignatureAlgorithm, SigningKey,
        PKCS_ECDSA_P256_SHA256,
    };

    use crate::crypto::{sha256, sha256_concat};
    use crate::issuer::attestation::{SecurityLevel, AAGUID_DEVELOPMENT, AAGUID_PRODUCTION};

    /// The KeyDescription extension's OID.
    pub const KEY_DESCRIPTION: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 1, 17];
    /// The App Attest nonce extension's OID.
    pub const APPLE_NONCE: &[u64] = &[1, 2, 840, 113635, 100, 8, 2];

    /// An Android attestation under a test root.
    #[derive(Debug, Clone)]
    pub struct TestAndroid {
        /// The test root (a trust anchor for the policy).
        pub root_der: Vec<u8>,
        /// Leaf, intermediate, root.
        pub chain: Vec<Vec<u8>>,
    }

    /// An App Attest attestation under a test root.
    #[derive(Debug, Clone)]
    pub struct TestAppAttest {
        /// The test root (a trust anchor for the policy).
        pub root_der: Vec<u8>,
        /// The attestation object (CBOR).
        pub object: Vec<u8>,
        /// The App Attest key id (SHA-256 of its public key).
        pub key_id: Vec<u8>,
    }

    /// A P-256 public key known only by its point (the device's key).
    pub struct ExternalKey<'a>(pub &'a [u8]);

    impl PublicKeyData for ExternalKey<'_> {
        fn der_bytes(&self) -> &[u8] {
            self.0
        }
        fn algorithm(&self) -> &'static SignatureAlgorithm {
            &PKCS_ECDSA_P256_SHA256
        }
    }

    /// A new P-256 key pair.
    pub fn key_pair() -> KeyPair {
        KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("a P-256 key")
    }

    fn params(name: &str, ca: bool) -> CertificateParams {
        let mut params = CertificateParams::default();
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2040, 1, 1);
        params.is_ca = if ca { IsCa::Ca(BasicConstraints::Unconstrained) } else { IsCa::NoCa };
        params.distinguished_name.push(DnType::CommonName, name);
        params
    }

    /// A CA certificate: self-signed, or signed by `parent`.
    fn ca(name: &str, parent: Option<&Issuer<'_, KeyPair>>) -> CertifiedIssuer<'static, KeyPair> {
        let result = match parent {
            None => CertifiedIssuer::self_signed(params(name, true), key_pair()),
            Some(parent) => CertifiedIssuer::signed_by(params(name, true), key_pair(), parent),
        };
        result.expect("a CA certificate")
    }

    /// A leaf certificate for `key`, signed by `issuer`, with the extension `oid`.
    pub fn leaf(
        key: &impl PublicKeyData,
        issuer: &Issuer<'_, impl SigningKey>,
        oid: &[u64],
        content: Vec<u8>,
    ) -> Vec<u8> {
        let mut params = params("Test Attested Key", false);
        params.custom_extensions.push(CustomExtension::from_oid_content(oid, content));
        params.signed_by(key, issuer).expect("a leaf certificate").der().to_vec()
    }

    /// A DER element: `tag` (already encoded), its length, `content`.
    pub fn tlv(tag: &[u8], content: &[u8]) -> Vec<u8> {
        let n = content.len();
        let length = match n {
            0..=0x7f => vec![n as u8],
            0x80..=0xff => vec![0x81, n as u8],
            _ => vec![0x82, (n >> 8) as u8, n as u8],
        };
        [tag, &length, content].concat()
    }

    /// A KeyDescription (attestation version 200, `level` for both levels, empty uniqueId,
    /// softwareEnforced with creationDateTime and an attestationApplicationId for
    /// `package`, empty hardwareEnforced). `SecureEnclave`, not an Android level, is
    /// encoded as the unknown value 3.
    pub fn key_description(level: SecurityLevel, challenge: &[u8], package: &str) -> Vec<u8> {
        let info = tlv(&[0x30], &[tlv(&[0x04], package.as_bytes()), tlv(&[0x02], &[1])].concat());
        let digests = tlv(&[0x31], &tlv(&[0x04], &sha256(b"test app signing certificate")));
        let app_id = tlv(&[0x30], &[tlv(&[0x31], &info), digests].concat());
        let software = [
            // creationDateTime [701]: an unknown tag to this check, to be skipped.
            tlv(&[0xBF, 0x85, 0x3D], &tlv(&[0x02], &[0x01, 0x7F, 0x00, 0x00, 0x00, 0x00])),
            tlv(&[0xBF, 0x85, 0x45], &tlv(&[0x04], &app_id)),
        ]
        .concat();
        let (version, level) = (tlv(&[0x02], &[0x00, 0xC8]), tlv(&[0x0A], &[level as u8]));
        let lists = [tlv(&[0x30], &software), tlv(&[0x30], &[])].concat();
        let ids = [tlv(&[0x04], challenge), tlv(&[0x04], &[])].concat();
        tlv(&[0x30], &[version.clone(), level.clone(), version, level, ids, lists].concat())
    }

    /// An Android Key Attestation chain for `device_key` (65 bytes): leaf, intermediate,
    /// and a new test root.
    pub fn android_chain(
        level: SecurityLevel,
        challenge: &[u8; 32],
        device_key: &[u8],
        package: &str,
    ) -> TestAndroid {
        android_chain_with(key_description(level, challenge, package), device_key)
    }

    /// [`android_chain`] with the given KeyDescription extension (DER).
    pub fn android_chain_with(extension: Vec<u8>, device_key: &[u8]) -> TestAndroid {
        let root = ca("Test Key Attestation Root", None);
        let intermediate = ca("Test Key Attestation Intermediate", Some(&root));
        let leaf = leaf(&ExternalKey(device_key), &intermediate, KEY_DESCRIPTION, extension);
        let root_der = root.der().to_vec();
        TestAndroid { chain: vec![leaf, intermediate.der().to_vec(), root_der.clone()], root_der }
    }

    /// An App Attest attestation of `SHA-256(challenge ‖ device_key)` for `app_id`
    /// (`TEAMID.bundle.id`), in the development environment or production.
    pub fn app_attest(
        challenge: &[u8; 32],
        device_key: &[u8],
        app_id: &str,
        development: bool,
    ) -> TestAppAttest {
        app_attest_with_count(challenge, device_key, app_id, development, 0)
    }

    /// [`app_attest`] with the given sign count in authData (a fresh key has 0).
    pub fn app_attest_with_count(
        challenge: &[u8; 32],
        device_key: &[u8],
        app_id: &str,
        development: bool,
        sign_count: u32,
    ) -> TestAppAttest {
        let root = ca("Test App Attestation Root CA", None);
        let intermediate = ca("Test App Attestation CA 1", Some(&root));
        let key = key_pair();
        let point = key.public_key_raw();
        let key_id = sha256(point);
        let int = |n: i64| Value::Integer(n.into());
        let (x, y) = (point.get(1..33).unwrap_or(&[]).to_vec(), point.get(33..).unwrap_or(&[]));
        let mut cose = vec![(int(1), int(2)), (int(3), int(-7)), (int(-1), int(1))];
        cose.extend([(int(-2), x.into()), (int(-3), y.to_vec().into())]);
        let aaguid = if development { AAGUID_DEVELOPMENT } else { AAGUID_PRODUCTION };
        let head = [&sha256(app_id.as_bytes())[..], &[0x40], &sign_count.to_be_bytes(), &aaguid];
        let auth_data = [&head.concat(), &[0, 32][..], &key_id, &cbor(&Value::Map(cose))].concat();
        let nonce = sha256_concat(&[&auth_data, &sha256_concat(&[challenge, device_key])]);
        let extension = tlv(&[0x30], &tlv(&[0xA1], &tlv(&[0x04], &nonce)));
        let leaf = leaf(&key, &intermediate, APPLE_NONCE, extension);
        let text = |s: &str| Value::Text(s.into());
        let statement = Value::Map(vec![
            (text("x5c"), Value::Array(vec![leaf.into(), intermediate.der().to_vec().into()])),
            (text("receipt"), Value::Bytes(b"test receipt".to_vec())),
        ]);
        let object = cbor(&Value::Map(vec![
            (text("fmt"), text("apple-appattest")),
            (text("attStmt"), statement),
            (text("authData"), Value::Bytes(auth_data)),
        ]));
        TestAppAttest { root_der: root.der().to_vec(), object, key_id: key_id.to_vec() }
    }

    /// The CBOR encoding of `value`.
    pub fn cbor(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(value, &mut out).expect("CBOR into a Vec");
        out
    }
}

// The tests need the test chains of `testing`.
#[allow(clippy::mixed_attributes_style)]
#[cfg(test)]
mod tests {
    #![cfg(feature = "test-support")]

    use super::testing::{self, TestAndroid, TestAppAttest};
    use super::*;

    const NOW: u64 = 1_800_000_000;
    const CHALLENGE: [u8; 32] = [0x5A; 32];
    const PACKAGE: &str = "com.example.bank";
    const APP_ID: &str = "ABCDE12345.com.example.bank";

    fn device_key() -> Vec<u8> {
        testing::key_pair().public_key_raw().to_vec()
    }

    fn android(level: SecurityLevel) -> (Vec<u8>, TestAndroid) {
        let key = device_key();
        let test = testing::android_chain(level, &CHALLENGE, &key, PACKAGE);
        (key, test)
    }

    fn android_policy(root: &[u8]) -> AttestationPolicy {
        AttestationPolicy {
            requirement: Requirement::Require,
            android_roots: vec![root.to_vec()],
            android_packages: vec!["com.example.other".into(), PACKAGE.into()],
            ..AttestationPolicy::default()
        }
    }

    fn android_evidence(chain: &[Vec<u8>]) -> KeyEvidence {
        KeyEvidence {
            kind: EvidenceKind::AndroidKeyAttestation,
            certificate_chain: chain.to_vec(),
            ..KeyEvidence::default()
        }
    }

    fn check_android(
        chain: &[Vec<u8>],
        key: &[u8],
        root: &[u8],
    ) -> Result<Attested, AttestationError> {
        verify(&android_evidence(chain), key, &CHALLENGE, &android_policy(root), NOW)
    }

    fn apple(development: bool) -> (Vec<u8>, TestAppAttest) {
        let key = device_key();
        let test = testing::app_attest(&CHALLENGE, &key, APP_ID, development);
        (key, test)
    }

    fn apple_policy(root: &[u8], development: bool) -> AttestationPolicy {
        AttestationPolicy {
            requirement: Requirement::Require,
            apple_roots: vec![root.to_vec()],
            apple_app_ids: vec!["ZZZZZ99999.com.example.other".into(), APP_ID.into()],
            apple_development: development,
            ..AttestationPolicy::default()
        }
    }

    fn apple_evidence(object: &[u8], key_id: Option<&[u8]>) -> KeyEvidence {
        KeyEvidence {
            kind: EvidenceKind::AppleAppAttest,
            app_attest_object: Some(object.to_vec()),
            app_attest_key_id: key_id.map(<[u8]>::to_vec),
            ..KeyEvidence::default()
        }
    }

    fn check_apple(
        test: &TestAppAttest,
        key: &[u8],
        development: bool,
    ) -> Result<Attested, AttestationError> {
        let evidence = apple_evidence(&test.object, Some(&test.key_id));
        verify(&evidence, key, &CHALLENGE, &apple_policy(&test.root_der, development), NOW)
    }

    /// Flips a bit of the byte `offset` bytes into the first `needle` in `haystack`.
    fn flip_at(haystack: &mut [u8], needle: &[u8], offset: usize) {
        let at = haystack.windows(needle.len()).position(|w| w == needle).expect("needle");
        haystack[at + offset] ^= 0x01;
    }

    #[test]
    fn oids_are_the_documented_ones() {
        use std::borrow::Cow;
        use x509_parser::oid_registry::Oid;
        let name = |bytes: &'static [u8]| Oid::new(Cow::Borrowed(bytes)).to_id_string();
        assert_eq!(name(KEY_DESCRIPTION_OID), "1.3.6.1.4.1.11129.2.1.17");
        assert_eq!(name(APPLE_NONCE_OID), "1.2.840.113635.100.8.2");
    }

    #[test]
    fn android_tee_chain_is_accepted() {
        let (key, test) = android(SecurityLevel::TrustedEnvironment);
        let attested = check_android(&test.chain, &key, &test.root_der).unwrap();
        assert_eq!(attested.kind, EvidenceKind::AndroidKeyAttestation);
        assert_eq!(attested.level, SecurityLevel::TrustedEnvironment);
    }

    #[test]
    fn android_strongbox_chain_is_accepted() {
        let (key, test) = android(SecurityLevel::StrongBox);
        let attested = check_android(&test.chain, &key, &test.root_der).unwrap();
        assert_eq!(attested.level, SecurityLevel::StrongBox);
    }

    #[test]
    fn android_chain_without_its_root_is_accepted() {
        let (key, test) = android(SecurityLevel::TrustedEnvironment);
        let attested = check_android(&test.chain[..2], &key, &test.root_der).unwrap();
        assert_eq!(attested.level, SecurityLevel::TrustedEnvironment);
    }

    #[test]
    fn android_any_package_when_the_list_is_empty() {
        let (key, test) = android(SecurityLevel::StrongBox);
        let policy =
            AttestationPolicy { android_packages: vec![], ..android_policy(&test.root_der) };
        let result = verify(&android_evidence(&test.chain), &key, &CHALLENGE, &policy, NOW);
        assert_eq!(result.unwrap().level, SecurityLevel::StrongBox);
    }

    #[test]
    fn android_lower_of_the_two_levels_is_reported() {
        let key = device_key();
        let mut description =
            testing::key_description(SecurityLevel::StrongBox, &CHALLENGE, PACKAGE);
        // The first ENUMERATED is attestationSecurityLevel: make it TEE.
        let at = description.windows(3).position(|w| w == [0x0A, 0x01, 0x02]).unwrap();
        description[at + 2] = 0x01;
        let test = testing::android_chain_with(description, &key);
        let attested = check_android(&test.chain, &key, &test.root_der).unwrap();
        assert_eq!(attested.level, SecurityLevel::TrustedEnvironment);
        // StrongBox attestation of a software KeyMint key: software.
        let mut description =
            testing::key_description(SecurityLevel::StrongBox, &CHALLENGE, PACKAGE);
        let at = description.windows(3).rposition(|w| w == [0x0A, 0x01, 0x02]).unwrap();
        description[at + 2] = 0x00;
        let test = testing::android_chain_with(description, &key);
        assert_eq!(
            check_android(&test.chain, &key, &test.root_der),
            Err(AttestationError::InsufficientLevel(SecurityLevel::Software))
        );
    }

    #[test]
    fn android_software_level_is_refused() {
        let (key, test) = android(SecurityLevel::Software);
        assert_eq!(
            check_android(&test.chain, &key, &test.root_der),
            Err(AttestationError::InsufficientLevel(SecurityLevel::Software))
        );
    }

    #[test]
    fn android_unknown_root_is_refused() {
        let (key, test) = android(SecurityLevel::TrustedEnvironment);
        let (_, other) = android(SecurityLevel::TrustedEnvironment);
        assert_eq!(
            check_android(&test.chain, &key, &other.root_der),
            Err(AttestationError::UntrustedRoot)
        );
        let policy = AttestationPolicy { android_roots: vec![], ..android_policy(&test.root_der) };
        let result = verify(&android_evidence(&test.chain), &key, &CHALLENGE, &policy, NOW);
        assert_eq!(result, Err(AttestationError::UntrustedRoot));
    }

    #[test]
    fn android_unparsable_trust_anchor_is_a_policy_error() {
        let (key, test) = android(SecurityLevel::TrustedEnvironment);
        let (_, other) = android(SecurityLevel::TrustedEnvironment);
        let mut policy = android_policy(&other.root_der);
        policy.android_roots.insert(0, b"not a certificate".to_vec());
        let result = verify(&android_evidence(&test.chain), &key, &CHALLENGE, &policy, NOW);
        assert!(matches!(result, Err(AttestationError::Policy(_))));
    }

    #[test]
    fn android_chain_without_its_middle_is_refused() {
        let (key, test) = android(SecurityLevel::TrustedEnvironment);
        let chain = [test.chain[0].clone(), test.chain[2].clone()];
        assert_eq!(
            check_android(&chain, &key, &test.root_der),
            Err(AttestationError::BadSignature)
        );
        assert_eq!(
            check_android(&test.chain[..1], &key, &test.root_der),
            Err(AttestationError::UntrustedRoot)
        );
    }

    #[test]
    fn android_tampered_certificate_is_refused() {
        let (key, test) = android(SecurityLevel::TrustedEnvironment);
        let mut chain = test.chain.clone();
        flip_at(&mut chain[0], &CHALLENGE, 0);
        assert_eq!(
            check_android(&chain, &key, &test.root_der),
            Err(AttestationError::BadSignature)
        );
        // The intermediate's name, signed by the root.
        let mut chain = test.chain.clone();
        flip_at(&mut chain[1], b"Intermediate", 0);
        assert_eq!(
            check_android(&chain, &key, &test.root_der),
            Err(AttestationError::BadSignature)
        );
    }

    #[test]
    fn android_outside_validity_is_refused() {
        let (key, test) = android(SecurityLevel::TrustedEnvironment);
        let policy = android_policy(&test.root_der);
        let evidence = android_evidence(&test.chain);
        for now in [1_500_000_000, 2_300_000_000, u64::MAX] {
            let result = verify(&evidence, &key, &CHALLENGE, &policy, now);
            assert_eq!(result, Err(AttestationError::NotValidAt), "at {now}");
        }
    }

    #[test]
    fn android_other_key_is_refused() {
        let (_, test) = android(SecurityLevel::TrustedEnvironment);
        assert_eq!(
            check_android(&test.chain, &device_key(), &test.root_der),
            Err(AttestationError::KeyMismatch)
        );
    }

    #[test]
    fn android_wrong_challenge_is_refused() {
        let (key, test) = android(SecurityLevel::TrustedEnvironment);
        let policy = android_policy(&test.root_der);
        let result = verify(&android_evidence(&test.chain), &key, &[0; 32], &policy, NOW);
        assert_eq!(result, Err(AttestationError::ChallengeMismatch));
    }

    #[test]
    fn android_package_not_allowed_is_refused() {
        let (key, test) = android(SecurityLevel::StrongBox);
        let policy = AttestationPolicy {
            android_packages: vec!["com.example.bank2".into()],
            ..android_policy(&test.root_der)
        };
        let result = verify(&android_evidence(&test.chain), &key, &CHALLENGE, &policy, NOW);
        assert_eq!(result, Err(AttestationError::AppMismatch));
    }

    #[test]
    fn android_key_signed_by_an_attested_app_key_is_refused() {
        // An app's genuinely attested key signs a certificate of its own for another key.
        let app_key = testing::key_pair();
        let test = testing::android_chain(
            SecurityLevel::TrustedEnvironment,
            &CHALLENGE,
            app_key.public_key_raw(),
            PACKAGE,
        );
        let issuer = rcgen::Issuer::new(rcgen::CertificateParams::default(), app_key);
        let key = device_key();
        let forged = testing::leaf(
            &testing::ExternalKey(&key),
            &issuer,
            testing::KEY_DESCRIPTION,
            testing::key_description(SecurityLevel::StrongBox, &CHALLENGE, PACKAGE),
        );
        let mut chain = vec![forged];
        chain.extend(test.chain.iter().cloned());
        assert_eq!(
            check_android(&chain, &key, &test.root_der),
            Err(Malformed("key description in an issuing certificate"))
        );
    }

    #[test]
    fn android_bad_chains_are_refused() {
        let (key, test) = android(SecurityLevel::TrustedEnvironment);
        let root = &test.root_der;
        assert!(matches!(check_android(&[], &key, root), Err(Malformed(_))));
        let long: Vec<Vec<u8>> = std::iter::repeat_n(test.chain[0].clone(), 11).collect();
        assert!(matches!(check_android(&long, &key, root), Err(Malformed(_))));
        let mut trailing = test.chain.clone();
        trailing[0].push(0);
        assert!(matches!(check_android(&trailing, &key, root), Err(Malformed(_))));
        let mut huge = test.chain.clone();
        huge[1] = vec![0x30; MAX_CERTIFICATE + 1];
        assert!(matches!(check_android(&huge, &key, root), Err(Malformed(_))));
    }

    #[test]
    fn android_every_truncation_is_refused() {
        let (key, test) = android(SecurityLevel::TrustedEnvironment);
        for i in 0..test.chain.len() {
            for len in 0..test.chain[i].len() {
                let mut chain = test.chain.clone();
                chain[i].truncate(len);
                assert!(check_android(&chain, &key, &test.root_der).is_err(), "cert {i} at {len}");
            }
        }
    }

    #[test]
    fn key_description_parser_is_total() {
        let description = testing::key_description(SecurityLevel::StrongBox, &CHALLENGE, PACKAGE);
        let parsed = key_description(&description).unwrap();
        assert_eq!(parsed.challenge, CHALLENGE);
        let names = package_names([parsed.software, parsed.hardware]).unwrap().unwrap();
        assert_eq!(names, [PACKAGE.as_bytes()]);
        for len in 0..description.len() {
            assert!(key_description(&description[..len]).is_err(), "at {len}");
        }
        // Any byte changed: an error or a result, never a panic.
        for i in 0..description.len() {
            for bit in 0..8 {
                let mut changed = description.clone();
                changed[i] ^= 1 << bit;
                if let Ok(d) = key_description(&changed) {
                    let _ = package_names([d.software, d.hardware]);
                }
            }
        }
        // The application id is the list's last item: a cut list has none, or is malformed.
        for len in 0..parsed.software.len() {
            let names = package_names([&parsed.software[..len], &[]]);
            assert!(!matches!(names, Ok(Some(_))), "at {len}");
        }
    }

    #[test]
    fn der_reader_bounds() {
        // High tag numbers, long lengths, indefinite lengths, overlong tags.
        let t = Der(&[0xBF, 0x85, 0x45, 0x01, 0x00]).next().unwrap();
        assert_eq!(t, ((2, true, 709), &[0u8][..]));
        let t = Der(&[0x04, 0x81, 0x01, 0x07]).next().unwrap();
        assert_eq!(t, ((0, false, 4), &[7u8][..]));
        for bad in [
            &[0x30, 0x80, 0x00, 0x00][..],
            &[0x04, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0],
            &[0x04, 0x82, 0xFF, 0xFF],
            &[0xBF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00],
            &[0xBF, 0x85],
            &[0x04],
            &[],
        ] {
            assert!(Der(bad).next().is_err(), "{bad:02x?}");
        }
    }

    #[test]
    fn apple_production_is_accepted() {
        let (key, test) = apple(false);
        let attested = check_apple(&test, &key, false).unwrap();
        assert_eq!(attested.kind, EvidenceKind::AppleAppAttest);
        assert_eq!(attested.level, SecurityLevel::SecureEnclave);
        // Also when development is allowed, and without the key id.
        assert!(check_apple(&test, &key, true).is_ok());
        let evidence = apple_evidence(&test.object, None);
        let policy = apple_policy(&test.root_der, false);
        assert!(verify(&evidence, &key, &CHALLENGE, &policy, NOW).is_ok());
    }

    #[test]
    fn apple_development_only_when_allowed() {
        let (key, test) = apple(true);
        assert_eq!(check_apple(&test, &key, true).unwrap().level, SecurityLevel::SecureEnclave);
        assert_eq!(check_apple(&test, &key, false), Err(AttestationError::DevelopmentEnvironment));
    }

    #[test]
    fn apple_wrong_app_id_is_refused() {
        let key = device_key();
        let test = testing::app_attest(&CHALLENGE, &key, "ABCDE12345.com.example.evil", false);
        assert_eq!(check_apple(&test, &key, false), Err(AttestationError::AppMismatch));
        let (key, test) = apple(false);
        let evidence = apple_evidence(&test.object, Some(&test.key_id));
        let policy =
            AttestationPolicy { apple_app_ids: vec![], ..apple_policy(&test.root_der, false) };
        let result = verify(&evidence, &key, &CHALLENGE, &policy, NOW);
        assert_eq!(result, Err(AttestationError::AppMismatch));
    }

    #[test]
    fn apple_used_key_is_refused() {
        let key = device_key();
        let test = testing::app_attest_with_count(&CHALLENGE, &key, APP_ID, false, 1);
        assert_eq!(check_apple(&test, &key, false), Err(AttestationError::CounterNotZero));
    }

    #[test]
    fn apple_wrong_challenge_or_device_key_is_refused() {
        let (key, test) = apple(false);
        let evidence = apple_evidence(&test.object, Some(&test.key_id));
        let policy = apple_policy(&test.root_der, false);
        let result = verify(&evidence, &key, &[1; 32], &policy, NOW);
        assert_eq!(result, Err(AttestationError::ChallengeMismatch));
        let result = verify(&evidence, &device_key(), &CHALLENGE, &policy, NOW);
        assert_eq!(result, Err(AttestationError::ChallengeMismatch));
    }

    #[test]
    fn apple_other_key_id_is_refused() {
        let (key, test) = apple(false);
        let evidence = apple_evidence(&test.object, Some(&[0; 32]));
        let policy = apple_policy(&test.root_der, false);
        let result = verify(&evidence, &key, &CHALLENGE, &policy, NOW);
        assert_eq!(result, Err(AttestationError::KeyIdMismatch));
    }

    #[test]
    fn apple_chain_checks() {
        let (key, test) = apple(false);
        let (_, other) = apple(false);
        let evidence = apple_evidence(&test.object, Some(&test.key_id));
        let result =
            verify(&evidence, &key, &CHALLENGE, &apple_policy(&other.root_der, false), NOW);
        assert_eq!(result, Err(AttestationError::UntrustedRoot));
        let policy = apple_policy(&test.root_der, false);
        let result = verify(&evidence, &key, &CHALLENGE, &policy, 2_300_000_000);
        assert_eq!(result, Err(AttestationError::NotValidAt));
        // A flipped nonce byte in the leaf breaks its signature.
        let mut object = test.object.clone();
        flip_at(&mut object, &[0xA1, 0x22, 0x04, 0x20], 4);
        let evidence = apple_evidence(&object, Some(&test.key_id));
        let result = verify(&evidence, &key, &CHALLENGE, &policy, NOW);
        assert_eq!(result, Err(AttestationError::BadSignature));
    }

    #[test]
    fn apple_every_truncation_is_refused() {
        let (key, test) = apple(false);
        let policy = apple_policy(&test.root_der, false);
        for len in 0..test.object.len() {
            let evidence = apple_evidence(&test.object[..len], Some(&test.key_id));
            assert!(verify(&evidence, &key, &CHALLENGE, &policy, NOW).is_err(), "at {len}");
        }
        let mut longer = test.object.clone();
        longer.push(0);
        let evidence = apple_evidence(&longer, Some(&test.key_id));
        let result = verify(&evidence, &key, &CHALLENGE, &policy, NOW);
        assert_eq!(result, Err(Malformed("bytes after the App Attest object")));
    }

    #[test]
    fn apple_malformed_objects_are_refused() {
        use ciborium::Value;
        let (key, test) = apple(false);
        let policy = apple_policy(&test.root_der, false);
        let check =
            |object: &[u8]| verify(&apple_evidence(object, None), &key, &CHALLENGE, &policy, NOW);
        let text = |s: &str| Value::Text(s.into());
        assert!(matches!(check(&testing::cbor(&Value::Array(vec![]))), Err(Malformed(_))));
        let mut wrong_format: Value = ciborium::de::from_reader(&test.object[..]).unwrap();
        if let Value::Map(entries) = &mut wrong_format {
            entries[0].1 = text("packed");
        }
        assert_eq!(check(&testing::cbor(&wrong_format)), Err(Malformed("App Attest format")));
        let twice = Value::Map(vec![(text("fmt"), text("apple-appattest")); 2]);
        assert_eq!(check(&testing::cbor(&twice)), Err(Malformed("App Attest CBOR")));
        assert!(matches!(check(&vec![0; MAX_OBJECT + 1]), Err(Malformed(_))));
        let none = KeyEvidence { app_attest_object: None, ..apple_evidence(&[], None) };
        let result = verify(&none, &key, &CHALLENGE, &policy, NOW);
        assert_eq!(result, Err(Malformed("App Attest object missing or too large")));
    }

    #[test]
    fn auth_data_parser_is_total() {
        let mut data = [&[0u8; 37][..], &AAGUID_PRODUCTION, &[0, 32], &[9; 32]].concat();
        data[32] = 0x40;
        let parsed = AuthData::parse(&data).unwrap();
        assert_eq!(parsed.credential_id, [9; 32]);
        for len in 0..data.len() {
            assert!(AuthData::parse(&data[..len]).is_err(), "at {len}");
        }
        data[32] = 0x00;
        assert!(AuthData::parse(&data).is_err());
    }

    #[test]
    fn missing_evidence_is_refused() {
        let policy = AttestationPolicy { requirement: Requirement::Require, ..Default::default() };
        let result = verify(&KeyEvidence::default(), &device_key(), &CHALLENGE, &policy, NOW);
        assert_eq!(result, Err(AttestationError::Missing));
        // Even with a device key that is not one.
        let result = verify(&KeyEvidence::default(), &[], &CHALLENGE, &policy, NOW);
        assert_eq!(result, Err(AttestationError::Missing));
    }

    #[test]
    fn bad_device_key_is_refused() {
        let (key, test) = android(SecurityLevel::TrustedEnvironment);
        let mut compressed = key.clone();
        compressed[0] = 0x02;
        for bad in [&key[..64], &compressed[..], &[]] {
            assert!(matches!(check_android(&test.chain, bad, &test.root_der), Err(Malformed(_))));
        }
    }

    #[test]
    fn apply_follows_the_requirement() {
        let ok = || {
            Ok(Attested { kind: EvidenceKind::AppleAppAttest, level: SecurityLevel::SecureEnclave })
        };
        let failed = || Err(AttestationError::UntrustedRoot);
        let with = |requirement| AttestationPolicy { requirement, ..Default::default() };
        assert_eq!(apply(&with(Requirement::Off), ok()), Ok(None));
        assert_eq!(apply(&with(Requirement::Off), failed()), Ok(None));
        assert_eq!(apply(&with(Requirement::Warn), ok()), Ok(ok().ok()));
        assert_eq!(apply(&with(Requirement::Warn), failed()), Ok(None));
        assert_eq!(apply(&with(Requirement::Require), ok()), Ok(ok().ok()));
        assert_eq!(
            apply(&with(Requirement::Require), failed()),
            Err(AttestationError::UntrustedRoot)
        );
        assert_eq!(AttestationPolicy::default().requirement, Requirement::Off);
    }

    #[test]
    fn policy_serializes_in_snake_case() {
        assert_eq!(serde_json::to_string(&Requirement::Require).unwrap(), "\"require\"");
        assert_eq!(
            serde_json::to_string(&SecurityLevel::TrustedEnvironment).unwrap(),
            "\"trusted_environment\""
        );
        let policy: AttestationPolicy =
            serde_json::from_str(r#"{"requirement":"warn","apple_app_ids":["T.b"]}"#).unwrap();
        assert_eq!(policy.requirement, Requirement::Warn);
        assert_eq!(policy.apple_app_ids, ["T.b"]);
        assert!(policy.android_roots.is_empty() && !policy.apple_development);
    }

    #[test]
    fn messages_carry_no_key_material() {
        let errors = [
            AttestationError::Missing,
            Malformed("certificate"),
            AttestationError::InsufficientLevel(SecurityLevel::Software),
        ];
        for e in errors {
            let message = e.to_string();
            assert!(message.len() < 100 && message.is_ascii(), "{message}");
        }
    }
}
