//! `dotp app …`: the phone's side from the command line. The app's store is the data
//! directory's `app/`; the bank it talks to is the issuer in the same data directory
//! (the request goes to it in-process, where a real app would use its own network).

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::Subcommand;
use digital_otp::client::{CredentialSummary, Status};
use serde_json::{json, Value};

use crate::context::{count, err, iso_time, local_time, read_password, CliResult, Context, Output};
use crate::TransactionArgs;

#[derive(Subcommand)]
pub enum AppCommand {
    /// Registers with the bank in this data directory using an app registration code,
    /// and sets the app password (asked twice, or DOTP_PASSWORD / one line of stdin). Two
    /// round trips to the bank: the request, then the confirmation.
    Register {
        /// The bank (its institution id).
        #[arg(long)]
        institution: String,
        /// The app registration code from the bank; `-` reads it from standard input (one
        /// line, before the password), `@FILE` from a file.
        #[arg(long)]
        code: String,
        /// This phone's number (remembered).
        #[arg(long)]
        phone: Option<String>,
        /// This phone's device id (remembered; a random one by default).
        #[arg(long)]
        device_id: Option<String>,
    },
    /// Marks a credential active once the bank accepted its first code.
    Activate {
        /// The bank (its institution id).
        #[arg(long)]
        institution: String,
    },
    /// Lists the credentials with their status.
    List,
    /// A login code, with a live countdown until it expires (on a terminal).
    Code {
        /// The bank (its institution id).
        #[arg(long)]
        institution: String,
        /// Print the code and return at once.
        #[arg(long)]
        no_wait: bool,
    },
    /// A transaction code, after printing the transaction for confirmation.
    Transaction {
        /// The bank (its institution id).
        #[arg(long)]
        institution: String,
        #[command(flatten)]
        transaction: TransactionArgs,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Changes the app password (old: DOTP_PASSWORD, new: DOTP_NEW_PASSWORD, or prompts).
    ChangePassword {
        /// The bank (its institution id).
        #[arg(long)]
        institution: String,
    },
    /// Removes one institution's credential.
    Cancel {
        /// The bank (its institution id).
        #[arg(long)]
        institution: String,
    },
    /// Forgotten password: deletes every credential in the app.
    Reset,
}

fn status(s: Status) -> &'static str {
    match s {
        Status::Registering => "registering",
        Status::Pending => "pending",
        Status::Active => "active",
        Status::Locked => "locked",
        Status::Expired => "expired",
        Status::DeviceMismatch => "device-mismatch",
    }
}

fn summary_json(c: &CredentialSummary) -> Value {
    json!({ "institution": c.institution_id, "name": c.institution_name, "serial": c.serial_number,
            "status": status(c.status), "valid_until": c.valid_until, "valid_until_local": iso_time(c.valid_until),
            "attempts_remaining": c.attempts_remaining })
}

fn summary_text(c: &CredentialSummary) -> String {
    format!(
        "{} ({}) serial {} {}, {} left, valid until {}",
        c.institution_id,
        c.institution_name,
        c.serial_number,
        status(c.status),
        count(c.attempts_remaining, "attempt", "attempts"),
        local_time(c.valid_until)
    )
}

fn countdown(code: &str, valid_until: u64, period: u64) {
    let mut stderr = std::io::stderr();
    loop {
        let Ok(now) = crate::unix_now() else { return };
        if now >= valid_until {
            let _ = writeln!(stderr, "\r{code}  expired{:30}", "");
            return;
        }
        let left = valid_until - now;
        let width = 30usize;
        let filled = (left as usize * width).div_ceil(period.max(1) as usize).min(width);
        let _ = write!(
            stderr,
            "\r{code}  [{}{}] {left:>2}s ",
            "#".repeat(filled),
            " ".repeat(width - filled)
        );
        let _ = stderr.flush();
        std::thread::sleep(Duration::from_millis(250));
    }
}

