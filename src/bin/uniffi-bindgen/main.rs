//! The crate's own `uniffi-bindgen`, pinned to the same UniFFI version as the library.
//! Built only with `--features bindgen`. Use it in library mode:
//! `cargo run --features bindgen --bin uniffi-bindgen -- generate --library target/debug/libdigital_otp.so --language kotlin --out-dir out`

fn main() {
    uniffi::uniffi_bindgen_main()
}
