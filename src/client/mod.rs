//! The app side: registration, device binding, the app password with its 5-strike
//! lockout, encrypted credential storage, login and transaction codes. Plain Rust; the
//! `ffi` module wraps [`Client`] as `DigitalOtp`.
//!
//! - this module: the flows ([`Client`]); `error`: their error, [`ClientError`];
//! - [`vault`]: the records kept in the app's [`SecureStore`] and how they are sealed;
//! - [`policy`]: the app password policy;
//! - `unlocking`: the bank-assisted unlock and what it is for (codes, a change of password).
//!
//! ## Registration (two round trips, docs/adr/0009)
//! `begin_registration` (the code, the phone, the app password; a device key is created)
//! → request → the bank → response → `confirm_registration`: the bank's key
//! confirmation is checked and the credential stored, *unconfirmed*, under a fresh store
//! key; the index switches to it (the commit point) and the replaced credential goes →
//! confirmation → the bank → outcome → `complete_registration`: pending until the first
//! accepted code, as before. A failure at any point leaves the previous state whole.
//!
//! ## Codes (one round trip each, docs/adr/0010)
//! The seed is sealed under a key from the app password's OPRF output, which only the
//! bank can help compute: `begin_login_code` / `begin_transaction_code` → unlock request
//! (signed by the device key) → the bank counts and evaluates → answer →
//! `complete_login_code` / `complete_transaction_code`. A wrong password fails to open
//! the seed; the bank allows five unconfirmed evaluations in a row, then refuses: the
//! count lives at the bank, where no copy of this store can roll it back. After the
//! fifth wrong password the app destroys the sealed seed and the device key.

mod error;
mod policy;
mod unlocking;
mod vault;

use std::sync::{Arc, Mutex, MutexGuard};

use zeroize::Zeroizing;

use crate::crypto::{self, hex};
use crate::enrollment::unlock::PendingUnlock;
use crate::enrollment::{
    self, Answered, Device, PendingRegistration, ProtocolError, RegistrationCode, DEVICE_KEY_LEN,
};
use crate::host::{Clock, DeviceKeys, HostError, SecureStore};
use crate::storage::{BlobError, Sealer};
use crate::transaction::Canonical;

pub use error::ClientError;
pub use policy::{
    check_password_policy, PasswordPolicyError, COMMON_PASSWORDS, MAX_PASSWORD_ATTEMPTS,
};
use vault::{seal_seed, seed_key, unhex_array, Index, StoredCredential, Vault};
pub use vault::{
    StoredState, CREDENTIAL_PREFIX, DEVICE_KEY, INDEX, MIN_PBKDF2_ITERATIONS, PBKDF2_ITERATIONS,
};

/// A credential's status.
// In the bindings: `CredentialStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[uniffi(name = "CredentialStatus")]
pub enum Status {
    /// The bank answered the registration, but its outcome has not been given to
    /// `completeRegistration` yet.
    Registering,
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
    /// Password attempts left before the lock, as the bank last said (0 when locked).
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

/// A transaction code, bound to exactly one transaction.
// `Debug` leaves the code out.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct TransactionCode {
    /// The code.
    pub code: String,
    /// The canonical summary the customer confirmed, e.g.
    /// `Transfer KRW 1,500,000\nPayee: 홍길동\nAccount: 110123456789`
    /// (one field per line).
    pub summary: String,
    /// The credential's serial number.
    pub serial_number: String,
    /// First second (Unix time, device clock) the code is valid.
    pub valid_from: u64,
    /// First second it no longer is.
    pub valid_until: u64,
    /// Seconds left.
    pub seconds_remaining: u64,
}

impl std::fmt::Debug for TransactionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionCode")
            .field("serial_number", &self.serial_number)
            .finish_non_exhaustive()
    }
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
    keys: Arc<dyn DeviceKeys>,
    clock: Arc<dyn Clock>,
    iterations: u32,
    /// Serializes read-modify-write cycles on the store.
    state: Mutex<()>,
    /// The registration between `begin_registration` and `confirm_registration`.
    registering: Mutex<Option<Registering>>,
    /// The unlocks between `begin_…_code` and `complete_…_code` (a few may be under way
    /// at once, from several threads; the answer's MAC tells which it belongs to).
    unlocking: Mutex<Vec<Unlocking>>,
}

struct Registering {
    pending: PendingRegistration,
    device: Device,
    key_alias: String,
}

/// What an unlock is for.
enum Purpose {
    Login,
    Transaction(Canonical),
    ChangePassword,
}

