//! The embedded default store: SQLite (bundled), WAL journal with `synchronous=FULL`
//! (every commit on stable storage before it returns: an accepted code or a counted
//! error survives a power cut), one `BEGIN IMMEDIATE` transaction at a time (so
//! check-and-update is serialized across threads and processes), and the transactions
//! that arrive together sharing it and its one sync (group commit, `group`: each in its
//! own savepoint, none answered before the commit), versioned schema migrations
//! (`PRAGMA user_version`). Records are JSON in a `data` column beside the key and lookup
//! columns, updated in place (upserts); the audit log has real columns, and triggers keep
//! it append-only (entries can only be deleted once past retention).

use std::path::Path;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::group::{Database, Group, Outcome, Ran};
use super::model::{
    AuditEntry, AuditQuery, CodeRecord, Customer, Institution, Link, OtpDevice, SmsChallenge,
};
use super::store::{IssuerStore, IssuerTx, Rollback, StoreFault, Table};

/// The schema, one entry per version; never edit a released entry, append a new one.
const MIGRATIONS: &[&str] = &[
    // Version 1.
    "
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE institutions (institution_id TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE customers (
        institution_id TEXT NOT NULL, customer_id TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (institution_id, customer_id));
    CREATE TABLE devices (device_id TEXT PRIMARY KEY, state TEXT NOT NULL, data TEXT NOT NULL);
    CREATE TABLE links (
        link_id INTEGER PRIMARY KEY AUTOINCREMENT,
        institution_id TEXT NOT NULL, customer_id TEXT NOT NULL, device_id TEXT NOT NULL,
        data TEXT NOT NULL);
    CREATE INDEX links_customer ON links (institution_id, customer_id);
    CREATE INDEX links_device ON links (device_id);
    CREATE TABLE codes (
        code_id TEXT PRIMARY KEY, institution_id TEXT NOT NULL, customer_id TEXT NOT NULL,
        phone_hint TEXT NOT NULL, state TEXT NOT NULL, data TEXT NOT NULL);
    CREATE INDEX codes_customer ON codes (institution_id, customer_id);
    CREATE INDEX codes_hint ON codes (phone_hint, state);
    CREATE TABLE sms (
        institution_id TEXT NOT NULL, customer_id TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (institution_id, customer_id));
    CREATE TABLE serials (institution_id TEXT PRIMARY KEY, next INTEGER NOT NULL);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
        institution_id TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        subject TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL);
    CREATE INDEX audit_subject ON audit (subject, id);
    CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_retention BEFORE DELETE ON audit
        WHEN OLD.at >= COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'audit_purge_before'), 0)
        BEGIN SELECT RAISE(ABORT, 'audit entries are deleted only past their retention'); END;
    ",
    // Version 2: registration codes found by a keyed lookup, never by the code (the
    // codes of version 1 were short-lived: outstanding ones are void after the upgrade);
    // the audit log's hash chain.
    "
    DROP TABLE codes;
    CREATE TABLE codes (
        code_ref TEXT PRIMARY KEY, institution_id TEXT NOT NULL, customer_id TEXT NOT NULL,
        lookup TEXT NOT NULL, state TEXT NOT NULL, data TEXT NOT NULL);
    CREATE INDEX codes_customer ON codes (institution_id, customer_id);
    CREATE INDEX codes_lookup ON codes (lookup, state);
    ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT '';
    ",
];

fn db(e: rusqlite::Error) -> StoreFault {
    StoreFault::Database(e.to_string())
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreFault> {
    serde_json::to_string(value).map_err(|e| StoreFault::Corrupt(e.to_string()))
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, StoreFault> {
    serde_json::from_str(text)
        .map_err(|e| StoreFault::Corrupt(format!("{} at column {}", e.classify_name(), e.column())))
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "eof",
        }
    }
}

