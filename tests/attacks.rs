//! Each test plays an attacker against the real code paths and asserts that the attack
//! fails (SECURITY.md, "What each attacker gets"):
//!
//! 1. enrollment man in the middle, codes drawn from 10^4 values, searched offline;
//! 2. offline guessing of the app password from a dump of everything the app stores;
//! 3. restoring an earlier copy of the app's store between guesses;
//! 4. probing registration codes with wrong phones and wrong codes;
//! 5. tampering with the issuer's database (a link, an error count, a step, the audit);
//! 6. registering from a device whose key attestation is missing, software-only or
//!    chained to an unknown root, under a policy that requires attestation;
//! 7. a change of password used to get a guess past the count;
//! 8. a stolen copy of the issuer's database searched offline for an outstanding code.
#![cfg(all(feature = "issuer", feature = "file-store", feature = "test-support"))]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use digital_otp::client::{Client, ClientError, MIN_PBKDF2_ITERATIONS};
use digital_otp::enrollment::unlock::{self, Request as UnlockRequest};
use digital_otp::enrollment::{
    self, oprf, pake, Device, Grant, OtpParams, ProtocolError, RegistrationCode, Request,
};
use digital_otp::host::{
    DeviceKey, DeviceKeys, EvidenceKind, FixedClock, HostError, KeyEvidence, SecureStore,
};
use digital_otp::issuer::attestation::{testing, AttestationPolicy, Requirement, SecurityLevel};
use digital_otp::issuer::master_key::MasterKey;
use digital_otp::issuer::model::{AuditQuery, CustomerKind, Residency};
use digital_otp::issuer::sqlite::SqliteStore;
use digital_otp::issuer::store::{IssuerStore, MemoryStore as BankStore};
use digital_otp::issuer::{Fault, Issuer, IssuerConfig, NewCustomer, Verdict};
use digital_otp::storage::{decode_device_key, BlobKind, Sealer, SoftwareKeys};

const T0: u64 = 1_800_000_000;
const BANK: &str = "bank-a";
const PASSWORD: &str = "482915";
const PHONE: &str = "010-1234-5678";

/// A store whose bytes can be copied and put back: what root (or a backup) can do.
#[derive(Default)]
struct Dump(Mutex<HashMap<String, Vec<u8>>>);

impl Dump {
    fn copy(&self) -> HashMap<String, Vec<u8>> {
        self.0.lock().unwrap().clone()
    }
    fn restore(&self, bytes: HashMap<String, Vec<u8>>) {
        *self.0.lock().unwrap() = bytes;
    }
}

impl SecureStore for Dump {
    fn read(&self, key: String) -> Result<Option<Vec<u8>>, HostError> {
        Ok(self.0.lock().unwrap().get(&key).cloned())
    }
    fn write(&self, key: String, value: Vec<u8>) -> Result<(), HostError> {
        self.0.lock().unwrap().insert(key, value);
        Ok(())
    }
    fn delete(&self, key: String) -> Result<(), HostError> {
        self.0.lock().unwrap().remove(&key);
        Ok(())
    }
}

fn customer(id: &str, phone: &str) -> NewCustomer {
    NewCustomer {
        institution_id: BANK.into(),
        customer_id: id.into(),
        name: "홍길동".into(),
        kind: CustomerKind::Individual,
        residency: Residency::Domestic,
        phone_number: phone.into(),
        real_name_number: None,
    }
}

fn bank_over(store: Arc<dyn IssuerStore>, clock: Arc<FixedClock>, config: IssuerConfig) -> Issuer {
    let (key, _) = MasterKey::generate().unwrap();
    let issuer = Issuer::open(store, key, clock, None, config).unwrap();
    issuer.add_institution("branch", BANK, "Bank A").unwrap();
    issuer.register_customer("branch", &customer("kim", PHONE)).unwrap();
    issuer
}

fn bank(clock: Arc<FixedClock>, config: IssuerConfig) -> Issuer {
    bank_over(Arc::new(BankStore::new()), clock, config)
}

