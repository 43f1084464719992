//! The enrollment protocol shared by the app and the issuer. Sans-IO: both sides turn
//! bytes into bytes; the bank's app and server carry them over their own channel
//! (with their own TLS and certificate pinning).
//!
//! ```text
//! app                                               issuer
//!  | registration code (12 digits, last = Damm check digit), typed by the customer
//!  | X25519 ephemeral key a, device binding d = H(salt, E.164 phone, device id)
//!  |-- request {code_id = H(code), A, d, H(phone)} ---->|  looks up the code by code_id,
//!  |                                                   |  X25519 ephemeral key b,
//!  |                                                   |  seed = HKDF(salt = H(code), X25519(b, A),
//!  |                                                   |              info = transcript hash)
//!  |<-- response {B, serial, institution, params, ----|  credential kept pending
//!  |     valid_until, issuer_time, confirmation}       |
//!  | seed' = HKDF(salt = H(code), X25519(a, B), transcript hash);
//!  | checks confirmation = HMAC(confirm key, transcript hash): the issuer derived the same seed
//! ```
//! The seed never crosses the wire. The transcript hash covers the code id, both public
//! keys, the device binding and every response field, so a request replayed under
//! another code or device, or a response altered in transit, yields a different seed
//! and a failed confirmation. Login (TOTP) and transaction (OCRA) keys are derived from
//! the seed with HKDF, one per purpose.
//!
//! Messages are JSON objects with `protocol = "digital-otp/registration"`,
//! `version = 1` and `type` = `request`, `response` or `error`; unknown fields are
//! refused; binary fields are lower-case hex.

mod code;
mod device;
mod error;
mod params;

use std::fmt;

use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use ring::hmac;
use ring::rand::SystemRandom;
use zeroize::Zeroizing;

use crate::crypto::{self, hex, hkdf, sha256_parts as sha256};
use crate::json::{Fields, JsonError, Writer};

pub use code::RegistrationCode;
pub use device::{normalize_phone, phone_hint, Device};
pub use error::{
    ProtocolError, RejectReason, CODE_DIGITS, MAX_MESSAGE_BYTES, PROTOCOL, VALIDITY_SECONDS,
    VERSION,
};
pub use params::{
    derive_keys, login_totp, transaction_suite, CredentialKeys, OtpParams,
    DEFAULT_TRANSACTION_SUITE,
};

/// `N` bytes from a hex field of a message.
fn unhex<const N: usize>(text: &str, field: &'static str) -> Result<[u8; N], ProtocolError> {
    crypto::unhex_array(text).map_err(|_| ProtocolError::Field(field))
}

// ---------------------------------------------------------------- messages

const REQUEST_FIELDS: &[&str] =
    &["protocol", "version", "type", "code_id", "app_key", "device_binding", "phone_hint"];
const RESPONSE_FIELDS: &[&str] = &[
    "protocol",
    "version",
    "type",
    "issuer_key",
    "serial_number",
    "institution_id",
    "institution_name",
    "algorithm",
    "digits",
    "period",
    "transaction_suite",
    "valid_until",
    "issuer_time",
    "confirmation",
];
const ERROR_FIELDS: &[&str] = &["protocol", "version", "type", "error"];

/// A message's envelope (`protocol`, `version`, `type`) as a JSON object to add fields to.
fn envelope(kind: &str) -> Writer {
    Writer::new().string("protocol", PROTOCOL).uint("version", VERSION).string("type", kind)
}

fn malformed(e: JsonError) -> ProtocolError {
    ProtocolError::Malformed(e.to_string())
}

/// Parses a message once and checks its envelope; returns its `type` and the other fields.
fn open_envelope(bytes: &[u8]) -> Result<(String, Fields), ProtocolError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(ProtocolError::TooLarge);
    }
    let mut f = Fields::parse(bytes, None).map_err(malformed)?;
    let protocol = f.opt_string("protocol").map_err(malformed)?;
    let version = f.opt_uint::<u32>("version").map_err(malformed)?;
    if protocol.as_deref() != Some(PROTOCOL) || version != Some(VERSION) {
        return Err(ProtocolError::Version);
    }
    let kind = f.opt_string("type").map_err(malformed)?.ok_or(ProtocolError::Field("type"))?;
    Ok((kind, f))
}

