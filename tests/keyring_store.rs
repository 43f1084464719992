//! The keyring-backed store (feature `keyring`) against the real platform store: on
//! Linux, the kernel's keyutils (session keyring), which needs no daemon.
#![cfg(all(feature = "keyring", feature = "issuer", target_os = "linux"))]

use std::sync::Arc;

use digital_otp::client::{Client, MIN_PBKDF2_ITERATIONS};
use digital_otp::enrollment::Device;
use digital_otp::host::FixedClock;
mod common;

use common::bank::Bank as Issuer;
use digital_otp::host::SecureStore;
use digital_otp::storage::keyring_store::KeyringStore;

#[test]
fn raw_operations() {
    let store =
        KeyringStore::platform(&format!("org.digitalotp.test.raw.{}", std::process::id())).unwrap();
    assert_eq!(store.read("a".into()).unwrap(), None);
    store.write("a".into(), vec![0, 1, 2, 255]).unwrap();
    store.write("a".into(), vec![9; 300]).unwrap();
    assert_eq!(store.read("a".into()).unwrap(), Some(vec![9; 300]));
    store.delete("a".into()).unwrap();
    store.delete("a".into()).unwrap();
    assert_eq!(store.read("a".into()).unwrap(), None);
}

#[test]
fn a_credential_lives_in_the_keyring() {
    let store = Arc::new(
        KeyringStore::platform(&format!("org.digitalotp.test.app.{}", std::process::id())).unwrap(),
    );
    let clock = Arc::new(FixedClock::new(1_800_000_000));
    let app = Client::with_iterations(store.clone(), clock.clone(), MIN_PBKDF2_ITERATIONS);
    let bank = Issuer::new("bank-a", "Bank A", clock);
    let code = bank.issue_registration_code("c").unwrap();
    let request = app.begin_registration(code.as_str(), "010-1234-5678", "d").unwrap();
    let serial = app
        .complete_registration(&bank.handle_registration(&request), "482915")
        .unwrap()
        .serial_number;
    let device = Device::new("010-1234-5678", "d").unwrap();
    // A second client over the same keyring sees the credential.
    let reopened = Client::with_iterations(
        store,
        Arc::new(FixedClock::new(1_800_000_000)),
        MIN_PBKDF2_ITERATIONS,
    );
    let login = reopened.generate("bank-a", "482915", &device).unwrap();
    assert!(bank.verify_login(&serial, &login.code).unwrap());
    reopened.reset_all().unwrap();
    assert!(reopened.credentials(&device).unwrap().is_empty());
}
