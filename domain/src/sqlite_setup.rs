//! What every SQLite connection the server opens is given before its first query: the FTS5 ranking
//! function [`crate::fts_rank`] and stable query plans.
//!
//! Stable plans (`SQLITE_DBCONFIG_ENABLE_QPSG`): the bundled SQLite is built with `SQLITE_ENABLE_STAT4`,
//! and once `analyze` has written `sqlite_stat4` (the seeder runs it; so may an operator), a prepared
//! statement whose plan could depend on a value bound in its `where` is marked expired each time that
//! value is bound. sqlx binds every parameter on every execution, so such a statement (the ticket list's
//! `status in (…)` among them) was parsed and planned again on every call from its cached text: 7.9 % of
//! the CPU of a list page at 1M tickets. With the guarantee on, a statement keeps the plan it was prepared
//! with, as PostgreSQL's workspace connections keep their generic plans (`db::pg_pool`).
#![allow(unsafe_code)]

use libsqlite3_sys as ffi;
use sqlx::SqliteConnection;
use std::ffi::c_int;

/// Registers [`crate::fts_rank`]'s function and turns on stable plans.
pub async fn prepare(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    crate::fts_rank::register(conn).await?;
    stable_plans(conn).await
}

/// Turns on the query planner stability guarantee for one connection.
pub async fn stable_plans(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    set_qpsg(conn, 1).await.map(|_| ())
}

/// Whether the connection keeps its plans (for the tests).
pub async fn has_stable_plans(conn: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
    set_qpsg(conn, -1).await.map(|on| on == 1)
}

/// Sets the guarantee (`1` on, `0` off, `-1` leaves it) and returns its state afterwards.
async fn set_qpsg(conn: &mut SqliteConnection, value: c_int) -> Result<c_int, sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut now: c_int = -1;
    // SAFETY: `db` is a live connection handle, locked for this thread until `handle` drops at the end of
    // this function; SQLITE_DBCONFIG_ENABLE_QPSG takes an int and a pointer to an int, which outlives the
    // call.
    let rc = unsafe { ffi::sqlite3_db_config(db, ffi::SQLITE_DBCONFIG_ENABLE_QPSG, value, &raw mut now) };
    if rc == ffi::SQLITE_OK {
        Ok(now)
    } else {
        Err(sqlx::Error::Configuration(
            format!("setting SQLite's query planner stability guarantee failed with code {rc}").into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_servers_sqlite_connections_keep_their_plans() {
        let dir = tempfile::tempdir().unwrap();
        let mut plain = sqlx::Connection::connect("sqlite::memory:").await.unwrap();
        assert!(!has_stable_plans(&mut plain).await.unwrap(), "SQLite's default is off");
        let db = crate::db::sqlite_pool(crate::db::sqlite_unencrypted_options(&dir.path().join("w.db"), true), 2)
            .await
            .unwrap();
        let mut reader = db.pool.acquire().await.unwrap();
        assert!(has_stable_plans(&mut reader).await.unwrap());
    }
}
