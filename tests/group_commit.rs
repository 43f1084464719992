//! Group commit in both stores: transactions asked of one store at the same time share one
//! database transaction and one commit, yet each stands or falls alone, and none is
//! reported before its commit. SQLite always; PostgreSQL under `scripts/with-postgres.sh`
//! (see tests/postgres_store.rs).
#![cfg(all(feature = "issuer", feature = "test-support"))]

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

use digital_otp::issuer::model::AuditEntry;
#[cfg(feature = "postgres")]
use digital_otp::issuer::postgres::PostgresStore;
use digital_otp::issuer::sqlite::SqliteStore;
use digital_otp::issuer::store::{IssuerStore, IssuerTx, Rollback, StoreFault};

/// A store with group commit, as the tests see it.
trait Grouped: IssuerStore + Send + Sync + 'static {
    fn commits(&self) -> u64;
    fn waiting(&self) -> usize;
    /// Runs a write, then a statement that the database refuses.
    fn fail_a_statement(t: &mut dyn IssuerTx);
}

impl Grouped for SqliteStore {
    fn commits(&self) -> u64 {
        SqliteStore::commits(self)
    }
    fn waiting(&self) -> usize {
        self.transactions_waiting()
    }
    fn fail_a_statement(t: &mut dyn IssuerTx) {
        // The same audit id twice: the primary key refuses the second.
        let text = || String::from("x");
        let entry = AuditEntry {
            id: 7,
            at: 1,
            institution_id: text(),
            actor: text(),
            action: text(),
            subject: text(),
            outcome: text(),
            detail: text(),
            hash: text(),
        };
        let _ = t.append_audit(&entry);
        let _ = t.append_audit(&entry);
    }
}

#[cfg(feature = "postgres")]
impl Grouped for PostgresStore {
    fn commits(&self) -> u64 {
        PostgresStore::commits(self)
    }
    fn waiting(&self) -> usize {
        self.transactions_waiting()
    }
    fn fail_a_statement(t: &mut dyn IssuerTx) {
        let _ = t.put_meta("d2", "1");
        // PostgreSQL's text holds no NUL: the statement fails.
        let _ = t.put_meta("nul\u{0}key", "v");
    }
}

/// Waits (no deadline: a missing member would hang, not pass) until `n` transactions
/// have joined `store`'s open batch.
fn until_waiting(store: &impl Grouped, n: usize) {
    while store.waiting() < n {
        thread::yield_now();
    }
}

fn meta(store: &impl Grouped, key: &str) -> Option<String> {
    let mut value = None;
    store
        .transaction(&mut |t| {
            value = t.meta(key)?;
            Ok(())
        })
        .unwrap();
    value
}

/// Runs a transaction in a thread of its own; its result comes back on the channel.
fn spawn<S: Grouped>(
    store: &Arc<S>,
    f: impl FnMut(&mut dyn IssuerTx) -> Result<(), Rollback> + Send + 'static,
) -> mpsc::Receiver<Result<(), Rollback>> {
    let (store, (done, result)) = (store.clone(), mpsc::channel());
    let mut f = f;
    thread::spawn(move || {
        let _ = done.send(store.transaction(&mut f));
    });
    result
}

/// A fresh SQLite file (a second store can open it).
fn sqlite_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dotp-group-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("issuer.db")
}

