//! The macros that run a statement on either backend: [`on_db!`](crate::on_db!) for reads,
//! [`on_write!`](crate::on_write!) for single writes, [`on_tx!`](crate::on_tx!) in a transaction. Exported at
//! the crate's root.

/// Runs a read, `$body`, with `$pool` bound to a connection of a [`Db`]'s reading pool
/// (`&mut SqliteConnection` or `&mut PgConnection`), taken from its [`Warm`] connections. `$body` evaluates
/// to `Result<_, sqlx::Error>`; when it is `Ok`, the connection stays warm for the next read.
///
/// [`Db`]: crate::db::Db
/// [`Warm`]: crate::db::Warm
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
///
/// [`on_db!`]: crate::on_db!
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
///
/// [`WriteGate`]: crate::group_commit::WriteGate
/// [`on_db!`]: crate::on_db!
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
