//! `dotp`: digital OTP from the command line.
//!
//! - `dotp demo`: a narrated enrollment end to end, in a temporary data directory.
//! - `dotp issuer …`: the bank's side (customers, codes, verification, service desk, audit).
//! - `dotp app …`: the phone's side (register, password, codes with a countdown, transfers).
//! - oathtool-like engine commands: the code alone on stdout.
//!
//! Errors are one line on stderr and a non-zero exit; `--json` gives machine-readable
//! output; `--data-dir` overrides the platform's user data directory.
//!
//! ```text
//! dotp totp --secret BASE32 [--time UNIX] [--digits N] [--algorithm sha1|sha256|sha512] [--period S] [--t0 UNIX]
//! dotp hotp --secret BASE32 --counter C [--digits N] [--algorithm ...]
//! dotp ocra --suite SUITE --key-hex HEX [--counter C] [--question Q] [--pin PIN] [--session-hex HEX] [--time-steps T]
//! dotp uri parse URI [--show-secret]
//! dotp uri new --issuer I --account A [--secret BASE32] [--type totp|hotp] [...]
//! ```
//! `--secret-hex HEX` is accepted wherever `--secret` is.

mod bank;
mod context;
mod demo;
mod phone;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use context::{Context, Output};
use digital_otp::otp::ocra::{Ocra, OcraInput, OcraSuite, Pin};
use digital_otp::otp::uri::{KeyUri, UriKind};
use digital_otp::otp::{self, Algorithm, Hotp, Secret, Totp};
use serde_json::json;
use zeroize::Zeroizing;

