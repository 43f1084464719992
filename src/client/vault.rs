//! The vault: the records the app side keeps in the app's [`SecureStore`] and how they
//! are sealed.
//!
//! Storage layout (keys in the store):
//! - [`DEVICE_KEY`]: a random 256-bit device key (integrity-checked blob);
//! - [`INDEX`]: sealed JSON mapping each institution id to its credential key;
//! - [`CREDENTIAL_PREFIX`]`<random>`: one sealed JSON credential.
//!
//! Each credential's seed is sealed again (AES-256-GCM) under a key derived with
//! HKDF-SHA256 from PBKDF2-HMAC-SHA256(the app password's OPRF output, per-credential
//! salt, iterations) and the store's device key ([`seed_key`]). The OPRF output needs the
//! issuer's key (an unlock), so nothing here can test a password offline.

use std::num::NonZeroU32;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::error::ClientError;
use crate::crypto::{self, hex, SealingKey, SEAL_OVERHEAD};
use crate::enrollment::{self, Device, OtpParams};
use crate::host::SecureStore;
use crate::json::{Fields, JsonError, Writer};
use crate::storage::{self, BlobError, BlobKind, Sealer};

/// PBKDF2-HMAC-SHA256 iterations for new credentials: ≈ 90 ms per check on the
/// reference machine with this crate's PBKDF2 (see BENCHMARKS.md), the time ring took for
/// 600,000 (OWASP's figure), so the attacker's cost per guess is 1.7× that. On 32-bit ARM,
/// where the SHA-256 compression has no hardware path in `sha2` (ring has assembly), ring
/// stretches and the count stays 600,000. Every credential stores its own count, so one
/// made on either opens on the other.
pub const PBKDF2_ITERATIONS: u32 = if cfg!(target_arch = "arm") { 600_000 } else { 1_000_000 };
/// Fewest iterations a stored credential may declare (refuses downgraded blobs).
pub const MIN_PBKDF2_ITERATIONS: u32 = 100_000;

/// The store key of the device key blob (the app's `SecureStore` sees these names: an
/// app that excludes keys from backups or migrates stores can match on them).
pub const DEVICE_KEY: &str = "digital-otp.v1.device-key";
/// The store key of the sealed index (which credential belongs to which institution).
pub const INDEX: &str = "digital-otp.v1.index";
/// The prefix of each sealed credential's store key (a random suffix follows).
pub const CREDENTIAL_PREFIX: &str = "digital-otp.v1.credential.";

/// The state of a stored credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredState {
    /// Answered by the issuer; its outcome (registered or refused) not yet seen.
    Unconfirmed,
    /// Registered; the issuer activates it when the first code verifies.
    Pending,
    /// Activated.
    Active,
    /// Locked after five wrong passwords; the seed is destroyed.
    Locked,
}

impl StoredState {
    fn name(self) -> &'static str {
        match self {
            Self::Unconfirmed => "unconfirmed",
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Locked => "locked",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "unconfirmed" => Some(Self::Unconfirmed),
            "pending" => Some(Self::Pending),
            "active" => Some(Self::Active),
            "locked" => Some(Self::Locked),
            _ => None,
        }
    }
}

/// The app's store, through which every record is read and written.
pub(super) struct Vault {
    pub(super) store: Arc<dyn SecureStore>,
}

impl Vault {
    /// Writes and reads back, so a store that drops writes is noticed.
    pub(super) fn write_checked(&self, key: &str, value: Vec<u8>) -> Result<(), ClientError> {
        self.store.write(key.to_string(), value.clone())?;
        match self.store.read(key.to_string())? {
            Some(back) if back == value => Ok(()),
            _ => Err(ClientError::LostWrite),
        }
    }

    pub(super) fn device_key(&self, create: bool) -> Result<Zeroizing<[u8; 32]>, ClientError> {
        if let Some(blob) = self.store.read(DEVICE_KEY.into())? {
            return Ok(storage::decode_device_key(&blob)?);
        }
        if !create {
            return Err(ClientError::NotRegistered);
        }
        let mut key = Zeroizing::new([0u8; 32]);
        crypto::random(&mut *key).map_err(|_| ClientError::Internal("random"))?;
        self.write_checked(DEVICE_KEY, storage::encode_device_key(&key).to_vec())?;
        Ok(key)
    }

    pub(super) fn sealer(
        &self,
        create: bool,
    ) -> Result<(Zeroizing<[u8; 32]>, Sealer), ClientError> {
        let key = self.device_key(create)?;
        let sealer = Sealer::new(&key)?;
        Ok((key, sealer))
    }

    pub(super) fn read_index(&self, sealer: &Sealer) -> Result<Index, ClientError> {
        match self.store.read(INDEX.into())? {
            None => Ok(Index::default()),
            Some(blob) => {
                let plain = sealer.open(BlobKind::Index, INDEX, &blob)?;
                Index::decode(&plain).map_err(|_| ClientError::Corrupted(BlobError::Tampered))
            }
        }
    }

