//! The issuer's HTTP service over a real socket (feature `http`): a whole enrollment,
//! unlock and verification through it, and the attacks it refuses — no key, a wrong or
//! revoked key, a key of another institution or role, a tampered key list, floods — with
//! typed JSON errors for bad requests, TLS, and plain HTTP only on loopback.
#![cfg(all(feature = "http", feature = "file-store", feature = "test-support"))]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use common::http::{exchange, Answer};
use digital_otp::client::{Client, MIN_PBKDF2_ITERATIONS};
use digital_otp::enrollment::Device;
use digital_otp::host::{Clock, FixedClock};
use digital_otp::issuer::api_keys::ApiRole;
use digital_otp::issuer::master_key::MasterKey;
use digital_otp::issuer::sqlite::SqliteStore;
use digital_otp::issuer::store::IssuerStore;
use digital_otp::issuer::{Issuer, IssuerConfig};
use digital_otp::service::{self, Limits, ServeError, ServiceConfig, Timeouts, TlsFiles};
use digital_otp::storage::{MemoryStore, SoftwareKeys};
use digital_otp::transaction::Transaction;
use serde_json::{json, Value};

const T0: u64 = 1_800_000_000;
const PASSWORD: &str = "482915";

/// A running service on a loopback port, with its issuer and keys.
struct Service {
    address: SocketAddr,
    issuer: Arc<Issuer>,
    clock: Arc<FixedClock>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
    _dir: tempdir::Dir,
}

mod tempdir {
    /// A directory removed when dropped.
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new(name: &str) -> Self {
            let mut bytes = [0u8; 8];
            digital_otp::crypto::random(&mut bytes).unwrap();
            let path = std::env::temp_dir()
                .join(format!("dotp-{name}-{}", digital_otp::crypto::hex(&bytes)));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn start_with(limits: Limits, tls: Option<TlsFiles>, dir: tempdir::Dir) -> Service {
    start_timed(limits, tls, dir, Timeouts::default())
}

fn start_timed(
    limits: Limits,
    tls: Option<TlsFiles>,
    dir: tempdir::Dir,
    timeouts: Timeouts,
) -> Service {
    let clock = Arc::new(FixedClock::new(T0));
    let store: Arc<dyn IssuerStore> = Arc::new(SqliteStore::open(dir.0.join("issuer.db")).unwrap());
    let key = MasterKey::from_bytes(&[7u8; 32]).unwrap();
    let issuer =
        Arc::new(Issuer::open(store, key, clock.clone(), None, IssuerConfig::default()).unwrap());
    for (id, name) in [("bank-a", "Bank A"), ("bank-b", "Bank B")] {
        issuer.add_institution("setup", id, name).unwrap();
    }
    let config = ServiceConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls,
        allow_plain_http: false,
        limits,
        timeouts,
    };
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let served = issuer.clone();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(service::serve(
            served,
            config,
            move |a| ready_tx.send(a).unwrap(),
            async move {
                let _ = stop_rx.await;
            },
        ))
    });
    let address = ready_rx.recv().expect("the service did not start");
    Service { address, issuer, clock, stop: Some(stop_tx), thread: Some(thread), _dir: dir }
}

