//! The app side: registration, device binding, the app password with its 5-strike
//! lockout, encrypted credential storage, login and transaction codes. Plain Rust; the
//! `ffi` module wraps [`Client`] as `DigitalOtp`.
//!
//! ## Storage layout (keys in the app's [`SecureStore`])
//! - `digital-otp.v1.device-key`: a random 256-bit device key (integrity-checked blob);
//! - `digital-otp.v1.index`: sealed JSON mapping each institution id to its credential key;
//! - `digital-otp.v1.credential.<random>`: one sealed JSON credential.
//!
//! Registration writes the new credential under a fresh key, then switches the index to
//! it (the commit point), then deletes the replaced credential: a failure at any point
//! leaves the previous state whole.
//!
//! ## The seed
//! Each credential's seed is sealed (AES-256-GCM) under a key derived with HKDF-SHA256
//! from PBKDF2-HMAC-SHA256(password, per-credential salt, [`PBKDF2_ITERATIONS`]) and the
//! device key. A wrong password fails to decrypt. The failure count is persisted (and
//! read back) *before* the password is tried, reset by a success; the fifth consecutive
//! failure destroys the sealed seed: only re-registration helps.
//! Password checks are serialized, so concurrent wrong passwords each count.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use zeroize::Zeroizing;

use crate::clock::Clock;
use crate::enrollment::{
    self, Completed, Device, OtpParams, PendingRegistration, ProtocolError, RegistrationCode,
};
use crate::error::HostError;
use crate::json::{Fields, JsonError, Writer};
use crate::otp::ocra::{Ocra, OcraInput};
use crate::storage::{self, BlobError, BlobKind, Sealer, SecureStore};
use crate::transaction::{Transaction, TransactionError};

/// Consecutive wrong passwords that lock a credential.
pub const MAX_PASSWORD_ATTEMPTS: u32 = 5;
/// PBKDF2-HMAC-SHA256 iterations for new credentials: ≈170–220 ms per check on the
/// reference machine (see BENCHMARKS.md), above the 100 ms floor; OWASP's figure too.
pub const PBKDF2_ITERATIONS: u32 = 600_000;
/// Fewest iterations a stored credential may declare (refuses downgraded blobs).
pub const MIN_PBKDF2_ITERATIONS: u32 = 100_000;

/// The store key of the device key blob (the app's `SecureStore` sees these names: an
/// app that excludes keys from backups or migrates stores can match on them).
pub const DEVICE_KEY: &str = "digital-otp.v1.device-key";
/// The store key of the sealed index (which credential belongs to which institution).
pub const INDEX: &str = "digital-otp.v1.index";
/// The prefix of each sealed credential's store key (a random suffix follows).
pub const CREDENTIAL_PREFIX: &str = "digital-otp.v1.credential.";

/// Why the app password was refused by the policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    /// Not exactly six digits.
    #[error("the password must be exactly 6 digits")]
    Format,
    /// On the list of common passwords.
    #[error("the password is too common")]
    Common,
    /// One digit or a short group repeated (111111, 121212, 123123).
    #[error("the password must not repeat a digit or a group of digits")]
    Repeated,
    /// Ascending or descending run (123456, 987654).
    #[error("the password must not be a run of consecutive digits")]
    Sequential,
}

/// Common six-digit passwords, refused.
pub const COMMON_PASSWORDS: &[&str] = &[
    "000000", "111111", "123456", "654321", "123123", "121212", "112233", "123321", "102030",
    "111222", "159753", "147258", "258369", "456789", "789456", "520520", "131313", "010203",
    "696969", "202020", "112358", "007007", "142536", "246810", "135790", "147852", "963852",
    "741852", "456123", "999999",
];

/// Checks the app password policy: six digits, not common, not repeated, not sequential.
pub fn check_password_policy(password: &str) -> Result<(), PasswordPolicyError> {
    let d = password.as_bytes();
    if d.len() != 6 || !d.iter().all(u8::is_ascii_digit) {
        return Err(PasswordPolicyError::Format);
    }
    if COMMON_PASSWORDS.contains(&password) {
        return Err(PasswordPolicyError::Common);
    }
    let repeats = |n: usize| d.iter().enumerate().all(|(i, c)| *c == d[i % n]);
    if repeats(1) || repeats(2) || repeats(3) {
        return Err(PasswordPolicyError::Repeated);
    }
    let steps = |delta: i16| d.windows(2).all(|w| i16::from(w[1]) - i16::from(w[0]) == delta);
    if steps(1) || steps(-1) {
        return Err(PasswordPolicyError::Sequential);
    }
    Ok(())
}

