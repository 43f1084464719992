//! The issuer through the SQLite store, for 1 and 2 threads (and 16 for verifications, to show group commit):
//!
//! - verifications per second, with replay protection, the error counter, drift and the
//!   audit log persisted (one transaction per verification). Mobile OTPs registered
//!   through the real enrollment protocol (the app's half on the protocol itself, its
//!   device key in software), one phone number per customer: the issuer finds a
//!   registration code by institution and phone;
//! - unlock round trips, the one every code needs: the app's `begin_login_code` (OPRF
//!   blind, device key signature, a store write) → the issuer's `handle_unlock` (the
//!   signature checked, the guess counted, the OPRF evaluated, one transaction with its
//!   audit entry) → the app's `complete_login_code` (OPRF finish, PBKDF2, the seed
//!   opened, the code), each step timed. Apps registered through `Client`, their device
//!   keys in software (ring) in memory.
//!
//! Run: `cargo bench --features issuer --bench issuer` (the app's PBKDF2 at its
//! calibrated 1,000,000 iterations).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use digital_otp::client::Client;
use digital_otp::enrollment::{self, Device, PendingRegistration, RegistrationCode};
use digital_otp::host::{
    Clock, DeviceKey, DeviceKeys, FixedClock, HostError, KeyEvidence, SecureStore,
};
use digital_otp::issuer::master_key::MasterKey;
use digital_otp::issuer::model::{CustomerKind, Residency};
use digital_otp::issuer::sqlite::SqliteStore;
use digital_otp::issuer::{Issuer, IssuerConfig, NewCustomer, Verdict};
use digital_otp::otp::Totp;
use digital_otp::storage::MemoryStore;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};

const T0: u64 = 1_800_000_000;
const PASSWORD: &str = "482915";

/// An app over a store in memory with device keys in memory: the app's PBKDF2 at its
/// calibrated 1,000,000 iterations when measuring, the fewest allowed in the smoke run.
/// (The crate's tests and benches always have feature `test-support`: Cargo.toml.)
fn app(clock: Arc<dyn Clock>, measure: bool) -> Client {
    let store: Arc<dyn SecureStore> = Arc::new(MemoryStore::new());
    Client::with_iterations(store, Arc::new(BenchKeys::default()), clock, app_iterations(measure))
}

/// The app's PBKDF2 iterations: calibrated when measuring, the fewest in the smoke run.
fn app_iterations(measure: bool) -> u32 {
    use digital_otp::client::{MIN_PBKDF2_ITERATIONS, PBKDF2_ITERATIONS};
    if measure {
        PBKDF2_ITERATIONS
    } else {
        MIN_PBKDF2_ITERATIONS
    }
}

/// Device keys in software (ring), in memory: one P-256 key per alias, evidence `None`.
#[derive(Default)]
struct BenchKeys(Mutex<HashMap<String, EcdsaKeyPair>>);

fn key_failure(reason: &str) -> HostError {
    HostError::Failed { reason: reason.into() }
}

impl DeviceKeys for BenchKeys {
    fn create_key(&self, alias: String, _challenge: Vec<u8>) -> Result<DeviceKey, HostError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| key_failure("key generation"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| key_failure("the new key"))?;
        let public_key = pair.public_key().as_ref().to_vec();
        self.0.lock().unwrap().insert(alias, pair);
        Ok(DeviceKey { public_key, evidence: KeyEvidence::default() })
    }
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, HostError> {
        let keys = self.0.lock().unwrap();
        let pair = keys.get(&alias).ok_or_else(|| key_failure("no such key"))?;
        let signature =
            pair.sign(&SystemRandom::new(), &message).map_err(|_| key_failure("signing"))?;
        Ok(signature.as_ref().to_vec())
    }
    fn delete_key(&self, alias: String) -> Result<(), HostError> {
        self.0.lock().unwrap().remove(&alias);
        Ok(())
    }
}