fn phone(store: Arc<dyn SecureStore>, keys: Arc<dyn DeviceKeys>, clock: Arc<FixedClock>) -> Client {
    Client::with_iterations(store, keys, clock, MIN_PBKDF2_ITERATIONS)
}

fn device() -> Device {
    Device::new(PHONE, "victim-phone").unwrap()
}

/// A whole registration of `app` with `code`, straight to the bank.
fn register(app: &Client, bank: &Issuer, code: &str) -> Result<(), ClientError> {
    let request = app.begin_registration(BANK, code, device(), PASSWORD)?;
    let confirmation = app.confirm_registration(&bank.handle_registration("app", &request))?;
    app.complete_registration(BANK, &bank.handle_registration("app", &confirmation)).map(|_| ())
}

fn login(app: &Client, bank: &Issuer, password: &str) -> Result<String, ClientError> {
    let request = app.begin_login_code(BANK, password, &device())?;
    app.complete_login_code(&bank.handle_unlock("app", &request)).map(|c| c.code)
}

fn grant() -> Grant {
    Grant {
        serial_number: "BANKA0000000099".into(),
        institution_id: BANK.into(),
        institution_name: "Bank A".into(),
        params: OtpParams::standard().unwrap(),
        valid_until: T0 + 1_000_000,
        issuer_time: T0,
    }
}

// ------------------------------------------------------------------ 1

#[test]
fn enrollment_mitm_with_every_code_of_a_reduced_space_tested_offline_finds_nothing() {
    const SPACE: u64 = 10_000;
    let clock = Arc::new(FixedClock::new(T0));
    let config = IssuerConfig { test_code_space: Some(SPACE), ..Default::default() };
    let bank = bank(clock.clone(), config);
    let code = bank.issue_non_face_to_face("branch", BANK, "kim", "kyc").unwrap();
    let store = Arc::new(Dump::default());
    let victim = phone(store.clone(), Arc::new(SoftwareKeys::new(store.clone())), clock.clone());

    // The attacker relays and records every message of the victim's registration.
    let request = victim.begin_registration(BANK, code.as_str(), device(), PASSWORD).unwrap();
    let response = bank.handle_registration("app", &request);
    let confirmation = victim.confirm_registration(&response).unwrap();
    let outcome = bank.handle_registration("app", &confirmation);
    victim.complete_registration(BANK, &outcome).unwrap();

    // Offline, every candidate code: nothing in the request is derived from the code, and
    // no SPAKE2 key the attacker can compute from a candidate opens the issuer's grant.
    let req = Request::parse(&request).unwrap();
    let text = String::from_utf8_lossy(&request).to_string();
    let mut pake_b = [0u8; pake::MESSAGE_LEN];
    let field = serde_json::from_slice::<serde_json::Value>(&response).unwrap();
    let b = digital_otp::crypto::unhex(field["pake"].as_str().unwrap()).unwrap();
    pake_b.copy_from_slice(&b);
    let mut found = 0;
    for n in 0..SPACE {
        let candidate = RegistrationCode::from_number(n);
        assert!(!text.contains(candidate.as_str()));
        // As the app (side A) and as the issuer (side B), with the candidate.
        let (as_app, _) = pake::Exchange::app(candidate.as_str().as_bytes(), BANK).unwrap();
        let (as_issuer, _) = pake::Exchange::issuer(candidate.as_str().as_bytes(), BANK).unwrap();
        for k in
            [as_app.finish(&pake_b).ok(), as_issuer.finish(&req.pake).ok()].into_iter().flatten()
        {
            if enrollment::testing::opens_grant(&k, &request, &response) {
                found += 1;
            }
        }
    }
    assert_eq!(found, 0, "a candidate code tested offline against the recorded messages");

    // Actively, against the victim's next registration (a new code): a forged response
    // for any candidate fails the app's key confirmation, one candidate per attempt.
    let code = bank.issue_non_face_to_face("branch", BANK, "kim", "kyc-2").unwrap();
    let request = victim.begin_registration(BANK, code.as_str(), device(), PASSWORD).unwrap();
    let req = Request::parse(&request).unwrap();
    let wrong =
        RegistrationCode::from_number((code.as_str()[..11].parse::<u64>().unwrap() + 1) % SPACE);
    let (forged, _) = enrollment::serving::answer(
        &req,
        wrong.as_str().as_bytes(),
        &oprf::new_key_seed().unwrap(),
        &grant(),
        &[0; 16],
    )
    .unwrap();
    assert!(matches!(
        victim.confirm_registration(&forged),
        Err(ClientError::Protocol(ProtocolError::Confirmation))
    ));
    // The attempt is over on the phone: it cannot be fed a second guess.
    assert!(matches!(
        victim.confirm_registration(&forged),
        Err(ClientError::NoPendingRegistration)
    ));

    // Against the bank: the attacker's own registrations with candidate codes are counted;
    // after five the code is void, and then the victim fails visibly (not silently to the
    // attacker's benefit).
    let attacker_store = Arc::new(Dump::default());
    let attacker =
        phone(attacker_store.clone(), Arc::new(SoftwareKeys::new(attacker_store)), clock.clone());
    let right: u64 = code.as_str()[..11].parse().unwrap();
    for n in (0..SPACE).filter(|n| *n != right).take(5) {
        let guess = RegistrationCode::from_number(n);
        assert!(register(&attacker, &bank, guess.as_str()).is_err());
    }
    assert!(matches!(
        register(&victim, &bank, code.as_str()),
        Err(ClientError::Protocol(ProtocolError::Confirmation))
    ));
    // The victim's first credential still works: the attacker never held one.
    assert_eq!(
        bank.verify_login("web", BANK, "kim", &login(&victim, &bank, PASSWORD).unwrap()).unwrap(),
        Verdict::Accepted
    );
}

