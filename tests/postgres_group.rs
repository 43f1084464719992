//! Group commit in the PostgreSQL store: transactions asked of one store at the same time
//! share one database transaction and one commit, yet each stands or falls alone, and
//! none is reported before its commit. Run under `scripts/with-postgres.sh` (see
//! tests/postgres_store.rs).
#![cfg(all(feature = "postgres", feature = "test-support"))]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

use common::pg::fresh_database;
use digital_otp::issuer::postgres::PostgresStore;
use digital_otp::issuer::store::{IssuerStore, Rollback, StoreFault};

/// Waits (no deadline: a missing member would hang, not pass) until `n` transactions
/// have joined `store`'s open batch.
fn until_waiting(store: &PostgresStore, n: usize) {
    while store.transactions_waiting() < n {
        thread::yield_now();
    }
}

fn meta(store: &PostgresStore, key: &str) -> Option<String> {
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
fn spawn(
    store: &Arc<PostgresStore>,
    f: impl FnMut(&mut dyn digital_otp::issuer::store::IssuerTx) -> Result<(), Rollback>
        + Send
        + 'static,
) -> mpsc::Receiver<Result<(), Rollback>> {
    let (store, (done, result)) = (store.clone(), mpsc::channel());
    let mut f = f;
    thread::spawn(move || {
        let _ = done.send(store.transaction(&mut f));
    });
    result
}

#[test]
fn concurrent_transactions_share_one_commit_and_each_stands_or_falls_alone() {
    let Some(url) = fresh_database() else { return };
    let store = Arc::new(PostgresStore::connect(&url).unwrap());
    let before = store.commits();
    // A leads a batch and holds it open until three others have joined it.
    let (inside, entered) = mpsc::channel();
    let leader = store.clone();
    let a = thread::spawn(move || {
        leader.transaction(&mut |t| {
            t.put_meta("a", "1")?;
            let _ = inside.send(());
            until_waiting(&leader, 3);
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
        // PostgreSQL's text holds no NUL: the statement fails, and D with it.
        let _ = t.put_meta("nul\u{0}key", "v");
        Ok(())
    });
    assert_eq!(a.join().unwrap(), Ok(()));
    assert_eq!(b.recv().unwrap(), Ok(()));
    assert_eq!(c.recv().unwrap(), Err(Rollback::Abort));
    assert!(matches!(d.recv().unwrap(), Err(Rollback::Store(StoreFault::Database(_)))));
    assert_eq!(store.commits(), before + 1, "four transactions, one commit");
    assert_eq!(meta(&store, "a").as_deref(), Some("1"));
    assert_eq!(meta(&store, "b").as_deref(), Some("1"));
    assert_eq!(meta(&store, "c"), None, "C gave up: rolled back alone");
    assert_eq!(meta(&store, "d"), None, "D's statement failed: rolled back alone");
}

#[test]
fn a_member_that_panics_dooms_only_its_batch_and_the_others_run_again() {
    let Some(url) = fresh_database() else { return };
    let store = Arc::new(PostgresStore::connect(&url).unwrap());
    let (inside, entered) = mpsc::channel();
    let first = Arc::new(AtomicBool::new(true));
    let (leader, again) = (store.clone(), first.clone());
    let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counted = runs.clone();
    let a = thread::spawn(move || {
        leader.transaction(&mut |t| {
            counted.fetch_add(1, Ordering::SeqCst);
            t.put_meta("a", "1")?;
            if again.swap(false, Ordering::SeqCst) {
                let _ = inside.send(());
                until_waiting(&leader, 1);
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
    assert_eq!(meta(&store, "a").as_deref(), Some("1"));
    assert_eq!(meta(&store, "p"), None, "the panicked transaction left nothing");
    // The writer lock is free: another instance on the database gets its turn.
    let other = PostgresStore::connect(&url).unwrap();
    other.transaction(&mut |t| t.put_meta("o", "1").map_err(Into::into)).unwrap();
    assert_eq!(meta(&store, "o").as_deref(), Some("1"));
}
