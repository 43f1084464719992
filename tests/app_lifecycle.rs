//! The app side end to end against the issuer counterpart: registration (request,
//! response, confirmation, outcome), device binding, the app password and its lockout
//! (counted by the bank), storage faults, several institutions, concurrency, clock offset
//! and expiry.
#![cfg(all(feature = "issuer", feature = "file-store", feature = "test-support"))]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use digital_otp::client::{
    Client, ClientError, GeneratedCode, Status, CREDENTIAL_PREFIX, DEVICE_KEY,
};
use digital_otp::enrollment::{Device, ProtocolError, RegistrationCode, RejectReason};
use digital_otp::host::FixedClock;
use digital_otp::host::HostError;
mod common;

use common::bank::{Bank as Issuer, CredentialState};
use digital_otp::host::SecureStore;
use digital_otp::storage::{MemoryStore, SoftwareKeys};
use digital_otp::transaction::Transaction;

const T0: u64 = 1_800_000_000;
const BANK: &str = "bank-a";
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
    fn restore(&self, copy: HashMap<String, Vec<u8>>) {
        *self.map.lock().unwrap() = copy;
    }
    fn keys_with(&self, prefix: &str) -> Vec<String> {
        self.map.lock().unwrap().keys().filter(|k| k.starts_with(prefix)).cloned().collect()
    }
    fn len(&self) -> usize {
        self.map.lock().unwrap().len()
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
    /// The app's store.
    store: Arc<TestStore>,
    /// Where the (software) device keys live: the platform's key store, apart from the
    /// app's.
    keys: Arc<TestStore>,
    app: Client,
    bank: Issuer,
    phone: Device,
}

fn device() -> Device {
    Device::new("010-1234-5678", "android-id-1").unwrap()
}

fn app_over(store: Arc<TestStore>, keys: Arc<TestStore>, clock: Arc<FixedClock>) -> Client {
    common::bank::app(store, Arc::new(SoftwareKeys::new(keys)), clock)
}

fn world() -> World {
    let clock = Arc::new(FixedClock::new(T0));
    let (store, keys) = (TestStore::new(), TestStore::new());
    World {
        app: app_over(store.clone(), keys.clone(), clock.clone()),
        bank: Issuer::new(BANK, "Bank A", clock.clone()),
        clock,
        store,
        keys,
        phone: device(),
    }
}

impl World {
    fn register(&self, customer: &str) -> String {
        let info = self.bank.register_phone(&self.app, customer, &self.phone, PASSWORD).unwrap();
        assert_eq!(info.status, Status::Pending);
        assert_eq!(info.institution_id, BANK);
        info.serial_number
    }

    fn login(&self, password: &str) -> Result<GeneratedCode, ClientError> {
        self.bank.login_code(&self.app, &self.phone, password)
    }

