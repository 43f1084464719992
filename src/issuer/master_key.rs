//! The operator's master key: seeds are sealed under it (AES-256-GCM) before they reach
//! the database, the security-relevant rows are authenticated with a key derived from it,
//! and lookups of secrets (registration codes, SMS codes) use keyed MACs under it; it is
//! never stored in the database. It comes from a key file or an environment variable
//! holding 64 hex digits. The database keeps only a check value per key (an HMAC of a
//! constant) so that opening it with the wrong key is refused.
//!
//! Every sealed value and every MAC starts with the id of the key that made it
//! (`<id>:<hex>`), so that a [`KeyRing`] of the current key and the keys being retired
//! reads what either made, and a rotation can re-seal row by row while the issuer serves.

use std::path::Path;
use std::sync::Arc;

use ring::hmac;
use zeroize::Zeroizing;

use crate::crypto::{self, CryptoError, SealingKey};

/// Why a master key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MasterKeyError {
    /// Not 64 hex digits.
    #[error("the master key must be 64 hexadecimal digits (256 bits)")]
    Format,
    /// The file or variable could not be read.
    #[error("the master key could not be read: {0}")]
    Unreadable(String),
    /// Not the key this database was created with.
    #[error("this is not the master key the issuer database was created with")]
    Mismatch,
    /// A sealed secret or a MAC failed authentication.
    #[error("a sealed secret or row failed authentication")]
    Tampered,
    /// A value made by a key the issuer does not hold.
    #[error("a value was sealed by a master key this issuer does not hold")]
    UnknownKey,
    /// The random source failed.
    #[error("the random source failed")]
    Random,
}

/// The master key. `Debug` is redacted.
pub struct MasterKey {
    id: String,
    aead: SealingKey,
    rows: hmac::Key,
    check: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({}, <redacted>)", self.id)
    }
}

impl MasterKey {
    /// From 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, MasterKeyError> {
        let aead = SealingKey::derive(b"digital-otp/v1/master", bytes, &[b"seal"])
            .map_err(|_| MasterKeyError::Format)?;
        let mut rows = Zeroizing::new([0u8; 32]);
        crypto::hkdf(b"digital-otp/v2/master", bytes, &[b"rows"], &mut *rows);
        let tag =
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, bytes), b"digital-otp/v1/master-check");
        let check = crypto::hex(&tag.as_ref()[..16]);
        Ok(Self {
            id: check[..8].to_string(),
            aead,
            rows: hmac::Key::new(hmac::HMAC_SHA256, &*rows),
            check,
        })
    }

    /// From 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, MasterKeyError> {
        let bytes =
            Zeroizing::new(crypto::unhex_array(text.trim()).map_err(|_| MasterKeyError::Format)?);
        Self::from_bytes(&bytes)
    }

    /// From a key file holding 64 hex digits.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, MasterKeyError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path.as_ref())
                .map_err(|e| MasterKeyError::Unreadable(e.kind().to_string()))?,
        );
        Self::from_hex(&text)
    }

    /// From an environment variable holding 64 hex digits.
    pub fn from_env(variable: &str) -> Result<Self, MasterKeyError> {
        let text =
            Zeroizing::new(std::env::var(variable).map_err(|_| {
                MasterKeyError::Unreadable(format!("variable {variable} is not set"))
            })?);
        Self::from_hex(&text)
    }

    /// A new random key and its hex form (to write to the operator's key file).
    pub fn generate() -> Result<(Self, Zeroizing<String>), MasterKeyError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        crypto::random(&mut *bytes).map_err(|_| MasterKeyError::Random)?;
        Ok((Self::from_bytes(&bytes)?, Zeroizing::new(crypto::hex(&*bytes))))
    }

    /// The key's id: 8 hex digits of its check value (public).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The check value stored in the database.
    pub fn check_value(&self) -> &str {
        &self.check
    }

    /// Seals `plain`, bound to `aad` (the record it belongs to): `<id>:<hex of nonce ‖
    /// ciphertext ‖ tag>`.
    pub fn seal(&self, aad: &str, plain: &[u8]) -> Result<String, MasterKeyError> {
        let sealed = self.aead.seal(aad.as_bytes(), plain).map_err(|_| MasterKeyError::Random)?;
        Ok(format!("{}:{}", self.id, crypto::hex(&sealed)))
    }

    fn open_body(&self, aad: &str, body: &str) -> Result<Zeroizing<Vec<u8>>, MasterKeyError> {
        let raw = Zeroizing::new(crypto::unhex(body).map_err(|_| MasterKeyError::Tampered)?);
        self.aead.open(aad.as_bytes(), &raw).map_err(|e| match e {
            CryptoError::Random => MasterKeyError::Random,
            _ => MasterKeyError::Tampered,
        })
    }

    /// A keyed MAC of `parts` under this key's row key: `<id>:<hex>`.
    pub fn mac(&self, parts: &[&[u8]]) -> String {
        let mut ctx = hmac::Context::with_key(&self.rows);
        for p in parts {
            ctx.update(&(p.len() as u64).to_be_bytes());
            ctx.update(p);
        }
        format!("{}:{}", self.id, crypto::hex(ctx.sign().as_ref()))
    }
}

