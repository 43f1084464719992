//! The app side end to end against the issuer counterpart: registration, device
//! binding, the app password and its lockout, storage faults, several institutions,
//! concurrency, clock offset and expiry.
#![cfg(feature = "issuer")]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use digital_otp::client::{Client, ClientError, Status, MIN_PBKDF2_ITERATIONS};
use digital_otp::enrollment::{Device, ProtocolError, RejectReason};
use digital_otp::host::FixedClock;
use digital_otp::host::HostError;
mod common;

use common::bank::{Bank as Issuer, CredentialState};
use digital_otp::host::SecureStore;
use digital_otp::storage::MemoryStore;
use digital_otp::transaction::Transaction;

const T0: u64 = 1_800_000_000;
const PASSWORD: &str = "482915";

/// A store that can fail or silently drop writes, and be inspected.
#[derive(Default)]
struct TestStore {
    map: Mutex<HashMap<String, Vec<u8>>>,
    fail_writes: AtomicBool,
    lose_writes: AtomicBool,
    /// Fail the write after this many more succeed (usize::MAX: never).
    fail_after: AtomicUsize,
}

impl TestStore {
    fn new() -> Arc<Self> {
        Arc::new(Self { fail_after: AtomicUsize::new(usize::MAX), ..Default::default() })
    }
    fn snapshot(&self) -> HashMap<String, Vec<u8>> {
        self.map.lock().unwrap().clone()
    }
    fn keys_with(&self, prefix: &str) -> Vec<String> {
        self.map.lock().unwrap().keys().filter(|k| k.starts_with(prefix)).cloned().collect()
    }
    fn corrupt(&self, key: &str, f: impl FnOnce(&mut Vec<u8>)) {
        f(self.map.lock().unwrap().get_mut(key).unwrap());
    }
}

impl SecureStore for TestStore {
    fn read(&self, key: String) -> Result<Option<Vec<u8>>, HostError> {
        Ok(self.map.lock().unwrap().get(&key).cloned())
    }
    fn write(&self, key: String, value: Vec<u8>) -> Result<(), HostError> {
        if self.fail_writes.load(Ordering::SeqCst) {
            return Err(HostError::Failed { reason: "keystore unavailable".into() });
        }
        let left = self.fail_after.load(Ordering::SeqCst);
        if left == 0 {
            return Err(HostError::Failed { reason: "disk full".into() });
        }
        if left != usize::MAX {
            self.fail_after.store(left - 1, Ordering::SeqCst);
        }
        if !self.lose_writes.load(Ordering::SeqCst) {
            self.map.lock().unwrap().insert(key, value);
        }
        Ok(())
    }
    fn delete(&self, key: String) -> Result<(), HostError> {
        self.map.lock().unwrap().remove(&key);
        Ok(())
    }
}

struct World {
    clock: Arc<FixedClock>,
    store: Arc<TestStore>,
    app: Client,
    bank: Issuer,
    phone: Device,
}

fn device() -> Device {
    Device::new("010-1234-5678", "android-id-1").unwrap()
}

fn world() -> World {
    let clock = Arc::new(FixedClock::new(T0));
    let store = TestStore::new();
    World {
        app: Client::with_iterations(store.clone(), clock.clone(), MIN_PBKDF2_ITERATIONS),
        bank: Issuer::new("bank-a", "Bank A", clock.clone()),
        clock,
        store,
        phone: device(),
    }
}

impl World {
    fn register(&self, customer: &str) -> String {
        let code = self.bank.issue_registration_code(customer).unwrap();
        let request =
            self.app.begin_registration(&code.display(), "010-1234-5678", "android-id-1").unwrap();
        let response = self.bank.handle_registration(&request);
        let info = self.app.complete_registration(&response, PASSWORD).unwrap();
        assert_eq!(info.status, Status::Pending);
        info.serial_number
    }
}

