//! The app side: registration, device binding, the app password with its 5-strike
//! lockout, encrypted credential storage, login and transaction codes. Plain Rust; the
//! `ffi` module wraps [`Client`] as `DigitalOtp`.
//!
//! - this module: the flows ([`Client`]); `error`: their error, [`ClientError`];
//! - [`vault`]: the records kept in the app's [`SecureStore`] and how they are sealed;
//! - [`policy`]: the app password policy.
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

mod error;
mod policy;
mod vault;

use std::sync::{Arc, Mutex, MutexGuard};

use zeroize::Zeroizing;

use crate::crypto::{self, hex};
use crate::enrollment::{self, Completed, Device, PendingRegistration, RegistrationCode};
use crate::host::{Clock, SecureStore};
use crate::otp::ocra::{Ocra, OcraInput};
use crate::storage::{BlobError, Sealer};
use crate::transaction::Transaction;

pub use error::ClientError;
pub use policy::{
    check_password_policy, PasswordPolicyError, COMMON_PASSWORDS, MAX_PASSWORD_ATTEMPTS,
};
use vault::{open_seed, seal_seed, seed_key, unhex_vec, StoredCredential, Vault};
pub use vault::{
    StoredState, CREDENTIAL_PREFIX, DEVICE_KEY, INDEX, MIN_PBKDF2_ITERATIONS, PBKDF2_ITERATIONS,
};

/// A credential's status.
// In the bindings: `CredentialStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[uniffi(name = "CredentialStatus")]
pub enum Status {
    /// Registered; waiting for the bank to accept the first code (then call `confirmActivation`).
    Pending,
    /// Usable.
    Active,
    /// Locked after five wrong passwords: register again.
    Locked,
    /// Past its validity (3 years): register again.
    Expired,
    /// Registered on another phone number or device: register again on this one.
    DeviceMismatch,
}

/// What the app may show about a credential.
// In the bindings: `CredentialInfo`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi(name = "CredentialInfo")]
pub struct CredentialSummary {
    /// The issuing institution's id.
    pub institution_id: String,
    /// Its display name.
    pub institution_name: String,
    /// The credential's serial number.
    pub serial_number: String,
    /// Status on the device it was asked for.
    pub status: Status,
    /// End of validity (Unix seconds, bank clock).
    pub valid_until: u64,
    /// Password attempts left before the lock (0 when locked).
    pub attempts_remaining: u32,
}

/// A login code and its validity, in the device's own clock.
// In the bindings: `LoginCode`. `Debug` leaves the code out.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi(name = "LoginCode")]
pub struct GeneratedCode {
    /// The code to show.
    pub code: String,
    /// The credential's serial number.
    pub serial_number: String,
    /// First second (Unix time, device clock) the code is valid.
    pub valid_from: u64,
    /// First second it no longer is.
    pub valid_until: u64,
    /// Seconds left: drive the countdown with this.
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

/// The app side of digital OTP over one store.
pub struct Client {
    vault: Vault,
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
        Self::build(store, clock, PBKDF2_ITERATIONS)
    }

    /// A client whose *new* credentials use `iterations` (at least
    /// [`MIN_PBKDF2_ITERATIONS`]); for tests that register many credentials (feature
    /// `test-support`).
    #[cfg(feature = "test-support")]
    pub fn with_iterations(
        store: Arc<dyn SecureStore>,
        clock: Arc<dyn Clock>,
        iterations: u32,
    ) -> Self {
        Self::build(store, clock, iterations)
    }

    fn build(store: Arc<dyn SecureStore>, clock: Arc<dyn Clock>, iterations: u32) -> Self {
        Self {
            vault: Vault { store },
            clock,
            iterations: iterations.max(MIN_PBKDF2_ITERATIONS),
            state: Mutex::new(()),
            checks: Mutex::new(()),
            pending: Mutex::new(None),
        }
    }

    fn now(&self) -> Result<u64, ClientError> {
        self.clock.now_unix_seconds().map_err(ClientError::Clock)
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
        random(&mut kdf_salt)?;
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
        let (device_key, sealer) = self.vault.sealer(true)?;
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
        random(&mut suffix)?;
        let blob_key = format!("{CREDENTIAL_PREFIX}{}", hex(&suffix));
        let mut index = self.vault.read_index(&sealer)?;
        if let Err(e) = self.vault.write_credential(&sealer, &blob_key, &credential) {
            let _ = self.vault.store.delete(blob_key);
            return Err(e);
        }
        let replaced = index.insert(g.institution_id.clone(), blob_key.clone());
        if let Err(e) = self.vault.write_index(&sealer, &index) {
            let _ = self.vault.store.delete(blob_key);
            return Err(e);
        }
        if let Some(old) = replaced {
            // The old credential is no longer referenced; failing to delete it only leaves garbage.
            let _ = self.vault.store.delete(old);
        }
        Ok(self.summarize(&credential, None, now))
    }