/// The fields of a message of one type, all of them known.
fn message(fields: Fields, known: &[&str]) -> Result<Fields, ProtocolError> {
    fields.only(known).map_err(malformed)?;
    Ok(fields)
}

fn check_text(
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

/// A parsed registration request (issuer side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The registration code's id (SHA-256 based); the issuer looks the code up by it.
    pub code_id: [u8; 32],
    /// The app's X25519 public key.
    pub app_key: [u8; 32],
    /// The salted hash of the phone number and device id.
    pub device_binding: [u8; 32],
    /// The unsalted hash of the phone number ([`Device::phone_hint`]).
    pub phone_hint: [u8; 32],
}

impl Request {
    /// Parses a request message.
    pub fn parse(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let (kind, fields) = open_envelope(bytes)?;
        if kind != "request" {
            return Err(ProtocolError::Field("type"));
        }
        let mut m = message(fields, REQUEST_FIELDS)?;
        Ok(Self {
            code_id: unhex(&m.string("code_id").map_err(malformed)?, "code_id")?,
            app_key: unhex(&m.string("app_key").map_err(malformed)?, "app_key")?,
            device_binding: unhex(
                &m.string("device_binding").map_err(malformed)?,
                "device_binding",
            )?,
            phone_hint: unhex(&m.string("phone_hint").map_err(malformed)?, "phone_hint")?,
        })
    }

    /// Encodes the request message.
    pub fn encode(&self) -> Vec<u8> {
        envelope("request")
            .string("code_id", hex(&self.code_id))
            .string("app_key", hex(&self.app_key))
            .string("device_binding", hex(&self.device_binding))
            .string("phone_hint", hex(&self.phone_hint))
            .finish()
    }
}

/// What the issuer tells the app about the new credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The credential's serial number.
    pub serial_number: String,
    /// The institution's id (letters, digits, `-`, `_`, `.`; at most 32).
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
        check_text(&self.serial_number, 32, "serial_number", true)?;
        check_text(&self.institution_id, 32, "institution_id", true)?;
        check_text(&self.institution_name, 100, "institution_name", false)?;
        self.params.check()?;
        if self.valid_until <= self.issuer_time {
            return Err(ProtocolError::Field("valid_until"));
        }
        Ok(())
    }
}

fn transcript(request: &Request, issuer_key: &[u8; 32], g: &Grant) -> [u8; 32] {
    sha256(&[
        b"digital-otp/v1/transcript",
        &request.code_id,
        &request.app_key,
        &request.device_binding,
        &request.phone_hint,
        issuer_key,
        g.serial_number.as_bytes(),
        g.institution_id.as_bytes(),
        g.institution_name.as_bytes(),
        g.params.algorithm.name().as_bytes(),
        &[g.params.digits],
        &g.params.period.to_be_bytes(),
        g.params.transaction_suite.as_str().as_bytes(),
        &g.valid_until.to_be_bytes(),
        &g.issuer_time.to_be_bytes(),
    ])
}

/// The seed and the confirmation key from the key agreement.
fn key_schedule(
    shared: &[u8],
    salt: &[u8; 32],
    transcript: &[u8; 32],
) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
    let mut seed = Zeroizing::new([0u8; 32]);
    let mut confirm = Zeroizing::new([0u8; 32]);
    hkdf(salt, shared, &[b"digital-otp/v1/seed", transcript], &mut *seed);
    hkdf(salt, shared, &[b"digital-otp/v1/confirm", transcript], &mut *confirm);
    (seed, confirm)
}

fn confirmation(confirm_key: &[u8; 32], transcript: &[u8; 32]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, confirm_key);
    let tag = hmac::sign(&key, transcript);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// The app's half of a registration in progress: the ephemeral private key lives only
/// in memory and is consumed when the response arrives.
pub struct PendingRegistration {
    code: RegistrationCode,
    private_key: EphemeralPrivateKey,
    request: Request,
    /// The salt of the device binding.
    pub device_salt: [u8; 16],
}

