//! Group commit: the transactions one store is asked for at the same time share one
//! database transaction and one commit (one sync to disk). Store-independent: a store
//! gives its [`Database`] (how a batch begins and ends on its connection) and the way a
//! closure runs in a savepoint on that connection.
//!
//! The first caller leads a *batch*: it takes a connection, with the store's writer lock
//! and a transaction begun, and runs its closure. Callers that arrive while the batch is
//! open join it (up to [`MAX_MEMBERS`]): each in turn runs its own closure on the batch's
//! connection inside its own savepoint, so a closure that gives up (or whose statement
//! fails) is rolled back alone and the others stand. When every member has run, the
//! leader closes the batch, commits, releases the lock and tells the members; a member
//! whose closure succeeded returns only then, so nothing is reported before it is
//! durable. The members run one after another, as the writer lock already made them, so
//! the batch has the effect of its transactions run in turn.
//!
//! A conflict (PostgreSQL's SQLSTATE 40001/40P01, in a statement or at the commit), a
//! broken connection or a panic in a closure *dooms* the batch: nothing of it commits and
//! every member runs again (the caller's retry loop), as a lone transaction would. A
//! panicking closure's connection is given to [`Database::abandon`], which rolls its
//! transaction back (PostgreSQL: by closing it).

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::store::{Rollback, StoreFault};

/// The most transactions in one batch: each is a subtransaction (a savepoint), and
/// PostgreSQL keeps
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

struct Shared<C> {
    /// The batch accepting members.
    open: Option<u64>,
    next: u64,
    /// The open batch's connection, while no member holds it.
    conn: Option<C>,
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

/// How a store's batches begin and end.
pub(super) trait Database: Sync {
    /// A connection, owned by the batch while it runs.
    type Conn: Send;
    /// A connection for a new batch, with the writer lock taken and the transaction begun;
    /// or why the batch cannot run.
    fn begin(&self) -> Result<Self::Conn, Outcome>;
    /// Ends the batch: commits its transaction (`commit`) or rolls it back, releases the
    /// lock and keeps the connection for the next batch. How it ended.
    fn end(&self, conn: Self::Conn, commit: bool) -> Outcome;
    /// The connection of a closure that panicked: its transaction must not commit.
    fn abandon(&self, conn: Self::Conn);
}

/// The batches of one store.
pub(super) struct Group<D: Database> {
    db: D,
    shared: Mutex<Shared<D::Conn>>,
    /// Members waiting for the connection (one is woken when it comes back; all when the
    /// batch is doomed or ended), the leader waiting for its members to have run, and
    /// those waiting for a batch's outcome. Separate, so that a hand-over wakes one
    /// thread, not every waiting one.
    turn: Condvar,
    ran: Condvar,
    ended: Condvar,
}

/// The connection in a closure's hands: if the closure panics, the drop dooms the batch
/// and closes the connection.
struct Holding<'g, D: Database> {
    group: &'g Group<D>,
    conn: Option<D::Conn>,
    /// The batch, when the holder is its leader.
    leader: Option<u64>,
}

impl<D: Database> Drop for Holding<'_, D> {
    fn drop(&mut self) {
        // Still held: the closure panicked.
        let Some(conn) = self.conn.take() else { return };
        self.group.db.abandon(conn);
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
        self.group.turn.notify_all();
        self.group.ran.notify_one();
        self.group.ended.notify_all();
    }
}

impl<C> Shared<C> {
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

impl<D: Database> Group<D> {
    /// The batches of a store on `db`.
    pub(super) fn new(db: D) -> Self {
        let shared = Shared {
            open: None,
            next: 0,
            conn: None,
            joined: 0,
            ran: 0,
            deserted: 0,
            doomed: None,
            ended: HashMap::new(),
            commits: 0,
        };
        let (turn, ran, ended) = (Condvar::new(), Condvar::new(), Condvar::new());
        Self { db, shared: Mutex::new(shared), turn, ran, ended }
    }

    /// The store's database.
    pub(super) fn db(&self) -> &D {
        &self.db
    }

    fn lock(&self) -> MutexGuard<'_, Shared<D::Conn>> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(
        &self,
        on: &Condvar,
        s: MutexGuard<'a, Shared<D::Conn>>,
    ) -> MutexGuard<'a, Shared<D::Conn>> {
        on.wait(s).unwrap_or_else(PoisonError::into_inner)
    }

    /// The connection is back in the open batch: the next member's turn (every member's,
    /// to skip, if the batch is doomed).
    fn hand_over(&self, s: &Shared<D::Conn>) {
        if s.doomed.is_some() {
            self.turn.notify_all();
        } else {
            self.turn.notify_one();
        }
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
        run: &mut dyn FnMut(&mut D::Conn) -> Ran,
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
                        s = self.wait(&self.ended, s);
                    }
                }
                None => {
                    let batch = s.next;
                    s.next += 1;
                    s.open = Some(batch);
                    drop(s);
                    return self.lead(batch, run);
                }
            }
        }
    }

    fn member<'g>(
        &'g self,
        mut s: MutexGuard<'g, Shared<D::Conn>>,
        batch: u64,
        run: &mut dyn FnMut(&mut D::Conn) -> Ran,
    ) -> Option<Result<(), Rollback>> {
        let conn = loop {
            if s.open != Some(batch) || s.doomed.is_some() {
                break None;
            }
            if let Some(conn) = s.conn.take() {
                break Some(conn);
            }
            s = self.wait(&self.turn, s);
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
            self.hand_over(&s);
            self.ran.notify_one();
        }
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
            s = self.wait(&self.ended, s);
        }
    }

    fn lead(
        &self,
        batch: u64,
        run: &mut dyn FnMut(&mut D::Conn) -> Ran,
    ) -> Option<Result<(), Rollback>> {
        let conn = match self.db.begin() {
            Ok(conn) => conn,
            Err(outcome) => {
                let mine = settle(None, &outcome);
                let mut s = self.lock();
                let readers = s.end(batch);
                s.doomed = None;
                s.publish(batch, outcome, readers);
                drop(s);
                self.turn.notify_all();
                self.ended.notify_all();
                return mine;
            }
        };
        let mut held = Holding { group: self, conn: Some(conn), leader: Some(batch) };
        let (own, doomed) = match run(held.conn.as_mut().expect("held until taken")) {
            Ran::Done(r) => (Some(r), None),
            Ran::Doomed(why) => (None, Some(why)),
        };
        // The members' turn, one after another; then the batch ends. Alone so far: give
        // a caller that is about to arrive one chance to join first.
        if self.lock().joined == 0 {
            std::thread::yield_now();
        }
        let mut s = self.lock();
        s.conn = held.conn.take();
        if let Some(why) = doomed {
            s.doomed.get_or_insert(why);
        }
        self.hand_over(&s);
        while s.ran < s.joined {
            s = self.wait(&self.ran, s);
        }
        let readers = s.end(batch);
        let conn = s.conn.take();
        let doomed = s.doomed.take();
        drop(s);
        let outcome = match (conn, doomed) {
            // A member panicked: its connection was abandoned.
            (None, _) => Outcome::Retry,
            (Some(c), Some(why)) => {
                let _ = self.db.end(c, false);
                why
            }
            (Some(c), None) => self.db.end(c, true),
        };
        let mine = settle(own, &outcome);
        let mut s = self.lock();
        s.publish(batch, outcome, readers);
        drop(s);
        self.ended.notify_all();
        mine
    }
}
