//! Instruction counts of the engine and the KDF against their floors, for callgrind
//! (`scripts/bench.sh` runs it): `instructions WORKLOAD COUNT` runs one workload COUNT
//! times (codes, or PBKDF2 iterations) and prints nothing; the script runs it twice with
//! different counts under `valgrind --tool=callgrind` and divides the difference, so
//! start-up and set-up cancel out. Instruction counts do not drift with the machine's load.
//! Without arguments (as `cargo test --all-targets` and `cargo bench` run it) it runs each
//! workload a few times and checks that they agree where they must.

use std::hint::black_box;

use digital_otp::otp::{pbkdf2_hmac_sha256, Algorithm, Secret, Totp};

#[path = "support/floors.rs"]
mod floors;

const KEY: &[u8] = b"12345678901234567890";
const START: u64 = 1_795_000_000;

/// The workloads, by name.
const WORKLOADS: &[&str] = &[
    "sha1_floor",
    "sha1_digital_otp",
    "sha1_totp_rs",
    "pbkdf2_floor",
    "pbkdf2_digital_otp",
    "pbkdf2_ring",
];

/// The same TOTP (SHA-1, 6 digits, 30 s) from this crate and from totp-rs.
fn engines() -> (Totp, totp_rs::Totp) {
    let ours = Totp::new(&Secret::from_bytes(KEY).unwrap(), Algorithm::Sha1, 6, 30, 0).unwrap();
    let theirs = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(KEY.to_vec())
        .build()
        .unwrap();
    (ours, theirs)
}

fn run(workload: &str, count: u32) {
    let (ours, theirs) = engines();
    let floor = floors::Sha1Floor::new(KEY);
    let iterations = std::num::NonZeroU32::new(count.max(1)).unwrap();
    let mut out = [0u8; 32];
    let steps = (0..u64::from(count)).map(|i| START + 30 * i);
    match workload {
        "sha1_floor" => steps.for_each(|t| {
            black_box(floor.mac(black_box(t / 30)));
        }),
        "sha1_digital_otp" => steps.for_each(|t| {
            black_box(ours.generate_at(black_box(t)).unwrap());
        }),
        "sha1_totp_rs" => steps.for_each(|t| {
            black_box(theirs.generate(black_box(t)));
        }),
        "pbkdf2_floor" => {
            black_box(floors::pbkdf2_sha256(count));
        }
        "pbkdf2_digital_otp" => {
            pbkdf2_hmac_sha256(black_box(&[7; 32]), &[9; 16], iterations, &mut out)
        }
        "pbkdf2_ring" => ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            &[9; 16],
            black_box(&[7; 32]),
            &mut out,
        ),
        other => {
            eprintln!("instructions: unknown workload {other:?}; one of {WORKLOADS:?}");
            std::process::exit(2);
        }
    }
    black_box(out);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    match args.as_slice() {
        [workload, count] => match count.parse() {
            Ok(count) => run(workload, count),
            Err(_) => {
                eprintln!("instructions: COUNT must be a number");
                std::process::exit(2);
            }
        },
        _ => {
            // The smoke run: every workload, and the two codes the same.
            for w in WORKLOADS {
                run(w, 3);
            }
            let (ours, theirs) = engines();
            assert_eq!(
                ours.generate_at(START).unwrap().to_string(),
                theirs.generate(START).to_string()
            );
        }
    }
}
