//! The shared secret (the OTP seed): zeroized on drop, redacted when printed,
//! compared in constant time.

use std::fmt;

use rand::rngs::OsRng;
use rand::TryRngCore;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The shortest secret accepted on import: 80 bits (RFC 4226 §4 R6 allows 128,
/// but some issuers still provision 80-bit seeds).
pub const MIN_IMPORTED_BYTES: usize = 10;
/// The length of a generated secret: 160 bits, as RFC 4226 recommends.
pub const GENERATED_BYTES: usize = 20;
/// The longest secret accepted: 1024 bytes. Longer keys bring nothing (HMAC
/// hashes them down) and are almost certainly a mistake.
pub const MAX_BYTES: usize = 1024;

/// Why a secret was refused. Messages never contain the secret or its encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No bytes at all.
    #[error("the secret is empty")]
    Empty,
    /// Fewer than 80 bits.
    #[error("the secret is {bits} bits long; at least 80 bits are required")]
    TooShort {
        /// The length that was given, in bits.
        bits: usize,
    },
    /// More than [`MAX_BYTES`].
    #[error("the secret is longer than {MAX_BYTES} bytes")]
    TooLong,
    /// A generated secret was asked to be shorter than 160 bits.
    #[error("generated secrets must be at least 160 bits (20 bytes) long")]
    GeneratedTooShort,
    /// The text is not base32 (RFC 4648 alphabet, any case, optional padding and spaces).
    #[error("the secret is not valid base32: {0}")]
    InvalidBase32(&'static str),
    /// The text is not hexadecimal.
    #[error("the secret is not valid hexadecimal (an even number of 0-9, a-f digits is expected)")]
    InvalidHex,
    /// The operating system's random source failed.
    #[error("the operating system's random source failed")]
    RandomSource,
}

/// An OTP secret. Zeroized on drop, printed as `Secret(<redacted>)`, compared in
/// constant time. Clone copies the bytes (both copies are zeroized on drop).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret {
    bytes: Vec<u8>,
}

impl Secret {
    /// A new 160-bit secret from the operating system's random source.
    pub fn generate() -> Result<Self, SecretError> {
        Self::generate_with_len(GENERATED_BYTES)
    }

    /// A new secret of `len` bytes (at least 20) from the operating system's random source.
    pub fn generate_with_len(len: usize) -> Result<Self, SecretError> {
        if len < GENERATED_BYTES {
            return Err(SecretError::GeneratedTooShort);
        }
        if len > MAX_BYTES {
            return Err(SecretError::TooLong);
        }
        let mut bytes = vec![0u8; len];
        if OsRng.try_fill_bytes(&mut bytes).is_err() {
            bytes.zeroize();
            return Err(SecretError::RandomSource);
        }
        Ok(Self { bytes })
    }

    /// Takes ownership of raw bytes (zeroized if refused).
    pub fn from_vec(mut bytes: Vec<u8>) -> Result<Self, SecretError> {
        match check_len(bytes.len()) {
            Ok(()) => Ok(Self { bytes }),
            Err(e) => {
                bytes.zeroize();
                Err(e)
            }
        }
    }

