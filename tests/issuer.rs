//! The issuer: eligibility, registration codes (face to face and not), registration,
//! verification (replay, 10-strike counter shared across institutions, drift), unlocks
//! (the app password's guesses counted, refused and audited at the bank), the service
//! desk, expiry, the audit log, the master key and its rotation, and concurrency. Every
//! scenario runs against both the in-memory and the SQLite store.
#![cfg(all(feature = "issuer", feature = "file-store", feature = "test-support"))]

use std::sync::{Arc, Mutex};

use digital_otp::client::{Client, ClientError, MIN_PBKDF2_ITERATIONS};
use digital_otp::enrollment::{Device, ProtocolError, RegistrationCode, RejectReason};
use digital_otp::host::HostError;
use digital_otp::host::{Clock, FixedClock, SmsGateway};
use digital_otp::issuer::master_key::{MasterKey, MasterKeyError};
use digital_otp::issuer::model::*;
use digital_otp::issuer::policy::*;
use digital_otp::issuer::sqlite::SqliteStore;
use digital_otp::issuer::store::{IssuerStore, MemoryStore};
use digital_otp::issuer::*;
use digital_otp::otp::{Algorithm, Hotp, Secret, Totp};
use digital_otp::storage::{self, SoftwareKeys};
use digital_otp::transaction::Transaction;

const T0: u64 = 1_800_000_000;
const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const PASSWORD: &str = "482915";
const STAFF: &str = "branch-001/emp-42";

#[derive(Default)]
struct Sms {
    sent: Mutex<Vec<(String, String)>>,
}

impl SmsGateway for Sms {
    fn send(&self, phone: String, message: String) -> Result<(), HostError> {
        self.sent.lock().unwrap().push((phone, message));
        Ok(())
    }
}

impl Sms {
    fn last_code(&self) -> String {
        let sent = self.sent.lock().unwrap();
        let msg = &sent.last().unwrap().1;
        msg.split_whitespace()
            .find(|w| {
                w.trim_end_matches('.').len() == 5
                    && w.trim_end_matches('.').chars().all(|c| c.is_ascii_digit())
            })
            .unwrap()
            .trim_end_matches('.')
            .to_string()
    }
}

struct Bank {
    issuer: Issuer,
    clock: Arc<FixedClock>,
    sms: Arc<Sms>,
    store: Arc<dyn IssuerStore>,
}

fn stores() -> Vec<(&'static str, Arc<dyn IssuerStore>)> {
    vec![
        ("memory", Arc::new(MemoryStore::new())),
        ("sqlite", Arc::new(SqliteStore::open_in_memory().unwrap())),
    ]
}

fn bank(store: Arc<dyn IssuerStore>) -> Bank {
    let clock = Arc::new(FixedClock::new(T0));
    let sms = Arc::new(Sms::default());
    let issuer = Issuer::open(
        store.clone(),
        MasterKey::from_hex(KEY).unwrap(),
        clock.clone(),
        Some(sms.clone()),
        IssuerConfig::default(),
    )
    .unwrap();
    issuer.add_institution("admin", "bank-a", "Bank A").unwrap();
    issuer.add_institution("admin", "bank-b", "Bank B").unwrap();
    let b = Bank { issuer, clock, sms, store };
    for (inst, id, kind, residency) in [
        ("bank-a", "kim", CustomerKind::Individual, Residency::Domestic),
        ("bank-b", "kim", CustomerKind::Individual, Residency::Domestic),
        ("bank-a", "acme", CustomerKind::Corporation, Residency::Domestic),
        ("bank-a", "smith", CustomerKind::Individual, Residency::Foreign),
    ] {
        register_customer(&b, inst, id, kind, residency, None).unwrap();
    }
    b
}

fn phone() -> Device {
    Device::new("010-1234-5678", "android-1").unwrap()
}

/// An app (its device keys in software, in its own store) with the fewest PBKDF2
/// iterations.
fn app(clock: Arc<FixedClock>) -> Client {
    let store = Arc::new(storage::MemoryStore::new());
    let keys = Arc::new(SoftwareKeys::new(store.clone()));
    Client::with_iterations(store, keys, clock, MIN_PBKDF2_ITERATIONS)
}

/// A whole registration at `inst` with `code` on `device`: request, response,
/// confirmation, outcome.
fn register(
    b: &Bank,
    app: &Client,
    inst: &str,
    code: &str,
    device: &Device,
) -> Result<String, ClientError> {
    let request = app.begin_registration(inst, code, device.clone(), PASSWORD)?;
    let confirmation = app.confirm_registration(&b.issuer.handle_registration("app", &request))?;
    let outcome = b.issuer.handle_registration("app", &confirmation);
    Ok(app.complete_registration(inst, &outcome)?.serial_number)
}

/// Non-face-to-face code, registration, and the serial.
fn enroll(b: &Bank, app: &Client, inst: &str) -> String {
    let code = b.issuer.issue_non_face_to_face("web", inst, "kim", "kyc-123").unwrap();
    register(b, app, inst, code.as_str(), &phone()).unwrap()
}

/// A login code: the unlock request, the bank's answer, the code.
fn try_login(b: &Bank, app: &Client, inst: &str) -> Result<String, ClientError> {
    try_login_with(b, app, inst, PASSWORD)
}

/// A login code with `password`.
fn try_login_with(
    b: &Bank,
    app: &Client,
    inst: &str,
    password: &str,
) -> Result<String, ClientError> {
    let request = app.begin_login_code(inst, password, &phone())?;
    Ok(app.complete_login_code(&b.issuer.handle_unlock("mobile-app", &request))?.code)
}

/// Whether the bank accepts `code` as kim's login code at `inst`.
fn accepts(b: &Bank, inst: &str, code: &str) -> bool {
    b.issuer.verify_login("web", inst, "kim", code).unwrap() == Verdict::Accepted
}

/// A JSON message's fields.
fn json(message: &[u8]) -> serde_json::Value {
    serde_json::from_slice(message).unwrap()
}

/// A well-formed code other than `code` (its last digit changed): a wrong code, unless it
/// happens to be a neighbouring step's (one chance in a million per step).
fn other_code(code: &str) -> String {
    let (head, last) = code.split_at(code.len() - 1);
    let d = last.parse::<u8>().unwrap();
    format!("{head}{}", (d + 1) % 10)
}

fn login(b: &Bank, app: &Client, inst: &str) -> String {
    try_login(b, app, inst).unwrap()
}

#[test]
fn eligibility() {
    for (name, store) in stores() {
        let b = bank(store);
        for who in ["acme", "smith"] {
            assert!(
                matches!(
                    b.issuer.issue_non_face_to_face("web", "bank-a", who, "kyc"),
                    Err(Fault::NotEligible(_))
                ),
                "{name}"
            );
            assert!(
                matches!(
                    b.issuer.start_face_to_face(STAFF, "bank-a", who),
                    Err(Fault::NotEligible(_))
                ),
                "{name}"
            );
        }
        assert_eq!(
            b.issuer.issue_non_face_to_face("web", "bank-a", "nobody", "kyc").unwrap_err(),
            Fault::UnknownCustomer
        );
        assert!(b.issuer.issue_non_face_to_face("web", "bank-a", "kim", "kyc").is_ok());
        assert_eq!(
            b.issuer
                .register_customer(
                    STAFF,
                    &NewCustomer {
                        institution_id: "bank-x".into(),
                        customer_id: "a".into(),
                        name: "a".into(),
                        kind: CustomerKind::Individual,
                        residency: Residency::Domestic,
                        phone_number: "010-1111-2222".into(),
                        real_name_number: None,
                    }
                )
                .unwrap_err(),
            Fault::UnknownInstitution
        );
    }
}

#[test]
fn face_to_face_issuance() {
    for (_, store) in stores() {
        let b = bank(store);
        b.issuer.start_face_to_face(STAFF, "bank-a", "kim").unwrap();
        assert_eq!(b.sms.sent.lock().unwrap()[0].0, "+821012345678");
        let shown = b.sms.last_code();
        let wrong = if shown == "00000" { "11111" } else { "00000" };
        assert_eq!(
            b.issuer.confirm_face_to_face(STAFF, "bank-a", "kim", wrong).unwrap_err(),
            Fault::WrongVerificationCode { remaining: 4 }
        );
        let code = b.issuer.confirm_face_to_face(STAFF, "bank-a", "kim", &shown).unwrap();
        // Single use: the SMS challenge is gone.
        assert_eq!(
            b.issuer.confirm_face_to_face(STAFF, "bank-a", "kim", &shown).unwrap_err(),
            Fault::NoVerificationPending
        );
        let a = app(b.clock.clone());
        assert!(register(&b, &a, "bank-a", &code.display(), &phone()).is_ok());

        // Five wrong codes void the challenge; an expired one is refused.
        b.issuer.start_face_to_face(STAFF, "bank-a", "kim").unwrap();
        let shown = b.sms.last_code();
        let wrong = if shown == "00000" { "11111" } else { "00000" };
        for remaining in (0..5).rev() {
            assert_eq!(
                b.issuer.confirm_face_to_face(STAFF, "bank-a", "kim", wrong).unwrap_err(),
                Fault::WrongVerificationCode { remaining }
            );
        }
        assert_eq!(
            b.issuer.confirm_face_to_face(STAFF, "bank-a", "kim", &shown).unwrap_err(),
            Fault::NoVerificationPending
        );
        b.issuer.start_face_to_face(STAFF, "bank-a", "kim").unwrap();
        let shown = b.sms.last_code();
        b.clock.advance(301);
        assert_eq!(
            b.issuer.confirm_face_to_face(STAFF, "bank-a", "kim", &shown).unwrap_err(),
            Fault::NoVerificationPending
        );
        // The SMS code never reaches the audit log.
        let log = format!("{:?}", b.issuer.audit(&AuditQuery::default()).unwrap());
        assert!(!log.contains(&shown));
    }
}