fn transfer(amount: u64) -> Transaction {
    Transaction {
        amount_minor: amount,
        currency: "KRW".into(),
        payee_account: "110-123-456789".into(),
        payee_name: "홍길동".into(),
        memo: None,
    }
}

#[test]
fn whole_lifecycle() {
    let w = world();
    let serial = w.register("customer-1");
    assert_eq!(w.bank.credential_state(&serial), Some(CredentialState::Pending));

    // Activation: the first login code verifies at the bank.
    let login = w.app.generate("bank-a", PASSWORD, &w.phone).unwrap();
    assert_eq!(login.serial_number, serial);
    assert_eq!(login.code.len(), 6);
    assert!(login.valid_from <= T0 && T0 < login.valid_until);
    assert_eq!(login.valid_until - T0, login.seconds_remaining);
    assert!(w.bank.verify_login(&serial, &login.code).unwrap());
    assert_eq!(w.bank.credential_state(&serial), Some(CredentialState::Active));
    w.app.confirm_activation("bank-a").unwrap();
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].status, Status::Active);

    // Replay refused; the next step's code accepted.
    assert!(!w.bank.verify_login(&serial, &login.code).unwrap());
    w.clock.advance(30);
    let next = w.app.generate("bank-a", PASSWORD, &w.phone).unwrap();
    assert!(w.bank.verify_login(&serial, &next.code).unwrap());

    // Transaction code: bound to amount and payee.
    let (tx_code, summary) =
        w.app.generate_for_transaction("bank-a", PASSWORD, &w.phone, &transfer(1_500_000)).unwrap();
    assert_eq!(summary, "Transfer KRW 1,500,000 to 홍길동 (account 110123456789)");
    assert_eq!(tx_code.code.len(), 8);
    assert!(!w.bank.verify_transaction(&serial, &tx_code.code, &transfer(1_500_001)).unwrap());
    let other_payee = Transaction { payee_account: "110-123-456788".into(), ..transfer(1_500_000) };
    assert!(!w.bank.verify_transaction(&serial, &tx_code.code, &other_payee).unwrap());
    assert!(w.bank.verify_transaction(&serial, &tx_code.code, &transfer(1_500_000)).unwrap());
    assert!(
        !w.bank.verify_transaction(&serial, &tx_code.code, &transfer(1_500_000)).unwrap(),
        "replay"
    );

    // Five wrong passwords lock it and destroy the seed.
    for remaining in (1..=4).rev() {
        assert_eq!(
            w.app.generate("bank-a", "000001", &w.phone).unwrap_err(),
            ClientError::WrongPassword { remaining }
        );
    }
    assert_eq!(w.app.generate("bank-a", "000001", &w.phone).unwrap_err(), ClientError::Locked);
    assert_eq!(w.app.generate("bank-a", PASSWORD, &w.phone).unwrap_err(), ClientError::Locked);
    let listed = &w.app.credentials(&w.phone).unwrap()[0];
    assert_eq!((listed.status, listed.attempts_remaining), (Status::Locked, 0));
    let blob_keys = w.store.keys_with("digital-otp.v1.credential.");
    let stored = String::from_utf8_lossy(&w.store.snapshot()[&blob_keys[0]]).to_string();
    assert!(!stored.contains("sealed_seed"), "the blob is encrypted");

    // Registering again restores service; the old serial is revoked at the bank.
    w.clock.advance(60);
    let new_serial = w.register("customer-1");
    assert_ne!(new_serial, serial);
    assert_eq!(w.bank.credential_state(&serial), Some(CredentialState::Revoked));
    let code = w.app.generate("bank-a", PASSWORD, &w.phone).unwrap();
    assert!(w.bank.verify_login(&new_serial, &code.code).unwrap());
    assert_eq!(
        w.store.keys_with("digital-otp.v1.credential.").len(),
        1,
        "the locked credential was replaced"
    );
}