    pub(super) fn write_index(&self, sealer: &Sealer, index: &Index) -> Result<(), ClientError> {
        let plain = Zeroizing::new(index.encode());
        self.write_checked(INDEX, sealer.seal(BlobKind::Index, INDEX, &plain)?)
    }

    pub(super) fn read_credential(
        &self,
        sealer: &Sealer,
        key: &str,
    ) -> Result<StoredCredential, ClientError> {
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

    pub(super) fn write_credential(
        &self,
        sealer: &Sealer,
        key: &str,
        c: &StoredCredential,
    ) -> Result<(), ClientError> {
        let plain = Zeroizing::new(c.encode());
        self.write_checked(key, sealer.seal(BlobKind::Credential, key, &plain)?)
    }

    pub(super) fn locate(
        &self,
        sealer: &Sealer,
        institution_id: &str,
    ) -> Result<String, ClientError> {
        self.read_index(sealer)?.get(institution_id).cloned().ok_or(ClientError::NotRegistered)
    }
}

/// A credential as stored (sealed) by the app: a JSON object with exactly these fields.
#[derive(Clone)]
pub(super) struct StoredCredential {
    pub(super) institution_id: String,
    pub(super) institution_name: String,
    pub(super) serial_number: String,
    pub(super) algorithm: String,
    pub(super) digits: u8,
    pub(super) period: u64,
    pub(super) transaction_suite: String,
    pub(super) valid_until: u64,
    /// Seconds to add to the phone's clock to get the issuer's (learned from every
    /// authenticated answer).
    pub(super) clock_offset: i64,
    pub(super) registered_at: u64,
    pub(super) device_salt: String,
    pub(super) device_binding: String,
    pub(super) kdf_salt: String,
    pub(super) kdf_iterations: u32,
    pub(super) sealed_seed: Option<String>,
    pub(super) state: StoredState,
    /// The alias of the credential's device key (in the platform's `DeviceKeys`).
    pub(super) key_alias: String,
    /// The key of the issuer's unlock answers (hex).
    pub(super) unlock_key: String,
    /// Until the outcome is seen: its MAC key and the attempt (hex).
    pub(super) outcome_key: Option<String>,
    pub(super) attempt: Option<String>,
    /// The confirmation of the last successful unlock, sent with the next request.
    pub(super) confirm_eval: Option<u64>,
    pub(super) confirm_mac: Option<String>,
    /// The time of the last unlock request (Unix ms, issuer clock): the next is later.
    pub(super) last_request_ms: u64,
    /// Wrong passwords the issuer still allowed at the last unlock.
    pub(super) attempts_remaining: u32,
}

/// Which credential (store key) belongs to which institution: `{"credentials": {...}}`.
/// A handful of entries, kept sorted by institution id (a `Vec`: smaller code than a map).
#[derive(Default)]
pub(super) struct Index {
    pub(super) credentials: Vec<(String, String)>,
}

const CREDENTIAL_FIELDS: &[&str] = &[
    "format",
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
    "state",
    "key_alias",
    "unlock_key",
    "outcome_key",
    "attempt",
    "confirm_eval",
    "confirm_mac",
    "last_request_ms",
    "attempts_remaining",
];

/// The record format: 2 since the unlock through the issuer (records of format 1 are
/// refused as unreadable: register again).
const RECORD_FORMAT: u32 = 2;

impl StoredCredential {
    fn encode(&self) -> Vec<u8> {
        Writer::new()
            .uint("format", RECORD_FORMAT)
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
            .string("state", self.state.name())
            .string("key_alias", self.key_alias.as_str())
            .string("unlock_key", self.unlock_key.as_str())
            .opt_string("outcome_key", self.outcome_key.as_deref())
            .opt_string("attempt", self.attempt.as_deref())
            .opt_uint("confirm_eval", self.confirm_eval)
            .opt_string("confirm_mac", self.confirm_mac.as_deref())
            .uint("last_request_ms", self.last_request_ms)
            .uint("attempts_remaining", self.attempts_remaining)
            .finish()
    }

