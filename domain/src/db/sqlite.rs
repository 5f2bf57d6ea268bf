//! SQLite: a database's reading pool, its writing connection behind the write gate, its checkpointer, and the
//! options of its connections (an encrypted file in WAL mode).

use super::{Warm, checked_when_idle};
use crate::group_commit::{GateTx, WriteGate};
use sqlx::{
    Sqlite, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use std::{path::Path, sync::Arc, time::Duration};
use zeroize::Zeroizing;

/// A SQLite database: a pool for reading, and one connection for writing, which writers take in turn
/// through the [`WriteGate`].
///
/// Writing on a connection of its own keeps that connection's page cache valid: SQLite empties a
/// connection's cache whenever another connection has committed since its last transaction, so writes
/// spread over the pool would each start cold, reading (and decrypting) every page again.
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub pool: SqlitePool,
    /// Warm connections of `pool` ([`Warm`]).
    pub warm: Arc<Warm<Sqlite>>,
    writer: SqlitePool,
    gate: Arc<WriteGate>,
    /// The checkpointer's connection ([`WriteGate::with_checkpointer`]).
    checkpointer: SqlitePool,
}

impl SqliteDb {
    /// `pool` for reading, `writer` (one connection, with `wal_autocheckpoint=0`) for the gate's writers,
    /// `checkpointer` (one connection) for the checkpoints.
    pub fn new(pool: SqlitePool, writer: SqlitePool, checkpointer: SqlitePool) -> Self {
        SqliteDb {
            warm: Arc::new(Warm::new(&pool)),
            pool,
            writer,
            gate: WriteGate::with_checkpointer(checkpointer.clone()),
            checkpointer,
        }
    }

    /// Checkpoints run beside the writers and ones finished with them held off: see
    /// [`WriteGate::checkpoints`].
    pub fn checkpoints(&self) -> (usize, usize) {
        self.gate.checkpoints()
    }

    /// A writer's turn: see [`WriteGate::begin`].
    pub async fn begin_write(&self) -> Result<GateTx, sqlx::Error> {
        self.gate.begin(&self.writer).await
    }

    pub async fn close(&self) {
        self.checkpointer.close().await;
        self.warm.close();
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// How long a connection waits for a lock held by another before giving up with "database is locked".
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connection options for an encrypted SQLite file.
///
/// The key is a raw 256-bit SQLCipher key (`x'…'`), so opening skips SQLCipher's PBKDF2 (which exists to
/// stretch passwords; ours are random keys). sqlx runs the `key` pragma first, before anything reads the file.
/// WAL lets readers work beside the writer; `synchronous=FULL` makes a commit durable before it returns
/// (an acknowledged ticket survives power loss); foreign keys are enforced.
///
/// sqlx sends the pragmas as the connection's first statement and would log its text (at debug level, or
/// as a slow statement), key and all: these connections log no statements.
pub fn sqlite_options(path: &Path, key: &[u8; 32], create: bool) -> SqliteConnectOptions {
    use sqlx::ConnectOptions;
    let key_pragma = Zeroizing::new(format!("\"x'{}'\"", hex::encode(key)));
    sqlite_unencrypted_options(path, create)
        .pragma("key", key_pragma.to_string())
        .disable_statement_logging()
}

/// The same settings without encryption: only for measuring what SQLCipher costs.
pub fn sqlite_unencrypted_options(path: &Path, create: bool) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        // Each connection's page cache holds up to 16 MB of decrypted pages (SQLite's default is 2 MB): a
        // page found there is neither read from the file nor decrypted again. It fills only as pages are
        // read, and an idle connection closes after a minute.
        .pragma("cache_size", "-16384")
        // When the WAL starts over, its file is cut back to 64 MiB: a large transaction (seeding, an
        // import) does not leave a file that large behind for good.
        .pragma("journal_size_limit", "67108864")
}

/// The reading pool (`max_connections`) and the writing connection of a SQLite database.
pub async fn sqlite_pool(options: SqliteConnectOptions, max_connections: u32) -> Result<SqliteDb, sqlx::Error> {
    let pool = |max| {
        checked_when_idle(SqlitePoolOptions::new())
            .max_connections(max)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(60))
            .after_connect(|conn, _| Box::pin(crate::sqlite_setup::prepare(conn)))
    };
    let readers = pool(max_connections).connect_with(options.clone()).await?;
    // The writing connection leaves checkpoints to the checkpointer's (`group_commit`).
    let writer = pool(1).connect_lazy_with(options.clone().pragma("wal_autocheckpoint", "0"));
    let checkpointer = pool(1).connect_lazy_with(options);
    Ok(SqliteDb::new(readers, writer, checkpointer))
}
