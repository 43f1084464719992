//! HMAC (RFC 2104) with the key schedule done once per secret.
//!
//! [`KeyedMac::new`] runs the hash's compression function once over `key ⊕ ipad`
//! and once over `key ⊕ opad` and keeps the two chaining states. A code then
//! costs exactly the compressions of the message: for HOTP/TOTP (an 8-byte
//! counter) that is two calls, the least any HMAC can do with precomputed pads.
//! The compression functions are RustCrypto's (`sha1::block_api::compress`,
//! `sha2::block_api::compress256`/`compress512`), which use the CPU's SHA
//! extensions where present (x86 SHA-NI, ARMv8 SHA2).
//!
//! Why this and not a whole HMAC implementation: measured with
//! `cargo bench --bench otp` (BENCHMARKS.md; AMD EPYC with SHA-NI, 2 cores,
//! 2026-11-22), ns per HMAC of an 8-byte message with the key prepared once:
//!
//! | hash    | ring `hmac::Key` | RustCrypto `hmac`, cloned | this module (whole TOTP code) |
//! |---------|------------------|---------------------------|-------------------------------|
//! | SHA-1   | 439              | 134                       | 117 (floor, 2 compressions: 104) |
//! | SHA-256 | 195              | 153                       | 125                           |
//! | SHA-512 | 580              | 596                       | 550                           |
//!
//! `hmac`'s clone-update-finalize costs ≈30 ns above the two compressions: its
//! generic block buffers, not its zeroization (without the `zeroize` feature it is
//! no faster). ring has no SHA-NI path for SHA-1 (3.3× slower) and is slower for
//! SHA-256. For SHA-512, where neither has hardware help, ring's HMAC alone (580)
//! takes longer than a whole code here (550), and ring's keys are not zeroized on
//! drop. So all three hashes use RustCrypto's compression functions here.
//!
//! Secrets: the two precomputed states are zeroized on drop. Per message, the
//! working states, the inner digest and the output buffer are wiped with volatile
//! writes before returning; the message bytes left in the block buffer are
//! overwritten when the outer block is built in it. These wipes cost ≈2 ns per
//! SHA-1 code, ≈6 ns for SHA-256 and ≈22 ns for SHA-512 (measured by removing them).

use sha1::Sha1;
use sha2::{Sha256, Sha512};
use zeroize::Zeroize;

use super::params::Algorithm;

/// Longest HMAC output used here (SHA-512).
pub(crate) const MAX_MAC_LEN: usize = 64;

/// A Merkle–Damgård compression function, as HMAC needs it.
trait BlockFunction {
    /// Chaining state (an array of words).
    type State: Copy + Zeroize;
    /// One input block (`[u8; BLOCK_LEN]`).
    type Block: Copy + AsRef<[u8]> + AsMut<[u8]>;
    /// Bytes per block.
    const BLOCK_LEN: usize;
    /// Bytes of the big-endian bit-length field closing the padding.
    const LENGTH_LEN: usize;
    /// Bytes of output.
    const OUT_LEN: usize;
    /// Initial chaining state.
    const IV: Self::State;
    /// An all-zero block.
    const ZERO_BLOCK: Self::Block;
    /// Compresses one block into `state`.
    fn compress(state: &mut Self::State, block: &Self::Block);
    /// Writes the state as the big-endian digest into `out[..OUT_LEN]`.
    fn write_digest(state: &Self::State, out: &mut [u8]);
    /// The hash of a key longer than a block (RFC 2104 §2), into `out[..OUT_LEN]`.
    fn hash_key(key: &[u8], out: &mut [u8]);
}

struct Sha1Fn;
struct Sha256Fn;
struct Sha512Fn;

fn write_be32(state: &[u32], out: &mut [u8]) {
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
}

fn write_be64(state: &[u64], out: &mut [u8]) {
    for (chunk, word) in out.chunks_exact_mut(8).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
}

fn hash_key_with<D: sha2::Digest>(key: &[u8], out: &mut [u8]) {
    let mut digest = D::digest(key);
    out[..digest.len()].copy_from_slice(&digest);
    digest.as_mut_slice().zeroize();
}

