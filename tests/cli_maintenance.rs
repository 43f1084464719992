//! The issuer's maintenance commands: `dotp issuer verify-audit` reports a rewritten or
//! deleted audit entry, `dotp issuer rotate-key` re-seals every row under a new master key
//! (the old key no longer opens the database; the new one serves the same customers).
//! And what staff read: times in the local zone, a rejected code's exit status.
#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dotp(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dotp"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("DOTP_MASTER_KEY")
        .output()
        .expect("run dotp")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = dotp(dir, args);
    assert!(out.status.success(), "dotp {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn fails(dir: &Path, args: &[&str]) -> String {
    let out = dotp(dir, args);
    assert!(!out.status.success(), "dotp {args:?} succeeded");
    String::from_utf8(out.stderr).unwrap()
}

fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dotp-maint-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// An institution, a customer and an outstanding code: rows of every kind the rotation
/// re-seals, and audit entries.
fn set_up(dir: &Path) {
    ok(dir, &["issuer", "add-institution", "bank-a", "Bank A"]);
    ok(
        dir,
        &[
            "issuer",
            "add-customer",
            "--institution",
            "bank-a",
            "--customer",
            "kim",
            "--name",
            "홍길동",
            "--phone",
            "010-1234-5678",
        ],
    );
    ok(
        dir,
        &[
            "issuer",
            "issue-code",
            "--institution",
            "bank-a",
            "--customer",
            "kim",
            "--reference",
            "kyc-1",
        ],
    );
}

fn sql(dir: &Path, statements: &str) {
    let conn = rusqlite::Connection::open(dir.join("issuer.db")).unwrap();
    conn.execute_batch(statements).unwrap();
}

