//! What the `issuer`, `app` and `demo` commands share: the data directory, output in
//! text or JSON, and reading passwords.
//!
//! Data directory layout (the platform's user data dir by default, `--data-dir` to
//! override):
//! - `issuer.db`: the issuer's SQLite database (unless `--database` names another, or a
//!   PostgreSQL database);
//! - `issuer.key`: its master key (mode 0600), beside the database, never inside it
//!   (`DOTP_MASTER_KEY` overrides it);
//! - `sms.log`: the messages the CLI's stand-in SMS gateway "sent";
//! - `app/`: the app's file-backed secure store;
//! - `phone.json`: the phone number and device id of the "phone" the app runs on.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use digital_otp::client::Client;
use digital_otp::enrollment::Device;
use digital_otp::host::HostError;
use digital_otp::host::SecureStore;
use digital_otp::host::SmsGateway;
use digital_otp::host::SystemClock;
use digital_otp::issuer::maintenance::RotationReport;
use digital_otp::issuer::master_key::MasterKey;
use digital_otp::issuer::postgres::{PostgresStore, DEFAULT_POOL_SIZE};
use digital_otp::issuer::sqlite::SqliteStore;
use digital_otp::issuer::store::IssuerStore;
use digital_otp::issuer::{Issuer, IssuerConfig};
use digital_otp::storage::{FileStore, SoftwareKeys};
use serde_json::{json, Value};
use zeroize::Zeroizing;

/// Everything a command needs.
pub struct Context {
    pub data_dir: PathBuf,
    pub json: bool,
    pub actor: String,
    /// The issuer's database: `postgres://…` (feature postgres) or a SQLite file; `None`
    /// for `issuer.db` in the data directory.
    pub database: Option<String>,
}

/// A command's result: printed as text, or as JSON with `--json`. A refused one (a code
/// the bank rejects) is printed the same way and exits 1, so scripts can test it.
pub struct Output {
    pub text: String,
    pub json: Value,
    pub refused: bool,
}

impl Output {
    pub fn new(text: impl Into<String>, json: Value) -> Self {
        Self { text: text.into(), json, refused: false }
    }

    /// The verdict on a code: `accepted`, or `rejected` (exit status 1).
    pub fn verdict(accepted: bool) -> Self {
        Self { refused: !accepted, ..Self::new(verdict_text(accepted), verdict_json(accepted)) }
    }
}

fn verdict_text(accepted: bool) -> &'static str {
    if accepted {
        "accepted"
    } else {
        "rejected"
    }
}

/// A one-line error.
pub type CliResult<T> = Result<T, String>;

pub fn err<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: {e}")
}

/// The CLI's stand-in for a bank's SMS gateway: appends to `sms.log` and tells stderr.
struct LogSms {
    path: PathBuf,
    quiet: bool,
}

impl SmsGateway for LogSms {
    fn send(&self, phone_number: String, message: String) -> Result<(), HostError> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| HostError::Failed { reason: format!("sms.log: {}", e.kind()) })?;
        writeln!(f, "{phone_number}\t{message}")
            .map_err(|e| HostError::Failed { reason: format!("sms.log: {}", e.kind()) })?;
        if !self.quiet {
            eprintln!("(SMS to {phone_number}: {message})");
        }
        Ok(())
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct Phone {
    pub phone_number: String,
    pub device_id: String,
}