/// Everything that can go wrong on the app side (internal; `error::DigitalOtpError` is
/// the public form).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Registration code, device info or message problems.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The new password breaks the policy.
    #[error("the password does not meet the policy: {0}")]
    Policy(#[from] PasswordPolicyError),
    /// Wrong password; `remaining` attempts before the credential locks.
    #[error("wrong password; {remaining} attempts remain before the OTP is locked")]
    WrongPassword {
        /// Attempts left.
        remaining: u32,
    },
    /// Locked after five wrong passwords: register again.
    #[error("the OTP is locked after {MAX_PASSWORD_ATTEMPTS} wrong passwords; register again")]
    Locked,
    /// Used on another phone number or device than it was registered on.
    #[error(
        "this OTP was registered on another phone number or device; register again on this one"
    )]
    DeviceMismatch,
    /// No credential for that institution.
    #[error("no OTP is registered for this institution")]
    NotRegistered,
    /// `complete_registration` without `begin_registration`.
    #[error("no registration is in progress; begin one first")]
    NoPendingRegistration,
    /// Past its validity.
    #[error("the OTP has expired; register again")]
    Expired,
    /// A transaction field is invalid.
    #[error("invalid transaction: {0}")]
    Transaction(#[from] TransactionError),
    /// The app's store failed.
    #[error("the secure store failed: {0}")]
    Store(#[from] HostError),
    /// The app's store accepted a write but did not keep it.
    #[error("the secure store did not keep a write")]
    LostWrite,
    /// A stored blob is not readable.
    #[error("stored data is unreadable: {0}")]
    Corrupted(#[from] BlobError),
    /// A cryptographic primitive or the clock failed.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// The state of a stored credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredState {
    /// Registered; the issuer activates it when the first code verifies.
    Pending,
    /// Activated.
    Active,
    /// Locked after five wrong passwords; the seed is destroyed.
    Locked,
}

/// A credential's status as shown to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for the issuer to accept the first code.
    Pending,
    /// Usable.
    Active,
    /// Locked after five wrong passwords.
    Locked,
    /// Past its validity.
    Expired,
    /// Registered on another phone number or device.
    DeviceMismatch,
}

/// What the app may show about a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSummary {
    /// The institution's id.
    pub institution_id: String,
    /// The institution's display name.
    pub institution_name: String,
    /// The serial number.
    pub serial_number: String,
    /// Status.
    pub status: Status,
    /// End of validity, Unix seconds (issuer clock).
    pub valid_until: u64,
    /// Password attempts left before the lock.
    pub attempts_remaining: u32,
}

/// A generated code with its validity (local clock).
#[derive(Clone, PartialEq, Eq)]
pub struct GeneratedCode {
    /// The code.
    pub code: String,
    /// The credential's serial number.
    pub serial_number: String,
    /// First second (local clock) the code is valid.
    pub valid_from: u64,
    /// First second (local clock) it no longer is.
    pub valid_until: u64,
    /// Seconds left.
    pub seconds_remaining: u64,
}

impl std::fmt::Debug for GeneratedCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedCode")
            .field("serial_number", &self.serial_number)
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

/// A credential as stored (sealed) by the app: a JSON object with exactly these fields.
#[derive(Clone)]
struct StoredCredential {
    institution_id: String,
    institution_name: String,
    serial_number: String,
    algorithm: String,
    digits: u8,
    period: u64,
    transaction_suite: String,
    valid_until: u64,
    clock_offset: i64,
    registered_at: u64,
    device_salt: String,
    device_binding: String,
    kdf_salt: String,
    kdf_iterations: u32,
    sealed_seed: Option<String>,
    failed_attempts: u32,
    state: StoredState,
}

/// Which credential (store key) belongs to which institution: `{"credentials": {...}}`.
/// A handful of entries, kept sorted by institution id (a `Vec`: smaller code than a map).
#[derive(Default)]
struct Index {
    credentials: Vec<(String, String)>,
}

impl StoredState {
    fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Locked => "locked",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "pending" => Some(Self::Pending),
            "active" => Some(Self::Active),
            "locked" => Some(Self::Locked),
            _ => None,
        }
    }
}

const CREDENTIAL_FIELDS: &[&str] = &[
    "institution_id",
    "institution_name",
    "serial_number",
    "algorithm",
    "digits",
    "period",
    "transaction_suite",
    "valid_until",
    "clock_offset",
    "registered_at",
    "device_salt",
    "device_binding",
    "kdf_salt",
    "kdf_iterations",
    "sealed_seed",
    "failed_attempts",
    "state",
];