#[test]
fn registration_codes_are_single_use_expire_and_void_after_five_wrong_attempts() {
    for (name, store) in stores() {
        let b = bank(store);
        let a = app(b.clock.clone());
        // Every failure of the code is answered alike: the phone sees the bank's key
        // confirmation fail. Only the bank's audit log tells them apart.
        let refused = Err(ClientError::Protocol(ProtocolError::Confirmation));
        let why = |detail: &str| {
            b.issuer
                .audit(&AuditQuery {
                    action: Some("register_mobile_otp".into()),
                    ..Default::default()
                })
                .unwrap()
                .first()
                .is_some_and(|e| e.outcome == "rejected" && e.detail == detail)
        };
        let code = b.issuer.issue_non_face_to_face("web", "bank-a", "kim", "kyc").unwrap();
        let serial = register(&b, &a, "bank-a", code.as_str(), &phone()).unwrap();
        // Used.
        assert_eq!(register(&b, &a, "bank-a", code.as_str(), &phone()), refused, "{name}");
        assert!(why("no outstanding code for this phone"), "{name}");
        // The refused attempt left the credential it would have replaced.
        assert_eq!(a.credentials(&phone()).unwrap()[0].serial_number, serial);
        // Expired.
        let code = b.issuer.issue_non_face_to_face("web", "bank-a", "kim", "kyc").unwrap();
        b.clock.advance(600);
        assert_eq!(register(&b, &a, "bank-a", code.as_str(), &phone()), refused, "{name}");
        assert!(why("expired registration code"), "{name}");
        // Five wrong codes from the customer's phone void the outstanding one.
        let code = b.issuer.issue_non_face_to_face("web", "bank-a", "kim", "kyc").unwrap();
        for _ in 0..5 {
            let wrong = RegistrationCode::generate().unwrap();
            assert_eq!(register(&b, &a, "bank-a", wrong.as_str(), &phone()), refused);
        }
        assert_eq!(register(&b, &a, "bank-a", code.as_str(), &phone()), refused, "{name}");
        assert!(why("registration code void after 5 attempts"), "{name}");
        // Another phone number than the one on record finds no code.
        let code = b.issuer.issue_non_face_to_face("web", "bank-a", "kim", "kyc").unwrap();
        let other = Device::new("010-9999-8888", "android-1").unwrap();
        assert_eq!(register(&b, &a, "bank-a", code.as_str(), &other), refused, "{name}");
        assert!(why("no outstanding code for this phone"), "{name}");
        // Nor does another institution's code, though the customer and phone are the same.
        assert_eq!(register(&b, &a, "bank-b", code.as_str(), &phone()), refused, "{name}");
        // The code itself still works from the right phone.
        assert!(register(&b, &a, "bank-a", code.as_str(), &phone()).is_ok(), "{name}");
        // Malformed registration messages and unlock requests.
        for garbage in [&b"{}"[..], b"", b"\xff\xfe", &[b'x'; 10_000]] {
            let answer: serde_json::Value =
                serde_json::from_slice(&b.issuer.handle_registration("app", garbage)).unwrap();
            assert_eq!(answer["protocol"], "digital-otp/registration");
            assert_eq!(answer["type"], "error");
            assert_eq!(answer["error"], "malformed_request");
            let answer: serde_json::Value =
                serde_json::from_slice(&b.issuer.handle_unlock("app", garbage)).unwrap();
            assert_eq!(answer["protocol"], "digital-otp/unlock");
            assert_eq!(answer["type"], "error");
            assert_eq!(answer["error"], "malformed_request");
        }
    }
}

#[test]
fn login_verification_replay_counter_lock_and_reset() {
    for (name, store) in stores() {
        let b = bank(store);
        let a = app(b.clock.clone());
        let serial = enroll(&b, &a, "bank-a");
        let report = b.issuer.customer_inquiry(STAFF, "bank-a", "kim").unwrap();
        assert_eq!(report.devices[0].links[0].state, LinkState::Pending);
        let code = login(&b, &a, "bank-a");
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "kim", &code).unwrap(),
            Verdict::Accepted,
            "{name}"
        );
        assert_eq!(
            b.issuer.customer_inquiry(STAFF, "bank-a", "kim").unwrap().devices[0].links[0].state,
            LinkState::Active
        );
        // Replay: refused, not counted.
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "kim", &code).unwrap(),
            Verdict::Rejected
        );
        let d = b.issuer.device_inquiry(STAFF, "bank-a", MOBILE_VENDOR, &serial).unwrap();
        assert_eq!(d.error_count, 0);
        assert!(d.history.iter().any(|e| e.detail == "code already used"));
        // Nine wrong codes, then a success resets the count.
        for _ in 0..9 {
            assert_eq!(
                b.issuer.verify_login("web", "bank-a", "kim", "000000").unwrap(),
                Verdict::Rejected
            );
        }
        assert_eq!(
            b.issuer.device_inquiry(STAFF, "bank-a", MOBILE_VENDOR, &serial).unwrap().error_count,
            9
        );
        b.clock.advance(30);
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "kim", &login(&b, &a, "bank-a")).unwrap(),
            Verdict::Accepted
        );
        assert_eq!(
            b.issuer.device_inquiry(STAFF, "bank-a", MOBILE_VENDOR, &serial).unwrap().error_count,
            0
        );
        // Ten wrong codes lock; then even a right code is rejected, and the app gets no new
        // one (the bank refuses to unlock a locked OTP); a branch reset restores.
        b.clock.advance(30);
        let code = login(&b, &a, "bank-a");
        let wrong = other_code(&code);
        for _ in 0..10 {
            b.issuer.verify_login("web", "bank-a", "kim", &wrong).unwrap();
        }
        let d = b.issuer.device_inquiry(STAFF, "bank-a", MOBILE_VENDOR, &serial).unwrap();
        assert_eq!((d.state, d.error_count), (DeviceState::Locked, 10));
        assert_eq!(try_login(&b, &a, "bank-a"), Err(ClientError::NotUsable));
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "kim", &code).unwrap(),
            Verdict::Rejected
        );
        b.issuer.reset_error_count(STAFF, "bank-a", MOBILE_VENDOR, &serial).unwrap();
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "kim", &code).unwrap(),
            Verdict::Accepted
        );
        // Transactions: bound to the transfer.
        let tx = Transaction {
            amount_minor: 50_000,
            currency: "KRW".into(),
            payee_account: "1002-333".into(),
            payee_name: "이순신".into(),
            memo: None,
        };
        let request = a.begin_transaction_code("bank-a", PASSWORD, &phone(), &tx).unwrap();
        let tx_code =
            a.complete_transaction_code(&b.issuer.handle_unlock("mobile-app", &request)).unwrap();
        assert_eq!(tx_code.summary, "Transfer KRW 50,000\nPayee: 이순신\nAccount: 1002333");
        let other = Transaction { amount_minor: 50_001, ..tx.clone() };
        assert_eq!(
            b.issuer.verify_transaction("web", "bank-a", "kim", &tx_code.code, &other).unwrap(),
            Verdict::Rejected
        );
        assert_eq!(
            b.issuer.verify_transaction("web", "bank-a", "kim", &tx_code.code, &tx).unwrap(),
            Verdict::Accepted
        );
        assert_eq!(
            b.issuer.verify_transaction("web", "bank-a", "kim", &tx_code.code, &tx).unwrap(),
            Verdict::Rejected
        );
        // No code ever reaches the audit log.
        let log = format!("{:?}", b.issuer.audit(&AuditQuery::default()).unwrap());
        assert!(!log.contains(&code) && !log.contains(&tx_code.code));
    }
}

#[test]
fn re_registration_revokes_the_previous_device_with_its_reason() {
    for (_, store) in stores() {
        let b = bank(store);
        let old_phone = app(b.clock.clone());
        let old = enroll(&b, &old_phone, "bank-a");
        let new_phone = app(b.clock.clone());
        let new = enroll(&b, &new_phone, "bank-a");
        assert_ne!(old, new);
        let d = b.issuer.device_inquiry(STAFF, "bank-a", MOBILE_VENDOR, &old).unwrap();
        assert_eq!(d.state, DeviceState::Cancelled);
        assert_eq!(d.links[0].state, LinkState::Revoked);
        assert_eq!(d.links[0].ended.as_ref().unwrap().1, "re-registered on a new device");
        // The old phone no longer gets a code: the bank refuses its unlock (authenticated:
        // the credential is known, its registration ended).
        assert_eq!(try_login(&b, &old_phone, "bank-a"), Err(ClientError::NotUsable));
        assert_eq!(
            b.issuer
                .verify_login("web", "bank-a", "kim", &login(&b, &new_phone, "bank-a"))
                .unwrap(),
            Verdict::Accepted
        );
    }
}