/// Registers a customer of bank-a with `phone` and issues a registration code.
fn customer_with_code(issuer: &Issuer, customer: &str, phone: &str) -> RegistrationCode {
    issuer
        .register_customer(
            "bench",
            &NewCustomer {
                institution_id: "bank-a".into(),
                customer_id: customer.into(),
                name: "Bench".into(),
                kind: CustomerKind::Individual,
                residency: Residency::Domestic,
                phone_number: phone.into(),
                real_name_number: None,
            },
        )
        .unwrap();
    issuer.issue_non_face_to_face("bench", "bank-a", customer, "kyc").unwrap()
}

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --all-targets` this runs as a
    // quick smoke test of the same path instead of a measurement.
    let measure = std::env::args().any(|a| a == "--bench");
    let (customers, rounds): (usize, u64) = if measure { (1000, 20) } else { (20, 2) };
    let dir = std::env::temp_dir().join(format!("dotp-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let clock = Arc::new(FixedClock::new(T0));
    let (key, _) = MasterKey::generate().unwrap();
    let store = Arc::new(SqliteStore::open(dir.join("issuer.db")).unwrap());
    let issuer = Arc::new(
        Issuer::open(store.clone(), key, clock.clone(), None, IssuerConfig::default()).unwrap(),
    );
    issuer.add_institution("bench", "bank-a", "Bank A").unwrap();

    // Enroll customers through the protocol; keep each one's login TOTP. One device key
    // serves every phone here (the issuer keeps each credential's own copy).
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let key =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let public: [u8; 65] = key.public_key().as_ref().try_into().unwrap();
    let mut totps: Vec<(String, Totp)> = Vec::with_capacity(customers);
    for i in 0..customers {
        let customer = format!("c{i:05}");
        let phone = format!("010-{:04}-{:04}", 1000 + i / 10_000, i % 10_000);
        let code = customer_with_code(&issuer, &customer, &phone);
        let device = Device::new(&phone, "bench-device").unwrap();
        let mut pending =
            PendingRegistration::start(&code, &device, "bank-a", PASSWORD.as_bytes()).unwrap();
        let request = pending.request(public, KeyEvidence::default()).unwrap();
        let done = pending.answer(&issuer.handle_registration("bench", &request)).unwrap();
        let signature = key.sign(&rng, &done.to_sign).unwrap();
        let outcome = issuer.handle_registration("bench", &done.confirmation(signature.as_ref()));
        done.outcome(&outcome).unwrap();
        let keys = enrollment::derive_keys(&done.seed, &done.grant.params).unwrap();
        totps.push((customer, enrollment::login_totp(&keys, &done.grant.params).unwrap()));
    }
    let totps = Arc::new(totps);

    println!(
        "issuer verification throughput (SQLite, WAL, synchronous=FULL, group commit; {customers} mobile OTPs)"
    );
    let mut round = 0u64;
    for threads in [1usize, 2, 16] {
        let commits = store.commits();
        // Every verification is a fresh (customer, step): accepted, so each one writes
        // the device (last step, counters, drift) and an audit entry.
        let started = Instant::now();
        let mut total = 0usize;
        for _ in 0..rounds {
            round += 1;
            let now = T0 + 30 * round;
            clock.set(now);
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (issuer, totps) = (issuer.clone(), totps.clone());
                    std::thread::spawn(move || {
                        let mut accepted = 0usize;
                        for (customer, totp) in totps.iter().skip(t).step_by(threads) {
                            let code = totp.generate_at(now).unwrap().to_string();
                            if issuer.verify_login("bench", "bank-a", customer, &code).unwrap()
                                == Verdict::Accepted
                            {
                                accepted += 1;
                            }
                        }
                        accepted
                    })
                })
                .collect();
            let accepted: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
            assert_eq!(accepted, customers, "every fresh code must be accepted");
            total += accepted;
        }
        let elapsed = started.elapsed();
        println!(
            "{threads} thread(s): {total} verifications in {:.2} s = {:.0} verifications/s ({:.1} us each; {:.1} per commit)",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64() * 1e6 / total as f64,
            total as f64 / (store.commits() - commits).max(1) as f64
        );
    }
    unlocks(&issuer, &clock, measure);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Unlock round trips: apps registered through `Client`, then one login code after
/// another on each (every request carries the confirmation of the last unlock, so the
/// issuer's count of unconfirmed guesses never reaches its limit), the apps shared out
/// among the threads.
fn unlocks(issuer: &Arc<Issuer>, clock: &Arc<FixedClock>, measure: bool) {
    let (phones, rounds): (usize, usize) = if measure { (10, 20) } else { (2, 2) };
    let mut apps = Vec::with_capacity(phones);
    for i in 0..phones {
        let phone = format!("011-{:04}-{:04}", 1000 + i / 10_000, i % 10_000);
        let code = customer_with_code(issuer, &format!("u{i:05}"), &phone);
        let device = Device::new(&phone, "bench-device").unwrap();
        let app = app(clock.clone(), measure);
        let request =
            app.begin_registration("bank-a", code.as_str(), device.clone(), PASSWORD).unwrap();
        let confirmation =
            app.confirm_registration(&issuer.handle_registration("bench", &request)).unwrap();
        let outcome = issuer.handle_registration("bench", &confirmation);
        app.complete_registration("bank-a", &outcome).unwrap();
        apps.push((app, device));
    }
    let apps = Arc::new(apps);

    println!(
        "unlock round trips (app begin -> issuer handle_unlock -> app complete; SQLite; \
         {phones} mobile OTPs; app PBKDF2 {} iterations)",
        app_iterations(measure)
    );
    for threads in [1usize, 2] {
        let started = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (issuer, apps) = (issuer.clone(), apps.clone());
                std::thread::spawn(move || {
                    // Time in the app's begin, the issuer, the app's complete.
                    let mut spent = [Duration::ZERO; 3];
                    let mut done = 0usize;
                    for _ in 0..rounds {
                        for (app, device) in apps.iter().skip(t).step_by(threads) {
                            let t0 = Instant::now();
                            let request = app.begin_login_code("bank-a", PASSWORD, device).unwrap();
                            let t1 = Instant::now();
                            let answer = issuer.handle_unlock("bench", &request);
                            let t2 = Instant::now();
                            let code = app.complete_login_code(&answer).unwrap();
                            let t3 = Instant::now();
                            assert_eq!(code.code.len(), 6);
                            for (s, d) in spent.iter_mut().zip([t1 - t0, t2 - t1, t3 - t2]) {
                                *s += d;
                            }
                            done += 1;
                        }
                    }
                    (done, spent)
                })
            })
            .collect();
        let mut total = 0usize;
        let mut spent = [Duration::ZERO; 3];
        for h in handles {
            let (done, s) = h.join().unwrap();
            total += done;
            for (a, b) in spent.iter_mut().zip(s) {
                *a += b;
            }
        }
        let elapsed = started.elapsed();
        assert_eq!(total, phones * rounds, "every round trip must give a code");
        let each = |d: Duration| d.as_secs_f64() * 1e6 / total as f64;
        println!(
            "{threads} thread(s): {total} round trips in {:.2} s = {:.0} round trips/s; \
             each: app begin {:.0} us, issuer {:.0} us, app complete {:.0} us",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64(),
            each(spent[0]),
            each(spent[1]),
            each(spent[2]),
        );
    }
    // The right password every time: no guess is left unconfirmed but the last.
    for (app, device) in apps.iter() {
        assert_eq!(app.credentials(device).unwrap()[0].attempts_remaining, 5);
    }
}
