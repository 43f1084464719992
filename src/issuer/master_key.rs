//! The operator's master key: seeds are sealed under it (AES-256-GCM) before they reach
//! the database, and it is never stored there. It comes from a key file or an
//! environment variable holding 64 hex digits. The database keeps only a check value
//! (an HMAC of a constant) so that opening it with the wrong key is refused.

use std::path::Path;

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
    /// A sealed secret failed authentication.
    #[error("a sealed secret failed authentication")]
    Tampered,
    /// The random source failed.
    #[error("the random source failed")]
    Random,
}

/// The master key. `Debug` is redacted.
pub struct MasterKey {
    aead: SealingKey,
    check: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// From 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, MasterKeyError> {
        let aead = SealingKey::derive(b"digital-otp/v1/master", bytes, &[b"seal"])
            .map_err(|_| MasterKeyError::Format)?;
        let tag =
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, bytes), b"digital-otp/v1/master-check");
        Ok(Self { aead, check: crypto::hex(&tag.as_ref()[..16]) })
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

    /// The check value stored in the database.
    pub fn check_value(&self) -> &str {
        &self.check
    }

    /// Seals `plain`, bound to `aad` (the record it belongs to). Hex of nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, aad: &str, plain: &[u8]) -> Result<String, MasterKeyError> {
        let sealed = self.aead.seal(aad.as_bytes(), plain).map_err(|_| MasterKeyError::Random)?;
        Ok(crypto::hex(&sealed))
    }

    /// Opens what [`Self::seal`] produced for the same `aad`.
    pub fn open(&self, aad: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, MasterKeyError> {
        let raw = Zeroizing::new(crypto::unhex(sealed).map_err(|_| MasterKeyError::Tampered)?);
        self.aead.open(aad.as_bytes(), &raw).map_err(|e| match e {
            CryptoError::Random => MasterKeyError::Random,
            _ => MasterKeyError::Tampered,
        })
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
        assert_eq!(&*again.open("DOTP:1", &sealed).unwrap(), b"seed");
        assert_eq!(k.open("DOTP:2", &sealed).unwrap_err(), MasterKeyError::Tampered);
        let (other, _) = MasterKey::generate().unwrap();
        assert_ne!(other.check_value(), k.check_value());
        assert_eq!(other.open("DOTP:1", &sealed).unwrap_err(), MasterKeyError::Tampered);
        for bad in ["", "00", &"g".repeat(64), &"0".repeat(63)] {
            assert_eq!(MasterKey::from_hex(bad).unwrap_err(), MasterKeyError::Format);
        }
        assert!(format!("{k:?}").contains("redacted"));
    }
}