// ------------------------------------------------------------------ 2

/// The credential record inside a dump (the attacker has the store's device key too).
fn stored_credential(dump: &HashMap<String, Vec<u8>>) -> serde_json::Value {
    let key = decode_device_key(&dump["digital-otp.v1.device-key"]).unwrap();
    let sealer = Sealer::new(&key).unwrap();
    let index = sealer
        .open(BlobKind::Index, "digital-otp.v1.index", &dump["digital-otp.v1.index"])
        .unwrap();
    let index: serde_json::Value = serde_json::from_slice(&index).unwrap();
    let blob_key = index["credentials"][BANK].as_str().unwrap().to_string();
    let plain = sealer.open(BlobKind::Credential, &blob_key, &dump[&blob_key]).unwrap();
    serde_json::from_slice(&plain).unwrap()
}

#[test]
fn a_full_dump_of_the_store_and_its_keys_tells_no_password_candidate_apart() {
    let clock = Arc::new(FixedClock::new(T0));
    let bank = bank(clock.clone(), IssuerConfig::default());
    let code = bank.issue_non_face_to_face("branch", BANK, "kim", "kyc").unwrap();
    let store = Arc::new(Dump::default());
    let victim = phone(store.clone(), Arc::new(SoftwareKeys::new(store.clone())), clock.clone());
    register(&victim, &bank, code.as_str()).unwrap();

    // Everything: the store's blobs, its device key, the (software, so exportable) device
    // signing key, and the credential's unlock answer key, all decrypted.
    let dump = store.copy();
    let record = stored_credential(&dump);
    let unlock_key: [u8; 32] =
        digital_otp::crypto::unhex_array(record["unlock_key"].as_str().unwrap()).unwrap();
    assert!(!dump.values().any(|v| v.windows(6).any(|w| w == PASSWORD.as_bytes())));

    // The attacker runs the real app code on a copy, offline, answering its unlock
    // requests itself (it can forge the answers' MAC: it holds the key). Without the
    // bank's OPRF key its answers come from a key of its own: no candidate opens the
    // seed, the right one included, so none is told apart.
    let mut candidates: Vec<String> = (100_000..100_200).map(|n| n.to_string()).collect();
    candidates.push(PASSWORD.into());
    let copy = Arc::new(Dump::default());
    let attacker_key = oprf::new_key_seed().unwrap();
    let mut outcomes = HashMap::new();
    for candidate in &candidates {
        copy.restore(dump.clone());
        let app = phone(copy.clone(), Arc::new(SoftwareKeys::new(copy.clone())), clock.clone());
        let request = app.begin_login_code(BANK, candidate, &device()).unwrap();
        let parsed = UnlockRequest::parse(&request).unwrap();
        let z = oprf::evaluate(&attacker_key, &parsed.blinded, "blinded").unwrap();
        let answer = unlock::evaluated(&unlock_key, &parsed, 1, &z, None, 4, T0);
        let result = app.complete_login_code(&answer);
        *outcomes.entry(format!("{result:?}")).or_insert(0) += 1;
    }
    assert_eq!(outcomes.len(), 1, "every candidate behaves alike: {outcomes:?}");
    assert!(outcomes.contains_key("Err(WrongPassword { remaining: 4 })"), "{outcomes:?}");

    // The victim, online with the bank, is unaffected.
    assert!(login(&victim, &bank, PASSWORD).is_ok());
}

