//! The PostgreSQL store (feature `postgres`): one database shared by instances of the
//! issuer on one host or many. SQLite's tables and columns (records as JSON in `data`
//! beside the key and lookup columns; the audit log append-only by triggers, deleted only
//! past retention), versioned migrations (`schema_version`), and a small pool of
//! connections of the synchronous `postgres` client.
//!
//! # Why check-and-update is atomic across instances
//!
//! Every [`IssuerStore::transaction`] runs at `ISOLATION LEVEL SERIALIZABLE`: the
//! transactions that commit have the effect of running one after another, whichever
//! instance or host runs them, and PostgreSQL aborts one that would break that with
//! SQLSTATE `40001` (serialization failure) or `40P01` (deadlock). The abort undoes the
//! attempt's writes, and the store re-runs the closure (`FnMut`, with no effect outside
//! the transaction) in a new transaction that sees the winner's writes, up to
//! [`MAX_ATTEMPTS`] times after short random pauses, then fails with a
//! [`StoreFault::Database`]. Two instances verifying one code both write the device row
//! (its last accepted step): one commits, the other is aborted, re-run, reads that step
//! and refuses the code as a replay. Ten wrong codes from ten instances are ten
//! read-increment-write transactions on one row: none commits on a count changed since
//! it read it, so none is lost and the tenth locks the device. The audit chain's head (a
//! `meta` row every audited transaction updates) orders the audit log the same way. An
//! attempt in which a statement failed is never committed, whatever the closure returned.
//!
//! Since every audited transaction updates that head, an instance's transactions queue
//! behind a session advisory lock taken before each batch begins (they wait instead of
//! aborting and retrying under load), and the ones that arrive together share one
//! database transaction and one commit: *group commit* (`group`), each in its own
//! savepoint, so that one that gives up is undone alone, and none answered before the
//! commit is durable. Reads that decide nothing ([`IssuerStore::read`]: the API keys) run
//! in a `READ ONLY` transaction on their own connection, beside the batches. The
//! throughput this gives is in BENCHMARKS.md; one chain per institution would lift the
//! limit of one writer at a time.
//!
//! Errors carry PostgreSQL's SQLSTATE and message, never its `DETAIL` (which may quote a
//! row) nor the message of a data exception (which may quote a value).

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, Config, IsolationLevel, Row, Statement};

use super::group::{Group, Outcome, Ran};
use super::pg_connect::{self, db, is_conflict, Conn, Pool};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::model::{
    AuditEntry, AuditQuery, CodeRecord, Customer, Institution, Link, OtpDevice, SmsChallenge,
};
use super::store::{link_key, IssuerStore, IssuerTx, Rollback, StoreFault, Table};

/// How many times a transaction is tried before a serialization failure is reported.
pub const MAX_ATTEMPTS: u32 = 20;

/// Connections of a store made by [`PostgresStore::connect`].
pub const DEFAULT_POOL_SIZE: usize = 8;

/// Before the migrations: the advisory lock that serializes them across instances (its
/// key is "dotp" in ASCII), and the table of the versions applied.
const MIGRATION_START: &str = "SELECT pg_advisory_xact_lock(1685025904);
    CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";

/// The schema version of a database (0: none yet).
const VERSION: &str = "SELECT COALESCE(MAX(version), 0) FROM schema_version";