#[test]
fn app_passwords_are_counted_audited_and_refused_at_the_bank() {
    for (name, store) in stores() {
        let b = bank(store);
        // The phone's own clock: the app learns the bank's from its answers.
        let phone_clock = Arc::new(FixedClock::new(T0));
        let a = app(phone_clock.clone());
        let serial = enroll(&b, &a, "bank-a");
        let subject = format!("device:{MOBILE_VENDOR}:{serial}");
        let last_unlock = || {
            let query = AuditQuery {
                action: Some("unlock".into()),
                subject: Some(subject.clone()),
                ..Default::default()
            };
            let e = b.issuer.audit(&query).unwrap().into_iter().next().unwrap();
            (e.outcome, e.detail)
        };
        let entry = |outcome: &str, detail: &str| (outcome.to_string(), detail.to_string());

        // A wrong password is evaluated and counted.
        let attempts_left = || {
            let d = b.issuer.device_inquiry(STAFF, "bank-a", MOBILE_VENDOR, &serial).unwrap();
            d.app_password_attempts_left
        };
        assert_eq!(attempts_left(), Some(5), "{name}");
        let wrong = try_login_with(&b, &a, "bank-a", "000001");
        assert_eq!(wrong, Err(ClientError::WrongPassword { remaining: 4 }), "{name}");
        assert_eq!(last_unlock(), entry("ok", "evaluation 1; 4 wrong app passwords left"));
        // The staff see the bank's count.
        assert_eq!(attempts_left(), Some(4), "{name}");

        // The same request again is refused as a replay, and not evaluated.
        let request = a.begin_login_code("bank-a", PASSWORD, &phone()).unwrap();
        let answer = b.issuer.handle_unlock("mobile-app", &request);
        let replayed = json(&b.issuer.handle_unlock("mobile-app", &request));
        assert_eq!((&replayed["type"], &replayed["error"]), (&"error".into(), &"stale".into()));
        assert_eq!(last_unlock(), entry("rejected", "stale or replayed request"));
        let code = a.complete_login_code(&answer).unwrap().code;
        assert!(accepts(&b, "bank-a", &code), "{name}");
        // The right password (and the accepted code) cleared the count.
        let wrong = try_login_with(&b, &a, "bank-a", "000001");
        assert_eq!(wrong, Err(ClientError::WrongPassword { remaining: 4 }), "{name}");
        assert_eq!(last_unlock(), entry("ok", "evaluation 3; 4 wrong app passwords left"));

        // A request whose device signature does not verify is refused before it is
        // counted, without the unlock key's MAC (the sender is not the device).
        let request = a.begin_login_code("bank-a", "000001", &phone()).unwrap();
        let mut fields = json(&request);
        let mut signature = fields["signature"].as_str().unwrap().to_string();
        let last = signature.pop().unwrap();
        signature.push(if last == '0' { '1' } else { '0' });
        fields["signature"] = signature.into();
        let refused = b.issuer.handle_unlock("mobile-app", &serde_json::to_vec(&fields).unwrap());
        let answer = json(&refused);
        assert_eq!(answer["error"], "malformed_request", "{name}");
        assert!(answer["mac"].is_null(), "{name}: {answer}");
        assert_eq!(last_unlock(), entry("rejected", "the device key's signature does not verify"));
        assert_eq!(
            a.complete_login_code(&refused).unwrap_err(),
            ClientError::Protocol(ProtocolError::Rejected(RejectReason::MalformedRequest))
        );
        let wrong = try_login_with(&b, &a, "bank-a", "000001");
        assert_eq!(wrong, Err(ClientError::WrongPassword { remaining: 3 }), "{name}");

        // A phone clock 400 s behind the bank's: refused as stale (not counted), the app
        // learns the bank's time from the refusal, and the next try works.
        b.clock.advance(400);
        assert_eq!(try_login(&b, &a, "bank-a"), Err(ClientError::Stale), "{name}");
        let code = try_login(&b, &a, "bank-a").unwrap();
        assert!(accepts(&b, "bank-a", &code), "{name}");
        // A phone clock that jumps 1,000 s ahead of the bank's (past the 300 s the bank
        // allows): refused once, and the next try works (the refused request's time does
        // not hold the next one back).
        phone_clock.advance(400 + 1_000);
        assert_eq!(try_login(&b, &a, "bank-a"), Err(ClientError::Stale), "{name}");
        // (The next time step: the code of the step just accepted would be a replay.)
        b.clock.advance(30);
        phone_clock.advance(30);
        let code = try_login(&b, &a, "bank-a").unwrap();
        assert!(accepts(&b, "bank-a", &code), "{name}");

        // A device reported lost gets no code (an authenticated refusal); recovered, it does.
        b.issuer.report_accident(STAFF, "bank-a", MOBILE_VENDOR, &serial, Accident::Lost).unwrap();
        assert_eq!(try_login(&b, &a, "bank-a"), Err(ClientError::NotUsable), "{name}");
        assert_eq!(last_unlock(), entry("rejected", "device lost"));
        b.issuer.recover(STAFF, "bank-a", MOBILE_VENDOR, &serial).unwrap();
        assert!(try_login(&b, &a, "bank-a").is_ok(), "{name}");

        // Four wrong passwords, then two more under way at once: the bank evaluates the
        // fifth and refuses the sixth, cancelling the mobile OTP for good.
        for remaining in (2..=4).rev() {
            let wrong = try_login_with(&b, &a, "bank-a", "000001");
            assert_eq!(wrong, Err(ClientError::WrongPassword { remaining }), "{name}");
        }
        let wrong = try_login_with(&b, &a, "bank-a", "000001");
        assert_eq!(wrong, Err(ClientError::WrongPassword { remaining: 1 }), "{name}");
        let fifth = a.begin_login_code("bank-a", "000002", &phone()).unwrap();
        let sixth = a.begin_login_code("bank-a", PASSWORD, &phone()).unwrap();
        let fifth = b.issuer.handle_unlock("mobile-app", &fifth);
        let sixth = b.issuer.handle_unlock("mobile-app", &sixth);
        assert_eq!(json(&fifth)["remaining"], 0, "{name}");
        assert_eq!(json(&sixth)["error"], "locked", "{name}");
        assert_eq!(
            last_unlock(),
            entry("rejected", "app password locked after 5 unconfirmed evaluations")
        );
        let d = b.issuer.device_inquiry(STAFF, "bank-a", MOBILE_VENDOR, &serial).unwrap();
        assert_eq!((d.state, d.links[0].state), (DeviceState::Cancelled, LinkState::Cancelled));
        assert_eq!(d.links[0].ended.as_ref().unwrap().1, "locked after 5 wrong app passwords");
        // The app hears it either way: the seed and its device key are destroyed.
        assert_eq!(a.complete_login_code(&fifth).unwrap_err(), ClientError::Locked, "{name}");
        assert_eq!(a.credentials(&phone()).unwrap()[0].attempts_remaining, 0);
        assert_eq!(try_login(&b, &a, "bank-a"), Err(ClientError::Locked), "{name}");

        // Only a new registration helps.
        let new_serial = enroll(&b, &a, "bank-a");
        assert_ne!(new_serial, serial);
        let code = login(&b, &a, "bank-a");
        assert!(accepts(&b, "bank-a", &code), "{name}");
    }
}

