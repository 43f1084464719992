//! The thin UniFFI surface. Kotlin package `org.digitalotp`, Swift module
//! `DigitalOTP`, Python module `digital_otp`.
//!
//! - [`app`]: the app side ([`app::DigitalOtp`]), always exported: the mobile library.
//! - [`engine`] (feature `engine`): the OTP engine's own objects (HOTP, TOTP, OCRA,
//!   `otpauth://` URIs, secrets) for desktop, server and test use.
//! - [`issuer`] (feature `issuer`): the issuer side.
//!
//! Every object holds an inner value of a plain Rust module and delegates to it.
//! Nothing here panics; every refusal is a typed error.

pub mod app;
#[cfg(feature = "engine")]
pub mod engine;
#[cfg(feature = "issuer")]
pub mod issuer;

#[cfg(feature = "engine")]
pub use engine::*;

/// The SDK's version (`0.1.0`): the crate's, which the Android AAR and the Swift package
/// share. Apps report it with crash and support data.
#[uniffi::export]
pub fn sdk_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
