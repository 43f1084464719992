//! A [`SecureStore`] over the operating system's credential store through
//! `keyring-core` (feature `keyring`), for desktop apps, tools and native Rust apps.
//! Per platform: Apple's "protected data" keychain (iOS and macOS) with
//! `WhenUnlockedThisDeviceOnly`, Linux kernel keyutils, Windows Credential Manager.
//! (The `keyring` v4 crate's default stores are desktop-only; these store crates build
//! for iOS too.) Android apps implement `SecureStore` in Kotlin over the Android
//! Keystore instead.

use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry, Error as KeyringError};

use super::SecureStore;
use crate::host::HostError;

/// Keys of the SDK are stored as the `user` of entries of one `service`.
pub struct KeyringStore {
    store: Arc<CredentialStore>,
    service: String,
    modifiers: Vec<(&'static str, &'static str)>,
}

impl std::fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringStore").field("service", &self.service).finish_non_exhaustive()
    }
}

fn failed(what: &str, e: &KeyringError) -> HostError {
    HostError::Failed { reason: format!("keyring {what} failed: {e}") }
}

impl KeyringStore {
    /// The platform's credential store, entries under `service` (e.g. the app's bundle id).
    pub fn platform(service: &str) -> Result<Self, HostError> {
        #[cfg(any(target_os = "ios", target_os = "macos"))]
        {
            let store = apple_native_keyring_store::protected::Store::new()
                .map_err(|e| failed("open", &e))?;
            return Ok(Self::with_store(
                store,
                service,
                vec![("access-policy", "WhenUnlockedThisDeviceOnly")],
            ));
        }
        #[cfg(target_os = "linux")]
        {
            let store =
                linux_keyutils_keyring_store::Store::new().map_err(|e| failed("open", &e))?;
            let this = Self::with_store(store, service, Vec::new());
            // linux-keyutils-keyring-store 1.0: when a process's first keyring operation is
            // a write, it fails with AccessDenied (the session keyring is attached lazily);
            // any operation before it makes every later write work. One read of an entry
            // that does not exist, whatever it answers, is that operation.
            let _ = this.read("digital-otp.probe".into());
            return Ok(this);
        }
        #[cfg(target_os = "windows")]
        {
            let store =
                windows_native_keyring_store::Store::new().map_err(|e| failed("open", &e))?;
            return Ok(Self::with_store(store, service, Vec::new()));
        }
        #[allow(unreachable_code)]
        Err(HostError::Failed {
            reason: format!("no keyring store for this platform (service {service})"),
        })
    }

    /// Any `keyring-core` store, with creation modifiers for its entries.
    pub fn with_store(
        store: Arc<CredentialStore>,
        service: &str,
        modifiers: Vec<(&'static str, &'static str)>,
    ) -> Self {
        Self { store, service: service.to_string(), modifiers }
    }

    fn entry(&self, key: &str) -> Result<Entry, HostError> {
        let mods: HashMap<&str, &str> = self.modifiers.iter().copied().collect();
        let mods = (!mods.is_empty()).then_some(&mods);
        self.store.build(&self.service, key, mods).map_err(|e| failed("entry", &e))
    }
}

impl SecureStore for KeyringStore {
    fn read(&self, key: String) -> Result<Option<Vec<u8>>, HostError> {
        match self.entry(&key)?.get_secret() {
            Ok(v) => Ok(Some(v)),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(failed("read", &e)),
        }
    }

    fn write(&self, key: String, value: Vec<u8>) -> Result<(), HostError> {
        self.entry(&key)?.set_secret(&value).map_err(|e| failed("write", &e))
    }

    fn delete(&self, key: String) -> Result<(), HostError> {
        match self.entry(&key)?.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(failed("delete", &e)),
        }
    }
}
