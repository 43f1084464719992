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

fn dotp_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dotp"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run dotp");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// One line on stderr, exit status 2 (a usage error), nothing on stdout.
fn usage_error(args: &[&str]) -> String {
    let out = dotp(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

const RFC_HEX: &str = "3132333435363738393031323334353637383930";

#[test]
fn negative_numbers_get_a_clear_message() {
    let s = ["--secret-hex", RFC_HEX];
    for (args, option) in [
        (&[&["totp"][..], &s, &["--time", "-5"]].concat(), "--time"),
        (&[&["totp"][..], &s, &["--t0", "-1"]].concat(), "--t0"),
        (&[&["totp"][..], &s, &["--period", "-30"]].concat(), "--period"),
        (&[&["totp"][..], &s, &["--digits", "-6"]].concat(), "--digits"),
        (&[&["hotp"][..], &s, &["--counter", "-1"]].concat(), "--counter"),
        (
            &[&["hotp"][..], &s, &["--counter", "0", "--verify", "755224", "-w", "-2"]].concat(),
            "--window",
        ),
        (
            &[
                "ocra",
                "--suite",
                "OCRA-1:HOTP-SHA1-6:QN08-T1M",
                "--key-hex",
                RFC_HEX,
                "--question",
                "1",
                "--time-steps",
                "-1",
            ]
            .to_vec(),
            "--time-steps",
        ),
    ] {
        let err = usage_error(args);
        assert!(err.contains(option) && err.contains("negative"), "{args:?}: {err}");
        assert!(!err.contains("unexpected argument"), "{err}");
    }
    assert!(usage_error(&[&["totp"][..], &s, &["--time", "-5"]].concat())
        .contains("a Unix time is seconds since 1970-01-01 UTC and cannot be negative"));
    // Not a number at all: still a typed message.
    assert!(usage_error(&[&["totp"][..], &s, &["--time", "soon"]].concat()).contains("Unix time"));
}

#[test]
fn secrets_from_standard_input_and_files() {
    let dir = std::env::temp_dir().join(format!("dotp-cli-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let b32_file = dir.join("key.b32");
    std::fs::write(&b32_file, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n").unwrap();
    let hex_file = dir.join("key.hex");
    std::fs::write(&hex_file, format!("{RFC_HEX}\r\n")).unwrap();
    let at_b32 = format!("@{}", b32_file.display());
    let at_hex = format!("@{}", hex_file.display());

    // RFC 4226 counter 1: 287082, whichever way the key comes in.
    let out = dotp_stdin(&["hotp", "--secret-hex", "-", "--counter", "1"], &format!("{RFC_HEX}\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "287082\n");
    assert_eq!(code(&["hotp", "--secret", &at_b32, "--counter", "1"]), "287082");
    assert_eq!(code(&["hotp", "--secret-hex", &at_hex, "--counter", "1"]), "287082");
    assert_eq!(code(&["totp", "--secret", &at_b32, "--time", "59", "--digits", "8"]), "94287082");
    // OCRA: key from a file, PIN from standard input (RFC 6287's first vector with a PIN).
    let v = common::ocra().into_iter().find(|v| v.pin.is_some() && v.counter.is_some()).unwrap();
    let ocra_key = dir.join("ocra.hex");
    std::fs::write(&ocra_key, format!("{}\n", v.key_hex)).unwrap();
    let at_ocra = format!("@{}", ocra_key.display());
    let counter = v.counter.unwrap().to_string();
    let mut args = vec!["ocra", "--suite", &v.suite, "--key-hex", &at_ocra, "--counter", &counter];
    args.extend(["--question", &v.question, "--pin", "-"]);
    let out = dotp_stdin(&args, &format!("{}\n", v.pin.as_deref().unwrap()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("{}\n", v.response));
    // URIs: parse one from standard input, build one from a file's secret.
    let out = dotp_stdin(&["uri", "parse", "-"], "otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP=\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8(out.stdout).unwrap().contains("account: b\n"));
    let uri = code(&["uri", "new", "--issuer", "I", "--account", "a", "--secret", &at_b32]);
    assert!(uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&"), "{uri}");

    // Errors: one line, naming the argument and the file, never the secret.
    for (args, input, expected) in [
        (vec!["hotp", "--secret-hex", "-", "--counter", "1"], "", "standard input is empty"),
        (
            vec!["hotp", "--secret", "@/nonexistent/dotp-key", "--counter", "1"],
            "",
            "cannot read --secret from /nonexistent/dotp-key",
        ),
        (
            vec![
                "ocra",
                "--suite",
                "OCRA-1:HOTP-SHA1-6:QN08-PSHA1",
                "--key-hex",
                "-",
                "--question",
                "1",
                "--pin",
                "-",
            ],
            &*format!("{RFC_HEX}\n1234\n"),
            "only one argument can be read from standard input",
        ),
    ] {
        let out = dotp_stdin(&args, input);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains(RFC_HEX) && !err.contains("1234\n"), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `totp --verify CODE -w N` / `hotp --verify CODE -w N`: the offset of the match, or exit 1;
/// the same positions as `oathtool -w N KEY OTP` (which prints TOTP offsets unsigned).
#[test]
fn verify_mode_with_a_window() {
    let time = 1_111_111_109u64; // step 37037036
    let step_code = |delta: i64| {
        code(&[
            "totp",
            "--secret-hex",
            RFC_HEX,
            "--time",
            &((time as i64) + delta * 30).to_string(),
        ])
    };
    let oath_found = oathtool();
    for delta in -3i64..=3 {
        let otp = step_code(delta);
        for window in 0..=3i64 {
            let args = [
                "totp",
                "--secret-hex",
                RFC_HEX,
                "--time",
                &time.to_string(),
                "--verify",
                &otp,
                "-w",
                &window.to_string(),
            ];
            let out = dotp(&args);
            let stdout = String::from_utf8(out.stdout).unwrap();
            if delta.abs() <= window {
                assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
                assert_eq!(stdout, format!("{delta}\n"), "{args:?}");
            } else {
                assert_eq!(out.status.code(), Some(1), "{args:?}");
                assert_eq!(stdout, "rejected\n");
            }
            if oath_found.is_some() {
                let theirs = Command::new("oathtool")
                    .args([
                        "--totp",
                        "-N",
                        &format!("@{time}"),
                        "-w",
                        &window.to_string(),
                        RFC_HEX,
                        &otp,
                    ])
                    .output()
                    .unwrap();
                assert_eq!(
                    theirs.status.success(),
                    delta.abs() <= window,
                    "oathtool {delta} {window}"
                );
                if theirs.status.success() {
                    assert_eq!(
                        String::from_utf8(theirs.stdout).unwrap().trim(),
                        delta.abs().to_string()
                    );
                }
            }
        }
    }
    // --json: the offset and the step.
    let out = dotp(&[
        "--json",
        "totp",
        "--secret-hex",
        RFC_HEX,
        "--time",
        &time.to_string(),
        "--verify",
        &step_code(-1),
        "-w",
        "1",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["verdict"].as_str(), v["offset"].as_i64(), v["step"].as_u64()),
        (Some("accepted"), Some(-1), Some(37_037_035))
    );

    // HOTP: counters C..=C+N; RFC 4226 Appendix D's codes for counters 0..9.
    let codes: Vec<String> = common::hotp().into_iter().map(|v| v.code).collect();
    for start in [0u64, 2, 5] {
        for (counter, otp) in codes.iter().enumerate() {
            let counter = counter as u64;
            for window in [0u64, 1, 3] {
                let args = [
                    "hotp",
                    "--secret-hex",
                    RFC_HEX,
                    "--counter",
                    &start.to_string(),
                    "--verify",
                    otp,
                    "--window",
                    &window.to_string(),
                ];
                let out = dotp(&args);
                let found = counter >= start && counter - start <= window;
                if found {
                    assert_eq!(
                        String::from_utf8(out.stdout).unwrap(),
                        format!("{}\n", counter - start),
                        "{args:?}"
                    );
                } else {
                    assert_eq!(out.status.code(), Some(1), "{args:?}");
                }
                if oath_found.is_some() {
                    let theirs = Command::new("oathtool")
                        .args(["-c", &start.to_string(), "-w", &window.to_string(), RFC_HEX, otp])
                        .output()
                        .unwrap();
                    assert_eq!(
                        theirs.status.success(),
                        found,
                        "oathtool -c {start} -w {window} {otp}"
                    );
                    if found {
                        assert_eq!(
                            String::from_utf8(theirs.stdout).unwrap().trim(),
                            (counter - start).to_string()
                        );
                    }
                }
            }
        }
    }
    // A malformed code or a window past 100 is an error, not a rejection; --window needs --verify.
    let out = dotp(&["hotp", "--secret-hex", RFC_HEX, "--counter", "0", "--verify", "12345"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("invalid code"));
    let out = dotp(&["totp", "--secret-hex", RFC_HEX, "--verify", "123456", "-w", "101"]);
    assert!(String::from_utf8(out.stderr).unwrap().contains("at most 100"));
    assert!(usage_error(&["totp", "--secret-hex", RFC_HEX, "-w", "3"]).contains("--verify <CODE>"));
}

#[test]
fn uri_import_reads_a_google_authenticator_export() {
    let export = "otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC";
    assert_eq!(
        code(&["uri", "import", export]),
        "type: totp\nissuer: Example\naccount: alice@google.com\nalgorithm: SHA1\ndigits: 6\nperiod: 30\nsecret_bits: 80"
    );
    let uri = "otpauth://totp/Example:alice%40google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA1&digits=6&period=30";
    let out = dotp_stdin(&["uri", "import", "-", "--uris"], &format!("{export}\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("{uri}\n"));
    let out = dotp(&["--json", "uri", "import", export]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["accounts"][0]["account"], "alice@google.com");
    assert_eq!(v["accounts"][0]["period"], 30);
    assert!(v["accounts"][0].get("uri").is_none(), "the secret only with --uris");
    // The imported account gives the codes of its URI.
    assert_eq!(
        code(&["totp", "--secret", "JBSWY3DPEHPK3PXP", "--time", "1700000000"]),
        code(&["totp", "--secret", "jbswy3dpehpk3pxp=", "--time", "1700000000"])
    );
    for (args, expected) in [
        (vec!["uri", "import", "otpauth-migration://offline?data=%%%"], "invalid export"),
        (
            vec!["uri", "import", "otpauth-migration://offline?data=AAAA"],
            "not a Google Authenticator payload",
        ),
        (
            vec!["uri", "import", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP"],
            "otpauth-migration://offline",
        ),
        (vec!["uri", "parse", export], "dotp uri import"),
    ] {
        let out = dotp(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn shell_completions_and_manual_pages() {
    let bash = code(&["completions", "bash"]);
    for word in [
        "totp",
        "hotp",
        "ocra",
        "uri",
        "import",
        "issuer",
        "app",
        "completions",
        "man",
        "--verify",
        "--window",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    if Command::new("bash").arg("--version").output().is_ok() {
        let dir = std::env::temp_dir().join(format!("dotp-completion-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("dotp.bash"), &bash).unwrap();
        let check = Command::new("bash").arg("-n").arg(dir.join("dotp.bash")).output().unwrap();
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
        std::fs::remove_dir_all(&dir).unwrap();
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(code(&["completions", shell]).contains("totp"), "{shell}");
    }
    assert!(usage_error(&["completions", "tcsh"]).contains("tcsh"));

    let man = code(&["man"]);
    assert!(man.lines().any(|l| l.starts_with(".TH dotp 1")), "{}", &man[..200.min(man.len())]);
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(man.contains(section), "man page lacks {section}");
    }
    let dir = std::env::temp_dir().join(format!("dotp-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dotp(&["man", "--out-dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut pages: Vec<std::path::PathBuf> = vec![dir.join("dotp.1")];
    for page in ["dotp.1", "dotp-totp.1", "dotp-uri-import.1", "dotp-issuer-verify-login.1"] {
        let text =
            std::fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH "), "{page}");
        pages.push(dir.join(page));
    }
    // groff, where installed, reads every page without a warning (-ww: all warnings).
    if Command::new("groff").arg("--version").output().is_ok() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let out = Command::new("groff")
                .args(["-man", "-Tutf8", "-ww", "-z"])
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_closed_standard_output_is_not_a_crash() {
    // `dotp … | head -n 1`: the reader goes before dotp has written everything. Here the
    // output is closed from the start, so every write fails; dotp must exit as it would,
    // not panic (101).
    for args in [
        &["uri", "new", "--issuer", "A", "--account", "b"][..],
        &["totp", "--secret", "JBSWY3DPEHPK3PXP"],
    ] {
        let status = Command::new("sh")
            .arg("-c")
            .arg("exec \"$0\" \"$@\" 1>&-")
            .arg(env!("CARGO_BIN_EXE_dotp"))
            .args(args)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}");
    }
}
