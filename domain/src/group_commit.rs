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

use chrono::{DateTime, Utc};
use sqlx::{Arguments, Executor, Sqlite, SqliteConnection, SqlitePool, pool::PoolConnection, sqlite::SqliteArguments};
use std::{
    sync::{
        Arc, Weak,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, oneshot};

/// At most this many writers share one commit, so a steady stream of writers still commits often.
const MAX_BATCH: usize = 64;

/// How long the checkpointer lets commits gather, after the first it hears of, before copying them.
const CHECKPOINT_DELAY: Duration = Duration::from_millis(200);

/// From this many frames in the WAL (4 KiB pages: 32 MiB), the checkpointer finishes its pass with the
/// writers held off, so that the WAL starts over.
const RESTART_FRAMES: i64 = 8192;

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

/// Statements to run once before the shared transaction commits, in the order first asked for, each with
/// the ids (a JSON array as `$1`) of every writer that asked for it.
#[derive(Debug, Default)]
struct AtCommit(Vec<(&'static str, Vec<i64>)>);

impl AtCommit {
    fn add(&mut self, sql: &'static str, id: i64) {
        match self.0.iter_mut().find(|(s, _)| *s == sql) {
            Some((_, ids)) => ids.push(id),
            None => self.0.push((sql, vec![id])),
        }
    }

    fn append(&mut self, other: AtCommit) {
        for (sql, ids) in other.0 {
            for id in ids {
                self.add(sql, id);
            }
        }
    }

    /// Queues the statements onto `later`, each with its distinct ids.
    fn queue(&mut self, later: &mut Later) {
        for (sql, mut ids) in self.0.drain(..) {
            ids.sort_unstable();
            ids.dedup();
            let ids = format!("[{}]", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
            later.push(sql, vec![Value::Text(Some(ids))]);
        }
    }
}

/// A parameter's value for a statement queued by [`GateTx::later`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Time(DateTime<Utc>),
}

impl Value {
    pub fn text(value: impl Into<String>) -> Value {
        Value::Text(Some(value.into()))
    }
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

    /// How many checkpoints ran beside the writers, and how many of them were finished with the writers
    /// held off (each lets the WAL start over).
    pub fn checkpoints(&self) -> (usize, usize) {
        (
            self.checkpoints.beside.load(Ordering::Relaxed),
            self.checkpoints.held.load(Ordering::Relaxed),
        )
    }

    /// A gate whose database's writing connection does not checkpoint (`wal_autocheckpoint=0`): a task
    /// checkpoints on `checkpointer`'s connection instead, until the gate is dropped.
    pub fn with_checkpointer(checkpointer: SqlitePool) -> Arc<WriteGate> {
        let (stop, stopped) = oneshot::channel();
        let gate = Arc::new(WriteGate {
            _checkpointer: Some(stop),
            ..WriteGate::default()
        });
        tokio::spawn(checkpoint_after_commits(
            Arc::downgrade(&gate),
            gate.committed.clone(),
            gate.checkpoints.clone(),
            checkpointer,
            stopped,
        ));
        gate
    }
}

/// The checkpointer's loop: after commits, a passive checkpoint beside the writers; when the WAL is long,
/// a second one with the writers held off, which copies what they committed meanwhile so that the WAL is
/// wholly in the database file and the next writer starts it over (SQLite does that when a transaction
/// begins with every frame copied and no reader still on an older snapshot).
async fn checkpoint_after_commits(
    gate: Weak<WriteGate>,
    committed: Arc<Notify>,
    counts: Arc<Checkpoints>,
    pool: SqlitePool,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = committed.notified() => {}
        }
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(CHECKPOINT_DELAY) => {}
        }
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(sqlx::Error::PoolClosed) => break,
            Err(error) => {
                tracing::warn!(%error, "no connection to checkpoint on");
                continue;
            }
        };
        let frames = match passive_checkpoint(&mut conn).await {
            Ok(frames) => frames,
            Err(error) => {
                tracing::warn!(%error, "checkpoint failed; the next commit tries again");
                continue;
            }
        };
        counts.beside.fetch_add(1, Ordering::Relaxed);
        if frames < RESTART_FRAMES {
            continue;
        }
        let Some(gate) = gate.upgrade() else { break };
        let mut batch = gate.batch.clone().lock_owned().await;
        // A transaction left open holds the work of writers waiting for its commit: commit it for them,
        // as the first of them to get the lock would.
        settle(&mut batch).await;
        if batch.conn.is_some() {
            let _ = finish(&gate, &mut batch, Later::default()).await;
        }
        match passive_checkpoint(&mut conn).await {
            Ok(_) => {
                counts.held.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => tracing::warn!(%error, "checkpoint failed; the next commit tries again"),
        }
    }
    pool.close().await;
}