impl Context {
    pub fn new(
        data_dir: Option<PathBuf>,
        json: bool,
        actor: Option<String>,
        database: Option<String>,
    ) -> CliResult<Self> {
        let data_dir = match data_dir {
            Some(d) => d,
            None => dirs::data_dir()
                .ok_or("no user data directory on this platform; give --data-dir")?
                .join("digital-otp"),
        };
        let actor = actor.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "cli".into());
        Ok(Self { data_dir, json, actor, database })
    }

    fn ensure_dir(&self) -> CliResult<()> {
        std::fs::create_dir_all(&self.data_dir)
            .map_err(|e| format!("cannot create {}: {}", self.data_dir.display(), e.kind()))?;
        restrict(&self.data_dir, 0o700);
        Ok(())
    }

    /// The master key: `DOTP_MASTER_KEY`, else `issuer.key`, generated on first use.
    fn master_key(&self) -> CliResult<MasterKey> {
        if std::env::var_os("DOTP_MASTER_KEY").is_some() {
            return MasterKey::from_env("DOTP_MASTER_KEY").map_err(err("master key"));
        }
        let path = self.data_dir.join("issuer.key");
        if path.exists() {
            return MasterKey::from_file(&path).map_err(err("master key"));
        }
        let (key, hex) = MasterKey::generate().map_err(err("master key"))?;
        write_private(&path, hex.as_bytes())?;
        Ok(key)
    }

    pub fn issuer(&self) -> CliResult<Issuer> {
        self.ensure_dir()?;
        let key = self.master_key()?;
        self.issuer_with(key)
    }

    /// The issuer's store: `--database`, or `issuer.db` in the data directory.
    fn store(&self) -> CliResult<Arc<dyn IssuerStore>> {
        match self.database.as_deref() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                // A server on another host: `?sslmode=require`, verified against the
                // system's roots or the CA file in DOTP_DATABASE_CA.
                let ca = std::env::var_os("DOTP_DATABASE_CA").map(PathBuf::from);
                let store = PostgresStore::connect_with(url, DEFAULT_POOL_SIZE, ca.as_deref())
                    .map_err(err("issuer database"))?;
                Ok(Arc::new(store))
            }
            Some(path) => Ok(Arc::new(SqliteStore::open(path).map_err(err("issuer database"))?)),
            None => Ok(Arc::new(
                SqliteStore::open(self.data_dir.join("issuer.db"))
                    .map_err(err("issuer database"))?,
            )),
        }
    }

    fn issuer_with(&self, key: MasterKey) -> CliResult<Issuer> {
        let store = self.store()?;
        let sms = LogSms { path: self.data_dir.join("sms.log"), quiet: self.json };
        Issuer::open(
            store,
            key,
            Arc::new(SystemClock),
            Some(Arc::new(sms)),
            IssuerConfig::default(),
        )
        .map_err(err("issuer"))
    }

    /// Rotates the master key in `issuer.key`: a new key is written to `issuer.key.next`
    /// first (so it is never lost), every row is re-sealed under it, and it then replaces
    /// `issuer.key`. An interrupted rotation is finished by running this again (the
    /// `.next` key is reused). A key from `DOTP_MASTER_KEY` is rotated by the service.
    pub fn rotate_master_key(&self) -> CliResult<RotationReport> {
        if std::env::var_os("DOTP_MASTER_KEY").is_some() {
            return Err("rotate-key: the master key comes from DOTP_MASTER_KEY; rotate it where \
                        the variable is set (Issuer::rotate_master_key, rotateMasterKey)"
                .into());
        }
        self.ensure_dir()?;
        let path = self.data_dir.join("issuer.key");
        if !path.exists() {
            return Err("rotate-key: there is no issuer.key to rotate yet".into());
        }
        let next = self.data_dir.join("issuer.key.next");
        let new = if next.exists() {
            MasterKey::from_file(&next).map_err(err("new master key"))?
        } else {
            let (key, hex) = MasterKey::generate().map_err(err("new master key"))?;
            write_private(&next, hex.as_bytes())?;
            key
        };
        let issuer = self.issuer_with(MasterKey::from_file(&path).map_err(err("master key"))?)?;
        let report = issuer.rotate_master_key(&self.actor, new).map_err(err("rotate-key"))?;
        std::fs::rename(&next, &path)
            .map_err(|e| format!("rotate-key: cannot replace {}: {}", path.display(), e.kind()))?;
        Ok(report)
    }

    pub fn app(&self) -> CliResult<Client> {
        self.ensure_dir()?;
        let store: Arc<dyn SecureStore> =
            Arc::new(FileStore::open(self.data_dir.join("app")).map_err(err("app store"))?);
        // The CLI's "phone" keeps its device keys in software, in the same directory.
        let keys = Arc::new(SoftwareKeys::new(store.clone()));
        Ok(Client::new(store, keys, Arc::new(SystemClock)))
    }

    /// The phone the app runs on: set at registration, remembered in `phone.json`.
    pub fn phone(
        &self,
        phone_number: Option<&str>,
        device_id: Option<&str>,
    ) -> CliResult<(Phone, Device)> {
        self.ensure_dir()?;
        let path = self.data_dir.join("phone.json");
        let saved: Option<Phone> =
            std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok());
        let phone = Phone {
            phone_number: match (phone_number, &saved) {
                (Some(p), _) => p.to_string(),
                (None, Some(s)) => s.phone_number.clone(),
                (None, None) => {
                    return Err(
                        "give --phone the first time (the phone number of this \"phone\")".into()
                    )
                }
            },
            device_id: match (device_id, &saved) {
                (Some(d), _) => d.to_string(),
                (None, Some(s)) => s.device_id.clone(),
                (None, None) => {
                    let random = digital_otp::otp::Secret::generate().map_err(err("device id"))?;
                    format!("cli-{}", base16ct::lower::encode_string(&random.expose()[..8]))
                }
            },
        };
        let device = Device::new(&phone.phone_number, &phone.device_id).map_err(err("device"))?;
        if phone_number.is_some() || device_id.is_some() || saved.is_none() {
            let bytes = serde_json::to_vec_pretty(&phone).map_err(err("phone.json"))?;
            write_private(&path, &bytes)?;
        }
        Ok((phone, device))
    }

    pub fn print(&self, out: &Output) {
        if self.json {
            say(&serde_json::to_string_pretty(&out.json).unwrap_or_else(|_| "{}".into()));
        } else if !out.text.is_empty() {
            say(&out.text);
        }
    }
}