/// The columns of an audit entry, in [`audit_row`]'s order.
const AUDIT_SELECT: &str =
    "SELECT id, at, institution_id, actor, action, subject, outcome, detail, hash FROM audit";

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get::<_, i64>(0)? as u64,
        at: r.get::<_, i64>(1)? as u64,
        institution_id: r.get(2)?,
        actor: r.get(3)?,
        action: r.get(4)?,
        subject: r.get(5)?,
        outcome: r.get(6)?,
        detail: r.get(7)?,
        hash: r.get(8)?,
    })
}

/// The SQLite store.
pub struct SqliteStore {
    /// The batches of transactions (group commit) on the one connection.
    group: Group<OneConnection>,
}

/// The store's one connection, held by one thread at a time: a batch of transactions
/// (`group`), or a read.
struct OneConnection {
    conn: Mutex<Option<Connection>>,
    back: Condvar,
}

/// The connection, held until dropped.
struct Held<'a> {
    from: &'a OneConnection,
    conn: Option<Connection>,
}

impl std::ops::Deref for Held<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("held until dropped")
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.from.put(conn);
        }
    }
}

impl OneConnection {
    /// The connection, once no one else holds it.
    fn hold(&self) -> Held<'_> {
        let mut slot = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(conn) = slot.take() {
                return Held { from: self, conn: Some(conn) };
            }
            slot = self.back.wait(slot).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn put(&self, conn: Connection) {
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn);
        self.back.notify_one();
    }

    /// Rolls back what is open (a failed rollback leaves nothing open) and gives the
    /// connection back.
    fn roll_back(&self, conn: Connection) {
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        self.put(conn);
    }
}

/// A batch (`group`): `BEGIN IMMEDIATE` takes SQLite's write lock (waiting up to the busy
/// timeout for another process's writer), `COMMIT` syncs the WAL once for the batch.
impl Database for OneConnection {
    type Conn = Connection;

    fn begin(&self) -> Result<Connection, Outcome> {
        let conn = self.hold().conn.take().expect("held until dropped");
        match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => Ok(conn),
            Err(e) => {
                self.roll_back(conn);
                Err(Outcome::Failed(db(e)))
            }
        }
    }

    fn end(&self, conn: Connection, commit: bool) -> Outcome {
        let outcome = if !commit {
            Outcome::Retry
        } else if conn.is_autocommit() {
            Outcome::Failed(StoreFault::Database("SQLite rolled the transaction back".into()))
        } else {
            match conn.execute_batch("COMMIT") {
                Ok(()) => Outcome::Committed,
                Err(e) => Outcome::Failed(db(e)),
            }
        };
        self.roll_back(conn);
        outcome
    }

    fn abandon(&self, conn: Connection) {
        self.roll_back(conn);
    }
}

/// Runs `f` in a savepoint of the batch's transaction: kept if `f` succeeded (the
/// commit keeps it), rolled back alone otherwise. A transaction that SQLite itself rolled
/// back (a full disk, an I/O error) dooms the batch.
fn run_in_savepoint(
    conn: &mut Connection,
    f: &mut dyn FnMut(&mut dyn IssuerTx) -> Result<(), Rollback>,
) -> Ran {
    let gone = || {
        Ran::Doomed(Outcome::Failed(StoreFault::Database(
            "SQLite rolled the transaction back".into(),
        )))
    };
    if let Err(e) = conn.execute_batch("SAVEPOINT member") {
        return Ran::Doomed(Outcome::Failed(db(e)));
    }
    let mut tx = SqlTx { tx: conn, failed: Default::default() };
    let result = match (f(&mut tx), tx.failed.into_inner()) {
        (_, Some(fault)) => Err(Rollback::Store(fault)),
        (result, None) => result,
    };
    if conn.is_autocommit() {
        return gone();
    }
    if result.is_ok() {
        return Ran::Done(result);
    }
    match conn.execute_batch("ROLLBACK TO SAVEPOINT member") {
        Ok(()) => Ran::Done(result),
        Err(e) => Ran::Doomed(Outcome::Failed(db(e))),
    }
}