#[derive(Parser)]
#[command(
    name = "dotp",
    version,
    about = "Digital OTP: the bank's and the phone's side, HOTP/TOTP/OCRA codes, otpauth URIs"
)]
struct Cli {
    /// Data directory (default: the platform's user data directory, `digital-otp`).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    json: bool,
    /// Employee or channel id recorded in the issuer's audit log (default: $USER).
    #[arg(long, global = true)]
    actor: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A narrated non-face-to-face enrollment end to end (exits 0 only if every step behaves).
    Demo,
    /// The bank's side.
    #[command(subcommand)]
    Issuer(bank::IssuerCommand),
    /// The phone's side.
    #[command(subcommand)]
    App(phone::AppCommand),
    /// Time-based code (RFC 6238).
    Totp(TotpArgs),
    /// Counter-based code (RFC 4226).
    Hotp(HotpArgs),
    /// Challenge-response code (RFC 6287).
    Ocra(OcraArgs),
    /// otpauth:// Key URIs.
    #[command(subcommand)]
    Uri(UriCommand),
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct SecretArgs {
    /// The secret in base32 (case, padding and spaces tolerated).
    #[arg(long, value_name = "BASE32")]
    secret: Option<String>,
    /// The secret in hexadecimal.
    #[arg(long, value_name = "HEX")]
    secret_hex: Option<String>,
}

impl SecretArgs {
    fn secret(&self) -> Result<Secret, String> {
        let result = match (&self.secret, &self.secret_hex) {
            (Some(b32), _) => Secret::from_base32(b32),
            (None, Some(hex)) => Secret::from_hex(hex),
            (None, None) => return Err("give --secret or --secret-hex".into()),
        };
        result.map_err(|e| format!("invalid secret: {e}"))
    }
}

/// A transfer's details.
#[derive(Args)]
pub struct TransactionArgs {
    /// Amount in minor units (won for KRW).
    #[arg(long)]
    amount: u64,
    /// ISO 4217 currency.
    #[arg(long, default_value = "KRW")]
    currency: String,
    /// The payee's account number.
    #[arg(long)]
    payee_account: String,
    /// The payee's name.
    #[arg(long)]
    payee_name: String,
    /// A memo.
    #[arg(long)]
    memo: Option<String>,
}

impl TransactionArgs {
    fn transaction(&self) -> digital_otp::transaction::Transaction {
        digital_otp::transaction::Transaction {
            amount_minor: self.amount,
            currency: self.currency.clone(),
            payee_account: self.payee_account.clone(),
            payee_name: self.payee_name.clone(),
            memo: self.memo.clone(),
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum AlgorithmArg {
    Sha1,
    Sha256,
    Sha512,
}

impl From<AlgorithmArg> for Algorithm {
    fn from(a: AlgorithmArg) -> Self {
        match a {
            AlgorithmArg::Sha1 => Algorithm::Sha1,
            AlgorithmArg::Sha256 => Algorithm::Sha256,
            AlgorithmArg::Sha512 => Algorithm::Sha512,
        }
    }
}

#[derive(Args)]
struct TotpArgs {
    #[command(flatten)]
    secret: SecretArgs,
    /// Unix time in seconds (default: now).
    #[arg(long)]
    time: Option<u64>,
    /// Number of digits (6 to 10).
    #[arg(long, default_value_t = 6)]
    digits: u64,
    /// HMAC hash.
    #[arg(long, value_enum, default_value = "sha1")]
    algorithm: AlgorithmArg,
    /// Time step in seconds (1 to 3600).
    #[arg(long, default_value_t = 30)]
    period: u64,
    /// T0, the Unix time steps count from.
    #[arg(long, default_value_t = 0)]
    t0: u64,
}

#[derive(Args)]
struct HotpArgs {
    #[command(flatten)]
    secret: SecretArgs,
    /// The counter.
    #[arg(long)]
    counter: u64,
    /// Number of digits (6 to 10).
    #[arg(long, default_value_t = 6)]
    digits: u64,
    /// HMAC hash.
    #[arg(long, value_enum, default_value = "sha1")]
    algorithm: AlgorithmArg,
}

#[derive(Args)]
struct OcraArgs {
    /// The OCRA suite, e.g. OCRA-1:HOTP-SHA1-6:QN08.
    #[arg(long)]
    suite: String,
    /// The key in hexadecimal.
    #[arg(long, value_name = "HEX", alias = "secret-hex")]
    key_hex: String,
    /// The counter (suites with C).
    #[arg(long)]
    counter: Option<u64>,
    /// The question (challenge), in the suite's format.
    #[arg(long)]
    question: Option<String>,
    /// The PIN (suites with P); hashed with the suite's PIN hash.
    #[arg(long)]
    pin: Option<String>,
    /// Session data in hexadecimal (suites with S).
    #[arg(long, value_name = "HEX")]
    session_hex: Option<String>,
    /// The timestamp in the suite's own unit (suites with T; default: now).
    #[arg(long)]
    time_steps: Option<u64>,
}

#[derive(Subcommand)]
enum UriCommand {
    /// Prints the fields of a URI, one per line.
    Parse {
        /// The otpauth:// URI.
        uri: String,
        /// Also print the secret (base32).
        #[arg(long)]
        show_secret: bool,
    },
    /// Builds a URI; generates a 160-bit secret unless one is given.
    New(UriNewArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum TypeArg {
    Totp,
    Hotp,
}

#[derive(Args)]
struct UriNewArgs {
    /// The issuer (the bank).
    #[arg(long)]
    issuer: String,
    /// The account name.
    #[arg(long)]
    account: String,
    /// The secret in base32 (default: a new random one).
    #[arg(long, value_name = "BASE32", conflicts_with = "secret_hex")]
    secret: Option<String>,
    /// The secret in hexadecimal.
    #[arg(long, value_name = "HEX")]
    secret_hex: Option<String>,
    /// totp or hotp.
    #[arg(long = "type", value_enum, default_value = "totp")]
    kind: TypeArg,
    /// HMAC hash.
    #[arg(long, value_enum, default_value = "sha1")]
    algorithm: AlgorithmArg,
    /// Number of digits (6 to 10).
    #[arg(long, default_value_t = 6)]
    digits: u64,
    /// Time step in seconds (totp).
    #[arg(long)]
    period: Option<u64>,
    /// Counter (hotp).
    #[arg(long)]
    counter: Option<u64>,
}

/// The system clock's Unix time (the SDK's one system clock).
pub(crate) fn unix_now() -> Result<u64, String> {
    use digital_otp::host::Clock;
    digital_otp::host::SystemClock.now_unix_seconds().map_err(|e| e.to_string())
}

fn digits(d: u64) -> Result<u8, String> {
    u8::try_from(d).map_err(|_| {
        format!("digits must be between {} and {}, got {d}", otp::MIN_DIGITS, otp::MAX_DIGITS)
    })
}

fn run(cli: Cli) -> Result<Output, String> {
    let command = match cli.command {
        Command::Demo => return demo::run(cli.json),
        Command::Issuer(c) => {
            return bank::run(&Context::new(cli.data_dir, cli.json, cli.actor)?, c)
        }
        Command::App(c) => return phone::run(&Context::new(cli.data_dir, cli.json, cli.actor)?, c),
        other => other,
    };
    let text = engine(command)?;
    let value = if text.contains(": ") {
        serde_json::Value::Object(
            text.lines()
                .filter_map(|l| l.split_once(": "))
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
                .collect(),
        )
    } else if text.starts_with("otpauth://") {
        json!({ "uri": &*text })
    } else {
        json!({ "code": &*text })
    };
    Ok(Output::new(text.to_string(), value))
}

fn engine(command: Command) -> Result<Zeroizing<String>, String> {
    match command {
        Command::Demo | Command::Issuer(_) | Command::App(_) => Err("not an engine command".into()),
        Command::Totp(a) => {
            let totp = Totp::new(
                &a.secret.secret()?,
                a.algorithm.into(),
                digits(a.digits)?,
                a.period,
                a.t0,
            )
            .map_err(|e| e.to_string())?;
            let time = match a.time {
                Some(t) => t,
                None => unix_now()?,
            };
            Ok(totp.generate_at(time).map_err(|e| e.to_string())?.to_string().into())
        }
        Command::Hotp(a) => {
            let hotp = Hotp::new(&a.secret.secret()?, a.algorithm.into(), digits(a.digits)?)
                .map_err(|e| e.to_string())?;
            Ok(hotp.generate(a.counter).to_string().into())
        }
        Command::Ocra(a) => {
            let suite: OcraSuite =
                a.suite.parse().map_err(|e| format!("invalid OCRA suite: {e}"))?;
            let key = Secret::from_hex(&a.key_hex).map_err(|e| format!("invalid key: {e}"))?;
            let session = match &a.session_hex {
                Some(h) => Some(
                    base16ct::mixed::decode_vec(h.trim())
                        .map_err(|_| "session data must be hexadecimal".to_string())?,
                ),
                None => None,
            };
            let time_steps = match (a.time_steps, suite.time_steps_at(unix_now()?)) {
                (Some(t), _) => Some(t),
                (None, now) => now,
            };
            let question =
                a.question.as_deref().ok_or("give --question (every OCRA suite has one)")?;
            let input = OcraInput {
                counter: a.counter,
                question,
                pin: a.pin.as_deref().map(Pin::Plain),
                session: session.as_deref(),
                time_steps,
            };
            let code = Ocra::new(suite, &key)
                .generate(&input)
                .map_err(|e| format!("invalid OCRA input: {e}"))?;
            Ok(code.to_string().into())
        }
        Command::Uri(UriCommand::Parse { uri, show_secret }) => {
            let uri = Zeroizing::new(uri);
            let u = KeyUri::parse(&uri).map_err(|e| format!("invalid otpauth URI: {e}"))?;
            let mut out = Zeroizing::new(String::new());
            let (kind, extra) = match u.kind {
                UriKind::Totp { period } => ("totp", format!("period: {period}")),
                UriKind::Hotp { counter } => ("hotp", format!("counter: {counter}")),
            };
            out.push_str(&format!("type: {kind}\n"));
            out.push_str(&format!("issuer: {}\n", u.issuer.as_deref().unwrap_or("")));
            out.push_str(&format!("account: {}\n", u.account));
            out.push_str(&format!("algorithm: {}\n", u.algorithm));
            out.push_str(&format!("digits: {}\n", u.digits));
            out.push_str(&extra);
            out.push('\n');
            out.push_str(&format!("secret_bits: {}", u.secret.len() * 8));
            if show_secret {
                out.push_str("\nsecret: ");
                out.push_str(&u.secret.to_base32());
            }
            Ok(out)
        }
        Command::Uri(UriCommand::New(a)) => {
            let secret = match (&a.secret, &a.secret_hex) {
                (Some(b32), _) => Secret::from_base32(b32),
                (None, Some(hex)) => Secret::from_hex(hex),
                (None, None) => Secret::generate(),
            }
            .map_err(|e| format!("invalid secret: {e}"))?;
            let d = digits(a.digits)?;
            let issuer = Some(a.issuer);
            let u = match a.kind {
                TypeArg::Totp => {
                    if a.counter.is_some() {
                        return Err("--counter applies to hotp URIs only".into());
                    }
                    KeyUri::totp(
                        issuer,
                        a.account,
                        secret,
                        a.algorithm.into(),
                        d,
                        a.period.unwrap_or(30),
                    )
                }
                TypeArg::Hotp => {
                    if a.period.is_some() {
                        return Err("--period applies to totp URIs only".into());
                    }
                    KeyUri::hotp(
                        issuer,
                        a.account,
                        secret,
                        a.algorithm.into(),
                        d,
                        a.counter.unwrap_or(0),
                    )
                }
            }
            .map_err(|e| format!("invalid otpauth URI: {e}"))?;
            Ok(u.to_uri())
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version
            print!("{e}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or("invalid arguments");
            eprintln!("dotp: {}", line.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    let json = cli.json;
    match run(cli) {
        Ok(out) => {
            let ctx = Context { data_dir: PathBuf::new(), json, actor: String::new() };
            ctx.print(&out);
            if out.refused {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("dotp: {e}");
            ExitCode::FAILURE
        }
    }
}
