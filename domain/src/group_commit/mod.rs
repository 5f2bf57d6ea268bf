//! Group commit for SQLite: one writer at a time per database file, queued fairly in the process, and
//! the work of writers that queue up behind each other committed together, with one fsync.
//!
//! SQLite has one writer per file. Left to itself, a second writer that finds the file locked sleeps in
//! SQLite's busy handler (1, 2, 5, 10, … ms) and tries again, so eight concurrent writers spend most of
//! their time asleep; and in WAL mode with `synchronous=FULL` every commit waits for an fsync of its own.
//!
//! Here a writer waits for an async lock instead and does its work inside a savepoint of a transaction that
//! may already hold other writers' work. When it finishes and others are queued, it releases its savepoint,
//! hands the open transaction to the next writer and waits; the last one in line (or the first of the
//! waiting ones to get the lock back) commits for all of them. [`GateTx::commit`] returns only after the
//! commit that holds its work, so a write acknowledged to a client is on disk, as without batching. A writer
//! that fails, or is dropped, rolls back to its savepoint: the others' work stays. A failed commit fails
//! every writer in it.
//!
//! Each statement is a trip to the connection's thread and back, which costs more than most of these
//! statements do, and every writer waits for the one before it; so the gate's own statements share trips:
//! `BEGIN IMMEDIATE` goes with the first writer's `SAVEPOINT`, a writer that hands the transaction on
//! releases its savepoint and opens the next writer's in one trip, and the last writer's savepoint is
//! committed with the transaction (`COMMIT` alone) instead of released first. Statements whose results
//! nobody reads (an audit line, a mail for the outbox, the search index's row) can wait for that trip too
//! ([`GateTx::later`]); and work that costs less done once for many writers than once for each (writing
//! new rows into the search index, which SQLite's FTS5 stores as a new segment each time a savepoint opens
//! or ends) waits for the commit and is done once, for all of them ([`GateTx::at_commit`]).
//!
//! Checkpoints (copying the WAL's pages back into the database file, and the file's fsync) are not the
//! writers' work either: the writing connection runs with `wal_autocheckpoint=0`, and [`WriteGate::
//! with_checkpointer`] copies committed pages on a connection of its own, beside the writers, a moment after
//! they commit. Only when the WAL has grown long does it hold the writers off, for the few pages committed
//! since its last pass, so that the next transaction starts the WAL over instead of making it longer.

mod checkpoint;
mod commit;
mod statements;

pub use statements::Value;
pub(crate) use statements::shift_parameters;

use commit::settle;
use sqlx::{Executor, Sqlite, SqliteConnection, SqlitePool, pool::PoolConnection};
use statements::{AtCommit, Later};
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, oneshot};

/// The write lock of one SQLite database, and the transaction its writers share.
#[derive(Debug, Default)]
pub struct WriteGate {
    batch: Arc<Mutex<Batch>>,
    /// Writers waiting to begin. While there are any, a finished writer hands the transaction on.
    queued: AtomicUsize,
    /// Transactions committed, and writers whose work they held (for measuring the batching).
    commits: AtomicUsize,
    committed_writers: AtomicUsize,
    /// Told of every commit, for the checkpointer (if there is one).
    committed: Arc<Notify>,
    /// Dropped with the gate, which ends its checkpointer.
    _checkpointer: Option<oneshot::Sender<()>>,
    /// Checkpoints the checkpointer ran beside the writers, and ones it finished with the writers held off.
    checkpoints: Arc<Checkpoints>,
}

#[derive(Debug, Default)]
struct Checkpoints {
    beside: AtomicUsize,
    held: AtomicUsize,
}

#[derive(Debug, Default)]
struct Batch {
    /// The connection with the open transaction, while one is open.
    conn: Option<PoolConnection<Sqlite>>,
    /// One for each writer whose work is in the open transaction: where its commit's outcome goes.
    members: Vec<oneshot::Sender<Result<(), String>>>,
    /// The savepoint named `writer` that may be open in the transaction.
    savepoint: Savepoint,
    /// What the writers whose work is in the transaction asked to run before it commits.
    at_commit: AtCommit,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Savepoint {
    /// None is open.
    #[default]
    None,
    /// Opened for the next writer by the one before it; nothing has been written in it.
    Spare,
    /// The writer holding the lock may have written in it (set before it is made).
    Writer,
}

/// One writer's part of the shared transaction; holds the database's write lock until committed or
/// dropped.
#[derive(Debug)]
pub struct GateTx {
    batch: Option<OwnedMutexGuard<Batch>>,
    gate: Arc<WriteGate>,
    /// Statements queued by [`GateTx::later`].
    later: Later,
    /// Statements asked for by [`GateTx::at_commit`], with the row ids each was asked for.
    at_commit: AtCommit,
}

/// Counts a writer as queued until it has the lock (or gives up waiting).
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Queued(count)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl WriteGate {
    /// Waits for the write lock and starts this writer's part: a savepoint in the shared transaction,
    /// which is begun (`BEGIN IMMEDIATE`) when none is open.
    pub async fn begin(self: &Arc<Self>, pool: &SqlitePool) -> Result<GateTx, sqlx::Error> {
        let queued = Queued::new(&self.queued);
        let guard = self.batch.clone().lock_owned().await;
        drop(queued);
        // From here on a failure or a cancellation drops `tx`, whose `Drop` puts the batch right.
        let mut tx = GateTx {
            batch: Some(guard),
            gate: self.clone(),
            later: Later::default(),
            at_commit: AtCommit::default(),
        };
        let batch = tx.batch_mut();
        settle(batch).await;
        if batch.conn.is_none() {
            batch.conn = Some(pool.acquire().await?);
            batch.savepoint = Savepoint::Writer;
            connection(batch).execute("BEGIN IMMEDIATE; SAVEPOINT writer").await?;
        } else if batch.savepoint == Savepoint::Spare {
            batch.savepoint = Savepoint::Writer;
        } else {
            batch.savepoint = Savepoint::Writer;
            connection(batch).execute("SAVEPOINT writer").await?;
        }
        Ok(tx)
    }
}

impl WriteGate {
    /// How many transactions were committed, and how many writers' work they held.
    pub fn commits(&self) -> (usize, usize) {
        (
            self.commits.load(Ordering::Relaxed),
            self.committed_writers.load(Ordering::Relaxed),
        )
    }
}

fn connection(batch: &mut Batch) -> &mut SqliteConnection {
    batch
        .conn
        .as_mut()
        .expect("a writer holds the open transaction's connection")
}

impl GateTx {
    fn batch_mut(&mut self) -> &mut Batch {
        self.batch.as_mut().expect("a writer holds the lock until it ends")
    }
}

#[cfg(test)]
mod tests;