    /// Device keys in the platform's key store.
    fn device_keys(&self) -> usize {
        self.keys.len()
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
    assert_eq!(w.device_keys(), 1, "one device key for the credential");

    // Activation: the first login code verifies at the bank.
    let login = w.login(PASSWORD).unwrap();
    assert_eq!(login.serial_number, serial);
    assert_eq!(login.code.len(), 6);
    assert!(login.valid_from <= T0 && T0 < login.valid_until);
    assert_eq!(login.valid_until - T0, login.seconds_remaining);
    assert!(w.bank.verify_login(&serial, &login.code).unwrap());
    assert_eq!(w.bank.credential_state(&serial), Some(CredentialState::Active));
    w.app.confirm_activation(BANK).unwrap();
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].status, Status::Active);

    // Replay refused; the next step's code accepted.
    assert!(!w.bank.verify_login(&serial, &login.code).unwrap());
    w.clock.advance(30);
    let next = w.login(PASSWORD).unwrap();
    assert!(w.bank.verify_login(&serial, &next.code).unwrap());

    // Transaction code: bound to amount and payee.
    let tx_code =
        w.bank.transaction_code(&w.app, &w.phone, PASSWORD, &transfer(1_500_000)).unwrap();
    assert_eq!(tx_code.summary, "Transfer KRW 1,500,000\nPayee: 홍길동\nAccount: 110123456789");
    assert_eq!(tx_code.code.len(), 8);
    assert_eq!(tx_code.serial_number, serial);
    assert!(!w.bank.verify_transaction(&serial, &tx_code.code, &transfer(1_500_001)).unwrap());
    let other_payee = Transaction { payee_account: "110-123-456788".into(), ..transfer(1_500_000) };
    assert!(!w.bank.verify_transaction(&serial, &tx_code.code, &other_payee).unwrap());
    assert!(w.bank.verify_transaction(&serial, &tx_code.code, &transfer(1_500_000)).unwrap());
    assert!(
        !w.bank.verify_transaction(&serial, &tx_code.code, &transfer(1_500_000)).unwrap(),
        "replay"
    );

    // Five wrong passwords, counted by the bank, lock it and destroy the seed and the
    // device key.
    for remaining in (1..=4).rev() {
        assert_eq!(w.login("000001").unwrap_err(), ClientError::WrongPassword { remaining });
    }
    assert_eq!(w.login("000001").unwrap_err(), ClientError::Locked);
    assert_eq!(w.login(PASSWORD).unwrap_err(), ClientError::Locked);
    let listed = &w.app.credentials(&w.phone).unwrap()[0];
    assert_eq!((listed.status, listed.attempts_remaining), (Status::Locked, 0));
    assert_eq!(w.device_keys(), 0, "the device key is destroyed");
    let blob_keys = w.store.keys_with(CREDENTIAL_PREFIX);
    let stored = String::from_utf8_lossy(&w.store.snapshot()[&blob_keys[0]]).to_string();
    assert!(!stored.contains("sealed_seed"), "the blob is encrypted");

    // Registering again restores service; the old serial is revoked at the bank.
    w.clock.advance(60);
    let new_serial = w.register("customer-1");
    assert_ne!(new_serial, serial);
    assert_eq!(w.bank.credential_state(&serial), Some(CredentialState::Revoked));
    let code = w.login(PASSWORD).unwrap();
    assert!(w.bank.verify_login(&new_serial, &code.code).unwrap());
    assert_eq!(w.store.keys_with(CREDENTIAL_PREFIX).len(), 1, "the locked credential was replaced");
    assert_eq!(w.device_keys(), 1);
}

#[test]
fn success_resets_the_failure_count() {
    let w = world();
    let serial = w.register("c");
    for _ in 0..4 {
        assert!(matches!(w.login("000001"), Err(ClientError::WrongPassword { .. })));
    }
    w.login(PASSWORD).unwrap();
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].attempts_remaining, 5);
    // The next request tells the bank that the last evaluation opened the seed.
    assert_eq!(w.login("000001").unwrap_err(), ClientError::WrongPassword { remaining: 4 });

    // An accepted code clears the count at the bank too, even if the phone forgets the
    // unlock it came from (here: its store is put back to a copy from before it).
    for remaining in [3, 2, 1] {
        assert_eq!(w.login("000001").unwrap_err(), ClientError::WrongPassword { remaining });
    }
    let before = w.store.snapshot();
    let login = w.login(PASSWORD).unwrap();
    assert!(w.bank.verify_login(&serial, &login.code).unwrap());
    w.store.restore(before);
    w.clock.advance(30);
    assert_eq!(w.login("000001").unwrap_err(), ClientError::WrongPassword { remaining: 4 });
}

#[test]
fn a_crash_after_counting_keeps_the_count() {
    let w = world();
    w.register("c");
    // The request reaches the bank, which counts it; the "process" dies before the answer.
    let request = w.app.begin_login_code(BANK, "000001", &w.phone).unwrap();
    let answer = w.bank.handle_unlock(&request);
    let World { app, store, keys, clock, bank, phone } = w;
    drop(app);
    let reopened = app_over(store, keys, clock);
    // The new process has no unlock under way to give the old answer to.
    assert_eq!(reopened.complete_login_code(&answer).unwrap_err(), ClientError::NoUnlockInProgress);
    // The bank kept the count: the next wrong password is the second.
    assert_eq!(
        bank.login_code(&reopened, &phone, "000001").unwrap_err(),
        ClientError::WrongPassword { remaining: 3 }
    );
    // Two more requests the bank answered but the app never finished (even with the
    // right password, an evaluation no code or request confirms stays counted).
    for _ in 0..2 {
        bank.handle_unlock(&reopened.begin_login_code(BANK, PASSWORD, &phone).unwrap());
    }
    // Four counted, one attempt left: a wrong password now locks.
    assert_eq!(bank.login_code(&reopened, &phone, "000001").unwrap_err(), ClientError::Locked);
    assert_eq!(bank.login_code(&reopened, &phone, PASSWORD).unwrap_err(), ClientError::Locked);
}

