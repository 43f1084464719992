//! Group commit for the PostgreSQL store: the transactions one store is asked for at the
//! same time share one database transaction, one writer lock and one commit (one fsync).
//!
//! The first caller leads a *batch*: it takes a connection, the writer lock, begins a
//! SERIALIZABLE transaction and runs its closure. Callers that arrive while the batch is
//! open join it (up to [`MAX_MEMBERS`]): each in turn runs its own closure on the batch's
//! connection inside its own savepoint, so a closure that gives up (or whose statement
//! fails) is rolled back alone and the others stand. When every member has run, the
//! leader closes the batch, commits, releases the lock and tells the members; a member
//! whose closure succeeded returns only then, so nothing is reported before it is
//! durable. The members run one after another, as the writer lock already made them, so
//! the batch has the effect of its transactions run in turn.
//!
//! A conflict (SQLSTATE 40001/40P01, in a statement or at the commit), a broken
//! connection or a panic in a closure *dooms* the batch: nothing of it commits and every
//! member runs again (the caller's retry loop), as a lone transaction would. A panicking
//! closure drops the connection, which closes it: PostgreSQL rolls the transaction back
//! and releases the lock.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::pg_connect::{db, is_conflict, Conn, Pool};
use super::store::{Rollback, StoreFault};

/// The most transactions in one batch: each is a subtransaction, and PostgreSQL keeps
/// only 64 subtransaction ids per session in shared memory before every snapshot has to
/// look them up on disk (subtransaction overflow).
pub(super) const MAX_MEMBERS: usize = 48;

/// How a batch ended, for its members.
#[derive(Clone, Debug)]
pub(super) enum Outcome {
    /// Committed: the members' successful closures are durable.
    Committed,
    /// Rolled back by a conflict or a lost connection: run again.
    Retry,
    /// Could not commit: the database's failure.
    Failed(StoreFault),
}

/// What a closure's run did: its result (its savepoint kept or rolled back), or how
/// it doomed the batch.
pub(super) enum Ran {
    Done(Result<(), Rollback>),
    Doomed(Outcome),
}

#[derive(Default)]
struct Shared {
    /// The batch accepting members.
    open: Option<u64>,
    next: u64,
    /// The open batch's connection, while no member holds it.
    conn: Option<Conn>,
    /// Members of the open batch besides the leader; of them, those that have run (or
    /// skipped a doomed batch) and those that panicked.
    joined: usize,
    ran: usize,
    deserted: usize,
    /// Why the open batch cannot commit.
    doomed: Option<Outcome>,
    /// Ended batches' outcomes, with how many members have still to read each.
    ended: HashMap<u64, (Outcome, usize)>,
    /// Batches committed (for tests).
    commits: u64,
}

/// The batches of one store.
#[derive(Default)]
pub(super) struct Group {
    shared: Mutex<Shared>,
    changed: Condvar,
}

/// The connection in a closure's hands: if the closure panics, the drop dooms the batch
/// and closes the connection.
struct Holding<'g> {
    group: &'g Group,
    conn: Option<Conn>,
    /// The batch, when the holder is its leader.
    leader: Option<u64>,
}

impl Drop for Holding<'_> {
    fn drop(&mut self) {
        // Still held: the closure panicked. Dropping the connection closes it.
        if self.conn.take().is_none() {
            return;
        }
        let mut s = self.group.lock();
        match self.leader {
            // The leader, before it shared the connection: the batch ends now.
            Some(batch) => {
                let readers = s.end(batch);
                s.doomed = None;
                s.publish(batch, Outcome::Retry, readers);
            }
            None => {
                s.doomed.get_or_insert(Outcome::Retry);
                s.ran += 1;
                s.deserted += 1;
            }
        }
        drop(s);
        self.group.changed.notify_all();
    }
}

impl Shared {
    /// Ends the open batch: no one joins it any more. How many members will read its
    /// outcome.
    fn end(&mut self, batch: u64) -> usize {
        if self.open != Some(batch) {
            return 0;
        }
        self.open = None;
        let readers = self.joined - self.deserted;
        (self.joined, self.ran, self.deserted) = (0, 0, 0);
        readers
    }

    /// Gives an ended batch's outcome to its members.
    fn publish(&mut self, batch: u64, outcome: Outcome, readers: usize) {
        if matches!(outcome, Outcome::Committed) {
            self.commits += 1;
        }
        if readers > 0 {
            self.ended.insert(batch, (outcome, readers));
        }
    }
}

/// A closure's result under its batch's outcome (`None`: run it again).
fn settle(result: Option<Result<(), Rollback>>, outcome: &Outcome) -> Option<Result<(), Rollback>> {
    match (result, outcome) {
        // Given up or failed alone: rolled back, whatever the batch did.
        (Some(Err(r)), _) => Some(Err(r)),
        (Some(Ok(())), Outcome::Committed) => Some(Ok(())),
        (_, Outcome::Failed(f)) => Some(Err(f.clone().into())),
        _ => None,
    }
}

impl Group {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, s: MutexGuard<'a, Shared>) -> MutexGuard<'a, Shared> {
        self.changed.wait(s).unwrap_or_else(PoisonError::into_inner)
    }

    /// How many batches have committed.
    pub(super) fn commits(&self) -> u64 {
        self.lock().commits
    }

