//! How the PostgreSQL store connects: a small pool of connections, each secured by TLS by rustls (on ring, as the
//! service's), the server's certificate verified — chain and host name — against the
//! system's roots or the given CA file. The rule: a server on another host is reached only
//! with `sslmode=require` in the URL (which here means *verified* TLS, unlike libpq's
//! `require`); a server on this host (loopback, `localhost`, a Unix socket) may be reached
//! without TLS, as the service's own plain HTTP.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use postgres::config::{Host, SslMode};
use postgres::error::SqlState;
use postgres::{Client, Config, NoTls, Statement};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::group::{Database, Outcome};
use super::store::StoreFault;

/// The lock that queues the store's transactions (key "dotw" in ASCII).
const WRITER_LOCK: &str = "SELECT pg_advisory_lock(1685025911)";
const WRITER_UNLOCK: &str = "SELECT pg_advisory_unlock(1685025911)";

/// Whether an attempt failed only because a concurrent one won (and may be re-run).
pub(super) fn is_conflict(e: &postgres::Error) -> bool {
    matches!(e.code(), Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED)
}

/// A PostgreSQL failure as a [`StoreFault`], without what it may quote of the data: no
/// `DETAIL`, and no message of a data exception (class 22 quotes the offending value).
pub(super) fn db(e: postgres::Error) -> StoreFault {
    StoreFault::Database(match e.as_db_error() {
        Some(d) if d.code().code().starts_with("22") => format!("SQLSTATE {}", d.code().code()),
        Some(d) => format!("SQLSTATE {}: {}", d.code().code(), d.message()),
        None => e.to_string(),
    })
}

/// The connector of a store: none (this host only), or verified TLS.
#[derive(Clone)]
pub(super) enum Tls {
    /// Plain connections (a server on this host).
    Plain,
    /// TLS with the server verified.
    Verified(MakeRustlsConnect),
}