#[test]
fn an_old_copy_of_the_store_gives_no_guess_back() {
    let w = world();
    w.register("c");
    // A copy of everything on the phone: the app's store and the device keys.
    let (before, before_keys) = (w.store.snapshot(), w.keys.snapshot());
    // Put back a second later: the copy's last request time is older than the bank's, and
    // a request in the same second would be refused as a replay.
    let restore = || {
        w.store.restore(before.clone());
        w.keys.restore(before_keys.clone());
        w.clock.advance(1);
    };
    for remaining in [4, 3, 2] {
        assert_eq!(w.login("000001").unwrap_err(), ClientError::WrongPassword { remaining });
    }
    // The copy from before the guesses says five are left; the bank says otherwise.
    restore();
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].attempts_remaining, 5);
    assert_eq!(w.login("000001").unwrap_err(), ClientError::WrongPassword { remaining: 1 });
    restore();
    assert_eq!(w.login("000001").unwrap_err(), ClientError::Locked);
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].status, Status::Locked);
    assert_eq!(w.device_keys(), 0, "the device key is destroyed");
    // The copy again, with the right password this time: the bank has locked it for good.
    restore();
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].status, Status::Pending);
    assert_eq!(w.login(PASSWORD).unwrap_err(), ClientError::Locked);
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].status, Status::Locked);
    assert_eq!(w.device_keys(), 0);
}

#[test]
fn several_unlocks_under_way_each_find_their_answer_and_each_count() {
    let w = Arc::new(world());
    w.register("c");
    // Two requests under way at once, answered in order, completed in the other order.
    let first = w.app.begin_login_code(BANK, "000001", &w.phone).unwrap();
    let second = w.app.begin_login_code(BANK, "000001", &w.phone).unwrap();
    let (first, second) = (w.bank.handle_unlock(&first), w.bank.handle_unlock(&second));
    assert_eq!(
        w.app.complete_login_code(&second).unwrap_err(),
        ClientError::WrongPassword { remaining: 3 }
    );
    assert_eq!(
        w.app.complete_login_code(&first).unwrap_err(),
        ClientError::WrongPassword { remaining: 4 }
    );
    // Each answer is used once.
    assert_eq!(w.app.complete_login_code(&first).unwrap_err(), ClientError::NoUnlockInProgress);
    // The right password clears the count (from the next request on).
    w.login(PASSWORD).unwrap();

    // Two threads with a wrong password: the network delivers their requests in turn,
    // the app finishes them concurrently; the bank counted both.
    let network = Arc::new(Mutex::new(()));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (w, network) = (w.clone(), network.clone());
            std::thread::spawn(move || {
                let answer = {
                    let _turn = network.lock().unwrap();
                    let request = w.app.begin_login_code(BANK, "000001", &w.phone).unwrap();
                    w.bank.handle_unlock(&request)
                };
                w.app.complete_login_code(&answer).unwrap_err()
            })
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
    // And many threads with the right password all get the same code.
    let codes: Vec<String> = (0..4)
        .map(|_| {
            let (w, network) = (w.clone(), network.clone());
            std::thread::spawn(move || {
                let answer = {
                    let _turn = network.lock().unwrap();
                    let request = w.app.begin_login_code(BANK, PASSWORD, &w.phone).unwrap();
                    w.bank.handle_unlock(&request)
                };
                w.app.complete_login_code(&answer).unwrap().code
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert!(codes.windows(2).all(|p| p[0] == p[1]));
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].attempts_remaining, 5);
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
            w.bank.login_code(&w.app, &other, PASSWORD).unwrap_err(),
            ClientError::DeviceMismatch
        );
        assert_eq!(w.app.credentials(&other).unwrap()[0].status, Status::DeviceMismatch);
    }
    // Formatting differences of the same number are the same device.
    let same = Device::new("+82 10 1234 5678", "android-id-1").unwrap();
    assert!(w.bank.login_code(&w.app, &same, PASSWORD).is_ok());
    // A mismatch is not a password failure: nothing reached the bank.
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].attempts_remaining, 5);
    assert_eq!(w.login("000001").unwrap_err(), ClientError::WrongPassword { remaining: 4 });
    let stored = format!("{:?}", w.store.snapshot());
    assert!(
        !stored.contains("1234") && !stored.contains("android-id"),
        "only a salted hash is stored"
    );
}