#[test]
fn rotating_the_master_key_keeps_every_credential_code_and_audit_entry() {
    for (name, store) in stores() {
        let b = bank(store.clone());
        let a = app(b.clock.clone());
        let serial = enroll(&b, &a, "bank-a");
        let code = login(&b, &a, "bank-a");
        assert!(accepts(&b, "bank-a", &code), "{name}");
        // An outstanding registration code (found by a keyed lookup of the phone), an
        // answered registration attempt awaiting its confirmation, and an SMS challenge.
        let outstanding = b.issuer.issue_non_face_to_face("web", "bank-b", "kim", "kyc").unwrap();
        let waiting = app(b.clock.clone());
        let request = waiting.begin_registration("bank-b", outstanding.as_str(), phone(), PASSWORD);
        let response = b.issuer.handle_registration("app", &request.unwrap());
        b.issuer.start_face_to_face(STAFF, "bank-a", "kim").unwrap();

        let (new, new_hex) = MasterKey::generate().unwrap();
        let new_id = new.id().to_string();
        assert_ne!(new_id, MasterKey::from_hex(KEY).unwrap().id(), "{name}");
        let report = b.issuer.rotate_master_key("security-officer", new).unwrap();
        assert_eq!(report.key_id, new_id, "{name}");
        assert_eq!(report.sms_dropped, 1, "{name}");
        assert!(report.rows >= 8, "{name}: {report:?}");
        let rotated = b
            .issuer
            .audit(&AuditQuery { action: Some("rotate_master_key".into()), ..Default::default() })
            .unwrap();
        assert_eq!(rotated.len(), 1, "{name}");
        assert_eq!(rotated[0].subject, format!("master-key:{new_id}"));
        assert_eq!(rotated[0].actor, "security-officer");

        // The credential's seed and unlock keys were re-sealed: codes and unlocks go on.
        b.clock.advance(30);
        let code = login(&b, &a, "bank-a");
        assert!(accepts(&b, "bank-a", &code), "{name}");
        // The answered attempt confirms, and the outstanding code is found by the phone.
        let confirmation = waiting.confirm_registration(&response).unwrap();
        let outcome = b.issuer.handle_registration("app", &confirmation);
        assert!(waiting.complete_registration("bank-b", &outcome).is_ok(), "{name}");
        let code = b.issuer.issue_non_face_to_face("web", "bank-b", "kim", "kyc-2").unwrap();
        let c = app(b.clock.clone());
        assert!(register(&b, &c, "bank-b", code.as_str(), &phone()).is_ok(), "{name}");
        // The dropped SMS challenge must be sent again.
        assert_eq!(
            b.issuer.confirm_face_to_face(STAFF, "bank-a", "kim", &b.sms.last_code()).unwrap_err(),
            Fault::NoVerificationPending
        );
        // The audit chain is whole across the rotation.
        let check = b.issuer.verify_audit().unwrap();
        assert_eq!(check.faults, vec![], "{name}");
        assert!(check.entries > 10, "{name}: {check:?}");

        // The database now knows only the new key.
        let open = |key: MasterKey| {
            Issuer::open(store.clone(), key, b.clock.clone(), None, IssuerConfig::default())
        };
        assert_eq!(
            open(MasterKey::from_hex(KEY).unwrap()).unwrap_err(),
            Fault::MasterKey(MasterKeyError::Mismatch),
            "{name}"
        );
        let reopened = open(MasterKey::from_hex(&new_hex).unwrap()).unwrap();
        b.clock.advance(30);
        let request = a.begin_login_code("bank-a", PASSWORD, &phone()).unwrap();
        let code = a.complete_login_code(&reopened.handle_unlock("mobile-app", &request)).unwrap();
        assert_eq!(
            reopened.verify_login("web", "bank-a", "kim", &code.code).unwrap(),
            Verdict::Accepted
        );
        assert_eq!(
            reopened.device_inquiry(STAFF, "bank-a", MOBILE_VENDOR, &serial).unwrap().state,
            DeviceState::Active
        );
        assert_eq!(reopened.verify_audit().unwrap().faults, vec![], "{name}");
    }
}

fn import_token(b: &Bank, serial: &str, moving: Moving) -> Secret {
    let secret = Secret::from_bytes(&[serial.len() as u8; 20]).unwrap();
    b.issuer
        .import_device(
            "ops",
            &ImportDevice {
                vendor_code: "VASCO".into(),
                serial_number: serial.into(),
                secret: secret.clone(),
                algorithm: Algorithm::Sha1,
                digits: 6,
                moving,
                valid_until: T0 + 3 * 365 * 86_400,
            },
        )
        .unwrap();
    secret
}

#[test]
fn other_institution_devices_shared_counter_accidents_and_recovery() {
    for (_, store) in stores() {
        let b = bank(store);
        let secret = import_token(&b, "SN0001", Moving::Totp { period: 30 });
        let totp = Totp::new(&secret, Algorithm::Sha1, 6, 30, 0).unwrap();
        assert_eq!(
            b.issuer
                .import_device(
                    "ops",
                    &ImportDevice {
                        vendor_code: "VASCO".into(),
                        serial_number: "SN0001".into(),
                        secret: secret.clone(),
                        algorithm: Algorithm::Sha1,
                        digits: 6,
                        moving: Moving::Hotp,
                        valid_until: T0 + 10,
                    }
                )
                .unwrap_err(),
            Fault::DeviceExists
        );
        // Issued at bank-a; registered at bank-b by vendor code + serial, with a possession proof.
        b.issuer.register_device(STAFF, "bank-a", "kim", "VASCO", "SN0001", None).unwrap();
        assert_eq!(
            b.issuer
                .register_device(STAFF, "bank-b", "kim", "VASCO", "SN0001", Some("000000"))
                .unwrap_err(),
            Fault::PossessionNotProven
        );
        let now_code = totp.generate_at(b.clock.now_unix_seconds().unwrap()).unwrap().to_string();
        b.issuer
            .register_device(STAFF, "bank-b", "kim", "VASCO", "SN0001", Some(&now_code))
            .unwrap();
        assert_eq!(
            b.issuer.register_device(STAFF, "bank-b", "kim", "VASCO", "SN0001", None).unwrap_err(),
            Fault::AlreadyHasDevice
        );
        assert_eq!(
            b.issuer.register_device(STAFF, "bank-b", "kim", "WRONG", "SN0001", None).unwrap_err(),
            Fault::UnknownDevice
        );
        assert_eq!(
            b.issuer.register_device(STAFF, "bank-b", "kim", "VASCO", "SN9999", None).unwrap_err(),
            Fault::UnknownDevice
        );

        // The error counter is the device's: ten wrong codes at bank-a lock it at bank-b.
        for _ in 0..10 {
            b.issuer.verify_login("web", "bank-a", "kim", "999999").unwrap();
        }
        b.clock.advance(30);
        let code = totp.generate_at(b.clock.now_unix_seconds().unwrap()).unwrap().to_string();
        assert_eq!(
            b.issuer.verify_login("web", "bank-b", "kim", &code).unwrap(),
            Verdict::Rejected
        );
        // Reset at bank-b unlocks it everywhere.
        b.issuer.reset_error_count(STAFF, "bank-b", "VASCO", "SN0001").unwrap();
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "kim", &code).unwrap(),
            Verdict::Accepted
        );

        // Loss reported at bank-a: refused at bank-b; recovery at bank-b: accepted at bank-a.
        b.issuer.report_accident(STAFF, "bank-a", "VASCO", "SN0001", Accident::Lost).unwrap();
        b.clock.advance(30);
        let code = totp.generate_at(b.clock.now_unix_seconds().unwrap()).unwrap().to_string();
        assert_eq!(
            b.issuer.verify_login("web", "bank-b", "kim", &code).unwrap(),
            Verdict::Rejected
        );
        assert_eq!(
            b.issuer.device_inquiry(STAFF, "bank-b", "VASCO", "SN0001").unwrap().state,
            DeviceState::Lost
        );
        assert!(matches!(
            b.issuer.reset_error_count(STAFF, "bank-x", "VASCO", "SN0001"),
            Err(Fault::UnknownInstitution)
        ));
        // Cleared in person at bank-b: still refused until bank-a clears it too (online).
        assert_eq!(b.issuer.recover(STAFF, "bank-b", "VASCO", "SN0001").unwrap(), ["bank-a"]);
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "kim", &code).unwrap(),
            Verdict::Rejected
        );
        let online = Caller::branch("internet-banking").via(DeskChannel::Internet);
        assert!(b.issuer.recover(&online, "bank-a", "VASCO", "SN0001").unwrap().is_empty());
        assert!(matches!(
            b.issuer.recover(STAFF, "bank-b", "VASCO", "SN0001"),
            Err(Fault::InvalidState(_))
        ));
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "kim", &code).unwrap(),
            Verdict::Accepted
        );
        assert!(matches!(
            b.issuer.register_device(STAFF, "bank-a", "acme", "VASCO", "SN0001", None),
            Err(Fault::InvalidState(_))
        ));

        // Inquiry by device lists both institutions, and the history bank-a's staff may
        // see: theirs and the centre's (the reset at bank-b is not theirs); the centre's
        // staff see it all.
        let d = b.issuer.device_inquiry(STAFF, "bank-a", "VASCO", "SN0001").unwrap();
        assert_eq!(
            d.links.iter().map(|l| l.institution_id.as_str()).collect::<Vec<_>>(),
            ["bank-a", "bank-b"]
        );
        for action in [
            "import_device",
            "register_device",
            "report_accident",
            "recover_accident",
            "verify_login",
        ] {
            assert!(d.history.iter().any(|e| e.action == action), "{action}");
        }
        assert!(d.history.iter().all(|e| e.institution_id != "bank-b"));
        let centre = Caller::branch("centre-7").centre();
        let all = b.issuer.device_inquiry(&centre, "bank-a", "VASCO", "SN0001").unwrap();
        assert!(all.history.iter().any(|e| e.action == "reset_error_count"));
        // Cancellation at bank-a leaves bank-b.
        b.issuer.cancel(STAFF, "bank-a", "kim").unwrap();
        b.clock.advance(30);
        let code = totp.generate_at(b.clock.now_unix_seconds().unwrap()).unwrap().to_string();
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "kim", &code).unwrap(),
            Verdict::Rejected
        );
        assert_eq!(
            b.issuer.verify_login("web", "bank-b", "kim", &code).unwrap(),
            Verdict::Accepted
        );
    }
}

