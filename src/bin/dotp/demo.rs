//! `dotp demo`: a non-face-to-face enrollment end to end, narrated, in a temporary data
//! directory (the same SQLite issuer and file-backed app store the other commands use).
//! The bank runs as the HTTP service (`dotp issuer serve`) on a loopback port, and every
//! step of the bank's staff, the app and the bank's web channel goes over that socket
//! with API keys, as in a deployment. With `--server URL` the phone's half (and the
//! branch's, with a staff key) runs against a service already running elsewhere. Exits 0
//! only if every step behaved as expected, so it doubles as an end-to-end test.

use std::sync::Arc;

use digital_otp::client::{Client, ClientError, CredentialSummary, GeneratedCode, Status};
use digital_otp::enrollment::Device;
use digital_otp::issuer::api_keys::ApiRole;
use digital_otp::service::{self, Limits, ServiceConfig, Timeouts};
use digital_otp::transaction::Transaction;
use serde_json::{json, Value};

use crate::context::{local_time, CliResult, Context, Output};

const BANK: &str = "demo-bank";
const PASSWORD: &str = "482915";

struct Narrator {
    step: usize,
    failures: Vec<String>,
    lines: Vec<String>,
    quiet: bool,
}

impl Narrator {
    fn say(&mut self, text: String) {
        if !self.quiet {
            crate::context::say(&text);
        }
        self.lines.push(text);
    }

    fn step(&mut self, title: &str) {
        self.step += 1;
        self.say(format!("\n{}. {title}", self.step));
    }

    fn detail(&mut self, text: impl Into<String>) {
        self.say(format!("   {}", text.into()));
    }

    fn check(&mut self, ok: bool, what: &str) {
        self.say(format!("   {} {what}", if ok { "✔" } else { "✘" }));
        if !ok {
            self.failures.push(format!("step {}: {what}", self.step));
        }
    }
}

fn transfer(amount: u64) -> Transaction {
    Transaction {
        amount_minor: amount,
        currency: "KRW".into(),
        payee_account: "110-123-456789".into(),
        payee_name: "홍길동".into(),
        memo: Some("rent".into()),
    }
}

/// `dotp demo [--server URL --institution ID]`.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Run against this running `dotp issuer serve` (`https://...`, or `http://...` for a
    /// service on loopback) instead of one started on loopback; its keys come from
    /// DOTP_CHANNEL_KEY and DOTP_STAFF_KEY (a new customer with a random id and phone
    /// number is registered).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The institution at the server.
    #[arg(long, default_value = BANK, requires = "server")]
    pub institution: String,
    /// Trust only this CA (PEM) for an `https://` server, instead of the public web's roots
    /// (Mozilla's, built in): for a service with its own or a self-signed certificate.
    #[arg(long, value_name = "FILE", requires = "server")]
    pub ca_cert: Option<std::path::PathBuf>,
}

/// The HTTP client: statuses are answers, not errors; `https://` verified against the
/// public roots or, with `--ca-cert`, against that CA only.
fn agent(ca_cert: Option<&std::path::Path>) -> CliResult<ureq::Agent> {
    use ureq::tls::{parse_pem, PemItem, RootCerts, TlsConfig};
    let mut tls = TlsConfig::builder();
    if let Some(path) = ca_cert {
        let pem = std::fs::read(path).map_err(|x| format!("--ca-cert {}: {x}", path.display()))?;
        let certs: Vec<_> = parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err(format!("--ca-cert {}: no PEM certificate in it", path.display()));
        }
        tls = tls.root_certs(RootCerts::new_with_certs(&certs));
    }
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls.build())
        .build()
        .into())
}

pub fn run(json: bool, args: DemoArgs) -> CliResult<Output> {
    let dir = std::env::temp_dir().join(format!(
        "dotp-demo-{}-{}",
        std::process::id(),
        crate::unix_now().unwrap_or(0)
    ));
    let ctx = Context { data_dir: dir.clone(), json, actor: "demo".into(), database: None };
    let result = narrate(&ctx, json, &args);
    let _ = std::fs::remove_dir_all(&dir);
    let n = result?;
    let ok = n.failures.is_empty();
    let text = if ok {
        format!("\nAll {} steps behaved as expected.", n.step)
    } else {
        format!(
            "\n{} step(s) did not behave as expected:\n{}",
            n.failures.len(),
            n.failures.join("\n")
        )
    };
    if !json {
        crate::context::say(&text);
    }
    let out = Output::new(
        "",
        serde_json::json!({ "ok": ok, "steps": n.step, "failures": n.failures, "narration": n.lines }),
    );
    if ok {
        Ok(out)
    } else {
        if json {
            ctx.print(&out);
        }
        Err(format!("the demo failed at {} step(s)", n.failures.len()))
    }
}

