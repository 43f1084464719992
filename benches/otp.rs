//! OTP throughput, one command: `cargo bench --bench otp`. Results: BENCHMARKS.md.
//!
//! Groups (all figures are time per code or per MAC):
//! - `sha1_code`: one 6-digit TOTP SHA-1 code, side by side: the floor (two
//!   calls of the SHA-1 compression function, the least work an HMAC-SHA1 code
//!   takes once the pads are precomputed), this crate, and `totp-rs`.
//! - `totp_generate`: this crate's `Totp::generate_at` for each hash.
//! - `totp_verify`: `Totp::verify` with a ±1 step window (three codes, constant time).
//! - `hmac_sha1`, `hmac_sha256`, `hmac_sha512`: one HMAC of an 8-byte message with a
//!   key prepared once, by implementation: ring (`hmac::Key`) and RustCrypto `hmac`
//!   (keyed once, cloned per message). The crate's own HMAC (`src/otp/mac.rs`:
//!   RustCrypto's compression functions over precomputed pads) is internal; its
//!   cost is `totp_generate`, which includes it.
//!
//! Every benchmark moves the time (or the message) on at each iteration so no
//! result can be reused, and passes inputs and outputs through `black_box`
//! (`std::hint::black_box`: criterion 0.8 deprecates its own re-export of it).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use digital_otp::otp::{Algorithm, Secret, Totp, Window};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};

#[path = "support/floors.rs"]
mod floors;
use floors::Sha1Floor;

/// RFC 6238 test secrets (20, 32 and 64 bytes).
const KEY_SHA1: &[u8] = b"12345678901234567890";
const KEY_SHA256: &[u8] = b"12345678901234567890123456789012";
const KEY_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";
/// A Unix time in 2026; each iteration moves one 30-second step on.
const START: u64 = 1_795_000_000;
const PERIOD: u64 = 30;

fn key_for(algorithm: Algorithm) -> &'static [u8] {
    match algorithm {
        Algorithm::Sha1 => KEY_SHA1,
        Algorithm::Sha256 => KEY_SHA256,
        Algorithm::Sha512 => KEY_SHA512,
    }
}

fn our_totp(algorithm: Algorithm) -> Totp {
    let secret = Secret::from_bytes(key_for(algorithm)).expect("test secret");
    Totp::new(&secret, algorithm, 6, PERIOD, 0).expect("valid parameters")
}

fn sha1_code(c: &mut Criterion) {
    let mut g = c.benchmark_group("sha1_code");

    let floor = Sha1Floor::new(KEY_SHA1);
    // The floor really is HMAC-SHA1: check it against the reference implementation.
    let mut reference = Hmac::<sha1::Sha1>::new_from_slice(KEY_SHA1).unwrap();
    reference.update(&7u64.to_be_bytes());
    let words = floor.mac(7);
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
    assert_eq!(bytes[..], reference.finalize().into_bytes()[..]);

    let mut counter = START / PERIOD;
    g.bench_function("floor_2x_compress", |b| {
        b.iter(|| {
            counter = counter.wrapping_add(1);
            floor.mac(black_box(counter))
        })
    });

    let ours = our_totp(Algorithm::Sha1);
    let mut t = START;
    g.bench_function("digital-otp", |b| {
        b.iter(|| {
            t = t.wrapping_add(PERIOD);
            ours.generate_at(black_box(t))
        })
    });

    let theirs = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(PERIOD)
        .with_secret(KEY_SHA1.to_vec())
        .build()
        .expect("valid totp-rs parameters");
    // Same code from both crates.
    assert_eq!(theirs.generate(START).to_string(), ours.generate_at(START).unwrap().to_string());
    let mut t = START;
    g.bench_function("totp-rs", |b| {
        b.iter(|| {
            t = t.wrapping_add(PERIOD);
            theirs.generate(black_box(t))
        })
    });
    g.finish();
}

fn totp_generate(c: &mut Criterion) {
    let mut g = c.benchmark_group("totp_generate");
    for algorithm in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
        let totp = our_totp(algorithm);
        let mut t = START;
        g.bench_function(algorithm.name(), |b| {
            b.iter(|| {
                t = t.wrapping_add(PERIOD);
                totp.generate_at(black_box(t))
            })
        });
    }
    g.finish();
}