impl StoredCredential {
    fn encode(&self) -> Vec<u8> {
        Writer::new()
            .string("institution_id", self.institution_id.as_str())
            .string("institution_name", self.institution_name.as_str())
            .string("serial_number", self.serial_number.as_str())
            .string("algorithm", self.algorithm.as_str())
            .uint("digits", self.digits)
            .uint("period", self.period)
            .string("transaction_suite", self.transaction_suite.as_str())
            .uint("valid_until", self.valid_until)
            .int("clock_offset", self.clock_offset)
            .uint("registered_at", self.registered_at)
            .string("device_salt", self.device_salt.as_str())
            .string("device_binding", self.device_binding.as_str())
            .string("kdf_salt", self.kdf_salt.as_str())
            .uint("kdf_iterations", self.kdf_iterations)
            .opt_string("sealed_seed", self.sealed_seed.as_deref())
            .uint("failed_attempts", self.failed_attempts)
            .string("state", self.state.name())
            .finish()
    }

    fn decode(bytes: &[u8]) -> Result<Self, JsonError> {
        let mut f = Fields::parse(bytes, Some(CREDENTIAL_FIELDS))?;
        Ok(Self {
            institution_id: f.string("institution_id")?,
            institution_name: f.string("institution_name")?,
            serial_number: f.string("serial_number")?,
            algorithm: f.string("algorithm")?,
            digits: f.uint("digits")?,
            period: f.uint("period")?,
            transaction_suite: f.string("transaction_suite")?,
            valid_until: f.uint("valid_until")?,
            clock_offset: f.int("clock_offset")?,
            registered_at: f.uint("registered_at")?,
            device_salt: f.string("device_salt")?,
            device_binding: f.string("device_binding")?,
            kdf_salt: f.string("kdf_salt")?,
            kdf_iterations: f.uint("kdf_iterations")?,
            sealed_seed: f.opt_string("sealed_seed")?,
            failed_attempts: f.uint("failed_attempts")?,
            state: StoredState::from_name(&f.string("state")?).ok_or(JsonError::Type("state"))?,
        })
    }
}

impl Index {
    fn encode(&self) -> Vec<u8> {
        Writer::new().string_map("credentials", &self.credentials).finish()
    }

    fn decode(bytes: &[u8]) -> Result<Self, JsonError> {
        let mut f = Fields::parse(bytes, Some(&["credentials"]))?;
        Ok(Self { credentials: f.string_map("credentials")? })
    }

    fn position(&self, institution_id: &str) -> Result<usize, usize> {
        self.credentials.binary_search_by(|(id, _)| id.as_str().cmp(institution_id))
    }

    /// The store key of an institution's credential.
    fn get(&self, institution_id: &str) -> Option<&String> {
        self.position(institution_id).ok().map(|i| &self.credentials[i].1)
    }

    /// Sets an institution's store key; returns the one it replaces.
    fn insert(&mut self, institution_id: String, key: String) -> Option<String> {
        match self.position(&institution_id) {
            Ok(i) => Some(std::mem::replace(&mut self.credentials[i].1, key)),
            Err(i) => {
                self.credentials.insert(i, (institution_id, key));
                None
            }
        }
    }

    /// Removes an institution's entry; returns its store key.
    fn remove(&mut self, institution_id: &str) -> Option<String> {
        self.position(institution_id).ok().map(|i| self.credentials.remove(i).1)
    }

    /// Every store key, in institution order.
    fn keys(&self) -> impl Iterator<Item = &String> {
        self.credentials.iter().map(|(_, key)| key)
    }
}

fn unhex_vec(text: &str) -> Result<Vec<u8>, ClientError> {
    base16ct::mixed::decode_vec(text).map_err(|_| ClientError::Corrupted(BlobError::Tampered))
}

fn unhex_array<const N: usize>(text: &str) -> Result<[u8; N], ClientError> {
    unhex_vec(text)?.try_into().map_err(|_| ClientError::Corrupted(BlobError::Tampered))
}

fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

impl StoredCredential {
    fn params(&self) -> Result<OtpParams, ClientError> {
        Ok(OtpParams {
            algorithm: self
                .algorithm
                .parse()
                .map_err(|_| ClientError::Corrupted(BlobError::Tampered))?,
            digits: self.digits,
            period: self.period,
            transaction_suite: enrollment::transaction_suite(&self.transaction_suite)
                .map_err(|_| ClientError::Corrupted(BlobError::Tampered))?,
        })
    }