    // ------------------------------------------------------------ password checks

    /// Phase 1 of a password check alone, so that tests can simulate a crash right after
    /// it (feature `test-support`).
    #[cfg(feature = "test-support")]
    pub fn begin_attempt(
        &self,
        institution_id: &str,
        device: &Device,
    ) -> Result<Attempt, ClientError> {
        self.first_phase(institution_id, device)
    }

    /// Phase 1 of a password check: refuses locked, expired and mismatched credentials,
    /// then persists the incremented failure count (and reads it back) *before* the
    /// password is tried.
    fn first_phase(&self, institution_id: &str, device: &Device) -> Result<Attempt, ClientError> {
        let now = self.now()?;
        let _guard = lock(&self.state);
        let (_, sealer) = self.vault.sealer(false)?;
        let key = self.vault.locate(&sealer, institution_id)?;
        let mut c = self.vault.read_credential(&sealer, &key)?;
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
            self.vault.write_credential(&sealer, &key, &c)?;
            return Err(ClientError::Locked);
        }
        c.failed_attempts += 1;
        self.vault.write_credential(&sealer, &key, &c)?;
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
        let device_key = self.vault.device_key(false)?;
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
        let mut current = self.vault.read_credential(&sealer, &key)?;
        if current.serial_number != c.serial_number {
            return Err(ClientError::NotRegistered);
        }
        match opened {
            Ok(seed) => {
                current.failed_attempts = 0;
                self.vault.write_credential(&sealer, &key, &current)?;
                Ok((current, seed))
            }
            Err(ClientError::Corrupted(BlobError::Tampered)) => {
                if current.failed_attempts >= MAX_PASSWORD_ATTEMPTS {
                    current.state = StoredState::Locked;
                    current.sealed_seed = None;
                    self.vault.write_credential(&sealer, &key, &current)?;
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
        let attempt = self.first_phase(institution_id, device)?;
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
        random(&mut salt)?;
        let _guard = lock(&self.state);
        let (device_key, sealer) = self.vault.sealer(false)?;
        let key = self.vault.locate(&sealer, institution_id)?;
        let mut current = self.vault.read_credential(&sealer, &key)?;
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
        self.vault.write_credential(&sealer, &key, &current)
    }

    /// Marks a pending credential active, once the bank confirms its first code.
    /// Persists the state.
    pub fn confirm_activation(&self, institution_id: &str) -> Result<(), ClientError> {
        let _guard = lock(&self.state);
        let (_, sealer) = self.vault.sealer(false)?;
        let key = self.vault.locate(&sealer, institution_id)?;
        let mut c = self.vault.read_credential(&sealer, &key)?;
        match c.state {
            StoredState::Locked => Err(ClientError::Locked),
            StoredState::Active => Ok(()),
            StoredState::Pending => {
                c.state = StoredState::Active;
                self.vault.write_credential(&sealer, &key, &c)
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
        let (_, sealer) = match self.vault.sealer(false) {
            Ok(s) => s,
            Err(ClientError::NotRegistered) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let index = self.vault.read_index(&sealer)?;
        index
            .keys()
            .map(|key| {
                Ok(self.summarize(&self.vault.read_credential(&sealer, key)?, Some(device), now))
            })
            .collect()
    }

    /// Removes one institution's credential, leaving the others. Persists the removal.
    pub fn cancel(&self, institution_id: &str) -> Result<(), ClientError> {
        let _guard = lock(&self.state);
        let (_, sealer) = self.vault.sealer(false)?;
        let mut index = self.vault.read_index(&sealer)?;
        let key = index.remove(institution_id).ok_or(ClientError::NotRegistered)?;
        self.vault.write_index(&sealer, &index)?;
        let _ = self.vault.store.delete(key);
        Ok(())
    }

    /// For a forgotten password: deletes every credential in the app and the device key
    /// (as KB-OTP does). Works even when the stored index is unreadable.
    pub fn reset_all(&self) -> Result<(), ClientError> {
        *lock(&self.pending) = None;
        let _guard = lock(&self.state);
        if let Ok((_, sealer)) = self.vault.sealer(false) {
            if let Ok(index) = self.vault.read_index(&sealer) {
                for key in index.keys() {
                    self.vault.store.delete(key.clone())?;
                }
            }
        }
        self.vault.store.delete(INDEX.into())?;
        self.vault.store.delete(DEVICE_KEY.into())?;
        Ok(())
    }
}

/// Fills `buf` from the random source.
fn random(buf: &mut [u8]) -> Result<(), ClientError> {
    crypto::random(buf).map_err(|_| ClientError::Internal("random source"))
}