pub fn run(ctx: &Context, command: AppCommand) -> CliResult<Output> {
    let app = ctx.app()?;
    Ok(match command {
        AppCommand::Register { institution, code, phone, device_id } => {
            let (_, device) = ctx.phone(phone.as_deref(), device_id.as_deref())?;
            let code = crate::input::sensitive(&code, "--code")?;
            digital_otp::enrollment::RegistrationCode::parse(&code).map_err(err("registration"))?;
            let password = read_password("New app password (6 digits): ", false)?;
            if std::io::stdin().is_terminal() && std::env::var_os("DOTP_PASSWORD").is_none() {
                let again = read_password("Again: ", false)?;
                if *again != *password {
                    return Err("the passwords differ".into());
                }
            }
            let request = app
                .begin_registration(&institution, &code, device, &password)
                .map_err(err("registration"))?;
            let bank = ctx.issuer()?;
            let response = bank.handle_registration("mobile-app", &request);
            let confirmation = app.confirm_registration(&response).map_err(err("registration"))?;
            let outcome = bank.handle_registration("mobile-app", &confirmation);
            let c =
                app.complete_registration(&institution, &outcome).map_err(err("registration"))?;
            Output::new(summary_text(&c), summary_json(&c))
        }
        AppCommand::Activate { institution } => {
            app.confirm_activation(&institution).map_err(err("activation"))?;
            Output::new("active", json!({ "ok": true }))
        }
        AppCommand::List => {
            let (_, device) = ctx.phone(None, None)?;
            let list = app.credentials(&device).map_err(err("list"))?;
            Output::new(
                list.iter().map(summary_text).collect::<Vec<_>>().join("\n"),
                json!({ "credentials": list.iter().map(summary_json).collect::<Vec<_>>() }),
            )
        }
        AppCommand::Code { institution, no_wait } => {
            let (_, device) = ctx.phone(None, None)?;
            let password = read_password("App password: ", false)?;
            let request =
                app.begin_login_code(&institution, &password, &device).map_err(err("code"))?;
            let answer = ctx.issuer()?.handle_unlock("mobile-app", &request);
            let c = app.complete_login_code(&answer).map_err(err("code"))?;
            let out = Output::new(
                c.code.clone(),
                json!({ "code": c.code, "serial": c.serial_number, "valid_from": c.valid_from,
                        "valid_until": c.valid_until, "seconds_remaining": c.seconds_remaining }),
            );
            if !no_wait && !ctx.json && std::io::stderr().is_terminal() {
                countdown(&c.code, c.valid_until, c.valid_until - c.valid_from);
                return Ok(Output::new("", Value::Null));
            }
            out
        }
        AppCommand::Transaction { institution, transaction, yes } => {
            let (_, device) = ctx.phone(None, None)?;
            let tx = transaction.transaction();
            let summary = tx.canonical().map_err(err("invalid transaction"))?.summary();
            if !yes {
                if !std::io::stdin().is_terminal() {
                    return Err("confirm the transaction with --yes (no terminal to ask on)".into());
                }
                eprint!("{summary}\nConfirm? [y/N] ");
                let mut answer = String::new();
                std::io::stdin()
                    .read_line(&mut answer)
                    .map_err(|e| format!("cannot read: {}", e.kind()))?;
                if !answer.trim().eq_ignore_ascii_case("y") {
                    return Err("not confirmed".into());
                }
            } else if !ctx.json {
                eprintln!("{summary}");
            }
            let password = read_password("App password: ", false)?;
            let request = app
                .begin_transaction_code(&institution, &password, &device, &tx)
                .map_err(err("code"))?;
            let answer = ctx.issuer()?.handle_unlock("mobile-app", &request);
            let c = app.complete_transaction_code(&answer).map_err(err("code"))?;
            Output::new(
                c.code.clone(),
                json!({ "code": c.code, "summary": c.summary, "serial": c.serial_number,
                        "valid_until": c.valid_until, "seconds_remaining": c.seconds_remaining }),
            )
        }
        AppCommand::ChangePassword { institution } => {
            let (_, device) = ctx.phone(None, None)?;
            let old = read_password("Current app password: ", false)?;
            let new = read_password("New app password: ", true)?;
            let request = app
                .begin_change_password(&institution, &old, &new, &device)
                .map_err(err("change password"))?;
            let answer = ctx.issuer()?.handle_unlock("mobile-app", &request);
            app.complete_change_password(&answer).map_err(err("change password"))?;
            Output::new("password changed", json!({ "ok": true }))
        }
        AppCommand::Cancel { institution } => {
            app.cancel(&institution).map_err(err("cancel"))?;
            Output::new("cancelled", json!({ "ok": true }))
        }
        AppCommand::Reset => {
            app.reset_all().map_err(err("reset"))?;
            Output::new("every credential deleted", json!({ "ok": true }))
        }
    })
}
