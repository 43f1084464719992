//! The `dotp` command line: codes on stdout, one-line errors on stderr, and the
//! same codes as oathtool (OATH Toolkit) for the same inputs.
#![cfg(feature = "cli")]

mod common;

use std::process::{Command, Output};

fn dotp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dotp")).args(args).output().expect("run dotp")
}

fn code(args: &[&str]) -> String {
    let out = dotp(args);
    assert!(out.status.success(), "dotp {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty());
    String::from_utf8(out.stdout).unwrap().trim_end_matches('\n').to_string()
}

/// oathtool, if installed. `DOTP_REQUIRE_OATHTOOL=1` (set by the test command, which
/// installs it) turns its absence into a failure.
fn oathtool() -> Option<&'static str> {
    let found =
        Command::new("oathtool").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found && std::env::var("DOTP_REQUIRE_OATHTOOL").as_deref() == Ok("1") {
        panic!("oathtool is required (DOTP_REQUIRE_OATHTOOL=1) but not installed");
    }
    found.then_some("oathtool")
}

fn oath(args: &[&str]) -> String {
    let out = Command::new("oathtool").args(args).output().unwrap();
    assert!(out.status.success(), "oathtool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn rfc_vectors_through_the_cli() {
    for v in common::totp() {
        let (alg, digits, time, period, t0) = (
            v.algorithm.to_lowercase(),
            v.digits.to_string(),
            v.time.to_string(),
            v.period.to_string(),
            v.t0.to_string(),
        );
        let got = code(&[
            "totp",
            "--secret-hex",
            &v.key_hex,
            "--time",
            &time,
            "--digits",
            &digits,
            "--algorithm",
            &alg,
            "--period",
            &period,
            "--t0",
            &t0,
        ]);
        assert_eq!(got, v.code, "{v:?}");
    }
    for v in common::hotp() {
        let got = code(&["hotp", "--secret-hex", &v.key_hex, "--counter", &v.counter.to_string()]);
        assert_eq!(got, v.code, "{v:?}");
    }
    for v in common::ocra() {
        let mut args = vec![
            "ocra".to_string(),
            "--suite".into(),
            v.suite.clone(),
            "--key-hex".into(),
            v.key_hex.clone(),
        ];
        args.extend(["--question".into(), v.question.clone()]);
        if let Some(c) = v.counter {
            args.extend(["--counter".into(), c.to_string()]);
        }
        if let Some(p) = &v.pin {
            args.extend(["--pin".into(), p.clone()]);
        }
        if let Some(t) = v.time_steps {
            args.extend(["--time-steps".into(), t.to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(code(&args), v.response, "{v:?}");
    }
}

#[test]
fn same_codes_as_oathtool() {
    let Some(_) = oathtool() else {
        eprintln!("oathtool not installed: comparison skipped");
        return;
    };
    let b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let hex32 = "3132333435363738393031323334353637383930313233343536373839303132";
    let mut compared = 0;
    for (alg, key) in
        [("sha1", "3132333435363738393031323334353637383930"), ("sha256", hex32), ("sha512", hex32)]
    {
        for digits in ["6", "7", "8"] {
            for time in ["0", "59", "1111111109", "1234567890", "2000000000", "20000000000"] {
                for (period, t0) in [("30", "0"), ("60", "0"), ("30", "100")] {
                    if time.parse::<u64>().unwrap() < t0.parse::<u64>().unwrap() {
                        continue;
                    }
                    let ours = code(&[
                        "totp",
                        "--secret-hex",
                        key,
                        "--algorithm",
                        alg,
                        "--digits",
                        digits,
                        "--time",
                        time,
                        "--period",
                        period,
                        "--t0",
                        t0,
                    ]);
                    let theirs = oath(&[
                        &format!("--totp={alg}"),
                        "-d",
                        digits,
                        "-s",
                        period,
                        "-S",
                        &format!("@{t0}"),
                        "-N",
                        &format!("@{time}"),
                        key,
                    ]);
                    assert_eq!(ours, theirs, "totp {alg} {digits} {time} {period} {t0}");
                    compared += 1;
                }
            }
        }
    }
    for counter in ["0", "1", "9", "255", "65536", "4294967296", "18446744073709551615"] {
        for digits in ["6", "8"] {
            let ours = code(&["hotp", "--secret", b32, "--counter", counter, "--digits", digits]);
            let theirs = oath(&["-b", "-c", counter, "-d", digits, b32]);
            assert_eq!(ours, theirs, "hotp {counter} {digits}");
            compared += 1;
        }
    }
    // base32 input, padded and lower-case on our side.
    let ours = code(&["totp", "--secret", "jbsw y3dp ehpk 3pxp", "--time", "1700000000"]);
    assert_eq!(ours, oath(&["--totp", "-b", "-N", "@1700000000", "JBSWY3DPEHPK3PXP"]));
    assert!(compared > 150);
}

#[test]
fn errors_are_one_line_on_stderr() {
    let cases: &[&[&str]] = &[
        &["totp", "--secret", "not base32!", "--time", "0"],
        &["totp", "--secret", "GEZDGNBV", "--time", "0"],
        &["totp", "--secret", "GEZDGNBVGY3TQOJQ", "--digits", "5"],
        &["totp", "--secret", "GEZDGNBVGY3TQOJQ", "--digits", "99999999999999999999999"],
        &["totp", "--secret", "GEZDGNBVGY3TQOJQ", "--period", "0"],
        &["totp", "--secret", "GEZDGNBVGY3TQOJQ", "--time", "-5"],
        &["totp", "--secret", "GEZDGNBVGY3TQOJQ", "--time", "5", "--t0", "10"],
        &["totp", "--secret", "GEZDGNBVGY3TQOJQ", "--secret-hex", "00"],
        &["totp"],
        &["hotp", "--secret", "GEZDGNBVGY3TQOJQ"],
        &["hotp", "--secret", "GEZDGNBVGY3TQOJQ", "--counter", "18446744073709551616"],
        &[
            "ocra",
            "--suite",
            "OCRA-1:HOTP-SHA1-6:QX08",
            "--key-hex",
            "3132333435363738393031323334353637383930",
            "--question",
            "1",
        ],
        &[
            "ocra",
            "--suite",
            "OCRA-1:HOTP-SHA1-6:C-QN08",
            "--key-hex",
            "3132333435363738393031323334353637383930",
            "--question",
            "1",
        ],
        &[
            "ocra",
            "--suite",
            "OCRA-1:HOTP-SHA1-6:QN08",
            "--key-hex",
            "3132333435363738393031323334353637383930",
            "--question",
            "x",
        ],
        &["ocra", "--suite", "OCRA-1:HOTP-SHA1-6:QN08", "--key-hex", "zz", "--question", "1"],
        &["uri", "parse", "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQ&digits=4"],
        &["uri", "parse", "http://example.com"],
        &["uri", "new", "--issuer", "a:b", "--account", "x"],
        &["frobnicate"],
    ];
    for args in cases {
        let out = dotp(args);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
        assert!(err.starts_with("dotp: "), "{err}");
        assert!(!err.contains("GEZDGNBVGY3TQOJQ") || args.contains(&"--secret-hex"), "{err}");
    }
}

#[test]
fn uri_commands() {
    let uri = code(&[
        "uri",
        "new",
        "--issuer",
        "ACME Co",
        "--account",
        "kim@example.com",
        "--secret",
        "JBSWY3DPEHPK3PXP",
        "--digits",
        "8",
    ]);
    assert_eq!(
        uri,
        "otpauth://totp/ACME%20Co:kim%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co&algorithm=SHA1&digits=8&period=30"
    );
    let fields = code(&["uri", "parse", &uri]);
    assert_eq!(
        fields,
        "type: totp\nissuer: ACME Co\naccount: kim@example.com\nalgorithm: SHA1\ndigits: 8\nperiod: 30\nsecret_bits: 80"
    );
    assert!(code(&["uri", "parse", &uri, "--show-secret"]).ends_with("secret: JBSWY3DPEHPK3PXP"));
    let hotp = code(&[
        "uri",
        "new",
        "--issuer",
        "B",
        "--account",
        "a",
        "--type",
        "hotp",
        "--counter",
        "5",
    ]);
    assert!(
        hotp.starts_with("otpauth://hotp/B:a?secret=") && hotp.ends_with("&counter=5"),
        "{hotp}"
    );
    let generated = code(&["uri", "parse", &hotp]);
    assert!(generated.contains("secret_bits: 160"));
}