#[test]
fn hotp_tokens_and_clock_drift() {
    for (_, store) in stores() {
        let b = bank(store);
        let secret = import_token(&b, "HOTP01", Moving::Hotp);
        b.issuer.register_device(STAFF, "bank-a", "kim", "VASCO", "HOTP01", None).unwrap();
        let hotp = Hotp::new(&secret, Algorithm::Sha1, 6).unwrap();
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "kim", &hotp.generate(3).to_string()).unwrap(),
            Verdict::Accepted
        );
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "kim", &hotp.generate(2).to_string()).unwrap(),
            Verdict::Rejected
        );
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "kim", &hotp.generate(4).to_string()).unwrap(),
            Verdict::Accepted
        );

        // A TOTP token whose clock runs ahead: accepted one step ahead, then the learned
        // drift follows it, bounded to 4 steps.
        let secret = import_token(&b, "TOTP02", Moving::Totp { period: 30 });
        b.issuer.register_device(STAFF, "bank-b", "kim", "VASCO", "TOTP02", None).unwrap();
        let token = Totp::new(&secret, Algorithm::Sha1, 6, 30, 0).unwrap();
        let mut drift = 0u64;
        for _ in 0..8 {
            b.clock.advance(30);
            drift += 1;
            let now = b.clock.now_unix_seconds().unwrap();
            let step = token.step_at(now).unwrap() + drift;
            let verdict = b
                .issuer
                .verify_login("web", "bank-b", "kim", &token.generate_step(step).to_string())
                .unwrap();
            // Drift up to the bound (4) plus the window (1) is followed; beyond, refused.
            assert_eq!(
                verdict,
                if drift <= 5 { Verdict::Accepted } else { Verdict::Rejected },
                "drift {drift}"
            );
        }
    }
}

#[test]
fn expiry_is_refused_and_shown() {
    for (_, store) in stores() {
        let b = bank(store);
        let a = app(b.clock.clone());
        let serial = enroll(&b, &a, "bank-a");
        let code = login(&b, &a, "bank-a");
        b.clock.advance(3 * 365 * 86_400 + 86_400);
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "kim", &code).unwrap(),
            Verdict::Rejected
        );
        assert!(b.issuer.device_inquiry(STAFF, "bank-a", MOBILE_VENDOR, &serial).unwrap().expired);
    }
}

#[test]
fn audit_log_records_queries_and_retention() {
    for (name, store) in stores() {
        let b = bank(store.clone());
        let a = app(b.clock.clone());
        enroll(&b, &a, "bank-a");
        b.issuer.verify_login("web", "bank-a", "kim", "000000").unwrap();
        let all = b.issuer.audit(&AuditQuery::default()).unwrap();
        assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        let verifications = b
            .issuer
            .audit(&AuditQuery { action: Some("verify_login".into()), ..Default::default() })
            .unwrap();
        assert_eq!(verifications.len(), 1);
        assert_eq!(
            (verifications[0].actor.as_str(), verifications[0].outcome.as_str()),
            ("web", "rejected")
        );
        let refused = b.issuer.issue_non_face_to_face("web", "bank-a", "acme", "kyc");
        assert!(refused.is_err());
        assert!(b
            .issuer
            .audit(&AuditQuery { subject: Some("customer:acme".into()), ..Default::default() })
            .unwrap()
            .iter()
            .any(|e| e.outcome == "refused"));
        assert_eq!(
            b.issuer.audit(&AuditQuery { limit: 2, ..Default::default() }).unwrap().len(),
            2
        );
        assert!(b
            .issuer
            .audit(&AuditQuery { from: Some(T0 + 1), ..Default::default() })
            .unwrap()
            .is_empty());
        // Retention: ten years.
        assert_eq!(b.issuer.purge_expired_audit().unwrap(), 0, "{name}");
        b.clock.advance(IssuerConfig::default().audit_retention + 1);
        b.issuer.verify_login("web", "bank-a", "kim", "000000").unwrap();
        // Everything before the jump: the snapshot and the refused issuance.
        assert_eq!(b.issuer.purge_expired_audit().unwrap() as usize, all.len() + 1);
        assert_eq!(b.issuer.audit(&AuditQuery::default()).unwrap().len(), 1);
        let _ = b.store;
    }
}

#[test]
fn sqlite_audit_is_append_only_and_the_master_key_must_match() {
    let dir = std::env::temp_dir().join(format!("dotp-issuer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("issuer.db");
    {
        let b = bank(Arc::new(SqliteStore::open(&path).unwrap()));
        let a = app(b.clock.clone());
        enroll(&b, &a, "bank-a");
    }
    let raw = rusqlite_free_check(&path);
    assert!(raw.contains("append-only"), "{raw}");
    let store: Arc<dyn IssuerStore> = Arc::new(SqliteStore::open(&path).unwrap());
    let wrong = MasterKey::from_hex(&KEY.replace('0', "f")).unwrap();
    assert_eq!(
        Issuer::open(
            store.clone(),
            wrong,
            Arc::new(FixedClock::new(T0)),
            None,
            IssuerConfig::default()
        )
        .unwrap_err(),
        Fault::MasterKey(MasterKeyError::Mismatch)
    );
    let right = Issuer::open(
        store,
        MasterKey::from_hex(KEY).unwrap(),
        Arc::new(FixedClock::new(T0)),
        None,
        IssuerConfig::default(),
    )
    .unwrap();
    assert_eq!(right.customer_inquiry(STAFF, "bank-a", "kim").unwrap().devices.len(), 1);
    // The seed is not in the database in plaintext: the file holds no 32-byte run of the seed,
    // and no column is called seed.
    let bytes = std::fs::read(&path).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("\"seed\""));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Tries to rewrite the audit log through SQLite itself; returns the error text.
fn rusqlite_free_check(path: &std::path::Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    let update = conn.execute("UPDATE audit SET outcome = 'ok'", []).unwrap_err().to_string();
    let delete = conn.execute("DELETE FROM audit", []).unwrap_err().to_string();
    assert!(delete.contains("retention"), "{delete}");
    update
}

#[test]
fn concurrent_verifications_of_one_code_accept_exactly_once_and_wrong_codes_count_exactly() {
    let dir = std::env::temp_dir().join(format!("dotp-conc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let b = Arc::new(bank(Arc::new(SqliteStore::open(dir.join("i.db")).unwrap())));
    let secret = import_token(&b, "CONC01", Moving::Totp { period: 30 });
    b.issuer.register_device(STAFF, "bank-a", "kim", "VASCO", "CONC01", None).unwrap();
    let code =
        Totp::new(&secret, Algorithm::Sha1, 6, 30, 0).unwrap().generate_at(T0).unwrap().to_string();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (b, code) = (b.clone(), code.clone());
            std::thread::spawn(move || {
                b.issuer.verify_login("web", "bank-a", "kim", &code).unwrap()
            })
        })
        .collect();
    let verdicts: Vec<Verdict> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(verdicts.iter().filter(|v| **v == Verdict::Accepted).count(), 1);
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let b = b.clone();
            std::thread::spawn(move || {
                b.issuer.verify_login("web", "bank-a", "kim", "000000").unwrap()
            })
        })
        .collect();
    threads.into_iter().for_each(|t| assert_eq!(t.join().unwrap(), Verdict::Rejected));
    assert_eq!(b.issuer.device_inquiry(STAFF, "bank-a", "VASCO", "CONC01").unwrap().error_count, 6);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let b = b.clone();
            std::thread::spawn(move || {
                b.issuer.verify_login("web", "bank-a", "kim", "000000").unwrap()
            })
        })
        .collect();
    threads.into_iter().for_each(|t| assert_eq!(t.join().unwrap(), Verdict::Rejected));
    let d = b.issuer.device_inquiry(STAFF, "bank-a", "VASCO", "CONC01").unwrap();
    assert_eq!((d.error_count, d.state), (10, DeviceState::Locked), "capped at the lock");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A transaction code for `tx` from kim's app at `inst`.
fn transaction_code(b: &Bank, app: &Client, inst: &str, tx: &Transaction) -> String {
    let request = app.begin_transaction_code(inst, PASSWORD, &phone(), tx).unwrap();
    app.complete_transaction_code(&b.issuer.handle_unlock("mobile-app", &request)).unwrap().code
}

fn transfer(amount_minor: u64, payee_name: &str) -> Transaction {
    Transaction {
        amount_minor,
        currency: "KRW".into(),
        payee_account: "1002-333".into(),
        payee_name: payee_name.into(),
        memo: None,
    }
}

// Issue 15, item 1: two different transfers in one time step both verify (and an older
// step's code after a newer one), while each code is accepted once.
#[test]
fn transaction_codes_each_once_and_different_transfers_in_one_step_both_verify() {
    for (name, store) in stores() {
        let b = bank(store);
        let a = app(b.clock.clone());
        let serial = enroll(&b, &a, "bank-a");
        let verify = |code: &str, tx: &Transaction| {
            b.issuer.verify_transaction("web", "bank-a", "kim", code, tx).unwrap()
        };
        // Two transfers confirmed seconds apart, in the same 30-second step.
        let first = transfer(50_000, "이순신");
        let second = transfer(70_000, "강감찬");
        let c1 = transaction_code(&b, &a, "bank-a", &first);
        let c2 = transaction_code(&b, &a, "bank-a", &second);
        assert_eq!(verify(&c1, &first), Verdict::Accepted, "{name}");
        assert_eq!(verify(&c2, &second), Verdict::Accepted, "{name}");
        // Each only once, and a replay is not counted as a wrong code.
        assert_eq!(verify(&c1, &first), Verdict::Rejected, "{name}");
        assert_eq!(verify(&c2, &second), Verdict::Rejected, "{name}");
        let report = b.issuer.device_inquiry(STAFF, "bank-a", MOBILE_VENDOR, &serial).unwrap();
        assert_eq!(report.error_count, 0, "{name}");

        // Two browser tabs: the older tab's code (previous step) verified after the newer.
        b.clock.advance(30);
        let third = transfer(10_000, "유관순");
        let older = transaction_code(&b, &a, "bank-a", &third);
        b.clock.advance(30);
        let fourth = transfer(20_000, "안중근");
        let newer = transaction_code(&b, &a, "bank-a", &fourth);
        assert_eq!(verify(&newer, &fourth), Verdict::Accepted, "{name}");
        assert_eq!(verify(&older, &third), Verdict::Accepted, "{name}");
        assert_eq!(verify(&older, &third), Verdict::Rejected, "{name}");
        let log = b.issuer.audit(&AuditQuery { limit: 1, ..Default::default() }).unwrap();
        assert_eq!(log[0].detail, "code already used", "{name}");
    }
}

