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
//! dotp totp --secret BASE32 --verify CODE [--window N] [--time UNIX]   (prints the step offset, or exits 1)
//! dotp hotp --secret BASE32 --counter C --verify CODE [--window N]      (prints the counter offset, or exits 1)
//! dotp uri parse URI [--show-secret]
//! dotp uri new --issuer I --account A [--secret BASE32] [--type totp|hotp] [...]
//! dotp uri import 'otpauth-migration://offline?data=…' [--uris]        (Google Authenticator's export)
//! dotp completions bash|zsh|fish|elvish|powershell
//! dotp man [--out-dir DIR]
//! ```
//! `--secret-hex HEX` is accepted wherever `--secret` is. Every secret, key, PIN, URI and
//! registration code may be given as `-` (one line of standard input) or `@FILE`, as
//! oathtool reads its KEY, to keep it out of argv.

mod bank;
mod context;
mod demo;
mod input;
mod phone;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use context::{Context, Output};
use digital_otp::otp::migration;
use digital_otp::otp::ocra::{Ocra, OcraInput, OcraSuite, Pin};
use digital_otp::otp::uri::{KeyUri, UriKind};
use digital_otp::otp::{self, Algorithm, Hotp, Secret, Totp, Window};
use input::{sensitive, sensitive_opt};
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
    /// The issuer's database: `postgres://USER@HOST:PORT/DB` (PostgreSQL, for several
    /// `issuer serve` instances) or a SQLite file (default: `issuer.db` in the data directory).
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
    /// Employee or channel id recorded in the issuer's audit log (default: $USER).
    #[arg(long, global = true)]
    actor: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A narrated non-face-to-face enrollment end to end (exits 0 only if every step behaves).
    Demo(demo::DemoArgs),
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
    /// otpauth:// Key URIs, and Google Authenticator's otpauth-migration:// export.
    #[command(subcommand)]
    Uri(UriCommand),
    /// Prints a shell completion script on stdout (e.g. `dotp completions bash > /etc/bash_completion.d/dotp`).
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: ShellArg,
    },
    /// Prints the manual page dotp(1) in roff on stdout (`dotp man | man -l -`).
    Man {
        /// Instead, write dotp.1 and one page per subcommand (dotp-totp.1 and so on) into DIR.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct SecretArgs {
    /// The secret in base32 (case, padding and spaces tolerated); `-` reads it from
    /// standard input, `@FILE` from a file.
    #[arg(long, value_name = "BASE32")]
    secret: Option<String>,
    /// The secret in hexadecimal; `-` reads it from standard input, `@FILE` from a file.
    #[arg(long, value_name = "HEX")]
    secret_hex: Option<String>,
}

impl SecretArgs {
    fn secret(&self) -> Result<Secret, String> {
        secret_from(self.secret.as_deref(), self.secret_hex.as_deref())?
            .ok_or_else(|| "give --secret or --secret-hex".to_string())
    }
}

/// The secret of `--secret` (base32) or `--secret-hex`, each possibly `-` or `@FILE`.
pub(crate) fn secret_from(
    base32: Option<&str>,
    hex: Option<&str>,
) -> Result<Option<Secret>, String> {
    let result = match (base32, hex) {
        (Some(b32), _) => Secret::from_base32(&sensitive(b32, "--secret")?),
        (None, Some(hex)) => Secret::from_hex(&sensitive(hex, "--secret-hex")?),
        (None, None) => return Ok(None),
    };
    result.map(Some).map_err(|e| format!("invalid secret: {e}"))
}

/// A transfer's details.
#[derive(Args)]
pub struct TransactionArgs {
    /// Amount in minor units (won for KRW).
    #[arg(long, allow_negative_numbers = true, value_parser = input::unsigned)]
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
    /// HMAC-SHA-1 (RFC 4226's, and most authenticator apps').
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
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
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true, value_parser = input::unix_time)]
    time: Option<u64>,
    /// Number of digits (6 to 10).
    #[arg(long, default_value_t = 6, allow_negative_numbers = true, value_parser = input::unsigned)]
    digits: u64,
    /// HMAC hash.
    #[arg(long, value_enum, default_value = "sha1")]
    algorithm: AlgorithmArg,
    /// Time step in seconds (1 to 3600).
    #[arg(long, default_value_t = 30, allow_negative_numbers = true, value_parser = input::unsigned)]
    period: u64,
    /// T0, the Unix time steps count from.
    #[arg(long, default_value_t = 0, value_name = "UNIX", allow_negative_numbers = true, value_parser = input::unix_time)]
    t0: u64,
    #[command(flatten)]
    verify: VerifyArgs,
}

