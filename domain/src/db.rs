//! The two storage backends behind one type.
//!
//! Queries are written once, as one SQL text with `$1` placeholders (both drivers accept them), and run on
//! whichever pool a database lives in through [`on_db!`], which compiles the same code against each driver.
//! Only DDL (the migrations) and provisioning differ per backend.

pub use crate::group_commit::Value;
use crate::group_commit::{GateTx, WriteGate};
use sqlx::{
    PgPool, Sqlite, SqlitePool,
    pool::{PoolConnection, PoolOptions},
    postgres::{PgConnectOptions, PgPoolOptions, PgSslMode},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use std::{
    net::IpAddr,
    path::Path,
    str::FromStr,
    sync::Arc,
    time::{Duration, Instant},
};
use zeroize::Zeroizing;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool on either backend.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

/// A PostgreSQL pool, and the connections kept warm for its next statements ([`Warm`]).
#[derive(Clone, Debug)]
pub struct PgDb {
    pub pool: PgPool,
    pub warm: Arc<Warm<sqlx::Postgres>>,
}

impl PgDb {
    pub fn new(pool: PgPool) -> Self {
        PgDb {
            warm: Arc::new(Warm::new(&pool)),
            pool,
        }
    }

    /// Begins a transaction on a warm connection if there is one (while it waits warm, the pool has one
    /// connection fewer to give), else on one from the pool. `Transaction::begin` is what `Pool::begin`
    /// calls with a connection of its own.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        match self.warm.take() {
            Some(conn) => sqlx::Transaction::begin(conn, None).await,
            None => self.pool.begin().await,
        }
    }
}

/// Pooled connections that have just run a statement to its end, kept for the next statement on the same
/// pool instead of going back into the pool.
///
/// sqlx's pool tests every connection given back to it with a round trip to the database (PostgreSQL: a
/// `Sync` and its `ReadyForQuery`; SQLite: a hop to the connection's thread and back), to find a connection
/// left broken or mid-statement by a cancelled query. A statement that ran to its end and succeeded leaves
/// its connection ready, so here it skips that test: at most half of the pool's connections wait here, for
/// at most [`PING_IDLE_AFTER`]; a connection older than that, or given back after an error or a
/// cancellation, goes back through the pool and its test as before. Reads ([`on_db!`]) and PostgreSQL's
/// single writes ([`on_write!`]) and transactions ([`PgDb::begin`]) take a warm connection first, so one
/// waiting here is not one the pool lacks. The list page makes three reads: on PostgreSQL the tests were ~7 %
/// of the server's CPU per page and as many wake-ups of PostgreSQL's processes again.
#[derive(Debug)]
pub struct Warm<DB: sqlx::Database> {
    ready: std::sync::Mutex<Ready<DB>>,
    cap: usize,
}

#[derive(Debug)]
struct Ready<DB: sqlx::Database> {
    /// Oldest first.
    conns: Vec<(PoolConnection<DB>, Instant)>,
    /// Set when the pool closes: from then on every connection goes back to the pool.
    closed: bool,
}

/// A connection from [`Warm::acquire`]: goes back to the warm connections when [`WarmConn::ready`] was
/// called, else to the pool.
pub struct WarmConn<'a, DB: sqlx::Database> {
    conn: Option<PoolConnection<DB>>,
    home: &'a Warm<DB>,
    ready: bool,
}

