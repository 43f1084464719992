//! The fuzz targets' bodies: every parser of digital-otp that takes bytes or text from
//! outside the SDK, driven with arbitrary input.
//!
//! Each function must return normally for every input: a panic (or, under the
//! sanitizer, a memory error) is a bug. Where a parser has a printer, the targets also
//! check that what it accepts prints back to something it parses to the same value.
//! `cargo fuzz run <name>` runs one (scripts/fuzz.sh); `tests/fuzz_inputs.rs` runs all of
//! them on stable over the committed inputs in `fuzz/inputs/<name>/`.

use std::sync::{Arc, Mutex};

use digital_otp::client::{Client, CREDENTIAL_PREFIX, DEVICE_KEY, INDEX, MIN_PBKDF2_ITERATIONS};
use digital_otp::crypto::unhex;
use digital_otp::enrollment::{
    normalize_phone, transaction_suite, Device, PendingRegistration, RegistrationCode, Request,
};
use digital_otp::host::{DeviceKey, DeviceKeys, FixedClock, HostError, KeyEvidence, SecureStore};
use digital_otp::issuer::master_key::MasterKey;
use digital_otp::issuer::model::{CustomerKind, Residency};
use digital_otp::issuer::store::MemoryStore as IssuerMemory;
use digital_otp::issuer::{Issuer, IssuerConfig, NewCustomer};
use digital_otp::otp::ocra::{parse_suite, Ocra, OcraInput, Pin};
use digital_otp::otp::uri::KeyUri;
use digital_otp::otp::Secret;
use digital_otp::storage::{encode_device_key, BlobKind, MemoryStore, Sealer};
use digital_otp::transaction::Transaction;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};

/// The registration code, phone number and device of the app-side targets.
pub const CODE: &str = "1234 5678 9018";
/// See [`CODE`].
pub const PHONE: &str = "010-1234-5678";
/// See [`CODE`].
pub const DEVICE_ID: &str = "fuzz-device";
/// The app password of the targets' credentials.
pub const PASSWORD: &str = "482915";
/// The institution of the targets' credentials.
pub const INSTITUTION: &str = "fuzz-bank";
/// The device key of the `stored` target's store.
pub const DEVICE_KEY_BYTES: [u8; 32] = [7; 32];
/// The alias of the device key of the `stored` target's credential.
pub const KEY_ALIAS: &str = "fuzz-key";
/// The one P-256 key (PKCS#8) behind every device key of the targets ([`FixedKeys`]):
/// fixed, so that the committed unlock request seeds carry a signature that verifies.
pub const SIGNING_KEY_PKCS8: &str = concat!(
    "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b02010104204543dcf6364e",
    "cdd247b6be3beda861de05c9ab062c7fd5279680d8d170758f25a1440342000442b932660bf6e32ba090",
    "e4dbd52ed12b2229f84ff8ad72483b14e5313d78b832f975a9454a13b8402e9fd922f3471e0d428387c4",
    "ce3ddb37b39f887e84e6ab0e",
);
/// Its public key (SEC1 uncompressed).
pub const SIGNING_KEY_PUBLIC: &str = concat!(
    "0442b932660bf6e32ba090e4dbd52ed12b2229f84ff8ad72483b14e5313d78b832f975a9454a13b8402e",
    "9fd922f3471e0d428387c4ce3ddb37b39f887e84e6ab0e",
);
/// The unlock key (hex) of the `stored` target's credential.
pub const UNLOCK_KEY: &str = "5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c";
/// The plaintext of the `stored` target's credential where the input does not replace it:
/// a pending credential of [`INSTITUTION`] as the app stores it (record format 2), on
/// [`PHONE`] and [`DEVICE_ID`], its device key [`KEY_ALIAS`].
pub const CREDENTIAL_JSON: &str = concat!(
    "{\"algorithm\":\"SHA256\",\"attempt\":null,\"attempts_remaining\":3,\"clock_offset\":-3",
    ",\"confirm_eval\":2,\"confirm_mac\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8",
    "b9babbbcbdbebf\",\"device_binding\":\"4ecc4673326a5f35e3f4ce8d0f5d0c8436cc6d7ef3ff13fc2",
    "7d6af46811e9477\",\"device_salt\":\"00112233445566778899aabbccddeeff\",\"digits\":6,\"f",
    "ormat\":2,\"institution_id\":\"fuzz-bank\",\"institution_name\":\"Fuzz Bank\",\"kdf_iter",
    "ations\":600000,\"kdf_salt\":\"00112233445566778899aabbccddeeff\",\"key_alias\":\"fuzz-",
    "key\",\"last_request_ms\":1795305500000,\"outcome_key\":null,\"period\":30,\"registered",
    "_at\":1795305600,\"sealed_seed\":\"000102030405060708090a0b0c0d0e0f101112131415161718",
    "191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b\",\"serial_nu",
    "mber\":\"MOTP-0000000001\",\"state\":\"pending\",\"transaction_suite\":\"OCRA-1:HOTP-SHA",
    "256-8:QA64-T1M\",\"unlock_key\":\"5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c",
    "5c5c5c5c5c5c\",\"valid_until\":1900000000}",
);
/// The time of the targets' clocks (2026-11-22).
pub const NOW: u64 = 1_795_305_600;