impl fmt::Debug for PendingRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PendingRegistration(<redacted>)")
    }
}

/// A registration the app completed: the seed and what the issuer granted.
pub struct Completed {
    /// The seed (both sides derived it).
    pub seed: Zeroizing<[u8; 32]>,
    /// The credential's details.
    pub grant: Grant,
    /// The salted device binding sent to the issuer.
    pub device_binding: [u8; 32],
    /// Its salt.
    pub device_salt: [u8; 16],
}

impl fmt::Debug for Completed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completed").field("grant", &self.grant).finish_non_exhaustive()
    }
}

impl PendingRegistration {
    /// Starts a registration: returns the pending state and the request bytes to send.
    pub fn begin(
        code: RegistrationCode,
        device: &Device,
    ) -> Result<(Self, Vec<u8>), ProtocolError> {
        let rng = SystemRandom::new();
        let private_key =
            EphemeralPrivateKey::generate(&X25519, &rng).map_err(|_| ProtocolError::Crypto)?;
        let public = private_key.compute_public_key().map_err(|_| ProtocolError::Crypto)?;
        let mut app_key = [0u8; 32];
        app_key.copy_from_slice(public.as_ref());
        let mut device_salt = [0u8; 16];
        crypto::random(&mut device_salt)?;
        let request = Request {
            code_id: code.id(),
            app_key,
            device_binding: device.binding(&device_salt),
            phone_hint: device.phone_hint(),
        };
        let bytes = request.encode();
        Ok((Self { code, private_key, request, device_salt }, bytes))
    }

    /// Finishes with the issuer's response: checks it, agrees on the seed and checks the
    /// issuer's key confirmation. Consumes the ephemeral key.
    pub fn complete(self, response: &[u8]) -> Result<Completed, ProtocolError> {
        let (kind, fields) = open_envelope(response)?;
        let mut m = match kind.as_str() {
            "response" => message(fields, RESPONSE_FIELDS)?,
            "error" => {
                let name = message(fields, ERROR_FIELDS)?.string("error").map_err(malformed)?;
                let reason = RejectReason::from_name(&name).ok_or(ProtocolError::Field("error"))?;
                return Err(ProtocolError::Rejected(reason));
            }
            _ => return Err(ProtocolError::Field("type")),
        };
        let issuer_key: [u8; 32] =
            unhex(&m.string("issuer_key").map_err(malformed)?, "issuer_key")?;
        let tag: [u8; 32] = unhex(&m.string("confirmation").map_err(malformed)?, "confirmation")?;
        let grant = Grant {
            serial_number: m.string("serial_number").map_err(malformed)?,
            institution_id: m.string("institution_id").map_err(malformed)?,
            institution_name: m.string("institution_name").map_err(malformed)?,
            params: OtpParams {
                algorithm: m
                    .string("algorithm")
                    .map_err(malformed)?
                    .parse()
                    .map_err(|_| ProtocolError::Field("algorithm"))?,
                digits: m.uint("digits").map_err(malformed)?,
                period: m.uint("period").map_err(malformed)?,
                transaction_suite: transaction_suite(
                    &m.string("transaction_suite").map_err(malformed)?,
                )?,
            },
            valid_until: m.uint("valid_until").map_err(malformed)?,
            issuer_time: m.uint("issuer_time").map_err(malformed)?,
        };
        grant.check()?;
        let t = transcript(&self.request, &issuer_key, &grant);
        let salt = self.code.salt();
        let (seed, confirm) = agreement::agree_ephemeral(
            self.private_key,
            &UnparsedPublicKey::new(&X25519, issuer_key),
            |shared| key_schedule(shared, &salt, &t),
        )
        .map_err(|_| ProtocolError::Field("issuer_key"))?;
        let expected = confirmation(&confirm, &t);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_slice(), tag.as_slice())) {
            return Err(ProtocolError::Confirmation);
        }
        Ok(Completed {
            seed,
            grant,
            device_binding: self.request.device_binding,
            device_salt: self.device_salt,
        })
    }
}

