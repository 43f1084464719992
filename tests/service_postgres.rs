//! Two `dotp issuer serve` processes on one PostgreSQL database, as two hosts behind a
//! load balancer (issue 16, item 5): one code verified through both at once is accepted
//! once; ten wrong codes spread over both lock the device at exactly ten; an instance
//! killed with SIGKILL mid-burst loses no accepted step and no counted error, and the
//! other keeps serving.
//!
//! Run under `scripts/with-postgres.sh` (the test command does); without
//! `DIGITAL_OTP_TEST_POSTGRES` these tests fail (common::pg).
#![cfg(all(feature = "cli", feature = "postgres", feature = "test-support"))]

mod common;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};

use common::http::{exchange, Answer};
use common::pg::fresh_database;
use digital_otp::client::{Client, MIN_PBKDF2_ITERATIONS};
use digital_otp::enrollment::Device;
use digital_otp::host::SystemClock;
use digital_otp::storage::{MemoryStore, SoftwareKeys};
use digital_otp::transaction::Transaction;
use serde_json::{json, Value};

const MASTER_KEY: &str = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
const PASSWORD: &str = "482915";
const VERIFY: &str = "/v1/institutions/bank-a/customers/c1/login-verifications";

/// A directory of its own per instance (its `sms.log`), removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Self {
        let mut bytes = [0u8; 8];
        digital_otp::crypto::random(&mut bytes).unwrap();
        let path = std::env::temp_dir()
            .join(format!("dotp-pg-serve-{}", digital_otp::crypto::hex(&bytes)));
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dotp(data: &Path, database: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dotp"));
    c.arg("--data-dir")
        .arg(data)
        .arg("--database")
        .arg(database)
        .env("DOTP_MASTER_KEY", MASTER_KEY);
    c
}

/// One `serve` process; killed (SIGKILL) when dropped.
struct Instance {
    child: Child,
    address: SocketAddr,
    _dir: Dir,
}