    /// Copies raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SecretError> {
        check_len(bytes.len())?;
        Ok(Self { bytes: bytes.to_vec() })
    }

    /// Decodes base32 (RFC 4648). Case, spaces and hyphens are tolerated, and so is any
    /// amount of trailing `=` padding (complete, partial, missing or extra); `=` followed
    /// by more letters is refused.
    pub fn from_base32(text: &str) -> Result<Self, SecretError> {
        if text.len() > MAX_BYTES * 2 {
            return Err(SecretError::TooLong);
        }
        let mut normalized = Zeroizing::new(String::with_capacity(text.len()));
        let mut padded = false;
        for c in text.chars() {
            match c {
                ' ' | '-' | '\t' => {}
                '=' => padded = true,
                'a'..='z' | 'A'..='Z' | '2'..='7' => {
                    if padded {
                        return Err(SecretError::InvalidBase32("padding in the middle"));
                    }
                    normalized.push(c.to_ascii_uppercase());
                }
                _ => {
                    return Err(SecretError::InvalidBase32(
                        "only the letters A-Z and the digits 2-7 are allowed",
                    ))
                }
            }
        }
        if normalized.is_empty() {
            return Err(SecretError::Empty);
        }
        // Unpadded base32 lengths modulo 8 can only be 0, 2, 4, 5 or 7.
        if matches!(normalized.len() % 8, 1 | 3 | 6) {
            return Err(SecretError::InvalidBase32("truncated (impossible length)"));
        }
        // Trailing `=` carries no information: complete (to a multiple of 8), partial,
        // missing or extra padding all decode to the same bytes (issue 15, item 16).
        let decoded = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &normalized)
            .ok_or(SecretError::InvalidBase32("cannot be decoded"))?;
        Self::from_vec(decoded)
    }

    /// Decodes hexadecimal (either case), in constant time.
    pub fn from_hex(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SecretError::Empty);
        }
        if text.len() > MAX_BYTES * 2 {
            return Err(SecretError::TooLong);
        }
        let bytes = base16ct::mixed::decode_vec(text).map_err(|_| SecretError::InvalidHex)?;
        Self::from_vec(bytes)
    }

    /// The raw bytes. Keep their use short-lived.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false: an empty secret cannot be constructed.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Unpadded upper-case base32, zeroized on drop.
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &self.bytes))
    }
}

fn check_len(len: usize) -> Result<(), SecretError> {
    match len {
        0 => Err(SecretError::Empty),
        n if n < MIN_IMPORTED_BYTES => Err(SecretError::TooShort { bits: n * 8 }),
        n if n > MAX_BYTES => Err(SecretError::TooLong),
        _ => Ok(()),
    }
}