// ------------------------------------------------------------------ 3

#[test]
fn restoring_the_store_between_guesses_never_gives_a_sixth_guess() {
    let clock = Arc::new(FixedClock::new(T0));
    let bank = bank(clock.clone(), IssuerConfig::default());
    let code = bank.issue_non_face_to_face("branch", BANK, "kim", "kyc").unwrap();
    let store = Arc::new(Dump::default());
    let keys: Arc<dyn DeviceKeys> = Arc::new(SoftwareKeys::new(store.clone()));
    let app = phone(store.clone(), keys, clock.clone());
    register(&app, &bank, code.as_str()).unwrap();
    let before = store.copy();

    let mut results = Vec::new();
    for guess in 0..8 {
        store.restore(before.clone());
        clock.advance(1);
        results.push(login(&app, &bank, &format!("{:06}", 100_000 + guess)));
    }
    let wrong =
        results.iter().filter(|r| matches!(r, Err(ClientError::WrongPassword { .. }))).count();
    assert_eq!(wrong, 4, "{results:?}");
    assert_eq!(results[4], Err(ClientError::Locked), "the fifth wrong guess locks: {results:?}");
    assert!(results[5..].iter().all(|r| *r == Err(ClientError::Locked)), "{results:?}");
    // Even with the right password and the earliest copy: the bank refuses.
    store.restore(before);
    clock.advance(1);
    assert_eq!(login(&app, &bank, PASSWORD), Err(ClientError::Locked));
    let evaluations = bank
        .audit(&AuditQuery { action: Some("unlock".into()), ..Default::default() })
        .unwrap()
        .into_iter()
        .filter(|e| e.outcome == "ok")
        .count();
    assert_eq!(evaluations, 5, "the bank evaluated five guesses, no more");
}

