//! What the host platform provides: the foreign traits an app (or a bank's backend)
//! implements in Kotlin, Swift, Python or Rust, and their one error type. Nothing here
//! depends on the rest of the crate.
//!
//! Re-entry: the SDK may hold one of its own locks while it calls these methods, so an
//! implementation must not call back into the SDK (not even to read), and must not
//! block for long (a keystore operation or a clock read, not a network round trip).
//! Two exceptions, both on the caller's thread (call the SDK off the main thread):
//! `DeviceKeys::create_key` may take a network round trip (App Attest asks Apple's
//! servers; the SDK calls it outside its locks), and `DeviceKeys::sign` may wait for the
//! user when the key needs user authentication (other calls of the same `DigitalOtp`
//! wait meanwhile).

/// The error of every foreign callback (`SecureStore`, `Clock`, `DeviceKeys`,
/// `SmsGateway`, `IntegrityVerifier`): implementations throw `Failed` with a reason;
/// anything unexpected that a callback throws arrives as `Unexpected`. Kotlin sees
/// `HostException`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum HostError {
    /// The callback failed for a reason it explains (never put secrets in it).
    #[error("{reason}")]
    Failed {
        /// What went wrong.
        reason: String,
    },
    /// The callback threw something other than `HostError`.
    #[error("unexpected error in a callback: {reason}")]
    Unexpected {
        /// The foreign exception's description.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for HostError {
    /// Keeps only the first line of the foreign exception (bounded): Kotlin passes a whole
    /// stack trace, which could carry whatever the app put in its messages.
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        let first = e.reason.lines().next().unwrap_or("").trim();
        let reason: String = first.chars().take(200).collect();
        Self::Unexpected { reason }
    }
}

/// Key-value storage the app provides, backed by the platform keystore.
///
/// What the platform must provide: values kept on this device only and encrypted at rest
/// by a key that does not leave the platform's keystore. Android: files in the app's
/// private storage sealed with an AES-256-GCM key of the Android Keystore (no user
/// authentication needed), excluded from backups (`android:dataExtractionRules`); iOS: the
/// Keychain with `kSecAttrAccessibleWhenUnlockedThisDeviceOnly` (never in backups or on
/// another device). The store is not what keeps the password from offline guessing (the
/// issuer's OPRF does, docs/adr/0010): it keeps the credentials private at rest and bound
/// to the device.
///
/// Contract: `write` replaces the value atomically (a reader sees the old or the new
/// value, never a mix); `delete` of a missing key succeeds; errors are thrown as
/// `HostError`. The SDK reads back what it wrote where it matters (registration) and
/// reports a store that loses writes. The SDK serializes its
/// own read-modify-write cycles and holds a lock while it calls the store: an
/// implementation must not call back into the SDK.
#[uniffi::export(with_foreign)]
pub trait SecureStore: Send + Sync {
    /// The value stored under `key`, or null if there is none.
    fn read(&self, key: String) -> Result<Option<Vec<u8>>, HostError>;
    /// Stores `value` under `key`, replacing any previous value atomically.
    fn write(&self, key: String, value: Vec<u8>) -> Result<(), HostError>;
    /// Removes `key`. Removing a missing key is not an error.
    fn delete(&self, key: String) -> Result<(), HostError>;
}

/// A source of the current time. The SDK uses [`SystemClock`] unless the app gives its own
/// (tests do, to move time). Implementations must not block and must not call back into
/// the SDK; a clock that cannot tell the time throws `HostError` (the SDK reports it as
/// an internal error).
#[uniffi::export(with_foreign)]
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_unix_seconds(&self) -> Result<u64, HostError>;
}

/// The bank's SMS gateway, implemented by the bank (from Kotlin, Python or Rust). Used
/// to send the 5-digit verification code of face-to-face issuance. The issuer calls it
/// after the verification code is committed, outside its database transaction; an
/// implementation must not call back into the issuer. (Feature `issuer`: the mobile
/// library has no use for it.)
#[cfg(feature = "issuer")]
#[uniffi::export(with_foreign)]
pub trait SmsGateway: Send + Sync {
    /// Sends `message` to `phone_number` (E.164).
    fn send(&self, phone_number: String, message: String) -> Result<(), HostError>;
}

/// The decoder of Android Play Integrity tokens, implemented by the bank (feature
/// `issuer`): it calls Google's `decodeIntegrityToken` (or decrypts the token with the
/// app's keys) and returns what the verdict says. The issuer calls it during a
/// registration, inside no transaction; it must not call back into the issuer.
#[cfg(feature = "issuer")]
#[uniffi::export(with_foreign)]
pub trait IntegrityVerifier: Send + Sync {
    /// The verdict of `token`.
    fn decode(&self, token: String) -> Result<IntegrityVerdict, HostError>;
}

