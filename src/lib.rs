//! # digital-otp
//!
//! A Rust SDK that turns a bank's mobile app into a *digital OTP*: the one-time
//! password generator that replaces a physical OTP token or security card. It is
//! exposed to Kotlin (Android), Swift (iOS) and Python through UniFFI.
//!
//! ## Layout
//! - [`otp`]: the algorithms in plain Rust — HOTP (RFC 4226), TOTP (RFC 6238),
//!   OCRA (RFC 6287), the `otpauth://` Key URI format, and the [`otp::Secret`]
//!   type (zeroized on drop, redacted when printed, compared in constant time).
//! - [`error`]: the public error type, [`error::OtpError`].
//! - [`ffi`]: the thin UniFFI surface; its objects hold an engine value and delegate.
//!
//! ## Guarantees
//! - Nothing on an exported path panics: every bad input is a typed error.
//! - Verification returns *which* step or counter matched, compares every candidate in
//!   constant time, and never stops early, so callers can refuse replays by storing the
//!   last accepted step.
//! - Error messages never contain secrets or codes.

pub mod client;
pub mod clock;
pub mod enrollment;
pub mod error;
pub mod ffi;
#[cfg(feature = "issuer")]
pub mod issuer;
mod json;
pub mod otp;
pub mod storage;
pub mod transaction;

uniffi::setup_scaffolding!();
