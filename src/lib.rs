//! # digital-otp
//!
//! A Rust SDK that turns a bank's mobile app into a *digital OTP*: the one-time
//! password generator that replaces a physical OTP token or security card. It is
//! exposed to Kotlin (Android), Swift (iOS) and Python through UniFFI, and carries the
//! issuer side that a bank, or an OTP centre serving several banks, runs.
//!
//! ## Layout
//! The layers point one way (`tests/layout.rs` checks it: no import cycle, nothing below
//! `ffi` uses it, no file over 700 lines before its unit tests):
//!
//! - [`host`]: what the platform provides — the foreign traits [`host::SecureStore`],
//!   [`host::Clock`] and `host::SmsGateway`, their error, and the one system clock.
//!   Depends on nothing of the crate.
//! - [`crypto`]: random bytes, SHA-256, HKDF, AES-GCM sealing, hex. Depends on nothing
//!   of the crate.
//! - [`otp`]: the algorithms in plain Rust — HOTP (RFC 4226), TOTP (RFC 6238), OCRA
//!   (RFC 6287), `otpauth://` Key URIs, and [`otp::Secret`] (zeroized on drop, redacted
//!   when printed, compared in constant time).
//! - [`transaction`]: a transfer in canonical form, the question of its OCRA code.
//! - [`enrollment`]: the sans-IO registration protocol both sides speak (registration
//!   codes, device binding, the messages and key agreement).
//! - [`storage`]: the sealed blobs the app side keeps in the app's store, and the Rust
//!   stores (memory, files, the OS keyring).
//! - [`client`]: the app side — registration, the app password and its lockout, codes.
//! - `issuer` (feature `issuer`): registration codes, registration, verification, the
//!   service desk, the audit log, over a store trait (SQLite, memory).
//! - [`ffi`]: the UniFFI edge — thin objects over the above and the public errors
//!   (`DigitalOtpError`, `OtpError`, `IssuerError`), mapped from the internal ones in
//!   one place.
//!
//! Decisions and their reasons: `docs/adr/`.
//!
//! ## Guarantees
//! - Nothing on an exported path panics: every bad input is a typed error.
//! - Verification returns *which* step or counter matched, compares every candidate in
//!   constant time, and never stops early, so callers can refuse replays by storing the
//!   last accepted step.
//! - Error messages never contain secrets, codes, passwords or personal data.
//!
//! ## The engine
//!
//! ```
//! use digital_otp::otp::{Algorithm, Secret, Totp, Window};
//!
//! // RFC 6238 appendix B: the SHA-1 seed, 8 digits, 30-second steps.
//! let secret = Secret::from_bytes(b"12345678901234567890")?;
//! let totp = Totp::new(&secret, Algorithm::Sha1, 8, 30, 0)?;
//! assert_eq!(totp.generate_at(59)?.to_string(), "94287082");
//! // Verification tells which step matched (here the current one, step 1).
//! assert_eq!(totp.verify("94287082", 59, Window::new(1, 1)?)?, Some(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## A bank and a phone
//!
//! The issuer issues an app registration code; the phone registers with it (the bytes
//! travel over the bank's own channel: the SDK does no I/O), sets the app password, and
//! shows a login code; the bank verifies it, which activates the credential; then a
//! transfer gets a code bound to its amount and payee.
//!
//! ```
//! # #[cfg(all(feature = "issuer", feature = "file-store"))]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//!
//! use digital_otp::client::{Client, Status};
//! use digital_otp::enrollment::Device;
//! use digital_otp::host::FixedClock;
//! use digital_otp::issuer::master_key::MasterKey;
//! use digital_otp::issuer::model::{CustomerKind, Residency};
//! use digital_otp::issuer::{store, Issuer, IssuerConfig, NewCustomer, Verdict};
//! use digital_otp::storage::{MemoryStore, SoftwareKeys};
//! use digital_otp::transaction::Transaction;
//!
//! let clock = Arc::new(FixedClock::new(1_800_000_000));
//!
//! // The bank: an institution, a customer, and (after its own identity check) a code.
//! let (master_key, _hex) = MasterKey::generate()?;
//! let bank = Issuer::open(
//!     Arc::new(store::MemoryStore::new()),
//!     master_key,
//!     clock.clone(),
//!     None,
//!     IssuerConfig::default(),
//! )?;
//! bank.add_institution("branch-7", "demo-bank", "Demo Bank")?;
//! bank.register_customer("branch-7", &NewCustomer {
//!     institution_id: "demo-bank".into(),
//!     customer_id: "kim".into(),
//!     name: "Kim".into(),
//!     kind: CustomerKind::Individual,
//!     residency: Residency::Domestic,
//!     phone_number: "010-1234-5678".into(),
//!     real_name_number: None,
//! })?;
//! let code = bank.issue_non_face_to_face("branch-7", "demo-bank", "kim", "kyc-0001")?;
//!
//! // The phone: the customer types the code and chooses the app password; three messages
//! // go to the bank and back (a SPAKE2 exchange keyed by the code: nothing on the wire
//! // tests it offline). Its device keys are the platform's; here, software ones.
//! let store = Arc::new(MemoryStore::new());
//! let app = Client::new(store.clone(), Arc::new(SoftwareKeys::new(store)), clock.clone());
//! let phone = Device::new("010-1234-5678", "install-4f2a")?;
//! let request = app.begin_registration("demo-bank", &code.display(), phone.clone(), "482915")?;
//! let confirmation = app.confirm_registration(&bank.handle_registration("mobile-app", &request))?;
//! let outcome = bank.handle_registration("mobile-app", &confirmation);
//! let credential = app.complete_registration("demo-bank", &outcome)?;
//! assert_eq!(credential.status, Status::Pending);
//!
//! // A login code: one round trip, in which the bank evaluates (and counts) the password.
//! let unlock = app.begin_login_code("demo-bank", "482915", &phone)?;
//! let login = app.complete_login_code(&bank.handle_unlock("mobile-app", &unlock))?;
//! // The bank's acceptance activates the credential on both sides.
//! assert_eq!(bank.verify_login("web", "demo-bank", "kim", &login.code)?, Verdict::Accepted);
//! app.confirm_activation("demo-bank")?;
//! assert_eq!(app.credentials(&phone)?[0].status, Status::Active);
//! // The same code is not accepted twice.
//! assert_eq!(bank.verify_login("web", "demo-bank", "kim", &login.code)?, Verdict::Rejected);
//!
//! // A transfer: the app shows the summary, the code is bound to exactly this transfer.
//! let transfer = Transaction {
//!     amount_minor: 1_500_000,
//!     currency: "KRW".into(),
//!     payee_account: "110-123-456789".into(),
//!     payee_name: "홍길동".into(),
//!     memo: None,
//! };
//! let unlock = app.begin_transaction_code("demo-bank", "482915", &phone, &transfer)?;
//! let code = app.complete_transaction_code(&bank.handle_unlock("mobile-app", &unlock))?;
//! assert_eq!(code.summary, "Transfer KRW 1,500,000\nPayee: 홍길동\nAccount: 110123456789");
//! let verdict = bank.verify_transaction("web", "demo-bank", "kim", &code.code, &transfer)?;
//! assert_eq!(verdict, Verdict::Accepted);
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "issuer", feature = "file-store")))]
//! # fn main() {}
//! ```

pub mod client;
pub mod crypto;
pub mod enrollment;
pub mod ffi;
pub mod host;
#[cfg(feature = "issuer")]
pub mod issuer;
mod json;
pub mod otp;
#[cfg(feature = "http")]
pub mod service;
pub mod storage;
pub mod text;
pub mod transaction;

uniffi::setup_scaffolding!();