impl<DB: sqlx::Database> Warm<DB> {
    pub fn new(pool: &sqlx::Pool<DB>) -> Self {
        Warm {
            ready: std::sync::Mutex::new(Ready {
                conns: Vec::new(),
                closed: false,
            }),
            cap: (pool.options().get_max_connections() / 2) as usize,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ready<DB>> {
        self.ready.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The most recently used warm connection, if any. Warm connections older than [`PING_IDLE_AFTER`] go
    /// back to the pool (and its test) first.
    pub fn take(&self) -> Option<PoolConnection<DB>> {
        let (found, stale) = {
            let mut ready = self.lock();
            let fresh = ready
                .conns
                .iter()
                .position(|(_, at)| at.elapsed() < PING_IDLE_AFTER)
                .unwrap_or(ready.conns.len());
            let stale: Vec<_> = ready.conns.drain(..fresh).collect();
            (ready.conns.pop(), stale)
        };
        drop(stale);
        found.map(|(conn, _)| conn)
    }

    /// [`Warm::take`], or else a connection from `pool`.
    pub async fn acquire(&self, pool: &sqlx::Pool<DB>) -> Result<WarmConn<'_, DB>, sqlx::Error> {
        let conn = match self.take() {
            Some(conn) => conn,
            None => pool.acquire().await?,
        };
        Ok(WarmConn {
            conn: Some(conn),
            home: self,
            ready: false,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().conns.len()
    }

    /// Gives every warm connection back to the pool and keeps none from now on (before the pool closes,
    /// which waits for all its connections).
    pub fn close(&self) {
        let conns = {
            let mut ready = self.lock();
            ready.closed = true;
            std::mem::take(&mut ready.conns)
        };
        drop(conns);
    }
}

impl<DB: sqlx::Database> WarmConn<'_, DB> {
    /// The statement ran to its end without an error: the connection is ready for the next one.
    pub fn ready(&mut self) {
        self.ready = true;
    }
}

impl<DB: sqlx::Database> std::ops::Deref for WarmConn<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        self.conn
            .as_ref()
            .expect("a WarmConn holds its connection until dropped")
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for WarmConn<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.conn
            .as_mut()
            .expect("a WarmConn holds its connection until dropped")
    }
}

impl<DB: sqlx::Database> Drop for WarmConn<'_, DB> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if !self.ready {
            return; // dropping `conn` gives it back to the pool, which tests it
        }
        let mut ready = self.home.lock();
        if !ready.closed && ready.conns.len() < self.home.cap {
            ready.conns.push((conn, Instant::now()));
            return;
        }
        drop(ready);
        drop(conn);
    }
}

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

/// Runs a read, `$body`, with `$pool` bound to a connection of a [`Db`]'s reading pool
/// (`&mut SqliteConnection` or `&mut PgConnection`), taken from its [`Warm`] connections. `$body` evaluates
/// to `Result<_, sqlx::Error>`; when it is `Ok`, the connection stays warm for the next read.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(sqlite) => $crate::warm_read!(sqlite.warm, &sqlite.pool, $pool => $body),
            $crate::db::Db::Postgres(pg) => $crate::warm_read!(pg.warm, &pg.pool, $pool => $body),
        }
    };
}

/// [`on_db!`] for one backend.
#[doc(hidden)]
#[macro_export]
macro_rules! warm_read {
    ($warm:expr, $from:expr, $conn:ident => $body:expr) => {
        match $warm.acquire($from).await {
            Ok(mut warm) => {
                let result = {
                    let $conn = &mut *warm;
                    $body
                };
                if result.is_ok() {
                    warm.ready();
                }
                result
            }
            Err(error) => Err(error.into()),
        }
    };
}

/// Runs one write statement, `$body` with `$conn` bound to a connection: on SQLite a writer's turn through
/// the database's [`WriteGate`] (committed, possibly with others, before this returns), so it never competes
/// with the gate's writers in SQLite's busy handler; on PostgreSQL a warm connection or one from the pool
/// (autocommit), as [`on_db!`] takes it. Evaluates to
/// `Result<T, sqlx::Error>`.
#[macro_export]
macro_rules! on_write {
    ($db:expr, $conn:ident => $body:expr) => {
        async {
            match $db {
                $crate::db::Db::Sqlite(sqlite) => {
                    let mut tx = sqlite.begin_write().await?;
                    let value = {
                        let $conn = tx.conn();
                        $body
                    }?;
                    tx.commit().await?;
                    Ok::<_, sqlx::Error>(value)
                }
                $crate::db::Db::Postgres(pg) => $crate::warm_read!(pg.warm, &pg.pool, $conn => $body),
            }
        }
        .await
    };
}