impl BlockFunction for Sha1Fn {
    type State = [u32; 5];
    type Block = [u8; 64];
    const BLOCK_LEN: usize = 64;
    const LENGTH_LEN: usize = 8;
    const OUT_LEN: usize = 20;
    const IV: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    const ZERO_BLOCK: [u8; 64] = [0; 64];
    #[inline(always)]
    fn compress(state: &mut [u32; 5], block: &[u8; 64]) {
        sha1::block_api::compress(state, core::slice::from_ref(block));
    }
    #[inline(always)]
    fn write_digest(state: &[u32; 5], out: &mut [u8]) {
        write_be32(state, &mut out[..Self::OUT_LEN]);
    }
    fn hash_key(key: &[u8], out: &mut [u8]) {
        hash_key_with::<Sha1>(key, out);
    }
}

impl BlockFunction for Sha256Fn {
    type State = [u32; 8];
    type Block = [u8; 64];
    const BLOCK_LEN: usize = 64;
    const LENGTH_LEN: usize = 8;
    const OUT_LEN: usize = 32;
    const IV: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    const ZERO_BLOCK: [u8; 64] = [0; 64];
    #[inline(always)]
    fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
        sha2::block_api::compress256(state, core::slice::from_ref(block));
    }
    #[inline(always)]
    fn write_digest(state: &[u32; 8], out: &mut [u8]) {
        write_be32(state, &mut out[..Self::OUT_LEN]);
    }
    fn hash_key(key: &[u8], out: &mut [u8]) {
        hash_key_with::<Sha256>(key, out);
    }
}

impl BlockFunction for Sha512Fn {
    type State = [u64; 8];
    type Block = [u8; 128];
    const BLOCK_LEN: usize = 128;
    const LENGTH_LEN: usize = 16;
    const OUT_LEN: usize = 64;
    const IV: [u64; 8] = [
        0x6a09e667f3bcc908,
        0xbb67ae8584caa73b,
        0x3c6ef372fe94f82b,
        0xa54ff53a5f1d36f1,
        0x510e527fade682d1,
        0x9b05688c2b3e6c1f,
        0x1f83d9abfb41bd6b,
        0x5be0cd19137e2179,
    ];
    const ZERO_BLOCK: [u8; 128] = [0; 128];
    #[inline(always)]
    fn compress(state: &mut [u64; 8], block: &[u8; 128]) {
        sha2::block_api::compress512(state, core::slice::from_ref(block));
    }
    #[inline(always)]
    fn write_digest(state: &[u64; 8], out: &mut [u8]) {
        write_be64(state, &mut out[..Self::OUT_LEN]);
    }
    fn hash_key(key: &[u8], out: &mut [u8]) {
        hash_key_with::<Sha512>(key, out);
    }
}

/// The chaining states after `key ⊕ ipad` and `key ⊕ opad`: all a code needs of
/// the key. Zeroized on drop.
struct Pads<F: BlockFunction> {
    inner: F::State,
    outer: F::State,
}

impl<F: BlockFunction> Clone for Pads<F> {
    fn clone(&self) -> Self {
        Self { inner: self.inner, outer: self.outer }
    }
}

impl<F: BlockFunction> Drop for Pads<F> {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

impl<F: BlockFunction> Pads<F> {
    fn new(key: &[u8]) -> Self {
        // RFC 2104: a key longer than a block is hashed first; then it is padded with zeros.
        let mut block = F::ZERO_BLOCK;
        if key.len() > F::BLOCK_LEN {
            F::hash_key(key, block.as_mut());
        } else {
            block.as_mut()[..key.len()].copy_from_slice(key);
        }
        let mut pad = |with: u8| {
            for b in block.as_mut() {
                *b ^= with;
            }
            let mut state = F::IV;
            F::compress(&mut state, &block);
            state
        };
        let inner = pad(0x36);
        // (key ⊕ 0x36) ⊕ (0x36 ⊕ 0x5c) = key ⊕ 0x5c
        let outer = pad(0x36 ^ 0x5c);
        block.as_mut().zeroize();
        Self { inner, outer }
    }

