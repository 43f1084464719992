//! `dotp demo`: a non-face-to-face enrollment end to end, narrated, in a temporary data
//! directory (the same SQLite issuer and file-backed app store the other commands use).
//! Exits 0 only if every step behaved as expected, so it doubles as an end-to-end test.

use digital_otp::client::{Client, ClientError, CredentialSummary, GeneratedCode, Status};
use digital_otp::enrollment::Device;
use digital_otp::issuer::model::{CustomerKind, Residency};
use digital_otp::issuer::{Issuer, NewCustomer, Verdict};
use digital_otp::transaction::Transaction;

use crate::context::{local_time, CliResult, Context, Output};

const BANK: &str = "demo-bank";
const CUSTOMER: &str = "kim-0001";
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
            println!("{text}");
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

pub fn run(json: bool) -> CliResult<Output> {
    let dir = std::env::temp_dir().join(format!(
        "dotp-demo-{}-{}",
        std::process::id(),
        crate::unix_now().unwrap_or(0)
    ));
    let ctx = Context { data_dir: dir.clone(), json, actor: "demo".into() };
    let result = narrate(&ctx, json);
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
        println!("{text}");
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

fn narrate(ctx: &Context, quiet: bool) -> CliResult<Narrator> {
    let mut n = Narrator { step: 0, failures: Vec::new(), lines: Vec::new(), quiet };
    n.say(format!("digital-otp demo — data directory {}", ctx.data_dir.display()));

    n.step("The bank sets up: an institution and an individual, domestic customer");
    let bank = ctx.issuer()?;
    bank.add_institution("demo", BANK, "Demo Bank").map_err(|x| e("bank")(x.to_string()))?;
    bank.register_customer(
        "branch-001/emp-7",
        &NewCustomer {
            institution_id: BANK.into(),
            customer_id: CUSTOMER.into(),
            name: "홍길동".into(),
            kind: CustomerKind::Individual,
            residency: Residency::Domestic,
            phone_number: "010-1234-5678".into(),
            real_name_number: None,
        },
    )
    .map_err(|x| e("customer")(x.to_string()))?;
    n.detail(format!("{BANK} (Demo Bank); customer {CUSTOMER}, phone 010-1234-5678"));

    n.step(
        "After its own non-face-to-face identity check, the bank issues an app registration code",
    );
    let code = bank
        .issue_non_face_to_face("web", BANK, CUSTOMER, "kyc-demo-001")
        .map_err(|x| e("code")(x.to_string()))?;
    n.detail(format!(
        "registration code {} (12 digits, the last a check digit; valid 10 minutes)",
        code.display()
    ));

    n.step(
        "The phone registers: a typo and a weak password are caught locally, then two round trips",
    );
    let app = ctx.app()?;
    let (_, phone) = ctx.phone(Some("010-1234-5678"), Some("demo-android-id"))?;
    let mut typo: Vec<u8> = code.as_str().bytes().collect();
    typo[5] = b'0' + (typo[5] - b'0' + 1) % 10;
    let typo_refused = matches!(
        app.begin_registration(
            BANK,
            std::str::from_utf8(&typo).unwrap_or_default(),
            phone.clone(),
            PASSWORD
        ),
        Err(ClientError::Protocol(_))
    );
    n.check(typo_refused, "a mistyped code is refused before any network call");
    let weak = app.begin_registration(BANK, code.as_str(), phone.clone(), "123456");
    n.check(matches!(weak, Err(ClientError::Policy(_))), "a weak password (123456) is refused");
    let credential = register(&app, &bank, code.as_str(), &phone, &mut n)?;
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
    let login = login_code(&app, &bank, PASSWORD, &phone).map_err(|x| e("code")(x.to_string()))?;
    n.detail(format!("login code {} ({} s left)", login.code, login.seconds_remaining));
    let accepted = bank
        .verify_login("web", BANK, CUSTOMER, &login.code)
        .map_err(|x| e("verify")(x.to_string()))?;
    n.check(accepted == Verdict::Accepted, "the bank accepts the login code");
    let activated = app.confirm_activation(BANK).is_ok()
        && app
            .credentials(&phone)
            .map(|l| l.first().map(|c| c.status) == Some(Status::Active))
            .unwrap_or(false);
    n.check(activated, "the credential is now active");

    n.step("A transfer: the app shows amount and payee, then a code bound to them");
    let tx = transfer(1_500_000);
    let request = app
        .begin_transaction_code(BANK, PASSWORD, &phone, &tx)
        .map_err(|x| e("code")(x.to_string()))?;
    let answer = bank.handle_unlock("mobile-app", &request);
    let tx_code = app.complete_transaction_code(&answer).map_err(|x| e("code")(x.to_string()))?;
    for line in tx_code.summary.lines() {
        n.detail(line.to_string());
    }
    n.detail(format!("transaction code {}", tx_code.code));
    let other = bank
        .verify_transaction("web", BANK, CUSTOMER, &tx_code.code, &transfer(1_500_001))
        .map_err(|x| e("verify")(x.to_string()))?;
    n.check(
        other == Verdict::Rejected,
        "the same code is refused for another amount (KRW 1,500,001)",
    );
    let right = bank
        .verify_transaction("web", BANK, CUSTOMER, &tx_code.code, &tx)
        .map_err(|x| e("verify")(x.to_string()))?;
    n.check(right == Verdict::Accepted, "the code is accepted for exactly the confirmed transfer");

    n.step("A replayed code is refused");
    let replay = bank
        .verify_login("web", BANK, CUSTOMER, &login.code)
        .map_err(|x| e("verify")(x.to_string()))?;
    n.check(replay == Verdict::Rejected, "the login code already used is refused");

    n.step("Five wrong app passwords lock the OTP: the bank counts them, no copy of the phone resets it");
    for expected in (1..=4).rev() {
        let r = login_code(&app, &bank, "000001", &phone);
        n.check(
            r == Err(ClientError::WrongPassword { remaining: expected }),
            &format!(
                "wrong password: {expected} {} (counted by the bank)",
                if expected == 1 { "attempt remains" } else { "attempts remain" }
            ),
        );
    }
    let locked = login_code(&app, &bank, "000001", &phone);
    n.check(
        locked == Err(ClientError::Locked),
        "the fifth wrong password locks it (the seed and the device key are destroyed)",
    );
    let still = login_code(&app, &bank, PASSWORD, &phone);
    n.check(
        still == Err(ClientError::Locked),
        "even the right password no longer helps: only re-registration",
    );

    n.step("Registering again restores service");
    let code = bank
        .issue_non_face_to_face("web", BANK, CUSTOMER, "kyc-demo-002")
        .map_err(|x| e("code")(x.to_string()))?;
    n.detail(format!("new registration code {}", code.display()));
    let again = register(&app, &bank, code.as_str(), &phone, &mut n)?;
    n.detail(format!("new serial {} (the old one is revoked at the bank)", again.serial_number));
    let login = login_code(&app, &bank, PASSWORD, &phone).map_err(|x| e("code")(x.to_string()))?;
    let accepted = bank
        .verify_login("web", BANK, CUSTOMER, &login.code)
        .map_err(|x| e("verify")(x.to_string()))?;
    n.check(accepted == Verdict::Accepted, "the new credential's login code is accepted");
    let audit = bank.audit(&Default::default()).map(|a| a.len()).unwrap_or(0);
    n.detail(format!("the bank's audit log holds {audit} entries for these operations"));
    Ok(n)
}

fn e(what: &'static str) -> impl Fn(String) -> String {
    move |x| format!("{what}: {x}")
}

/// The phone's registration: request, response, confirmation, outcome.
fn register(
    app: &Client,
    bank: &Issuer,
    code: &str,
    phone: &Device,
    n: &mut Narrator,
) -> CliResult<CredentialSummary> {
    let request = app
        .begin_registration(BANK, code, phone.clone(), PASSWORD)
        .map_err(|x| e("register")(x.to_string()))?;
    n.detail(format!(
        "request: {} bytes (a SPAKE2 message keyed by the code, the blinded password, a new \
         device key; nothing in it tests the code or the password)",
        request.len()
    ));
    let response = bank.handle_registration("mobile-app", &request);
    let confirmation =
        app.confirm_registration(&response).map_err(|x| e("register")(x.to_string()))?;
    let outcome = bank.handle_registration("mobile-app", &confirmation);
    app.complete_registration(BANK, &outcome).map_err(|x| e("register")(x.to_string()))
}

/// A login code: the unlock request, the bank's answer, the code.
fn login_code(
    app: &Client,
    bank: &Issuer,
    password: &str,
    phone: &Device,
) -> Result<GeneratedCode, ClientError> {
    let request = app.begin_login_code(BANK, password, phone)?;
    let answer = bank.handle_unlock("mobile-app", &request);
    app.complete_login_code(&answer)
}