/// The issuer's half: given a parsed request whose code the issuer has found by its
/// `code_id`, that code's salt ([`RegistrationCode::salt`], which the issuer stored
/// instead of the code) and the grant, returns the response bytes and the seed.
pub fn accept(
    request: &Request,
    code_salt: &[u8; 32],
    grant: &Grant,
) -> Result<(Vec<u8>, Zeroizing<[u8; 32]>), ProtocolError> {
    grant.check()?;
    let rng = SystemRandom::new();
    let private_key =
        EphemeralPrivateKey::generate(&X25519, &rng).map_err(|_| ProtocolError::Crypto)?;
    let public = private_key.compute_public_key().map_err(|_| ProtocolError::Crypto)?;
    let mut issuer_key = [0u8; 32];
    issuer_key.copy_from_slice(public.as_ref());
    let t = transcript(request, &issuer_key, grant);
    let (seed, confirm) = agreement::agree_ephemeral(
        private_key,
        &UnparsedPublicKey::new(&X25519, request.app_key),
        |shared| key_schedule(shared, code_salt, &t),
    )
    .map_err(|_| ProtocolError::Field("app_key"))?;
    let bytes = envelope("response")
        .string("issuer_key", hex(&issuer_key))
        .string("serial_number", grant.serial_number.as_str())
        .string("institution_id", grant.institution_id.as_str())
        .string("institution_name", grant.institution_name.as_str())
        .string("algorithm", grant.params.algorithm.name())
        .uint("digits", grant.params.digits)
        .uint("period", grant.params.period)
        .string("transaction_suite", grant.params.transaction_suite.to_string())
        .uint("valid_until", grant.valid_until)
        .uint("issuer_time", grant.issuer_time)
        .string("confirmation", hex(&confirmation(&confirm, &t)))
        .finish();
    Ok((bytes, seed))
}

