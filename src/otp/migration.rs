//! Google Authenticator's export: `otpauth-migration://offline?data=BASE64`, the QR codes
//! its "Transfer accounts" screen shows (feature `migration`, which the CLI turns on; the
//! mobile library leaves it out: docs/adr/0014).
//!
//! `data` is a percent-encoded base64 protobuf message (the schema the app ships, as
//! published by the projects that read these exports):
//!
//! ```text
//! message MigrationPayload {
//!   enum Algorithm { UNSPECIFIED = 0; SHA1 = 1; SHA256 = 2; SHA512 = 3; MD5 = 4; }
//!   enum DigitCount { UNSPECIFIED = 0; SIX = 1; EIGHT = 2; }
//!   enum OtpType { UNSPECIFIED = 0; HOTP = 1; TOTP = 2; }
//!   message OtpParameters {
//!     bytes secret = 1; string name = 2; string issuer = 3; Algorithm algorithm = 4;
//!     DigitCount digits = 5; OtpType type = 6; int64 counter = 7;
//!   }
//!   repeated OtpParameters otp_parameters = 1;
//!   int32 version = 2; int32 batch_size = 3; int32 batch_index = 4; int32 batch_id = 5;
//! }
//! ```
//!
//! The message is decoded by `prost` on the structs below, declared by hand from this
//! schema (no protoc, no build.rs; docs/adr/0014-otpauth-migration-import.md); unknown
//! fields are skipped, as protobuf requires. Every entry becomes a
//! [`KeyUri`]; the whole batch is refused, with the entry's number, if one entry cannot
//! be imported (an MD5 token, an unknown type, a short secret), so an import is never
//! silently partial. Unspecified algorithm and digits mean SHA-1 and 6, as in the app;
//! TOTP entries have the app's only period, 30 seconds. `data` may be standard or
//! URL-safe base64, padded or not. Nothing in an error message comes from the payload
//! but the entry's number and the enum value.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use percent_encoding::percent_decode_str;
use prost::Message as _;
use zeroize::{Zeroize, Zeroizing};

use super::params::Algorithm;
use super::secret::Secret;
use super::uri::{KeyUri, UriError};

/// Longest `otpauth-migration://` URI accepted, in bytes (a QR code holds under 3 KB;
/// a pasted export of several codes stays well below this).
pub const MAX_MIGRATION_URI_LEN: usize = 64 * 1024;
/// Most entries accepted in one payload.
pub const MAX_ENTRIES: usize = 1000;

/// Standard base64 (after `-_` are mapped to `+/`), padding optional, as exports are
/// found in the wild.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Why an export was refused. Messages hold no secret, name or issuer: at most the
/// entry's number (1 for the first) and an enum value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationError {
    /// Longer than [`MAX_MIGRATION_URI_LEN`].
    #[error("the export is longer than {MAX_MIGRATION_URI_LEN} bytes")]
    TooLong,
    /// Not `otpauth-migration://offline?…`.
    #[error("an export must start with otpauth-migration://offline")]
    Scheme,
    /// No `data` parameter (or an empty one).
    #[error("the export has no data parameter")]
    MissingData,
    /// `data` given twice.
    #[error("the export's data parameter is given more than once")]
    RepeatedData,
    /// `data` is not percent-encoded UTF-8 or not base64.
    #[error("the export's data is not base64")]
    Base64,
    /// The decoded bytes are not a `MigrationPayload`.
    #[error("the export's data is not a Google Authenticator payload")]
    Protobuf,
    /// No account in the payload.
    #[error("the export holds no account")]
    Empty,
    /// More than [`MAX_ENTRIES`] accounts.
    #[error("the export holds more than {MAX_ENTRIES} accounts")]
    TooManyEntries,
    /// An algorithm other than SHA-1, SHA-256 or SHA-512 (4 is MD5).
    #[error("account {entry}: algorithm {value} is not supported (SHA1, SHA256 or SHA512)")]
    UnknownAlgorithm {
        /// The entry's number, 1 for the first.
        entry: usize,
        /// The enum value in the payload.
        value: u64,
    },
    /// A digit count other than 6 or 8.
    #[error("account {entry}: digit count {value} is not supported (6 or 8)")]
    UnknownDigits {
        /// The entry's number, 1 for the first.
        entry: usize,
        /// The enum value in the payload.
        value: u64,
    },
    /// An OTP type other than HOTP or TOTP (0, unspecified, included).
    #[error("account {entry}: OTP type {value} is not supported (1 HOTP or 2 TOTP)")]
    UnknownType {
        /// The entry's number, 1 for the first.
        entry: usize,
        /// The enum value in the payload.
        value: u64,
    },
    /// The entry's secret, name or issuer was refused.
    #[error("account {entry}: {source}")]
    Entry {
        /// The entry's number, 1 for the first.
        entry: usize,
        /// What [`KeyUri`] refused.
        source: UriError,
    },
}

/// One decoded export (one QR code of a possibly longer batch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The accounts, in the payload's order.
    pub accounts: Vec<KeyUri>,
    /// The payload's format version (1 in today's exports; 0 if absent).
    pub version: i32,
    /// How many QR codes the batch has (0 if absent).
    pub batch_size: i32,
    /// This QR code's place in the batch, from 0.
    pub batch_index: i32,
    /// The batch's id, the same on every QR code of one export.
    pub batch_id: i32,
}

/// Whether `text` is an `otpauth-migration:` URI (any case), to tell it from `otpauth:`.
pub fn is_migration_uri(text: &str) -> bool {
    text.trim_start()
        .get(..18)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("otpauth-migration:"))
}

