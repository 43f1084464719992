#![no_main]
//! Fuzz target `stored`: see `digital_otp_fuzz::stored`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| digital_otp_fuzz::stored(data));
