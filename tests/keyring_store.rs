//! The keyring-backed store (feature `keyring`) against the real platform store: on
//! Linux, the kernel's keyutils (session keyring), which needs no daemon.
#![cfg(all(
    feature = "keyring",
    feature = "issuer",
    feature = "file-store",
    feature = "test-support",
    target_os = "linux"
))]

use std::sync::Arc;

use digital_otp::enrollment::Device;
use digital_otp::host::FixedClock;
mod common;

use common::bank::{app, Bank as Issuer};
use digital_otp::host::SecureStore;
use digital_otp::storage::keyring_store::KeyringStore;
use digital_otp::storage::SoftwareKeys;

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
    // Linux keyutils (linux-keyutils-keyring-store 1.0) refuses a process's first keyring
    // operation when it is a write; KeyringStore::platform works around it, so this
    // process's first operation here is registration's write of the device key.
    let clock = Arc::new(FixedClock::new(1_800_000_000));
    // The software device keys live in the keyring too.
    let keys = Arc::new(SoftwareKeys::new(store.clone()));
    let first = app(store.clone(), keys.clone(), clock.clone());
    let bank = Issuer::new("bank-a", "Bank A", clock);
    let device = Device::new("010-1234-5678", "d").unwrap();
    let serial = bank.register_phone(&first, "c", &device, "482915").unwrap().serial_number;
    // A second client over the same keyring sees the credential and can use its key.
    let reopened = app(store, keys, Arc::new(FixedClock::new(1_800_000_000)));
    let login = bank.login_code(&reopened, &device, "482915").unwrap();
    assert!(bank.verify_login(&serial, &login.code).unwrap());
    reopened.reset_all().unwrap();
    assert!(reopened.credentials(&device).unwrap().is_empty());
}