/// How many times a transaction is run again after its batch was undone by another's
/// panic.
const MAX_ATTEMPTS: u32 = 20;

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreFault> {
        let conn = Connection::open(path).map_err(db)?;
        Self::setup(conn)
    }

    /// How many commits this store has made since it was opened: concurrent transactions
    /// share one (group commit), so under load this grows more slowly than the number of
    /// transactions.
    pub fn commits(&self) -> u64 {
        self.group.commits()
    }

    /// How many transactions have joined the batch now open and not yet run (for tests
    /// that need a batch of several).
    #[cfg(feature = "test-support")]
    pub fn transactions_waiting(&self) -> usize {
        self.group.members_waiting()
    }

    /// Opens `path` like [`Self::open`] but through the SQLite VFS named `vfs` (which the
    /// caller registered), and durable (`synchronous=FULL`, the store's setting) or not
    /// (`NORMAL`, to show what that costs): for tests that cut the power.
    #[cfg(feature = "test-support")]
    pub fn open_with_vfs(
        path: impl AsRef<Path>,
        vfs: &str,
        durable: bool,
    ) -> Result<Self, StoreFault> {
        let flags = rusqlite::OpenFlags::default();
        let store =
            Self::setup(Connection::open_with_flags_and_vfs(path, flags, vfs).map_err(db)?)?;
        if !durable {
            store.group.db().hold().pragma_update(None, "synchronous", "NORMAL").map_err(db)?;
        }
        Ok(store)
    }

    /// An in-memory SQLite database (tests).
    pub fn open_in_memory() -> Result<Self, StoreFault> {
        Self::setup(Connection::open_in_memory().map_err(db)?)
    }

    fn setup(mut conn: Connection) -> Result<Self, StoreFault> {
        conn.busy_timeout(Duration::from_secs(10)).map_err(db)?;
        // Small pages: a verification dirties three pages (device, audit row, audit
        // index), and each is written whole to the WAL. Only applies to new databases.
        conn.pragma_update(None, "page_size", 1024).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
        // Durable: NORMAL would sync only at checkpoints, so a power cut could undo the
        // last accepted codes (replayable again) and the last counted errors.
        conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        // Checkpoint less often: hot pages (device rows, the audit tail) are then copied
        // to the database once per checkpoint rather than once per 1000 commits.
        conn.pragma_update(None, "wal_autocheckpoint", 8000).map_err(db)?;
        let version: i64 =
            conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(db)?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreFault::SchemaTooNew(version));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive).map_err(db)?;
            tx.execute_batch(sql).map_err(db)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64).map_err(db)?;
            tx.commit().map_err(db)?;
        }
        let one = OneConnection { conn: Mutex::new(Some(conn)), back: Condvar::new() };
        Ok(Self { group: Group::new(one) })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreFault> {
        let conn = self.group.db().hold();
        conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(db)
    }

    /// Runs SQLite's integrity check; `Ok(())` if the database is consistent.
    pub fn integrity_check(&self) -> Result<(), StoreFault> {
        let conn = self.group.db().hold();
        let result: String =
            conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(db)?;
        if result == "ok" {
            Ok(())
        } else {
            Err(StoreFault::Corrupt(result))
        }
    }
}

struct SqlTx<'a> {
    tx: &'a Connection,
    /// The first statement that failed.
    failed: std::cell::RefCell<Option<StoreFault>>,
}