/// An error message the issuer sends instead of a response.
pub fn reject(reason: RejectReason) -> Vec<u8> {
    envelope("error").string("error", reason.name()).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant {
            serial_number: "DOTP-0001".into(),
            institution_id: "bank-a".into(),
            institution_name: "Bank A".into(),
            params: OtpParams::standard().unwrap(),
            valid_until: 2_000_000_000,
            issuer_time: 1_700_000_000,
        }
    }

    fn device() -> Device {
        Device::new("010-1234-5678", "device-1").unwrap()
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
        ] {
            assert_eq!(normalize_phone(raw).unwrap(), want, "{raw}");
        }
        for bad in ["", "1234", "+0 123456789", "010-1234-567x", "+1234567890123456", "+82 10"] {
            assert!(normalize_phone(bad).is_err(), "{bad}");
        }
        assert!(Device::new("010-1234-5678", "").is_err());
        assert!(Device::new("010-1234-5678", "a\nb").is_err());
        assert!(Device::new("010-1234-5678", &"x".repeat(257)).is_err());
    }

    #[test]
    fn both_sides_derive_the_same_seed() {
        let code = RegistrationCode::generate().unwrap();
        let (pending, request) = PendingRegistration::begin(code.clone(), &device()).unwrap();
        let req = Request::parse(&request).unwrap();
        assert_eq!(req.code_id, code.id());
        let (response, issuer_seed) = accept(&req, &code.salt(), &grant()).unwrap();
        let done = pending.complete(&response).unwrap();
        assert_eq!(*done.seed, *issuer_seed);
        assert_eq!(done.grant, grant());
        assert!(device().matches(&done.device_salt, &done.device_binding));
        assert!(!Device::new("010-1234-5679", "device-1")
            .unwrap()
            .matches(&done.device_salt, &done.device_binding));
        // Nothing secret on the wire.
        let wire = String::from_utf8(response).unwrap() + &String::from_utf8(request).unwrap();
        assert!(!wire.contains(&hex(&*issuer_seed)));
        assert!(!wire.contains(code.as_str()));
        assert!(!wire.contains("1234-5678") && !wire.contains("device-1"));
        assert_eq!(req.phone_hint, phone_hint("+821012345678"));
    }

    #[test]
    fn replay_under_another_code_or_device_fails_confirmation() {
        let code = RegistrationCode::generate().unwrap();
        let other = RegistrationCode::generate().unwrap();
        // The issuer sees the request with another code's id (an attacker swapped it).
        let (pending, request) = PendingRegistration::begin(code.clone(), &device()).unwrap();
        let mut req = Request::parse(&request).unwrap();
        req.code_id = other.id();
        let (response, _) = accept(&req, &other.salt(), &grant()).unwrap();
        assert_eq!(pending.complete(&response).unwrap_err(), ProtocolError::Confirmation);
        // Another device binding.
        let (pending, request) = PendingRegistration::begin(code.clone(), &device()).unwrap();
        let mut req = Request::parse(&request).unwrap();
        req.device_binding = [0u8; 32];
        let (response, _) = accept(&req, &code.salt(), &grant()).unwrap();
        assert_eq!(pending.complete(&response).unwrap_err(), ProtocolError::Confirmation);
    }

    #[test]
    fn tampered_responses_are_refused() {
        let code = RegistrationCode::generate().unwrap();
        let (pending, request) = PendingRegistration::begin(code.clone(), &device()).unwrap();
        let (response, _) =
            accept(&Request::parse(&request).unwrap(), &code.salt(), &grant()).unwrap();
        let text = String::from_utf8(response.clone()).unwrap();
        let tampered = text.replace("\"digits\":6", "\"digits\":8");
        assert_ne!(tampered, text);
        // `complete` consumes the pending registration, so each case needs a fresh one;
        // the parse-level checks happen before the key agreement.
        type Case = (Vec<u8>, fn(&ProtocolError) -> bool);
        let cases: Vec<Case> = vec![
            (tampered.into_bytes(), |e| *e == ProtocolError::Confirmation),
            (text.replace("Bank A", "Bank B").into_bytes(), |e| *e == ProtocolError::Confirmation),
            (response[..response.len() - 5].to_vec(), |e| matches!(e, ProtocolError::Malformed(_))),
            (b"not json".to_vec(), |e| matches!(e, ProtocolError::Malformed(_))),
            (text.replace("\"version\":1", "\"version\":2").into_bytes(), |e| {
                *e == ProtocolError::Version
            }),
            (text.replace("\"digits\":6", "\"digits\":6,\"extra\":1").into_bytes(), |e| {
                matches!(e, ProtocolError::Malformed(_))
            }),
            (text.replace("\"digits\":6", "\"digits\":5").into_bytes(), |e| {
                *e == ProtocolError::Field("digits")
            }),
            (text.replace("bank-a", "bank/a").into_bytes(), |e| {
                *e == ProtocolError::Field("institution_id")
            }),
            (vec![b' '; MAX_MESSAGE_BYTES + 1], |e| *e == ProtocolError::TooLarge),
            (reject(RejectReason::ExpiredCode), |e| {
                *e == ProtocolError::Rejected(RejectReason::ExpiredCode)
            }),
        ];
        drop(pending);
        for (bytes, check) in cases {
            let (pending, _) = PendingRegistration::begin(code.clone(), &device()).unwrap();
            let err = pending.complete(&bytes).unwrap_err();
            assert!(check(&err), "{err:?}");
        }
    }

    #[test]
    fn malformed_requests_are_refused() {
        let code = RegistrationCode::generate().unwrap();
        let (_, request) = PendingRegistration::begin(code, &device()).unwrap();
        let text = String::from_utf8(request).unwrap();
        assert!(Request::parse(text.as_bytes()).is_ok());
        for bad in [
            text.replace("\"request\"", "\"response\""),
            text.replace("\"app_key\":\"", "\"app_key\":\"zz"),
            text.replace("\"app_key\":\"", "\"app_key\":\"00"),
            text[..20].to_string(),
            "{}".to_string(),
            "[]".to_string(),
        ] {
            assert!(Request::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_per_purpose_differ() {
        let keys = derive_keys(&[5u8; 32], &OtpParams::standard().unwrap()).unwrap();
        assert_eq!(keys.login.len(), 20);
        assert_eq!(keys.transaction.len(), 32);
        assert_ne!(keys.login.expose(), &keys.transaction.expose()[..20]);
    }
}