    fn adjusted(&self, now: u64) -> u64 {
        (i128::from(now) + i128::from(self.clock_offset)).clamp(0, i128::from(u64::MAX)) as u64
    }

    fn to_local(&self, issuer_time: u64) -> u64 {
        (i128::from(issuer_time) - i128::from(self.clock_offset)).clamp(0, i128::from(u64::MAX))
            as u64
    }

    fn device_matches(&self, device: &Device) -> Result<bool, ClientError> {
        Ok(device.matches(&unhex_array(&self.device_salt)?, &unhex_array(&self.device_binding)?))
    }

    fn seed_aad(&self) -> Vec<u8> {
        [
            b"digital-otp/v1/seed".as_slice(),
            self.institution_id.as_bytes(),
            b"\0",
            self.serial_number.as_bytes(),
        ]
        .concat()
    }
}

fn seed_key(
    password: &str,
    salt: &[u8],
    iterations: u32,
    device_key: &[u8; 32],
    institution_id: &str,
    serial: &str,
) -> Result<LessSafeKey, ClientError> {
    let iterations = NonZeroU32::new(iterations).ok_or(ClientError::Internal("zero iterations"))?;
    let mut from_password = Zeroizing::new([0u8; 32]);
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        password.as_bytes(),
        &mut *from_password,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    enrollment::hkdf(
        &*from_password,
        device_key,
        &[b"digital-otp/v1/seed-key", institution_id.as_bytes(), b"\0", serial.as_bytes()],
        &mut *key,
    );
    let unbound =
        UnboundKey::new(&AES_256_GCM, &*key).map_err(|_| ClientError::Internal("AEAD key"))?;
    Ok(LessSafeKey::new(unbound))
}

/// The app side of digital OTP over one store.
pub struct Client {
    store: Arc<dyn SecureStore>,
    clock: Arc<dyn Clock>,
    iterations: u32,
    /// Serializes read-modify-write cycles on the store.
    state: Mutex<()>,
    /// Serializes password checks (so concurrent wrong passwords each count).
    checks: Mutex<()>,
    pending: Mutex<Option<(PendingRegistration, Device)>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The outcome of the first phase of a password check, which has already persisted
/// the incremented failure count.
pub struct Attempt {
    key: String,
    credential: StoredCredential,
}

impl Client {
    /// A client over `store` and `clock`.
    pub fn new(store: Arc<dyn SecureStore>, clock: Arc<dyn Clock>) -> Self {
        Self::with_iterations(store, clock, PBKDF2_ITERATIONS)
    }

    /// A client whose *new* credentials use `iterations` (at least
    /// [`MIN_PBKDF2_ITERATIONS`]); for tests that register many credentials.
    pub fn with_iterations(
        store: Arc<dyn SecureStore>,
        clock: Arc<dyn Clock>,
        iterations: u32,
    ) -> Self {
        Self {
            store,
            clock,
            iterations: iterations.max(MIN_PBKDF2_ITERATIONS),
            state: Mutex::new(()),
            checks: Mutex::new(()),
            pending: Mutex::new(None),
        }
    }

    fn now(&self) -> Result<u64, ClientError> {
        self.clock.now_unix_seconds().map_err(ClientError::Store)
    }

    // ------------------------------------------------------------ store helpers

    /// Writes and reads back, so a store that drops writes is noticed.
    fn write_checked(&self, key: &str, value: Vec<u8>) -> Result<(), ClientError> {
        self.store.write(key.to_string(), value.clone())?;
        match self.store.read(key.to_string())? {
            Some(back) if back == value => Ok(()),
            _ => Err(ClientError::LostWrite),
        }
    }

    fn device_key(&self, create: bool) -> Result<Zeroizing<[u8; 32]>, ClientError> {
        if let Some(blob) = self.store.read(DEVICE_KEY.into())? {
            return Ok(storage::decode_device_key(&blob)?);
        }
        if !create {
            return Err(ClientError::NotRegistered);
        }
        let mut key = Zeroizing::new([0u8; 32]);
        enrollment::random(&mut *key)?;
        self.write_checked(DEVICE_KEY, storage::encode_device_key(&key).to_vec())?;
        Ok(key)
    }

    fn sealer(&self, create: bool) -> Result<(Zeroizing<[u8; 32]>, Sealer), ClientError> {
        let key = self.device_key(create)?;
        let sealer = Sealer::new(&key)?;
        Ok((key, sealer))
    }