// Issue 15, item 2: a replayed HOTP code is refused without counting.
#[test]
fn a_replayed_hotp_code_is_refused_without_counting() {
    for (name, store) in stores() {
        let b = bank(store);
        let secret = import_token(&b, "HOTP09", Moving::Hotp);
        b.issuer.register_device(STAFF, "bank-a", "kim", "VASCO", "HOTP09", None).unwrap();
        let hotp = Hotp::new(&secret, Algorithm::Sha1, 6).unwrap();
        let code = |n: u64| hotp.generate(n).to_string();
        let verify = |c: &str| b.issuer.verify_login("web", "bank-a", "kim", c).unwrap();
        assert_eq!(verify(&code(0)), Verdict::Accepted, "{name}");
        assert_eq!(verify(&code(1)), Verdict::Accepted, "{name}");
        for _ in 0..12 {
            assert_eq!(verify(&code(1)), Verdict::Rejected, "{name}");
            assert_eq!(verify(&code(0)), Verdict::Rejected, "{name}");
        }
        let log = b.issuer.audit(&AuditQuery { limit: 1, ..Default::default() }).unwrap();
        assert_eq!(log[0].detail, "code already used", "{name}");
        let d = b.issuer.device_inquiry(STAFF, "bank-a", "VASCO", "HOTP09").unwrap();
        assert_eq!((d.state, d.error_count), (DeviceState::Active, 0), "{name}");
        assert_eq!(verify(&code(2)), Verdict::Accepted, "{name}");
    }
}

// Issue 15, item 7: a phone clock that jumps 200 s back after registration keeps working:
// the offset follows the bank's time in every answer.
#[test]
fn a_phone_clock_that_jumps_back_keeps_working_without_re_registration() {
    for (name, store) in stores() {
        let b = bank(store);
        let phone_clock = Arc::new(FixedClock::new(T0));
        let a = app(phone_clock.clone());
        enroll(&b, &a, "bank-a");
        let code = try_login(&b, &a, "bank-a").unwrap();
        assert!(accepts(&b, "bank-a", &code), "{name}");
        for _ in 0..3 {
            b.clock.advance(300);
            // The phone's clock: 200 s behind what it was, then further behind still.
            phone_clock.advance(100);
            let code = match try_login(&b, &a, "bank-a") {
                Err(ClientError::Stale) => try_login(&b, &a, "bank-a").unwrap(),
                other => other.unwrap(),
            };
            assert!(accepts(&b, "bank-a", &code), "{name}");
        }
    }
}

// Issue 15, item 9: unknown, empty or huge ids, and an empty actor, are typed errors
// before anything is written; no audit entry names an institution that does not exist.
#[test]
fn invalid_or_unknown_ids_are_refused_before_anything_is_recorded() {
    for (name, store) in stores() {
        let b = bank(store);
        let before = b.issuer.audit(&AuditQuery::default()).unwrap().len();
        let huge = "x".repeat(200_000);
        for (actor, inst, customer) in [
            ("web", "no-such-bank", "kim"),
            ("web", "", "kim"),
            ("web", huge.as_str(), "kim"),
            ("web", "bank a", "kim"),
            ("web", "bank-a", ""),
            ("web", "bank-a", huge.as_str()),
            ("web", "bank-a", "kim\n"),
            ("", "bank-a", "kim"),
            ("   ", "bank-a", "kim"),
            (huge.as_str(), "bank-a", "kim"),
        ] {
            let got = b.issuer.verify_login(actor, inst, customer, "123456");
            let want_unknown = inst == "no-such-bank";
            assert!(
                match &got {
                    Err(Fault::UnknownInstitution) => want_unknown,
                    Err(Fault::InvalidInput(_)) => !want_unknown,
                    _ => false,
                },
                "{name}: {:.80?} {:.80?} {:.80?} -> {got:?}",
                actor,
                inst,
                customer
            );
            let tx = transfer(1, "이순신");
            assert!(b.issuer.verify_transaction(actor, inst, customer, "12345678", &tx).is_err());
            assert!(b.issuer.customer_inquiry(actor, inst, customer).is_err(), "{name}");
            assert!(b.issuer.cancel(actor, inst, customer).is_err(), "{name}");
            assert!(b.issuer.issue_non_face_to_face(actor, inst, customer, "kyc").is_err());
            assert!(
                b.issuer.reset_error_count(actor, inst, MOBILE_VENDOR, customer).is_err(),
                "{name}"
            );
        }
        assert_eq!(
            b.issuer.device_inquiry(STAFF, "no-such-bank", "VASCO", "SN1"),
            Err(Fault::UnknownInstitution),
            "{name}"
        );
        let after = b.issuer.audit(&AuditQuery::default()).unwrap();
        assert_eq!(after.len(), before, "{name}: {:?}", &after[..after.len() - before]);
        // A well-formed call for a customer without a device is still recorded.
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "nobody", "123456"),
            Ok(Verdict::Rejected)
        );
        assert_eq!(b.issuer.audit(&AuditQuery::default()).unwrap().len(), before + 1, "{name}");
    }
}

// Issue 15, item 10: a malformed code (wrong length, not digits) is a typed error that
// costs nothing; only a well-formed wrong code counts.
#[test]
fn malformed_codes_are_typed_errors_and_cost_nothing() {
    for (name, store) in stores() {
        let b = bank(store);
        let a = app(b.clock.clone());
        let serial = enroll(&b, &a, "bank-a");
        assert!(accepts(&b, "bank-a", &login(&b, &a, "bank-a")), "{name}");
        for bad in ["abc", "", "12345", "1234567", "12345a", " 123456", "１２３４５６", "12 456"]
        {
            assert!(
                matches!(
                    b.issuer.verify_login("web", "bank-a", "kim", bad),
                    Err(Fault::MalformedCode(_))
                ),
                "{name}: {bad:?}"
            );
            let tx = transfer(1, "이순신");
            assert!(
                matches!(
                    b.issuer.verify_transaction("web", "bank-a", "kim", bad, &tx),
                    Err(Fault::MalformedCode(_))
                ),
                "{name}: {bad:?}"
            );
        }
        let d = b.issuer.device_inquiry(STAFF, "bank-a", MOBILE_VENDOR, &serial).unwrap();
        assert_eq!(d.error_count, 0, "{name}");
        // A well-formed wrong code counts.
        b.clock.advance(30);
        let code = login(&b, &a, "bank-a");
        assert_eq!(
            b.issuer.verify_login("web", "bank-a", "kim", &other_code(&code)).unwrap(),
            Verdict::Rejected
        );
        let d = b.issuer.device_inquiry(STAFF, "bank-a", MOBILE_VENDOR, &serial).unwrap();
        assert_eq!(d.error_count, 1, "{name}");

        // The app: malformed passwords never reach the bank, and cost no attempt.
        for bad in ["", "12", "abcdef", "1234567", "48291 "] {
            assert!(
                matches!(
                    a.begin_login_code("bank-a", bad, &phone()),
                    Err(ClientError::MalformedPassword)
                ),
                "{name}: {bad:?}"
            );
        }
        let wrong = try_login_with(&b, &a, "bank-a", "000001");
        assert_eq!(wrong, Err(ClientError::WrongPassword { remaining: 4 }), "{name}");
    }
}

/// Registers a domestic customer at `inst` with `number` as the real-name number.
fn customer_of(
    b: &Bank,
    inst: &str,
    id: &str,
    kind: CustomerKind,
    number: Option<&str>,
) -> Result<(), Fault> {
    register_customer(b, inst, id, kind, Residency::Domestic, number)
}

/// Registers a customer at `inst` (phone 010-1234-5678), with `number` as the real-name
/// number.
fn register_customer(
    b: &Bank,
    inst: &str,
    id: &str,
    kind: CustomerKind,
    residency: Residency,
    number: Option<&str>,
) -> Result<(), Fault> {
    b.issuer.register_customer(
        STAFF,
        &NewCustomer {
            institution_id: inst.into(),
            customer_id: id.into(),
            name: "홍길동".into(),
            kind,
            residency,
            phone_number: "010-1234-5678".into(),
            real_name_number: number.map(Into::into),
        },
    )
}