/// `bytes` (a JSON message) with the last hex digit of its string field `field` changed.
fn tamper(bytes: &[u8], field: &str) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let mut text = v[field].as_str().unwrap().to_string();
    let last = text.pop().unwrap();
    text.push(if last == '0' { '1' } else { '0' });
    v[field] = serde_json::Value::String(text);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn registration_codes_and_responses() {
    let w = world();
    let nothing_kept = |w: &World| {
        assert_eq!(w.store.len(), 0, "failed registrations write nothing");
        assert_eq!(w.device_keys(), 0, "and keep no device key");
    };
    // A typo is refused locally, before any network call.
    let code = w.bank.issue_registration_code("c").unwrap();
    let mut typo: Vec<u8> = code.as_str().bytes().collect();
    typo.swap(3, 4);
    if typo[3] != typo[4] {
        assert_eq!(
            w.app
                .begin_registration(BANK, std::str::from_utf8(&typo).unwrap(), device(), PASSWORD)
                .unwrap_err(),
            ClientError::Protocol(ProtocolError::CodeCheckDigit)
        );
    }
    assert!(matches!(
        w.app.begin_registration(BANK, "1234", device(), PASSWORD),
        Err(ClientError::Protocol(ProtocolError::CodeFormat))
    ));
    assert!(matches!(Device::new("12", "d"), Err(ProtocolError::PhoneNumber(_))));
    // A weak password is refused before any request.
    assert!(matches!(
        w.app.begin_registration(BANK, code.as_str(), device(), "123456"),
        Err(ClientError::Policy(_))
    ));
    assert_eq!(w.app.confirm_registration(b"{}").unwrap_err(), ClientError::NoPendingRegistration);
    assert_eq!(w.app.complete_registration(BANK, b"{}").unwrap_err(), ClientError::NotRegistered);
    nothing_kept(&w);

    // A wrong, an expired and a used code are answered alike: the bank's key
    // confirmation fails on the phone.
    let confirmation_failed: Result<(), ClientError> =
        Err(ClientError::Protocol(ProtocolError::Confirmation));
    let wrong = loop {
        let c = RegistrationCode::generate().unwrap();
        if c != code {
            break c;
        }
    };
    assert_eq!(
        w.bank.register(&w.app, wrong.as_str(), &w.phone, PASSWORD).map(|_| ()),
        confirmation_failed
    );
    let request = w.app.begin_registration(BANK, code.as_str(), device(), PASSWORD).unwrap();
    w.clock.advance(601);
    let response = w.bank.handle_registration(&request);
    assert_eq!(w.app.confirm_registration(&response).map(|_| ()), confirmation_failed);
    // The expired code is void now.
    assert_eq!(
        w.bank.register(&w.app, code.as_str(), &w.phone, PASSWORD).map(|_| ()),
        confirmation_failed
    );
    nothing_kept(&w);

    // A tampered response is refused and ends the attempt.
    let code = w.bank.issue_registration_code("c").unwrap();
    let request = w.app.begin_registration(BANK, code.as_str(), device(), PASSWORD).unwrap();
    let response = w.bank.handle_registration(&request);
    assert_eq!(
        w.app.confirm_registration(&tamper(&response, "grant")).unwrap_err(),
        ClientError::Protocol(ProtocolError::Confirmation)
    );
    assert_eq!(
        w.app.confirm_registration(&response).unwrap_err(),
        ClientError::NoPendingRegistration
    );
    nothing_kept(&w);
    for garbage in [
        &b""[..],
        b"null",
        b"{\"protocol\":\"digital-otp/registration\",\"version\":1}",
        b"{\"protocol\":\"digital-otp/registration\",\"version\":2}",
        &[0xff; 10],
    ] {
        let code = w.bank.issue_registration_code("c").unwrap();
        w.app.begin_registration(BANK, code.as_str(), device(), PASSWORD).unwrap();
        assert!(matches!(w.app.confirm_registration(garbage), Err(ClientError::Protocol(_))));
    }
    nothing_kept(&w);

    // A confirmation the bank refuses (its device signature altered on the way): the
    // outcome says so, and the credential and its device key are deleted.
    let code = w.bank.issue_registration_code("c").unwrap();
    let request = w.app.begin_registration(BANK, code.as_str(), device(), PASSWORD).unwrap();
    let confirmation = w.app.confirm_registration(&w.bank.handle_registration(&request)).unwrap();
    let outcome = w.bank.handle_registration(&tamper(&confirmation, "signature"));
    assert_eq!(
        w.app.complete_registration(BANK, &outcome).unwrap_err(),
        ClientError::Protocol(ProtocolError::Rejected(RejectReason::Refused))
    );
    assert_eq!(w.app.credentials(&w.phone).unwrap(), vec![]);
    assert_eq!(w.device_keys(), 0);

    // Between the confirmation and the outcome the credential is registering, not usable;
    // a tampered outcome leaves it so, the bank's completes it.
    let code = w.bank.issue_registration_code("c").unwrap();
    let request = w.app.begin_registration(BANK, code.as_str(), device(), PASSWORD).unwrap();
    let confirmation = w.app.confirm_registration(&w.bank.handle_registration(&request)).unwrap();
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].status, Status::Registering);
    assert_eq!(w.login(PASSWORD).unwrap_err(), ClientError::Unconfirmed);
    assert_eq!(w.app.confirm_activation(BANK).unwrap_err(), ClientError::Unconfirmed);
    let outcome = w.bank.handle_registration(&confirmation);
    assert_eq!(
        w.app.complete_registration(BANK, &tamper(&outcome, "mac")).unwrap_err(),
        ClientError::Protocol(ProtocolError::Field("mac"))
    );
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].status, Status::Registering);
    let info = w.app.complete_registration(BANK, &outcome).unwrap();
    assert_eq!(info.status, Status::Pending);
    assert_eq!(
        w.app.complete_registration(BANK, &outcome).unwrap_err(),
        ClientError::NoPendingRegistration
    );

    // A used code: refused alike; the credential it made stays.
    assert_eq!(
        w.bank.register(&w.app, code.as_str(), &w.phone, PASSWORD).map(|_| ()),
        confirmation_failed
    );
    let listed = w.app.credentials(&w.phone).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].serial_number.as_str(), listed[0].status),
        (info.serial_number.as_str(), Status::Pending)
    );
    assert!(w.bank.verify_login(&info.serial_number, &w.login(PASSWORD).unwrap().code).unwrap());
    assert_eq!(w.device_keys(), 1);
}