#[test]
fn sqlite_concurrent_transactions_share_one_commit_and_each_stands_or_falls_alone() {
    let path = sqlite_file("share");
    share_one_commit(Arc::new(SqliteStore::open(&path).unwrap()));
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_concurrent_transactions_share_one_commit_and_each_stands_or_falls_alone() {
    let Some(url) = common::pg::fresh_database() else { return };
    share_one_commit(Arc::new(PostgresStore::connect(&url).unwrap()));
}

#[test]
fn sqlite_a_member_that_panics_dooms_only_its_batch_and_the_others_run_again() {
    let path = sqlite_file("panic");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    panic_dooms_its_batch(&store);
    // The write lock is free: another process's store on the file gets its turn.
    let other = SqliteStore::open(&path).unwrap();
    other.transaction(&mut |t| t.put_meta("o", "1").map_err(Into::into)).unwrap();
    assert_eq!(meta(&*store, "o").as_deref(), Some("1"));
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_a_member_that_panics_dooms_only_its_batch_and_the_others_run_again() {
    let Some(url) = common::pg::fresh_database() else { return };
    let store = Arc::new(PostgresStore::connect(&url).unwrap());
    panic_dooms_its_batch(&store);
    // The writer lock is free: another instance on the database gets its turn.
    let other = PostgresStore::connect(&url).unwrap();
    other.transaction(&mut |t| t.put_meta("o", "1").map_err(Into::into)).unwrap();
    assert_eq!(meta(&*store, "o").as_deref(), Some("1"));
}

fn share_one_commit<S: Grouped>(store: Arc<S>) {
    let before = store.commits();
    // A leads a batch and holds it open until three others have joined it.
    let (inside, entered) = mpsc::channel();
    let leader = store.clone();
    let a = thread::spawn(move || {
        leader.transaction(&mut |t| {
            t.put_meta("a", "1")?;
            let _ = inside.send(());
            until_waiting(&*leader, 3);
            Ok(())
        })
    });
    entered.recv().unwrap();
    let b = spawn(&store, |t| {
        // B runs after A in the same transaction: it sees A's write.
        let seen = t.meta("a")?;
        t.put_meta("b", seen.as_deref().unwrap_or("A's write was not seen"))?;
        Ok(())
    });
    let c = spawn(&store, |t| {
        t.put_meta("c", "1")?;
        Err(Rollback::Abort)
    });
    let d = spawn(&store, |t| {
        t.put_meta("d", "1")?;
        // A statement fails (its error ignored): D is rolled back all the same.
        S::fail_a_statement(t);
        Ok(())
    });
    assert_eq!(a.join().unwrap(), Ok(()));
    assert_eq!(b.recv().unwrap(), Ok(()));
    assert_eq!(c.recv().unwrap(), Err(Rollback::Abort));
    assert!(matches!(d.recv().unwrap(), Err(Rollback::Store(StoreFault::Database(_)))));
    assert_eq!(store.commits(), before + 1, "four transactions, one commit");
    assert_eq!(meta(&*store, "a").as_deref(), Some("1"));
    assert_eq!(meta(&*store, "b").as_deref(), Some("1"));
    assert_eq!(meta(&*store, "c"), None, "C gave up: rolled back alone");
    assert_eq!(meta(&*store, "d"), None, "D's statement failed: rolled back alone");
}

fn panic_dooms_its_batch<S: Grouped>(store: &Arc<S>) {
    let (inside, entered) = mpsc::channel();
    let first = Arc::new(AtomicBool::new(true));
    let (leader, again) = (store.clone(), first.clone());
    let runs = Arc::new(AtomicU32::new(0));
    let counted = runs.clone();
    let a = thread::spawn(move || {
        leader.transaction(&mut |t| {
            counted.fetch_add(1, Ordering::SeqCst);
            t.put_meta("a", "1")?;
            if again.swap(false, Ordering::SeqCst) {
                let _ = inside.send(());
                until_waiting(&*leader, 1);
            }
            Ok(())
        })
    });
    entered.recv().unwrap();
    let panicking = store.clone();
    let p = thread::spawn(move || {
        let _ = panicking.transaction(&mut |t| {
            t.put_meta("p", "1")?;
            panic!("a bug in an issuer operation");
        });
    });
    assert!(p.join().is_err(), "the member panicked");
    // A's first run was in the doomed batch: it ran again, and only then was answered.
    assert_eq!(a.join().unwrap(), Ok(()));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!(meta(&**store, "a").as_deref(), Some("1"));
    assert_eq!(meta(&**store, "p"), None, "the panicked transaction left nothing");
}