/// The current code of a token made by [`import_token`].
fn token_code(b: &Bank, secret: &Secret) -> String {
    let totp = Totp::new(secret, Algorithm::Sha1, 6, 30, 0).unwrap();
    totp.generate_at(b.clock.now_unix_seconds().unwrap()).unwrap().to_string()
}

// Issue 15, item 3: a changed phone number is an audited desk operation that revokes the
// mobile OTP bound to the old number, voids outstanding codes, and lets the customer
// register again from the new number.
#[test]
fn a_phone_number_change_revokes_the_mobile_otp_and_allows_registering_again() {
    for (name, store) in stores() {
        let b = bank(store);
        let old_app = app(b.clock.clone());
        let serial = enroll(&b, &old_app, "bank-a");
        let outstanding = b.issuer.issue_non_face_to_face("web", "bank-a", "kim", "kyc-9").unwrap();

        // Not by phone, not through an agent, not to the same number.
        let by_phone = Caller::branch("call-centre").via(DeskChannel::Phone);
        assert!(matches!(
            b.issuer.change_phone(&by_phone, "bank-a", "kim", "010-9999-8888"),
            Err(Fault::NotPermitted(_))
        ));
        let agent = Caller::branch(STAFF).with_agent("김대리", "POA-2026-001");
        assert!(matches!(
            b.issuer.change_phone(&agent, "bank-a", "kim", "010-9999-8888"),
            Err(Fault::NotPermitted(_))
        ));
        assert!(matches!(
            b.issuer.change_phone(STAFF, "bank-a", "kim", "+82 10-1234-5678"),
            Err(Fault::InvalidInput(_))
        ));
        b.issuer.change_phone(STAFF, "bank-a", "kim", "010-9999-8888").unwrap();

        // The old binding is revoked: the device is cancelled, its codes refused.
        let d = b.issuer.device_inquiry(STAFF, "bank-a", MOBILE_VENDOR, &serial).unwrap();
        assert_eq!(d.state, DeviceState::Cancelled, "{name}");
        assert_eq!(d.links.last().unwrap().state, LinkState::Revoked, "{name}");
        assert!(try_login(&b, &old_app, "bank-a").is_err(), "{name}");
        // The code issued for the old number no longer registers, even from the old phone.
        let stale = register(&b, &app(b.clock.clone()), "bank-a", outstanding.as_str(), &phone());
        assert!(stale.is_err(), "{name}");

        // A new code registers the app from the new number; the old number is refused.
        let code = b.issuer.issue_non_face_to_face("web", "bank-a", "kim", "kyc-10").unwrap();
        assert!(register(&b, &app(b.clock.clone()), "bank-a", code.as_str(), &phone()).is_err());
        let code = b.issuer.issue_non_face_to_face("web", "bank-a", "kim", "kyc-11").unwrap();
        let new_phone = Device::new("010-9999-8888", "android-2").unwrap();
        let new_app = app(b.clock.clone());
        let new_serial = register(&b, &new_app, "bank-a", code.as_str(), &new_phone).unwrap();
        assert_ne!(new_serial, serial);
        let request = new_app.begin_login_code("bank-a", PASSWORD, &new_phone).unwrap();
        let code =
            new_app.complete_login_code(&b.issuer.handle_unlock("mobile-app", &request)).unwrap();
        assert!(accepts(&b, "bank-a", &code.code), "{name}");

        // Audited, without either number; the refusals too.
        let entries = b
            .issuer
            .audit(&AuditQuery { action: Some("change_phone".into()), ..Default::default() })
            .unwrap();
        assert_eq!(entries.iter().filter(|e| e.outcome == "ok").count(), 1, "{name}");
        assert_eq!(entries.iter().filter(|e| e.outcome == "refused").count(), 3, "{name}");
        assert!(entries.iter().all(|e| !e.detail.contains("9999") && !e.detail.contains("5678")));
        assert!(entries.iter().any(|e| e.detail.contains(&format!("{MOBILE_VENDOR}:{serial}"))));
    }
}

// Issue 15, item 4: the person across institutions is a keyed hash of the real-name
// number, so another institution's registration of the same token, one customer id per
// person per institution and the shared error count work across customer ids; the number
// is never stored, and the hash survives a master-key rotation.
#[test]
fn the_person_is_known_across_institutions_by_the_real_name_number() {
    let path = std::env::temp_dir().join(format!("dotp-person-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let b = bank(Arc::new(SqliteStore::open(&path).unwrap()));
    b.issuer.add_institution("admin", "bank-c", "Bank C").unwrap();
    let ind = CustomerKind::Individual;
    customer_of(&b, "bank-a", "a-100", ind, Some("900101-1234567")).unwrap();
    customer_of(&b, "bank-b", "b-200", ind, Some("9001011234567")).unwrap();
    customer_of(&b, "bank-b", "b-300", ind, Some("850505-2345678")).unwrap();
    // One customer id per person per institution.
    assert_eq!(
        customer_of(&b, "bank-a", "a-101", ind, Some("900101 1234567")).unwrap_err(),
        Fault::CustomerExists
    );
    for bad in ["12345", "900101-123456X", "9001011234567890", ""] {
        assert!(
            matches!(customer_of(&b, "bank-a", "a-9", ind, Some(bad)), Err(Fault::InvalidInput(_))),
            "{bad}"
        );
    }
    let secret = import_token(&b, "SN4000", Moving::Totp { period: 30 });
    b.issuer.register_device(STAFF, "bank-a", "a-100", "VASCO", "SN4000", None).unwrap();
    // The same person under another customer id at bank-b may register it; another may not.
    assert_eq!(
        b.issuer.register_device(STAFF, "bank-b", "b-300", "VASCO", "SN4000", None).unwrap_err(),
        Fault::InvalidState("the device belongs to another person")
    );
    b.issuer.register_device(STAFF, "bank-b", "b-200", "VASCO", "SN4000", None).unwrap();
    // The error count is shared: five wrong codes at each bank lock it at both.
    for inst_customer in [("bank-a", "a-100"), ("bank-b", "b-200")] {
        for _ in 0..5 {
            let v = b.issuer.verify_login("web", inst_customer.0, inst_customer.1, "999999");
            assert_eq!(v.unwrap(), Verdict::Rejected);
        }
    }
    b.clock.advance(30);
    let code = token_code(&b, &secret);
    assert_eq!(b.issuer.verify_login("web", "bank-a", "a-100", &code).unwrap(), Verdict::Rejected);
    assert_eq!(
        b.issuer.device_inquiry(STAFF, "bank-b", "VASCO", "SN4000").unwrap().state,
        DeviceState::Locked
    );
    b.issuer.reset_error_count(STAFF, "bank-b", "VASCO", "SN4000").unwrap();
    assert_eq!(b.issuer.verify_login("web", "bank-a", "a-100", &code).unwrap(), Verdict::Accepted);

    // After a rotation the person still matches at a third institution.
    b.issuer.rotate_master_key("security-officer", MasterKey::generate().unwrap().0).unwrap();
    customer_of(&b, "bank-c", "c-1", ind, Some("900101-1234567")).unwrap();
    b.issuer.register_device(STAFF, "bank-c", "c-1", "VASCO", "SN4000", None).unwrap();

    // The number is nowhere in the database, with or without its hyphen, nor in Debug.
    drop(b);
    let mut bytes = std::fs::read(&path).unwrap();
    let wal = path.with_extension("sqlite-wal");
    bytes.extend(std::fs::read(&wal).unwrap_or_default());
    let _ = std::fs::remove_file(&wal);
    for needle in ["9001011234567", "900101-1234567", "8505052345678"] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "{needle}");
    }
    let _ = std::fs::remove_file(&path);
    let new = NewCustomer {
        institution_id: "bank-a".into(),
        customer_id: "x".into(),
        name: "홍길동".into(),
        kind: ind,
        residency: Residency::Domestic,
        phone_number: "010-1234-5678".into(),
        real_name_number: Some("900101-1234567".into()),
    };
    let debug = format!("{new:?}");
    assert!(!debug.contains("1234567") && !debug.contains("홍길동") && !debug.contains("5678"));
}

