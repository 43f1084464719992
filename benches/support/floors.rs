//! The floors the benchmarks compare against (used by `otp` and `instructions`): the least
//! work a code or a KDF iteration takes, written with the bare compression functions.

use std::hint::black_box;

/// The floor: HMAC-SHA1 over an 8-byte counter with the inner and outer states
/// precomputed is exactly two compressions — the padded counter block from the
/// inner state, then the padded inner digest from the outer state.
pub struct Sha1Floor {
    inner: [u32; 5],
    outer: [u32; 5],
}

impl Sha1Floor {
    pub fn new(key: &[u8]) -> Self {
        assert!(key.len() <= 64);
        let state = |pad: u8| {
            let mut block = [pad; 64];
            for (b, k) in block.iter_mut().zip(key) {
                *b ^= k;
            }
            let mut h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
            sha1::block_api::compress(&mut h, &[block]);
            h
        };
        Self { inner: state(0x36), outer: state(0x5c) }
    }

    pub fn mac(&self, counter: u64) -> [u32; 5] {
        // Inner: 8 message bytes, 0x80, zeros, bit length of (64 + 8) bytes.
        let mut block = [0u8; 64];
        block[..8].copy_from_slice(&counter.to_be_bytes());
        block[8] = 0x80;
        block[56..].copy_from_slice(&((64u64 + 8) * 8).to_be_bytes());
        let mut h = self.inner;
        sha1::block_api::compress(&mut h, &[block]);
        // Outer: the 20-byte inner digest, 0x80, zeros, bit length of (64 + 20) bytes.
        let mut block = [0u8; 64];
        for (chunk, word) in block.chunks_exact_mut(4).zip(h) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        block[20] = 0x80;
        block[56..].copy_from_slice(&((64u64 + 20) * 8).to_be_bytes());
        let mut h = self.outer;
        sha1::block_api::compress(&mut h, &[block]);
        h
    }
}

/// The floor of PBKDF2-HMAC-SHA256: two SHA-256 compressions per iteration (inner, then
/// outer, each over one block holding the previous digest and fixed padding), the digest
/// written back as bytes each time, as the real loop must.
pub fn pbkdf2_sha256(iterations: u32) -> [u8; 64] {
    let mut block = [0u8; 64];
    block[32] = 0x80;
    block[62] = 0x03; // (64 + 32) * 8 bits
    let (inner, outer) = ([1u32; 8], [2u32; 8]);
    for _ in 0..iterations {
        for state in [inner, outer] {
            let mut h = black_box(state);
            sha2::block_api::compress256(&mut h, core::slice::from_ref(&block));
            for (out, w) in block.chunks_exact_mut(4).zip(h) {
                out.copy_from_slice(&w.to_be_bytes());
            }
        }
    }
    block
}