#[test]
fn success_resets_the_failure_count() {
    let w = world();
    w.register("c");
    for _ in 0..4 {
        assert!(matches!(
            w.app.generate("bank-a", "000001", &w.phone),
            Err(ClientError::WrongPassword { .. })
        ));
    }
    w.app.generate("bank-a", PASSWORD, &w.phone).unwrap();
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].attempts_remaining, 5);
    assert_eq!(
        w.app.generate("bank-a", "000001", &w.phone).unwrap_err(),
        ClientError::WrongPassword { remaining: 4 }
    );
}

#[test]
fn a_crash_after_counting_keeps_the_count() {
    let w = world();
    w.register("c");
    // Phase 1 persists the incremented count; the "process" dies before the password is tried.
    let attempt = w.app.begin_attempt("bank-a", &w.phone).unwrap();
    drop(attempt);
    drop(w.app);
    let reopened = Client::with_iterations(w.store.clone(), w.clock.clone(), MIN_PBKDF2_ITERATIONS);
    assert_eq!(reopened.credentials(&w.phone).unwrap()[0].attempts_remaining, 4);
    for _ in 0..3 {
        reopened.begin_attempt("bank-a", &w.phone).unwrap();
    }
    // Four counted, one attempt left: a wrong password now locks.
    assert_eq!(reopened.generate("bank-a", "000001", &w.phone).unwrap_err(), ClientError::Locked);
}

#[test]
fn concurrent_wrong_passwords_each_count() {
    let w = Arc::new(world());
    w.register("c");
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let w = w.clone();
            std::thread::spawn(move || w.app.generate("bank-a", "000001", &w.phone).unwrap_err())
        })
        .collect();
    let mut errors: Vec<ClientError> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    errors.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        errors,
        vec![
            ClientError::WrongPassword { remaining: 3 },
            ClientError::WrongPassword { remaining: 4 }
        ]
    );
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].attempts_remaining, 3);
    // And many threads generating with the right password all succeed.
    let codes: Vec<String> = (0..4)
        .map(|_| {
            let w = w.clone();
            std::thread::spawn(move || w.app.generate("bank-a", PASSWORD, &w.phone).unwrap().code)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert!(codes.windows(2).all(|p| p[0] == p[1]));
}

#[test]
fn device_binding() {
    let w = world();
    w.register("c");
    for other in [
        Device::new("010-1234-5679", "android-id-1").unwrap(),
        Device::new("010-1234-5678", "android-id-2").unwrap(),
    ] {
        assert_eq!(
            w.app.generate("bank-a", PASSWORD, &other).unwrap_err(),
            ClientError::DeviceMismatch
        );
        assert_eq!(w.app.credentials(&other).unwrap()[0].status, Status::DeviceMismatch);
    }
    // Formatting differences of the same number are the same device.
    let same = Device::new("+82 10 1234 5678", "android-id-1").unwrap();
    assert!(w.app.generate("bank-a", PASSWORD, &same).is_ok());
    // A mismatch is not a password failure.
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].attempts_remaining, 5);
    let stored = format!("{:?}", w.store.snapshot());
    assert!(
        !stored.contains("1234") && !stored.contains("android-id"),
        "only a salted hash is stored"
    );
}

