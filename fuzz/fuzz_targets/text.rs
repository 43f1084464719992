#![no_main]
//! Fuzz target `text`: see `digital_otp_fuzz::text`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| digital_otp_fuzz::text(data));