/// Issuer side: a registration request from the network.
pub fn request(data: &[u8]) {
    if let Ok(parsed) = Request::parse(data) {
        assert_eq!(Request::parse(&parsed.encode()).as_ref(), Ok(&parsed), "request round trip");
    }
}

/// App side: the issuer's answers. Fed both to a registration in progress
/// (`confirm_registration`) and to an unlock in progress (`complete_login_code`). Nobody
/// but the issuer that holds the registration code and answers this request can produce
/// a response the key confirmation accepts, and nobody but the issuer that holds the
/// credential's unlock key can produce an answer to this unlock request, so every
/// fuzzed answer must be refused.
pub fn response(data: &[u8]) {
    let Ok(device) = Device::new(PHONE, DEVICE_ID) else { panic!("the fuzz device") };
    let store = Arc::new(MemoryStore::new());
    let client = client(store, Arc::new(FixedKeys::default()));
    if let Err(e) = client.begin_registration(INSTITUTION, CODE, device.clone(), PASSWORD) {
        panic!("begin a registration: {e}");
    }
    assert!(
        client.confirm_registration(data).is_err(),
        "a forged response completed a registration"
    );

    let Some((client, device)) = stored_client(&[]) else { panic!("the fuzz store") };
    if let Err(e) = client.begin_login_code(INSTITUTION, PASSWORD, &device) {
        panic!("begin an unlock: {e}");
    }
    assert!(client.complete_login_code(data).is_err(), "a forged answer unlocked the seed");
}

/// App side: what the app's `SecureStore` hands back, which may be corrupted or
/// tampered with ([`stored_client`] builds that store). The app then reads it the ways
/// it does before the bank answers (the app password is never tried here: that needs
/// the bank's evaluation, and then 100,000+ PBKDF2 iterations).
pub fn stored(data: &[u8]) {
    let Some((client, device)) = stored_client(data) else { return };
    let _ = client.credentials(&device);
    let _ = client.begin_login_code(INSTITUTION, PASSWORD, &device);
    let _ = client.begin_transaction_code(INSTITUTION, PASSWORD, &device, &transfer());
    let _ = client.begin_change_password(INSTITUTION, PASSWORD, "730264", &device);
    let _ = client.complete_registration(INSTITUTION, b"{}");
    let _ = client.confirm_activation(INSTITUTION);
    let _ = client.credentials(&device);
    let _ = client.cancel(INSTITUTION);
}

/// A client over a store built from `data` (None for empty input), and the device it
/// runs on. The first byte chooses what the rest replaces in an otherwise correct store
/// with one credential of [`INSTITUTION`] ([`CREDENTIAL_JSON`]): 0 the device key blob, 1 the sealed index
/// blob, 2 the index's plaintext (sealed correctly), 3 the credential's plaintext
/// (sealed correctly), anything else the credential's sealed blob. With no input at
/// all, the correct store. The credential's device key [`KEY_ALIAS`] exists.
pub fn stored_client(data: &[u8]) -> Option<(Client, Device)> {
    let (mode, rest) = match data.split_first() {
        Some((&mode, rest)) => (Some(mode), rest),
        None => (None, data),
    };
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
        None => (device_key, index(), credential()),
        Some(0) => (rest.to_vec(), index(), credential()),
        Some(1) => (device_key, rest.to_vec(), credential()),
        Some(2) => (device_key, seal(BlobKind::Index, INDEX, rest), credential()),
        Some(3) => (device_key, index(), seal(BlobKind::Credential, &credential_key, rest)),
        Some(_) => (device_key, index(), rest.to_vec()),
    };
    let store = Arc::new(MemoryStore::new());
    for (key, value) in [(DEVICE_KEY, device_key), (INDEX, index), (&credential_key, credential)] {
        if let Err(e) = store.write(key.to_string(), value) {
            panic!("the memory store refused a write: {e}");
        }
    }
    let keys = Arc::new(FixedKeys::default());
    if let Err(e) = keys.create_key(KEY_ALIAS.into(), Vec::new()) {
        panic!("the fuzz device key: {e}");
    }
    let Ok(device) = Device::new(PHONE, DEVICE_ID) else { panic!("the fuzz device") };
    Some((client(store, keys), device))
}

/// A client at [`NOW`] with the fewest PBKDF2 iterations.
fn client(store: Arc<MemoryStore>, keys: Arc<FixedKeys>) -> Client {
    Client::with_iterations(store, keys, Arc::new(FixedClock::new(NOW)), MIN_PBKDF2_ITERATIONS)
}

/// Device keys whose every key is the fixed [`SIGNING_KEY_PKCS8`] (evidence `None`):
/// signatures the issuer verifies, by the same key in every run. Signing with a key that
/// was not created (or was deleted) fails, as on a platform key store.
#[derive(Default)]
pub struct FixedKeys {
    aliases: Mutex<Vec<String>>,
}