/// Copies committed pages from the WAL into the database file as far as readers allow, without waiting
/// for anyone; returns how many frames the WAL holds.
async fn passive_checkpoint(conn: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    let (_busy, frames, _copied): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(conn).await?;
    Ok(frames)
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

/// A writer's statements queued by [`GateTx::later`].
#[derive(Debug, Default)]
struct Later {
    sql: String,
    values: Vec<Value>,
}

impl Later {
    fn push(&mut self, sql: &str, values: Vec<Value>) {
        shift_parameters(sql, self.values.len(), &mut self.sql);
        self.sql.push_str(";\n");
        self.values.extend(values);
    }

    /// Runs the queued statements and then `then`, in one trip.
    async fn run(self, conn: &mut SqliteConnection, then: &str) -> Result<(), sqlx::Error> {
        if self.sql.is_empty() {
            conn.execute(then).await?;
            return Ok(());
        }
        let mut arguments = SqliteArguments::default();
        for value in self.values {
            match value {
                Value::Int(v) => arguments.add(v),
                Value::Text(v) => arguments.add(v),
                Value::Time(v) => arguments.add(v),
            }
            .map_err(sqlx::Error::Encode)?;
        }
        let sql = self.sql + then;
        conn.execute(sqlx::query_with(&sql, arguments)).await?;
        Ok(())
    }
}

/// Appends `sql` to `out` with each parameter `$n` (outside quotes) renumbered `$n+offset`.
pub(crate) fn shift_parameters(sql: &str, offset: usize, out: &mut String) {
    let mut chars = sql.chars().peekable();
    let mut quote = None;
    while let Some(c) = chars.next() {
        out.push(c);
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') => {
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                match digits.parse::<usize>() {
                    Ok(n) => out.push_str(&(n + offset).to_string()),
                    Err(_) => out.push_str(&digits),
                }
            }
            (None, _) => {}
        }
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
async fn settle(batch: &mut Batch) {
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
async fn finish(gate: &WriteGate, batch: &mut Batch, mut later: Later) -> Result<(), sqlx::Error> {
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

    #[tokio::test]
    async fn checkpoints_run_beside_the_writers_and_the_wal_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let options = crate::db::sqlite_unencrypted_options(&dir.path().join("wal.db"), true);
        let db = crate::db::sqlite_pool(options, 2).await.unwrap();
        let mut tx = db.begin_write().await.unwrap();
        let autocheckpoint: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(tx.conn())
            .await
            .unwrap();
        assert_eq!(
            autocheckpoint, 0,
            "the writing connection leaves checkpoints to the checkpointer"
        );
        sqlx::query("create table t (body blob not null)")
            .execute(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let write = |sql: &'static str| {
            let db = db.clone();
            async move {
                let mut tx = db.begin_write().await.unwrap();
                sqlx::query(sql).execute(tx.conn()).await.unwrap();
                tx.commit().await.unwrap();
            }
        };
        // 100 commits of ~100 pages each: past RESTART_FRAMES.
        for _ in 0..100 {
            write("insert into t (body) values (randomblob(400000))").await;
        }
        // The WAL's length, from its index (`-shm`): the header's `mxFrame`, in the machine's byte order.
        let shm = dir.path().join("wal.db-shm");
        let frames = || {
            let header = std::fs::read(&shm).unwrap();
            u32::from_ne_bytes(header[16..20].try_into().unwrap())
        };
        // Once the checkpointer has copied everything, a transaction starts the WAL over.
        let mut written = 100;
        tokio::time::timeout(Duration::from_secs(30), async {
            while db.checkpoints().1 == 0 || frames() > 100 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                write("insert into t (body) values (x'00')").await;
                written += 1;
            }
        })
        .await
        .expect("the WAL started over");
        let mut conn = db.pool.acquire().await.unwrap();
        let rows: i64 = sqlx::query_scalar("select count(*) from t")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(rows, written);
        drop(conn);
        db.close().await;
    }

    #[test]
    fn later_statements_have_their_parameters_renumbered_outside_quotes() {
        let mut out = String::new();
        shift_parameters(
            "insert into t (a, b) values ($1, '$1 and $2', \"$3\", $10)",
            4,
            &mut out,
        );
        assert_eq!(out, "insert into t (a, b) values ($5, '$1 and $2', \"$3\", $14)");
        out.clear();
        shift_parameters("select $", 3, &mut out);
        assert_eq!(out, "select $");
    }

    #[tokio::test]
    async fn later_statements_run_with_the_writer_s_part_and_roll_back_with_it() {
        let (_dir, pool, gate) = database().await;
        let mut a = gate.begin(&pool).await.unwrap();
        a.later("insert into t (name) values ($1)", vec![Value::text("a1")]);
        a.later(
            "insert into t (name) values ($1 || '-' || $2 || '-' || coalesce($3, 'none'))",
            vec![
                Value::text("a2"),
                Value::Time(DateTime::from_timestamp(0, 0).unwrap()),
                Value::Int(None),
            ],
        );
        insert(&mut a, "a0").await;
        let b = tokio::spawn({
            let (gate, pool) = (gate.clone(), pool.clone());
            async move {
                let mut b = gate.begin(&pool).await.unwrap();
                b.later("insert into t (name) values ($1)", vec![Value::text("b1")]);
                // Dropped without commit: its queued statement never runs.
            }
        });
        until_queued(&gate, 1).await;
        let committed = tokio::spawn(a.commit());
        b.await.unwrap();
        committed.await.unwrap().unwrap();
        assert_eq!(names(&pool).await, ["a0", "a1", "a2-1970-01-01T00:00:00+00:00-none"]);
        let mut c = gate.begin(&pool).await.unwrap();
        c.later("insert into t (name) values ('n' || $1)", vec![Value::Int(Some(7))]);
        c.commit().await.unwrap();
        assert_eq!(names(&pool).await.last().unwrap(), "n7");
    }

    const IDS: &str = "insert into t (name) select group_concat(value, ',') from json_each($1)";

    #[tokio::test]
    async fn at_commit_statements_run_once_per_commit_with_the_ids_of_the_writers_in_it() {
        let (_dir, pool, gate) = database().await;
        let mut first = gate.begin(&pool).await.unwrap();
        first.at_commit(IDS, 10);
        first.at_commit(IDS, 10);
        let mut writers = Vec::new();
        for i in 1..=4 {
            let (gate, pool) = (gate.clone(), pool.clone());
            writers.push(tokio::spawn(async move {
                let mut tx = gate.begin(&pool).await.unwrap();
                tx.at_commit(IDS, i);
                if i == 3 {
                    return; // dropped: its id is not passed
                }
                tx.commit().await.unwrap();
            }));
        }
        until_queued(&gate, 4).await;
        first.commit().await.unwrap();
        for writer in writers {
            writer.await.unwrap();
        }
        let rows = names(&pool).await;
        assert_eq!(rows.len(), gate.commits().0, "one row per commit: {rows:?}");
        let mut ids: Vec<i64> = rows
            .iter()
            .flat_map(|row| row.split(',').map(|id| id.parse::<i64>().unwrap()))
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, [1, 2, 4, 10]);
    }
}