/// What a Play Integrity verdict says (feature `issuer`).
#[cfg(feature = "issuer")]
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IntegrityVerdict {
    /// The request's nonce (`requestDetails.nonce`, decoded from base64): the issuer
    /// requires the registration's attestation challenge.
    pub nonce: Vec<u8>,
    /// `deviceRecognitionVerdict` contains `MEETS_DEVICE_INTEGRITY` (a genuine, unrooted
    /// device passing Android's checks).
    pub device_integrity: bool,
    /// `appRecognitionVerdict` is `PLAY_RECOGNIZED` (the bank's own, unmodified app).
    pub app_recognized: bool,
}

/// The platform's non-exportable signing keys: Android Keystore (StrongBox when present),
/// the iOS Secure Enclave. The SDK creates one key per credential and signs with it every
/// message that must come from this device (the registration's confirmation, every
/// unlock request); the issuer verifies the signatures with the public key it received at
/// registration, so a copy of the app's store on another device cannot use the credential.
///
/// What an implementation must provide:
/// - `create_key`: a new P-256 key under `alias` (replacing any key of that alias), whose
///   private part never leaves the secure hardware (Android: `setIsStrongBoxBacked(true)`
///   when available, else TEE; purpose SIGN, digest SHA-256; iOS:
///   `kSecAttrTokenIDSecureEnclave`, `kSecAttrAccessibleWhenUnlockedThisDeviceOnly`). It
///   may require user authentication (biometrics) for each use, if the bank wants a
///   biometric unlock. It returns the public key (65 bytes, SEC1 uncompressed) and the
///   platform's evidence that the key is in hardware, bound to `challenge` (Android: the
///   key attestation certificate chain with `setAttestationChallenge(challenge)`, and a
///   Play Integrity token requested with the challenge; iOS: an App Attest attestation of
///   `SHA-256(challenge ‖ public key)`); a platform without evidence returns
///   `EvidenceKind::None`, which an issuer that requires attestation refuses.
/// - `sign`: the ECDSA P-256 SHA-256 signature (ASN.1 DER) of `message`.
/// - `delete_key`: removes the key (a missing key is not an error).
///
/// The SDK may hold its own lock while it calls these methods: an implementation must not
/// call back into the SDK. A key that needs user authentication may block in `sign` while
/// the platform asks for it; call the SDK off the main thread.
#[uniffi::export(with_foreign)]
pub trait DeviceKeys: Send + Sync {
    /// Creates the key `alias` (replacing any) with `challenge` in its evidence.
    fn create_key(&self, alias: String, challenge: Vec<u8>) -> Result<DeviceKey, HostError>;
    /// Signs `message` with the key `alias`: ECDSA P-256 SHA-256, ASN.1 DER.
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, HostError>;
    /// Deletes the key `alias`; deleting a missing key is not an error.
    fn delete_key(&self, alias: String) -> Result<(), HostError>;
}

/// A new device key: its public part and the platform's evidence about it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceKey {
    /// The P-256 public key, 65 bytes (SEC1 uncompressed: `04 ‖ x ‖ y`).
    pub public_key: Vec<u8>,
    /// What the platform says about the key.
    pub evidence: KeyEvidence,
}

/// The kind of evidence a platform gives about a device key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Enum)]
pub enum EvidenceKind {
    /// None (a software key, or a platform without attestation).
    #[default]
    None,
    /// Android Key Attestation: the key's certificate chain up to Google's roots.
    AndroidKeyAttestation,
    /// iOS App Attest: an attestation object over the key.
    AppleAppAttest,
}

/// A platform's evidence about a device key, passed through to the issuer.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct KeyEvidence {
    /// What kind of evidence this is.
    pub kind: EvidenceKind,
    /// Android: the attestation certificate chain of the key, leaf first (DER).
    #[uniffi(default)]
    pub certificate_chain: Vec<Vec<u8>>,
    /// iOS: the App Attest attestation object (CBOR), attesting `SHA-256(challenge ‖
    /// public key)`.
    #[uniffi(default)]
    pub app_attest_object: Option<Vec<u8>>,
    /// iOS: the App Attest key id.
    #[uniffi(default)]
    pub app_attest_key_id: Option<Vec<u8>>,
    /// Android: the Play Integrity token the app obtained with the challenge as its nonce
    /// (the issuer has it decoded by the bank's integrity verifier).
    #[uniffi(default)]
    pub integrity_token: Option<String>,
}

/// The operating system's clock: the SDK's only source of the system time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_seconds(&self) -> Result<u64, HostError> {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .map_err(|_| HostError::Failed { reason: "the system clock is before 1970".into() })
    }
}

/// A clock that stays where it is set, for tests and demos.
#[derive(Debug, Default)]
pub struct FixedClock {
    now: std::sync::atomic::AtomicU64,
}

impl FixedClock {
    /// A clock showing `now`.
    pub fn new(now: u64) -> Self {
        Self { now: now.into() }
    }
    /// Moves the clock to `now`.
    pub fn set(&self, now: u64) {
        self.now.store(now, std::sync::atomic::Ordering::SeqCst);
    }
    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: u64) {
        self.now.fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_unix_seconds(&self) -> Result<u64, HostError> {
        Ok(self.now.load(std::sync::atomic::Ordering::SeqCst))
    }
}