    /// How many transactions have joined the open batch and not yet run.
    #[cfg(feature = "test-support")]
    pub(super) fn members_waiting(&self) -> usize {
        let s = self.lock();
        s.joined - s.ran
    }

    /// One attempt of a transaction: `run` runs the closure in a savepoint on the batch's
    /// connection. Its result, or `None` to run it again.
    pub(super) fn attempt(
        &self,
        pool: &Pool,
        sql: &Statements,
        run: &mut dyn FnMut(&mut Conn) -> Ran,
    ) -> Option<Result<(), Rollback>> {
        let mut s = self.lock();
        loop {
            match s.open {
                Some(batch) if s.doomed.is_none() && s.joined < MAX_MEMBERS - 1 => {
                    s.joined += 1;
                    return self.member(s, batch, run);
                }
                // Full or doomed: wait for the next.
                Some(batch) => {
                    while s.open == Some(batch) {
                        s = self.wait(s);
                    }
                }
                None => {
                    let batch = s.next;
                    s.next += 1;
                    s.open = Some(batch);
                    drop(s);
                    return self.lead(batch, pool, sql, run);
                }
            }
        }
    }

    fn member<'g>(
        &'g self,
        mut s: MutexGuard<'g, Shared>,
        batch: u64,
        run: &mut dyn FnMut(&mut Conn) -> Ran,
    ) -> Option<Result<(), Rollback>> {
        let conn = loop {
            if s.open != Some(batch) || s.doomed.is_some() {
                break None;
            }
            if let Some(conn) = s.conn.take() {
                break Some(conn);
            }
            s = self.wait(s);
        };
        let mut result = None;
        if let Some(conn) = conn {
            drop(s);
            let mut held = Holding { group: self, conn: Some(conn), leader: None };
            let ran = run(held.conn.as_mut().expect("held until taken"));
            let conn = held.conn.take();
            s = self.lock();
            s.conn = conn;
            match ran {
                Ran::Done(r) => result = Some(r),
                Ran::Doomed(why) => {
                    s.doomed.get_or_insert(why);
                }
            }
        }
        if s.open == Some(batch) {
            s.ran += 1;
        }
        self.changed.notify_all();
        // The batch's outcome: every member reads it once.
        loop {
            if let Some((outcome, readers)) = s.ended.get_mut(&batch) {
                let outcome = outcome.clone();
                *readers -= 1;
                if *readers == 0 {
                    s.ended.remove(&batch);
                }
                return settle(result, &outcome);
            }
            s = self.wait(s);
        }
    }

    fn lead(
        &self,
        batch: u64,
        pool: &Pool,
        sql: &Statements,
        run: &mut dyn FnMut(&mut Conn) -> Ran,
    ) -> Option<Result<(), Rollback>> {
        let mut lent = match pool.get() {
            Ok(lent) => lent,
            Err(f) => {
                let mut s = self.lock();
                let readers = s.end(batch);
                s.publish(batch, Outcome::Failed(f.clone()), readers);
                drop(s);
                self.changed.notify_all();
                return Some(Err(f.into()));
            }
        };
        let mut held = Holding { group: self, conn: lent.take(), leader: Some(batch) };
        let conn = held.conn.as_mut().expect("a lent connection");
        let began =
            conn.client.batch_execute(sql.lock).and_then(|()| conn.client.batch_execute(sql.begin));
        let mut doomed = None;
        let own = match began {
            Ok(()) => match run(conn) {
                Ran::Done(r) => Some(r),
                Ran::Doomed(why) => {
                    doomed = Some(why);
                    None
                }
            },
            Err(e) if is_conflict(&e) => {
                doomed = Some(Outcome::Retry);
                None
            }
            Err(e) => {
                doomed = Some(Outcome::Failed(db(e)));
                None
            }
        };
        // The members' turn, one after another; then the batch ends.
        let mut s = self.lock();
        s.conn = held.conn.take();
        if let Some(why) = doomed {
            s.doomed.get_or_insert(why);
        }
        self.changed.notify_all();
        while s.ran < s.joined {
            s = self.wait(s);
        }
        let readers = s.end(batch);
        let mut conn = s.conn.take();
        let doomed = s.doomed.take();
        drop(s);
        let outcome = match (&mut conn, doomed) {
            // A member panicked: its drop closed the connection.
            (None, _) => Outcome::Retry,
            (Some(c), Some(why)) => {
                // A failed rollback means a broken connection, which the pool drops.
                let _ = c.client.batch_execute(sql.rollback);
                why
            }
            (Some(c), None) => match c.client.batch_execute(sql.commit) {
                Ok(()) => Outcome::Committed,
                Err(e) if is_conflict(&e) => Outcome::Retry,
                Err(e) => Outcome::Failed(db(e)),
            },
        };
        if let Some(mut c) = conn {
            // The outcome stands whatever the unlock does: an unlock fails only on a broken
            // connection, whose end releases the lock.
            let _ = c.client.batch_execute(sql.unlock);
            lent.give(c);
        }
        drop(lent);
        let mine = settle(own, &outcome);
        let mut s = self.lock();
        s.publish(batch, outcome, readers);
        drop(s);
        self.changed.notify_all();
        mine
    }
}

/// The statements around a batch.
pub(super) struct Statements {
    pub(super) lock: &'static str,
    pub(super) begin: &'static str,
    pub(super) commit: &'static str,
    pub(super) rollback: &'static str,
    pub(super) unlock: &'static str,
}
