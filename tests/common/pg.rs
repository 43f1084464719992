//! A throwaway PostgreSQL server for the tests (scripts/with-postgres.sh): its URL, and a
//! fresh database per test.

use std::sync::atomic::{AtomicU32, Ordering};

use postgres::NoTls;

/// The server's URL, or `None` when the tests are to be skipped.
pub fn server() -> Option<String> {
    match std::env::var("DIGITAL_OTP_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("DIGITAL_OTP_SKIP_POSTGRES").as_deref() == Ok("1") => {
            eprintln!("skipped: DIGITAL_OTP_SKIP_POSTGRES=1");
            None
        }
        _ => panic!(
            "DIGITAL_OTP_TEST_POSTGRES is not set: run these tests under scripts/with-postgres.sh \
             (or set DIGITAL_OTP_SKIP_POSTGRES=1 to skip them)"
        ),
    }
}

/// `url` naming database `db` instead of its own (URL form only).
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let start = base.find("://").expect("DIGITAL_OTP_TEST_POSTGRES must be a postgres:// URL") + 3;
    let base = base[start..].find('/').map_or(base, |i| &base[..start + i]);
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A new, empty database of this test's own; its URL. (Left behind: the throwaway
/// cluster goes with it.)
pub fn fresh_database() -> Option<String> {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let url = server()?;
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let name =
        format!("t_{}_{}_{}", std::process::id(), nanos, COUNT.fetch_add(1, Ordering::Relaxed));
    let mut admin = postgres::Client::connect(&url, NoTls).expect("connect to the test server");
    admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    Some(with_database(&url, &name))
}

/// The CA that signed the test server's TLS certificate (for `localhost`).
pub fn ca() -> std::path::PathBuf {
    std::env::var_os("DIGITAL_OTP_TEST_POSTGRES_CA")
        .expect("DIGITAL_OTP_TEST_POSTGRES_CA is not set: run under scripts/with-postgres.sh")
        .into()
}
