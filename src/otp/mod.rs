//! OTP algorithms: HOTP (RFC 4226), TOTP (RFC 6238), OCRA (RFC 6287) and the
//! `otpauth://` Key URI format. Plain Rust, no FFI attributes: the `ffi` module
//! wraps these types for Kotlin, Swift and Python.
//!
//! - `params`: the HMAC hash ([`Algorithm`]), the limits and [`ParamError`]; `mac`: the
//!   HMACs themselves;
//! - `hotp`: [`Hotp`], [`Totp`], [`Window`], [`Code`] and the parameter checks;
//! - [`ocra`]: OCRA suites and responses; [`uri`]: Key URIs; `migration` (feature
//!   `migration`): Google Authenticator's `otpauth-migration://` export;
//! - `secret`: [`Secret`] (zeroized on drop, redacted when printed, compared in constant
//!   time).

mod hotp;
mod mac;
#[cfg(feature = "migration")]
pub mod migration;
pub mod ocra;
mod params;
mod secret;
pub mod uri;

pub use hotp::{Code, Hotp, StepWindow, Totp, Window};
pub use mac::pbkdf2_hmac_sha256;
pub use params::{Algorithm, ParamError, MAX_DIGITS, MAX_PERIOD, MAX_WINDOW, MIN_DIGITS};
pub use secret::{Secret, SecretError, GENERATED_BYTES, MAX_BYTES, MIN_IMPORTED_BYTES};