#[test]
fn failing_or_forgetful_stores_never_half_write_or_lose_a_credential() {
    let w = world();
    let bank_b = Issuer::new("bank-b", "Bank B", w.clock.clone());
    w.register("c");
    let before = w.store.snapshot();
    let register_b = || bank_b.register_phone(&w.app, "c", &w.phone, PASSWORD);

    w.store.fail_writes.store(true, Ordering::SeqCst);
    assert!(matches!(register_b(), Err(ClientError::Store(_))));
    w.store.fail_writes.store(false, Ordering::SeqCst);
    assert_eq!(w.store.snapshot(), before);
    assert_eq!(w.device_keys(), 1, "the failed attempt's device key is deleted");

    // The credential is written, then the index write fails: rolled back.
    w.store.fail_after.store(1, Ordering::SeqCst);
    assert!(matches!(register_b(), Err(ClientError::Store(_))));
    w.store.fail_after.store(usize::MAX, Ordering::SeqCst);
    assert_eq!(w.store.snapshot(), before);
    assert_eq!(w.device_keys(), 1);

    w.store.lose_writes.store(true, Ordering::SeqCst);
    assert_eq!(register_b().unwrap_err(), ClientError::LostWrite);
    // A lost write of the request time means no request is sent at all.
    assert_eq!(
        w.app.begin_login_code(BANK, PASSWORD, &w.phone).unwrap_err(),
        ClientError::LostWrite
    );
    w.store.lose_writes.store(false, Ordering::SeqCst);
    assert_eq!(w.store.snapshot(), before);

    // The outcome cannot be stored: the credential stays registering, and the same
    // outcome completes it later.
    let code = bank_b.issue_registration_code("c").unwrap();
    let request = w.app.begin_registration("bank-b", code.as_str(), device(), PASSWORD).unwrap();
    let confirmation = w.app.confirm_registration(&bank_b.handle_registration(&request)).unwrap();
    let outcome = bank_b.handle_registration(&confirmation);
    w.store.fail_writes.store(true, Ordering::SeqCst);
    assert!(matches!(w.app.complete_registration("bank-b", &outcome), Err(ClientError::Store(_))));
    w.store.fail_writes.store(false, Ordering::SeqCst);
    let status_b = |w: &World| {
        w.app.credentials(&w.phone).unwrap().into_iter().find(|c| c.institution_id == "bank-b")
    };
    assert_eq!(status_b(&w).unwrap().status, Status::Registering);
    let serial_b = w.app.complete_registration("bank-b", &outcome).unwrap().serial_number;
    assert_eq!(status_b(&w).unwrap().status, Status::Pending);

    // bank-a's credential is intact and usable, and so is bank-b's.
    assert!(w.login(PASSWORD).is_ok());
    let b = bank_b.login_code(&w.app, &w.phone, PASSWORD).unwrap();
    assert!(bank_b.verify_login(&serial_b, &b.code).unwrap());
    assert_eq!(w.app.credentials(&w.phone).unwrap().len(), 2);
    assert_eq!(w.device_keys(), 2);
}

