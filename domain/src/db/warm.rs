//! Connections kept warm: pooled connections that have just run a statement to its end, kept for the next
//! statement instead of going back through the pool's test.

use super::PING_IDLE_AFTER;
use sqlx::pool::PoolConnection;
use std::time::Instant;

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
///
/// [`on_db!`]: crate::on_db!
/// [`on_write!`]: crate::on_write!
/// [`PgDb::begin`]: super::PgDb::begin
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
