#![no_main]
//! Fuzz target `ocra`: see `digital_otp_fuzz::ocra`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| digital_otp_fuzz::ocra(data));
