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
use digital_otp::enrollment::{
    normalize_phone, Device, PendingRegistration, ProtocolError, RegistrationCode, RejectReason,
    Request,
};
use digital_otp::otp::ocra::parse_suite;
use digital_otp::otp::uri::KeyUri;
use digital_otp::otp::Secret;

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

/// The app's half of a registration with the targets' code and device.
fn begin_registration() -> PendingRegistration {
    let code = RegistrationCode::parse(targets::CODE).expect("code");
    let device = Device::new(targets::PHONE, targets::DEVICE_ID).expect("device");
    PendingRegistration::begin(code, &device).expect("begin").0
}

#[test]
fn every_committed_input_passes_its_target() {
    /// A target's name, its body, and how many inputs it has at least.
    type Target = (&'static str, fn(&[u8]), usize);
    let targets: [Target; 6] = [
        ("request", targets::request, 1),
        ("issuer", targets::issuer, 3),
        ("response", targets::response, 2),
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
}

#[test]
fn the_request_seed_is_a_valid_request() {
    let parsed = Request::parse(&input("request", "valid")).expect("the seed parses");
    assert_eq!(Request::parse(&parsed.encode()), Ok(parsed));
}

#[test]
fn the_response_seeds_reach_the_rejection_and_the_key_confirmation() {
    let rejected = begin_registration().complete(&input("response", "rejected")).map(|_| ());
    assert_eq!(rejected, Err(ProtocolError::Rejected(RejectReason::ExpiredCode)));
    // A well-formed response, but to another registration: it gets as far as the
    // issuer's key confirmation, which refuses it.
    let other = begin_registration().complete(&input("response", "valid-for-another-registration"));
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
fn the_issuer_target_verifies_against_a_registered_credential() {
    use digital_otp::issuer::Verdict;
    let (issuer, customer) = targets::registered_issuer();
    let inst = targets::INSTITUTION;
    // The seeds' codes are wrong, but they are checked against the credential (a
    // verdict), not refused before it (an error).
    for code in ["123456", "12345678"] {
        assert_eq!(issuer.verify_login("test", inst, &customer, code), Ok(Verdict::Rejected));
    }
    let seed = input("issuer", "request");
    assert_eq!(seed[0], 0, "the request seed is a registration request");
    let answer = issuer.handle_registration("test", &seed[1..]);
    let refused = begin_registration().complete(&answer).map(|_| ());
    assert!(matches!(refused, Err(ProtocolError::Rejected(_))), "{refused:?}");
}
