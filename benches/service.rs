//! The issuer service under load over loopback HTTP/1.1 (issue 16, item 9): verifications
//! per second and their p50/p99 latency, on SQLite (one instance) and, when
//! `DOTP_BENCH_POSTGRES` names a database, on PostgreSQL (one and two instances on it).
//!
//! Customers are enrolled through the service with the real protocol; each verifies its
//! login code once (accepted), and the load then sends that code again and again: every
//! request is a full verification — the key checked, the device read and authenticated,
//! the step compared, the refusal and its audit entry committed in one transaction before
//! the answer — which is what a replayed or wrong code costs, and an accepted code costs
//! the same plus one row. Clients keep their connections open (as a bank's backend does).
//!
//! Run: `scripts/with-postgres.sh env DIGITAL_OTP_PG_FSYNC=on sh -c 'DOTP_BENCH_POSTGRES=$DIGITAL_OTP_TEST_POSTGRES cargo bench --features cli --bench service'`
//! (the cluster then syncs its commits to disk, as in production). Without `--bench`
//! (`cargo test --all-targets`) it runs a few requests only.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use digital_otp::client::{Client, MIN_PBKDF2_ITERATIONS};
use digital_otp::enrollment::Device;
use digital_otp::host::SystemClock;
use digital_otp::issuer::api_keys::ApiRole;
use digital_otp::issuer::master_key::MasterKey;
use digital_otp::issuer::postgres::PostgresStore;
use digital_otp::issuer::sqlite::SqliteStore;
use digital_otp::issuer::store::IssuerStore;
use digital_otp::issuer::{Issuer, IssuerConfig};
use digital_otp::service::{self, Limits, ServiceConfig, Timeouts};
use digital_otp::storage::{MemoryStore, SoftwareKeys};
use serde_json::{json, Value};

const BANK: &str = "bench-bank";
const PASSWORD: &str = "482915";

/// One service in a thread of its own.
fn start(store: Arc<dyn IssuerStore>) -> (Arc<Issuer>, SocketAddr) {
    let key = MasterKey::from_bytes(&[9u8; 32]).unwrap();
    let issuer = Arc::new(
        Issuer::open(store, key, Arc::new(SystemClock), None, IssuerConfig::default()).unwrap(),
    );
    let served = issuer.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let config = ServiceConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            tls: None,
            allow_plain_http: false,
            limits: Limits { per_key_per_minute: u32::MAX, per_customer_per_minute: u32::MAX },
            timeouts: Timeouts::default(),
        };
        let _ = runtime.block_on(service::serve(
            served,
            config,
            move |a| tx.send(a).unwrap(),
            std::future::pending(),
        ));
    });
    (issuer, rx.recv().unwrap())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

fn post(agent: &ureq::Agent, url: &str, key: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut r = agent
        .post(url)
        .header("Authorization", &format!("Bearer {key}"))
        .content_type("application/json")
        .send(body)
        .unwrap();
    (r.status().as_u16(), r.body_mut().read_to_vec().unwrap())
}

/// `customers` customers enrolled through `at`, each with its login code accepted once.
fn enroll(at: SocketAddr, channel: &str, staff: &str, customers: usize) -> Vec<(String, String)> {
    let a = agent();
    let base = format!("http://{at}/v1/institutions/{BANK}");
    (0..customers)
        .map(|i| {
            let customer = format!("c{i}");
            let phone = format!("010-{:04}-{:04}", 1000 + i / 10_000, i % 10_000);
            let body =
                json!({ "customer": customer, "name": "홍길동", "phone": phone }).to_string();
            assert_eq!(post(&a, &format!("{base}/customers"), staff, body.as_bytes()).0, 201);
            let body = json!({ "verification_reference": "kyc" }).to_string();
            let (_, code) = post(
                &a,
                &format!("{base}/customers/{customer}/registration-codes"),
                staff,
                body.as_bytes(),
            );
            let code: Value = serde_json::from_slice(&code).unwrap();
            let keys = Arc::new(SoftwareKeys::new(Arc::new(MemoryStore::new())));
            let app = Client::with_iterations(
                Arc::new(MemoryStore::new()),
                keys,
                Arc::new(SystemClock),
                MIN_PBKDF2_ITERATIONS,
            );
            let device = Device::new(&phone, &format!("bench-{i}")).unwrap();
            let request = app
                .begin_registration(
                    BANK,
                    code["registration_code"].as_str().unwrap(),
                    device.clone(),
                    PASSWORD,
                )
                .unwrap();
            let (_, response) = post(&a, &format!("{base}/registration"), channel, &request);
            let confirmation = app.confirm_registration(&response).unwrap();
            let (_, outcome) = post(&a, &format!("{base}/registration"), channel, &confirmation);
            app.complete_registration(BANK, &outcome).unwrap();
            let request = app.begin_login_code(BANK, PASSWORD, &device).unwrap();
            let (_, answer) = post(&a, &format!("{base}/unlock"), channel, &request);
            let login = app.complete_login_code(&answer).unwrap().code.to_string();
            let body = json!({ "code": login }).to_string();
            let (_, verdict) = post(
                &a,
                &format!("{base}/customers/{customer}/login-verifications"),
                channel,
                body.as_bytes(),
            );
            assert_eq!(serde_json::from_slice::<Value>(&verdict).unwrap()["verdict"], "accepted");
            (customer, body)
        })
        .collect()
}

