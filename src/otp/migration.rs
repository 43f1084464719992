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
//! The protobuf wire format of this one message is read here directly (varints and
//! length-delimited fields; unknown fields skipped, as protobuf requires): a protobuf
//! crate would bring code generation for two messages. Every entry becomes a
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
use zeroize::Zeroizing;

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
    #[error("the export's data is not a Google Authenticator payload: {0}")]
    Protobuf(&'static str),
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

/// Decodes the protobuf `MigrationPayload` itself (the bytes of `data`).
pub fn decode_payload(payload: &[u8]) -> Result<Migration, MigrationError> {
    let mut migration =
        Migration { accounts: Vec::new(), version: 0, batch_size: 0, batch_index: 0, batch_id: 0 };
    let mut reader = Reader { bytes: payload };
    while let Some((field, value)) = reader.field()? {
        match (field, value) {
            (1, Value::Bytes(entry)) => {
                if migration.accounts.len() == MAX_ENTRIES {
                    return Err(MigrationError::TooManyEntries);
                }
                let number = migration.accounts.len() + 1;
                migration.accounts.push(decode_entry(entry, number)?);
            }
            // int32: the low 32 bits of the varint (negative ids are sign-extended).
            (2, Value::Varint(v)) => migration.version = v as i32,
            (3, Value::Varint(v)) => migration.batch_size = v as i32,
            (4, Value::Varint(v)) => migration.batch_index = v as i32,
            (5, Value::Varint(v)) => migration.batch_id = v as i32,
            (1..=5, _) => return Err(MigrationError::Protobuf("a field has the wrong wire type")),
            _ => {}
        }
    }
    if migration.accounts.is_empty() {
        return Err(MigrationError::Empty);
    }
    Ok(migration)
}

fn decode_entry(bytes: &[u8], entry: usize) -> Result<KeyUri, MigrationError> {
    let mut secret: Option<&[u8]> = None;
    let (mut name, mut issuer) = ("", "");
    let (mut algorithm, mut digits, mut kind, mut counter) = (0u64, 0u64, 0u64, 0u64);
    let mut reader = Reader { bytes };
    while let Some((field, value)) = reader.field()? {
        match (field, value) {
            (1, Value::Bytes(b)) => secret = Some(b),
            (2, Value::Bytes(b)) => name = utf8(b)?,
            (3, Value::Bytes(b)) => issuer = utf8(b)?,
            (4, Value::Varint(v)) => algorithm = v,
            (5, Value::Varint(v)) => digits = v,
            (6, Value::Varint(v)) => kind = v,
            (7, Value::Varint(v)) => counter = v,
            (1..=7, _) => return Err(MigrationError::Protobuf("a field has the wrong wire type")),
            _ => {}
        }
    }
    let algorithm = match algorithm {
        0 | 1 => Algorithm::Sha1,
        2 => Algorithm::Sha256,
        3 => Algorithm::Sha512,
        value => return Err(MigrationError::UnknownAlgorithm { entry, value }),
    };
    let digits = match digits {
        0 | 1 => 6,
        2 => 8,
        value => return Err(MigrationError::UnknownDigits { entry, value }),
    };
    let refused = |source: UriError| MigrationError::Entry { entry, source };
    let secret = Secret::from_bytes(secret.unwrap_or_default()).map_err(|e| refused(e.into()))?;
    // The name is the app's label: `Issuer:account` or `account`, as in otpauth URIs; the
    // issuer field, when present, wins over the label's.
    let (label_issuer, account) = match name.split_once(':') {
        Some((i, a)) => (i.trim(), a.trim()),
        None => ("", name.trim()),
    };
    let issuer = Some(issuer.trim()).filter(|i| !i.is_empty());
    let issuer = issuer.or(Some(label_issuer).filter(|i| !i.is_empty())).map(str::to_string);
    let account = account.to_string();
    match kind {
        1 => KeyUri::hotp(issuer, account, secret, algorithm, digits, counter),
        2 => KeyUri::totp(issuer, account, secret, algorithm, digits, 30),
        value => return Err(MigrationError::UnknownType { entry, value }),
    }
    .map_err(refused)
}

fn utf8(bytes: &[u8]) -> Result<&str, MigrationError> {
    std::str::from_utf8(bytes).map_err(|_| MigrationError::Protobuf("a name is not UTF-8"))
}

/// One field's value, by wire type.
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    /// Fixed 32- and 64-bit values (no field of this schema has one; skipped).
    Fixed,
}

/// A protobuf wire-format reader over a byte slice; never reads past its end.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, MigrationError> {
        let mut value = 0u64;
        for i in 0..10 {
            let (&byte, rest) =
                self.bytes.split_first().ok_or(MigrationError::Protobuf("truncated"))?;
            self.bytes = rest;
            if i == 9 && byte > 1 {
                return Err(MigrationError::Protobuf("a number is too large"));
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(MigrationError::Protobuf("a number is too large"))
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], MigrationError> {
        let len = usize::try_from(len).map_err(|_| MigrationError::Protobuf("truncated"))?;
        if len > self.bytes.len() {
            return Err(MigrationError::Protobuf("truncated"));
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(head)
    }

    /// The next field, or `None` at the end.
    fn field(&mut self) -> Result<Option<(u64, Value<'a>)>, MigrationError> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = key >> 3;
        if field == 0 {
            return Err(MigrationError::Protobuf("field number 0"));
        }
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed
            }
            2 => {
                let len = self.varint()?;
                Value::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed
            }
            _ => return Err(MigrationError::Protobuf("unsupported wire type")),
        };
        Ok(Some((field, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_truncation() {
        let mut r = Reader { bytes: &[0xac, 0x02] };
        assert_eq!(r.varint().unwrap(), 300);
        let mut r = Reader { bytes: &[0xff; 9] };
        assert_eq!(r.varint().unwrap_err(), MigrationError::Protobuf("truncated"));
        let mut r = Reader { bytes: &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01] };
        assert_eq!(r.varint().unwrap(), u64::MAX);
        let mut r = Reader { bytes: &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02] };
        assert!(r.varint().is_err());
        let mut r = Reader { bytes: &[0x0a, 0x05, 1, 2] };
        assert_eq!(r.field().err(), Some(MigrationError::Protobuf("truncated")));
        let mut r = Reader { bytes: &[0x0b] };
        assert_eq!(r.field().err(), Some(MigrationError::Protobuf("unsupported wire type")));
    }

    #[test]
    fn is_migration_uri_tells_the_schemes_apart() {
        assert!(is_migration_uri("otpauth-migration://offline?data=x"));
        assert!(is_migration_uri("  OTPAUTH-MIGRATION://offline"));
        assert!(!is_migration_uri("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP"));
        assert!(!is_migration_uri("otpauth-migrat"));
        assert!(!is_migration_uri("한국어한국어한국어한국어"));
    }
}