#[test]
fn registration_codes_and_responses() {
    let w = world();
    // A typo is refused locally, before any network call.
    let code = w.bank.issue_registration_code("c").unwrap();
    let mut typo: Vec<u8> = code.as_str().bytes().collect();
    typo.swap(3, 4);
    if typo[3] != typo[4] {
        assert_eq!(
            w.app
                .begin_registration(std::str::from_utf8(&typo).unwrap(), "010-1234-5678", "d")
                .unwrap_err(),
            ClientError::Protocol(ProtocolError::CodeCheckDigit)
        );
    }
    assert!(matches!(
        w.app.begin_registration("1234", "010-1234-5678", "d"),
        Err(ClientError::Protocol(ProtocolError::CodeFormat))
    ));
    assert!(matches!(
        w.app.begin_registration(code.as_str(), "12", "d"),
        Err(ClientError::Protocol(ProtocolError::PhoneNumber(_)))
    ));
    assert_eq!(
        w.app.complete_registration(b"{}", PASSWORD).unwrap_err(),
        ClientError::NoPendingRegistration
    );

    // An expired code.
    let request = w.app.begin_registration(code.as_str(), "010-1234-5678", "android-id-1").unwrap();
    w.clock.advance(601);
    let response = w.bank.handle_registration(&request);
    assert_eq!(
        w.app.complete_registration(&response, PASSWORD).unwrap_err(),
        ClientError::Protocol(ProtocolError::Rejected(RejectReason::ExpiredCode))
    );
    // A used code (the expired attempt consumed it) and an unknown one.
    let request = w.app.begin_registration(code.as_str(), "010-1234-5678", "android-id-1").unwrap();
    let response = w.bank.handle_registration(&request);
    assert_eq!(
        w.app.complete_registration(&response, PASSWORD).unwrap_err(),
        ClientError::Protocol(ProtocolError::Rejected(RejectReason::InvalidCode))
    );
    assert!(w.store.snapshot().is_empty(), "failed registrations write nothing");

    // A weak password keeps the registration in progress.
    let code = w.bank.issue_registration_code("c").unwrap();
    let request = w.app.begin_registration(code.as_str(), "010-1234-5678", "android-id-1").unwrap();
    let response = w.bank.handle_registration(&request);
    assert!(matches!(
        w.app.complete_registration(&response, "123456"),
        Err(ClientError::Policy(_))
    ));
    assert!(w.store.snapshot().is_empty());
    // A tampered response is refused and ends the attempt.
    let tampered = String::from_utf8(response.clone()).unwrap().replace("Bank A", "Bank B");
    assert_eq!(
        w.app.complete_registration(tampered.as_bytes(), PASSWORD).unwrap_err(),
        ClientError::Protocol(ProtocolError::Confirmation)
    );
    assert!(w.store.snapshot().is_empty());
    assert_eq!(
        w.app.complete_registration(&response, PASSWORD).unwrap_err(),
        ClientError::NoPendingRegistration
    );
    for garbage in [
        &b""[..],
        b"null",
        b"{\"protocol\":\"digital-otp/registration\",\"version\":1}",
        &[0xff; 10],
    ] {
        let code = w.bank.issue_registration_code("c").unwrap();
        w.app.begin_registration(code.as_str(), "010-1234-5678", "android-id-1").unwrap();
        assert!(matches!(
            w.app.complete_registration(garbage, PASSWORD),
            Err(ClientError::Protocol(_))
        ));
    }
    assert!(w.store.snapshot().is_empty());
}

#[test]
fn failing_or_forgetful_stores_never_half_write_or_lose_a_credential() {
    let w = world();
    let bank_b = Issuer::new("bank-b", "Bank B", w.clock.clone());
    w.register("c");
    let before = w.store.snapshot();
    let register_b = || {
        let code = bank_b.issue_registration_code("c").unwrap();
        let request =
            w.app.begin_registration(code.as_str(), "010-1234-5678", "android-id-1").unwrap();
        let response = bank_b.handle_registration(&request);
        w.app.complete_registration(&response, PASSWORD)
    };

    w.store.fail_writes.store(true, Ordering::SeqCst);
    assert!(matches!(register_b(), Err(ClientError::Store(_))));
    w.store.fail_writes.store(false, Ordering::SeqCst);
    assert_eq!(w.store.snapshot(), before);

    // The credential is written, then the index write fails: rolled back.
    w.store.fail_after.store(1, Ordering::SeqCst);
    assert!(matches!(register_b(), Err(ClientError::Store(_))));
    w.store.fail_after.store(usize::MAX, Ordering::SeqCst);
    assert_eq!(w.store.snapshot(), before);

    w.store.lose_writes.store(true, Ordering::SeqCst);
    assert_eq!(register_b().unwrap_err(), ClientError::LostWrite);
    // A lost failure-count write means the password is not tried at all.
    assert_eq!(w.app.generate("bank-a", PASSWORD, &w.phone).unwrap_err(), ClientError::LostWrite);
    w.store.lose_writes.store(false, Ordering::SeqCst);
    assert_eq!(w.store.snapshot(), before);

    // bank-a's credential is intact and usable.
    assert!(w.app.generate("bank-a", PASSWORD, &w.phone).is_ok());
    register_b().unwrap();
    assert_eq!(w.app.credentials(&w.phone).unwrap().len(), 2);
}