/// A transaction on either backend: a change and the jobs it causes commit together or not at all. On
/// SQLite it is a writer's part of a transaction shared with the writers queued behind it
/// ([`crate::group_commit`]); either way `commit` returns once the change is durable.
pub enum Tx {
    Sqlite(GateTx),
    Postgres(PgTx),
}

/// A PostgreSQL transaction, and the statements queued to run just before it commits ([`Tx::later`],
/// [`Tx::at_commit`]): all of them in one statement, each a data-modifying `WITH` part of it, so a change's
/// audit line, mail and search row cost one round trip together instead of one each.
pub struct PgTx {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    /// Statements queued by [`Tx::later`], their parameters numbered after the ones queued before.
    later: Vec<String>,
    values: Vec<Value>,
    /// Statements queued by [`Tx::at_commit`], each with the ids it gets.
    at_commit: Vec<(&'static str, Vec<i64>)>,
}

impl PgTx {
    pub fn conn(&mut self) -> &mut sqlx::PgConnection {
        &mut self.tx
    }

    fn later(&mut self, sql: &str, values: Vec<Value>) {
        let mut shifted = String::new();
        crate::group_commit::shift_parameters(sql, self.values.len(), &mut shifted);
        self.later.push(shifted);
        self.values.extend(values);
    }

    fn at_commit(&mut self, sql: &'static str, id: i64) {
        match self.at_commit.iter_mut().find(|(queued, _)| *queued == sql) {
            Some((_, ids)) => ids.push(id),
            None => self.at_commit.push((sql, vec![id])),
        }
    }

    /// The queued statements as one, and its arguments; `None` when nothing is queued.
    fn queued(&mut self) -> Result<Option<(String, sqlx::postgres::PgArguments)>, sqlx::Error> {
        use sqlx::Arguments;
        let mut arguments = sqlx::postgres::PgArguments::default();
        let mut count = self.values.len();
        for value in std::mem::take(&mut self.values) {
            match value {
                Value::Int(v) => arguments.add(v),
                Value::Text(v) => arguments.add(v),
                Value::Time(v) => arguments.add(v),
            }
            .map_err(sqlx::Error::Encode)?;
        }
        let mut statements = std::mem::take(&mut self.later);
        for (sql, mut ids) in std::mem::take(&mut self.at_commit) {
            ids.sort_unstable();
            ids.dedup();
            let mut shifted = String::new();
            crate::group_commit::shift_parameters(sql, count, &mut shifted);
            statements.push(shifted);
            arguments.add(ids).map_err(sqlx::Error::Encode)?;
            count += 1;
        }
        let Some(last) = statements.pop() else {
            return Ok(None);
        };
        if statements.is_empty() {
            return Ok(Some((last, arguments)));
        }
        let mut sql = String::from("with ");
        for (i, statement) in statements.iter().enumerate() {
            if i > 0 {
                sql.push_str(",\n     ");
            }
            sql.push_str(&format!("queued{i} as ({statement})"));
        }
        sql.push('\n');
        sql.push_str(&last);
        Ok(Some((sql, arguments)))
    }

    async fn commit(mut self) -> Result<(), sqlx::Error> {
        if let Some((sql, arguments)) = self.queued()? {
            sqlx::query_with(&sql, arguments).execute(&mut *self.tx).await?;
        }
        self.tx.commit().await
    }
}

/// Runs `$body` with `$conn` bound to the transaction's connection (`&mut SqliteConnection` or
/// `&mut PgConnection`).
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(tx) => {
                let $conn = tx.conn();
                $body
            }
            $crate::db::Tx::Postgres(tx) => {
                let $conn = tx.conn();
                $body
            }
        }
    };
}