impl SqlTx<'_> {
    /// Records the attempt's first failed statement: the attempt is then rolled back,
    /// whatever the closure returns (as PostgreSQL does).
    fn fail(&self, e: rusqlite::Error) -> StoreFault {
        let fault = db(e);
        self.failed.borrow_mut().get_or_insert_with(|| fault.clone());
        fault
    }

    fn one<T: DeserializeOwned>(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Option<T>, StoreFault> {
        let text: Option<String> = self
            .tx
            .prepare_cached(sql)
            .map_err(|e| self.fail(e))?
            .query_row(args, |r| r.get(0))
            .optional()
            .map_err(|e| self.fail(e))?;
        text.map(|t| from_json(&t)).transpose()
    }

    fn many<T: DeserializeOwned>(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<T>, StoreFault> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(|e| self.fail(e))?;
        let rows = stmt.query_map(args, |r| r.get::<_, String>(0)).map_err(|e| self.fail(e))?;
        rows.map(|r| from_json(&r.map_err(|e| self.fail(e))?)).collect()
    }

    fn exec(&self, sql: &str, args: impl rusqlite::Params) -> Result<(), StoreFault> {
        self.tx
            .prepare_cached(sql)
            .map_err(|e| self.fail(e))?
            .execute(args)
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    fn links(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<Link>, StoreFault> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(args, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.fail(e))?;
        rows.map(|r| {
            let (id, data) = r.map_err(|e| self.fail(e))?;
            let link: Link = from_json(&data)?;
            Ok(Link { link_id: id as u64, ..link })
        })
        .collect()
    }
}

fn state_name<T: Serialize>(value: &T) -> Result<String, StoreFault> {
    Ok(to_json(value)?.trim_matches('"').to_string())
}

impl IssuerTx for SqlTx<'_> {
    fn institution(&mut self, id: &str) -> Result<Option<Institution>, StoreFault> {
        self.one("SELECT data FROM institutions WHERE institution_id = ?1", params![id])
    }
    fn put_institution(&mut self, i: &Institution) -> Result<(), StoreFault> {
        self.exec("INSERT INTO institutions (institution_id, data) VALUES (?1, ?2) ON CONFLICT (institution_id) DO UPDATE SET data = excluded.data", params![i.institution_id, to_json(i)?])
    }
    fn customer(&mut self, i: &str, c: &str) -> Result<Option<Customer>, StoreFault> {
        self.one(
            "SELECT data FROM customers WHERE institution_id = ?1 AND customer_id = ?2",
            params![i, c],
        )
    }
    fn put_customer(&mut self, c: &Customer) -> Result<(), StoreFault> {
        self.exec(
            "INSERT INTO customers (institution_id, customer_id, data) VALUES (?1, ?2, ?3) ON CONFLICT (institution_id, customer_id) DO UPDATE SET data = excluded.data",
            params![c.institution_id, c.customer_id, to_json(c)?],
        )
    }
    fn device(&mut self, id: &str) -> Result<Option<OtpDevice>, StoreFault> {
        self.one("SELECT data FROM devices WHERE device_id = ?1", params![id])
    }
    fn put_device(&mut self, d: &OtpDevice) -> Result<(), StoreFault> {
        self.exec(
            "INSERT INTO devices (device_id, state, data) VALUES (?1, ?2, ?3) ON CONFLICT (device_id) DO UPDATE SET state = excluded.state, data = excluded.data",
            params![d.device_id, state_name(&d.state)?, to_json(d)?],
        )
    }
    fn links_of_customer(&mut self, i: &str, c: &str) -> Result<Vec<Link>, StoreFault> {
        self.links("SELECT link_id, data FROM links WHERE institution_id = ?1 AND customer_id = ?2 ORDER BY link_id", params![i, c])
    }
    fn links_of_device(&mut self, d: &str) -> Result<Vec<Link>, StoreFault> {
        self.links(
            "SELECT link_id, data FROM links WHERE device_id = ?1 ORDER BY link_id",
            params![d],
        )
    }
    fn link(&mut self, id: u64) -> Result<Option<Link>, StoreFault> {
        Ok(self
            .links("SELECT link_id, data FROM links WHERE link_id = ?1", params![id as i64])?
            .pop())
    }
    fn put_link(&mut self, l: &Link) -> Result<u64, StoreFault> {
        let data = to_json(&Link { link_id: 0, ..l.clone() })?;
        if l.link_id == 0 {
            self.exec(
                "INSERT INTO links (institution_id, customer_id, device_id, data) VALUES (?1, ?2, ?3, ?4)",
                params![l.institution_id, l.customer_id, l.device_id, data],
            )?;
            Ok(self.tx.last_insert_rowid() as u64)
        } else {
            self.exec(
                "UPDATE links SET data = ?2 WHERE link_id = ?1",
                params![l.link_id as i64, data],
            )?;
            Ok(l.link_id)
        }
    }
    fn code(&mut self, id: &str) -> Result<Option<CodeRecord>, StoreFault> {
        self.one("SELECT data FROM codes WHERE code_ref = ?1", params![id])
    }
    fn codes_of_customer(&mut self, i: &str, c: &str) -> Result<Vec<CodeRecord>, StoreFault> {
        self.many(
            "SELECT data FROM codes WHERE institution_id = ?1 AND customer_id = ?2",
            params![i, c],
        )
    }
    fn put_code(&mut self, r: &CodeRecord) -> Result<(), StoreFault> {
        self.exec(
            "INSERT INTO codes (code_ref, institution_id, customer_id, lookup, state, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (code_ref) DO UPDATE SET lookup = excluded.lookup, state = excluded.state, data = excluded.data",
            params![r.code_ref, r.institution_id, r.customer_id, r.lookup, state_name(&r.state)?, to_json(r)?],
        )
    }
    fn open_codes_by_lookup(&mut self, lookup: &str) -> Result<Vec<CodeRecord>, StoreFault> {
        self.many("SELECT data FROM codes WHERE lookup = ?1 AND state = 'issued'", params![lookup])
    }
    fn sms(&mut self, i: &str, c: &str) -> Result<Option<SmsChallenge>, StoreFault> {
        self.one(
            "SELECT data FROM sms WHERE institution_id = ?1 AND customer_id = ?2",
            params![i, c],
        )
    }
    fn put_sms(&mut self, s: &SmsChallenge) -> Result<(), StoreFault> {
        self.exec(
            "INSERT INTO sms (institution_id, customer_id, data) VALUES (?1, ?2, ?3) ON CONFLICT (institution_id, customer_id) DO UPDATE SET data = excluded.data",
            params![s.institution_id, s.customer_id, to_json(s)?],
        )
    }
    fn delete_sms(&mut self, i: &str, c: &str) -> Result<(), StoreFault> {
        self.exec("DELETE FROM sms WHERE institution_id = ?1 AND customer_id = ?2", params![i, c])
    }
    fn next_serial(&mut self, i: &str) -> Result<u64, StoreFault> {
        self.exec(
            "INSERT INTO serials (institution_id, next) VALUES (?1, 1) ON CONFLICT (institution_id) DO UPDATE SET next = next + 1",
            params![i],
        )?;
        let n: i64 = self
            .tx
            .prepare_cached("SELECT next FROM serials WHERE institution_id = ?1")
            .map_err(|e| self.fail(e))?
            .query_row(params![i], |r| r.get(0))
            .map_err(|e| self.fail(e))?;
        Ok(n as u64)
    }
    fn append_audit(&mut self, e: &AuditEntry) -> Result<(), StoreFault> {
        self.exec(
            "INSERT INTO audit (id, at, institution_id, actor, action, subject, outcome, detail, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![e.id as i64, e.at as i64, e.institution_id, e.actor, e.action, e.subject, e.outcome, e.detail, e.hash],
        )
    }
    fn last_audit(&mut self) -> Result<Option<AuditEntry>, StoreFault> {
        let mut stmt = self
            .tx
            .prepare_cached(&format!("{AUDIT_SELECT} ORDER BY id DESC LIMIT 1"))
            .map_err(|e| self.fail(e))?;
        let mut rows = stmt.query_map([], audit_row).map_err(|e| self.fail(e))?;
        rows.next().transpose().map_err(|e| self.fail(e))
    }
    fn purge_audit(&mut self, before: u64) -> Result<(u64, Option<AuditEntry>), StoreFault> {
        let last = {
            let mut stmt = self
                .tx
                .prepare_cached(&format!("{AUDIT_SELECT} WHERE at < ?1 ORDER BY id DESC LIMIT 1"))
                .map_err(|e| self.fail(e))?;
            let mut rows =
                stmt.query_map(params![before as i64], audit_row).map_err(|e| self.fail(e))?;
            rows.next().transpose().map_err(|e| self.fail(e))?
        };
        self.exec(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('audit_purge_before', ?1)",
            params![before.to_string()],
        )?;
        let n = self
            .tx
            .execute("DELETE FROM audit WHERE at < ?1", params![before as i64])
            .map_err(|e| self.fail(e))?;
        self.exec("DELETE FROM meta WHERE key = 'audit_purge_before'", [])?;
        Ok((n as u64, last))
    }
    fn keys_of(
        &mut self,
        table: Table,
        after: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreFault> {
        let inner = match table {
            Table::Institutions => "SELECT institution_id AS k FROM institutions",
            Table::Customers => {
                "SELECT institution_id || char(0) || customer_id AS k FROM customers"
            }
            Table::Devices => "SELECT device_id AS k FROM devices",
            Table::Links => "SELECT printf('%020d', link_id) AS k FROM links",
            Table::Codes => "SELECT code_ref AS k FROM codes",
            Table::Sms => "SELECT institution_id || char(0) || customer_id AS k FROM sms",
        };
        let sql = format!("SELECT k FROM ({inner}) WHERE k > ?1 ORDER BY k LIMIT ?2");
        let mut stmt = self.tx.prepare_cached(&sql).map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![after, limit as i64], |r| r.get::<_, String>(0))
            .map_err(|e| self.fail(e))?;
        rows.map(|r| r.map_err(|e| self.fail(e))).collect()
    }
    fn meta(&mut self, k: &str) -> Result<Option<String>, StoreFault> {
        self.tx
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .map_err(|e| self.fail(e))?
            .query_row(params![k], |r| r.get(0))
            .optional()
            .map_err(|e| self.fail(e))
    }
    fn put_meta(&mut self, k: &str, v: &str) -> Result<(), StoreFault> {
        self.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![k, v])
    }
}