/// The keys an issuer holds: the current one (sealing and MACs) and those being retired
/// (read only). Reads pick the key by the id in front of each value.
#[derive(Debug, Clone)]
pub struct KeyRing {
    keys: Vec<Arc<MasterKey>>,
}

fn split(value: &str) -> Result<(&str, &str), MasterKeyError> {
    value.split_once(':').ok_or(MasterKeyError::Tampered)
}

impl KeyRing {
    /// A ring of one key.
    pub fn new(current: MasterKey) -> Self {
        Self { keys: vec![Arc::new(current)] }
    }

    /// A ring whose current key is `current`, still reading values of `old`.
    pub fn with_old(current: MasterKey, old: Vec<MasterKey>) -> Self {
        Self::of(Arc::new(current), old.into_iter().map(Arc::new).collect())
    }

    /// A ring of shared keys: `current` first, then `old` (duplicates dropped).
    pub fn of(current: Arc<MasterKey>, old: Vec<Arc<MasterKey>>) -> Self {
        let mut keys = vec![current];
        for k in old {
            if keys.iter().all(|have| have.id != k.id) {
                keys.push(k);
            }
        }
        Self { keys }
    }

    /// The current key.
    pub fn current(&self) -> &MasterKey {
        &self.keys[0]
    }

    /// The current key, shared.
    pub fn current_shared(&self) -> Arc<MasterKey> {
        self.keys[0].clone()
    }

    /// Every key, the current one first.
    pub fn keys(&self) -> &[Arc<MasterKey>] {
        &self.keys
    }

    fn by_id(&self, id: &str) -> Result<&MasterKey, MasterKeyError> {
        self.keys.iter().find(|k| k.id == id).map(|k| &**k).ok_or(MasterKeyError::UnknownKey)
    }

    /// Seals under the current key.
    pub fn seal(&self, aad: &str, plain: &[u8]) -> Result<String, MasterKeyError> {
        self.current().seal(aad, plain)
    }

    /// Opens what any key of the ring sealed for the same `aad`.
    pub fn open(&self, aad: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, MasterKeyError> {
        let (id, body) = split(sealed)?;
        self.by_id(id)?.open_body(aad, body)
    }

    /// The id of the key that made a sealed value or MAC.
    pub fn key_id(value: &str) -> Option<&str> {
        value.split_once(':').map(|(id, _)| id)
    }

    /// A MAC under the current key.
    pub fn mac(&self, parts: &[&[u8]]) -> String {
        self.current().mac(parts)
    }

    /// Whether `tag` is the MAC of `parts` under the key it names (constant time).
    pub fn verify(&self, parts: &[&[u8]], tag: &str) -> Result<(), MasterKeyError> {
        let (id, _) = split(tag)?;
        let want = self.by_id(id)?.mac(parts);
        if bool::from(subtle::ConstantTimeEq::ct_eq(want.as_bytes(), tag.as_bytes())) {
            Ok(())
        } else {
            Err(MasterKeyError::Tampered)
        }
    }

    /// The MAC of `parts` under every key of the ring (for lookups by a keyed value).
    pub fn macs(&self, parts: &[&[u8]]) -> Vec<String> {
        self.keys.iter().map(|k| k.mac(parts)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_binding() {
        let (k, hex) = MasterKey::generate().unwrap();
        assert_eq!(hex.len(), 64);
        let again = MasterKey::from_hex(&hex).unwrap();
        assert_eq!(k.check_value(), again.check_value());
        let sealed = k.seal("DOTP:1", b"seed").unwrap();
        assert!(sealed.starts_with(&format!("{}:", k.id())));
        let ring = KeyRing::new(again);
        assert_eq!(&*ring.open("DOTP:1", &sealed).unwrap(), b"seed");
        assert_eq!(ring.open("DOTP:2", &sealed).unwrap_err(), MasterKeyError::Tampered);
        let (other, _) = MasterKey::generate().unwrap();
        assert_ne!(other.check_value(), k.check_value());
        assert_eq!(
            KeyRing::new(other).open("DOTP:1", &sealed).unwrap_err(),
            MasterKeyError::UnknownKey
        );
        for bad in ["", "00", &"g".repeat(64), &"0".repeat(63)] {
            assert_eq!(MasterKey::from_hex(bad).unwrap_err(), MasterKeyError::Format);
        }
        assert!(format!("{k:?}").contains("redacted"));
    }

    #[test]
    fn a_ring_reads_old_values_and_writes_with_the_current_key() {
        let (old, _) = MasterKey::generate().unwrap();
        let (new, _) = MasterKey::generate().unwrap();
        let sealed = old.seal("r", b"x").unwrap();
        let tag = old.mac(&[b"row"]);
        let ring = KeyRing::with_old(new, vec![old]);
        assert_eq!(&*ring.open("r", &sealed).unwrap(), b"x");
        ring.verify(&[b"row"], &tag).unwrap();
        assert_eq!(ring.verify(&[b"other"], &tag).unwrap_err(), MasterKeyError::Tampered);
        let resealed = ring.seal("r", b"x").unwrap();
        assert_eq!(KeyRing::key_id(&resealed), Some(ring.current().id()));
        assert_eq!(ring.macs(&[b"row"]).len(), 2);
    }
}