impl Tx {
    /// A statement whose result nobody reads, run at the end of this transaction: on SQLite at the end of
    /// this writer's part, in the same trip as the end ([`GateTx::later`], whose limits apply); on
    /// PostgreSQL with the other queued statements, in one statement just before `COMMIT`. Either way it
    /// sees what the transaction wrote before it, and a failure there fails the commit. `sql` (an
    /// `insert`, `update` or `delete`, without `--` comments, as it may become part of a larger statement)
    /// numbers its parameters from `$1`, `values` gives them in that order.
    pub fn later(&mut self, sql: &str, values: Vec<Value>) {
        match self {
            Tx::Sqlite(tx) => tx.later(sql, values),
            Tx::Postgres(tx) => tx.later(sql, values),
        }
    }

    /// Asks for `sql` to run once just before the transaction commits, with `id` among the ids it gets in
    /// `$1`: on SQLite `sqlite`, the ids a JSON array ([`GateTx::at_commit`], with every writer's ids of the
    /// shared transaction); on PostgreSQL `postgres`, the ids a `bigint[]`, queued as [`Tx::later`]'s
    /// statements are. Each id is passed once however often it is asked for.
    pub fn at_commit(&mut self, sqlite: &'static str, postgres: &'static str, id: i64) {
        match self {
            Tx::Sqlite(tx) => tx.at_commit(sqlite, id),
            Tx::Postgres(tx) => tx.at_commit(postgres, id),
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}

impl Db {
    /// Begins a write transaction. On SQLite it takes the database's write lock at once, queued in this
    /// process ([`WriteGate`]), inside a transaction begun with `BEGIN IMMEDIATE`: a deferred transaction
    /// that reads first and writes later cannot wait for a concurrent writer and fails with "database is
    /// locked" instead.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(db) => Tx::Sqlite(db.begin_write().await?),
            Db::Postgres(pg) => Tx::Postgres(PgTx {
                tx: pg.begin().await?,
                later: Vec::new(),
                values: Vec::new(),
                at_commit: Vec::new(),
            }),
        })
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(db) => db.close().await,
            Db::Postgres(pg) => {
                pg.warm.close();
                pg.pool.close().await
            }
        }
    }

    /// How many connections wait warm for the next read ([`Warm`]).
    pub fn warm_connections(&self) -> usize {
        match self {
            Db::Sqlite(db) => db.warm.len(),
            Db::Postgres(pg) => pg.warm.len(),
        }
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, pool => sqlx::query("select 1").execute(pool).await.map(|_| ()))
    }
}