/// oathtool's validation mode (`oathtool -w N KEY OTP`).
#[derive(Args)]
struct VerifyArgs {
    /// Verify this code instead of printing one: prints the offset of the step or counter
    /// that matches (TOTP: 0 now, -1 the step before, 1 the next; HOTP: 0 for --counter,
    /// 1 for the next), or exits 1.
    #[arg(long, value_name = "CODE")]
    verify: Option<String>,
    /// With --verify, the window (oathtool's -w): TOTP accepts N steps before and after
    /// the current one, HOTP the N counters after --counter (0 to 100).
    #[arg(long, short = 'w', value_name = "N", default_value_t = 0, requires = "verify",
          allow_negative_numbers = true, value_parser = input::unsigned)]
    window: u64,
}

impl VerifyArgs {
    fn window(&self, behind: bool) -> Result<Window, String> {
        let n = u32::try_from(self.window).unwrap_or(u32::MAX);
        Window::new(if behind { n } else { 0 }, n).map_err(|e| e.to_string())
    }
}

#[derive(Args)]
struct HotpArgs {
    #[command(flatten)]
    secret: SecretArgs,
    /// The counter (with --verify, the first one tried).
    #[arg(long, allow_negative_numbers = true, value_parser = input::unsigned)]
    counter: u64,
    /// Number of digits (6 to 10).
    #[arg(long, default_value_t = 6, allow_negative_numbers = true, value_parser = input::unsigned)]
    digits: u64,
    /// HMAC hash.
    #[arg(long, value_enum, default_value = "sha1")]
    algorithm: AlgorithmArg,
    #[command(flatten)]
    verify: VerifyArgs,
}

#[derive(Args)]
struct OcraArgs {
    /// The OCRA suite, e.g. OCRA-1:HOTP-SHA1-6:QN08.
    #[arg(long)]
    suite: String,
    /// The key in hexadecimal; `-` reads it from standard input, `@FILE` from a file.
    #[arg(long, value_name = "HEX", alias = "secret-hex")]
    key_hex: String,
    /// The counter (suites with C).
    #[arg(long, allow_negative_numbers = true, value_parser = input::unsigned)]
    counter: Option<u64>,
    /// The question (challenge), in the suite's format.
    #[arg(long)]
    question: Option<String>,
    /// The PIN (suites with P), hashed with the suite's PIN hash; `-` reads it from
    /// standard input, `@FILE` from a file.
    #[arg(long)]
    pin: Option<String>,
    /// Session data in hexadecimal (suites with S); `-` or `@FILE` as for --pin.
    #[arg(long, value_name = "HEX")]
    session_hex: Option<String>,
    /// The timestamp in the suite's own unit (suites with T; default: now).
    #[arg(long, allow_negative_numbers = true, value_parser = input::unsigned)]
    time_steps: Option<u64>,
}

#[derive(Subcommand)]
enum UriCommand {
    /// Prints the fields of a URI, one per line.
    Parse {
        /// The otpauth:// URI; `-` reads it from standard input, `@FILE` from a file.
        uri: String,
        /// Also print the secret (base32).
        #[arg(long)]
        show_secret: bool,
    },
    /// Builds a URI; generates a 160-bit secret unless one is given.
    New(UriNewArgs),
    /// Reads Google Authenticator's export (one QR code of "Transfer accounts"): prints
    /// each account's fields, or with --uris one otpauth:// URI per account.
    Import {
        /// The otpauth-migration://offline?data=... URI; `-` reads it from standard input,
        /// `@FILE` from a file.
        uri: String,
        /// Print one otpauth:// URI per account (they hold the secrets) instead of the fields.
        #[arg(long)]
        uris: bool,
    },
}

/// The shells `dotp completions` writes for.
#[derive(Clone, Copy, ValueEnum)]
enum ShellArg {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
    /// Elvish.
    Elvish,
    /// PowerShell.
    Powershell,
}