#[test]
fn tampered_or_truncated_blobs_are_reported() {
    let w = world();
    w.register("c");
    let key = w.store.keys_with("digital-otp.v1.credential.")[0].clone();
    let original = w.store.snapshot()[&key].clone();
    w.store.corrupt(&key, |b| {
        let n = b.len();
        b[n - 1] ^= 1;
    });
    assert!(matches!(w.app.generate("bank-a", PASSWORD, &w.phone), Err(ClientError::Corrupted(_))));
    assert!(matches!(w.app.credentials(&w.phone), Err(ClientError::Corrupted(_))));
    w.store.corrupt(&key, |b| b.truncate(10));
    assert!(matches!(w.app.generate("bank-a", PASSWORD, &w.phone), Err(ClientError::Corrupted(_))));
    w.store.corrupt(&key, |b| *b = original.clone());
    assert!(w.app.generate("bank-a", PASSWORD, &w.phone).is_ok());
    w.store.corrupt("digital-otp.v1.device-key", |b| b[8] ^= 1);
    assert!(matches!(w.app.generate("bank-a", PASSWORD, &w.phone), Err(ClientError::Corrupted(_))));
    // Unreadable data: reset. The index cannot be read without the device key, so the
    // credential blob stays behind, sealed under a key that no longer exists.
    w.app.reset_all().unwrap();
    assert_eq!(w.store.snapshot().keys().cloned().collect::<Vec<_>>(), vec![key]);
    assert_eq!(w.app.credentials(&w.phone).unwrap(), vec![]);
    w.register("c");
    assert_eq!(w.app.credentials(&w.phone).unwrap().len(), 1);
}

#[test]
fn forgotten_password_reset_deletes_everything() {
    let w = world();
    w.register("c");
    let bank_b = Issuer::new("bank-b", "Bank B", w.clock.clone());
    let code = bank_b.issue_registration_code("c").unwrap();
    let request = w.app.begin_registration(code.as_str(), "010-1234-5678", "android-id-1").unwrap();
    w.app.complete_registration(&bank_b.handle_registration(&request), PASSWORD).unwrap();
    w.app.reset_all().unwrap();
    assert!(w.store.snapshot().is_empty());
    assert_eq!(
        w.app.generate("bank-a", PASSWORD, &w.phone).unwrap_err(),
        ClientError::NotRegistered
    );
}

#[test]
fn several_institutions_and_cancellation() {
    let w = world();
    let bank_b = Issuer::new("bank-b", "Bank B", w.clock.clone());
    let serial_a = w.register("c");
    let code = bank_b.issue_registration_code("c").unwrap();
    let request = w.app.begin_registration(code.as_str(), "010-1234-5678", "android-id-1").unwrap();
    let serial_b = w
        .app
        .complete_registration(&bank_b.handle_registration(&request), "730264")
        .unwrap()
        .serial_number;

    let list = w.app.credentials(&w.phone).unwrap();
    assert_eq!(
        list.iter().map(|c| c.institution_id.as_str()).collect::<Vec<_>>(),
        ["bank-a", "bank-b"]
    );
    assert_eq!(list[1].institution_name, "Bank B");
    let a = w.app.generate("bank-a", PASSWORD, &w.phone).unwrap();
    let b = w.app.generate("bank-b", "730264", &w.phone).unwrap();
    assert!(w.bank.verify_login(&serial_a, &a.code).unwrap());
    assert!(bank_b.verify_login(&serial_b, &b.code).unwrap());
    assert!(!bank_b.verify_login(&serial_b, &a.code).unwrap_or(false) || a.code == b.code);

    w.app.cancel("bank-a").unwrap();
    assert_eq!(
        w.app.generate("bank-a", PASSWORD, &w.phone).unwrap_err(),
        ClientError::NotRegistered
    );
    assert_eq!(w.app.cancel("bank-a").unwrap_err(), ClientError::NotRegistered);
    assert!(w.app.generate("bank-b", "730264", &w.phone).is_ok());
    assert_eq!(w.store.keys_with("digital-otp.v1.credential.").len(), 1);
}