/// A pooled connection idle longer than this is pinged before it is handed out.
pub const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// Pings a connection before handing it out only when it has been idle for [`PING_IDLE_AFTER`] (one that
/// fails is closed and another taken). The pool's default pings every time: a round trip to the server
/// (or to SQLite's worker thread) before every query, which was ~12 % of the server's CPU on a list page.
/// A connection in steady use has just answered its last query; one that sat idle, perhaps across a
/// database restart, is still checked.
fn checked_when_idle<DB: sqlx::Database>(options: PoolOptions<DB>) -> PoolOptions<DB> {
    options.test_before_acquire(false).before_acquire(|conn, meta| {
        Box::pin(async move {
            if meta.idle_for >= PING_IDLE_AFTER {
                sqlx::Connection::ping(conn).await?;
            }
            Ok(true)
        })
    })
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

pub async fn postgres_pool(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options = postgres_options(url, std::env::var_os("PGSSLMODE").is_some())?;
    pg_pool(options, max_connections).await
}

/// What a workspace's connections set at startup: every prepared statement runs its generic plan.
///
/// PostgreSQL otherwise plans a statement again for its values on every execution until it has seen five
/// and then keeps doing so whenever the generic plan looks costlier than the custom ones did. The list
/// page's statements (keyset ranges on the index of the sort order, counts by key) have a best plan that
/// does not depend on the values, and planning them again was a large part of their cost (PostgreSQL's CPU
/// per list page at 1M tickets fell from ~1.6 to ~0.8–1.1 ms). The exception is search, whose best plan
/// depends on how common the searched words are: it runs in a transaction that asks for PostgreSQL's
/// default (see [`PLANNER_DEFAULT`]).
pub const WORKSPACE_PLAN_CACHE_MODE: &str = "force_generic_plan";

/// Restores PostgreSQL's default choice between generic and custom plans for the rest of a transaction.
pub const PLANNER_DEFAULT: &str = "set local plan_cache_mode = auto";

/// The pool of one workspace's database (see [`WORKSPACE_PLAN_CACHE_MODE`]).
pub async fn postgres_workspace_pool(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options = postgres_options(url, std::env::var_os("PGSSLMODE").is_some())?
        .options([("plan_cache_mode", WORKSPACE_PLAN_CACHE_MODE)]);
    pg_pool(options, max_connections).await
}

/// How long PostgreSQL lets a connection sit idle inside a transaction before it ends the session (and with
/// it the transaction and its locks). Nothing here holds a transaction open while it waits for anything but
/// its own statements, so only a stuck task would reach it; it then fails instead of holding its locks for
/// ever.
const IDLE_IN_TRANSACTION: &str = "60s";

async fn pg_pool(options: PgConnectOptions, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options = options.options([("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION)]);
    checked_when_idle(PgPoolOptions::new())
        .max_connections(max_connections)
        .min_connections(0)
        .idle_timeout(Duration::from_secs(60))
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
}

/// The options of a PostgreSQL URL. A server on this machine (a loopback address, `localhost` or a Unix
/// socket) is spoken to without TLS unless the URL or `PGSSLMODE` (`ssl_mode_set`) names an `sslmode`:
/// loopback traffic never leaves the kernel, so TLS there would protect nothing and would cost both sides
/// an encryption of every query and row. Any other server keeps the driver's default (`prefer`) or what the
/// URL asks for (`sslmode=verify-full` in production).
pub fn postgres_options(url: &str, ssl_mode_set: bool) -> Result<PgConnectOptions, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?;
    let named = ssl_mode_set
        || url::Url::parse(url)
            .is_ok_and(|url| url.query_pairs().any(|(key, _)| key == "sslmode" || key == "ssl-mode"));
    let host = options.get_host();
    let local = host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    Ok(if local && !named {
        options.ssl_mode(PgSslMode::Disable)
    } else {
        options
    })
}

/// Integers as the inside of an SQL `in (…)` list (`3,1,2`), the same on both backends (SQLite binds no
/// arrays). An `i64` cannot carry SQL, so the list is safe to put into a statement.
pub(crate) fn integer_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Quotes a PostgreSQL identifier. Names we create are `[a-z0-9_]` already; this keeps DDL safe regardless.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a PostgreSQL string literal (DDL such as `CREATE ROLE … PASSWORD` takes no bind parameters).
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_servers_are_spoken_to_without_tls_unless_the_url_says_otherwise() {
        let mode = |url: &str, set: bool| postgres_options(url, set).unwrap().get_ssl_mode();
        for local in [
            "postgres://u@127.0.0.1:5432/d",
            "postgres://u@localhost/d",
            "postgres://u@[::1]:5432/d",
            "postgres://u@127.8.9.10/d",
            "postgres:///d?host=/var/run/postgresql",
        ] {
            assert!(matches!(mode(local, false), PgSslMode::Disable), "{local}");
            assert!(
                !matches!(mode(local, true), PgSslMode::Disable),
                "{local} with PGSSLMODE"
            );
        }
        assert!(matches!(
            mode("postgres://u@127.0.0.1/d?sslmode=require", false),
            PgSslMode::Require
        ));
        assert!(matches!(mode("postgres://u@db.internal/d", false), PgSslMode::Prefer));
        assert!(matches!(mode("postgres://u@10.0.0.7/d", false), PgSslMode::Prefer));
        assert!(matches!(
            mode("postgres://u@db.internal/d?sslmode=verify-full", false),
            PgSslMode::VerifyFull
        ));
    }

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(quote_ident("fd_ws_1"), "\"fd_ws_1\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
