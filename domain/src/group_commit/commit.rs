//! A writer's part and its end: what it runs and queues, handing the open transaction on to the next
//! writer, committing it for everyone in it, and rolling back a writer that ends without committing.

use super::{
    Batch, GateTx, Savepoint, WriteGate, connection,
    statements::{AtCommit, Later, Value},
};
use sqlx::{Executor, SqliteConnection};
use std::sync::{Arc, atomic::Ordering};
use tokio::sync::{OwnedMutexGuard, oneshot};

/// At most this many writers share one commit, so a steady stream of writers still commits often.
const MAX_BATCH: usize = 64;

impl GateTx {
    /// The connection, inside this writer's savepoint.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        connection(self.batch_mut())
    }

    /// Queues a statement whose result nobody reads, to run after this writer's other statements, in the
    /// same trip to the connection's thread as the end of its part. `sql` numbers its parameters from `$1`
    /// and `values` gives them in that order. A statement that fails there fails the whole shared
    /// transaction (every writer in it), so only statements that cannot break a constraint belong here.
    pub fn later(&mut self, sql: &str, values: Vec<Value>) {
        self.later.push(sql, values);
    }

    /// Asks for `sql` to run once before the shared transaction commits, with this writer's `id` among the
    /// ids it gets as a JSON array in `$1` (`… where id in (select value from json_each($1))`). It sees every
    /// writer's committed work; if this writer's part is rolled back, its id is not passed. As with
    /// [`GateTx::later`], a failure there fails the whole transaction.
    pub fn at_commit(&mut self, sql: &'static str, id: i64) {
        self.at_commit.add(sql, id);
    }

    /// Ends this writer's part and returns once it is committed (with the others' in the batch).
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let batch = self.batch.take().expect("a writer holds the lock until it ends");
        let later = std::mem::take(&mut self.later);
        let at_commit = std::mem::take(&mut self.at_commit);
        // In a task of its own, so a caller that goes away mid-commit (a closed HTTP connection) cannot
        // leave the shared transaction open or its members without an answer.
        tokio::spawn(commit(self.gate.clone(), batch, later, at_commit))
            .await
            .map_err(|error| sqlx::Error::Protocol(format!("the commit task failed: {error}")))?
    }
}

impl Drop for GateTx {
    /// A writer that ends without committing: its savepoint is rolled back; if nobody else's work is in the
    /// transaction, the transaction ends too, so the file's write lock is not held for nobody.
    fn drop(&mut self) {
        let Some(mut batch) = self.batch.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to roll back on: the next writer settles the savepoint (`settle`) before its own work.
            return;
        };
        runtime.spawn(async move {
            settle(&mut batch).await;
            if batch.members.is_empty() {
                abort(&mut batch, "the writer ended without committing").await;
            }
            // Otherwise writers waiting for this transaction's commit hold its work; the first of them to get
            // the lock commits.
        });
    }
}

async fn commit(
    gate: Arc<WriteGate>,
    mut batch: OwnedMutexGuard<Batch>,
    later: Later,
    at_commit: AtCommit,
) -> Result<(), sqlx::Error> {
    let (sender, mut outcome) = oneshot::channel();
    if gate.queued.load(Ordering::SeqCst) == 0 || batch.members.len() + 1 >= MAX_BATCH {
        // `COMMIT` commits the open savepoint with the rest.
        batch.members.push(sender);
        batch.at_commit.append(at_commit);
        return finish(&gate, &mut batch, later).await;
    }
    // Hand the open transaction to the next writer, with a savepoint opened for it, and wait for whoever
    // commits it. Should the trip fail (a queued statement, or the release: SQLite writing out the search
    // index's pending terms), it is not known which of its statements ran, so the transaction is not
    // trusted further.
    if let Err(error) = later
        .run(connection(&mut batch), "RELEASE writer; SAVEPOINT writer")
        .await
    {
        abort(&mut batch, "a writer's savepoint could not be released").await;
        return Err(error);
    }
    batch.savepoint = Savepoint::Spare;
    batch.members.push(sender);
    batch.at_commit.append(at_commit);
    drop(batch);
    tokio::select! {
        biased;
        done = &mut outcome => answer(done),
        mut batch = gate.batch.clone().lock_owned() => {
            // The lock is back: either the transaction with this writer's work ended meanwhile, or it is still
            // open and this writer commits it for everyone in it.
            if let Ok(done) = outcome.try_recv() {
                return answer(Ok(done));
            }
            settle(&mut batch).await;
            if let Ok(done) = outcome.try_recv() {
                return answer(Ok(done));
            }
            finish(&gate, &mut batch, Later::default()).await
        }
    }
}

fn answer(done: Result<Result<(), String>, oneshot::error::RecvError>) -> Result<(), sqlx::Error> {
    match done {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(sqlx::Error::Protocol(format!("the shared commit failed: {message}"))),
        Err(_) => Err(sqlx::Error::Protocol("the shared commit was abandoned".into())),
    }
}

/// Rolls back a savepoint left open by a writer that did not finish, which leaves it open and empty, a
/// spare for the next writer. If that fails, the whole transaction is rolled back and everyone in it told.
pub(super) async fn settle(batch: &mut Batch) {
    if batch.savepoint != Savepoint::Writer {
        return;
    }
    let Some(conn) = batch.conn.as_mut() else {
        batch.savepoint = Savepoint::None;
        return;
    };
    match conn.execute("ROLLBACK TO writer").await {
        Ok(_) => batch.savepoint = Savepoint::Spare,
        Err(error) => abort(batch, &error.to_string()).await,
    }
}

/// Commits the open transaction (after the committing writer's `later` statements and the writers'
/// `at_commit` ones) and tells everyone in it.
pub(super) async fn finish(gate: &WriteGate, batch: &mut Batch, mut later: Later) -> Result<(), sqlx::Error> {
    batch.at_commit.queue(&mut later);
    match later.run(connection(batch), "COMMIT").await {
        Ok(_) => {
            gate.committed.notify_one();
            gate.commits.fetch_add(1, Ordering::Relaxed);
            gate.committed_writers.fetch_add(batch.members.len(), Ordering::Relaxed);
            batch.conn = None;
            batch.savepoint = Savepoint::None;
            for member in batch.members.drain(..) {
                let _ = member.send(Ok(()));
            }
            Ok(())
        }
        Err(error) => {
            abort(batch, &error.to_string()).await;
            Err(error)
        }
    }
}

/// Rolls the open transaction back (if one is open) and tells everyone in it that it failed.
async fn abort(batch: &mut Batch, why: &str) {
    if let Some(mut conn) = batch.conn.take()
        && conn.execute("ROLLBACK").await.is_err()
    {
        // Closing the connection rolls back whatever it still holds; it never goes back to the pool.
        drop(conn.detach());
    }
    batch.savepoint = Savepoint::None;
    batch.at_commit = AtCommit::default();
    for member in batch.members.drain(..) {
        let _ = member.send(Err(why.to_owned()));
    }
}
