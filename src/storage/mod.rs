//! Storage: the app gives the SDK a [`SecureStore`] (over the Android Keystore or the
//! iOS Keychain with a `…ThisDeviceOnly` accessibility; the trait is in [`crate::host`]),
//! and the SDK keeps only opaque, versioned, authenticated blobs in it.
//!
//! Blob format (all blobs but the device key):
//! `"DOTP" | format version (1) | kind (1 byte) | nonce (12) | AES-256-GCM ciphertext+tag`,
//! with the magic, version, kind *and the storage key's name* as associated data, so a
//! blob cannot be truncated, altered or moved to another key without detection. The
//! AEAD key is derived (HKDF-SHA256) from the device key.
//!
//! The device key blob: `"DOTP" | 1 | kind | 32 random bytes | first 16 bytes of
//! SHA-256(previous bytes)`. It is only as confidential as the store the app provides
//! (that is the point of a hardware-backed keystore).
//!
//! Rust implementations: [`MemoryStore`] (tests), [`FileStore`] (desktop and the CLI;
//! atomic writes: temp file, fsync, rename, fsync of the directory) and, with the
//! `keyring` feature, [`keyring_store::KeyringStore`] over `keyring-core`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use zeroize::Zeroizing;

use crate::crypto::{self, CryptoError, SealingKey};
use crate::host::{HostError, SecureStore};

#[cfg(feature = "keyring")]
pub mod keyring_store;
#[cfg(feature = "file-store")]
mod software_keys;
#[cfg(feature = "file-store")]
pub use software_keys::SoftwareKeys;

/// A store in memory, for tests (a list: the SDK keeps a handful of keys).
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<Vec<(String, Vec<u8>)>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SecureStore for MemoryStore {
    fn read(&self, key: String) -> Result<Option<Vec<u8>>, HostError> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        Ok(entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()))
    }
    fn write(&self, key: String, value: Vec<u8>) -> Result<(), HostError> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => entries.push((key, value)),
        }
        Ok(())
    }
    fn delete(&self, key: String) -> Result<(), HostError> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).retain(|(k, _)| *k != key);
        Ok(())
    }
}

/// A store in a directory, one file per key, for desktop use and the CLI. Writes are
/// atomic (temp file, fsync, rename, fsync of the directory); files are created with
/// mode 0600 on Unix. File names are the hex encoding of the keys.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store in `dir`, created (mode 0700 on Unix) if missing.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, HostError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| io_error("create the store directory", &e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| io_error("restrict the store directory", &e))?;
        }
        Ok(Self { dir })
    }

    fn path(&self, key: &str) -> PathBuf {
        let name: String = key.bytes().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.blob"))
    }
}

fn io_error(what: &str, e: &std::io::Error) -> HostError {
    HostError::Failed { reason: format!("could not {what}: {}", e.kind()) }
}

impl SecureStore for FileStore {
    fn read(&self, key: String) -> Result<Option<Vec<u8>>, HostError> {
        match fs::read(self.path(&key)) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read from the store", &e)),
        }
    }

    fn write(&self, key: String, value: Vec<u8>) -> Result<(), HostError> {
        let path = self.path(&key);
        let mut suffix = [0u8; 8];
        crypto::random(&mut suffix)
            .map_err(|_| HostError::Failed { reason: "random source failed".into() })?;
        let tmp = path.with_extension(format!("tmp-{}", u64::from_le_bytes(suffix)));
        let result = (|| {
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut f = options.open(&tmp)?;
            f.write_all(&value)?;
            f.sync_all()?;
            drop(f);
            fs::rename(&tmp, &path)?;
            // Make the rename itself durable.
            fs::File::open(&self.dir)?.sync_all()
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(io_error("write to the store", &e));
        }
        Ok(())
    }

    fn delete(&self, key: String) -> Result<(), HostError> {
        match fs::remove_file(self.path(&key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("delete from the store", &e)),
        }
    }
}

/// What went wrong with a stored blob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// Too short, wrong magic, or unknown kind.
    #[error("the stored data is not a digital-otp blob")]
    NotABlob,
    /// A format version this SDK does not know (written by a newer SDK).
    #[error("the stored data has format version {0}, which this SDK does not read")]
    Version(u8),
    /// Authentication failed: altered, truncated, or moved to another key.
    #[error("the stored data failed authentication (altered, truncated or moved)")]
    Tampered,
    /// The random source failed.
    #[error("the random source failed")]
    Random,
}

const MAGIC: &[u8; 4] = b"DOTP";
/// The blob format version written by this SDK.
pub const FORMAT_VERSION: u8 = 1;
const HEADER: usize = 6;

/// What a blob holds; part of the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum BlobKind {
    /// The device key.
    DeviceKey = 1,
    /// The index of credentials.
    Index = 2,
    /// One credential.
    Credential = 3,
}

/// Encodes the device key blob (integrity-checked, not encrypted).
pub fn encode_device_key(key: &[u8; 32]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(HEADER + 32 + 16));
    out.extend_from_slice(MAGIC);
    out.push(FORMAT_VERSION);
    out.push(BlobKind::DeviceKey as u8);
    out.extend_from_slice(key);
    let check = crypto::sha256(&out);
    out.extend_from_slice(&check[..16]);
    out
}

