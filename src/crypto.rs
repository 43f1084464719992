//! The crypto helpers every layer shares: random bytes, SHA-256, HKDF-SHA256, an
//! AES-256-GCM sealing key, and hex for the binary fields of messages, stored records and
//! database rows. All over *ring* (and `base16ct` for hex), with one small error. Nothing
//! here depends on the rest of the crate.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::digest::{Context, SHA256};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// A failure of a primitive here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The operating system's random source failed.
    #[error("the operating system's random source failed")]
    Random,
    /// Text that is not hex of the expected length.
    #[error("not hex of the expected length")]
    Hex,
    /// Sealed bytes that fail authentication: altered, truncated, or opened with another
    /// key or associated data.
    #[error("the sealed data failed authentication")]
    Tampered,
    /// *ring* refused a key.
    #[error("a key was refused")]
    Key,
}

/// An AES-256-GCM key that seals with a fresh random nonce: `nonce (12) ‖ ciphertext ‖
/// tag (16)`. The associated data binds what is sealed to where it belongs. `Debug` is
/// redacted.
pub struct SealingKey(LessSafeKey);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

/// Bytes [`SealingKey::seal`] adds to the plaintext.
pub const SEAL_OVERHEAD: usize = NONCE_LEN + 16;

impl SealingKey {
    /// A key of 32 bytes. (*ring* refuses only keys of another length, which the type
    /// rules out; the error is kept so that nothing here can panic.)
    pub fn new(key: &[u8; 32]) -> Result<Self, CryptoError> {
        let k = UnboundKey::new(&AES_256_GCM, key).map_err(|_| CryptoError::Key)?;
        Ok(Self(LessSafeKey::new(k)))
    }

    /// A key derived with HKDF-SHA256 from `ikm`, `salt` and `info`.
    pub fn derive(salt: &[u8], ikm: &[u8], info: &[&[u8]]) -> Result<Self, CryptoError> {
        let mut k = Zeroizing::new([0u8; 32]);
        hkdf(salt, ikm, info, &mut *k);
        Self::new(&k)
    }

    /// `nonce ‖ ciphertext ‖ tag` of `plain`, bound to `aad`.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        random(&mut nonce)?;
        let mut out = Vec::with_capacity(plain.len() + SEAL_OVERHEAD);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let mut body = out.split_off(NONCE_LEN);
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut body,
            )
            .map_err(|_| CryptoError::Tampered)?;
        out.extend_from_slice(&body);
        body.iter_mut().for_each(|b| *b = 0);
        Ok(out)
    }

    /// The plaintext of what [`Self::seal`] produced for the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < SEAL_OVERHEAD {
            return Err(CryptoError::Tampered);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&sealed[..NONCE_LEN]);
        let mut body = Zeroizing::new(sealed[NONCE_LEN..].to_vec());
        let n = self
            .0
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut body)
            .map_err(|_| CryptoError::Tampered)?
            .len();
        body.truncate(n);
        Ok(body)
    }
}

/// Fills `buf` from the operating system's random source.
pub fn random(buf: &mut [u8]) -> Result<(), CryptoError> {
    SystemRandom::new().fill(buf).map_err(|_| CryptoError::Random)
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    ctx.update(data);
    finish(ctx)
}

/// SHA-256 of `parts`, each preceded by its length (8 bytes, big-endian), so that no two
/// lists of parts hash alike. The first part is, by convention, a domain label.
pub fn sha256_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p);
    }
    finish(ctx)
}

/// SHA-256 of `parts` concatenated as they are (no lengths): for the formats that were
/// defined that way.
pub fn sha256_concat(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    for p in parts {
        ctx.update(p);
    }
    finish(ctx)
}

fn finish(ctx: Context) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-SHA256 (RFC 5869) of `ikm` with `salt` and the concatenated `info` into `out`.
/// `out` must be at most 255 × 32 bytes; a longer one is filled with zeros (every caller
/// asks for 64 bytes at most).
pub fn hkdf(salt: &[u8], ikm: &[u8], info: &[&[u8]], out: &mut [u8]) {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    if let Ok(okm) = prk.expand(info, Len(out.len())) {
        if okm.fill(out).is_ok() {
            return;
        }
    }
    out.iter_mut().for_each(|b| *b = 0);
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

/// Exactly `N` bytes from hex (either case).
pub fn unhex_array<const N: usize>(text: &str) -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    let decoded = base16ct::mixed::decode(text, &mut out).map_err(|_| CryptoError::Hex)?;
    if decoded.len() != N {
        return Err(CryptoError::Hex);
    }
    Ok(out)
}

/// Bytes of any length from hex (either case).
pub fn unhex(text: &str) -> Result<Vec<u8>, CryptoError> {
    base16ct::mixed::decode_vec(text).map_err(|_| CryptoError::Hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256_concat(&[b"a", b"bc"]), sha256(b"abc"));
        assert_ne!(sha256_parts(&[b"a", b"bc"]), sha256_parts(&[b"ab", b"c"]));
    }

    #[test]
    fn hkdf_rfc5869_case_1() {
        let ikm = [0x0bu8; 22];
        let salt: Vec<u8> = (0u8..=0x0c).collect();
        let info: Vec<u8> = (0xf0u8..=0xf9).collect();
        let mut okm = [0u8; 42];
        hkdf(&salt, &ikm, &[&info[..5], &info[5..]], &mut okm);
        assert_eq!(
            hex(&okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    #[test]
    fn sealing_binds_the_associated_data() {
        let key = SealingKey::derive(b"salt", b"ikm", &[b"test"]).unwrap();
        let sealed = key.seal(b"here", b"secret").unwrap();
        assert_eq!(sealed.len(), 6 + SEAL_OVERHEAD);
        assert_eq!(&*key.open(b"here", &sealed).unwrap(), b"secret");
        assert_eq!(key.open(b"there", &sealed), Err(CryptoError::Tampered));
        let mut altered = sealed.clone();
        altered[20] ^= 1;
        assert_eq!(key.open(b"here", &altered), Err(CryptoError::Tampered));
        assert_eq!(key.open(b"here", &sealed[..10]), Err(CryptoError::Tampered));
        let other = SealingKey::derive(b"salt", b"ikm", &[b"other"]).unwrap();
        assert_eq!(other.open(b"here", &sealed), Err(CryptoError::Tampered));
    }

    #[test]
    fn hex_round_trip_and_lengths() {
        assert_eq!(unhex_array::<2>("0aFf"), Ok([0x0a, 0xff]));
        assert_eq!(unhex_array::<2>("0a"), Err(CryptoError::Hex));
        assert_eq!(unhex_array::<1>("zz"), Err(CryptoError::Hex));
        assert_eq!(unhex(&hex(&[1, 2, 3])), Ok(vec![1, 2, 3]));
    }
}