/// The schema, one entry per version; never edit a released entry, append a new one.
/// Key columns are `COLLATE "C"`: keys order bytewise, as in SQLite, and `keys_of` pages
/// along the primary keys.
const MIGRATIONS: &[&str] = &[
    // Version 1: SQLite's schema of version 2.
    r#"
    CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE institutions (institution_id TEXT COLLATE "C" PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE customers (institution_id TEXT COLLATE "C" NOT NULL,
        customer_id TEXT COLLATE "C" NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (institution_id, customer_id));
    CREATE TABLE devices (
        device_id TEXT COLLATE "C" PRIMARY KEY, state TEXT NOT NULL, data TEXT NOT NULL);
    CREATE TABLE links (link_id BIGSERIAL PRIMARY KEY, institution_id TEXT NOT NULL,
        customer_id TEXT NOT NULL, device_id TEXT NOT NULL, data TEXT NOT NULL);
    CREATE INDEX links_customer ON links (institution_id, customer_id);
    CREATE INDEX links_device ON links (device_id);
    CREATE TABLE codes (code_ref TEXT COLLATE "C" PRIMARY KEY, institution_id TEXT NOT NULL,
        customer_id TEXT NOT NULL, lookup TEXT NOT NULL, state TEXT NOT NULL, data TEXT NOT NULL);
    CREATE INDEX codes_customer ON codes (institution_id, customer_id);
    CREATE INDEX codes_lookup ON codes (lookup, state);
    CREATE TABLE sms (institution_id TEXT COLLATE "C" NOT NULL,
        customer_id TEXT COLLATE "C" NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (institution_id, customer_id));
    CREATE TABLE serials (institution_id TEXT PRIMARY KEY, next BIGINT NOT NULL);
    CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL,
        institution_id TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        subject TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL,
        hash TEXT NOT NULL DEFAULT '');
    CREATE INDEX audit_subject ON audit (subject, id);
    CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
    CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
        FOR EACH ROW EXECUTE FUNCTION audit_append_only();
    CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
        FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
    CREATE FUNCTION audit_retention() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF OLD.at >= COALESCE((SELECT CAST(value AS BIGINT) FROM meta
                               WHERE key = 'audit_purge_before'), 0) THEN
            RAISE EXCEPTION 'audit entries are deleted only past their retention';
        END IF;
        RETURN OLD;
    END $$;
    CREATE TRIGGER audit_retention BEFORE DELETE ON audit
        FOR EACH ROW EXECUTE FUNCTION audit_retention();
    "#,
];

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreFault> {
    serde_json::to_string(value).map_err(|e| StoreFault::Corrupt(e.to_string()))
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, StoreFault> {
    // The kind and place of the error, not serde's message (which may quote the record).
    serde_json::from_str(text)
        .map_err(|e| StoreFault::Corrupt(format!("{:?} at column {}", e.classify(), e.column())))
}

fn state_name<T: Serialize>(value: &T) -> Result<String, StoreFault> {
    Ok(to_json(value)?.trim_matches('"').to_string())
}

/// A column of a row; a value of the wrong type is corrupt.
fn col<'a, T: postgres::types::FromSql<'a>>(row: &'a Row, i: usize) -> Result<T, StoreFault> {
    row.try_get(i).map_err(|_| StoreFault::Corrupt(format!("column {i} of a row")))
}

/// A non-negative BIGINT column as `u64`.
fn col_u64(row: &Row, i: usize) -> Result<u64, StoreFault> {
    u64::try_from(col::<i64>(row, i)?).map_err(|_| StoreFault::Corrupt("a negative number".into()))
}

/// The first column of the first row (of a `RETURNING`) as `u64`.
fn first_u64(rows: Vec<Row>) -> Result<u64, StoreFault> {
    col_u64(rows.first().ok_or(StoreFault::Database("no row returned".into()))?, 0)
}

/// A `u64` as a BIGINT parameter.
fn big(n: u64) -> Result<i64, StoreFault> {
    i64::try_from(n).map_err(|_| StoreFault::Database("a number beyond BIGINT".into()))
}

/// The columns of an audit entry, in [`audit_row`]'s order.
const AUDIT_SELECT: &str =
    "SELECT id, at, institution_id, actor, action, subject, outcome, detail, hash FROM audit";

fn audit_row(r: &Row) -> Result<AuditEntry, StoreFault> {
    Ok(AuditEntry {
        id: col_u64(r, 0)?,
        at: col_u64(r, 1)?,
        institution_id: col(r, 2)?,
        actor: col(r, 3)?,
        action: col(r, 4)?,
        subject: col(r, 5)?,
        outcome: col(r, 6)?,
        detail: col(r, 7)?,
        hash: col(r, 8)?,
    })
}

/// The PostgreSQL store.
pub struct PostgresStore {
    /// The batches of writers, on the pool of connections (which readers share).
    group: Group<Pool>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresStore")
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db` or
    /// `host=… dbname=…`) with a pool of [`DEFAULT_POOL_SIZE`] connections, and brings its
    /// schema up to date. A server on another host needs `sslmode=require`: TLS verified
    /// against the system's roots ([`Self::connect_with`] to give a CA file).
    pub fn connect(url: &str) -> Result<Self, StoreFault> {
        Self::connect_with(url, DEFAULT_POOL_SIZE, None)
    }

    /// [`Self::connect`] with at most `pool_size` connections (at least 1), and the
    /// server's certificate verified against the PEM certificates of `ca` if given.
    pub fn connect_with(
        url: &str,
        pool_size: usize,
        ca: Option<&std::path::Path>,
    ) -> Result<Self, StoreFault> {
        let config: Config = url
            .parse()
            .map_err(|_| StoreFault::Database("the PostgreSQL URL is invalid".into()))?;
        let tls = pg_connect::connector(&config, ca)?;
        let store = Self {
            group: Group::new(Pool {
                config,
                tls,
                size: pool_size.max(1),
                idle: Mutex::new((Vec::new(), 0)),
                freed: Condvar::new(),
            }),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Applies the migrations the database lacks, in one transaction that holds an
    /// advisory lock (instances starting together apply them once). Read committed: each
    /// statement after the lock sees what the lock's last holder committed.
    fn migrate(&self) -> Result<(), StoreFault> {
        let mut lent = self.group.db().get()?;
        let start = lent.conn().client.build_transaction();
        let mut tx = start.isolation_level(IsolationLevel::ReadCommitted).start().map_err(db)?;
        tx.batch_execute(MIGRATION_START).map_err(db)?;
        let version: i64 = col(&tx.query_one(VERSION, &[]).map_err(db)?, 0)?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreFault::SchemaTooNew(version));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            tx.batch_execute(sql).map_err(db)?;
            tx.execute(
                "INSERT INTO schema_version (version, applied_at)
                 VALUES ($1, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT))",
                &[&((i + 1) as i64)],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)
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

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64, StoreFault> {
        self.read(VERSION, &[])?.first().map_or(Ok(0), |row| col(row, 0))
    }

    /// Rows of a query outside any transaction (each statement sees committed data).
    fn read(&self, sql: &str, args: Args<'_>) -> Result<Vec<Row>, StoreFault> {
        let mut lent = self.group.db().get()?;
        let conn = lent.conn();
        let stmt = prepared(&mut conn.client, &mut conn.statements, sql).map_err(db)?;
        conn.client.query(&stmt, args).map_err(db)
    }
}

/// The prepared statement of `sql` on this connection (prepared once).
fn prepared<C: postgres::GenericClient>(
    client: &mut C,
    cache: &mut HashMap<String, Statement>,
    sql: &str,
) -> Result<Statement, postgres::Error> {
    if let Some(s) = cache.get(sql) {
        return Ok(s.clone());
    }
    let s = client.prepare(sql)?;
    cache.insert(sql.to_string(), s.clone());
    Ok(s)
}

/// The parameters of a statement.
type Args<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A failed statement of an attempt.
struct Failure {
    fault: StoreFault,
    conflict: bool,
}

struct PgTx<'a> {
    client: &'a mut Client,
    statements: &'a mut HashMap<String, Statement>,
    /// The first statement that failed (PostgreSQL then refuses the rest).
    failed: Option<Failure>,
}

impl PgTx<'_> {
    /// Records the attempt's first failure (PostgreSQL refuses every later statement).
    fn fail(&mut self, e: postgres::Error) -> StoreFault {
        let conflict = is_conflict(&e);
        let fault = db(e);
        self.failed.get_or_insert(Failure { fault: fault.clone(), conflict });
        fault
    }

    fn rows(&mut self, sql: &str, args: Args<'_>) -> Result<Vec<Row>, StoreFault> {
        let r =
            prepared(self.client, self.statements, sql).and_then(|s| self.client.query(&s, args));
        r.map_err(|e| self.fail(e))
    }

    /// Runs a statement; the number of rows it changed.
    fn count(&mut self, sql: &str, args: Args<'_>) -> Result<u64, StoreFault> {
        let r =
            prepared(self.client, self.statements, sql).and_then(|s| self.client.execute(&s, args));
        r.map_err(|e| self.fail(e))
    }

    fn exec(&mut self, sql: &str, args: Args<'_>) -> Result<(), StoreFault> {
        self.count(sql, args).map(drop)
    }

    fn one<T: DeserializeOwned>(
        &mut self,
        sql: &str,
        args: Args<'_>,
    ) -> Result<Option<T>, StoreFault> {
        Ok(self.many(sql, args)?.pop())
    }

    fn many<T: DeserializeOwned>(
        &mut self,
        sql: &str,
        args: Args<'_>,
    ) -> Result<Vec<T>, StoreFault> {
        self.rows(sql, args)?.iter().map(|row| from_json(col::<&str>(row, 0)?)).collect()
    }

    fn links(&mut self, sql: &str, args: Args<'_>) -> Result<Vec<Link>, StoreFault> {
        self.rows(sql, args)?
            .iter()
            .map(|row| {
                let link: Link = from_json(col::<&str>(row, 1)?)?;
                Ok(Link { link_id: col_u64(row, 0)?, ..link })
            })
            .collect()
    }

    fn audit_one(&mut self, sql: &str, args: Args<'_>) -> Result<Option<AuditEntry>, StoreFault> {
        self.rows(sql, args)?.first().map(audit_row).transpose()
    }
}

impl IssuerTx for PgTx<'_> {
    fn institution(&mut self, id: &str) -> Result<Option<Institution>, StoreFault> {
        self.one("SELECT data FROM institutions WHERE institution_id = $1", &[&id])
    }
    fn put_institution(&mut self, i: &Institution) -> Result<(), StoreFault> {
        self.exec(
            "INSERT INTO institutions (institution_id, data) VALUES ($1, $2) ON CONFLICT (institution_id) DO UPDATE SET data = excluded.data",
            &[&i.institution_id, &to_json(i)?],
        )
    }
    fn customer(&mut self, i: &str, c: &str) -> Result<Option<Customer>, StoreFault> {
        self.one(
            "SELECT data FROM customers WHERE institution_id = $1 AND customer_id = $2",
            &[&i, &c],
        )
    }
    fn put_customer(&mut self, c: &Customer) -> Result<(), StoreFault> {
        self.exec(
            "INSERT INTO customers (institution_id, customer_id, data) VALUES ($1, $2, $3) ON CONFLICT (institution_id, customer_id) DO UPDATE SET data = excluded.data",
            &[&c.institution_id, &c.customer_id, &to_json(c)?],
        )
    }
    fn device(&mut self, id: &str) -> Result<Option<OtpDevice>, StoreFault> {
        self.one("SELECT data FROM devices WHERE device_id = $1", &[&id])
    }
    fn put_device(&mut self, d: &OtpDevice) -> Result<(), StoreFault> {
        self.exec(
            "INSERT INTO devices (device_id, state, data) VALUES ($1, $2, $3) ON CONFLICT (device_id) DO UPDATE SET state = excluded.state, data = excluded.data",
            &[&d.device_id, &state_name(&d.state)?, &to_json(d)?],
        )
    }
    fn links_of_customer(&mut self, i: &str, c: &str) -> Result<Vec<Link>, StoreFault> {
        self.links(
            "SELECT link_id, data FROM links WHERE institution_id = $1 AND customer_id = $2 ORDER BY link_id",
            &[&i, &c],
        )
    }
    fn links_of_device(&mut self, d: &str) -> Result<Vec<Link>, StoreFault> {
        self.links("SELECT link_id, data FROM links WHERE device_id = $1 ORDER BY link_id", &[&d])
    }
    fn link(&mut self, id: u64) -> Result<Option<Link>, StoreFault> {
        let Ok(id) = i64::try_from(id) else { return Ok(None) };
        Ok(self.links("SELECT link_id, data FROM links WHERE link_id = $1", &[&id])?.pop())
    }
    fn put_link(&mut self, l: &Link) -> Result<u64, StoreFault> {
        let data = to_json(&Link { link_id: 0, ..l.clone() })?;
        if l.link_id == 0 {
            first_u64(self.rows(
                "INSERT INTO links (institution_id, customer_id, device_id, data) VALUES ($1, $2, $3, $4) RETURNING link_id",
                &[&l.institution_id, &l.customer_id, &l.device_id, &data],
            )?)
        } else {
            self.exec("UPDATE links SET data = $2 WHERE link_id = $1", &[&big(l.link_id)?, &data])?;
            Ok(l.link_id)
        }
    }
    fn code(&mut self, id: &str) -> Result<Option<CodeRecord>, StoreFault> {
        self.one("SELECT data FROM codes WHERE code_ref = $1", &[&id])
    }
    fn codes_of_customer(&mut self, i: &str, c: &str) -> Result<Vec<CodeRecord>, StoreFault> {
        self.many(
            "SELECT data FROM codes WHERE institution_id = $1 AND customer_id = $2 ORDER BY code_ref",
            &[&i, &c],
        )
    }
    fn put_code(&mut self, r: &CodeRecord) -> Result<(), StoreFault> {
        self.exec(
            "INSERT INTO codes (code_ref, institution_id, customer_id, lookup, state, data) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code_ref) DO UPDATE SET lookup = excluded.lookup, state = excluded.state, data = excluded.data",
            &[&r.code_ref, &r.institution_id, &r.customer_id, &r.lookup, &state_name(&r.state)?, &to_json(r)?],
        )
    }
    fn open_codes_by_lookup(&mut self, lookup: &str) -> Result<Vec<CodeRecord>, StoreFault> {
        self.many(
            "SELECT data FROM codes WHERE lookup = $1 AND state = 'issued' ORDER BY code_ref",
            &[&lookup],
        )
    }
    fn sms(&mut self, i: &str, c: &str) -> Result<Option<SmsChallenge>, StoreFault> {
        self.one("SELECT data FROM sms WHERE institution_id = $1 AND customer_id = $2", &[&i, &c])
    }
    fn put_sms(&mut self, s: &SmsChallenge) -> Result<(), StoreFault> {
        self.exec(
            "INSERT INTO sms (institution_id, customer_id, data) VALUES ($1, $2, $3) ON CONFLICT (institution_id, customer_id) DO UPDATE SET data = excluded.data",
            &[&s.institution_id, &s.customer_id, &to_json(s)?],
        )
    }
    fn delete_sms(&mut self, i: &str, c: &str) -> Result<(), StoreFault> {
        self.exec("DELETE FROM sms WHERE institution_id = $1 AND customer_id = $2", &[&i, &c])
    }
    fn next_serial(&mut self, i: &str) -> Result<u64, StoreFault> {
        first_u64(self.rows(
            "INSERT INTO serials (institution_id, next) VALUES ($1, 1) ON CONFLICT (institution_id) DO UPDATE SET next = serials.next + 1 RETURNING next",
            &[&i],
        )?)
    }
    fn append_audit(&mut self, e: &AuditEntry) -> Result<(), StoreFault> {
        // ON CONFLICT: an id taken by a concurrent transaction is a serialization failure
        // (retried), not a unique violation; one taken before is refused.
        let n = self.count(
            "INSERT INTO audit (id, at, institution_id, actor, action, subject, outcome, detail, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
            &[&big(e.id)?, &big(e.at)?, &e.institution_id, &e.actor, &e.action, &e.subject, &e.outcome, &e.detail, &e.hash],
        )?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreFault::Database("audit ids must increase".into()))
        }
    }
    fn last_audit(&mut self) -> Result<Option<AuditEntry>, StoreFault> {
        self.audit_one(&format!("{AUDIT_SELECT} ORDER BY id DESC LIMIT 1"), &[])
    }
    fn purge_audit(&mut self, before: u64) -> Result<(u64, Option<AuditEntry>), StoreFault> {
        let before = big(before)?;
        let last = self.audit_one(
            &format!("{AUDIT_SELECT} WHERE at < $1 ORDER BY id DESC LIMIT 1"),
            &[&before],
        )?;
        self.put_meta("audit_purge_before", &before.to_string())?;
        let n = self.count("DELETE FROM audit WHERE at < $1", &[&before])?;
        self.exec("DELETE FROM meta WHERE key = 'audit_purge_before'", &[])?;
        Ok((n, last))
    }
    fn keys_of(
        &mut self,
        table: Table,
        after: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreFault> {
        let limit = i64::from(limit);
        let single = |this: &mut Self, name: &str, key: &str| -> Result<Vec<String>, StoreFault> {
            let sql = format!("SELECT {key} FROM {name} WHERE {key} > $1 ORDER BY {key} LIMIT $2");
            this.rows(&sql, &[&after, &limit])?.iter().map(|row| col(row, 0)).collect()
        };
        // PostgreSQL's text holds no NUL: pairs compare as (a, b) > (after's a, after's b),
        // the same order as `a NUL b` since no id contains NUL.
        let pairs = |this: &mut Self, name: &str| -> Result<Vec<String>, StoreFault> {
            let (a, b) = after.split_once('\u{0}').unwrap_or((after, ""));
            let sql = format!(
                "SELECT institution_id, customer_id FROM {name} WHERE (institution_id, customer_id) > ($1, $2) ORDER BY institution_id, customer_id LIMIT $3"
            );
            let rows = this.rows(&sql, &[&a, &b, &limit])?;
            rows.iter().map(|r| Ok(super::store::pair_key(col(r, 0)?, col(r, 1)?))).collect()
        };
        match table {
            Table::Institutions => single(self, "institutions", "institution_id"),
            Table::Devices => single(self, "devices", "device_id"),
            Table::Codes => single(self, "codes", "code_ref"),
            Table::Customers => pairs(self, "customers"),
            Table::Sms => pairs(self, "sms"),
            Table::Links => {
                // The keys are 20-digit ids: the first id above `after` as such a key.
                let Some(from) = first_link_after(after) else { return Ok(Vec::new()) };
                let rows = self.rows(
                    "SELECT link_id FROM links WHERE link_id >= $1 ORDER BY link_id LIMIT $2",
                    &[&from, &limit],
                )?;
                rows.iter().map(|r| Ok(link_key(col_u64(r, 0)?))).collect()
            }
        }
    }
    fn meta(&mut self, k: &str) -> Result<Option<String>, StoreFault> {
        self.rows("SELECT value FROM meta WHERE key = $1", &[&k])?
            .first()
            .map(|r| col(r, 0))
            .transpose()
    }
    fn put_meta(&mut self, k: &str, v: &str) -> Result<(), StoreFault> {
        self.exec(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&k, &v],
        )
    }
}

/// The smallest link id whose key ([`link_key`]: 20 digits) sorts bytewise after `after`
/// (`None`: no id does).
fn first_link_after(after: &str) -> Option<i64> {
    let bytes = after.as_bytes();
    let digits = bytes.iter().take(20).take_while(|b| b.is_ascii_digit()).count();
    let prefix: u128 = if digits == 0 { 0 } else { after[..digits].parse().ok()? };
    let first = if digits == 20 {
        // A whole key, or a key followed by more: its own id sorts at or before it.
        prefix + 1
    } else {
        // The keys that begin with these digits follow `after` if it ends there or goes
        // on with a byte below '0'; otherwise only the keys of greater prefixes do.
        let scale = 10u128.pow((20 - digits) as u32);
        if bytes.get(digits).is_none_or(|b| *b < b'0') {
            prefix * scale
        } else {
            (prefix + 1) * scale
        }
    };
    i64::try_from(first).ok()
}

/// Runs `f` in a savepoint of the batch's open transaction on `conn`: kept if `f`
/// succeeded, rolled back (alone) if it gave up or one of its statements failed; a
/// conflict or a connection that fails the savepoint dooms the batch.
fn run_in_savepoint(
    conn: &mut Conn,
    f: &mut dyn FnMut(&mut dyn IssuerTx) -> Result<(), Rollback>,
) -> Ran {
    let doom = |e: postgres::Error| {
        Ran::Doomed(if is_conflict(&e) { Outcome::Retry } else { Outcome::Failed(db(e)) })
    };
    if let Err(e) = conn.client.batch_execute("SAVEPOINT member") {
        return doom(e);
    }
    let mut ptx = PgTx { client: &mut conn.client, statements: &mut conn.statements, failed: None };
    let result = f(&mut ptx);
    let failed = ptx.failed.take();
    let result = match (failed, result) {
        (Some(Failure { conflict: true, .. }), _) => return Ran::Doomed(Outcome::Retry),
        (Some(Failure { fault, .. }), _) => Err(Rollback::Store(fault)),
        (None, result) => result,
    };
    // A successful member's savepoint is left open, not released: one round trip fewer,
    // and the commit keeps it all the same. A later member's `ROLLBACK TO` names its own,
    // the newest of that name.
    if result.is_ok() {
        return Ran::Done(result);
    }
    match conn.client.batch_execute("ROLLBACK TO SAVEPOINT member") {
        Ok(()) => Ran::Done(result),
        Err(e) => doom(e),
    }
}

/// A random pause before attempt `n` + 1: up to 1, 2, 4 … 32 ms.
fn backoff(n: u32) {
    let mut r = [0u8; 2];
    let jitter = match crate::crypto::random(&mut r) {
        Ok(()) => u64::from(u16::from_le_bytes(r)),
        Err(_) => u64::from(u16::MAX / 2),
    };
    let ceiling_us = 1000u64 << n.min(5);
    std::thread::sleep(Duration::from_micros(jitter * ceiling_us / u64::from(u16::MAX)));
}

impl IssuerStore for PostgresStore {
    fn transaction(
        &self,
        f: &mut dyn FnMut(&mut dyn IssuerTx) -> Result<(), Rollback>,
    ) -> Result<(), Rollback> {
        for n in 0..MAX_ATTEMPTS {
            if n > 0 {
                backoff(n - 1);
            }
            if let Some(result) = self.group.attempt(&mut |conn| run_in_savepoint(conn, f)) {
                return result;
            }
        }
        Err(StoreFault::Database(format!(
            "a transaction lost to concurrent ones {MAX_ATTEMPTS} times in a row"
        ))
        .into())
    }

    /// A REPEATABLE READ, READ ONLY transaction on a connection of its own, beside the
    /// writers' batches and without their lock: it sees the commits made before it began
    /// (PostgreSQL refuses a write in it).
    fn read(
        &self,
        f: &mut dyn FnMut(&mut dyn IssuerTx) -> Result<(), Rollback>,
    ) -> Result<(), Rollback> {
        let mut lent = self.group.db().get()?;
        let conn = lent.conn();
        conn.client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").map_err(db)?;
        let mut ptx =
            PgTx { client: &mut conn.client, statements: &mut conn.statements, failed: None };
        let result = f(&mut ptx);
        let failed = ptx.failed.take();
        // Nothing to keep: a read-only transaction ends the same by either word. A failed
        // rollback means a broken connection, which the pool drops.
        let _ = conn.client.batch_execute("ROLLBACK");
        match failed {
            Some(Failure { fault, .. }) => Err(Rollback::Store(fault)),
            None => result,
        }
    }

    fn audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreFault> {
        let from = q.from.map(big).transpose()?;
        let until = q.until.map(big).transpose()?;
        let filters: [(&str, Option<&(dyn ToSql + Sync)>); 5] = [
            ("institution_id =", q.institution_id.as_ref().map(|v| v as _)),
            ("subject =", q.subject.as_ref().map(|v| v as _)),
            ("action =", q.action.as_ref().map(|v| v as _)),
            ("at >=", from.as_ref().map(|v| v as _)),
            ("at <", until.as_ref().map(|v| v as _)),
        ];
        let mut sql = format!("{AUDIT_SELECT} WHERE TRUE");
        let mut args: Vec<&(dyn ToSql + Sync)> = Vec::new();
        for (clause, value) in filters {
            if let Some(v) = value {
                args.push(v);
                sql.push_str(&format!(" AND {clause} ${}", args.len()));
            }
        }
        let limit = i64::try_from(q.effective_limit()).unwrap_or(i64::MAX);
        args.push(&limit);
        // Prepared once per connection and combination of filters.
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", args.len()));
        self.read(&sql, &args)?.iter().map(audit_row).collect()
    }

    fn audit_after(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreFault> {
        let Ok(after) = i64::try_from(after) else { return Ok(Vec::new()) };
        self.read(
            &format!("{AUDIT_SELECT} WHERE id > $1 ORDER BY id LIMIT $2"),
            &[&after, &i64::from(limit)],
        )?
        .iter()
        .map(audit_row)
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest of `ids` whose key sorts after `after`, the slow way.
    fn brute(after: &str, ids: &[i64]) -> Option<i64> {
        ids.iter().copied().find(|id| link_key(*id as u64).as_str() > after)
    }

    #[test]
    fn link_keys_after_any_text_match_the_keys_own_order() {
        let ids: Vec<i64> = (0..=120).chain([999, 1000, 1001, i64::MAX - 1, i64::MAX]).collect();
        let mut afters: Vec<String> = ids.iter().map(|id| link_key(*id as u64)).collect();
        afters.extend(
            ["", "0", "00000000000000000001", "0000000000000000000", "00000000000000000009"]
                .iter()
                .map(|s| s.to_string()),
        );
        afters.extend(
            ["00000000000000000010x", "0000000000000000000/", "0000000000000000000:"]
                .map(String::from),
        );
        afters.extend(
            ["1", "9", "a", "/", " ", "0000000000000000001", "99999999999999999999"]
                .map(String::from),
        );
        afters.push(format!("{}\u{0}", link_key(5)));
        for after in &afters {
            let want = brute(after, &ids);
            // The store asks for ids at or above the answer; the first one it finds.
            let got =
                first_link_after(after).and_then(|from| ids.iter().copied().find(|id| *id >= from));
            assert_eq!(got, want, "after {after:?}");
        }
    }

    #[test]
    fn corrupt_json_names_the_kind_and_place_never_the_text() {
        let fault = from_json::<Link>("{\"secret-ish\": ").unwrap_err();
        let StoreFault::Corrupt(why) = fault else { panic!("{fault:?}") };
        assert!(why.starts_with("Eof at column"), "{why}");
        assert!(!why.contains("secret"), "{why}");
        let fault = from_json::<Link>("{\"link_id\": \"kim\"}").unwrap_err();
        assert!(matches!(&fault, StoreFault::Corrupt(w) if !w.contains("kim")), "{fault:?}");
    }
}