impl PartialEq for Secret {
    /// Constant-time in the content (the lengths are not secret).
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}
impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted secret>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_160_bits_and_distinct() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert_eq!(Secret::generate_with_len(19).unwrap_err(), SecretError::GeneratedTooShort);
        assert_eq!(Secret::generate_with_len(64).unwrap().len(), 64);
    }

    #[test]
    fn import_lengths() {
        assert_eq!(Secret::from_bytes(&[]).unwrap_err(), SecretError::Empty);
        assert_eq!(Secret::from_bytes(&[1; 9]).unwrap_err(), SecretError::TooShort { bits: 72 });
        assert!(Secret::from_bytes(&[1; 10]).is_ok());
        assert_eq!(Secret::from_bytes(&vec![1; MAX_BYTES + 1]).unwrap_err(), SecretError::TooLong);
    }

    #[test]
    fn base32_is_tolerant_of_case_padding_and_spaces() {
        let canonical = Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        assert_eq!(canonical.expose(), b"12345678901234567890");
        for variant in [
            "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ",
            "gezd-gnbv-gy3t-qojq-gezd-gnbv-gy3t-qojq",
        ] {
            assert_eq!(Secret::from_base32(variant).unwrap(), canonical);
        }
        // 11 bytes -> 18 chars + 6 padding
        let s = Secret::from_bytes(b"12345678901").unwrap();
        let b32 = s.to_base32();
        assert_eq!(b32.len(), 18);
        assert!(!b32.contains('='));
        assert_eq!(Secret::from_base32(&format!("{}======", &*b32)).unwrap(), s);
    }

    #[test]
    fn base32_padding_may_be_complete_partial_missing_or_extra() {
        // 10 bytes: 16 characters, no padding needed.
        let ten = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(ten.expose(), b"Hello!\xde\xad\xbe\xef");
        for variant in ["JBSWY3DPEHPK3PXP=", "JBSWY3DPEHPK3PXP========", "jbswy3dpehpk3pxp=="] {
            assert_eq!(Secret::from_base32(variant).unwrap(), ten, "{variant}");
        }
        // 11 bytes: 18 characters + 6 padding when complete.
        let eleven = Secret::from_base32("GEZDGNBVGY3TQOJQGE").unwrap();
        assert_eq!(eleven.expose(), b"12345678901");
        for variant in [
            "GEZDGNBVGY3TQOJQGE======",
            "GEZDGNBVGY3TQOJQGE=",
            "GEZDGNBVGY3TQOJQGE===",
            "GEZDGNBVGY3TQOJQGE=========",
            "gezd gnbv gy3t qojq ge== ====",
        ] {
            assert_eq!(Secret::from_base32(variant).unwrap(), eleven, "{variant}");
        }
        // 5 bytes with extra padding: the padding is fine, the secret is too short.
        assert_eq!(
            Secret::from_base32("GEZDGNBV======").unwrap_err(),
            SecretError::TooShort { bits: 40 }
        );
        // Whatever the padding, the secret prints back canonical: upper case, unpadded.
        assert_eq!(
            &*Secret::from_base32("JBSWY3DPEHPK3PXP=").unwrap().to_base32(),
            "JBSWY3DPEHPK3PXP"
        );
        assert_eq!(
            &*Secret::from_base32("gezdgnbvgy3tqojqge=").unwrap().to_base32(),
            "GEZDGNBVGY3TQOJQGE"
        );
    }

    #[test]
    fn base32_errors() {
        assert_eq!(Secret::from_base32("").unwrap_err(), SecretError::Empty);
        assert_eq!(Secret::from_base32("  = ").unwrap_err(), SecretError::Empty);
        assert!(matches!(
            Secret::from_base32("GEZDGNBVGY3TQOJ1").unwrap_err(),
            SecretError::InvalidBase32(_)
        ));
        assert!(matches!(
            Secret::from_base32("GEZDGNBVGY3TQOJQG").unwrap_err(),
            SecretError::InvalidBase32(_)
        ));
        assert!(matches!(
            Secret::from_base32("GEZDGNBV=GY3TQOJQ").unwrap_err(),
            SecretError::InvalidBase32(_)
        ));
        assert!(matches!(
            Secret::from_base32("GEZDGNBVGY3TQOJQGE=A").unwrap_err(),
            SecretError::InvalidBase32("padding in the middle")
        ));
        // Padding does not make an impossible length possible.
        assert!(matches!(
            Secret::from_base32("GEZDGNBVGY3TQOJQG=======").unwrap_err(),
            SecretError::InvalidBase32(_)
        ));
        assert_eq!(Secret::from_base32("====").unwrap_err(), SecretError::Empty);
        assert!(matches!(
            Secret::from_base32("GEZDGNBVGY3TQOJQ€").unwrap_err(),
            SecretError::InvalidBase32(_)
        ));
        assert_eq!(
            Secret::from_base32("GEZDGNBVGY3TQ").unwrap_err(),
            SecretError::TooShort { bits: 64 }
        );
        assert_eq!(Secret::from_base32(&"A".repeat(5000)).unwrap_err(), SecretError::TooLong);
    }

    #[test]
    fn hex() {
        let s = Secret::from_hex("3132333435363738393031323334353637383930").unwrap();
        assert_eq!(s.expose(), b"12345678901234567890");
        assert_eq!(Secret::from_hex("3132333435363738393A3b").unwrap().len(), 11);
        assert_eq!(Secret::from_hex("313").unwrap_err(), SecretError::InvalidHex);
        assert_eq!(
            Secret::from_hex("zz32333435363738393031").unwrap_err(),
            SecretError::InvalidHex
        );
        assert_eq!(Secret::from_hex("").unwrap_err(), SecretError::Empty);
    }

    #[test]
    fn never_printed() {
        let s = Secret::from_bytes(b"12345678901234567890").unwrap();
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert!(!format!("{s}").contains("1234"));
        let err = Secret::from_base32("GEZDGNBVGY3TQOJ!").unwrap_err().to_string();
        assert!(!err.contains("GEZD"), "{err}");
    }
}