struct Unlocking {
    pending: PendingUnlock,
    institution_id: String,
    serial_number: String,
    store_key: String,
    purpose: Purpose,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Client {
    /// A client over the app's `store`, the platform's device `keys` and `clock`.
    pub fn new(
        store: Arc<dyn SecureStore>,
        keys: Arc<dyn DeviceKeys>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::build(store, keys, clock, PBKDF2_ITERATIONS)
    }

    /// A client whose *new* credentials use `iterations` (at least
    /// [`MIN_PBKDF2_ITERATIONS`]); for tests that register many credentials (feature
    /// `test-support`).
    #[cfg(feature = "test-support")]
    pub fn with_iterations(
        store: Arc<dyn SecureStore>,
        keys: Arc<dyn DeviceKeys>,
        clock: Arc<dyn Clock>,
        iterations: u32,
    ) -> Self {
        Self::build(store, keys, clock, iterations)
    }

    fn build(
        store: Arc<dyn SecureStore>,
        keys: Arc<dyn DeviceKeys>,
        clock: Arc<dyn Clock>,
        iterations: u32,
    ) -> Self {
        Self {
            vault: Vault { store },
            keys,
            clock,
            iterations: iterations.max(MIN_PBKDF2_ITERATIONS),
            state: Mutex::new(()),
            registering: Mutex::new(None),
            unlocking: Mutex::new(Vec::new()),
        }
    }

    fn now(&self) -> Result<u64, ClientError> {
        self.clock.now_unix_seconds().map_err(ClientError::Clock)
    }

    // ------------------------------------------------------------ registration

    /// Starts registering with `institution_id`: checks the typed registration code (a
    /// typo is refused here), the phone and device, and the new app password (the
    /// policy), creates the credential's device key, and returns the request to send to
    /// the bank. Replaces any registration in progress. Writes nothing to the store.
    pub fn begin_registration(
        &self,
        institution_id: &str,
        code: &str,
        device: Device,
        password: &str,
    ) -> Result<Vec<u8>, ClientError> {
        let code = RegistrationCode::parse(code)?;
        check_password_policy(password)?;
        let mut pending =
            PendingRegistration::start(&code, &device, institution_id, password.as_bytes())?;
        let mut suffix = [0u8; 8];
        random(&mut suffix)?;
        let key_alias = format!("digital-otp.v2.key.{}", hex(&suffix));
        let key = self
            .keys
            .create_key(key_alias.clone(), pending.attestation_challenge().to_vec())
            .map_err(ClientError::Keys)?;
        let public: [u8; DEVICE_KEY_LEN] =
            match <[u8; DEVICE_KEY_LEN]>::try_from(key.public_key.as_slice()) {
                Ok(k @ [0x04, ..]) => k,
                _ => {
                    // The platform's key store gave something else than a SEC1 uncompressed
                    // P-256 point: its failure, not the SDK's.
                    let _ = self.keys.delete_key(key_alias);
                    return Err(ClientError::Keys(HostError::Failed {
                        reason: "the device key is not a P-256 public key (65 bytes, 04 ‖ x ‖ y)"
                            .into(),
                    }));
                }
            };
        let request = pending.request(public, key.evidence)?;
        if let Some(old) =
            lock(&self.registering).replace(Registering { pending, device, key_alias })
        {
            let _ = self.keys.delete_key(old.key_alias);
        }
        Ok(request)
    }

    /// Checks the bank's response (its key confirmation: a wrong, expired or used code
    /// fails here) and stores the new credential, unconfirmed, replacing this bank's
    /// previous one all-or-nothing. Returns the confirmation to send to the bank.
    /// Persists the credential. The registration in progress ends either way.
    pub fn confirm_registration(&self, response: &[u8]) -> Result<Vec<u8>, ClientError> {
        let Registering { pending, device, key_alias } =
            lock(&self.registering).take().ok_or(ClientError::NoPendingRegistration)?;
        let result = (|| {
            let now = self.now()?;
            let answered = pending.answer(response)?;
            let signature = self
                .keys
                .sign(key_alias.clone(), answered.to_sign.to_vec())
                .map_err(ClientError::Keys)?;
            self.store_new_credential(&answered, &device, &key_alias, now)?;
            Ok(answered.confirmation(&signature))
        })();
        if result.is_err() {
            let _ = self.keys.delete_key(key_alias);
        }
        result
    }

    fn store_new_credential(
        &self,
        done: &Answered,
        device: &Device,
        key_alias: &str,
        now: u64,
    ) -> Result<(), ClientError> {
        let _ = device;
        let g = &done.grant;
        let mut kdf_salt = [0u8; 16];
        random(&mut kdf_salt)?;
        let offset = (i128::from(g.issuer_time) - i128::from(now))
            .clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        let (outcome_key, attempt) = done.outcome_key();
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
            state: StoredState::Unconfirmed,
            key_alias: key_alias.to_string(),
            unlock_key: hex(&*done.unlock_key),
            outcome_key: Some(hex(&*outcome_key)),
            attempt: Some(hex(&attempt)),
            confirm_eval: None,
            confirm_mac: None,
            last_request_ms: 0,
            attempts_remaining: MAX_PASSWORD_ATTEMPTS,
        };

        let _guard = lock(&self.state);
        let (device_key, sealer) = self.vault.sealer(true)?;
        let key = seed_key(
            &*done.password_output,
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
            // No longer referenced; failing to delete it (or its key) only leaves garbage.
            if let Ok(c) = self.vault.read_credential(&sealer, &old) {
                let _ = self.keys.delete_key(c.key_alias);
            }
            let _ = self.vault.store.delete(old);
        }
        Ok(())
    }

