//! App registration codes: 11 random digits and a Damm check digit, so that a typing
//! mistake is caught on the phone before any network call.

use std::fmt;

use zeroize::Zeroizing;

use super::error::{ProtocolError, CODE_DIGITS};
use crate::crypto;

/// Damm check digit: detects every single-digit error and every adjacent transposition.
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

fn damm(digits: &[u8]) -> u8 {
    digits.iter().fold(0u8, |interim, d| DAMM[usize::from(interim)][usize::from(*d)])
}

/// An app registration code: 11 random digits and a Damm check digit. Zeroized on drop;
/// `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistrationCode(Zeroizing<String>);

impl fmt::Debug for RegistrationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RegistrationCode(<redacted>)")
    }
}

impl RegistrationCode {
    /// A new random code (issuer side).
    pub fn generate() -> Result<Self, ProtocolError> {
        let mut digits = Zeroizing::new(Vec::with_capacity(CODE_DIGITS));
        let mut buf = Zeroizing::new([0u8; 32]);
        while digits.len() < CODE_DIGITS - 1 {
            crypto::random(&mut *buf)?;
            // Rejection sampling keeps the digits uniform.
            for b in buf.iter().filter(|b| **b < 250) {
                if digits.len() < CODE_DIGITS - 1 {
                    digits.push(b % 10);
                }
            }
        }
        let check = damm(&digits);
        digits.push(check);
        Ok(Self(Zeroizing::new(digits.iter().map(|d| char::from(b'0' + d)).collect())))
    }

    /// A code of the reduced space `0..space` (its 11 digits are a number below `space`),
    /// for the crate's tests of an attacker who searches the whole space (feature
    /// `test-support`; a real code has 10^11 values).
    #[cfg(feature = "test-support")]
    pub fn generate_in(space: u64) -> Result<Self, ProtocolError> {
        let mut buf = [0u8; 8];
        crypto::random(&mut buf)?;
        Ok(Self::from_number(u64::from_le_bytes(buf) % space.max(1)))
    }

    /// The code whose 11 digits are `n` (zero-padded), with its check digit (feature
    /// `test-support`).
    #[cfg(feature = "test-support")]
    pub fn from_number(n: u64) -> Self {
        let text = format!("{:011}", n % 100_000_000_000);
        let mut digits: Vec<u8> = text.bytes().map(|b| b - b'0').collect();
        digits.push(damm(&digits));
        Self(Zeroizing::new(digits.iter().map(|d| char::from(b'0' + d)).collect()))
    }

    /// Parses what the customer typed: 12 digits, spaces and hyphens ignored. A wrong
    /// check digit is refused here, before any network call.
    pub fn parse(text: &str) -> Result<Self, ProtocolError> {
        if text.len() > 64 {
            return Err(ProtocolError::CodeFormat);
        }
        let mut digits = Zeroizing::new(Vec::with_capacity(CODE_DIGITS));
        for c in text.chars() {
            match c {
                ' ' | '-' => {}
                '0'..='9' => digits.push(c as u8 - b'0'),
                _ => return Err(ProtocolError::CodeFormat),
            }
        }
        if digits.len() != CODE_DIGITS {
            return Err(ProtocolError::CodeFormat);
        }
        if damm(&digits) != 0 {
            return Err(ProtocolError::CodeCheckDigit);
        }
        Ok(Self(Zeroizing::new(digits.iter().map(|d| char::from(b'0' + d)).collect())))
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Grouped for display: `1234-5678-9012`.
    pub fn display(&self) -> String {
        let s = self.as_str();
        format!("{}-{}-{}", &s[0..4], &s[4..8], &s[8..12])
    }
}