/// Decodes the device key blob.
pub fn decode_device_key(blob: &[u8]) -> Result<Zeroizing<[u8; 32]>, BlobError> {
    check_header(blob, BlobKind::DeviceKey)?;
    if blob.len() != HEADER + 32 + 16 {
        return Err(BlobError::Tampered);
    }
    let check = crypto::sha256(&blob[..HEADER + 32]);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&check[..16], &blob[HEADER + 32..])) {
        return Err(BlobError::Tampered);
    }
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&blob[HEADER..HEADER + 32]);
    Ok(key)
}

fn check_header(blob: &[u8], kind: BlobKind) -> Result<(), BlobError> {
    if blob.len() < HEADER || &blob[..4] != MAGIC {
        return Err(BlobError::NotABlob);
    }
    if blob[4] != FORMAT_VERSION {
        return Err(BlobError::Version(blob[4]));
    }
    if blob[5] != kind as u8 {
        return Err(BlobError::NotABlob);
    }
    Ok(())
}

/// Seals and opens blobs with a key derived from the device key.
pub struct Sealer {
    key: SealingKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<redacted>)")
    }
}

fn header(kind: BlobKind) -> [u8; HEADER] {
    [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], FORMAT_VERSION, kind as u8]
}

fn aad(kind: BlobKind, name: &str) -> Vec<u8> {
    [header(kind).as_slice(), name.as_bytes()].concat()
}

impl Sealer {
    /// The sealer for a device key.
    pub fn new(device_key: &[u8; 32]) -> Result<Self, BlobError> {
        let key = SealingKey::derive(b"digital-otp/v1/storage", device_key, &[b"blob-aead"])
            .map_err(|_| BlobError::Random)?;
        Ok(Self { key })
    }

    /// Seals `plain` for storage under `name`.
    pub fn seal(&self, kind: BlobKind, name: &str, plain: &[u8]) -> Result<Vec<u8>, BlobError> {
        let sealed = self.key.seal(&aad(kind, name), plain).map_err(|_| BlobError::Random)?;
        Ok([header(kind).as_slice(), &sealed].concat())
    }

    /// Opens a blob stored under `name`.
    pub fn open(
        &self,
        kind: BlobKind,
        name: &str,
        blob: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, BlobError> {
        check_header(blob, kind)?;
        self.key.open(&aad(kind, name), &blob[HEADER..]).map_err(|e| match e {
            CryptoError::Random => BlobError::Random,
            _ => BlobError::Tampered,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_detect_tampering_truncation_and_moves() {
        let s = Sealer::new(&[7u8; 32]).unwrap();
        let blob = s.seal(BlobKind::Credential, "a", b"hello").unwrap();
        assert_eq!(&*s.open(BlobKind::Credential, "a", &blob).unwrap(), b"hello");
        assert_eq!(s.open(BlobKind::Credential, "b", &blob).unwrap_err(), BlobError::Tampered);
        assert_eq!(s.open(BlobKind::Index, "a", &blob).unwrap_err(), BlobError::NotABlob);
        for i in 0..blob.len() {
            let mut t = blob.clone();
            t[i] ^= 1;
            assert!(s.open(BlobKind::Credential, "a", &t).is_err(), "byte {i}");
            assert!(s.open(BlobKind::Credential, "a", &blob[..i]).is_err(), "truncated at {i}");
        }
        let mut newer = blob.clone();
        newer[4] = 2;
        assert_eq!(s.open(BlobKind::Credential, "a", &newer).unwrap_err(), BlobError::Version(2));
        assert_eq!(
            Sealer::new(&[8u8; 32]).unwrap().open(BlobKind::Credential, "a", &blob).unwrap_err(),
            BlobError::Tampered
        );
    }

    #[test]
    fn device_key_blob() {
        let blob = encode_device_key(&[9u8; 32]);
        assert_eq!(*decode_device_key(&blob).unwrap(), [9u8; 32]);
        for i in 0..blob.len() {
            let mut t = blob.to_vec();
            t[i] ^= 0x80;
            assert!(decode_device_key(&t).is_err(), "byte {i}");
        }
        assert!(decode_device_key(&blob[..20]).is_err());
        assert_eq!(decode_device_key(b"").unwrap_err(), BlobError::NotABlob);
    }

    #[test]
    fn file_store_round_trip_and_permissions() {
        let dir = std::env::temp_dir().join(format!("dotp-fs-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let s = FileStore::open(&dir).unwrap();
        assert_eq!(s.read("k/1".into()).unwrap(), None);
        s.write("k/1".into(), vec![1, 2, 3]).unwrap();
        s.write("k/1".into(), vec![4]).unwrap();
        assert_eq!(s.read("k/1".into()).unwrap(), Some(vec![4]));
        s.delete("k/1".into()).unwrap();
        s.delete("k/1".into()).unwrap();
        assert_eq!(s.read("k/1".into()).unwrap(), None);
        s.write("x".into(), vec![5]).unwrap();
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "no temp files left: {names:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join(&names[0])).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