    fn read_index(&self, sealer: &Sealer) -> Result<Index, ClientError> {
        match self.store.read(INDEX.into())? {
            None => Ok(Index::default()),
            Some(blob) => {
                let plain = sealer.open(BlobKind::Index, INDEX, &blob)?;
                Index::decode(&plain).map_err(|_| ClientError::Corrupted(BlobError::Tampered))
            }
        }
    }

    fn write_index(&self, sealer: &Sealer, index: &Index) -> Result<(), ClientError> {
        let plain = Zeroizing::new(index.encode());
        self.write_checked(INDEX, sealer.seal(BlobKind::Index, INDEX, &plain)?)
    }

    fn read_credential(&self, sealer: &Sealer, key: &str) -> Result<StoredCredential, ClientError> {
        let blob =
            self.store.read(key.to_string())?.ok_or(ClientError::Corrupted(BlobError::NotABlob))?;
        let plain = sealer.open(BlobKind::Credential, key, &blob)?;
        let c = StoredCredential::decode(&plain)
            .map_err(|_| ClientError::Corrupted(BlobError::Tampered))?;
        if c.kdf_iterations < MIN_PBKDF2_ITERATIONS {
            return Err(ClientError::Corrupted(BlobError::Tampered));
        }
        Ok(c)
    }

    fn write_credential(
        &self,
        sealer: &Sealer,
        key: &str,
        c: &StoredCredential,
    ) -> Result<(), ClientError> {
        let plain = Zeroizing::new(c.encode());
        self.write_checked(key, sealer.seal(BlobKind::Credential, key, &plain)?)
    }

    fn locate(&self, sealer: &Sealer, institution_id: &str) -> Result<String, ClientError> {
        self.read_index(sealer)?.get(institution_id).cloned().ok_or(ClientError::NotRegistered)
    }

    // ------------------------------------------------------------ registration

    /// Checks the code (check digit included) and the device, and returns the request
    /// to send to the bank. Replaces any registration in progress. Writes nothing.
    pub fn begin_registration(
        &self,
        code: &str,
        phone_number: &str,
        device_id: &str,
    ) -> Result<Vec<u8>, ClientError> {
        let code = RegistrationCode::parse(code)?;
        self.begin(code, Device::new(phone_number, device_id)?)
    }

    /// [`Self::begin_registration`] with an already checked device.
    pub fn begin_registration_with(
        &self,
        code: &str,
        device: Device,
    ) -> Result<Vec<u8>, ClientError> {
        self.begin(RegistrationCode::parse(code)?, device)
    }

    fn begin(&self, code: RegistrationCode, device: Device) -> Result<Vec<u8>, ClientError> {
        let (pending, request) = PendingRegistration::begin(code, &device)?;
        *lock(&self.pending) = Some((pending, device));
        Ok(request)
    }

    /// Finishes the registration in progress with the bank's response and sets the app
    /// password. Persists the new credential (replacing this institution's previous one)
    /// all-or-nothing. A password refused by the policy leaves the registration in
    /// progress, so the app can ask again.
    pub fn complete_registration(
        &self,
        response: &[u8],
        password: &str,
    ) -> Result<CredentialSummary, ClientError> {
        check_password_policy(password)?;
        let (pending, _device) =
            lock(&self.pending).take().ok_or(ClientError::NoPendingRegistration)?;
        let now = self.now()?;
        let done = pending.complete(response)?;
        self.store_new_credential(done, password, now)
    }

    fn store_new_credential(
        &self,
        done: Completed,
        password: &str,
        now: u64,
    ) -> Result<CredentialSummary, ClientError> {
        let g = &done.grant;
        let mut kdf_salt = [0u8; 16];
        enrollment::random(&mut kdf_salt)?;
        let offset = (i128::from(g.issuer_time) - i128::from(now))
            .clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        let mut credential = StoredCredential {
            institution_id: g.institution_id.clone(),
            institution_name: g.institution_name.clone(),
            serial_number: g.serial_number.clone(),
            algorithm: g.params.algorithm.name().into(),
            digits: g.params.digits,
            period: g.params.period,
            transaction_suite: g.params.transaction_suite.to_string(),
            valid_until: g.valid_until,
            clock_offset: offset,
            registered_at: now,
            device_salt: hex(&done.device_salt),
            device_binding: hex(&done.device_binding),
            kdf_salt: hex(&kdf_salt),
            kdf_iterations: self.iterations,
            sealed_seed: None,
            failed_attempts: 0,
            state: StoredState::Pending,
        };

        let _guard = lock(&self.state);
        let (device_key, sealer) = self.sealer(true)?;
        let key = seed_key(
            password,
            &kdf_salt,
            self.iterations,
            &device_key,
            &g.institution_id,
            &g.serial_number,
        )?;
        credential.sealed_seed = Some(seal_seed(&key, &credential.seed_aad(), &done.seed)?);

        let mut suffix = [0u8; 16];
        enrollment::random(&mut suffix)?;
        let blob_key = format!("{CREDENTIAL_PREFIX}{}", hex(&suffix));
        let mut index = self.read_index(&sealer)?;
        if let Err(e) = self.write_credential(&sealer, &blob_key, &credential) {
            let _ = self.store.delete(blob_key);
            return Err(e);
        }
        let replaced = index.insert(g.institution_id.clone(), blob_key.clone());
        if let Err(e) = self.write_index(&sealer, &index) {
            let _ = self.store.delete(blob_key);
            return Err(e);
        }
        if let Some(old) = replaced {
            // The old credential is no longer referenced; failing to delete it only leaves garbage.
            let _ = self.store.delete(old);
        }
        Ok(self.summarize(&credential, None, now))
    }

