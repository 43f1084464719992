#![no_main]
//! Fuzz target `response`: see `digital_otp_fuzz::response`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| digital_otp_fuzz::response(data));
