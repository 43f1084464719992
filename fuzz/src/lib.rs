//! The fuzz targets' bodies: every parser of digital-otp that takes bytes or text from
//! outside the SDK, driven with arbitrary input.
//!
//! Each function must return normally for every input: a panic (or, under the
//! sanitizer, a memory error) is a bug. Where a parser has a printer, the targets also
//! check that what it accepts prints back to something it parses to the same value.
//! `cargo fuzz run <name>` runs one (scripts/fuzz.sh); `tests/fuzz_inputs.rs` runs all of
//! them on stable over the committed inputs in `fuzz/inputs/<name>/`.

use std::sync::Arc;

use digital_otp::client::{Client, CREDENTIAL_PREFIX, DEVICE_KEY, INDEX};
use digital_otp::enrollment::{
    normalize_phone, transaction_suite, Device, PendingRegistration, RegistrationCode, Request,
};
use digital_otp::host::FixedClock;
use digital_otp::host::SecureStore;
use digital_otp::issuer::master_key::MasterKey;
use digital_otp::issuer::model::{CustomerKind, Residency};
use digital_otp::issuer::store::MemoryStore as IssuerMemory;
use digital_otp::issuer::{Issuer, IssuerConfig, NewCustomer};
use digital_otp::otp::ocra::{parse_suite, Ocra, OcraInput, Pin};
use digital_otp::otp::uri::KeyUri;
use digital_otp::otp::Secret;
use digital_otp::storage::{encode_device_key, BlobKind, MemoryStore, Sealer};
use digital_otp::transaction::Transaction;

/// The registration code, phone number and device of the app-side targets.
pub const CODE: &str = "1234 5678 9018";
/// See [`CODE`].
pub const PHONE: &str = "010-1234-5678";
/// See [`CODE`].
pub const DEVICE_ID: &str = "fuzz-device";
/// The institution of the stored credential in the `stored` target.
pub const INSTITUTION: &str = "fuzz-bank";
/// The device key of the `stored` target's store.
pub const DEVICE_KEY_BYTES: [u8; 32] = [7; 32];
/// The plaintext of the `stored` target's credential where the input does not replace it:
/// a pending credential of [`INSTITUTION`] as the app stores it.
pub const CREDENTIAL_JSON: &str = concat!(
    "{\"institution_id\":\"fuzz-bank\",\"institution_name\":\"Fuzz Bank\",\"serial_number\":\"MO",
    "TP-0000000001\",\"algorithm\":\"SHA256\",\"digits\":6,\"period\":30,\"transaction_suite\":\"",
    "OCRA-1:HOTP-SHA256-8:QA64-T1M\",\"valid_until\":1900000000,\"clock_offset\":-3,\"regis",
    "tered_at\":1795305600,\"device_salt\":\"00112233445566778899aabbccddeeff\",\"device_bi",
    "nding\":\"4ecc4673326a5f35e3f4ce8d0f5d0c8436cc6d7ef3ff13fc27d6af46811e9477\",\"kdf_s",
    "alt\":\"00112233445566778899aabbccddeeff\",\"kdf_iterations\":600000,\"sealed_seed\":\"0",
    "00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223242526272",
    "8292a2b2c2d2e2f\",\"failed_attempts\":2,\"state\":\"pending\"}",
);
/// The time of the `stored` target's clock (2026-11-22).
pub const NOW: u64 = 1_795_305_600;

/// Issuer side: a registration request from the network.
pub fn request(data: &[u8]) {
    if let Ok(parsed) = Request::parse(data) {
        assert_eq!(Request::parse(&parsed.encode()).as_ref(), Ok(&parsed), "request round trip");
    }
}

/// App side: the issuer's answer to a registration in progress. Nobody but the issuer
/// that holds the registration code and answers this request's key can produce one
/// that completes, so every fuzzed answer must be refused.
pub fn response(data: &[u8]) {
    let Ok(code) = RegistrationCode::parse(CODE) else { panic!("the fuzz code's check digit") };
    let Ok(device) = Device::new(PHONE, DEVICE_ID) else { panic!("the fuzz device") };
    let Ok((pending, _request)) = PendingRegistration::begin(code, &device) else {
        panic!("begin a registration")
    };
    assert!(pending.complete(data).is_err(), "a forged response completed a registration");
}