/// The bank over HTTP: the service's address and the two keys of the demo bank.
struct Wire {
    base: String,
    agent: ureq::Agent,
    channel: String,
    staff: String,
    /// The institution and the customer of the story.
    bank: String,
    customer: String,
}

impl Wire {
    /// One call; the status and the body. Transport failures are errors.
    fn call(&self, method: &str, path: &str, key: &str, body: &[u8]) -> CliResult<(u16, Vec<u8>)> {
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {key}");
        let sent = match method {
            "GET" => self.agent.get(&url).header("Authorization", &auth).call(),
            _ => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .content_type("application/json")
                .send(body),
        };
        let mut response = sent.map_err(|x| format!("the bank's service: {x}"))?;
        let status = response.status().as_u16();
        let bytes =
            response.body_mut().read_to_vec().map_err(|x| format!("the bank's service: {x}"))?;
        Ok((status, bytes))
    }

    /// A JSON call that must answer `want`.
    fn json(
        &self,
        method: &str,
        path: &str,
        key: &str,
        body: Value,
        want: u16,
    ) -> CliResult<Value> {
        let (status, bytes) = self.call(method, path, key, body.to_string().as_bytes())?;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status != want {
            return Err(format!("{method} {path}: {status} {value}"));
        }
        Ok(value)
    }

    /// The app's message through the channel (the bank's backend relays it).
    fn relay(&self, route: &str, message: &[u8]) -> CliResult<Vec<u8>> {
        match self.call(
            "POST",
            &format!("/v1/institutions/{}/{route}", self.bank),
            &self.channel,
            message,
        )? {
            (200, answer) => Ok(answer),
            (status, body) => Err(format!("{route}: {status} {}", String::from_utf8_lossy(&body))),
        }
    }

    /// A code submitted by the bank's web channel: whether it was accepted.
    fn verify(&self, code: &str, tx: Option<&Transaction>) -> CliResult<bool> {
        let customer = format!("/v1/institutions/{}/customers/{}", self.bank, self.customer);
        let v = match tx {
            None => self.json("POST", &format!("{customer}/login-verifications"), &self.channel, json!({ "code": code }), 200)?,
            Some(t) => self.json(
                "POST",
                &format!("{customer}/transaction-verifications"),
                &self.channel,
                json!({ "code": code, "transaction": { "amount_minor": t.amount_minor, "currency": t.currency,
                        "payee_account": t.payee_account, "payee_name": t.payee_name, "memo": t.memo } }),
                200,
            )?,
        };
        Ok(v["verdict"] == "accepted")
    }

    /// A registration code issued by the staff after the bank's own identity check.
    fn registration_code(&self, reference: &str) -> CliResult<String> {
        let path = format!(
            "/v1/institutions/{}/customers/{}/registration-codes",
            self.bank, self.customer
        );
        let v = self.json(
            "POST",
            &path,
            &self.staff,
            json!({ "verification_reference": reference }),
            201,
        )?;
        v["registration_code"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "no registration code".into())
    }
}

/// The service on a loopback port in a thread of its own; stopped when dropped.
struct Running {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start_service(ctx: &Context) -> CliResult<(Running, String)> {
    let issuer = Arc::new(ctx.issuer()?);
    let config = ServiceConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        tls: None,
        allow_plain_http: false,
        limits: Limits::default(),
        timeouts: Timeouts::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|x| format!("cannot start the runtime: {x}"))?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let failed = ready_tx.clone();
    let thread = std::thread::spawn(move || {
        let served = runtime.block_on(service::serve(
            issuer,
            config,
            move |address| {
                let _ = ready_tx.send(Ok(address));
            },
            async move {
                let _ = stop_rx.await;
            },
        ));
        if let Err(x) = served {
            let _ = failed.send(Err(x.to_string()));
        }
    });
    let running = Running { stop: Some(stop_tx), thread: Some(thread) };
    match ready_rx.recv() {
        Ok(Ok(address)) => Ok((running, format!("http://{address}"))),
        Ok(Err(x)) => Err(format!("the bank's service: {x}")),
        Err(_) => Err("the bank's service did not start".into()),
    }
}

/// A key from the environment (for `--server`).
fn env_key(name: &str) -> CliResult<String> {
    std::env::var(name).map_err(|_| format!("--server: give the service's API key in {name}"))
}