/// `clients` threads verifying for `duration`, spread over `at`; (requests/s, p50, p99).
fn load(
    at: &[SocketAddr],
    channel: &str,
    customers: &[(String, String)],
    clients: usize,
    duration: Duration,
) -> (f64, Duration, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|t| {
            let (stop, channel) = (stop.clone(), channel.to_owned());
            let urls: Vec<(String, Vec<u8>)> = customers
                .iter()
                .enumerate()
                .filter(|(i, _)| i % clients == t)
                .map(|(_, (c, body))| {
                    let at = at[t % at.len()];
                    (
                        format!(
                            "http://{at}/v1/institutions/{BANK}/customers/{c}/login-verifications"
                        ),
                        body.clone().into_bytes(),
                    )
                })
                .collect();
            std::thread::spawn(move || {
                let a = agent();
                let mut latencies = Vec::new();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let (url, body) = &urls[i % urls.len()];
                    let t0 = Instant::now();
                    let (status, answer) = post(&a, url, &channel, body);
                    latencies.push(t0.elapsed());
                    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
                    i += 1;
                }
                latencies
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut all: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    (all.len() as f64 / elapsed, at(0.50), at(0.99))
}

fn keys(issuer: &Issuer) -> (String, String) {
    let _ = issuer.add_institution("bench", BANK, "Bench Bank");
    let k = |role| issuer.add_api_key("bench", BANK, role).unwrap().1.to_string();
    (k(ApiRole::Channel), k(ApiRole::Staff))
}

fn report(label: &str, (rate, p50, p99): (f64, Duration, Duration)) {
    println!(
        "{label:<38} {rate:>8.0} verifications/s   p50 {:>6.2} ms   p99 {:>6.2} ms",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}

/// How many verifications shared each commit (group commit), roughly: the run's count is
/// its rate times its nominal length.
fn per_commit(verifications: f64, commits: u64) {
    println!("{:<38} {:>8.1} verifications per commit", "", verifications / commits.max(1) as f64);
}

fn main() {
    let measure = std::env::args().any(|a| a == "--bench");
    let (customers, clients, duration) = if measure {
        (64, 16, Duration::from_secs(10))
    } else {
        (2, 2, Duration::from_millis(200))
    };
    let dir = std::env::temp_dir().join(format!("dotp-bench-service-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let (issuer, at) = start(Arc::new(SqliteStore::open(dir.join("issuer.db")).unwrap()));
    let (channel, staff) = keys(&issuer);
    let enrolled = enroll(at, &channel, &staff, customers);
    report("SQLite, 1 instance", load(&[at], &channel, &enrolled, clients, duration));

    if let Ok(url) = std::env::var("DOTP_BENCH_POSTGRES") {
        let one = Arc::new(PostgresStore::connect_with(&url, clients, None).unwrap());
        let (issuer, a) = start(one.clone());
        let (channel, staff) = keys(&issuer);
        let enrolled = enroll(a, &channel, &staff, customers);
        let commits = one.commits();
        let measured = load(&[a], &channel, &enrolled, clients, duration);
        report("PostgreSQL, 1 instance", measured);
        per_commit(measured.0 * duration.as_secs_f64(), one.commits() - commits);
        let two = Arc::new(PostgresStore::connect_with(&url, clients, None).unwrap());
        let (_, b) = start(two.clone());
        let commits = one.commits() + two.commits();
        let measured = load(&[a, b], &channel, &enrolled, clients, duration);
        report("PostgreSQL, 2 instances", measured);
        per_commit(measured.0 * duration.as_secs_f64(), one.commits() + two.commits() - commits);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
