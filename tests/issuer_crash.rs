//! Reliability: a child process verifies codes in a burst against an SQLite database and
//! is killed with SIGKILL; the database must then be consistent, and every step the
//! child reported as accepted must still be refused as a replay.
#![cfg(all(feature = "issuer", unix))]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use digital_otp::host::FixedClock;
use digital_otp::issuer::master_key::MasterKey;
use digital_otp::issuer::model::{AuditQuery, CustomerKind, DeviceState, Moving, Residency};
use digital_otp::issuer::sqlite::SqliteStore;
use digital_otp::issuer::*;
use digital_otp::otp::{Algorithm, Secret, Totp};

const KEY: &str = "8f0e1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100";
const T0: u64 = 1_800_000_000;
const DB_VAR: &str = "DOTP_CRASH_TEST_DB";

fn token() -> Secret {
    Secret::from_bytes(b"crash-test-token-key").unwrap()
}

fn open(db: &str, clock: Arc<FixedClock>) -> Issuer {
    Issuer::open(
        Arc::new(SqliteStore::open(db).unwrap()),
        MasterKey::from_hex(KEY).unwrap(),
        clock,
        None,
        IssuerConfig::default(),
    )
    .unwrap()
}

/// The child: verifies one code per time step, forever, printing each accepted step
/// after its transaction committed. Run only by `sigkill_during_a_burst_loses_no_accepted_step`.
#[test]
#[ignore = "run as a child process by sigkill_during_a_burst_loses_no_accepted_step"]
fn burst_child() {
    let db = std::env::var(DB_VAR).expect("the parent sets the database path");
    let clock = Arc::new(FixedClock::new(T0));
    let issuer = open(&db, clock.clone());
    let totp = Totp::new(&token(), Algorithm::Sha1, 6, 30, 0).unwrap();
    for i in 0u64.. {
        let now = T0 + 30 * i;
        clock.set(now);
        // A wrong code first every third step, so the error counter moves too.
        if i % 3 == 0 {
            issuer.verify_login("burst", "bank-a", "kim", "000000").unwrap();
        }
        let code = totp.generate_at(now).unwrap().to_string();
        if issuer.verify_login("burst", "bank-a", "kim", &code).unwrap() == Verdict::Accepted {
            println!("accepted {}", totp.step_at(now).unwrap());
        }
    }
}

#[test]
fn sigkill_during_a_burst_loses_no_accepted_step() {
    let dir = std::env::temp_dir().join(format!("dotp-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("issuer.db").to_string_lossy().to_string();
    {
        let issuer = open(&db, Arc::new(FixedClock::new(T0)));
        issuer.add_institution("setup", "bank-a", "Bank A").unwrap();
        issuer
            .register_customer(
                "setup",
                &NewCustomer {
                    institution_id: "bank-a".into(),
                    customer_id: "kim".into(),
                    name: "Kim".into(),
                    kind: CustomerKind::Individual,
                    residency: Residency::Domestic,
                    phone_number: "010-1234-5678".into(),
                    real_name_number: None,
                },
            )
            .unwrap();
        issuer
            .import_device(
                "setup",
                &ImportDevice {
                    vendor_code: "VASCO".into(),
                    serial_number: "CRASH1".into(),
                    secret: token(),
                    algorithm: Algorithm::Sha1,
                    digits: 6,
                    moving: Moving::Totp { period: 30 },
                    valid_until: T0 + 10 * 365 * 86_400,
                },
            )
            .unwrap();
        issuer.register_device("setup", "bank-a", "kim", "VASCO", "CRASH1", None).unwrap();
    }

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["burst_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(DB_VAR, &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut accepted = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while accepted.len() < 300 && Instant::now() < deadline {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(step) = line.strip_prefix("accepted ") {
                    accepted.push(step.parse::<u64>().unwrap());
                }
            }
            _ => break,
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        accepted.len() >= 300,
        "the child accepted only {} codes before the deadline",
        accepted.len()
    );

    let store = SqliteStore::open(&db).unwrap();
    store.integrity_check().unwrap();
    let last = *accepted.last().unwrap();
    let clock = Arc::new(FixedClock::new(last * 30));
    let issuer = Issuer::open(
        Arc::new(store),
        MasterKey::from_hex(KEY).unwrap(),
        clock.clone(),
        None,
        IssuerConfig::default(),
    )
    .unwrap();
    // Every reported step is persisted: the last one (and so all before it) is a replay now.
    let totp = Totp::new(&token(), Algorithm::Sha1, 6, 30, 0).unwrap();
    assert_eq!(
        issuer
            .verify_login("check", "bank-a", "kim", &totp.generate_step(last).to_string())
            .unwrap(),
        Verdict::Rejected
    );
    let oks = issuer
        .audit(&AuditQuery {
            action: Some("verify_login".into()),
            limit: 100_000,
            ..Default::default()
        })
        .unwrap();
    assert!(oks.iter().filter(|e| e.outcome == "ok").count() >= accepted.len());
    let d = issuer.device_inquiry("check", "bank-a", "VASCO", "CRASH1").unwrap();
    assert_eq!(d.state, DeviceState::Active);
    assert!(d.error_count <= 1, "error count {}", d.error_count);
    // And the device keeps working after the crash. (Later than any step the child can
    // have reached: it keeps verifying until the kill, past the last line read here.)
    let later = last + 100_000;
    clock.set(later * 30);
    assert_eq!(
        issuer
            .verify_login("check", "bank-a", "kim", &totp.generate_step(later).to_string())
            .unwrap(),
        Verdict::Accepted
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
