//! HMAC with the key schedule done once per secret.
//!
//! Each code costs one clone of the precomputed inner/outer states plus the
//! compression calls for the message. The implementation per hash was chosen by
//! measurement (`cargo bench --bench otp`, see BENCHMARKS.md): RustCrypto's
//! `hmac` over `sha1`/`sha2`, which use the CPU's SHA extensions where present.
//! ring's SHA-1 has no hardware path and was ≈4× slower for SHA-1.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use zeroize::Zeroize;

use super::Algorithm;

/// An HMAC keyed once; cheap to evaluate many times from `&self`.
/// The precomputed states are zeroized on drop (hmac's `zeroize` feature).
#[derive(Clone)]
pub(crate) enum KeyedMac {
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
}

/// Longest HMAC output used here (SHA-512).
pub(crate) const MAX_MAC_LEN: usize = 64;

impl KeyedMac {
    pub(crate) fn new(algorithm: Algorithm, key: &[u8]) -> Self {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail here;
        // the fallbacks only exist to keep this path free of panics.
        match algorithm {
            Algorithm::Sha1 => Self::Sha1(
                Hmac::<Sha1>::new_from_slice(key).unwrap_or_else(|_| Hmac::<Sha1>::new(&Default::default())),
            ),
            Algorithm::Sha256 => Self::Sha256(
                Hmac::<Sha256>::new_from_slice(key)
                    .unwrap_or_else(|_| Hmac::<Sha256>::new(&Default::default())),
            ),
            Algorithm::Sha512 => Self::Sha512(
                Hmac::<Sha512>::new_from_slice(key)
                    .unwrap_or_else(|_| Hmac::<Sha512>::new(&Default::default())),
            ),
        }
    }

    /// HMAC over the concatenation of `parts`, then RFC 4226 §5.3 dynamic truncation
    /// to a 31-bit value.
    pub(crate) fn truncated(&self, parts: &[&[u8]]) -> u32 {
        let mut out = [0u8; MAX_MAC_LEN];
        let len = self.sign_into(parts, &mut out);
        let value = dynamic_truncation(&out[..len]);
        out.zeroize();
        value
    }

    fn sign_into(&self, parts: &[&[u8]], out: &mut [u8; MAX_MAC_LEN]) -> usize {
        macro_rules! run {
            ($m:expr) => {{
                let mut m = $m.clone();
                for p in parts {
                    m.update(p);
                }
                let tag = m.finalize().into_bytes();
                let n = tag.len();
                out[..n].copy_from_slice(&tag);
                n
            }};
        }
        match self {
            Self::Sha1(m) => run!(m),
            Self::Sha256(m) => run!(m),
            Self::Sha512(m) => run!(m),
        }
    }
}

/// RFC 4226 §5.3: the low nibble of the last byte picks 4 bytes; the top bit is masked.
pub(crate) fn dynamic_truncation(mac: &[u8]) -> u32 {
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ])
}

/// A plain hash (for OCRA PINs), into a zeroizing buffer.
pub(crate) fn hash(algorithm: Algorithm, data: &[u8]) -> zeroize::Zeroizing<Vec<u8>> {
    use sha2::Digest;
    zeroize::Zeroizing::new(match algorithm {
        Algorithm::Sha1 => Sha1::digest(data).to_vec(),
        Algorithm::Sha256 => Sha256::digest(data).to_vec(),
        Algorithm::Sha512 => Sha512::digest(data).to_vec(),
    })
}
