//! RFC vectors copied from the shared set (RFC 4226 App. D, RFC 6238 App. B, RFC 6287 App. C).
#![allow(dead_code)]

use serde::Deserialize;

#[cfg(all(feature = "issuer", feature = "test-support"))]
pub mod bank;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "postgres")]
pub mod pg;

#[derive(Deserialize)]
pub struct File<T> {
    pub vectors: Vec<T>,
}

#[derive(Deserialize, Debug)]
pub struct HotpVector {
    pub algorithm: String,
    pub key_hex: String,
    pub counter: u64,
    pub digits: u8,
    pub code: String,
}

#[derive(Deserialize, Debug)]
pub struct TotpVector {
    pub algorithm: String,
    pub key_hex: String,
    pub time: u64,
    pub period: u64,
    pub t0: u64,
    pub digits: u8,
    pub code: String,
}

#[derive(Deserialize, Debug)]
pub struct OcraVector {
    pub suite: String,
    pub key_hex: String,
    pub question: String,
    pub counter: Option<u64>,
    pub pin: Option<String>,
    pub time_steps: Option<u64>,
    pub response: String,
}

fn load<T: for<'de> Deserialize<'de>>(name: &str) -> Vec<T> {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str::<File<T>>(&text).unwrap_or_else(|e| panic!("{path}: {e}")).vectors
}

pub fn hotp() -> Vec<HotpVector> {
    let v = load("hotp.json");
    assert_eq!(v.len(), 10, "RFC 4226 App. D has 10 vectors");
    v
}

pub fn totp() -> Vec<TotpVector> {
    let v = load("totp.json");
    assert_eq!(v.len(), 18, "RFC 6238 App. B has 18 vectors");
    v
}

pub fn ocra() -> Vec<OcraVector> {
    let v = load("ocra.json");
    assert_eq!(v.len(), 70, "RFC 6287 App. C has 70 vectors");
    v
}
