//! Every RFC 4226, RFC 6238 and RFC 6287 appendix vector, through the engine and
//! through the FFI layer the bindings call.

mod common;

use std::sync::Arc;

use digital_otp::ffi;
use digital_otp::otp::ocra::{Ocra, OcraInput, Pin};
use digital_otp::otp::{Hotp, Secret, Totp, Window};

#[test]
fn hotp_rfc4226_appendix_d() {
    for v in common::hotp() {
        let secret = Secret::from_hex(&v.key_hex).unwrap();
        let hotp = Hotp::new(&secret, v.algorithm.parse().unwrap(), v.digits).unwrap();
        assert_eq!(hotp.generate(v.counter).to_string(), v.code, "{v:?}");
        assert_eq!(hotp.verify(&v.code, v.counter, Window::EXACT).unwrap(), Some(v.counter));

        let ffi = ffi::Hotp::new(
            ffi::OtpSecret::from_hex(v.key_hex.clone()).unwrap(),
            ffi::hash_algorithm_from_name(v.algorithm.clone()).unwrap(),
            v.digits,
        )
        .unwrap();
        assert_eq!(ffi.generate(v.counter), v.code);
    }
}

#[test]
fn totp_rfc6238_appendix_b() {
    for v in common::totp() {
        let secret = Secret::from_hex(&v.key_hex).unwrap();
        let totp =
            Totp::new(&secret, v.algorithm.parse().unwrap(), v.digits, v.period, v.t0).unwrap();
        assert_eq!(totp.generate_at(v.time).unwrap().to_string(), v.code, "{v:?}");
        let step = totp.step_at(v.time).unwrap();
        assert_eq!(totp.verify(&v.code, v.time, Window::new(1, 1).unwrap()).unwrap(), Some(step));

        let ffi = ffi::Totp::new(
            ffi::OtpSecret::from_hex(v.key_hex.clone()).unwrap(),
            ffi::hash_algorithm_from_name(v.algorithm.clone()).unwrap(),
            v.digits,
            v.period,
            v.t0,
        )
        .unwrap();
        let code = ffi.code_at(v.time).unwrap();
        assert_eq!(code.code, v.code);
        assert_eq!(code.step, step);
        assert!(code.valid_from <= v.time && v.time < code.valid_until);
        assert_eq!(code.valid_until - v.time, code.seconds_remaining);
    }
}

#[test]
fn ocra_rfc6287_appendix_c() {
    for v in common::ocra() {
        let secret = Secret::from_hex(&v.key_hex).unwrap();
        let ocra = Ocra::new(v.suite.parse().unwrap(), &secret);
        let input = OcraInput {
            counter: v.counter,
            question: &v.question,
            pin: v.pin.as_deref().map(Pin::Plain),
            session: None,
            time_steps: v.time_steps,
        };
        assert_eq!(ocra.generate(&input).unwrap().to_string(), v.response, "{v:?}");

        let ffi =
            ffi::Ocra::new(v.suite.clone(), ffi::OtpSecret::from_hex(v.key_hex.clone()).unwrap())
                .unwrap();
        let input = ffi::OcraInput {
            question: v.question.clone(),
            counter: v.counter,
            session: None,
            time_steps: v.time_steps,
        };
        let pin = v.pin.clone().map(ffi::OcraPin::plain);
        assert_eq!(ffi.generate(input.clone(), pin.clone()).unwrap(), v.response);
        let matched = ffi.verify(v.response.clone(), input, 1, 1, pin).unwrap();
        assert_eq!(matched, Some(v.time_steps.or(v.counter).unwrap_or(0)));
    }
}

#[test]
fn otpauth_uri_drives_the_same_codes() {
    // RFC 6238's SHA1 seed, in base32.
    let uri = ffi::OtpAuthUri::parse(
        "otpauth://totp/Bank:kim?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8&issuer=Bank"
            .into(),
    )
    .unwrap();
    assert_eq!(uri.totp().unwrap().code_at(59).unwrap().code, "94287082");
    assert!(uri.hotp().is_err());
    let same: Arc<ffi::OtpSecret> =
        ffi::OtpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
    assert!(*uri.secret() == *same);
}
