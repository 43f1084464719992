//! The phone number (normalized to E.164) and device id a credential is bound to, and
//! the hashes of them that the app stores and sends instead.

use std::fmt;

use super::error::ProtocolError;
use crate::crypto::sha256_parts as sha256;

/// The phone number (E.164) and device id a credential is bound to.
#[derive(Clone, PartialEq, Eq)]
pub struct Device {
    phone: String,
    device_id: String,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Device(<redacted>)")
    }
}

/// Normalizes a phone number to E.164. Separators (space, `-`, `.`, parentheses) are
/// ignored; `+CC…` and `00CC…` are international; a number starting with a single `0`
/// is Korean domestic (`010-1234-5678` → `+821012345678`).
pub fn normalize_phone(raw: &str) -> Result<String, ProtocolError> {
    if raw.len() > 64 {
        return Err(ProtocolError::PhoneNumber("too long"));
    }
    let compact: String =
        raw.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
    let national_or_intl = if let Some(rest) = compact.strip_prefix('+') {
        rest.to_string()
    } else if let Some(rest) = compact.strip_prefix("00") {
        rest.to_string()
    } else if let Some(rest) = compact.strip_prefix('0') {
        format!("82{rest}")
    } else if compact.is_empty() {
        return Err(ProtocolError::PhoneNumber("empty"));
    } else {
        return Err(ProtocolError::PhoneNumber("give the country code (+82…) or the leading 0"));
    };
    if !national_or_intl.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ProtocolError::PhoneNumber(
            "only digits, spaces, hyphens, dots, parentheses and a leading + are allowed",
        ));
    }
    if national_or_intl.starts_with('0') {
        return Err(ProtocolError::PhoneNumber("a country code cannot start with 0"));
    }
    if !(8..=15).contains(&national_or_intl.len()) {
        return Err(ProtocolError::PhoneNumber("an E.164 number has 8 to 15 digits"));
    }
    Ok(format!("+{national_or_intl}"))
}

/// Which outstanding registration code a request is for: a hash of the institution and
/// the customer's phone number (E.164). The issuer finds the code by it, never by the
/// code, so the request carries nothing derived from the code.
pub fn lookup(institution_id: &str, e164: &str) -> [u8; 32] {
    sha256(&[b"digital-otp/v2/lookup", institution_id.as_bytes(), e164.as_bytes()])
}

impl Device {
    /// Checks and normalizes a phone number and device id.
    pub fn new(phone_number: &str, device_id: &str) -> Result<Self, ProtocolError> {
        let phone = normalize_phone(phone_number)?;
        let device_id = device_id.trim();
        if device_id.is_empty()
            || device_id.chars().count() > 256
            || device_id.chars().any(char::is_control)
        {
            return Err(ProtocolError::DeviceId);
        }
        Ok(Self { phone, device_id: device_id.to_string() })
    }

    /// The E.164 phone number.
    pub fn phone(&self) -> &str {
        &self.phone
    }

    /// The salted hash stored (and sent) instead of the phone number and device id.
    pub fn binding(&self, salt: &[u8; 16]) -> [u8; 32] {
        sha256(&[b"digital-otp/v1/device", salt, self.phone.as_bytes(), self.device_id.as_bytes()])
    }

    /// The [`lookup`] of this phone number at `institution_id`.
    pub fn lookup(&self, institution_id: &str) -> [u8; 32] {
        lookup(institution_id, &self.phone)
    }

    /// Whether this device matches a stored binding (constant time).
    pub fn matches(&self, salt: &[u8; 16], binding: &[u8; 32]) -> bool {
        bool::from(subtle::ConstantTimeEq::ct_eq(self.binding(salt).as_slice(), binding.as_slice()))
    }
}
