//! Verifications per second through the SQLite store, with replay protection, the error
//! counter, drift and the audit log persisted (one transaction per verification), for
//! 1 and 2 threads. Mobile OTPs registered through the real enrollment protocol.
//!
//! Run: `cargo bench --features issuer --bench issuer`

use std::sync::Arc;
use std::time::Instant;

use digital_otp::enrollment::{self, Device, PendingRegistration, RegistrationCode};
use digital_otp::host::FixedClock;
use digital_otp::issuer::master_key::MasterKey;
use digital_otp::issuer::model::{CustomerKind, Residency};
use digital_otp::issuer::sqlite::SqliteStore;
use digital_otp::issuer::{Issuer, IssuerConfig, NewCustomer, Verdict};
use digital_otp::otp::Totp;

const T0: u64 = 1_800_000_000;

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
    let issuer =
        Arc::new(Issuer::open(store, key, clock.clone(), None, IssuerConfig::default()).unwrap());
    issuer.add_institution("bench", "bank-a", "Bank A").unwrap();

    // Enroll customers through the protocol; keep each one's login TOTP.
    let device = Device::new("010-1234-5678", "bench-device").unwrap();
    let mut totps: Vec<(String, Totp)> = Vec::with_capacity(customers);
    for i in 0..customers {
        let customer = format!("c{i:05}");
        issuer
            .register_customer(
                "bench",
                &NewCustomer {
                    institution_id: "bank-a".into(),
                    customer_id: customer.clone(),
                    name: "Bench".into(),
                    kind: CustomerKind::Individual,
                    residency: Residency::Domestic,
                    phone_number: "010-1234-5678".into(),
                },
            )
            .unwrap();
        let code = issuer.issue_non_face_to_face("bench", "bank-a", &customer, "kyc").unwrap();
        let code = RegistrationCode::parse(code.as_str()).unwrap();
        let (pending, request) = PendingRegistration::begin(code, &device).unwrap();
        let done = pending.complete(&issuer.handle_registration("bench", &request)).unwrap();
        let keys = enrollment::derive_keys(&done.seed, &done.grant.params).unwrap();
        totps.push((customer, enrollment::login_totp(&keys, &done.grant.params).unwrap()));
    }
    let totps = Arc::new(totps);

    println!(
        "issuer verification throughput (SQLite, WAL, synchronous=NORMAL; {customers} mobile OTPs)"
    );
    let mut round = 0u64;
    for threads in [1usize, 2] {
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
            "{threads} thread(s): {total} verifications in {:.2} s = {:.0} verifications/s ({:.1} us each)",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64() * 1e6 / total as f64
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
