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

use sqlx::{Executor, Sqlite, SqliteConnection, SqlitePool, pool::PoolConnection};
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

/// At most this many writers share one commit, so a steady stream of writers still commits often.
const MAX_BATCH: usize = 64;

/// The write lock of one SQLite database, and the transaction its writers share.
#[derive(Debug, Default)]
pub struct WriteGate {
    batch: Arc<Mutex<Batch>>,
    /// Writers waiting to begin. While there are any, a finished writer hands the transaction on.
    queued: AtomicUsize,
    /// Transactions committed, and writers whose work they held (for measuring the batching).
    commits: AtomicUsize,
    committed_writers: AtomicUsize,
}

#[derive(Debug, Default)]
struct Batch {
    /// The connection with the open transaction, while one is open.
    conn: Option<PoolConnection<Sqlite>>,
    /// One for each writer whose work is in the open transaction: where its commit's outcome goes.
    members: Vec<oneshot::Sender<Result<(), String>>>,
    /// The savepoint of the writer holding the lock may be open (set before it is made).
    savepoint: bool,
}

/// One writer's part of the shared transaction; holds the database's write lock until committed or
/// dropped.
#[derive(Debug)]
pub struct GateTx {
    batch: Option<OwnedMutexGuard<Batch>>,
    gate: Arc<WriteGate>,
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
        };
        let batch = tx.batch_mut();
        settle(batch).await;
        if batch.conn.is_none() {
            batch.conn = Some(pool.acquire().await?);
            connection(batch).execute("BEGIN IMMEDIATE").await?;
        }
        batch.savepoint = true;
        connection(batch).execute("SAVEPOINT writer").await?;
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

    /// The connection, inside this writer's savepoint.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        connection(self.batch_mut())
    }

    /// Ends this writer's part and returns once it is committed (with the others' in the batch).
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let batch = self.batch.take().expect("a writer holds the lock until it ends");
        // In a task of its own, so a caller that goes away mid-commit (a closed HTTP connection) cannot
        // leave the shared transaction open or its members without an answer.
        tokio::spawn(commit(self.gate.clone(), batch))
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

async fn commit(gate: Arc<WriteGate>, mut batch: OwnedMutexGuard<Batch>) -> Result<(), sqlx::Error> {
    if let Err(error) = connection(&mut batch).execute("RELEASE writer").await {
        settle(&mut batch).await;
        if batch.members.is_empty() {
            abort(&mut batch, "a writer's savepoint could not be released").await;
        }
        return Err(error);
    }
    batch.savepoint = false;
    let (sender, mut outcome) = oneshot::channel();
    batch.members.push(sender);
    if gate.queued.load(Ordering::SeqCst) == 0 || batch.members.len() >= MAX_BATCH {
        return finish(&gate, &mut batch).await;
    }
    // Hand the open transaction to the next writer and wait for whoever commits it.
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
            finish(&gate, &mut batch).await
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

/// Rolls back a savepoint left open by a writer that did not finish. If that fails, the whole
/// transaction is rolled back and everyone in it told.
async fn settle(batch: &mut Batch) {
    if !batch.savepoint {
        return;
    }
    batch.savepoint = false;
    let Some(conn) = batch.conn.as_mut() else {
        return;
    };
    let rolled_back = conn.execute("ROLLBACK TO writer").await;
    let released = match rolled_back {
        Ok(_) => conn.execute("RELEASE writer").await,
        Err(error) => Err(error),
    };
    if let Err(error) = released {
        abort(batch, &error.to_string()).await;
    }
}

/// Commits the open transaction and tells everyone in it.
async fn finish(gate: &WriteGate, batch: &mut Batch) -> Result<(), sqlx::Error> {
    match connection(batch).execute("COMMIT").await {
        Ok(_) => {
            gate.commits.fetch_add(1, Ordering::Relaxed);
            gate.committed_writers.fetch_add(batch.members.len(), Ordering::Relaxed);
            batch.conn = None;
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
    batch.savepoint = false;
    for member in batch.members.drain(..) {
        let _ = member.send(Err(why.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    use std::time::Duration;

    async fn database() -> (tempfile::TempDir, SqlitePool, Arc<WriteGate>) {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("gate.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query("create table t (name text not null)")
            .execute(&pool)
            .await
            .unwrap();
        (dir, pool, Arc::default())
    }

    async fn insert(tx: &mut GateTx, name: &str) {
        sqlx::query("insert into t (name) values ($1)")
            .bind(name)
            .execute(tx.conn())
            .await
            .unwrap();
    }

    async fn names(pool: &SqlitePool) -> Vec<String> {
        sqlx::query_scalar("select name from t order by name")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    async fn until_queued(gate: &WriteGate, n: usize) {
        while gate.queued.load(Ordering::SeqCst) < n {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test]
    async fn a_writer_dropped_in_a_shared_transaction_loses_only_its_own_work() {
        let (_dir, pool, gate) = database().await;
        let mut a = gate.begin(&pool).await.unwrap();
        insert(&mut a, "a").await;
        let b = tokio::spawn({
            let (gate, pool) = (gate.clone(), pool.clone());
            async move {
                let mut b = gate.begin(&pool).await.unwrap();
                insert(&mut b, "b").await;
                // Dropped without commit: a refused request, or one whose client went away.
            }
        });
        until_queued(&gate, 1).await;
        // `b` is waiting, so `a` hands the transaction on and waits for its commit.
        let committed = tokio::spawn(a.commit());
        b.await.unwrap();
        committed.await.unwrap().unwrap();
        assert_eq!(names(&pool).await, ["a"]);
        assert_eq!(gate.commits(), (1, 1));
    }

    #[tokio::test]
    async fn a_lone_writer_dropped_ends_the_transaction_and_frees_the_lock() {
        let (_dir, pool, gate) = database().await;
        let mut a = gate.begin(&pool).await.unwrap();
        insert(&mut a, "a").await;
        drop(a);
        // Another connection can write (the file's lock is free) once the rollback has run.
        tokio::time::timeout(Duration::from_secs(2), async {
            loop {
                let written = sqlx::query("insert into t (name) values ('outside')")
                    .execute(&pool)
                    .await;
                if written.is_ok() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the write lock is released");
        let mut b = gate.begin(&pool).await.unwrap();
        insert(&mut b, "b").await;
        b.commit().await.unwrap();
        assert_eq!(names(&pool).await, ["b", "outside"]);
        assert_eq!(gate.commits(), (1, 1));
    }

    #[tokio::test]
    async fn queued_writers_share_commits_and_each_returns_after_its_own() {
        let (_dir, pool, gate) = database().await;
        let first = gate.begin(&pool).await.unwrap();
        let mut writers = Vec::new();
        for i in 0..20 {
            let (gate, pool) = (gate.clone(), pool.clone());
            writers.push(tokio::spawn(async move {
                let mut tx = gate.begin(&pool).await.unwrap();
                insert(&mut tx, &format!("w{i:02}")).await;
                tx.commit().await.unwrap();
                // Returned: the row is committed, so a connection outside the batch sees it.
                let seen: i64 = sqlx::query_scalar("select count(*) from t where name = $1")
                    .bind(format!("w{i:02}"))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                assert_eq!(seen, 1);
            }));
        }
        until_queued(&gate, 20).await;
        first.commit().await.unwrap();
        for writer in writers {
            writer.await.unwrap();
        }
        assert_eq!(names(&pool).await.len(), 20);
        let (commits, writers) = gate.commits();
        assert_eq!(writers, 21);
        assert!(commits < 21, "{commits} commits for 21 queued writers");
    }
}