    // ------------------------------------------------------------ password checks

    /// Phase 1 of a password check: refuses locked, expired and mismatched credentials,
    /// then persists the incremented failure count (and reads it back) *before* the
    /// password is tried. Public so tests can simulate a crash right after it.
    pub fn begin_attempt(
        &self,
        institution_id: &str,
        device: &Device,
    ) -> Result<Attempt, ClientError> {
        let now = self.now()?;
        let _guard = lock(&self.state);
        let (_, sealer) = self.sealer(false)?;
        let key = self.locate(&sealer, institution_id)?;
        let mut c = self.read_credential(&sealer, &key)?;
        if c.state == StoredState::Locked || c.sealed_seed.is_none() {
            return Err(ClientError::Locked);
        }
        if !c.device_matches(device)? {
            return Err(ClientError::DeviceMismatch);
        }
        if c.adjusted(now) >= c.valid_until {
            return Err(ClientError::Expired);
        }
        if c.failed_attempts >= MAX_PASSWORD_ATTEMPTS {
            // Only reachable after a crash in phase 3; finish the lock now.
            c.state = StoredState::Locked;
            c.sealed_seed = None;
            self.write_credential(&sealer, &key, &c)?;
            return Err(ClientError::Locked);
        }
        c.failed_attempts += 1;
        self.write_credential(&sealer, &key, &c)?;
        Ok(Attempt { key, credential: c })
    }

    /// Phases 2 and 3: tries the password, then resets the count on success or, on the
    /// fifth consecutive failure, destroys the seed.
    fn finish_attempt(
        &self,
        attempt: Attempt,
        password: &str,
    ) -> Result<(StoredCredential, Zeroizing<[u8; 32]>), ClientError> {
        let Attempt { key, credential: c } = attempt;
        let device_key = self.device_key(false)?;
        let sealed = c.sealed_seed.as_deref().ok_or(ClientError::Locked)?;
        let aead = seed_key(
            password,
            &unhex_vec(&c.kdf_salt)?,
            c.kdf_iterations,
            &device_key,
            &c.institution_id,
            &c.serial_number,
        )?;
        let opened = open_seed(&aead, &c.seed_aad(), sealed);

        let _guard = lock(&self.state);
        let sealer = Sealer::new(&device_key)?;
        let mut current = self.read_credential(&sealer, &key)?;
        if current.serial_number != c.serial_number {
            return Err(ClientError::NotRegistered);
        }
        match opened {
            Ok(seed) => {
                current.failed_attempts = 0;
                self.write_credential(&sealer, &key, &current)?;
                Ok((current, seed))
            }
            Err(ClientError::Corrupted(BlobError::Tampered)) => {
                if current.failed_attempts >= MAX_PASSWORD_ATTEMPTS {
                    current.state = StoredState::Locked;
                    current.sealed_seed = None;
                    self.write_credential(&sealer, &key, &current)?;
                    return Err(ClientError::Locked);
                }
                Err(ClientError::WrongPassword {
                    remaining: MAX_PASSWORD_ATTEMPTS - current.failed_attempts,
                })
            }
            Err(e) => Err(e),
        }
    }

    fn unlock(
        &self,
        institution_id: &str,
        password: &str,
        device: &Device,
    ) -> Result<(StoredCredential, Zeroizing<[u8; 32]>), ClientError> {
        let _serial = lock(&self.checks);
        let attempt = self.begin_attempt(institution_id, device)?;
        self.finish_attempt(attempt, password)
    }