fn narrate(ctx: &Context, quiet: bool, args: &DemoArgs) -> CliResult<Narrator> {
    let mut n = Narrator { step: 0, failures: Vec::new(), lines: Vec::new(), quiet };
    n.say(format!("digital-otp demo — data directory {}", ctx.data_dir.display()));
    let agent = agent(args.ca_cert.as_deref())?;
    let _service;
    let (wire, phone_number) = match &args.server {
        None => {
            n.step("The bank sets up: an institution, its API keys, and the issuer service on loopback");
            let operator = ctx.issuer()?;
            operator
                .add_institution("demo", BANK, "Demo Bank")
                .map_err(|x| e("bank")(x.to_string()))?;
            let key = |role| operator.add_api_key("demo", BANK, role).map(|(_, k)| k.to_string());
            let channel = key(ApiRole::Channel).map_err(|x| e("api key")(x.to_string()))?;
            let staff = key(ApiRole::Staff).map_err(|x| e("api key")(x.to_string()))?;
            drop(operator);
            let (service, base) = start_service(ctx)?;
            _service = service;
            let wire = Wire {
                base,
                agent,
                channel,
                staff,
                bank: BANK.into(),
                customer: "kim-0001".into(),
            };
            n.detail(format!(
                "{BANK} (Demo Bank) served at {}: a channel key for the app's backend, a staff key for the branch",
                wire.base
            ));
            (wire, "010-1234-5678".to_string())
        }
        Some(url) => {
            n.step("The bank's service is already running elsewhere: its keys come from the environment");
            let mut random = [0u8; 8];
            digital_otp::crypto::random(&mut random).map_err(|x| e("random")(x.to_string()))?;
            let digits: String = random.iter().map(|b| char::from(b'0' + b % 10)).collect();
            let wire = Wire {
                base: url.trim_end_matches('/').to_string(),
                agent,
                channel: env_key("DOTP_CHANNEL_KEY")?,
                staff: env_key("DOTP_STAFF_KEY")?,
                bank: args.institution.clone(),
                customer: format!("demo-{}", digital_otp::crypto::hex(&random)),
            };
            n.detail(format!(
                "{} at {}: a new customer {} for this run",
                wire.bank, wire.base, wire.customer
            ));
            (wire, format!("010-{}-{}", &digits[..4], &digits[4..]))
        }
    };
    let (status, health) = wire.call("GET", "/readyz", "", b"")?;
    n.check(
        status == 200 && health.starts_with(b"{\"status\":\"ready\""),
        "the service is ready (GET /readyz)",
    );
    let (status, _) = wire.call(
        "POST",
        &format!("/v1/institutions/{}/customers/{}/login-verifications", wire.bank, wire.customer),
        "",
        b"{}",
    )?;
    n.check(status == 401, "a call without an API key is refused (401)");

    n.step("The branch registers an individual, domestic customer (staff key)");
    wire.json(
        "POST",
        &format!("/v1/institutions/{}/customers", wire.bank),
        &wire.staff,
        json!({ "customer": wire.customer, "name": "홍길동", "phone": phone_number }),
        201,
    )?;
    n.detail(format!("customer {}, phone {phone_number}", wire.customer));

    n.step(
        "After its own non-face-to-face identity check, the bank issues an app registration code",
    );
    let code = wire.registration_code("kyc-demo-001")?;
    n.detail(format!(
        "registration code {code} (12 digits, the last a check digit; valid 10 minutes)"
    ));

    n.step(
        "The phone registers: a typo and a weak password are caught locally, then two round trips",
    );
    let app = ctx.app()?;
    let (_, phone) = ctx.phone(Some(&phone_number), Some("demo-android-id"))?;
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    let mut typo: Vec<u8> = digits.bytes().collect();
    typo[5] = b'0' + (typo[5] - b'0' + 1) % 10;
    let typo_refused = matches!(
        app.begin_registration(
            &wire.bank,
            std::str::from_utf8(&typo).unwrap_or_default(),
            phone.clone(),
            PASSWORD
        ),
        Err(ClientError::Protocol(_))
    );
    n.check(typo_refused, "a mistyped code is refused before any network call");
    let weak = app.begin_registration(&wire.bank, &digits, phone.clone(), "123456");
    n.check(matches!(weak, Err(ClientError::Policy(_))), "a weak password (123456) is refused");
    let credential = register(&app, &wire, &digits, &phone, &mut n)?;
    n.detail(format!(
        "serial {}, valid until {}",
        credential.serial_number,
        local_time(credential.valid_until)
    ));
    n.check(
        credential.status == Status::Pending,
        "the credential is pending until the bank accepts a first code",
    );

    n.step("A login code: one round trip (the bank counts the password guess), then the code");
    let login = login_code(&app, &wire, PASSWORD, &phone)?.map_err(|x| e("code")(x.to_string()))?;
    n.detail(format!("login code {} ({} s left)", login.code, login.seconds_remaining));
    n.check(wire.verify(&login.code, None)?, "the bank accepts the login code");
    let activated = app.confirm_activation(&wire.bank).is_ok()
        && app
            .credentials(&phone)
            .map(|l| l.first().map(|c| c.status) == Some(Status::Active))
            .unwrap_or(false);
    n.check(activated, "the credential is now active");

    n.step("A transfer: the app shows amount and payee, then a code bound to them");
    let tx = transfer(1_500_000);
    let request = app
        .begin_transaction_code(&wire.bank, PASSWORD, &phone, &tx)
        .map_err(|x| e("code")(x.to_string()))?;
    let answer = wire.relay("unlock", &request)?;
    let tx_code = app.complete_transaction_code(&answer).map_err(|x| e("code")(x.to_string()))?;
    for line in tx_code.summary.lines() {
        n.detail(line.to_string());
    }
    n.detail(format!("transaction code {}", tx_code.code));
    n.check(
        !wire.verify(&tx_code.code, Some(&transfer(1_500_001)))?,
        "the same code is refused for another amount (KRW 1,500,001)",
    );
    n.check(
        wire.verify(&tx_code.code, Some(&tx))?,
        "the code is accepted for exactly the confirmed transfer",
    );

    n.step("A replayed code is refused");
    n.check(!wire.verify(&login.code, None)?, "the login code already used is refused");

    n.step("Five wrong app passwords lock the OTP: the bank counts them, no copy of the phone resets it");
    for expected in (1..=4).rev() {
        let r = login_code(&app, &wire, "000001", &phone)?;
        n.check(
            r == Err(ClientError::WrongPassword { remaining: expected }),
            &format!(
                "wrong password: {expected} {} (counted by the bank)",
                if expected == 1 { "attempt remains" } else { "attempts remain" }
            ),
        );
    }
    let locked = login_code(&app, &wire, "000001", &phone)?;
    n.check(
        locked == Err(ClientError::Locked),
        "the fifth wrong password locks it (the seed and the device key are destroyed)",
    );
    let still = login_code(&app, &wire, PASSWORD, &phone)?;
    n.check(
        still == Err(ClientError::Locked),
        "even the right password no longer helps: only re-registration",
    );

    n.step("Registering again restores service");
    let code = wire.registration_code("kyc-demo-002")?;
    n.detail(format!("new registration code {code}"));
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    let again = register(&app, &wire, &digits, &phone, &mut n)?;
    n.detail(format!("new serial {} (the old one is revoked at the bank)", again.serial_number));
    let login = login_code(&app, &wire, PASSWORD, &phone)?.map_err(|x| e("code")(x.to_string()))?;
    n.check(wire.verify(&login.code, None)?, "the new credential's login code is accepted");
    let audit = wire.json(
        "GET",
        &format!("/v1/institutions/{}/audit?limit=500", wire.bank),
        &wire.staff,
        Value::Null,
        200,
    )?;
    let entries = audit["entries"].as_array().map_or(0, Vec::len);
    n.detail(format!(
        "the bank's audit log holds {entries} entries for these operations (GET /audit)"
    ));
    Ok(n)
}