fn totp_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("totp_verify");
    let totp = our_totp(Algorithm::Sha1);
    let window = Window::new(1, 1).unwrap();
    // Codes for successive steps, cycled through; each is checked at a time one step
    // later, so it matches the "behind" candidate. Verification computes and compares
    // all three candidates whatever matches, so the cost does not depend on the input.
    let inputs: Vec<(u64, String)> = (0..1024u64)
        .map(|i| {
            let t = START + i * PERIOD;
            (t + PERIOD, totp.generate_at(t).unwrap().to_string())
        })
        .collect();
    assert!(inputs.iter().all(|(t, code)| totp.verify(code, *t, window).unwrap().is_some()));
    let mut i = 0usize;
    g.bench_function("SHA1_window_1_1", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            let (t, code) = &inputs[i];
            totp.verify(black_box(code), black_box(*t), window)
        })
    });
    g.finish();
}

fn hmac_by_implementation(c: &mut Criterion) {
    macro_rules! pair {
        ($group:literal, $ring_alg:expr, $rc:ty, $key:expr) => {{
            let mut g = c.benchmark_group($group);
            let ring_key = ring::hmac::Key::new($ring_alg, $key);
            let rc_key = <Hmac<$rc>>::new_from_slice($key).unwrap();
            {
                let mut m = rc_key.clone();
                m.update(&1u64.to_be_bytes());
                assert_eq!(
                    ring::hmac::sign(&ring_key, &1u64.to_be_bytes()).as_ref(),
                    &m.finalize().into_bytes()[..]
                );
            }
            let mut n = START / PERIOD;
            g.bench_function("ring", |b| {
                b.iter(|| {
                    n = n.wrapping_add(1);
                    ring::hmac::sign(&ring_key, &black_box(n).to_be_bytes())
                })
            });
            let mut n = START / PERIOD;
            g.bench_function("rustcrypto_hmac", |b| {
                b.iter(|| {
                    n = n.wrapping_add(1);
                    let mut m = rc_key.clone();
                    m.update(&black_box(n).to_be_bytes());
                    m.finalize().into_bytes()
                })
            });
            g.finish();
        }};
    }
    pair!("hmac_sha1", ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, sha1::Sha1, KEY_SHA1);
    pair!("hmac_sha256", ring::hmac::HMAC_SHA256, sha2::Sha256, KEY_SHA256);
    pair!("hmac_sha512", ring::hmac::HMAC_SHA512, sha2::Sha512, KEY_SHA512);
}

fn config() -> Criterion {
    // Short runs: the whole command stays well under two minutes on two cores.
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
        .without_plots()
}

/// The password KDF (PBKDF2-HMAC-SHA256, as the app stretches its password) against ring's
/// and against the floor: two SHA-256 compressions per iteration.
fn pbkdf2(c: &mut Criterion) {
    const ITERATIONS: u32 = 10_000;
    let n = std::num::NonZeroU32::new(ITERATIONS).unwrap();
    let (password, salt) = ([7u8; 32], [9u8; 16]);
    let mut g = c.benchmark_group("pbkdf2_sha256_10000");
    g.bench_function("floor_2x_compress", |b| b.iter(|| floors::pbkdf2_sha256(ITERATIONS)));
    let (mut ours, mut theirs) = ([0u8; 32], [0u8; 32]);
    digital_otp::otp::pbkdf2_hmac_sha256(&password, &salt, n, &mut ours);
    ring::pbkdf2::derive(ring::pbkdf2::PBKDF2_HMAC_SHA256, n, &salt, &password, &mut theirs);
    assert_eq!(ours, theirs, "the same key from both");
    g.bench_function("digital-otp", |b| {
        b.iter(|| {
            let mut out = [0u8; 32];
            digital_otp::otp::pbkdf2_hmac_sha256(black_box(&password), &salt, n, &mut out);
            out
        })
    });
    g.bench_function("ring", |b| {
        b.iter(|| {
            let mut out = [0u8; 32];
            ring::pbkdf2::derive(
                ring::pbkdf2::PBKDF2_HMAC_SHA256,
                n,
                &salt,
                black_box(&password),
                &mut out,
            );
            out
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = sha1_code, totp_generate, totp_verify, hmac_by_implementation, pbkdf2
}
criterion_main!(benches);