fn start() -> Service {
    start_with(Limits::default(), None, tempdir::Dir::new("service"))
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Service {
    fn call(&self, method: &str, path: &str, key: Option<&str>, body: &[u8]) -> Answer {
        exchange(TcpStream::connect(self.address).unwrap(), method, path, key, body)
    }
    fn post(&self, path: &str, key: &str, body: Value) -> Answer {
        self.call("POST", path, Some(key), body.to_string().as_bytes())
    }
    fn key(&self, institution: &str, role: ApiRole) -> String {
        self.issuer.add_api_key("setup", institution, role).unwrap().1.to_string()
    }
    /// A customer of `institution` (through the staff API) with an app registration code.
    fn customer(&self, staff: &str, institution: &str, customer: &str, phone: &str) -> String {
        let base = format!("/v1/institutions/{institution}/customers");
        let r = self.post(
            &base,
            staff,
            json!({ "customer": customer, "name": "홍길동", "phone": phone }),
        );
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let r = self.post(
            &format!("{base}/{customer}/registration-codes"),
            staff,
            json!({ "verification_reference": "kyc-1" }),
        );
        assert_eq!(r.status, 201);
        r.json()["registration_code"].as_str().unwrap().to_owned()
    }
    fn app(&self) -> Client {
        let keys = Arc::new(SoftwareKeys::new(Arc::new(MemoryStore::new())));
        let clock: Arc<dyn Clock> = self.clock.clone();
        Client::with_iterations(Arc::new(MemoryStore::new()), keys, clock, MIN_PBKDF2_ITERATIONS)
    }
    /// Registers `app` on `device` at `institution` through the channel API.
    fn enroll(&self, channel: &str, institution: &str, code: &str, app: &Client, device: &Device) {
        let path = format!("/v1/institutions/{institution}/registration");
        let request = app.begin_registration(institution, code, device.clone(), PASSWORD).unwrap();
        let response = self.call("POST", &path, Some(channel), &request);
        assert_eq!(response.status, 200);
        let confirmation = app.confirm_registration(&response.body).unwrap();
        let outcome = self.call("POST", &path, Some(channel), &confirmation);
        app.complete_registration(institution, &outcome.body).unwrap();
    }
    fn login_code(
        &self,
        channel: &str,
        institution: &str,
        app: &Client,
        device: &Device,
    ) -> String {
        let request = app.begin_login_code(institution, PASSWORD, device).unwrap();
        let answer = self.call(
            "POST",
            &format!("/v1/institutions/{institution}/unlock"),
            Some(channel),
            &request,
        );
        assert_eq!(answer.status, 200);
        app.complete_login_code(&answer.body).unwrap().code.to_string()
    }
}

fn device() -> Device {
    Device::new("010-1234-5678", "android-id-1").unwrap()
}

const VERIFY_A: &str = "/v1/institutions/bank-a/customers/c1/login-verifications";

#[test]
fn health_and_readiness_need_no_key() {
    let s = start();
    let r = s.call("GET", "/healthz", None, b"");
    assert_eq!((r.status, r.json()), (200, json!({ "status": "alive" })));
    let r = s.call("GET", "/readyz", None, b"");
    assert_eq!((r.status, r.json()), (200, json!({ "status": "ready" })));
}

#[test]
fn an_app_enrolls_unlocks_and_its_codes_verify_over_http_once_each() {
    let s = start();
    let (channel, staff) = (s.key("bank-a", ApiRole::Channel), s.key("bank-a", ApiRole::Staff));
    let code = s.customer(&staff, "bank-a", "c1", "010-1234-5678");
    let (app, phone) = (s.app(), device());
    s.enroll(&channel, "bank-a", &code, &app, &phone);
    let login = s.login_code(&channel, "bank-a", &app, &phone);
    let r = s.post(VERIFY_A, &channel, json!({ "code": login }));
    assert_eq!((r.status, r.json()), (200, json!({ "verdict": "accepted" })));
    // The same code again: a replay, refused.
    let r = s.post(VERIFY_A, &channel, json!({ "code": login }));
    assert_eq!(r.json(), json!({ "verdict": "rejected" }));

    // A transfer: the code is bound to the amount and the payee.
    let tx = Transaction {
        amount_minor: 1_500_000,
        currency: "KRW".into(),
        payee_account: "110-123-456789".into(),
        payee_name: "김철수".into(),
        memo: None,
    };
    let request = app.begin_transaction_code("bank-a", PASSWORD, &phone, &tx).unwrap();
    let answer = s.call("POST", "/v1/institutions/bank-a/unlock", Some(&channel), &request);
    let code = app.complete_transaction_code(&answer.body).unwrap().code.to_string();
    let path = "/v1/institutions/bank-a/customers/c1/transaction-verifications";
    let body = |amount: u64| {
        json!({ "code": code, "transaction": { "amount_minor": amount, "currency": "KRW",
                "payee_account": "110-123-456789", "payee_name": "김철수" } })
    };
    assert_eq!(s.post(path, &channel, body(9_900_000)).json(), json!({ "verdict": "rejected" }));
    assert_eq!(s.post(path, &channel, body(1_500_000)).json(), json!({ "verdict": "accepted" }));

    // The desk sees it: one device, active, no errors beyond the altered transfer.
    let r = s.call("GET", "/v1/institutions/bank-a/customers/c1", Some(&staff), b"");
    assert_eq!(r.status, 200);
    let device = &r.json()["devices"][0];
    assert_eq!(device["state"], "active");
    assert_eq!(device["registrations"][0]["institution"], "bank-a");
}

#[test]
fn calls_without_a_valid_key_are_401_and_change_nothing() {
    let s = start();
    let channel = s.key("bank-a", ApiRole::Channel);
    let (id, _) = channel.rsplit_once('_').unwrap();
    let wrong_secret = format!("{id}_{}", "00".repeat(32));
    for key in
        [None, Some(""), Some("dotp_nothex_00"), Some(wrong_secret.as_str()), Some("Basic abc")]
    {
        let r = s.call("POST", VERIFY_A, key, br#"{"code":"123456"}"#);
        assert_eq!(r.status, 401, "{key:?}");
        assert_eq!(r.json()["error"], "unauthorized");
    }
    // Nothing reached the issuer: no verification in the audit log.
    let audit = s.issuer.audit(&Default::default()).unwrap();
    assert!(audit.iter().all(|e| e.action != "verify_login"), "{audit:?}");

    // A revoked key is refused from its next call on.
    assert_eq!(s.post(VERIFY_A, &channel, json!({ "code": "123456" })).status, 200);
    let key_id = id.trim_start_matches("dotp_");
    s.issuer.revoke_api_key("setup", key_id).unwrap();
    assert_eq!(s.post(VERIFY_A, &channel, json!({ "code": "123456" })).status, 401);
}

#[test]
fn a_key_acts_only_for_its_institution_and_role() {
    let s = start();
    let (channel_a, staff_a) = (s.key("bank-a", ApiRole::Channel), s.key("bank-a", ApiRole::Staff));
    let (channel_b, staff_b) = (s.key("bank-b", ApiRole::Channel), s.key("bank-b", ApiRole::Staff));
    let centre = s.key("bank-a", ApiRole::Centre);
    s.customer(&staff_a, "bank-a", "c1", "010-1234-5678");
    let forbidden = |r: Answer, what: &str| {
        assert_eq!(r.status, 403, "{what}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.json()["error"], "forbidden");
    };
    // Bank B's channel cannot verify (and so count wrong codes against) Bank A's customer.
    forbidden(s.post(VERIFY_A, &channel_b, json!({ "code": "123456" })), "other channel");
    // Bank B's staff cannot read Bank A's customer; a staff key cannot verify; a channel key
    // cannot use the desk; only the centre adds institutions.
    forbidden(
        s.call("GET", "/v1/institutions/bank-a/customers/c1", Some(&staff_b), b""),
        "other staff",
    );
    forbidden(s.post(VERIFY_A, &staff_a, json!({ "code": "123456" })), "staff verifying");
    forbidden(
        s.call("GET", "/v1/institutions/bank-a/customers/c1", Some(&channel_a), b""),
        "channel at the desk",
    );
    forbidden(
        s.post("/v1/institutions", &staff_a, json!({ "institution": "bank-c", "name": "C" })),
        "staff adding",
    );
    // The centre may do all of it, for any institution.
    assert_eq!(
        s.call("GET", "/v1/institutions/bank-a/customers/c1", Some(&centre), b"").status,
        200
    );
    assert_eq!(
        s.post("/v1/institutions", &centre, json!({ "institution": "bank-c", "name": "C" })).status,
        200
    );
}

#[test]
fn enrollment_messages_for_another_institution_are_refused_through_this_channel() {
    let s = start();
    let staff_b = s.key("bank-b", ApiRole::Staff);
    let channel_a = s.key("bank-a", ApiRole::Channel);
    let code = s.customer(&staff_b, "bank-b", "c1", "010-1234-5678");
    let (app, phone) = (s.app(), device());
    // Bank A's channel posts Bank B's registration at its own path: the answer is a
    // refusal, and no attempt is made on the code.
    let request = app.begin_registration("bank-b", &code, phone.clone(), PASSWORD).unwrap();
    let r = s.call("POST", "/v1/institutions/bank-a/registration", Some(&channel_a), &request);
    assert_eq!(r.status, 200);
    assert!(app.confirm_registration(&r.body).is_err());
    let audit = s.issuer.audit(&Default::default()).unwrap();
    assert!(audit.iter().any(|e| e.detail.contains("another institution's channel")), "{audit:?}");
}

#[test]
fn a_tampered_key_list_grants_nothing() {
    let dir = tempdir::Dir::new("tamper");
    let db = dir.0.join("issuer.db");
    let s = start_with(Limits::default(), None, dir);
    let channel = s.key("bank-a", ApiRole::Channel);
    let secret = channel.rsplit_once('_').unwrap().1.to_owned();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let stored: String =
        conn.query_row("SELECT value FROM meta WHERE key = 'api_keys'", [], |r| r.get(0)).unwrap();
    // A thief of the database finds no key in it.
    assert!(!stored.contains(&secret));
    // An insider raises the key to the centre's role: the list no longer authenticates.
    let raised = stored.replace("\"channel\"", "\"centre\"");
    assert_ne!(raised, stored);
    conn.execute("UPDATE meta SET value = ?1 WHERE key = 'api_keys'", [&raised]).unwrap();
    let r = s.call("GET", "/v1/institutions/bank-b/customers/c1", Some(&channel), b"");
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(s.post(VERIFY_A, &channel, json!({ "code": "123456" })).status, 503);
}

#[test]
fn floods_are_answered_429_and_do_not_reach_the_count() {
    let limits = Limits { per_key_per_minute: 1_000, per_customer_per_minute: 3 };
    let s = start_with(limits, None, tempdir::Dir::new("limits"));
    let (channel, staff) = (s.key("bank-a", ApiRole::Channel), s.key("bank-a", ApiRole::Staff));
    let code = s.customer(&staff, "bank-a", "c1", "010-1234-5678");
    let (app, phone) = (s.app(), device());
    s.enroll(&channel, "bank-a", &code, &app, &phone);
    let login = s.login_code(&channel, "bank-a", &app, &phone);
    assert_eq!(s.post(VERIFY_A, &channel, json!({ "code": login })).json()["verdict"], "accepted");
    for _ in 0..2 {
        assert_eq!(s.post(VERIFY_A, &channel, json!({ "code": "000000" })).status, 200);
    }
    for _ in 0..5 {
        let r = s.post(VERIFY_A, &channel, json!({ "code": "000000" }));
        assert_eq!(r.status, 429);
        assert_eq!(r.json()["error"], "rate_limited");
        assert!(r.header("retry-after").is_some_and(|v| v.parse::<u64>().unwrap() >= 1));
    }
    // Another customer is not slowed down by this one's flood.
    assert_eq!(
        s.post(
            "/v1/institutions/bank-a/customers/c2/login-verifications",
            &channel,
            json!({ "code": "000000" })
        )
        .status,
        200
    );
    let r = s.call("GET", "/v1/institutions/bank-a/customers/c1", Some(&staff), b"");
    assert_eq!(r.json()["devices"][0]["error_count"], 2, "only the two answered wrong codes count");

    // Unlocks per device: the login code above was one; two more, then 429 before the bank
    // sees (and counts) the request.
    let request = app.begin_login_code("bank-a", PASSWORD, &phone).unwrap();
    let unlock =
        |body: &[u8]| s.call("POST", "/v1/institutions/bank-a/unlock", Some(&channel), body).status;
    assert_eq!((unlock(&request), unlock(&request)), (200, 200));
    assert_eq!(unlock(&request), 429);
}

#[test]
fn an_online_guesser_of_a_registration_code_gets_429_before_the_bank_counts_a_guess() {
    let limits = Limits { per_key_per_minute: 1_000, per_customer_per_minute: 3 };
    let s = start_with(limits, None, tempdir::Dir::new("guesser"));
    let (channel, staff) = (s.key("bank-a", ApiRole::Channel), s.key("bank-a", ApiRole::Staff));
    let code = s.customer(&staff, "bank-a", "c1", "010-1234-5678");
    s.customer(&staff, "bank-a", "c2", "010-2222-3333");
    let wrong = "0000-0000-0000"; // a valid check digit
    assert_ne!(code.replace('-', ""), "000000000000");
    let path = "/v1/institutions/bank-a/registration";
    let guess = |device: &Device| {
        let request =
            s.app().begin_registration("bank-a", wrong, device.clone(), PASSWORD).unwrap();
        s.call("POST", path, Some(&channel), &request).status
    };
    // Three guesses at c1's code from three devices (a new device key each time) are
    // answered and counted by the bank ...
    for n in 1..=3 {
        let phone = Device::new("010-1234-5678", &format!("android-id-{n}")).unwrap();
        assert_eq!(guess(&phone), 200);
    }
    // ... the fourth, from yet another device, is 429 before the bank sees it: the limit
    // is on the customer's code, whatever the device.
    let r = {
        let phone = Device::new("010-1234-5678", "android-id-4").unwrap();
        let request = s.app().begin_registration("bank-a", wrong, phone, PASSWORD).unwrap();
        s.call("POST", path, Some(&channel), &request)
    };
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["error"], "rate_limited");
    let audit = s.issuer.audit(&Default::default()).unwrap();
    let counted =
        |n: u32| audit.iter().any(|e| e.detail.contains(&format!("registration attempt {n} of 5")));
    assert!(counted(3) && !counted(4), "{audit:?}");
    // Another customer's code is not slowed down by this one's guesser.
    assert_eq!(guess(&Device::new("010-2222-3333", "android-id-9").unwrap()), 200);
}

#[test]
fn bad_requests_get_typed_json_errors_and_cost_nothing() {
    let s = start();
    let (channel, staff) = (s.key("bank-a", ApiRole::Channel), s.key("bank-a", ApiRole::Staff));
    let code = s.customer(&staff, "bank-a", "c1", "010-1234-5678");
    let (app, phone) = (s.app(), device());
    s.enroll(&channel, "bank-a", &code, &app, &phone);
    let cases: Vec<(&[u8], u16, &str)> = vec![
        (b"", 400, "invalid_request"),
        (b"{", 400, "invalid_request"),
        (b"[]", 400, "invalid_request"),
        (br#"{"code":"123456","extra":1}"#, 400, "invalid_request"),
        (br#"{"code":123456}"#, 400, "invalid_request"),
        (br#"{"code":"abc"}"#, 400, "invalid_input"),
        (br#"{"code":"12"}"#, 400, "invalid_input"),
    ];
    for (body, status, error) in cases {
        let r = s.call("POST", VERIFY_A, Some(&channel), body);
        assert_eq!(
            (r.status, r.json()["error"].as_str().unwrap()),
            (status, error),
            "{}",
            String::from_utf8_lossy(body)
        );
        assert!(!r.json()["message"].as_str().unwrap().is_empty());
    }
    let huge = vec![b'x'; service::MAX_BODY + 1];
    assert_eq!(s.call("POST", VERIFY_A, Some(&channel), &huge).status, 413);
    let r = s.call("GET", "/v1/nowhere", Some(&channel), b"");
    assert_eq!((r.status, r.json()["error"].as_str().unwrap()), (404, "not_found"));
    let r = s.call("DELETE", "/healthz", None, b"");
    assert_eq!((r.status, r.json()["error"].as_str().unwrap()), (405, "method_not_allowed"));
    let r = s.call("GET", "/v1/institutions/bank-a/audit?limit=9999", Some(&staff), b"");
    assert_eq!(r.status, 400);
    // What a clerk types wrong is 400, not a 500 (found by the OpenAPI fuzzer).
    for phone in ["", "abc", "010"] {
        let r = s.post(
            "/v1/institutions/bank-a/customers",
            &staff,
            json!({ "customer": "c9", "name": "x", "phone": phone }),
        );
        assert_eq!(
            (r.status, r.json()["error"].as_str().unwrap()),
            (400, "invalid_input"),
            "{phone:?}"
        );
    }
    let r = s.call("GET", "/v1/institutions/bank-a/customers/nobody", Some(&staff), b"");
    assert_eq!((r.status, r.json()["error"].as_str().unwrap()), (404, "unknown_customer"));
    let r = s.call("GET", "/v1/institutions/bank-a/customers/c1", Some(&staff), b"");
    assert_eq!(r.json()["devices"][0]["error_count"], 0, "no malformed request counted");
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let issuer = Arc::new(
        Issuer::open(
            Arc::new(digital_otp::issuer::store::MemoryStore::new()),
            MasterKey::from_bytes(&[1u8; 32]).unwrap(),
            Arc::new(FixedClock::new(T0)),
            None,
            IssuerConfig::default(),
        )
        .unwrap(),
    );
    let config = ServiceConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        tls: None,
        allow_plain_http: false,
        limits: Limits::default(),
        timeouts: Timeouts::default(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let result =
        runtime.block_on(service::serve(issuer, config, |_| panic!("must not listen"), async {}));
    assert!(matches!(result, Err(ServeError::PlainHttpNotLoopback)), "{result:?}");
}

#[test]
fn tls_serves_with_the_given_certificate_and_refuses_plain_http() {
    let dir = tempdir::Dir::new("tls");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_path, key_path) = (dir.0.join("cert.pem"), dir.0.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let s = start_with(Limits::default(), Some(TlsFiles { cert: cert_path, key: key_path }), dir);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tls = rustls::StreamOwned::new(connection, TcpStream::connect(s.address).unwrap());
    let r = exchange(tls, "GET", "/healthz", None, b"");
    assert_eq!((r.status, r.json()), (200, json!({ "status": "alive" })));

    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut plain = TcpStream::connect(s.address).unwrap();
    plain.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    let _ = plain.read_to_end(&mut raw);
    assert!(!raw.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&raw));
}

#[test]
fn slow_clients_are_cut_off() {
    let quick = Timeouts {
        header: std::time::Duration::from_millis(300),
        body: std::time::Duration::from_millis(300),
    };
    let s = start_timed(Limits::default(), None, tempdir::Dir::new("slow"), quick);
    let channel = s.key("bank-a", ApiRole::Channel);
    let guard = Some(std::time::Duration::from_secs(30));

    // Headers in, the body promised but never sent: 408 with a JSON error.
    let mut stream = TcpStream::connect(s.address).unwrap();
    stream.set_read_timeout(guard).unwrap();
    let head = format!("POST {VERIFY_A} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {channel}\r\nContent-Length: 20\r\n\r\n{{\"co");
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"error\":\"timeout\""), "{text}");

    // Headers that never end: the connection is closed.
    let mut stream = TcpStream::connect(s.address).unwrap();
    stream.set_read_timeout(guard).unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n").unwrap();
    let mut raw = Vec::new();
    let closed = stream.read_to_end(&mut raw).is_ok();
    assert!(closed && !raw.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&raw));

    // A declared body over the limit: 413 as JSON, before anything is read.
    let r = s.call("POST", VERIFY_A, Some(&channel), &vec![b' '; service::MAX_BODY + 1]);
    assert_eq!((r.status, r.json()["error"].as_str().unwrap()), (413, "too_large"));
}