    fn decode(bytes: &[u8]) -> Result<Self, JsonError> {
        let mut f = Fields::parse(bytes, Some(CREDENTIAL_FIELDS))?;
        if f.uint::<u32>("format")? != RECORD_FORMAT {
            return Err(JsonError::Type("format"));
        }
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
            state: StoredState::from_name(&f.string("state")?).ok_or(JsonError::Type("state"))?,
            key_alias: f.string("key_alias")?,
            unlock_key: f.string("unlock_key")?,
            outcome_key: f.opt_string("outcome_key")?,
            attempt: f.opt_string("attempt")?,
            confirm_eval: f.opt_uint("confirm_eval")?,
            confirm_mac: f.opt_string("confirm_mac")?,
            last_request_ms: f.uint("last_request_ms")?,
            attempts_remaining: f.uint("attempts_remaining")?,
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
    pub(super) fn get(&self, institution_id: &str) -> Option<&String> {
        self.position(institution_id).ok().map(|i| &self.credentials[i].1)
    }

    /// Sets an institution's store key; returns the one it replaces.
    pub(super) fn insert(&mut self, institution_id: String, key: String) -> Option<String> {
        match self.position(&institution_id) {
            Ok(i) => Some(std::mem::replace(&mut self.credentials[i].1, key)),
            Err(i) => {
                self.credentials.insert(i, (institution_id, key));
                None
            }
        }
    }

    /// Removes an institution's entry; returns its store key.
    pub(super) fn remove(&mut self, institution_id: &str) -> Option<String> {
        self.position(institution_id).ok().map(|i| self.credentials.remove(i).1)
    }

    /// Every store key, in institution order.
    pub(super) fn keys(&self) -> impl Iterator<Item = &String> {
        self.credentials.iter().map(|(_, key)| key)
    }
}

/// Bytes from a hex field of a stored record; bad hex means the record was altered.
pub(super) fn unhex_vec(text: &str) -> Result<Vec<u8>, ClientError> {
    crypto::unhex(text).map_err(|_| ClientError::Corrupted(BlobError::Tampered))
}

/// Exactly `N` bytes from a hex field of a stored record.
pub(super) fn unhex_array<const N: usize>(text: &str) -> Result<[u8; N], ClientError> {
    crypto::unhex_array(text).map_err(|_| ClientError::Corrupted(BlobError::Tampered))
}

impl StoredCredential {
    pub(super) fn params(&self) -> Result<OtpParams, ClientError> {
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

    pub(super) fn adjusted(&self, now: u64) -> u64 {
        (i128::from(now) + i128::from(self.clock_offset)).clamp(0, i128::from(u64::MAX)) as u64
    }

    pub(super) fn to_local(&self, issuer_time: u64) -> u64 {
        (i128::from(issuer_time) - i128::from(self.clock_offset)).clamp(0, i128::from(u64::MAX))
            as u64
    }

    pub(super) fn device_matches(&self, device: &Device) -> Result<bool, ClientError> {
        Ok(device.matches(&unhex_array(&self.device_salt)?, &unhex_array(&self.device_binding)?))
    }

    pub(super) fn seed_aad(&self) -> Vec<u8> {
        [
            b"digital-otp/v2/seed".as_slice(),
            self.institution_id.as_bytes(),
            b"\0",
            self.serial_number.as_bytes(),
        ]
        .concat()
    }
}

/// The key that seals a credential's seed: HKDF of PBKDF2(the password's OPRF output) and
/// the store's device key.
pub(super) fn seed_key(
    password_output: &[u8],
    salt: &[u8],
    iterations: u32,
    device_key: &[u8; 32],
    institution_id: &str,
    serial: &str,
) -> Result<SealingKey, ClientError> {
    let iterations = NonZeroU32::new(iterations).ok_or(ClientError::Internal("zero iterations"))?;
    let mut stretched = Zeroizing::new([0u8; 32]);
    #[cfg(not(target_arch = "arm"))]
    crate::otp::pbkdf2_hmac_sha256(password_output, salt, iterations, &mut *stretched);
    #[cfg(target_arch = "arm")]
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        password_output,
        &mut *stretched,
    );
    SealingKey::derive(
        &*stretched,
        device_key,
        &[b"digital-otp/v2/seed-key", institution_id.as_bytes(), b"\0", serial.as_bytes()],
    )
    .map_err(|_| ClientError::Internal("AEAD key"))
}

/// The sealed seed, as hex of nonce ‖ ciphertext ‖ tag.
pub(super) fn seal_seed(
    key: &SealingKey,
    aad: &[u8],
    seed: &[u8; 32],
) -> Result<String, ClientError> {
    Ok(hex(&key.seal(aad, seed).map_err(|_| ClientError::Internal("seal"))?))
}

/// The seed of [`seal_seed`]'s output; a wrong key (a wrong password) or an altered
/// record fails as `Corrupted(Tampered)`.
pub(super) fn open_seed(
    key: &SealingKey,
    aad: &[u8],
    sealed: &str,
) -> Result<Zeroizing<[u8; 32]>, ClientError> {
    let raw = Zeroizing::new(unhex_vec(sealed)?);
    if raw.len() != 32 + SEAL_OVERHEAD {
        return Err(ClientError::Corrupted(BlobError::NotABlob));
    }
    let plain = key.open(aad, &raw).map_err(|_| ClientError::Corrupted(BlobError::Tampered))?;
    let mut seed = Zeroizing::new([0u8; 32]);
    seed.copy_from_slice(&plain);
    Ok(seed)
}
