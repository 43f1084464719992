#![no_main]
//! Fuzz target `issuer`: see `digital_otp_fuzz::issuer`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| digital_otp_fuzz::issuer(data));