fn local(host: &Host) -> bool {
    match host {
        Host::Tcp(name) => {
            name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        #[cfg(unix)]
        Host::Unix(_) => true,
    }
}

fn fault(what: &str) -> StoreFault {
    StoreFault::Database(format!("PostgreSQL TLS: {what}"))
}

/// The connector for `config`: verified TLS when it says `sslmode=require`, with the CA
/// certificates of `ca` (PEM) or else the system's; plain only for a server on this host.
pub(super) fn connector(config: &Config, ca: Option<&Path>) -> Result<Tls, StoreFault> {
    if config.get_ssl_mode() != SslMode::Require {
        if config.get_hosts().iter().all(local) {
            return Ok(Tls::Plain);
        }
        return Err(fault("a server on another host needs sslmode=require in the URL"));
    }
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(path) => {
            for cert in CertificateDer::pem_file_iter(path)
                .map_err(|_| fault("the CA file is unreadable"))?
            {
                let cert = cert.map_err(|_| fault("the CA file is not PEM certificates"))?;
                roots.add(cert).map_err(|_| fault("a CA certificate is invalid"))?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    if roots.is_empty() {
        return Err(fault("no CA certificate to verify the server with"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| fault("no protocol version"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Tls::Verified(MakeRustlsConnect::new(tls)))
}

/// A connection with its prepared statements.
pub(super) struct Conn {
    pub(super) client: Client,
    pub(super) statements: HashMap<String, Statement>,
}

/// At most `size` connections, opened on demand and kept; a transaction waits for a free
/// one. (A pool crate would add a background thread and crates for no more than this.)
pub(super) struct Pool {
    pub(super) config: Config,
    pub(super) tls: Tls,
    pub(super) size: usize,
    /// The idle connections, and how many are open (idle, lent or being opened).
    pub(super) idle: Mutex<(Vec<Conn>, usize)>,
    pub(super) freed: Condvar,
}

/// A lent connection, given back when dropped (unless it broke).
pub(super) struct Lent<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
}

impl Pool {
    pub(super) fn get(&self) -> Result<Lent<'_>, StoreFault> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(conn) = idle.0.pop() {
                if conn.client.is_closed() {
                    idle.1 -= 1;
                    continue;
                }
                return Ok(Lent { pool: self, conn: Some(conn) });
            }
            if idle.1 < self.size {
                idle.1 += 1;
                drop(idle);
                let connected = match &self.tls {
                    Tls::Plain => self.config.connect(NoTls),
                    Tls::Verified(tls) => self.config.connect(tls.clone()),
                };
                return match connected {
                    Ok(client) => Ok(Lent {
                        pool: self,
                        conn: Some(Conn { client, statements: HashMap::new() }),
                    }),
                    Err(e) => {
                        self.idle.lock().unwrap_or_else(PoisonError::into_inner).1 -= 1;
                        self.freed.notify_one();
                        Err(db(e))
                    }
                };
            }
            idle = self.freed.wait(idle).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Lent<'_> {
    pub(super) fn conn(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("a lent connection is present until taken")
    }

    /// The connection, kept out of the pool until [`Pool::put`] (or [`Pool::lost`]) is
    /// called for it: a group's batch shares it between threads.
    pub(super) fn detach(mut self) -> Conn {
        let conn = self.conn.take().expect("a lent connection is present until detached");
        std::mem::forget(self);
        conn
    }
}

impl Pool {
    /// Gives a connection back: kept for the next caller, unless it broke or its holder
    /// panicked (it may hold the writer lock or an open transaction; closing it, dropped
    /// here, releases both).
    pub(super) fn put(&self, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if !conn.client.is_closed() && !std::thread::panicking() {
            idle.0.push(conn);
        } else {
            idle.1 -= 1;
        }
        drop(idle);
        self.freed.notify_one();
    }

    /// A detached connection that was closed instead of given back.
    pub(super) fn lost(&self) {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).1 -= 1;
        self.freed.notify_one();
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.put(conn);
        }
    }
}

/// A batch of transactions (`group`) on a connection of the pool. The session lock is
/// taken before the transaction begins, so that its snapshot sees the predecessor's
/// commit; SERIALIZABLE and the retries stay as the guarantee. A broken connection
/// releases the lock (and the pool drops it).
impl Database for Pool {
    type Conn = Conn;

    fn begin(&self) -> Result<Conn, Outcome> {
        let mut conn = self.get().map_err(Outcome::Failed)?.detach();
        let began = conn
            .client
            .batch_execute(WRITER_LOCK)
            .and_then(|()| conn.client.batch_execute("BEGIN ISOLATION LEVEL SERIALIZABLE"));
        match began {
            Ok(()) => Ok(conn),
            Err(e) => {
                let outcome = if is_conflict(&e) { Outcome::Retry } else { Outcome::Failed(db(e)) };
                // A failed rollback or unlock means a broken connection, which the pool drops.
                let _ = conn.client.batch_execute("ROLLBACK");
                let _ = conn.client.batch_execute(WRITER_UNLOCK);
                self.put(conn);
                Err(outcome)
            }
        }
    }

    fn end(&self, mut conn: Conn, commit: bool) -> Outcome {
        let outcome = if commit {
            match conn.client.batch_execute("COMMIT") {
                Ok(()) => Outcome::Committed,
                Err(e) if is_conflict(&e) => Outcome::Retry,
                Err(e) => Outcome::Failed(db(e)),
            }
        } else {
            // Failed only on a broken connection, which the pool drops.
            let _ = conn.client.batch_execute("ROLLBACK");
            Outcome::Retry
        };
        // The outcome stands whatever the unlock does: an unlock fails only on a broken
        // connection, whose end releases the lock.
        let _ = conn.client.batch_execute(WRITER_UNLOCK);
        self.put(conn);
        outcome
    }

    fn abandon(&self, conn: Conn) {
        // Closing it rolls its transaction back and releases the lock.
        drop(conn);
        self.lost();
    }
}