// Issue 15, item 5: a loss report blocks the device everywhere until every institution
// with a registration has cleared it; the first clearing is in person at a branch, the
// others may then clear it online.
#[test]
fn a_loss_report_is_cleared_at_every_institution_the_first_time_in_person() {
    for (name, store) in stores() {
        let b = bank(store);
        let secret = import_token(&b, "SN5000", Moving::Totp { period: 30 });
        b.issuer.register_device(STAFF, "bank-a", "kim", "VASCO", "SN5000", None).unwrap();
        b.issuer.register_device(STAFF, "bank-b", "kim", "VASCO", "SN5000", None).unwrap();
        let by_phone = Caller::branch("call-centre").via(DeskChannel::Phone);
        b.issuer.report_accident(&by_phone, "bank-b", "VASCO", "SN5000", Accident::Stolen).unwrap();

        // Online first: refused (and audited); by phone: not a clearing channel at all.
        let online = Caller::branch("mobile-web").via(DeskChannel::MobileWeb);
        let err = b.issuer.recover(&online, "bank-a", "VASCO", "SN5000").unwrap_err();
        assert!(matches!(err, Fault::NotPermitted(ref m) if m.contains("in person")), "{name}");
        assert!(matches!(
            b.issuer.recover(&by_phone, "bank-a", "VASCO", "SN5000"),
            Err(Fault::NotPermitted(_))
        ));
        let d = b.issuer.device_inquiry(STAFF, "bank-a", "VASCO", "SN5000").unwrap();
        assert_eq!(
            (d.state, d.pending_clearance.clone()),
            (DeviceState::Stolen, vec!["bank-a".to_string(), "bank-b".to_string()])
        );

        // In person at bank-a: still refused at both until bank-b clears it (online now).
        assert_eq!(b.issuer.recover(STAFF, "bank-a", "VASCO", "SN5000").unwrap(), ["bank-b"]);
        b.clock.advance(30);
        let code = token_code(&b, &secret);
        for inst in ["bank-a", "bank-b"] {
            assert_eq!(
                b.issuer.verify_login("web", inst, "kim", &code).unwrap(),
                Verdict::Rejected
            );
        }
        let d = b.issuer.device_inquiry(STAFF, "bank-b", "VASCO", "SN5000").unwrap();
        assert_eq!(d.pending_clearance, ["bank-b"], "{name}");
        assert!(b.issuer.recover(&online, "bank-b", "VASCO", "SN5000").unwrap().is_empty());
        assert_eq!(
            b.issuer.verify_login("web", "bank-b", "kim", &code).unwrap(),
            Verdict::Accepted
        );
        assert!(b
            .issuer
            .device_inquiry(STAFF, "bank-a", "VASCO", "SN5000")
            .unwrap()
            .pending_clearance
            .is_empty());
        let refused = b
            .issuer
            .audit(&AuditQuery { action: Some("recover_accident".into()), ..Default::default() })
            .unwrap();
        assert_eq!(refused.iter().filter(|e| e.outcome == "refused").count(), 2, "{name}");
        assert!(refused.iter().any(|e| e.outcome == "ok" && e.detail.contains("via mobile web")));
    }
}

// Issue 15, item 6: each institution's channel table decides which channel may perform
// which desk operation (an accident report by phone, no error reset or other-institution
// registration by phone); an agent acts with a proof, only for a corporation's physical
// OTP and only at a branch; a mobile OTP is never cancelled through an agent.
#[test]
fn channels_and_agents_follow_the_institution_s_table_and_the_fixed_rules() {
    for (name, store) in stores() {
        let b = bank(store);
        let by_phone = Caller::branch("call-centre").via(DeskChannel::Phone);
        let web = Caller::branch("internet-banking").via(DeskChannel::Internet);
        import_token(&b, "SN6000", Moving::Totp { period: 30 });
        import_token(&b, "SN6001", Moving::Totp { period: 30 });
        // No other-institution registration by phone.
        assert!(matches!(
            b.issuer.register_device(&by_phone, "bank-a", "kim", "VASCO", "SN6000", None),
            Err(Fault::NotPermitted(_))
        ));
        b.issuer.register_device(&web, "bank-a", "kim", "VASCO", "SN6000", None).unwrap();
        // An accident report by phone; no error reset by phone or online by default.
        b.issuer.report_accident(&by_phone, "bank-a", "VASCO", "SN6000", Accident::Lost).unwrap();
        b.issuer.recover(STAFF, "bank-a", "VASCO", "SN6000").unwrap();
        for caller in [&by_phone, &web] {
            assert!(matches!(
                b.issuer.reset_error_count(caller, "bank-a", "VASCO", "SN6000"),
                Err(Fault::NotPermitted(_))
            ));
        }
        // bank-b allows the reset online; bank-a's table is unchanged.
        let rule = ChannelRule {
            operation: DeskOperation::ResetErrorCount,
            channels: vec![DeskChannel::Branch, DeskChannel::Internet],
        };
        b.issuer.set_channel_rules("admin", "bank-b", std::slice::from_ref(&rule)).unwrap();
        assert!(b.issuer.set_channel_rules("admin", "bank-b", &[rule.clone(), rule]).is_err());
        b.issuer.register_device(STAFF, "bank-b", "kim", "VASCO", "SN6000", None).unwrap();
        b.issuer.reset_error_count(&web, "bank-b", "VASCO", "SN6000").unwrap();
        assert!(b.issuer.reset_error_count(&web, "bank-a", "VASCO", "SN6000").is_err());
        let table = b.issuer.channel_rules("bank-b").unwrap();
        assert_eq!(table.len(), DeskOperation::ALL.len());
        let report = table.iter().find(|r| r.operation == DeskOperation::ReportAccident).unwrap();
        assert_eq!(report.channels, DeskChannel::ALL);

        // An agent: a corporation's physical OTP at a branch, with the proof recorded.
        let agent = Caller::branch(STAFF).with_agent("김대리", "POA-2026-001");
        b.issuer.register_device(&agent, "bank-a", "acme", "VASCO", "SN6001", None).unwrap();
        let e = &b
            .issuer
            .audit(&AuditQuery {
                action: Some("register_device".into()),
                limit: 1,
                ..Default::default()
            })
            .unwrap()[0];
        assert!(e.detail.contains("agent 김대리 (proof POA-2026-001)"), "{name}: {}", e.detail);
        // Not for an individual, not over the phone, not without a proof.
        assert!(matches!(
            b.issuer.reset_error_count(&agent, "bank-a", "VASCO", "SN6000"),
            Err(Fault::NotPermitted(_))
        ));
        let phone_agent = agent.clone().via(DeskChannel::Phone);
        assert!(matches!(
            b.issuer.report_accident(&phone_agent, "bank-a", "VASCO", "SN6001", Accident::Lost),
            Err(Fault::NotPermitted(_))
        ));
        let no_proof = Caller::branch(STAFF).with_agent("김대리", " ");
        assert!(matches!(
            b.issuer.cancel(&no_proof, "bank-a", "acme"),
            Err(Fault::InvalidInput(_))
        ));
        b.issuer.cancel(&agent, "bank-a", "acme").unwrap();
        // A mobile OTP is never cancelled through an agent.
        b.issuer.cancel(STAFF, "bank-b", "kim").unwrap();
        let mobile_app = app(b.clock.clone());
        enroll(&b, &mobile_app, "bank-b");
        let err = b.issuer.cancel(&agent, "bank-b", "kim").unwrap_err();
        assert!(matches!(err, Fault::NotPermitted(ref m) if m.contains("mobile OTP")), "{name}");
        assert!(accepts(&b, "bank-b", &login(&b, &mobile_app, "bank-b")), "{name}");
    }
}

// Issue 15, item 8: an inquiry shows the asking institution its own registrations in full,
// other institutions' without the customer, and only its own and the centre's history;
// the central OTP centre's staff see everything.
#[test]
fn inquiries_and_the_audit_log_are_scoped_to_the_asking_institution() {
    for (name, store) in stores() {
        let b = bank(store);
        import_token(&b, "SN8000", Moving::Totp { period: 30 });
        b.issuer.register_device(STAFF, "bank-a", "kim", "VASCO", "SN8000", None).unwrap();
        for _ in 0..3 {
            b.issuer.verify_login("web", "bank-a", "kim", "999999").unwrap();
        }
        // bank-b has no registration of the device.
        let d = b.issuer.device_inquiry(STAFF, "bank-b", "VASCO", "SN8000").unwrap();
        assert_eq!(d.error_count, 3, "{name}");
        assert_eq!(d.links.len(), 1);
        assert_eq!(
            (d.links[0].institution_id.as_str(), d.links[0].customer_id.as_str()),
            ("bank-a", "")
        );
        assert!(d
            .history
            .iter()
            .all(|e| e.institution_id == "bank-b" || e.institution_id.is_empty()));
        assert!(d.history.iter().any(|e| e.action == "import_device"), "{name}");
        assert!(!d.history.iter().any(|e| e.action == "verify_login"), "{name}");
        // bank-a sees its own in full.
        let own = b.issuer.device_inquiry(STAFF, "bank-a", "VASCO", "SN8000").unwrap();
        assert_eq!(own.links[0].customer_id, "kim");
        assert!(own.history.iter().any(|e| e.action == "verify_login"));
        // The audit log: bank-b's staff see no bank-a entry and may not ask for them.
        let log = b.issuer.audit_for(STAFF, "bank-b", &AuditQuery::default()).unwrap();
        assert!(!log.is_empty() && log.iter().all(|e| e.institution_id != "bank-a"), "{name}");
        let theirs = AuditQuery { institution_id: Some("bank-a".into()), ..Default::default() };
        assert!(matches!(
            b.issuer.audit_for(STAFF, "bank-b", &theirs),
            Err(Fault::NotPermitted(_))
        ));
        // The centre's staff see it all.
        let centre = Caller::branch("centre-7").centre();
        let all = b.issuer.device_inquiry(&centre, "bank-b", "VASCO", "SN8000").unwrap();
        assert_eq!(all.links[0].customer_id, "kim");
        assert!(all.history.iter().any(|e| e.action == "verify_login"));
        let log = b.issuer.audit_for(&centre, "bank-b", &theirs).unwrap();
        assert!(log.iter().any(|e| e.action == "verify_login"), "{name}");
    }
}