    /// Checks the bank's outcome of the registration of `institution_id`: registered (the
    /// credential is now pending until its first accepted code) or refused (the credential
    /// and its device key are deleted). Persists the state.
    pub fn complete_registration(
        &self,
        institution_id: &str,
        outcome: &[u8],
    ) -> Result<CredentialSummary, ClientError> {
        let now = self.now()?;
        let _guard = lock(&self.state);
        let (_, sealer) = self.vault.sealer(false)?;
        let key = self.vault.locate(&sealer, institution_id)?;
        let mut c = self.vault.read_credential(&sealer, &key)?;
        if c.state != StoredState::Unconfirmed {
            return Err(ClientError::NoPendingRegistration);
        }
        let (Some(result_key), Some(attempt)) = (&c.outcome_key, &c.attempt) else {
            return Err(ClientError::Corrupted(BlobError::Tampered));
        };
        let result_key: Zeroizing<[u8; 32]> = Zeroizing::new(unhex_array(result_key)?);
        let attempt: [u8; enrollment::ATTEMPT_LEN] = unhex_array(attempt)?;
        match enrollment::check_outcome(&result_key, &attempt, &c.serial_number, outcome) {
            Ok(()) => {
                c.state = StoredState::Pending;
                c.outcome_key = None;
                c.attempt = None;
                self.vault.write_credential(&sealer, &key, &c)?;
                Ok(self.summarize(&c, None, now))
            }
            Err(e @ ProtocolError::Rejected(_)) => {
                self.forget(&sealer, institution_id, &key, &c.key_alias)?;
                Err(e.into())
            }
            Err(e) => Err(e.into()),
        }
    }

    fn forget(
        &self,
        sealer: &Sealer,
        institution_id: &str,
        key: &str,
        alias: &str,
    ) -> Result<(), ClientError> {
        let mut index = self.vault.read_index(sealer)?;
        index.remove(institution_id);
        self.vault.write_index(sealer, &index)?;
        let _ = self.vault.store.delete(key.to_string());
        let _ = self.keys.delete_key(alias.to_string());
        Ok(())
    }

    // ------------------------------------------------------------ management

    /// Marks a pending credential active, once the bank confirms its first code.
    /// Persists the state.
    pub fn confirm_activation(&self, institution_id: &str) -> Result<(), ClientError> {
        let _guard = lock(&self.state);
        let (_, sealer) = self.vault.sealer(false)?;
        let key = self.vault.locate(&sealer, institution_id)?;
        let mut c = self.vault.read_credential(&sealer, &key)?;
        match c.state {
            StoredState::Locked => Err(ClientError::Locked),
            StoredState::Unconfirmed => Err(ClientError::Unconfirmed),
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
        } else if c.state == StoredState::Unconfirmed {
            Status::Registering
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
            attempts_remaining: if status == Status::Locked { 0 } else { c.attempts_remaining },
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

    /// Removes one institution's credential and its device key, leaving the others.
    /// Persists the removal.
    pub fn cancel(&self, institution_id: &str) -> Result<(), ClientError> {
        let _guard = lock(&self.state);
        let (_, sealer) = self.vault.sealer(false)?;
        let mut index: Index = self.vault.read_index(&sealer)?;
        let key = index.remove(institution_id).ok_or(ClientError::NotRegistered)?;
        let alias = self.vault.read_credential(&sealer, &key).ok().map(|c| c.key_alias);
        self.vault.write_index(&sealer, &index)?;
        let _ = self.vault.store.delete(key);
        if let Some(alias) = alias {
            let _ = self.keys.delete_key(alias);
        }
        Ok(())
    }

    /// For a forgotten password: deletes every credential in the app, their device keys
    /// and the store's device key (as KB-OTP does). Works even when the stored index is
    /// unreadable.
    pub fn reset_all(&self) -> Result<(), ClientError> {
        if let Some(r) = lock(&self.registering).take() {
            let _ = self.keys.delete_key(r.key_alias);
        }
        lock(&self.unlocking).clear();
        let _guard = lock(&self.state);
        if let Ok((_, sealer)) = self.vault.sealer(false) {
            if let Ok(index) = self.vault.read_index(&sealer) {
                for key in index.keys() {
                    if let Ok(c) = self.vault.read_credential(&sealer, key) {
                        let _ = self.keys.delete_key(c.key_alias);
                    }
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