#[test]
fn tampered_or_truncated_blobs_are_reported() {
    let w = world();
    w.register("c");
    let key = w.store.keys_with(CREDENTIAL_PREFIX)[0].clone();
    let original = w.store.snapshot()[&key].clone();
    w.store.corrupt(&key, |b| {
        let n = b.len();
        b[n - 1] ^= 1;
    });
    assert!(matches!(w.login(PASSWORD), Err(ClientError::Corrupted(_))));
    assert!(matches!(w.app.credentials(&w.phone), Err(ClientError::Corrupted(_))));
    w.store.corrupt(&key, |b| b.truncate(10));
    assert!(matches!(w.login(PASSWORD), Err(ClientError::Corrupted(_))));
    w.store.corrupt(&key, |b| *b = original.clone());
    assert!(w.login(PASSWORD).is_ok());
    w.store.corrupt(DEVICE_KEY, |b| b[8] ^= 1);
    assert!(matches!(w.login(PASSWORD), Err(ClientError::Corrupted(_))));
    // Unreadable data: reset. The index cannot be read without the device key, so the
    // credential blob stays behind, sealed under a key that no longer exists (and so does
    // its device key, whose alias is inside it).
    w.app.reset_all().unwrap();
    assert_eq!(w.store.snapshot().keys().cloned().collect::<Vec<_>>(), vec![key]);
    assert_eq!(w.app.credentials(&w.phone).unwrap(), vec![]);
    w.register("c");
    assert_eq!(w.app.credentials(&w.phone).unwrap().len(), 1);
    assert!(w.login(PASSWORD).is_ok());
}

#[test]
fn forgotten_password_reset_deletes_everything() {
    let w = world();
    w.register("c");
    let bank_b = Issuer::new("bank-b", "Bank B", w.clock.clone());
    bank_b.register_phone(&w.app, "c", &w.phone, PASSWORD).unwrap();
    assert_eq!(w.device_keys(), 2);
    w.app.reset_all().unwrap();
    assert!(w.store.snapshot().is_empty());
    assert_eq!(w.device_keys(), 0, "the device keys are deleted too");
    assert_eq!(w.login(PASSWORD).unwrap_err(), ClientError::NotRegistered);
}

#[test]
fn several_institutions_and_cancellation() {
    let w = world();
    let bank_b = Issuer::new("bank-b", "Bank B", w.clock.clone());
    let serial_a = w.register("c");
    let serial_b = bank_b.register_phone(&w.app, "c", &w.phone, "730264").unwrap().serial_number;

    let list = w.app.credentials(&w.phone).unwrap();
    assert_eq!(
        list.iter().map(|c| c.institution_id.as_str()).collect::<Vec<_>>(),
        ["bank-a", "bank-b"]
    );
    assert_eq!(list[1].institution_name, "Bank B");
    let a = w.login(PASSWORD).unwrap();
    let b = bank_b.login_code(&w.app, &w.phone, "730264").unwrap();
    assert!(w.bank.verify_login(&serial_a, &a.code).unwrap());
    assert!(bank_b.verify_login(&serial_b, &b.code).unwrap());
    assert!(!bank_b.verify_login(&serial_b, &a.code).unwrap_or(false) || a.code == b.code);
    // Each bank's password is its own.
    assert_eq!(
        bank_b.login_code(&w.app, &w.phone, PASSWORD).unwrap_err(),
        ClientError::WrongPassword { remaining: 4 }
    );

    w.app.cancel(BANK).unwrap();
    assert_eq!(w.login(PASSWORD).unwrap_err(), ClientError::NotRegistered);
    assert_eq!(w.app.cancel(BANK).unwrap_err(), ClientError::NotRegistered);
    assert!(bank_b.login_code(&w.app, &w.phone, "730264").is_ok());
    assert_eq!(w.store.keys_with(CREDENTIAL_PREFIX).len(), 1);
    assert_eq!(w.device_keys(), 1, "the cancelled credential's device key is deleted");
}

