//! Bad input through the public (FFI) surface: typed errors, no panics, and no
//! secret or code in any message.

use digital_otp::ffi::OtpError;
use digital_otp::ffi::{self, HashAlgorithm, OcraInput, OtpSecret};

const SECRET_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn secret() -> std::sync::Arc<OtpSecret> {
    OtpSecret::from_base32(SECRET_B32.into()).unwrap()
}

fn assert_clean(e: &OtpError) {
    let msg = e.to_string();
    assert!(!msg.contains(SECRET_B32) && !msg.contains("GEZDGNBV"), "{msg}");
    assert!(!msg.contains("3132333435"), "{msg}");
}

#[test]
fn secrets() {
    for bad in ["", "GEZDGNBVGY3TQ", "GEZDGNBVGY3TQOJ1", "GEZDGNBVGY3TQOJQ!", "GEZDGNBVGY3TQOJQG"] {
        let e = OtpSecret::from_base32(bad.into()).unwrap_err();
        assert!(matches!(e, OtpError::InvalidSecret { .. }), "{bad}: {e:?}");
        assert_clean(&e);
    }
    for bad in ["", "313233343536373839", "31323334353637383930g", "313"] {
        assert!(
            matches!(OtpSecret::from_hex(bad.into()).unwrap_err(), OtpError::InvalidSecret { .. }),
            "{bad}"
        );
    }
    assert!(matches!(
        OtpSecret::from_bytes(vec![0; 9]).unwrap_err(),
        OtpError::InvalidSecret { .. }
    ));
    assert!(matches!(
        OtpSecret::from_bytes(vec![0; 5000]).unwrap_err(),
        OtpError::InvalidSecret { .. }
    ));
    assert!(matches!(
        OtpSecret::generate_with_length(19).unwrap_err(),
        OtpError::InvalidSecret { .. }
    ));
    assert!(matches!(
        OtpSecret::generate_with_length(u32::MAX).unwrap_err(),
        OtpError::InvalidSecret { .. }
    ));
    assert_eq!(OtpSecret::generate().unwrap().byte_length(), 20);
    assert_eq!(secret().to_string(), "<redacted secret>");
}

#[test]
fn parameters() {
    let s = secret();
    for d in [0u8, 5, 11, 255] {
        assert!(matches!(
            ffi::Totp::new(s.clone(), HashAlgorithm::Sha1, d, 30, 0).unwrap_err(),
            OtpError::InvalidParameter { .. }
        ));
        assert!(matches!(
            ffi::Hotp::new(s.clone(), HashAlgorithm::Sha1, d).unwrap_err(),
            OtpError::InvalidParameter { .. }
        ));
    }
    for p in [0u64, 3601, u64::MAX] {
        assert!(matches!(
            ffi::Totp::new(s.clone(), HashAlgorithm::Sha1, 6, p, 0).unwrap_err(),
            OtpError::InvalidParameter { .. }
        ));
    }
    let t = ffi::Totp::new(s.clone(), HashAlgorithm::Sha1, 6, 30, 1000).unwrap();
    assert!(matches!(t.code_at(999).unwrap_err(), OtpError::InvalidParameter { .. }));
    assert!(matches!(
        t.verify("123456".into(), 2000, 101, 0).unwrap_err(),
        OtpError::InvalidParameter { .. }
    ));
    assert!(matches!(
        t.verify("123456".into(), 2000, 0, u32::MAX).unwrap_err(),
        OtpError::InvalidParameter { .. }
    ));
    let one = ffi::Totp::new(s.clone(), HashAlgorithm::Sha1, 6, 1, 0).unwrap();
    assert!(matches!(one.code_at(u64::MAX).unwrap_err(), OtpError::InvalidParameter { .. }));
    assert!(matches!(
        ffi::hash_algorithm_from_name("md5".into()).unwrap_err(),
        OtpError::InvalidParameter { .. }
    ));
}

#[test]
fn malformed_codes() {
    let h = ffi::Hotp::new(secret(), HashAlgorithm::Sha1, 6).unwrap();
    let code = h.generate(0);
    for bad in ["", "12345", "1234567", "12345a", "+12345", "-12345", " 12345", "１２３４５６"]
    {
        let e = h.verify(bad.into(), 0, 1, 1).unwrap_err();
        assert!(matches!(e, OtpError::MalformedCode { .. }), "{bad}: {e:?}");
    }
    assert_eq!(h.verify(code, 0, 0, 0).unwrap(), Some(0));
}