    // ------------------------------------------------------------ codes

    /// A login code (TOTP, issuer clock) for the credential of `institution_id`.
    /// Persists the password failure count.
    pub fn generate(
        &self,
        institution_id: &str,
        password: &str,
        device: &Device,
    ) -> Result<GeneratedCode, ClientError> {
        let (c, seed) = self.unlock(institution_id, password, device)?;
        let params = c.params()?;
        let keys = enrollment::derive_keys(&seed, &params)?;
        let totp = enrollment::login_totp(&keys, &params)?;
        let now = self.now()?;
        let w = totp.window_at(c.adjusted(now)).map_err(|_| ClientError::Internal("time"))?;
        Ok(GeneratedCode {
            code: totp.generate_step(w.step).to_string(),
            serial_number: c.serial_number.clone(),
            valid_from: c.to_local(w.valid_from),
            valid_until: c.to_local(w.valid_until),
            seconds_remaining: w.seconds_remaining,
        })
    }

    /// A transaction code bound to `transaction` (OCRA), and the summary the app must
    /// show. The transaction is checked before the password. Persists the password
    /// failure count.
    pub fn generate_for_transaction(
        &self,
        institution_id: &str,
        password: &str,
        device: &Device,
        transaction: &Transaction,
    ) -> Result<(GeneratedCode, String), ClientError> {
        let canonical = transaction.canonical()?;
        let (c, seed) = self.unlock(institution_id, password, device)?;
        let params = c.params()?;
        let keys = enrollment::derive_keys(&seed, &params)?;
        let suite = params.transaction_suite.clone();
        let step = suite.timestamp().map(|t| t.seconds()).ok_or(ClientError::Internal("suite"))?;
        let now = c.adjusted(self.now()?);
        let steps = now / step;
        let question = canonical.question();
        let code = Ocra::new(suite, &keys.transaction)
            .generate(&OcraInput {
                question: &question,
                time_steps: Some(steps),
                ..Default::default()
            })
            .map_err(|_| ClientError::Internal("ocra"))?;
        let start = steps.saturating_mul(step);
        let end = start.saturating_add(step);
        Ok((
            GeneratedCode {
                code: code.to_string(),
                serial_number: c.serial_number.clone(),
                valid_from: c.to_local(start),
                valid_until: c.to_local(end),
                seconds_remaining: end.saturating_sub(now),
            },
            canonical.summary(),
        ))
    }

    // ------------------------------------------------------------ management

    /// Changes the password; the old one is required (and a wrong one counts as a
    /// failure). Persists the re-sealed seed.
    pub fn change_password(
        &self,
        institution_id: &str,
        old: &str,
        new: &str,
        device: &Device,
    ) -> Result<(), ClientError> {
        check_password_policy(new)?;
        let (c, seed) = self.unlock(institution_id, old, device)?;
        let mut salt = [0u8; 16];
        enrollment::random(&mut salt)?;
        let _guard = lock(&self.state);
        let (device_key, sealer) = self.sealer(false)?;
        let key = self.locate(&sealer, institution_id)?;
        let mut current = self.read_credential(&sealer, &key)?;
        if current.serial_number != c.serial_number {
            return Err(ClientError::NotRegistered);
        }
        let aead = seed_key(
            new,
            &salt,
            self.iterations,
            &device_key,
            &current.institution_id,
            &current.serial_number,
        )?;
        current.kdf_salt = hex(&salt);
        current.kdf_iterations = self.iterations;
        current.sealed_seed = Some(seal_seed(&aead, &current.seed_aad(), &seed)?);
        self.write_credential(&sealer, &key, &current)
    }

    /// Marks a pending credential active, once the bank confirms its first code.
    /// Persists the state.
    pub fn confirm_activation(&self, institution_id: &str) -> Result<(), ClientError> {
        let _guard = lock(&self.state);
        let (_, sealer) = self.sealer(false)?;
        let key = self.locate(&sealer, institution_id)?;
        let mut c = self.read_credential(&sealer, &key)?;
        match c.state {
            StoredState::Locked => Err(ClientError::Locked),
            StoredState::Active => Ok(()),
            StoredState::Pending => {
                c.state = StoredState::Active;
                self.write_credential(&sealer, &key, &c)
            }
        }
    }