#[test]
fn change_password() {
    let w = world();
    w.register("c");
    assert!(matches!(
        w.app.begin_change_password(BANK, PASSWORD, "111111", &w.phone),
        Err(ClientError::Policy(_))
    ));
    // The bank evaluates both passwords of a change: two guesses counted.
    assert_eq!(
        w.bank.change_password(&w.app, &w.phone, "000001", "730264").unwrap_err(),
        ClientError::WrongPassword { remaining: 3 }
    );
    w.bank.change_password(&w.app, &w.phone, PASSWORD, "730264").unwrap();
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].attempts_remaining, 5);
    // The old password is now a wrong one (the change confirmed the count away).
    assert_eq!(w.login(PASSWORD).unwrap_err(), ClientError::WrongPassword { remaining: 4 });
    let serial = w.app.credentials(&w.phone).unwrap()[0].serial_number.clone();
    let code = w.login("730264").unwrap();
    assert!(w.bank.verify_login(&serial, &code.code).unwrap());
    // With one attempt left a change would need two guesses: the bank evaluates the old
    // password alone, the app says to begin again, and the next change goes through.
    for remaining in (1..=4).rev() {
        assert_eq!(w.login("000001").unwrap_err(), ClientError::WrongPassword { remaining });
    }
    assert_eq!(
        w.bank.change_password(&w.app, &w.phone, "730264", "820461").unwrap_err(),
        ClientError::ChangeAgain
    );
    assert_eq!(w.app.credentials(&w.phone).unwrap()[0].attempts_remaining, 5);
    w.bank.change_password(&w.app, &w.phone, "730264", "820461").unwrap();
    w.clock.advance(30);
    let code = w.login("820461").unwrap();
    assert!(w.bank.verify_login(&serial, &code.code).unwrap());
    // A change's answer is not a login code's, nor the other way round.
    let request = w.app.begin_login_code(BANK, "820461", &w.phone).unwrap();
    let answer = w.bank.handle_unlock(&request);
    assert_eq!(
        w.app.complete_change_password(&answer).unwrap_err(),
        ClientError::NoUnlockInProgress
    );
}

#[test]
fn the_issuer_clock_offset_applies_to_every_code() {
    let bank_clock = Arc::new(FixedClock::new(T0 + 95));
    let app_clock = Arc::new(FixedClock::new(T0));
    let store = Arc::new(MemoryStore::new());
    let app =
        common::bank::app(store.clone(), Arc::new(SoftwareKeys::new(store)), app_clock.clone());
    let bank = Issuer::new(BANK, "Bank A", bank_clock.clone());
    let dev = Device::new("010-1234-5678", "d").unwrap();
    let serial = bank.register_phone(&app, "c", &dev, PASSWORD).unwrap().serial_number;
    for _ in 0..3 {
        let login = bank.login_code(&app, &dev, PASSWORD).unwrap();
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
    assert_eq!(w.login(PASSWORD).unwrap_err(), ClientError::Expired);
    assert!(!w.bank.verify_login(&serial, "123456").unwrap());
}

#[test]
fn default_iterations_are_the_calibrated_ones() {
    let clock = Arc::new(FixedClock::new(T0));
    let store = TestStore::new();
    let app = Client::new(store.clone(), Arc::new(SoftwareKeys::new(store.clone())), clock.clone());
    let bank = Issuer::new(BANK, "Bank A", clock);
    let dev = Device::new("010-1234-5678", "d").unwrap();
    let serial = bank.register_phone(&app, "c", &dev, PASSWORD).unwrap().serial_number;
    // Downgrading the stored iteration count is detected as tampering: the count is
    // inside the authenticated blob, so it cannot be edited without the device key.
    let login = bank.login_code(&app, &dev, PASSWORD).unwrap();
    assert!(bank.verify_login(&serial, &login.code).unwrap());
}