    /// HMAC over the concatenation of `parts` into `out[..OUT_LEN]`.
    #[inline(always)]
    fn sign_into(&self, parts: &[&[u8]], out: &mut [u8]) {
        let block_len = F::BLOCK_LEN;
        let length_at = block_len - F::LENGTH_LEN;

        // Inner hash: H((key ⊕ ipad) ‖ message), resumed from the precomputed state.
        let mut state = self.inner;
        let mut block = F::ZERO_BLOCK;
        let mut pos = 0;
        // The ipad block counts towards the length.
        let mut total = block_len as u128;
        for part in parts {
            let mut data = *part;
            total += data.len() as u128;
            while !data.is_empty() {
                let take = (block_len - pos).min(data.len());
                block.as_mut()[pos..pos + take].copy_from_slice(&data[..take]);
                pos += take;
                data = &data[take..];
                if pos == block_len {
                    F::compress(&mut state, &block);
                    pos = 0;
                }
            }
        }
        // Padding: 0x80, zeros, then the length in bits. Bytes from `pos` on may still
        // hold an earlier block's message bytes; the padding overwrites them all.
        block.as_mut()[pos] = 0x80;
        if pos + 1 > length_at {
            block.as_mut()[pos + 1..].fill(0);
            F::compress(&mut state, &block);
            block = F::ZERO_BLOCK;
        } else {
            block.as_mut()[pos + 1..length_at].fill(0);
        }
        block.as_mut()[length_at..]
            .copy_from_slice(&(total * 8).to_be_bytes()[16 - F::LENGTH_LEN..]);
        F::compress(&mut state, &block);

        // Outer hash: H((key ⊕ opad) ‖ inner digest), one block for these hashes. Its
        // block is built in the same buffer and rewrites every byte of it (digest,
        // 0x80, zeros, length), so the message bytes left from the inner hash (at most
        // `pos < length_at` of them) are gone; the digest is wiped after use.
        F::write_digest(&state, block.as_mut());
        state.zeroize();
        block.as_mut()[F::OUT_LEN] = 0x80;
        block.as_mut()[F::OUT_LEN + 1..length_at].fill(0);
        block.as_mut()[length_at..].copy_from_slice(
            &(((block_len + F::OUT_LEN) as u128) * 8).to_be_bytes()[16 - F::LENGTH_LEN..],
        );
        let mut state = self.outer;
        F::compress(&mut state, &block);
        block.as_mut()[..F::OUT_LEN].zeroize();
        F::write_digest(&state, out);
        state.zeroize();
    }
}

impl<F: BlockFunction> Pads<F> {
    /// One PBKDF2 block (RFC 8018 §5.2): `T_index = U_1 ⊕ … ⊕ U_c`, with `U_1 =
    /// HMAC(P, salt ‖ INT(index))` and `U_j = HMAC(P, U_{j-1})`, into `out[..OUT_LEN]`.
    /// From `U_2` on every message is one digest, so each HMAC is exactly two compressions
    /// resumed from the precomputed states, over one block whose padding never changes.
    fn pbkdf2_block(&self, salt: &[u8], index: u32, iterations: u32, out: &mut [u8]) {
        let n = F::OUT_LEN;
        let length_at = F::BLOCK_LEN - F::LENGTH_LEN;
        let mut u = [0u8; MAX_MAC_LEN];
        self.sign_into(&[salt, &index.to_be_bytes()], &mut u);
        let mut t = u;
        // The block of every later HMAC, inner and outer alike: a digest after a 64- (or
        // 128-) byte pad block, then 0x80, zeros and the length in bits.
        let mut block = F::ZERO_BLOCK;
        block.as_mut()[..n].copy_from_slice(&u[..n]);
        block.as_mut()[n] = 0x80;
        block.as_mut()[length_at..].copy_from_slice(
            &(((F::BLOCK_LEN + n) as u128) * 8).to_be_bytes()[16 - F::LENGTH_LEN..],
        );
        for _ in 1..iterations {
            let mut state = self.inner;
            F::compress(&mut state, &block);
            F::write_digest(&state, block.as_mut());
            state = self.outer;
            F::compress(&mut state, &block);
            F::write_digest(&state, block.as_mut());
            state.zeroize();
            for (t, u) in t[..n].iter_mut().zip(&block.as_mut()[..n]) {
                *t ^= u;
            }
        }
        out.copy_from_slice(&t[..out.len()]);
        u.zeroize();
        t.zeroize();
        block.as_mut()[..n].zeroize();
    }
}

/// PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) of `password` and `salt` with `iterations` into
/// `out` (any length): the HMAC pads computed once, then two SHA-256 compressions per
/// iteration (the floor; the CPU's SHA extensions when it has them). Every intermediate
/// value is wiped.
///
/// ```
/// use std::num::NonZeroU32;
/// // RFC 7914 §11, the first PBKDF2-HMAC-SHA256 vector.
/// let mut out = [0u8; 64];
/// digital_otp::otp::pbkdf2_hmac_sha256(b"passwd", b"salt", NonZeroU32::new(1).unwrap(), &mut out);
/// assert_eq!(out[..8], [0x55, 0xac, 0x04, 0x6e, 0x56, 0xe3, 0x08, 0x9f]);
/// ```
pub fn pbkdf2_hmac_sha256(
    password: &[u8],
    salt: &[u8],
    iterations: core::num::NonZeroU32,
    out: &mut [u8],
) {
    let pads = Pads::<Sha256Fn>::new(password);
    for (i, chunk) in out.chunks_mut(Sha256Fn::OUT_LEN).enumerate() {
        // RFC 8018 limits the output to (2^32 - 1) blocks; a slice cannot reach that.
        let index = u32::try_from(i + 1).unwrap_or(u32::MAX);
        pads.pbkdf2_block(salt, index, iterations.get(), chunk);
    }
}

/// An HMAC keyed once; cheap to evaluate many times from `&self`.
/// The precomputed states are zeroized on drop.
#[derive(Clone)]
pub(crate) struct KeyedMac(Keyed);

#[derive(Clone)]
enum Keyed {
    Sha1(Pads<Sha1Fn>),
    Sha256(Pads<Sha256Fn>),
    Sha512(Pads<Sha512Fn>),
}

impl KeyedMac {
    pub(crate) fn new(algorithm: Algorithm, key: &[u8]) -> Self {
        Self(match algorithm {
            Algorithm::Sha1 => Keyed::Sha1(Pads::new(key)),
            Algorithm::Sha256 => Keyed::Sha256(Pads::new(key)),
            Algorithm::Sha512 => Keyed::Sha512(Pads::new(key)),
        })
    }

