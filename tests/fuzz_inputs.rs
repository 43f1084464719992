//! The fuzz targets' bodies (`fuzz/src/lib.rs`) on stable, over every committed input in
//! `fuzz/inputs/<target>/`: the seeds a fuzzing run starts from, and every input a run
//! found a bug with (kept there as a regression). Each target panics on a bug; the
//! tests below also check that the seeds reach past the parsers' first checks, so the
//! fuzzer starts from inputs that exercise the whole path. Inputs named `regression-*`
//! are the ones that found a bug.

#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::path::PathBuf;

use digital_otp::client::Status;
use digital_otp::crypto::{unhex, unhex_array};
use digital_otp::enrollment::unlock::PendingUnlock;
use digital_otp::enrollment::{
    normalize_phone, Device, PendingRegistration, ProtocolError, RegistrationCode, RejectReason,
    Request,
};
use digital_otp::host::{DeviceKeys, KeyEvidence};
use digital_otp::issuer::model::AuditQuery;
use digital_otp::issuer::Issuer;
use digital_otp::otp::ocra::parse_suite;
use digital_otp::otp::uri::KeyUri;
use digital_otp::otp::Secret;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};

/// The committed inputs of one target, by file name (sorted), at least `min` of them.
fn inputs(target: &str, min: usize) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/inputs").join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("an input file"))
        })
        .collect();
    files.sort();
    assert!(files.len() >= min, "{target}: {} inputs, expected at least {min}", files.len());
    files
}

fn input(target: &str, name: &str) -> Vec<u8> {
    let found = inputs(target, 1).into_iter().find(|(n, _)| n == name);
    found.unwrap_or_else(|| panic!("fuzz/inputs/{target}/{name} is missing")).1
}

/// The app's half of a registration with the targets' code, device and password, its
/// request sent.
fn begin_registration() -> PendingRegistration {
    let code = RegistrationCode::parse(targets::CODE).expect("code");
    let device = Device::new(targets::PHONE, targets::DEVICE_ID).expect("device");
    let password = targets::PASSWORD.as_bytes();
    let mut pending =
        PendingRegistration::start(&code, &device, targets::INSTITUTION, password).expect("start");
    let key = unhex_array(targets::SIGNING_KEY_PUBLIC).expect("the public key");
    pending.request(key, KeyEvidence::default()).expect("the request");
    pending
}

/// The app's half of an unlock of the `stored` target's credential, and its unlock key.
fn begin_unlock() -> (PendingUnlock, [u8; 32]) {
    let password = targets::PASSWORD.as_bytes();
    let time_ms = targets::NOW * 1000;
    let (pending, _) = PendingUnlock::start(
        targets::INSTITUTION,
        "MOTP-0000000001",
        password,
        None,
        time_ms,
        None,
    )
    .expect("start");
    (pending, unhex_array(targets::UNLOCK_KEY).expect("the unlock key"))
}

/// The newest audit entry of `action`: its outcome and detail.
fn last_audit(issuer: &Issuer, action: &str) -> (String, String) {
    let query = AuditQuery { action: Some(action.into()), ..Default::default() };
    let entries = issuer.audit(&query).expect("the audit log");
    let e = entries.first().unwrap_or_else(|| panic!("no {action} in the audit log"));
    (e.outcome.clone(), e.detail.clone())
}

fn kind(message: &[u8]) -> (String, String) {
    let v: serde_json::Value = serde_json::from_slice(message).expect("a JSON message");
    (v["type"].as_str().unwrap_or_default().into(), v["error"].as_str().unwrap_or_default().into())
}

#[test]
fn every_committed_input_passes_its_target() {
    /// A target's name, its body, and how many inputs it has at least.
    type Target = (&'static str, fn(&[u8]), usize);
    let targets: [Target; 6] = [
        ("request", targets::request, 1),
        ("issuer", targets::issuer, 5),
        ("response", targets::response, 4),
        ("stored", targets::stored, 5),
        ("text", targets::text, 2),
        ("ocra", targets::ocra, 5),
    ];
    for (target, run, min) in targets {
        for (_name, data) in inputs(target, min) {
            run(&data);
        }
    }
}

#[test]
fn the_fuzz_registration_code_and_device_are_valid() {
    assert!(RegistrationCode::parse(targets::CODE).is_ok());
    assert!(Device::new(targets::PHONE, targets::DEVICE_ID).is_ok());
    assert!(digital_otp::client::check_password_policy(targets::PASSWORD).is_ok());
    // The targets' device key is the fixed one, whose public key the seeds carry; it
    // signs only under an alias it created.
    let keys = targets::FixedKeys::default();
    let key = keys.create_key("k".into(), vec![]).expect("a fixed key");
    assert_eq!(key.public_key, unhex(targets::SIGNING_KEY_PUBLIC).expect("hex"));
    let signature = keys.sign("k".into(), b"message".to_vec()).expect("a signature");
    let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &key.public_key);
    assert!(public.verify(b"message", &signature).is_ok());
    assert!(keys.sign("other".into(), b"message".to_vec()).is_err());
    keys.delete_key("k".into()).expect("delete");
    assert!(keys.sign("k".into(), b"message".to_vec()).is_err());
}

#[test]
fn the_request_seed_is_a_valid_request() {
    let parsed = Request::parse(&input("request", "valid")).expect("the seed parses");
    assert_eq!(Request::parse(&parsed.encode()), Ok(parsed));
}

