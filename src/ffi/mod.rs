//! The thin UniFFI surface. Kotlin package `org.digitalotp`, Swift module
//! `DigitalOTP`, Python module `digital_otp`.
//!
//! - [`app`]: the app side ([`app::DigitalOtp`]), always exported: the mobile library.
//! - [`engine`] (feature `engine`): the OTP engine's own objects (HOTP, TOTP, OCRA,
//!   `otpauth://` URIs, secrets) for desktop, server and test use.
//! - [`issuer`] (feature `issuer`): the issuer side.
//! - `errors`: the public errors ([`DigitalOtpError`], [`OtpError`], `IssuerError`) and the
//!   one place where the core's internal errors are mapped to them.
//!
//! Every object holds an inner value of a plain Rust module and delegates to it; where a
//! core record or enum can cross as it is, it derives UniFFI itself and is not copied
//! here. The core never imports this module. Nothing here panics; every refusal is a
//! typed error.

pub mod app;
#[cfg(feature = "engine")]
pub mod engine;
mod errors;
#[cfg(feature = "issuer")]
pub mod issuer;

#[cfg(feature = "engine")]
pub use engine::*;
#[cfg(feature = "issuer")]
pub use errors::IssuerError;
pub use errors::{DigitalOtpError, OtpError};

/// The SDK's version (`0.1.0`): the crate's, which the Android AAR and the Swift package
/// share. Apps report it with crash and support data.
#[uniffi::export]
pub fn sdk_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