    /// HMAC over the concatenation of `parts`, then RFC 4226 §5.3 dynamic truncation
    /// to a 31-bit value.
    pub(crate) fn truncated(&self, parts: &[&[u8]]) -> u32 {
        let mut out = [0u8; MAX_MAC_LEN];
        let len = self.sign_into(parts, &mut out);
        let value = dynamic_truncation(&out[..len]);
        out[..len].zeroize();
        value
    }

    /// The full HMAC into `out`; returns its length.
    #[inline(always)]
    fn sign_into(&self, parts: &[&[u8]], out: &mut [u8; MAX_MAC_LEN]) -> usize {
        match &self.0 {
            Keyed::Sha1(p) => {
                p.sign_into(parts, out);
                Sha1Fn::OUT_LEN
            }
            Keyed::Sha256(p) => {
                p.sign_into(parts, out);
                Sha256Fn::OUT_LEN
            }
            Keyed::Sha512(p) => {
                p.sign_into(parts, out);
                Sha512Fn::OUT_LEN
            }
        }
    }
}

/// RFC 4226 §5.3: the low nibble of the last byte picks 4 bytes; the top bit is masked.
pub(crate) fn dynamic_truncation(mac: &[u8]) -> u32 {
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    u32::from_be_bytes([mac[offset] & 0x7f, mac[offset + 1], mac[offset + 2], mac[offset + 3]])
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

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::digest::KeyInit;
    use hmac::{Hmac, Mac};

    fn ours(algorithm: Algorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let mut out = [0u8; MAX_MAC_LEN];
        let n = KeyedMac::new(algorithm, key).sign_into(parts, &mut out);
        out[..n].to_vec()
    }

    fn reference(algorithm: Algorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
        fn run<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
            let mut m = <M as KeyInit>::new_from_slice(key).unwrap();
            m.update(message);
            m.finalize().into_bytes().to_vec()
        }
        match algorithm {
            Algorithm::Sha1 => run::<Hmac<Sha1>>(key, message),
            Algorithm::Sha256 => run::<Hmac<Sha256>>(key, message),
            Algorithm::Sha512 => run::<Hmac<Sha512>>(key, message),
        }
    }