#[test]
fn change_password() {
    let w = world();
    w.register("c");
    assert!(matches!(
        w.app.change_password("bank-a", PASSWORD, "111111", &w.phone),
        Err(ClientError::Policy(_))
    ));
    assert_eq!(
        w.app.change_password("bank-a", "000001", "730264", &w.phone).unwrap_err(),
        ClientError::WrongPassword { remaining: 4 }
    );
    w.app.change_password("bank-a", PASSWORD, "730264", &w.phone).unwrap();
    assert!(matches!(
        w.app.generate("bank-a", PASSWORD, &w.phone),
        Err(ClientError::WrongPassword { .. })
    ));
    assert!(w.app.generate("bank-a", "730264", &w.phone).is_ok());
}

#[test]
fn the_issuer_clock_offset_applies_to_every_code() {
    let bank_clock = Arc::new(FixedClock::new(T0 + 95));
    let app_clock = Arc::new(FixedClock::new(T0));
    let store = Arc::new(MemoryStore::new());
    let app = Client::with_iterations(store, app_clock.clone(), MIN_PBKDF2_ITERATIONS);
    let bank = Issuer::new("bank-a", "Bank A", bank_clock.clone());
    let code = bank.issue_registration_code("c").unwrap();
    let request = app.begin_registration(code.as_str(), "010-1234-5678", "d").unwrap();
    let serial = app
        .complete_registration(&bank.handle_registration(&request), PASSWORD)
        .unwrap()
        .serial_number;
    let dev = Device::new("010-1234-5678", "d").unwrap();
    for _ in 0..3 {
        let login = app.generate("bank-a", PASSWORD, &dev).unwrap();
        assert!(bank.verify_login(&serial, &login.code).unwrap());
        // Validity is in the app's own clock.
        let now = app_clock.now();
        assert!(login.valid_from <= now && now < login.valid_until, "{login:?}");
        app_clock.advance(30);
        bank_clock.advance(30);
    }
}

trait Now {
    fn now(&self) -> u64;
}
impl Now for FixedClock {
    fn now(&self) -> u64 {
        digital_otp::host::Clock::now_unix_seconds(self).unwrap()
    }
}

#[test]
fn expiry_after_three_years() {
    let w = world();
    let serial = w.register("c");
    w.clock.advance(3 * 365 * 24 * 3600 + 24 * 3600);
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].status, Status::Expired);
    assert_eq!(w.app.generate("bank-a", PASSWORD, &w.phone).unwrap_err(), ClientError::Expired);
    assert!(!w.bank.verify_login(&serial, "123456").unwrap());
}

#[test]
fn default_iterations_are_the_calibrated_ones() {
    let clock = Arc::new(FixedClock::new(T0));
    let store = TestStore::new();
    let app = Client::new(store.clone(), clock.clone());
    let bank = Issuer::new("bank-a", "Bank A", clock);
    let code = bank.issue_registration_code("c").unwrap();
    let request = app.begin_registration(code.as_str(), "010-1234-5678", "d").unwrap();
    app.complete_registration(&bank.handle_registration(&request), PASSWORD).unwrap();
    // Downgrading the stored iteration count is detected as tampering: the count is
    // inside the authenticated blob, so it cannot be edited without the device key.
    assert!(app.generate("bank-a", PASSWORD, &Device::new("010-1234-5678", "d").unwrap()).is_ok());
}
