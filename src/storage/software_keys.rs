//! Device keys in software (feature `file-store`: desktop, the CLI, tests). The P-256
//! private keys are PKCS#8 bytes kept in a `SecureStore`, so anything that can read the
//! store can copy them: they give the protocol's structure but none of the protection of
//! a hardware key, and their evidence is `EvidenceKind::None` (an issuer that requires
//! attestation refuses them). Mobile apps implement `DeviceKeys` over the Android
//! Keystore or the Secure Enclave.

use std::sync::Arc;

use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};

use crate::host::{DeviceKey, DeviceKeys, HostError, KeyEvidence, SecureStore};

/// The store key prefix of a software device key.
pub const KEY_PREFIX: &str = "digital-otp.v2.software-key.";

/// [`DeviceKeys`] in software, over a store.
pub struct SoftwareKeys {
    store: Arc<dyn SecureStore>,
}

impl std::fmt::Debug for SoftwareKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SoftwareKeys")
    }
}

fn failed(what: &str) -> HostError {
    HostError::Failed { reason: format!("software device key: {what}") }
}

impl SoftwareKeys {
    /// Keys kept in `store`.
    pub fn new(store: Arc<dyn SecureStore>) -> Self {
        Self { store }
    }

    fn pair(&self, alias: &str) -> Result<EcdsaKeyPair, HostError> {
        let pkcs8 = self
            .store
            .read(format!("{KEY_PREFIX}{alias}"))?
            .ok_or_else(|| failed("no such key"))?;
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8, &SystemRandom::new())
            .map_err(|_| failed("the stored key is unreadable"))
    }
}

impl DeviceKeys for SoftwareKeys {
    fn create_key(&self, alias: String, _challenge: Vec<u8>) -> Result<DeviceKey, HostError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| failed("key generation failed"))?;
        self.store.write(format!("{KEY_PREFIX}{alias}"), pkcs8.as_ref().to_vec())?;
        let pair = self.pair(&alias)?;
        Ok(DeviceKey {
            public_key: pair.public_key().as_ref().to_vec(),
            evidence: KeyEvidence::default(),
        })
    }

    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, HostError> {
        let pair = self.pair(&alias)?;
        let sig =
            pair.sign(&SystemRandom::new(), &message).map_err(|_| failed("signing failed"))?;
        Ok(sig.as_ref().to_vec())
    }

    fn delete_key(&self, alias: String) -> Result<(), HostError> {
        self.store.delete(format!("{KEY_PREFIX}{alias}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStore;
    use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};

    #[test]
    fn keys_sign_verifiably_and_are_deleted() {
        let keys = SoftwareKeys::new(Arc::new(MemoryStore::new()));
        let key = keys.create_key("a".into(), vec![1; 32]).unwrap();
        assert_eq!(key.public_key.len(), 65);
        assert_eq!(key.public_key[0], 4);
        let sig = keys.sign("a".into(), b"message".to_vec()).unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &key.public_key)
            .verify(b"message", &sig)
            .unwrap();
        keys.delete_key("a".into()).unwrap();
        assert!(keys.sign("a".into(), b"message".to_vec()).is_err());
        keys.delete_key("a".into()).unwrap();
    }
}