    fn summarize(
        &self,
        c: &StoredCredential,
        device: Option<&Device>,
        now: u64,
    ) -> CredentialSummary {
        let status = if c.state == StoredState::Locked || c.sealed_seed.is_none() {
            Status::Locked
        } else if device.is_some_and(|d| !c.device_matches(d).unwrap_or(false)) {
            Status::DeviceMismatch
        } else if c.adjusted(now) >= c.valid_until {
            Status::Expired
        } else if c.state == StoredState::Pending {
            Status::Pending
        } else {
            Status::Active
        };
        CredentialSummary {
            institution_id: c.institution_id.clone(),
            institution_name: c.institution_name.clone(),
            serial_number: c.serial_number.clone(),
            status,
            valid_until: c.valid_until,
            attempts_remaining: if status == Status::Locked {
                0
            } else {
                MAX_PASSWORD_ATTEMPTS.saturating_sub(c.failed_attempts)
            },
        }
    }

    /// Every credential in the app, with its status on `device`.
    pub fn credentials(&self, device: &Device) -> Result<Vec<CredentialSummary>, ClientError> {
        let now = self.now()?;
        let _guard = lock(&self.state);
        let (_, sealer) = match self.sealer(false) {
            Ok(s) => s,
            Err(ClientError::NotRegistered) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let index = self.read_index(&sealer)?;
        index
            .keys()
            .map(|key| Ok(self.summarize(&self.read_credential(&sealer, key)?, Some(device), now)))
            .collect()
    }

    /// Removes one institution's credential, leaving the others. Persists the removal.
    pub fn cancel(&self, institution_id: &str) -> Result<(), ClientError> {
        let _guard = lock(&self.state);
        let (_, sealer) = self.sealer(false)?;
        let mut index = self.read_index(&sealer)?;
        let key = index.remove(institution_id).ok_or(ClientError::NotRegistered)?;
        self.write_index(&sealer, &index)?;
        let _ = self.store.delete(key);
        Ok(())
    }

    /// For a forgotten password: deletes every credential in the app and the device key
    /// (as KB-OTP does). Works even when the stored index is unreadable.
    pub fn reset_all(&self) -> Result<(), ClientError> {
        *lock(&self.pending) = None;
        let _guard = lock(&self.state);
        if let Ok((_, sealer)) = self.sealer(false) {
            if let Ok(index) = self.read_index(&sealer) {
                for key in index.keys() {
                    self.store.delete(key.clone())?;
                }
            }
        }
        self.store.delete(INDEX.into())?;
        self.store.delete(DEVICE_KEY.into())?;
        Ok(())
    }
}

fn seal_seed(key: &LessSafeKey, aad: &[u8], seed: &[u8; 32]) -> Result<String, ClientError> {
    let mut nonce = [0u8; NONCE_LEN];
    enrollment::random(&mut nonce)?;
    let mut body = Zeroizing::new(seed.to_vec());
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut *body)
        .map_err(|_| ClientError::Internal("seal"))?;
    Ok(hex(&[nonce.as_slice(), &body].concat()))
}

fn open_seed(
    key: &LessSafeKey,
    aad: &[u8],
    sealed: &str,
) -> Result<Zeroizing<[u8; 32]>, ClientError> {
    let raw = Zeroizing::new(unhex_vec(sealed)?);
    if raw.len() != NONCE_LEN + 32 + AES_256_GCM.tag_len() {
        return Err(ClientError::Corrupted(BlobError::NotABlob));
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&raw[..NONCE_LEN]);
    let mut body = Zeroizing::new(raw[NONCE_LEN..].to_vec());
    let plain = key
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut body)
        .map_err(|_| ClientError::Corrupted(BlobError::Tampered))?;
    let mut seed = Zeroizing::new([0u8; 32]);
    seed.copy_from_slice(plain);
    Ok(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        for ok in ["482915", "730264", "019283"] {
            assert_eq!(check_password_policy(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("12345", PasswordPolicyError::Format),
            ("1234567", PasswordPolicyError::Format),
            ("12345a", PasswordPolicyError::Format),
            ("１２３４５６", PasswordPolicyError::Format),
            ("123456", PasswordPolicyError::Common),
            ("000000", PasswordPolicyError::Common),
            ("654321", PasswordPolicyError::Common),
            ("777777", PasswordPolicyError::Repeated),
            ("343434", PasswordPolicyError::Repeated),
            ("827827", PasswordPolicyError::Repeated),
            ("234567", PasswordPolicyError::Sequential),
            ("876543", PasswordPolicyError::Sequential),
            ("012345", PasswordPolicyError::Sequential),
        ] {
            assert_eq!(check_password_policy(bad), Err(why), "{bad}");
        }
        assert!(COMMON_PASSWORDS.len() >= 10);
    }
}