    fn bytes(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
    }

    /// RFC 2202 §3 and RFC 4231 §4.2, test case 1.
    #[test]
    fn pbkdf2_matches_rfc_7914_and_ring() {
        use core::num::NonZeroU32;
        let n = |c| NonZeroU32::new(c).unwrap();
        // RFC 7914 §11 (PBKDF2-HMAC-SHA256, dkLen 64).
        let mut out = [0u8; 64];
        pbkdf2_hmac_sha256(b"passwd", b"salt", n(1), &mut out);
        assert_eq!(
            crate::crypto::hex(&out),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc\
             49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        );
        pbkdf2_hmac_sha256(b"Password", b"NaCl", n(80000), &mut out);
        assert_eq!(
            crate::crypto::hex(&out),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56\
             a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
        );
        // Against ring for keys of every length around the block size, salts, counts and
        // output lengths that are and are not whole blocks.
        for (key_len, salt_len, c, out_len) in [
            (0, 0, 1, 32),
            (1, 16, 2, 32),
            (63, 8, 3, 20),
            (64, 32, 7, 33),
            (65, 1, 100, 64),
            (200, 100, 1000, 96),
        ] {
            let (key, salt) = (bytes(key_len, 3), bytes(salt_len, 5));
            let (mut ours, mut theirs) = (vec![0u8; out_len], vec![0u8; out_len]);
            pbkdf2_hmac_sha256(&key, &salt, n(c), &mut ours);
            ring::pbkdf2::derive(ring::pbkdf2::PBKDF2_HMAC_SHA256, n(c), &salt, &key, &mut theirs);
            assert_eq!(
                ours, theirs,
                "key {key_len}, salt {salt_len}, {c} iterations, {out_len} bytes"
            );
        }
    }

    #[test]
    fn rfc_vectors() {
        let key = [0x0b; 20];
        let hex = |v: Vec<u8>| v.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(ours(Algorithm::Sha1, &key, &[b"Hi There"])),
            "b617318655057264e28bc0b6fb378c8ef146be00"
        );
        assert_eq!(
            hex(ours(Algorithm::Sha256, &key, &[b"Hi ", b"There"])),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(ours(Algorithm::Sha512, &key, &[b"Hi", b"", b" There"])),
            "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde\
             daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"
        );
    }

    /// Every padding case (message tail just below, at and past the length field,
    /// one and several blocks), keys shorter than, equal to and longer than a block,
    /// and messages split into parts at every kind of boundary.
    #[test]
    fn matches_the_hmac_crate() {
        for algorithm in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
            for key_len in [0, 1, 20, 63, 64, 65, 127, 128, 129, 300] {
                let key = bytes(key_len, 7);
                let mac = KeyedMac::new(algorithm, &key);
                for msg_len in (0..=300).chain([511, 512, 513, 1000]) {
                    let message = bytes(msg_len, 3);
                    let expected = reference(algorithm, &key, &message);
                    let mut out = [0u8; MAX_MAC_LEN];
                    let n = mac.sign_into(&[&message], &mut out);
                    assert_eq!(out[..n], expected[..], "{algorithm} key {key_len} msg {msg_len}");
                    for split in [1, 7, 55, 64, 100] {
                        let parts: Vec<&[u8]> = message.chunks(split).chain([&[][..]]).collect();
                        let n = mac.sign_into(&parts, &mut out);
                        assert_eq!(
                            out[..n],
                            expected[..],
                            "{algorithm} key {key_len} msg {msg_len} split {split}"
                        );
                    }
                    assert_eq!(
                        mac.truncated(&[&message]),
                        dynamic_truncation(&expected),
                        "{algorithm} key {key_len} msg {msg_len}"
                    );
                }
            }
        }
    }
}