/// App side: what the app's `SecureStore` hands back, which may be corrupted or
/// tampered with ([`stored_client`] builds that store). The app then reads it the ways
/// it does before asking for the password (never past it: a password check costs
/// 100,000+ PBKDF2 iterations).
pub fn stored(data: &[u8]) {
    let Some((client, device)) = stored_client(data) else { return };
    let _ = client.credentials(&device);
    let _ = client.begin_attempt(INSTITUTION, &device);
    let _ = client.confirm_activation(INSTITUTION);
    let _ = client.credentials(&device);
    let _ = client.cancel(INSTITUTION);
}

/// A client over a store built from `data` (None for empty input), and the device it
/// runs on. The first byte chooses what the rest replaces in an otherwise correct store
/// with one credential of [`INSTITUTION`] ([`CREDENTIAL_JSON`]): 0 the device key blob, 1 the sealed index
/// blob, 2 the index's plaintext (sealed correctly), 3 the credential's plaintext
/// (sealed correctly), anything else the credential's sealed blob.
pub fn stored_client(data: &[u8]) -> Option<(Client, Device)> {
    let (&mode, rest) = data.split_first()?;
    let Ok(sealer) = Sealer::new(&DEVICE_KEY_BYTES) else { panic!("the fuzz sealer") };
    let credential_key = format!("{CREDENTIAL_PREFIX}00");
    let index_plain = format!(r#"{{"credentials":{{"{INSTITUTION}":"{credential_key}"}}}}"#);
    let seal = |kind, name: &str, plain: &[u8]| match sealer.seal(kind, name, plain) {
        Ok(blob) => blob,
        Err(e) => panic!("sealing failed: {e}"),
    };
    let device_key = encode_device_key(&DEVICE_KEY_BYTES).to_vec();
    let index = || seal(BlobKind::Index, INDEX, index_plain.as_bytes());
    let credential = || seal(BlobKind::Credential, &credential_key, CREDENTIAL_JSON.as_bytes());
    let (device_key, index, credential) = match mode {
        0 => (rest.to_vec(), index(), credential()),
        1 => (device_key, rest.to_vec(), credential()),
        2 => (device_key, seal(BlobKind::Index, INDEX, rest), credential()),
        3 => (device_key, index(), seal(BlobKind::Credential, &credential_key, rest)),
        _ => (device_key, index(), rest.to_vec()),
    };
    let store = Arc::new(MemoryStore::new());
    for (key, value) in [(DEVICE_KEY, device_key), (INDEX, index), (&credential_key, credential)] {
        if let Err(e) = store.write(key.to_string(), value) {
            panic!("the memory store refused a write: {e}");
        }
    }
    let Ok(device) = Device::new(PHONE, DEVICE_ID) else { panic!("the fuzz device") };
    Some((Client::new(store, Arc::new(FixedClock::new(NOW))), device))
}

/// Issuer side, over the network: the first byte chooses what the rest is, for an
/// issuer with one customer whose mobile OTP is registered (pending: the first accepted
/// code activates it): 0 a registration request, 1 a login code, anything else a
/// transaction code (first line) with the transfer it is for (the lines after, as in
/// [`text`]). The issuer must answer every request with a message and every code with a
/// verdict or a typed refusal.
pub fn issuer(data: &[u8]) {
    let Some((&op, rest)) = data.split_first() else { return };
    let (issuer, customer) = registered_issuer();
    match op {
        0 => assert!(!issuer.handle_registration("fuzz-app", rest).is_empty(), "no answer"),
        1 => {
            let _ = issuer.verify_login("fuzz-web", INSTITUTION, &customer, &lossy(rest));
        }
        _ => {
            let text = lossy(rest);
            let (code, transfer) = text.split_once('\n').unwrap_or((&text, ""));
            let transfer = transaction(transfer);
            let _ = issuer.verify_transaction("fuzz-web", INSTITUTION, &customer, code, &transfer);
        }
    }
}

fn lossy(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// An issuer (in memory, time [`NOW`]) with [`INSTITUTION`] and one customer whose app
/// has registered (the app's half run here too), and that customer's id.
pub fn registered_issuer() -> (Issuer, String) {
    let customer = "fuzz-customer".to_string();
    let Ok((master, _)) = MasterKey::generate() else { panic!("a master key") };
    let clock = Arc::new(FixedClock::new(NOW));
    let config = IssuerConfig::default();
    let Ok(issuer) = Issuer::open(Arc::new(IssuerMemory::new()), master, clock, None, config)
    else {
        panic!("open the issuer")
    };
    let new = NewCustomer {
        institution_id: INSTITUTION.into(),
        customer_id: customer.clone(),
        name: "Hong Gildong".into(),
        kind: CustomerKind::Individual,
        residency: Residency::Domestic,
        phone_number: PHONE.into(),
    };
    let setup = issuer
        .add_institution("fuzz-staff", INSTITUTION, "Fuzz Bank")
        .and_then(|()| issuer.register_customer("fuzz-staff", &new))
        .and_then(|()| issuer.issue_non_face_to_face("fuzz-staff", INSTITUTION, &customer, "kyc"));
    let code = match setup {
        Ok(code) => code,
        Err(e) => panic!("set up the issuer: {e}"),
    };
    let Ok(device) = Device::new(PHONE, DEVICE_ID) else { panic!("the fuzz device") };
    let Ok((pending, request)) = PendingRegistration::begin(code, &device) else {
        panic!("begin a registration")
    };
    let answer = issuer.handle_registration("fuzz-app", &request);
    if let Err(e) = pending.complete(&answer) {
        panic!("the registration did not complete: {e}");
    }
    (issuer, customer)
}

/// A transfer from lines: amount (from the first line's bytes), currency, account, name
/// and memo.
fn transaction(text: &str) -> Transaction {
    let mut lines = text.split('\n');
    let amount =
        lines.next().map_or(0, |l| l.bytes().fold(0u64, |a, b| a.wrapping_mul(31) ^ u64::from(b)));
    let mut field = || lines.next().unwrap_or_default().to_string();
    Transaction {
        amount_minor: amount,
        currency: field(),
        payee_account: field(),
        payee_name: field(),
        memo: Some(field()).filter(|m| !m.is_empty()),
    }
}

/// Everything a person types or a QR code carries, one line each: a registration
/// code, a phone number, an OCRA suite, an `otpauth://` URI, a base32 secret, an app
/// password, and a transfer (amount from the first line's length and bytes; currency,
/// account, name and memo from the next lines).
pub fn text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for line in text.split('\n') {
        if let Ok(code) = RegistrationCode::parse(line) {
            assert!(RegistrationCode::parse(code.as_str()).is_ok(), "registration code round trip");
        }
        if let Ok(phone) = normalize_phone(line) {
            assert_eq!(normalize_phone(&phone).as_deref(), Ok(phone.as_str()), "phone idempotent");
        }
        if let Ok(suite) = parse_suite(line) {
            assert_eq!(parse_suite(&suite.to_string()), Ok(suite), "suite round trip");
        }
        let _ = transaction_suite(line);
        if let Ok(uri) = KeyUri::parse(line) {
            assert_eq!(KeyUri::parse(&uri.to_uri()), Ok(uri), "otpauth URI round trip");
        }
        if let Ok(secret) = Secret::from_base32(line) {
            let again = Secret::from_base32(&secret.to_base32());
            assert!(again.is_ok_and(|s| s == secret), "base32 round trip");
        }
        let _ = digital_otp::client::check_password_policy(line);
    }
    let transaction = transaction(text);
    if let Ok(canonical) = transaction.canonical() {
        let _ = (canonical.summary(), canonical.question(), canonical.encode());
    }
}

/// The engine's OCRA: a suite (first line) and the inputs a server or the app feeds it
/// (question, PIN, session data; counter and time from the input's length), with
/// generation and verification over them.
pub fn ocra(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let Some(Ok(suite)) = lines.next().map(parse_suite) else { return };
    let question = lines.next().unwrap_or_default();
    let pin = lines.next();
    let session = lines.next().map(str::as_bytes);
    let Ok(key) = Secret::from_bytes(&[0x5a; 32]) else { panic!("the fuzz key") };
    let ocra = Ocra::new(suite, &key);
    let number = data.len() as u64;
    let input = OcraInput {
        counter: Some(number),
        question,
        pin: pin.map(Pin::Plain),
        session,
        time_steps: Some(number.wrapping_mul(0x9e37_79b9)),
    };
    for input in [
        input,
        OcraInput {
            counter: None,
            pin: pin.map(|p| Pin::Hashed(p.as_bytes())),
            time_steps: None,
            ..input
        },
    ] {
        if let Ok(code) = ocra.generate(&input) {
            let verified = ocra.verify(&code.to_string(), &input, Default::default());
            assert!(matches!(verified, Ok(Some(_))), "a generated OCRA response does not verify");
        }
    }
}