/// Writes `line` to standard output. A reader that has gone (`dotp … | head -n 1`) is its
/// own choice, not an error: the rest is dropped instead of panicking as `println!` does.
pub fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

fn restrict(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
    let _ = (path, mode);
}

fn write_private(path: &Path, bytes: &[u8]) -> CliResult<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f =
        options.open(path).map_err(|e| format!("cannot write {}: {}", path.display(), e.kind()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {}", path.display(), e.kind()))
}

/// Reads a password: `DOTP_PASSWORD` (or `DOTP_NEW_PASSWORD` for `new`), else without
/// echo from the terminal, else one line of standard input.
pub fn read_password(prompt: &str, new: bool) -> CliResult<Zeroizing<String>> {
    let var = if new { "DOTP_NEW_PASSWORD" } else { "DOTP_PASSWORD" };
    if let Ok(p) = std::env::var(var) {
        return Ok(Zeroizing::new(p));
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|e| format!("cannot read the password: {}", e.kind()));
    }
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password: {}", e.kind()))?;
    Ok(Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string()))
}

fn verdict_json(accepted: bool) -> Value {
    json!({ "verdict": verdict_text(accepted) })
}

/// A Unix time as people read it: the local date and time with the zone's offset
/// (`2029-11-22 14:03 +09:00`; UTC where the local offset cannot be known).
pub fn local_time(unix: u64) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute] [offset_hour sign:mandatory]:[offset_minute]"
    );
    at_local(unix).and_then(|t| t.format(&format).ok()).unwrap_or_else(|| unix.to_string())
}

/// The same in ISO 8601 (RFC 3339), for `--json` beside the integer.
pub fn iso_time(unix: u64) -> String {
    at_local(unix)
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

fn at_local(unix: u64) -> Option<time::OffsetDateTime> {
    let utc = time::OffsetDateTime::from_unix_timestamp(i64::try_from(unix).ok()?).ok()?;
    let offset = time::UtcOffset::local_offset_at(utc).unwrap_or(time::UtcOffset::UTC);
    Some(utc.to_offset(offset))
}

/// `n` and the noun, singular for one: `1 attempt`, `4 attempts`.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}
