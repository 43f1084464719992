#![no_main]
//! Fuzz target `request`: see `digital_otp_fuzz::request`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| digital_otp_fuzz::request(data));
