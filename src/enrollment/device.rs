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

/// Normalizes a phone number to E.164.
///
/// - Separators are ignored: spaces (also no-break), `-` and the other dashes, `.`, `/`,
///   parentheses; full-width digits count as digits.
/// - `+CC…` and `00CC…` are international; so is `82…` without a `+` (a Korean domestic
///   number always starts with its trunk prefix `0`, so a leading `82` is the country
///   code); a number starting with a single `0` is Korean domestic.
/// - The trunk prefix: `(0)` after a country code is dropped (`+44 (0)20…`), and so is
///   the `0` that Korean numbers keep when written after `+82` (`+82 010-1234-5678`).
///
/// Every common way of writing a Korean mobile number gives `+821012345678`.
pub fn normalize_phone(raw: &str) -> Result<String, ProtocolError> {
    if raw.len() > 64 {
        return Err(ProtocolError::PhoneNumber("too long"));
    }
    let mut compact = String::with_capacity(raw.len());
    for c in raw.replace("(0)", "").chars() {
        match c {
            '0'..='9' | '+' => compact.push(c),
            // Full-width digits, as some keyboards type them.
            '\u{FF10}'..='\u{FF19}' => {
                compact.push(char::from(b'0' + (u32::from(c) - 0xFF10) as u8));
            }
            '\u{FF0B}' => compact.push('+'),
            ' '
            | '\u{00A0}'
            | '\u{3000}'
            | '-'
            | '.'
            | '/'
            | '('
            | ')'
            | '\u{2010}'..='\u{2015}'
            | '\u{2212}'
            | '\u{FF0D}' => {}
            _ => {
                return Err(ProtocolError::PhoneNumber(
                    "only digits, spaces, hyphens, dots, parentheses and a leading + are allowed",
                ))
            }
        }
    }
    let international = if let Some(rest) = compact.strip_prefix('+') {
        rest.to_string()
    } else if let Some(rest) = compact.strip_prefix("00") {
        rest.to_string()
    } else if let Some(rest) = compact.strip_prefix('0') {
        format!("82{rest}")
    } else if compact.starts_with("82") {
        compact.clone()
    } else if compact.is_empty() {
        return Err(ProtocolError::PhoneNumber("empty"));
    } else {
        return Err(ProtocolError::PhoneNumber("give the country code (+82…) or the leading 0"));
    };
    if !international.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ProtocolError::PhoneNumber("a + may only lead the number"));
    }
    // Korea's trunk prefix, kept by many after +82: `+82 010…` is `+82 10…`.
    let international = match international.strip_prefix("820") {
        Some(national) => format!("82{national}"),
        None => international,
    };
    if international.starts_with('0') {
        return Err(ProtocolError::PhoneNumber("a country code cannot start with 0"));
    }
    if !(8..=15).contains(&international.len()) {
        return Err(ProtocolError::PhoneNumber("an E.164 number has 8 to 15 digits"));
    }
    Ok(format!("+{international}"))
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