fn e(what: &'static str) -> impl Fn(String) -> String {
    move |x| format!("{what}: {x}")
}

/// The phone's registration: request, response, confirmation, outcome, over the socket.
fn register(
    app: &Client,
    wire: &Wire,
    code: &str,
    phone: &Device,
    n: &mut Narrator,
) -> CliResult<CredentialSummary> {
    let request = app
        .begin_registration(&wire.bank, code, phone.clone(), PASSWORD)
        .map_err(|x| e("register")(x.to_string()))?;
    n.detail(format!(
        "request: {} bytes (a SPAKE2 message keyed by the code, the blinded password, a new \
         device key; nothing in it tests the code or the password)",
        request.len()
    ));
    let response = wire.relay("registration", &request)?;
    let confirmation =
        app.confirm_registration(&response).map_err(|x| e("register")(x.to_string()))?;
    let outcome = wire.relay("registration", &confirmation)?;
    app.complete_registration(&wire.bank, &outcome).map_err(|x| e("register")(x.to_string()))
}

/// A login code: the unlock request over the socket, the bank's answer, the code (the
/// outer error is the transport's, the inner the app's).
fn login_code(
    app: &Client,
    wire: &Wire,
    password: &str,
    phone: &Device,
) -> CliResult<Result<GeneratedCode, ClientError>> {
    let request = match app.begin_login_code(&wire.bank, password, phone) {
        Ok(r) => r,
        Err(x) => return Ok(Err(x)),
    };
    let answer = wire.relay("unlock", &request)?;
    Ok(app.complete_login_code(&answer))
}