fn key_failure(reason: &str) -> HostError {
    HostError::Failed { reason: format!("fuzz device key: {reason}") }
}

impl FixedKeys {
    fn aliases(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.aliases.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn pair() -> Result<EcdsaKeyPair, HostError> {
        let pkcs8 = unhex(SIGNING_KEY_PKCS8).map_err(|_| key_failure("the PKCS#8 hex"))?;
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8, &SystemRandom::new())
            .map_err(|_| key_failure("the PKCS#8 key"))
    }
}

impl DeviceKeys for FixedKeys {
    fn create_key(&self, alias: String, _challenge: Vec<u8>) -> Result<DeviceKey, HostError> {
        let public_key = Self::pair()?.public_key().as_ref().to_vec();
        let mut aliases = self.aliases();
        if !aliases.contains(&alias) {
            aliases.push(alias);
        }
        Ok(DeviceKey { public_key, evidence: KeyEvidence::default() })
    }
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, HostError> {
        if !self.aliases().contains(&alias) {
            return Err(key_failure("no such key"));
        }
        let signature = Self::pair()?
            .sign(&SystemRandom::new(), &message)
            .map_err(|_| key_failure("signing failed"))?;
        Ok(signature.as_ref().to_vec())
    }
    fn delete_key(&self, alias: String) -> Result<(), HostError> {
        self.aliases().retain(|a| *a != alias);
        Ok(())
    }
}

/// Issuer side, over the network: the first byte chooses what the rest is, for
/// [`registered_issuer`]: 0 a registration message (a request or a confirmation), 1 a
/// login code, 2 a transaction code (first line) with the transfer it is for (the lines
/// after, as in [`text`]), anything else an unlock request. The issuer must answer every
/// message with a message and every code with a verdict or a typed refusal.
pub fn issuer(data: &[u8]) {
    let Some((&op, rest)) = data.split_first() else { return };
    let (issuer, customer) = registered_issuer();
    match op {
        0 => assert!(!issuer.handle_registration("fuzz-app", rest).is_empty(), "no answer"),
        1 => {
            let _ = issuer.verify_login("fuzz-web", INSTITUTION, &customer, &lossy(rest));
        }
        2 => {
            let text = lossy(rest);
            let (code, transfer) = text.split_once('\n').unwrap_or((&text, ""));
            let transfer = transaction(transfer);
            let _ = issuer.verify_transaction("fuzz-web", INSTITUTION, &customer, code, &transfer);
        }
        _ => assert!(!issuer.handle_unlock("fuzz-app", rest).is_empty(), "no answer"),
    }
}

fn lossy(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// An issuer (in memory, time [`NOW`]) with [`INSTITUTION`] and one customer (phone
/// [`PHONE`]) whose app has registered a mobile OTP (pending: the first accepted code
/// activates it; its device key is the one of [`FixedKeys`], the app password [`PASSWORD`]; the
/// app's half of the protocol run here too), and who has been issued a new registration
/// code since (so that a request for [`PHONE`] is answered, not decoyed); and that
/// customer's id.
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
        real_name_number: None,
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
    // The app's half, straight on the protocol (no stored credential: no PBKDF2).
    let keys = FixedKeys::default();
    let registered = (|| {
        let mut pending =
            PendingRegistration::start(&code, &device, INSTITUTION, PASSWORD.as_bytes())
                .map_err(|e| e.to_string())?;
        let key = keys
            .create_key(KEY_ALIAS.into(), pending.attestation_challenge().to_vec())
            .map_err(|e| e.to_string())?;
        let public =
            key.public_key.as_slice().try_into().map_err(|_| "a 65-byte key".to_string())?;
        let request = pending.request(public, key.evidence).map_err(|e| e.to_string())?;
        let answered = pending
            .answer(&issuer.handle_registration("fuzz-app", &request))
            .map_err(|e| e.to_string())?;
        let signature =
            keys.sign(KEY_ALIAS.into(), answered.to_sign.to_vec()).map_err(|e| e.to_string())?;
        let outcome = issuer.handle_registration("fuzz-app", &answered.confirmation(&signature));
        answered.outcome(&outcome).map_err(|e| e.to_string())
    })();
    if let Err(e) = registered {
        panic!("the registration did not complete: {e}");
    }
    if let Err(e) = issuer.issue_non_face_to_face("fuzz-staff", INSTITUTION, &customer, "kyc-2") {
        panic!("issue a second code: {e}");
    }
    (issuer, customer)
}

/// A valid transfer.
fn transfer() -> Transaction {
    Transaction {
        amount_minor: 50_000,
        currency: "KRW".into(),
        payee_account: "1002-333".into(),
        payee_name: "이순신".into(),
        memo: None,
    }
}

/// A transfer from lines: amount (from the first line's bytes), currency, account, name
/// and memo.
pub fn transaction(text: &str) -> Transaction {
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
