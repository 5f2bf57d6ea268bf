//! The two storage backends behind one type.
//!
//! Queries are written once, as one SQL text with `$1` placeholders (both drivers accept them), and run on
//! whichever pool a database lives in through [`on_db!`], which compiles the same code against each driver.
//! What differs per backend:
//!
//! - Connections (`sqlite.rs`, `postgres.rs`): a SQLite database is a SQLCipher file (WAL, `synchronous=FULL`)
//!   with a pool for reading, one connection for writing and one for checkpoints; a PostgreSQL database is one
//!   pool, spoken to without TLS when the server is on this machine, whose workspace connections run generic
//!   plans ([`WORKSPACE_PLAN_CACHE_MODE`]).
//! - Writes (`tx.rs`): on SQLite, writers take turns through the database's
//!   [`WriteGate`](crate::group_commit::WriteGate) and share commits ([`crate::group_commit`]), single writes
//!   ([`on_write!`]) included; on PostgreSQL a transaction is a plain one and a single write autocommits.
//!   On SQLite, statements queued with [`Tx::later`] run at the end of the writer's part and those asked for
//!   with [`Tx::at_commit`] once before the shared transaction commits; on PostgreSQL both run as one statement
//!   just before `COMMIT`. [`Tx::at_commit`] takes one SQL text for each backend (the ids a JSON array on
//!   SQLite, a `bigint[]` on PostgreSQL).
//! - Statements whose SQL differs: callers match on [`Tx`], [`Db`] or [`Backend`] for those (ticket numbers
//!   from a counter row or a sequence, row locks taken with `for update` on PostgreSQL, the search index, the
//!   job queue).
//! - DDL (the migrations) and provisioning.
//!
//! [`on_write!`]: crate::on_write!

mod macros;
mod postgres;
pub mod rows;
mod sqlite;
mod tx;
mod warm;

pub use crate::group_commit::Value;
pub use postgres::{
    PLANNER_DEFAULT, PgDb, WORKSPACE_PLAN_CACHE_MODE, postgres_options, postgres_pool, postgres_workspace_pool,
    quote_ident, quote_literal,
};
pub use sqlite::{SQLITE_BUSY_TIMEOUT, SqliteDb, sqlite_options, sqlite_pool, sqlite_unencrypted_options};
pub use tx::{PgTx, Tx};
pub use warm::{Warm, WarmConn};

use crate::on_db;
use sqlx::pool::PoolOptions;
use std::time::Duration;

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

impl Db {
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

/// Integers as the inside of an SQL `in (…)` list (`3,1,2`), the same on both backends (SQLite binds no
/// arrays). An `i64` cannot carry SQL, so the list is safe to put into a statement.
pub(crate) fn integer_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}