impl IssuerStore for SqliteStore {
    fn transaction(
        &self,
        f: &mut dyn FnMut(&mut dyn IssuerTx) -> Result<(), Rollback>,
    ) -> Result<(), Rollback> {
        for _ in 0..MAX_ATTEMPTS {
            if let Some(result) = self.group.attempt(&mut |conn| run_in_savepoint(conn, f)) {
                return result;
            }
        }
        Err(StoreFault::Database(format!(
            "the transaction was undone {MAX_ATTEMPTS} times by others that failed"
        ))
        .into())
    }

    fn audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreFault> {
        let conn = self.group.db().hold();
        let mut sql = format!("{AUDIT_SELECT} WHERE 1 = 1");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let mut add = |clause: &str, v: rusqlite::types::Value| {
            args.push(v);
            sql.push_str(&format!(" AND {clause} ?{}", args.len()));
        };
        if let Some(i) = &q.institution_id {
            add("institution_id =", i.clone().into());
        }
        if let Some(s) = &q.subject {
            add("subject =", s.clone().into());
        }
        if let Some(a) = &q.action {
            add("action =", a.clone().into());
        }
        if let Some(f) = q.from {
            add("at >=", (f as i64).into());
        }
        if let Some(u) = q.until {
            add("at <", (u as i64).into());
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", q.effective_limit()));
        let mut stmt = conn.prepare(&sql).map_err(db)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), audit_row).map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn audit_after(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreFault> {
        let conn = self.group.db().hold();
        let mut stmt = conn
            .prepare_cached(&format!("{AUDIT_SELECT} WHERE id > ?1 ORDER BY id LIMIT ?2"))
            .map_err(db)?;
        let rows = stmt.query_map(params![after as i64, limit as i64], audit_row).map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }
}