impl Instance {
    fn start(database: &str) -> Self {
        let dir = Dir::new();
        let mut child = dotp(&dir.0, database)
            .args(["issuer", "serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address =
            line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line}"));
        Instance { address: address.parse().unwrap(), child, _dir: dir }
    }

    fn call(&self, method: &str, path: &str, key: &str, body: &[u8]) -> Answer {
        exchange(TcpStream::connect(self.address).unwrap(), method, path, Some(key), body)
    }

    fn post(&self, path: &str, key: &str, body: Value) -> Answer {
        self.call("POST", path, key, body.to_string().as_bytes())
    }

    /// SIGKILL, as a crashed host.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A database with bank-a, its channel and staff keys, two instances on it, and customer
/// c1's app enrolled through the first and unlocked through the second.
struct Cluster {
    a: Instance,
    b: Instance,
    database: String,
    channel: String,
    staff: String,
    app: Client,
    phone: Device,
    _setup: Dir,
}

impl Cluster {
    fn new() -> Self {
        let database = fresh_database().expect("a PostgreSQL server");
        let setup = Dir::new();
        let run = |args: &[&str]| {
            let out = dotp(&setup.0, &database).args(args).output().unwrap();
            assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        };
        run(&["issuer", "add-institution", "bank-a", "Bank A"]);
        let key =
            |role: &str| run(&["issuer", "add-api-key", "--institution", "bank-a", "--role", role]);
        let channel = key("channel").lines().next().unwrap().to_owned();
        let staff = key("staff").lines().next().unwrap().to_owned();
        let (a, b) = (Instance::start(&database), Instance::start(&database));
        let r = a.post(
            "/v1/institutions/bank-a/customers",
            &staff,
            json!({ "customer": "c1", "name": "홍길동", "phone": "010-1234-5678" }),
        );
        assert_eq!(r.status, 201);
        let r = b.post(
            "/v1/institutions/bank-a/customers/c1/registration-codes",
            &staff,
            json!({ "verification_reference": "kyc-1" }),
        );
        let code = r.json()["registration_code"].as_str().unwrap().to_owned();
        let keys = Arc::new(SoftwareKeys::new(Arc::new(MemoryStore::new())));
        let app = Client::with_iterations(
            Arc::new(MemoryStore::new()),
            keys,
            Arc::new(SystemClock),
            MIN_PBKDF2_ITERATIONS,
        );
        let phone = Device::new("010-1234-5678", "android-id-1").unwrap();
        let path = "/v1/institutions/bank-a/registration";
        let request = app.begin_registration("bank-a", &code, phone.clone(), PASSWORD).unwrap();
        let confirmation =
            app.confirm_registration(&a.call("POST", path, &channel, &request).body).unwrap();
        // The confirmation reaches the other instance: the state is the database's.
        app.complete_registration("bank-a", &b.call("POST", path, &channel, &confirmation).body)
            .unwrap();
        Cluster { a, b, database, channel, staff, app, phone, _setup: setup }
    }

    /// A login code, unlocked through `via`.
    fn login_code(&self, via: &Instance) -> String {
        let request = self.app.begin_login_code("bank-a", PASSWORD, &self.phone).unwrap();
        let answer = via.call("POST", "/v1/institutions/bank-a/unlock", &self.channel, &request);
        self.app.complete_login_code(&answer.body).unwrap().code.to_string()
    }

    fn device(&self, via: &Instance) -> Value {
        let r = via.call("GET", "/v1/institutions/bank-a/customers/c1", &self.staff, b"");
        assert_eq!(r.status, 200);
        r.json()["devices"][0].clone()
    }
}

/// A well-formed code other than `code` (the last digit changed).
fn wrong(code: &str) -> String {
    let mut digits: Vec<u8> = code.bytes().collect();
    let last = digits.len() - 1;
    digits[last] = b'0' + (digits[last] - b'0' + 1) % 10;
    String::from_utf8(digits).unwrap()
}

/// `n` verifications of `codes[i]` at once, the even ones through `a`, the odd through
/// `b`; each answer's verdict (None: no answer).
fn burst(c: &Cluster, codes: &[String], a: &Instance, b: &Instance) -> Vec<Option<String>> {
    let barrier = Arc::new(Barrier::new(codes.len()));
    std::thread::scope(|s| {
        let handles: Vec<_> = codes
            .iter()
            .enumerate()
            .map(|(i, code)| {
                let barrier = barrier.clone();
                let via = if i % 2 == 0 { a } else { b };
                let channel = c.channel.clone();
                s.spawn(move || {
                    barrier.wait();
                    let stream = TcpStream::connect(via.address).ok()?;
                    let body = json!({ "code": code }).to_string();
                    let answer = std::panic::catch_unwind(|| {
                        exchange(stream, "POST", VERIFY, Some(&channel), body.as_bytes())
                    })
                    .ok()?;
                    (answer.status == 200)
                        .then(|| answer.json()["verdict"].as_str().unwrap().to_owned())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn one_code_through_two_instances_at_once_is_accepted_exactly_once() {
    let c = Cluster::new();
    let code = c.login_code(&c.b);
    let verdicts = burst(&c, &vec![code.clone(); 16], &c.a, &c.b);
    let accepted = verdicts.iter().filter(|v| v.as_deref() == Some("accepted")).count();
    let rejected = verdicts.iter().filter(|v| v.as_deref() == Some("rejected")).count();
    assert_eq!((accepted, rejected), (1, 15), "{verdicts:?}");
    assert_eq!(c.device(&c.a)["error_count"], 0, "replays are not counted");
}

#[test]
fn ten_wrong_codes_spread_over_two_instances_lock_the_device_at_both() {
    let c = Cluster::new();
    let good = c.login_code(&c.a);
    let verdicts = burst(&c, &vec![wrong(&good); 10], &c.a, &c.b);
    assert!(verdicts.iter().all(|v| v.as_deref() == Some("rejected")), "{verdicts:?}");
    let device = c.device(&c.b);
    assert_eq!(
        (device["error_count"].as_u64(), device["state"].as_str()),
        (Some(10), Some("locked")),
        "{device}"
    );
    // The right code is refused now, through either instance.
    for via in [&c.a, &c.b] {
        assert_eq!(
            via.post(VERIFY, &c.channel, json!({ "code": good })).json()["verdict"],
            "rejected"
        );
    }
}

#[test]
fn an_instance_killed_mid_burst_loses_no_accepted_step_and_the_other_keeps_serving() {
    let mut c = Cluster::new();
    // Accepted through A, which then dies: B knows the step is used.
    let code = c.login_code(&c.a);
    assert_eq!(c.a.post(VERIFY, &c.channel, json!({ "code": code })).json()["verdict"], "accepted");
    c.a.kill();
    assert_eq!(c.b.post(VERIFY, &c.channel, json!({ "code": code })).json()["verdict"], "rejected");

    // A burst of wrong codes over a new A and B, A killed while it runs: every answered
    // wrong code is counted (no lost update), none beyond those sent.
    let mut a2 = Instance::start(&c.database);
    let pid = a2.child.id().to_string();
    let codes = vec![wrong(&code); 8];
    let verdicts = std::thread::scope(|s| {
        let running = s.spawn(|| burst(&c, &codes, &a2, &c.b));
        // Kill A2 once the burst has reached the database (a counted wrong code), while it
        // is still under way.
        while c.device(&c.b)["error_count"].as_u64() < Some(1) && !running.is_finished() {
            std::thread::yield_now();
        }
        let killed = Command::new("kill").args(["-9", &pid]).status().unwrap();
        assert!(killed.success());
        running.join().unwrap()
    });
    a2.kill();
    let answered = verdicts.iter().filter(|v| v.is_some()).count() as u64;
    let count = c.device(&c.b)["error_count"].as_u64().unwrap();
    assert!(answered <= count && count <= 8, "answered {answered}, counted {count}: {verdicts:?}");

    // B serves on: a new transfer's code is accepted once.
    let tx = Transaction {
        amount_minor: 70_000,
        currency: "KRW".into(),
        payee_account: "110-123-456789".into(),
        payee_name: "김철수".into(),
        memo: None,
    };
    let request = c.app.begin_transaction_code("bank-a", PASSWORD, &c.phone, &tx).unwrap();
    let answer = c.b.call("POST", "/v1/institutions/bank-a/unlock", &c.channel, &request);
    let tx_code = c.app.complete_transaction_code(&answer.body).unwrap().code.to_string();
    let body = json!({ "code": tx_code, "transaction": { "amount_minor": 70_000, "currency": "KRW",
                       "payee_account": "110-123-456789", "payee_name": "김철수" } });
    let path = "/v1/institutions/bank-a/customers/c1/transaction-verifications";
    assert_eq!(c.b.post(path, &c.channel, body.clone()).json()["verdict"], "accepted");
    assert_eq!(c.b.post(path, &c.channel, body).json()["verdict"], "rejected");
}