impl From<ShellArg> for clap_complete::Shell {
    fn from(shell: ShellArg) -> Self {
        match shell {
            ShellArg::Bash => Self::Bash,
            ShellArg::Zsh => Self::Zsh,
            ShellArg::Fish => Self::Fish,
            ShellArg::Elvish => Self::Elvish,
            ShellArg::Powershell => Self::PowerShell,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum TypeArg {
    /// Time-based (RFC 6238).
    Totp,
    /// Counter-based (RFC 4226).
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
    /// The secret in base32 (default: a new random one); `-` reads it from standard
    /// input, `@FILE` from a file.
    #[arg(long, value_name = "BASE32", conflicts_with = "secret_hex")]
    secret: Option<String>,
    /// The secret in hexadecimal; `-` or `@FILE` as for --secret.
    #[arg(long, value_name = "HEX")]
    secret_hex: Option<String>,
    /// totp or hotp.
    #[arg(long = "type", value_enum, default_value = "totp")]
    kind: TypeArg,
    /// HMAC hash.
    #[arg(long, value_enum, default_value = "sha1")]
    algorithm: AlgorithmArg,
    /// Number of digits (6 to 10).
    #[arg(long, default_value_t = 6, allow_negative_numbers = true, value_parser = input::unsigned)]
    digits: u64,
    /// Time step in seconds (totp).
    #[arg(long, allow_negative_numbers = true, value_parser = input::unsigned)]
    period: Option<u64>,
    /// Counter (hotp).
    #[arg(long, allow_negative_numbers = true, value_parser = input::unsigned)]
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
        Command::Demo(args) => return demo::run(cli.json, args),
        Command::Issuer(c) => {
            return bank::run(&Context::new(cli.data_dir, cli.json, cli.actor, cli.database)?, c)
        }
        Command::App(c) => {
            return phone::run(&Context::new(cli.data_dir, cli.json, cli.actor, cli.database)?, c)
        }
        Command::Totp(a) if a.verify.verify.is_some() => return verify_totp(&a),
        Command::Hotp(a) if a.verify.verify.is_some() => return verify_hotp(&a),
        Command::Uri(UriCommand::Import { uri, uris }) => return import(&uri, uris),
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

/// `totp --verify`: the offset of the matching step from the current one.
fn verify_totp(a: &TotpArgs) -> Result<Output, String> {
    let totp =
        Totp::new(&a.secret.secret()?, a.algorithm.into(), digits(a.digits)?, a.period, a.t0)
            .map_err(|e| e.to_string())?;
    let time = match a.time {
        Some(t) => t,
        None => unix_now()?,
    };
    let code = Zeroizing::new(a.verify.verify.clone().unwrap_or_default());
    let now = totp.step_at(time).map_err(|e| e.to_string())?;
    let matched = totp
        .verify(&code, time, a.verify.window(true)?)
        .map_err(|e| format!("invalid code: {e}"))?;
    Ok(match matched {
        Some(step) => {
            let offset = i128::from(step) - i128::from(now);
            Output::new(
                offset.to_string(),
                json!({ "verdict": "accepted", "offset": offset as i64, "step": step }),
            )
        }
        None => Output::verdict(false),
    })
}

/// `hotp --verify`: the offset of the matching counter from `--counter`.
fn verify_hotp(a: &HotpArgs) -> Result<Output, String> {
    let hotp = Hotp::new(&a.secret.secret()?, a.algorithm.into(), digits(a.digits)?)
        .map_err(|e| e.to_string())?;
    let code = Zeroizing::new(a.verify.verify.clone().unwrap_or_default());
    let matched = hotp
        .verify(&code, a.counter, a.verify.window(false)?)
        .map_err(|e| format!("invalid code: {e}"))?;
    Ok(match matched {
        Some(counter) => {
            let offset = counter - a.counter;
            Output::new(
                offset.to_string(),
                json!({ "verdict": "accepted", "offset": offset, "counter": counter }),
            )
        }
        None => Output::verdict(false),
    })
}

/// The fields of a Key URI, one `name: value` per line (the secret only if asked).
fn describe(u: &KeyUri, show_secret: bool) -> Zeroizing<String> {
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
    out
}

/// `uri import`: Google Authenticator's otpauth-migration:// export.
fn import(uri: &str, uris: bool) -> Result<Output, String> {
    let uri = sensitive(uri, "the export URI")?;
    let m = migration::parse(&uri).map_err(|e| format!("invalid export: {e}"))?;
    let mut text = Zeroizing::new(String::new());
    let mut accounts = Vec::new();
    for (i, u) in m.accounts.iter().enumerate() {
        let mut entry = json!({
            "type": match u.kind { UriKind::Totp { .. } => "totp", UriKind::Hotp { .. } => "hotp" },
            "issuer": u.issuer,
            "account": u.account,
            "algorithm": u.algorithm.name(),
            "digits": u.digits,
            "secret_bits": u.secret.len() * 8,
        });
        match u.kind {
            UriKind::Totp { period } => entry["period"] = json!(period),
            UriKind::Hotp { counter } => entry["counter"] = json!(counter),
        }
        if uris {
            entry["uri"] = json!(&*u.to_uri());
            text.push_str(&u.to_uri());
            text.push('\n');
        } else {
            if i > 0 {
                text.push('\n');
            }
            text.push_str(&describe(u, false));
            text.push('\n');
        }
        accounts.push(entry);
    }
    let value = json!({
        "accounts": accounts,
        "version": m.version,
        "batch_size": m.batch_size,
        "batch_index": m.batch_index,
        "batch_id": m.batch_id,
    });
    Ok(Output::new(text.trim_end_matches('\n').to_string(), value))
}

fn engine(command: Command) -> Result<Zeroizing<String>, String> {
    match command {
        Command::Demo(_)
        | Command::Issuer(_)
        | Command::App(_)
        | Command::Completions { .. }
        | Command::Man { .. }
        | Command::Uri(UriCommand::Import { .. }) => Err("not an engine command".into()),
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
            let key = Secret::from_hex(&sensitive(&a.key_hex, "--key-hex")?)
                .map_err(|e| format!("invalid key: {e}"))?;
            let pin = sensitive_opt(a.pin.as_deref(), "--pin")?;
            let session_hex = sensitive_opt(a.session_hex.as_deref(), "--session-hex")?;
            let session = match &session_hex {
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
                pin: pin.as_deref().map(|p| Pin::Plain(p)),
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
            let uri = sensitive(&uri, "the URI")?;
            if migration::is_migration_uri(&uri) {
                return Err("this is a Google Authenticator export: use `dotp uri import`".into());
            }
            let u = KeyUri::parse(&uri).map_err(|e| format!("invalid otpauth URI: {e}"))?;
            Ok(describe(&u, show_secret))
        }
        Command::Uri(UriCommand::New(a)) => {
            let secret = match secret_from(a.secret.as_deref(), a.secret_hex.as_deref())? {
                Some(secret) => secret,
                None => Secret::generate().map_err(|e| format!("invalid secret: {e}"))?,
            };
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

/// `dotp completions` and `dotp man`: generated from the clap definition, written raw.
fn generate(command: &Command) -> Result<(), String> {
    // Generated into memory first: clap_complete panics on a failed write (a closed pipe).
    let mut buffer = Vec::new();
    match command {
        Command::Completions { shell } => clap_complete::generate(
            clap_complete::Shell::from(*shell),
            &mut Cli::command(),
            "dotp",
            &mut buffer,
        ),
        Command::Man { out_dir: Some(dir) } => {
            return std::fs::create_dir_all(dir)
                .and_then(|()| clap_mangen::generate_to(Cli::command(), dir))
                .map_err(|e| {
                    format!("cannot write the manual pages to {}: {}", dir.display(), e.kind())
                })
        }
        Command::Man { out_dir: None } => clap_mangen::Man::new(Cli::command())
            .render(&mut buffer)
            .map_err(|e| format!("cannot write the manual page: {}", e.kind()))?,
        _ => {}
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(&buffer)
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write: {}", e.kind()))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version (to a reader that may go early: `dotp --help | head -1`)
            context::say(e.to_string().trim_end_matches('\n'));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.to_string();
            // The message up to clap's usage block, on one line (a list of missing
            // arguments follows its first line).
            let message = text.split("\n\n").next().unwrap_or("").trim_start_matches("error: ");
            let line = message.lines().map(str::trim).collect::<Vec<_>>().join(" ");
            eprintln!("dotp: {}", if line.is_empty() { "invalid arguments" } else { &line });
            return ExitCode::from(2);
        }
    };
    if matches!(cli.command, Command::Completions { .. } | Command::Man { .. }) {
        return match generate(&cli.command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("dotp: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let json = cli.json;
    match run(cli) {
        Ok(out) => {
            let ctx =
                Context { data_dir: PathBuf::new(), json, actor: String::new(), database: None };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every argument and option of every command, down the whole tree, has help text,
    /// and every subcommand a description.
    #[test]
    fn every_argument_has_help() {
        fn walk(cmd: &mut clap::Command, path: &str, missing: &mut Vec<String>) {
            cmd.build();
            for arg in cmd.get_arguments() {
                if arg.is_hide_set() {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
                for value in arg.get_possible_values() {
                    if !value.is_hide_set() && value.get_help().is_none() {
                        missing.push(format!("{path} {} value {}", arg.get_id(), value.get_name()));
                    }
                }
            }
            for sub in cmd.get_subcommands_mut() {
                let sub_path = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() {
                    missing.push(format!("{sub_path} (no description)"));
                }
                walk(sub, &sub_path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&mut Cli::command(), "dotp", &mut missing);
        assert!(missing.is_empty(), "without help text:\n{}", missing.join("\n"));
    }

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }
}