#[test]
fn ocra_suites_and_inputs() {
    for bad in [
        "",
        "OCRA-1",
        "OCRA-2:HOTP-SHA1-6:QN08",
        "OCRA-1:HOTP-SHA3-6:QN08",
        "OCRA-1:HOTP-SHA1-3:QN08",
        "OCRA-1:HOTP-SHA1-6:QZ08",
        "OCRA-1:HOTP-SHA1-6:QN99",
        "OCRA-1:HOTP-SHA1-6:QN08-PSHA3",
        "OCRA-1:HOTP-SHA1-6:QN08-S1000",
        "OCRA-1:HOTP-SHA1-6:QN08-T61S",
        "OCRA-1:HOTP-SHA1-6:QN08-X",
    ] {
        assert!(
            matches!(
                ffi::parse_ocra_suite(bad.into()).unwrap_err(),
                OtpError::InvalidOcraSuite { .. }
            ),
            "{bad}"
        );
        assert!(
            matches!(
                ffi::Ocra::new(bad.into(), secret()).unwrap_err(),
                OtpError::InvalidOcraSuite { .. }
            ),
            "{bad}"
        );
    }
    let info =
        ffi::parse_ocra_suite("OCRA-1:HOTP-SHA512-8:C-QN08-PSHA256-S128-T30S".into()).unwrap();
    assert_eq!(info.digits, 8);
    assert_eq!(info.pin_hash, Some(HashAlgorithm::Sha256));
    assert_eq!(info.session_length, Some(128));
    assert_eq!(info.time_step_seconds, Some(30));

    let o = ffi::Ocra::new("OCRA-1:HOTP-SHA1-6:C-QN08-PSHA1-T1M".into(), secret()).unwrap();
    let good = OcraInput {
        question: "12345678".into(),
        counter: Some(1),
        session: None,
        time_steps: Some(10),
    };
    let pin = Some(ffi::OcraPin::plain("1234".into()));
    assert!(o.generate(good.clone(), pin.clone()).is_ok());
    assert_eq!(ffi::OcraPin::plain("1234".into()).to_string(), "<redacted PIN>");
    let cases = [
        (OcraInput { counter: None, ..good.clone() }, pin.clone()),
        (good.clone(), None),
        (good.clone(), Some(ffi::OcraPin::hashed(vec![0; 5]))),
        (OcraInput { time_steps: None, ..good.clone() }, pin.clone()),
        (OcraInput { session: Some(vec![1]), ..good.clone() }, pin.clone()),
        (OcraInput { question: "".into(), ..good.clone() }, pin.clone()),
        (OcraInput { question: "12ab".into(), ..good.clone() }, pin.clone()),
        (OcraInput { question: "9".repeat(1000), ..good.clone() }, pin.clone()),
    ];
    for (input, pin) in cases {
        let e = o.generate(input.clone(), pin).unwrap_err();
        assert!(matches!(e, OtpError::InvalidOcraInput { .. }), "{input:?}: {e:?}");
        assert!(!e.to_string().contains("1234"), "{e}");
    }
    // A PIN hash of the right length is a valid input (just not the right PIN).
    assert!(o.generate(good.clone(), Some(ffi::OcraPin::hashed(vec![0; 20]))).is_ok());
    assert!(matches!(
        o.verify("1".into(), good, 0, 0, pin).unwrap_err(),
        OtpError::MalformedCode { .. }
    ));
}

#[test]
fn otpauth_uris() {
    let s = SECRET_B32;
    for bad in [
        String::new(),
        "otpauth://".into(),
        format!("https://totp/a?secret={s}"),
        format!("otpauth://xotp/a?secret={s}"),
        "otpauth://totp/a".into(),
        format!("otpauth://totp/?secret={s}"),
        format!("otpauth://hotp/a?secret={s}"),
        format!("otpauth://totp/a%2?secret={s}"),
        format!("otpauth://totp/a?secret={s}&digits=5"),
        format!("otpauth://totp/a?secret={s}&period=0"),
        format!("otpauth://totp/a?secret={s}&algorithm=SHA3"),
        format!("otpauth://totp/a?secret={s}&secret={s}"),
        format!("otpauth://totp/a?secret={s}1"),
        format!("otpauth://totp/a?secret={s}&x={}", "y".repeat(5000)),
    ] {
        let e = ffi::OtpAuthUri::parse(bad.clone()).unwrap_err();
        assert!(matches!(e, OtpError::InvalidUri { .. }), "{bad}: {e:?}");
        assert_clean(&e);
    }
    let u = ffi::OtpAuthUri::new_totp(
        Some("한국은행".into()),
        "홍길동".into(),
        secret(),
        HashAlgorithm::Sha256,
        8,
        60,
    )
    .unwrap();
    let back = ffi::OtpAuthUri::parse(u.to_uri_string()).unwrap();
    assert_eq!(back.parameters(), u.parameters());
    assert!(matches!(
        ffi::OtpAuthUri::new_hotp(None, "".into(), secret(), HashAlgorithm::Sha1, 6, 0)
            .unwrap_err(),
        OtpError::InvalidParameter { .. }
    ));
}