#[test]
fn the_response_seeds_reach_the_rejection_and_the_key_confirmations() {
    // Registration: an error the app reports as such, and a well-formed response to
    // another registration that gets as far as the issuer's key confirmation.
    let rejected = begin_registration().answer(&input("response", "rejected")).map(|_| ());
    assert_eq!(rejected, Err(ProtocolError::Rejected(RejectReason::DeviceNotTrusted)));
    let other = begin_registration().answer(&input("response", "valid-for-another-registration"));
    assert_eq!(other.map(|_| ()), Err(ProtocolError::Confirmation));
    // Unlock: an unauthenticated refusal, reported; and a well-formed evaluation answering
    // another request, refused at its MAC.
    let (pending, key) = begin_unlock();
    let refused = pending.answer(&key, &input("response", "unlock-refused")).map(|_| ());
    assert_eq!(refused, Err(ProtocolError::Rejected(RejectReason::NotUsable)));
    let other = pending.answer(&key, &input("response", "unlock-evaluation-for-another-request"));
    assert_eq!(other.map(|_| ()), Err(ProtocolError::Confirmation));
}

#[test]
fn the_stored_seeds_are_a_readable_store() {
    for name in
        ["device-key", "index-blob", "index-plaintext", "credential-plaintext", "credential-blob"]
    {
        let (client, device) =
            targets::stored_client(&input("stored", name)).expect("a non-empty seed");
        let credentials = client.credentials(&device).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(credentials.len(), 1, "{name}");
        assert_eq!(credentials[0].serial_number, "MOTP-0000000001", "{name}");
        assert_eq!(credentials[0].status, Status::Pending, "{name}");
        assert_eq!(credentials[0].attempts_remaining, 3, "{name}");
        // Usable as far as the app goes without the bank: an unlock request.
        let request = client.begin_login_code(targets::INSTITUTION, targets::PASSWORD, &device);
        assert!(request.is_ok(), "{name}: {request:?}");
    }
}

#[test]
fn the_text_seeds_parse() {
    let lines = String::from_utf8(input("text", "lines")).expect("UTF-8");
    let lines: Vec<&str> = lines.lines().collect();
    assert!(RegistrationCode::parse(lines[0]).is_ok());
    assert_eq!(normalize_phone(lines[1]).as_deref(), normalize_phone(lines[2]).as_deref());
    assert!(normalize_phone(lines[1]).is_ok());
    assert!(parse_suite(lines[3]).is_ok());
    assert!(KeyUri::parse(lines[4]).is_ok() && KeyUri::parse(lines[5]).is_ok());
    assert!(Secret::from_base32(lines[6]).is_ok());
}

#[test]
fn the_ocra_seeds_have_valid_suites() {
    for (name, data) in inputs("ocra", 5) {
        if name.starts_with("regression-") {
            continue; // inputs that once found a bug: not valid by design
        }
        let text = String::from_utf8(data).expect("UTF-8");
        let suite = text.lines().next().unwrap_or_default();
        assert!(parse_suite(suite).is_ok(), "{name}: {suite}");
    }
}

#[test]
fn the_issuer_seeds_reach_the_verification_the_code_and_the_evaluation() {
    use digital_otp::issuer::Verdict;
    let (issuer, customer) = targets::registered_issuer();
    let inst = targets::INSTITUTION;
    // The seeds' codes are wrong, but they are checked against the credential (a
    // verdict), not refused before it (an error).
    let seed = input("issuer", "login");
    assert_eq!(seed[0], 1, "the login seed is a login code");
    let code = std::str::from_utf8(&seed[1..]).expect("UTF-8");
    assert_eq!(issuer.verify_login("test", inst, &customer, code), Ok(Verdict::Rejected));
    let seed = input("issuer", "transfer");
    assert_eq!(seed[0], 2, "the transfer seed is a transaction code");
    let text = std::str::from_utf8(&seed[1..]).expect("UTF-8");
    let (code, transfer) = text.split_once('\n').expect("a code, then the transfer");
    let transfer = targets::transaction(transfer);
    assert!(transfer.canonical().is_ok(), "the seed's transfer is valid: {transfer:?}");
    assert_eq!(
        issuer.verify_transaction("test", inst, &customer, code, &transfer),
        Ok(Verdict::Rejected)
    );
    let action = "register_mobile_otp";
    // A request for the customer's phone is answered with the outstanding code (a guess
    // of it, counted), not with a decoy.
    let seed = input("issuer", "request");
    assert_eq!(seed[0], 0, "the request seed is a registration message");
    assert_eq!(kind(&issuer.handle_registration("test", &seed[1..])).0, "response");
    let (outcome, detail) = last_audit(&issuer, action);
    assert_eq!((outcome.as_str(), detail.as_str()), ("ok", "registration attempt 1 of 5 answered"));
    // A confirmation is parsed and looked up (its attempt is another issuer's).
    let seed = input("issuer", "confirmation");
    assert_eq!(seed[0], 0, "the confirmation seed is a registration message");
    let answer = kind(&issuer.handle_registration("test", &seed[1..]));
    assert_eq!(answer, ("error".into(), "refused".into()));
    let (outcome, detail) = last_audit(&issuer, action);
    assert_eq!(
        (outcome.as_str(), detail.as_str()),
        ("rejected", "confirmation of an unknown attempt")
    );
    // An unlock request of the registered credential: its signature verifies, it is
    // fresh, and the password is evaluated.
    let seed = input("issuer", "unlock");
    assert!(seed[0] > 2, "the unlock seed is an unlock request");
    assert_eq!(kind(&issuer.handle_unlock("test", &seed[1..])).0, "evaluation");
    let (outcome, detail) = last_audit(&issuer, "unlock");
    assert_eq!(
        (outcome.as_str(), detail.as_str()),
        ("ok", "evaluation 1; 4 wrong app passwords left")
    );
}