/// A change of password asks the bank for two evaluations (the old password and the new
/// one) and counts two guesses. An attacker holding the phone uses it to get a sixth guess:
/// four wrong logins, then a change whose "new" password is a fifth candidate. With one
/// attempt left the bank evaluates the old password alone, so the candidate is never
/// evaluated and the credential locks after five guesses in all.
#[test]
fn a_change_of_password_never_gets_a_guess_past_the_count() {
    let clock = Arc::new(FixedClock::new(T0));
    let bank = bank(clock.clone(), IssuerConfig::default());
    let register_kim = |app: &Client| {
        let code = bank.issue_non_face_to_face("branch", BANK, "kim", "kyc").unwrap();
        register(app, &bank, code.as_str()).unwrap();
    };
    let fresh = || {
        let store = Arc::new(Dump::default());
        phone(store.clone(), Arc::new(SoftwareKeys::new(store)), clock.clone())
    };
    let four_wrong = |app: &Client| {
        for guess in 0..4 {
            clock.advance(1);
            let r = login(app, &bank, &format!("{:06}", 100_000 + guess));
            assert_eq!(r, Err(ClientError::WrongPassword { remaining: 4 - guess }));
        }
    };
    let change = |app: &Client, old: &str, new: &str| {
        clock.advance(1);
        let request = app.begin_change_password(BANK, old, new, &device()).unwrap();
        let answer = bank.handle_unlock("app", &request);
        (app.complete_change_password(&answer), String::from_utf8_lossy(&answer).into_owned())
    };

    // The attacker: the fifth candidate rides as the "new" password.
    let app = fresh();
    register_kim(&app);
    four_wrong(&app);
    let (result, answer) = change(&app, "100004", "100005");
    assert_eq!(result, Err(ClientError::Locked));
    assert!(answer.contains(r#""evaluation_new":null"#), "the candidate was evaluated: {answer}");
    clock.advance(1);
    assert_eq!(login(&app, &bank, PASSWORD), Err(ClientError::Locked));

    // The customer, with the right password and one attempt left, is not locked out: the
    // bank confirms the old password alone and the change goes through when begun again.
    let app = fresh();
    register_kim(&app);
    four_wrong(&app);
    let (result, answer) = change(&app, PASSWORD, "739164");
    assert_eq!(result, Err(ClientError::ChangeAgain));
    assert!(answer.contains(r#""evaluation_new":null"#), "{answer}");
    assert_eq!(change(&app, PASSWORD, "739164").0, Ok(()));
    clock.advance(1);
    assert!(login(&app, &bank, "739164").is_ok());
}

// ------------------------------------------------------------------ 4

#[test]
fn probing_codes_with_wrong_phones_and_wrong_codes_gets_one_answer_and_voids_the_code() {
    let clock = Arc::new(FixedClock::new(T0));
    let bank = bank(clock.clone(), IssuerConfig::default());
    let code = bank.issue_non_face_to_face("branch", BANK, "kim", "kyc").unwrap();
    let probe = |phone_number: &str, code: &str| {
        let store = Arc::new(Dump::default());
        let app = phone(store.clone(), Arc::new(SoftwareKeys::new(store)), clock.clone());
        let request = app
            .begin_registration(
                BANK,
                code,
                Device::new(phone_number, "attacker").unwrap(),
                PASSWORD,
            )
            .unwrap();
        let response = bank.handle_registration("app", &request);
        (response.len(), format!("{:?}", app.confirm_registration(&response)))
    };
    let other = RegistrationCode::from_number(12_345_678_901);
    let answers = [
        probe("010-9999-0000", code.as_str()), // the right code, a wrong phone
        probe("010-9999-0001", code.as_str()),
        probe(PHONE, other.as_str()), // the right phone, a wrong code
    ];
    let expected =
        format!("{:?}", Err::<Vec<u8>, _>(ClientError::Protocol(ProtocolError::Confirmation)));
    for (len, result) in &answers {
        assert_eq!(*len, answers[0].0, "every answer has the same length");
        assert_eq!(*result, expected);
    }
    // Wrong phones never touched the code; four more wrong codes void it.
    for n in 0..4u64 {
        probe(PHONE, RegistrationCode::from_number(n).as_str());
    }
    let store = Arc::new(Dump::default());
    let victim = phone(store.clone(), Arc::new(SoftwareKeys::new(store)), clock.clone());
    assert!(matches!(
        register(&victim, &bank, code.as_str()),
        Err(ClientError::Protocol(ProtocolError::Confirmation))
    ));
    // And the right code with a wrong phone is never the way in either.
    assert_eq!(probe("010-9999-0002", code.as_str()).1, expected);
}

// ------------------------------------------------------------------ 5

fn sql(path: &std::path::Path, statement: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(statement).unwrap();
}

fn json_of(path: &std::path::Path, query: &str) -> serde_json::Value {
    let conn = rusqlite::Connection::open(path).unwrap();
    let text: String = conn.query_row(query, [], |r| r.get(0)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn an_edited_or_moved_row_and_a_rewritten_audit_log_are_detected() {
    let dir = std::env::temp_dir().join(format!("dotp-attack-db-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("issuer.db");
    let clock = Arc::new(FixedClock::new(T0));
    let (key, hex) = MasterKey::generate().unwrap();
    let open = |key: MasterKey| {
        Issuer::open(
            Arc::new(SqliteStore::open(&path).unwrap()),
            key,
            clock.clone(),
            None,
            IssuerConfig::default(),
        )
        .unwrap()
    };
    let bank = open(key);
    bank.add_institution("branch", BANK, "Bank A").unwrap();
    bank.register_customer("branch", &customer("kim", PHONE)).unwrap();
    bank.register_customer("branch", &customer("eve", "010-5555-0000")).unwrap();
    let enroll = |customer: &str, phone_number: &str| {
        let code = bank.issue_non_face_to_face("branch", BANK, customer, "kyc").unwrap();
        let store = Arc::new(Dump::default());
        let app = phone(store.clone(), Arc::new(SoftwareKeys::new(store)), clock.clone());
        let dev = Device::new(phone_number, customer).unwrap();
        let request = app.begin_registration(BANK, code.as_str(), dev.clone(), PASSWORD).unwrap();
        let response = bank.handle_registration("app", &request);
        let confirmation = app.confirm_registration(&response).unwrap_or_else(|e| {
            panic!("{e:?}: {:#?}", bank.audit(&AuditQuery { limit: 5, ..Default::default() }))
        });
        let outcome = bank.handle_registration("app", &confirmation);
        if let Err(e) = app.complete_registration(BANK, &outcome) {
            panic!("{e:?}: {:#?}", bank.audit(&AuditQuery { limit: 5, ..Default::default() }));
        }
        (app, dev)
    };
    let (_victim, _) = enroll("kim", PHONE);
    let (eve, eve_device) = enroll("eve", "010-5555-0000");
    let eve_code = |bank: &Issuer| {
        let request = eve.begin_login_code(BANK, PASSWORD, &eve_device).unwrap();
        eve.complete_login_code(&bank.handle_unlock("app", &request)).unwrap().code
    };
    assert_eq!(bank.verify_audit().unwrap().faults, vec![]);
    // A code of Eve's, made before the tampering (not yet used).
    let code = eve_code(&bank);
    drop(bank);

    // (a) The insider repoints the victim's link at Eve's device, row and column alike.
    let eve_device_id = "DOTP:BANKA0000000002";
    let mut link = json_of(&path, "SELECT data FROM links WHERE customer_id = 'kim'");
    link["device_id"] = eve_device_id.into();
    sql(
        &path,
        &format!(
            "UPDATE links SET device_id = '{eve_device_id}', data = '{}' WHERE customer_id = 'kim'",
            link
        ),
    );
    let bank = open(MasterKey::from_hex(&hex).unwrap());
    assert!(matches!(bank.verify_login("web", BANK, "kim", &code), Err(Fault::Store(_))));
    // Eve's own unlocks read the moved row too, and are refused.
    let request = eve.begin_login_code(BANK, PASSWORD, &eve_device).unwrap();
    assert!(eve.complete_login_code(&bank.handle_unlock("app", &request)).is_err());
    drop(bank);

    // (b) An edited error count, (c) an edited last step, on Eve's device.
    // Each edit on its own: the row is put back before the next one.
    let row = format!("SELECT data FROM devices WHERE device_id = '{eve_device_id}'");
    let original = json_of(&path, &row);
    for (field, value) in
        [("error_count", serde_json::json!(7)), ("last_login_step", serde_json::json!(1))]
    {
        assert_ne!(original[field], value, "{field} must change");
        let mut d = original.clone();
        d[field] = value;
        sql(&path, &format!("UPDATE devices SET data = '{d}' WHERE device_id = '{eve_device_id}'"));
        let bank = open(MasterKey::from_hex(&hex).unwrap());
        assert!(
            matches!(bank.verify_login("web", BANK, "eve", "000000"), Err(Fault::Store(_))),
            "{field}"
        );
        drop(bank);
        sql(
            &path,
            &format!("UPDATE devices SET data = '{original}' WHERE device_id = '{eve_device_id}'"),
        );
    }

    // (d) An audit entry rewritten, (e) one deleted: the chain tells.
    sql(&path, "DROP TRIGGER audit_append_only; UPDATE audit SET detail = 'nothing happened' WHERE id = 3;");
    let bank = open(MasterKey::from_hex(&hex).unwrap());
    let check = bank.verify_audit().unwrap();
    assert!(!check.faults.is_empty());
    assert!(format!("{:?}", check.faults).contains("Broken { id: 3 }"), "{:?}", check.faults);
    drop(bank);
    sql(&path, "DROP TRIGGER audit_retention; DELETE FROM audit WHERE id = 5;");
    let bank = open(MasterKey::from_hex(&hex).unwrap());
    let faults = format!("{:?}", bank.verify_audit().unwrap().faults);
    assert!(faults.contains("Gap { after: 4, id: 6 }"), "{faults}");
    drop(bank);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ------------------------------------------------------------------ 6

/// Makes the evidence of a new key from its public key and the challenge.
type MakeEvidence = Box<dyn Fn(&[u8], &[u8]) -> KeyEvidence + Send + Sync>;

/// Device keys in software that attach evidence made by `evidence` for each new key.
struct Attesting {
    inner: SoftwareKeys,
    evidence: MakeEvidence,
}

impl DeviceKeys for Attesting {
    fn create_key(&self, alias: String, challenge: Vec<u8>) -> Result<DeviceKey, HostError> {
        let key = self.inner.create_key(alias, challenge.clone())?;
        Ok(DeviceKey { evidence: (self.evidence)(&key.public_key, &challenge), ..key })
    }
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, HostError> {
        self.inner.sign(alias, message)
    }
    fn delete_key(&self, alias: String) -> Result<(), HostError> {
        self.inner.delete_key(alias)
    }
}

#[test]
fn a_policy_that_requires_attestation_refuses_missing_software_and_unknown_root_evidence() {
    let clock = Arc::new(FixedClock::new(T0));
    let bank = bank(clock.clone(), IssuerConfig::default());
    let policy = AttestationPolicy {
        requirement: Requirement::Require,
        android_packages: vec!["org.example.bank".into()],
        ..Default::default()
    };
    bank.set_attestation_policy("security-officer", BANK, &policy, false).unwrap();
    let policy_override = Mutex::new(None::<AttestationPolicy>);

    // One registration whose device key comes with a generated Android chain at `level`
    // (None: no evidence at all). Each generated chain ends in a new test root, standing
    // in for Google's; when `trust_root`, the bank's policy trusts that root before it
    // sees the request.
    let attempt = |level: Option<SecurityLevel>, trust_root: bool| {
        let code = bank.issue_non_face_to_face("branch", BANK, "kim", "kyc").unwrap();
        let store = Arc::new(Dump::default());
        let root = Arc::new(Mutex::new(None::<Vec<u8>>));
        let seen = root.clone();
        let keys = Attesting {
            inner: SoftwareKeys::new(store.clone()),
            evidence: Box::new(move |key, challenge| {
                let Some(level) = level else { return KeyEvidence::default() };
                let challenge: &[u8; 32] = challenge.try_into().unwrap();
                let c = testing::android_chain(level, challenge, key, "org.example.bank");
                *seen.lock().unwrap() = Some(c.root_der);
                KeyEvidence {
                    kind: EvidenceKind::AndroidKeyAttestation,
                    certificate_chain: c.chain,
                    ..Default::default()
                }
            }),
        };
        let app = phone(store, Arc::new(keys), clock.clone());
        let request = app.begin_registration(BANK, code.as_str(), device(), PASSWORD)?;
        let roots =
            if trust_root { root.lock().unwrap().clone().into_iter().collect() } else { vec![] };
        let base = policy_override.lock().unwrap().clone().unwrap_or_else(|| policy.clone());
        let trusted = AttestationPolicy { android_roots: roots, ..base };
        bank.set_attestation_policy("security-officer", BANK, &trusted, false).unwrap();
        let confirmation = app.confirm_registration(&bank.handle_registration("app", &request))?;
        app.complete_registration(BANK, &bank.handle_registration("app", &confirmation)).map(|_| ())
    };
    let refused = |r: Result<(), ClientError>| {
        assert!(
            matches!(
                r,
                Err(ClientError::Protocol(ProtocolError::Rejected(
                    enrollment::RejectReason::DeviceNotTrusted
                )))
            ),
            "{r:?}"
        )
    };
    refused(attempt(None, true));
    refused(attempt(Some(SecurityLevel::Software), true));
    refused(attempt(Some(SecurityLevel::TrustedEnvironment), false));
    let query =
        AuditQuery { action: Some("register_mobile_otp".into()), limit: 10, ..Default::default() };
    let registered = || -> Vec<_> {
        bank.audit(&query)
            .unwrap()
            .into_iter()
            .filter(|e| e.detail.contains("pending activation"))
            .collect()
    };
    assert!(registered().is_empty(), "a refused device was registered");
    attempt(Some(SecurityLevel::StrongBox), true).unwrap();
    let last = registered();
    assert_eq!(last.len(), 1);
    assert!(last[0].detail.contains("StrongBox"), "{}", last[0].detail);

    // Under Warn, the software key registers, and the audit says what failed.
    let warn = AttestationPolicy { requirement: Requirement::Warn, ..policy.clone() };
    *policy_override.lock().unwrap() = Some(warn);
    attempt(Some(SecurityLevel::Software), true).unwrap();
    assert_eq!(registered().len(), 2);
    let answered = bank.audit(&query).unwrap();
    assert!(
        answered.iter().any(|e| e.detail.contains("not attested (policy warn)")),
        "{answered:#?}"
    );
}

// ------------------------------------------------------------------ 8

/// A thief of the issuer's database (a copy of its files, not the master key) searches
/// every code of a reduced space offline for the outstanding one: the copy holds neither
/// the code nor any unkeyed digest of it (as the first design's lookup id was), and a
/// guessed master key does not open the copy.
#[test]
fn a_copy_of_the_issuer_database_tests_no_code_offline() {
    const SPACE: u64 = 10_000;
    let dir = std::env::temp_dir().join(format!("dotp-attack-copy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("issuer.db");
    let clock = Arc::new(FixedClock::new(T0));
    let config = IssuerConfig { test_code_space: Some(SPACE), ..Default::default() };
    let bank = bank_over(Arc::new(SqliteStore::open(&path).unwrap()), clock.clone(), config);
    let code = bank.issue_non_face_to_face("branch", BANK, "kim", "kyc").unwrap();
    drop(bank);

    // Every byte of the copy (the database and its write-ahead log).
    let mut copy = Vec::new();
    for name in ["issuer.db", "issuer.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            copy.extend(bytes);
        }
    }
    assert!(copy.len() > 10_000, "the copy holds the database ({} bytes)", copy.len());
    let windows = |n: usize| -> std::collections::HashSet<&[u8]> { copy.windows(n).collect() };
    let (digits, display, raw, hex64) = (windows(12), windows(14), windows(32), windows(64));
    let hex = |d: [u8; 32]| digital_otp::crypto::hex(&d);
    let mut searched = 0;
    for n in 0..SPACE {
        let candidate = RegistrationCode::from_number(n);
        let c = candidate.as_str();
        searched += u64::from(c == code.as_str());
        assert!(!digits.contains(c.as_bytes()), "the code is in the copy in clear");
        assert!(!display.contains(candidate.display().as_bytes()));
        let label: &[u8] = b"digital-otp/v1/code-id";
        for digest in [
            digital_otp::crypto::sha256(c.as_bytes()),
            digital_otp::crypto::sha256_concat(&[label, c.as_bytes()]),
            digital_otp::crypto::sha256_parts(&[label, c.as_bytes()]),
        ] {
            assert!(!hex64.contains(hex(digest).as_bytes()), "an unkeyed digest of a code");
            assert!(!raw.contains(&digest[..]), "a raw digest of a code");
        }
    }
    assert_eq!(searched, 1, "the outstanding code was among the candidates");

    // A master key guessed (here: any other) does not open the copy.
    let (guess, _) = MasterKey::generate().unwrap();
    let copy_store = Arc::new(SqliteStore::open(&path).unwrap());
    let opened = Issuer::open(copy_store, guess, clock, None, IssuerConfig::default());
    assert!(matches!(opened, Err(Fault::MasterKey(_))), "{opened:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
