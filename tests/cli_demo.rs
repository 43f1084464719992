//! `dotp demo`, and the same story step by step through separate `dotp issuer …` and
//! `dotp app …` invocations on one data directory.
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn dotp(dir: &Path, password: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dotp"));
    cmd.arg("--data-dir").arg(dir).arg("--json").arg("--actor").arg("test-teller").args(args);
    cmd.env_remove("DOTP_PASSWORD").env_remove("DOTP_NEW_PASSWORD").env_remove("DOTP_MASTER_KEY");
    if let Some(p) = password {
        cmd.env("DOTP_PASSWORD", p);
    }
    cmd.output().expect("run dotp")
}

fn ok(dir: &Path, password: Option<&str>, args: &[&str]) -> Value {
    let out = dotp(dir, password, args);
    assert!(out.status.success(), "dotp {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("dotp {args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// A command whose answer is a refusal (a rejected code): its verdict on stdout, exit 1.
fn refused(dir: &Path, args: &[&str]) -> Value {
    let out = dotp(dir, None, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "dotp {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("dotp {args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn fails(dir: &Path, password: Option<&str>, args: &[&str]) -> String {
    let out = dotp(dir, password, args);
    assert!(!out.status.success(), "dotp {args:?} should fail");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn the_demo_passes() {
    let out = Command::new(env!("CARGO_BIN_EXE_dotp")).arg("demo").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("All 9 steps behaved as expected."), "{text}");
    assert!(!text.contains('✘'));
    // Over a real socket: the service's loopback address, and its refusal of a keyless call.
    assert!(text.contains("served at http://127.0.0.1:"), "{text}");
    assert!(text.contains("✔ a call without an API key is refused (401)"), "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_dotp")).args(["demo", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["failures"].as_array().unwrap().len(), 0);
}

#[test]
fn the_demo_step_by_step_across_invocations() {
    let dir = std::env::temp_dir().join(format!("dotp-cli-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.as_path();
    let bank = ["--institution", "demo-bank"];
    let kim = ["--institution", "demo-bank", "--customer", "kim"];

    ok(d, None, &["issuer", "add-institution", "demo-bank", "Demo Bank"]);
    ok(
        d,
        None,
        &[&["issuer", "add-customer"][..], &kim, &["--name", "홍길동", "--phone", "010-1234-5678"]]
            .concat(),
    );
    // The master key sits beside the database, never inside it, readable by the owner only.
    assert!(d.join("issuer.key").exists() && d.join("issuer.db").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(d.join("issuer.key")).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let key = std::fs::read_to_string(d.join("issuer.key")).unwrap();
    assert!(
        !String::from_utf8_lossy(&std::fs::read(d.join("issuer.db")).unwrap()).contains(key.trim())
    );

    let code =
        ok(d, None, &[&["issuer", "issue-code"][..], &kim, &["--reference", "kyc-1"]].concat());
    let code = code["registration_code"].as_str().unwrap().to_string();
    let reg = ok(
        d,
        Some("482915"),
        &[
            &["app", "register"][..],
            &bank,
            &["--code", &code, "--phone", "010-1234-5678", "--device-id", "cli-phone"],
        ]
        .concat(),
    );
    assert_eq!(reg["status"], "pending");
    let serial = reg["serial"].as_str().unwrap().to_string();

    let login = ok(d, Some("482915"), &[&["app", "code"][..], &bank, &["--no-wait"]].concat());
    let login = login["code"].as_str().unwrap().to_string();
    assert_eq!(
        ok(d, None, &[&["issuer", "verify-login"][..], &kim, &["--code", &login]].concat())
            ["verdict"],
        "accepted"
    );
    ok(d, None, &[&["app", "activate"][..], &bank].concat());
    assert_eq!(ok(d, None, &["app", "list"])["credentials"][0]["status"], "active");

    let tx = ["--amount", "1500000", "--payee-account", "110-123-456789", "--payee-name", "홍길동"];
    let t = ok(d, Some("482915"), &[&["app", "transaction"][..], &bank, &tx, &["--yes"]].concat());
    assert_eq!(t["summary"], "Transfer KRW 1,500,000\nPayee: 홍길동\nAccount: 110123456789");
    let tx_code = t["code"].as_str().unwrap().to_string();
    let other =
        ["--amount", "1500001", "--payee-account", "110-123-456789", "--payee-name", "홍길동"];
    assert_eq!(
        refused(
            d,
            &[&["issuer", "verify-transaction"][..], &kim, &["--code", &tx_code], &other].concat()
        )["verdict"],
        "rejected"
    );
    assert_eq!(
        ok(
            d,
            None,
            &[&["issuer", "verify-transaction"][..], &kim, &["--code", &tx_code], &tx].concat()
        )["verdict"],
        "accepted"
    );
    assert_eq!(
        refused(d, &[&["issuer", "verify-login"][..], &kim, &["--code", &login]].concat())
            ["verdict"],
        "rejected",
        "replay"
    );

    for remaining in (1..=4).rev() {
        let err = fails(d, Some("000001"), &[&["app", "code"][..], &bank, &["--no-wait"]].concat());
        let said = if remaining == 1 {
            "1 attempt remains".into()
        } else {
            format!("{remaining} attempts remain")
        };
        assert!(err.contains(&said), "{err}");
    }
    assert!(fails(d, Some("000001"), &[&["app", "code"][..], &bank, &["--no-wait"]].concat())
        .contains("locked"));
    assert_eq!(ok(d, None, &["app", "list"])["credentials"][0]["status"], "locked");

    let code =
        ok(d, None, &[&["issuer", "issue-code"][..], &kim, &["--reference", "kyc-2"]].concat());
    let reg = ok(
        d,
        Some("482915"),
        &[
            &["app", "register"][..],
            &bank,
            &["--code", code["registration_code"].as_str().unwrap()],
        ]
        .concat(),
    );
    let login = ok(d, Some("482915"), &[&["app", "code"][..], &bank, &["--no-wait"]].concat());
    assert_eq!(
        ok(
            d,
            None,
            &[&["issuer", "verify-login"][..], &kim, &["--code", login["code"].as_str().unwrap()]]
                .concat()
        )["verdict"],
        "accepted"
    );

    let old = ok(
        d,
        None,
        &[&["issuer", "device"][..], &bank, &["--vendor", "DOTP", "--serial", &serial]].concat(),
    );
    assert_eq!(old["registrations"][0]["state"], "revoked");
    assert_ne!(reg["serial"], serial.as_str());
    let audit = ok(d, None, &["issuer", "audit", "--limit", "500"]);
    let entries = audit["entries"].as_array().unwrap();
    assert!(entries
        .iter()
        .any(|e| e["actor"] == "test-teller" && e["action"] == "issue_registration_code"));
    assert!(!audit.to_string().contains(&tx_code));

    // Face to face: the SMS code lands in sms.log.
    ok(d, None, &[&["issuer", "send-sms"][..], &kim].concat());
    let log = std::fs::read_to_string(d.join("sms.log")).unwrap();
    let sms = log.split(|c: char| !c.is_ascii_digit()).rfind(|w| w.len() == 5).unwrap().to_string();
    let confirmed =
        ok(d, None, &[&["issuer", "confirm-sms"][..], &kim, &["--sms-code", &sms]].concat());
    assert_eq!(confirmed["registration_code"].as_str().unwrap().len(), 14);

    // Bad input is one line.
    fails(d, None, &["issuer", "verify-login", "--institution", "demo-bank", "--customer", "kim"]);
    fails(
        d,
        None,
        &[
            &["issuer", "add-customer"][..],
            &[
                "--institution",
                "nowhere",
                "--customer",
                "x",
                "--name",
                "x",
                "--phone",
                "010-1111-2222",
            ],
        ]
        .concat(),
    );
    fails(
        d,
        Some("482915"),
        &[&["app", "register"][..], &bank, &["--code", "1234-5678-9999"]].concat(),
    );
    // A weak password is refused before anything reaches the bank.
    let code =
        ok(d, None, &[&["issuer", "issue-code"][..], &kim, &["--reference", "kyc-3"]].concat());
    let weak = fails(
        d,
        Some("123456"),
        &[
            &["app", "register"][..],
            &bank,
            &["--code", code["registration_code"].as_str().unwrap()],
        ]
        .concat(),
    );
    assert!(weak.contains("policy"), "{weak}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A data directory with institution bank-s and its channel and staff keys.
fn bank_s(name: &str) -> (std::path::PathBuf, String, String) {
    let dir = std::env::temp_dir().join(format!("dotp-demo-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    ok(&dir, None, &["issuer", "add-institution", "bank-s", "Bank S"]);
    let key = |role: &str| {
        let v =
            ok(&dir, None, &["issuer", "add-api-key", "--institution", "bank-s", "--role", role]);
        v["api_key"].as_str().unwrap().to_owned()
    };
    let (channel, staff) = (key("channel"), key("staff"));
    (dir, channel, staff)
}

/// `dotp issuer serve` on a free loopback port (with `extra` arguments); its URL.
fn serve(dir: &Path, extra: &[&str]) -> (std::process::Child, String) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_dotp"))
        .arg("--data-dir")
        .arg(dir)
        .args(["issuer", "serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env_remove("DOTP_MASTER_KEY")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    (server, line.trim().strip_prefix("listening on ").unwrap().to_owned())
}

/// `dotp demo --server URL --institution bank-s` with `extra` arguments, with the keys in
/// the environment or without.
fn demo_against(url: &str, keys: Option<(&str, &str)>, extra: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dotp"));
    c.args(["demo", "--server", url, "--institution", "bank-s"]).args(extra);
    c.env_remove("DOTP_CHANNEL_KEY").env_remove("DOTP_STAFF_KEY");
    if let Some((channel, staff)) = keys {
        c.env("DOTP_CHANNEL_KEY", channel).env("DOTP_STAFF_KEY", staff);
    }
    c.output().unwrap()
}

#[test]
fn the_demo_runs_its_phone_against_a_running_service() {
    let (dir, channel, staff) = bank_s("server");
    let (mut server, url) = serve(&dir, &[]);
    let out = demo_against(&url, Some((&channel, &staff)), &[]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let without_keys = demo_against(&url, None, &[]);
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("All 9 steps behaved as expected."), "{text}");
    assert!(text.contains(&format!("bank-s at {url}")), "{text}");
    assert!(!without_keys.status.success());
    assert!(String::from_utf8_lossy(&without_keys.stderr).contains("DOTP_CHANNEL_KEY"));
}

/// Over TLS, the demo trusts the service's own CA when told to (`--ca-cert`), and refuses a
/// certificate no trusted CA issued: what a man in the middle with a self-signed
/// certificate presents. The refusal comes before any key is sent.
#[cfg(feature = "test-support")]
#[test]
fn the_demo_over_tls_verifies_the_service_s_certificate() {
    let (dir, channel, staff) = bank_s("tls");
    let service = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let stranger = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let pem = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let cert = pem("cert.pem", service.cert.pem());
    let key = pem("key.pem", service.signing_key.serialize_pem());
    let other_ca = pem("other-ca.pem", stranger.cert.pem());
    let (mut server, url) = serve(&dir, &["--tls-cert", &cert, "--tls-key", &key]);
    let url = url.replace("127.0.0.1", "localhost");
    assert!(url.starts_with("https://localhost:"), "{url}");
    let keys = Some((channel.as_str(), staff.as_str()));
    let trusted = demo_against(&url, keys, &["--ca-cert", &cert]);
    let public_roots = demo_against(&url, keys, &[]);
    let wrong_ca = demo_against(&url, keys, &["--ca-cert", &other_ca]);
    let customers_after = dotp(&dir, None, &["issuer", "audit"]);
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&trusted.stdout);
    assert!(trusted.status.success(), "{text}\n{}", String::from_utf8_lossy(&trusted.stderr));
    assert!(text.contains("All 9 steps behaved as expected."), "{text}");
    for refused in [&public_roots, &wrong_ca] {
        assert!(!refused.status.success());
        let err = String::from_utf8_lossy(&refused.stderr).to_lowercase();
        assert!(err.contains("certificate") || err.contains("issuer"), "{err}");
    }
    // Only the trusted run reached the bank: one new customer in the log.
    let log = String::from_utf8_lossy(&customers_after.stdout);
    assert_eq!(log.matches("register_customer").count(), 1, "{log}");
}