/// Decodes an `otpauth-migration://offline?data=…` export.
pub fn parse(uri: &str) -> Result<Migration, MigrationError> {
    let uri = uri.trim();
    if uri.len() > MAX_MIGRATION_URI_LEN {
        return Err(MigrationError::TooLong);
    }
    let rest = match uri.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("otpauth-migration") => rest,
        _ => return Err(MigrationError::Scheme),
    };
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (host, query) = rest.split_once('?').unwrap_or((rest, ""));
    if !host.trim_end_matches('/').eq_ignore_ascii_case("offline") {
        return Err(MigrationError::Scheme);
    }
    let mut data: Option<&str> = None;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name.eq_ignore_ascii_case("data") && data.replace(value).is_some() {
            return Err(MigrationError::RepeatedData);
        }
    }
    let data = data.filter(|d| !d.is_empty()).ok_or(MigrationError::MissingData)?;
    let text = Zeroizing::new(
        percent_decode_str(data).decode_utf8().map_err(|_| MigrationError::Base64)?.into_owned(),
    );
    let mut standard = Zeroizing::new(String::with_capacity(text.len()));
    for c in text.chars() {
        match c {
            '-' => standard.push('+'),
            '_' => standard.push('/'),
            ' ' | '\t' | '\r' | '\n' => {}
            c => standard.push(c),
        }
    }
    let payload =
        Zeroizing::new(BASE64.decode(standard.as_bytes()).map_err(|_| MigrationError::Base64)?);
    decode_payload(&payload)
}

/// `MigrationPayload`, as in the schema above.
#[derive(Clone, PartialEq, prost::Message)]
struct Payload {
    #[prost(message, repeated, tag = "1")]
    otp_parameters: Vec<OtpParameters>,
    #[prost(int32, tag = "2")]
    version: i32,
    #[prost(int32, tag = "3")]
    batch_size: i32,
    #[prost(int32, tag = "4")]
    batch_index: i32,
    #[prost(int32, tag = "5")]
    batch_id: i32,
}

/// `MigrationPayload.OtpParameters`; enums are kept as their numbers, so that an unknown
/// value is reported rather than mapped to 0. The secret is wiped on drop and never shown.
#[derive(Clone, PartialEq, prost::Message)]
#[prost(skip_debug)]
struct OtpParameters {
    #[prost(bytes = "vec", tag = "1")]
    secret: Vec<u8>,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(string, tag = "3")]
    issuer: String,
    #[prost(int32, tag = "4")]
    algorithm: i32,
    #[prost(int32, tag = "5")]
    digits: i32,
    #[prost(int32, tag = "6")]
    kind: i32,
    #[prost(int64, tag = "7")]
    counter: i64,
}

impl core::fmt::Debug for OtpParameters {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("OtpParameters { .. }")
    }
}

impl Drop for OtpParameters {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

/// An enum's number as the varint on the wire (negative int32 values are sign-extended).
fn wire(value: i32) -> u64 {
    i64::from(value) as u64
}

/// Decodes the protobuf `MigrationPayload` itself (the bytes of `data`).
pub fn decode_payload(payload: &[u8]) -> Result<Migration, MigrationError> {
    let decoded = Payload::decode(payload).map_err(|_| MigrationError::Protobuf)?;
    if decoded.otp_parameters.len() > MAX_ENTRIES {
        return Err(MigrationError::TooManyEntries);
    }
    if decoded.otp_parameters.is_empty() {
        return Err(MigrationError::Empty);
    }
    let accounts = decoded
        .otp_parameters
        .iter()
        .enumerate()
        .map(|(i, entry)| decode_entry(entry, i + 1))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Migration {
        accounts,
        version: decoded.version,
        batch_size: decoded.batch_size,
        batch_index: decoded.batch_index,
        batch_id: decoded.batch_id,
    })
}

fn decode_entry(p: &OtpParameters, entry: usize) -> Result<KeyUri, MigrationError> {
    let algorithm = match p.algorithm {
        0 | 1 => Algorithm::Sha1,
        2 => Algorithm::Sha256,
        3 => Algorithm::Sha512,
        value => return Err(MigrationError::UnknownAlgorithm { entry, value: wire(value) }),
    };
    let digits = match p.digits {
        0 | 1 => 6,
        2 => 8,
        value => return Err(MigrationError::UnknownDigits { entry, value: wire(value) }),
    };
    let refused = |source: UriError| MigrationError::Entry { entry, source };
    let secret = Secret::from_bytes(&p.secret).map_err(|e| refused(e.into()))?;
    // The name is the app's label: `Issuer:account` or `account`, as in otpauth URIs; the
    // issuer field, when present, wins over the label's.
    let (label_issuer, account) = match p.name.split_once(':') {
        Some((i, a)) => (i.trim(), a.trim()),
        None => ("", p.name.trim()),
    };
    let issuer = Some(p.issuer.trim()).filter(|i| !i.is_empty());
    let issuer = issuer.or(Some(label_issuer).filter(|i| !i.is_empty())).map(str::to_string);
    let account = account.to_string();
    match p.kind {
        // int64 on the wire; its 64 bits are the counter, as the varint carries them.
        1 => KeyUri::hotp(issuer, account, secret, algorithm, digits, p.counter as u64),
        2 => KeyUri::totp(issuer, account, secret, algorithm, digits, 30),
        value => return Err(MigrationError::UnknownType { entry, value: wire(value) }),
    }
    .map_err(refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_migration_uri_tells_the_schemes_apart() {
        assert!(is_migration_uri("otpauth-migration://offline?data=x"));
        assert!(is_migration_uri("  OTPAUTH-MIGRATION://offline"));
        assert!(!is_migration_uri("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP"));
        assert!(!is_migration_uri("otpauth-migrat"));
        assert!(!is_migration_uri("한국어한국어한국어한국어"));
    }
}