#[test]
fn verify_audit_reports_a_rewritten_and_a_deleted_entry() {
    let dir = data_dir("audit");
    set_up(&dir);
    let whole = ok(&dir, &["issuer", "verify-audit"]);
    assert!(whole.contains("the audit log is whole: 3 chained entries checked"), "{whole}");

    sql(&dir, "DROP TRIGGER audit_append_only; UPDATE audit SET detail = 'nothing' WHERE id = 2;");
    let err = fails(&dir, &["issuer", "verify-audit"]);
    assert!(err.contains("not whole") && err.contains("entry 2"), "{err}");

    // The newest entry deleted: the chain ends before its authenticated head.
    sql(&dir, "DROP TRIGGER audit_retention; DELETE FROM audit WHERE id = 3;");
    let err = fails(&dir, &["issuer", "verify-audit"]);
    assert!(err.contains("ends at entry 2, its authenticated head is entry 3"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rotate_key_reseals_under_a_new_key_that_alone_opens_the_database() {
    let dir = data_dir("rotate");
    set_up(&dir);
    let old_key = std::fs::read_to_string(dir.join("issuer.key")).unwrap();

    let out = ok(&dir, &["issuer", "rotate-key"]);
    assert!(out.contains("master key rotated to") && out.contains("rows re-sealed"), "{out}");
    let new_key = std::fs::read_to_string(dir.join("issuer.key")).unwrap();
    assert_ne!(new_key, old_key);
    assert!(!dir.join("issuer.key.next").exists());

    // The new key serves the same customer and a whole audit log (with the rotation in it).
    let inquiry = ok(&dir, &["issuer", "customer", "--institution", "bank-a", "--customer", "kim"]);
    assert!(inquiry.contains("kim"), "{inquiry}");
    assert!(ok(&dir, &["issuer", "verify-audit"]).contains("is whole"));

    // The old key is refused: the database no longer knows it.
    std::fs::write(dir.join("issuer.key"), &old_key).unwrap();
    let err = fails(&dir, &["issuer", "verify-audit"]);
    assert!(err.contains("master key"), "{err}");

    // A key from the environment is not rotated here.
    let out = Command::new(env!("CARGO_BIN_EXE_dotp"))
        .arg("--data-dir")
        .arg(&dir)
        .args(["issuer", "rotate-key"])
        .env("DOTP_MASTER_KEY", new_key.trim())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DOTP_MASTER_KEY"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn staff_read_local_times_and_a_rejected_code_exits_1() {
    let dir = data_dir("times");
    set_up(&dir);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_dotp"))
            .arg("--data-dir")
            .arg(&dir)
            .args(args)
            .env("TZ", "KST-9") // POSIX form: UTC+9 without the zone database
            .env_remove("DOTP_MASTER_KEY")
            .output()
            .unwrap()
    };
    // The audit log: a date and time with the zone's offset, and ISO 8601 beside the
    // integer in --json.
    let text = String::from_utf8(run(&["issuer", "audit", "--limit", "1"]).stdout).unwrap();
    let stamp = text.split(' ').take(3).collect::<Vec<_>>();
    assert_eq!(stamp[0].len(), 10, "a date: {text}");
    assert_eq!(stamp[2], "+09:00", "{text}");
    let json = run(&["--json", "issuer", "audit", "--limit", "1"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let entry = &v["entries"][0];
    assert!(entry["at"].is_u64());
    assert!(entry["at_local"].as_str().unwrap().ends_with("+09:00"), "{entry}");
    // A code the bank rejects: "rejected" on stdout and exit status 1.
    let out = run(&[
        "issuer",
        "verify-login",
        "--institution",
        "bank-a",
        "--customer",
        "kim",
        "--code",
        "123456",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "rejected");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn with_stdin(dir: &Path, args: &[&str], password: Option<&str>, input: &str) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dotp"));
    cmd.arg("--data-dir").arg(dir).args(args).env_remove("DOTP_MASTER_KEY");
    cmd.env_remove("DOTP_PASSWORD");
    if let Some(p) = password {
        cmd.env("DOTP_PASSWORD", p);
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// The registration code and a token's secret stay out of argv: `--code -` (one line of
/// standard input, the password on the next), `--code @FILE`, `--secret @FILE`.
#[test]
fn registration_code_and_token_secret_from_stdin_or_a_file() {
    let issue = |dir: &Path, reference: &str| {
        ok(
            dir,
            &[
                "issuer",
                "issue-code",
                "--institution",
                "bank-a",
                "--customer",
                "kim",
                "--reference",
                reference,
            ],
        )
        .trim()
        .to_string()
    };
    let register = ["app", "register", "--institution", "bank-a", "--phone", "010-1234-5678"];

    // From standard input: the code, then the password, one line each.
    let dir = data_dir("code-stdin");
    set_up(&dir);
    let code = issue(&dir, "kyc-2");
    let out = with_stdin(
        &dir,
        &[&register[..], &["--code", "-"]].concat(),
        None,
        &format!("{code}\n482915\n"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(ok(&dir, &["app", "list"]).contains("pending"));
    std::fs::remove_dir_all(&dir).unwrap();

    // From a file, the password from DOTP_PASSWORD.
    let dir = data_dir("code-file");
    set_up(&dir);
    let code = issue(&dir, "kyc-2");
    std::fs::write(dir.join("code.txt"), format!("{code}\n")).unwrap();
    let at = format!("@{}", dir.join("code.txt").display());
    let out = with_stdin(&dir, &[&register[..], &["--code", &at]].concat(), Some("482915"), "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(ok(&dir, &["app", "list"]).contains("pending"));

    std::fs::remove_dir_all(&dir).unwrap();

    // A hardware token's secret from a file: its first code verifies at registration.
    let dir = data_dir("token-file");
    set_up(&dir);
    std::fs::write(dir.join("token.b32"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n").unwrap();
    let at = format!("@{}", dir.join("token.b32").display());
    ok(
        &dir,
        &[
            "issuer",
            "import-device",
            "--vendor",
            "VND",
            "--serial",
            "T1",
            "--secret",
            &at,
            "--hotp",
        ],
    );
    // The code of RFC 4226's counter 0 for that secret proves possession.
    ok(
        &dir,
        &[
            "issuer",
            "register-device",
            "--institution",
            "bank-a",
            "--customer",
            "kim",
            "--vendor",
            "VND",
            "--serial",
            "T1",
            "--code",
            "755224",
        ],
    );
    let err = fails(
        &dir,
        &[
            "issuer",
            "import-device",
            "--vendor",
            "VND",
            "--serial",
            "T2",
            "--secret",
            "@/nonexistent/token",
        ],
    );
    assert!(err.contains("cannot read --secret from /nonexistent/token"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

// Issue 15, items 3 and 4 at the command line: `change-phone` voids the outstanding code
// and is audited without the numbers; `--real-name-number -` reads the number from
// standard input, and a second customer id for the same person is refused.
#[test]
fn change_phone_and_the_real_name_number() {
    let dir = data_dir("phone");
    set_up(&dir);
    let who = ["--institution", "bank-a", "--customer", "kim"];
    let mut args = vec!["issuer", "change-phone"];
    args.extend(who);
    args.extend(["--phone", "010-9999-8888"]);
    ok(&dir, &args);
    let again = fails(&dir, &args);
    assert!(again.contains("unchanged"), "{again}");
    let audit = ok(&dir, &["issuer", "audit", "--limit", "5"]);
    assert!(audit.contains("change_phone") && audit.contains("registration code voided"));
    assert!(!audit.contains("9999") && !audit.contains("8888"), "{audit}");

    let add = |customer: &str, number: &str| {
        let args = [
            "issuer",
            "add-customer",
            "--institution",
            "bank-a",
            "--customer",
            customer,
            "--name",
            "이순신",
            "--phone",
            "010-2222-3333",
            "--real-name-number",
            "-",
        ];
        with_stdin(&dir, &args, None, &format!("{number}\n"))
    };
    assert!(add("lee", "850505-1234567").status.success());
    let second = add("lee-2", "8505051234567");
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("already exists"));
    let db = std::fs::read_dir(&dir)
        .unwrap()
        .flat_map(|e| std::fs::read(e.unwrap().path()).ok())
        .flatten()
        .collect::<Vec<u8>>();
    assert!(!db.windows(13).any(|w| w == b"8505051234567"));
    std::fs::remove_dir_all(&dir).unwrap();
}
