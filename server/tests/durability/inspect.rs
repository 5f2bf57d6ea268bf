//! Reading the stored data with the server dead: integrity, durability settings, messages, Message-IDs, SQL checks.

use crate::SLUG;
use domain::{
    Landlord, StorageConfig,
    db::{self, Db},
    landlord::credentials_context,
    on_db,
};
use sqlx::Row;
use std::path::Path;

/// `<durable.12.34@host>` → `durable.12.34`.
pub(crate) fn mail_key(message_id: &str) -> Option<String> {
    let id = message_id.trim().trim_start_matches('<');
    id.split_once('@').map(|(key, _)| key.to_owned())
}

/// The Message-ID header of an `.eml` file.
pub(crate) fn eml_message_id(path: &Path) -> Option<String> {
    let raw = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let headers: Vec<&str> = text.lines().take_while(|line| !line.is_empty()).collect();
    for (at, line) in headers.iter().enumerate() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("message-id") {
            let value = value.trim();
            // A folded header continues on the next line.
            return if value.is_empty() {
                headers.get(at + 1).map(|next| next.trim().to_owned())
            } else {
                Some(value.to_owned())
            };
        }
    }
    None
}

/// Opens the workspace's database as the server does, with its sealed key or role URL.
pub(crate) async fn open_workspace(landlord: &Landlord, config: &StorageConfig) -> Db {
    let workspace = landlord
        .workspace_by_slug(SLUG)
        .await
        .expect("the workspace is in the landlord");
    let sealed = landlord
        .sealed_credentials(workspace.id)
        .await
        .expect("the workspace's credentials are stored");
    let credentials = landlord
        .keys()
        .open(&sealed, &credentials_context(workspace.id))
        .expect("the workspace's credentials open");
    match workspace.backend {
        db::Backend::Sqlite => {
            let key: [u8; 32] = hex::decode(credentials.as_slice())
                .expect("a hex key")
                .try_into()
                .expect("a 32-byte key");
            let path = config.data_dir.join("workspaces").join(format!("{}.db", workspace.id));
            Db::Sqlite(
                db::sqlite_pool(db::sqlite_options(&path, &key, false), 2)
                    .await
                    .expect("the workspace's file opens after the kill"),
            )
        }
        db::Backend::Postgres => {
            let url = std::str::from_utf8(credentials.as_slice()).expect("a role URL");
            Db::Postgres(db::PgDb::new(
                db::postgres_workspace_pool(url, 2)
                    .await
                    .expect("the workspace's database answers"),
            ))
        }
    }
}

pub(crate) async fn message_body(ws: &Db, id: i64) -> Option<String> {
    on_db!(ws, conn => sqlx::query_scalar("select body from messages where id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await)
    .expect("a message reads")
}

/// `PRAGMA integrity_check` and SQLCipher's `cipher_integrity_check` (each page's HMAC).
pub(crate) async fn sqlite_integrity(name: &str, sqlite: &db::SqliteDb) -> Vec<String> {
    let mut failures = Vec::new();
    let integrity: Vec<String> = sqlx::query_scalar("pragma integrity_check")
        .fetch_all(&sqlite.pool)
        .await
        .expect("integrity_check runs");
    if integrity != ["ok"] {
        failures.push(format!("{name}: PRAGMA integrity_check says {integrity:?}"));
    }
    // `cipher_integrity_check` reads the database file alone, not the WAL. After a kill during a checkpoint
    // the file may hold pages the checkpoint had made room for but not yet copied (zeros, which fail their
    // HMAC) while the WAL still holds them whole; the next open finishes the copy. So the WAL is first
    // checkpointed, as that open would, and then every page of the file must carry a valid HMAC.
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("pragma wal_checkpoint(TRUNCATE)")
        .fetch_one(&sqlite.pool)
        .await
        .expect("wal_checkpoint runs");
    if busy != 0 {
        failures.push(format!("{name}: the WAL could not be checkpointed"));
    }
    let pages = sqlx::query("pragma cipher_integrity_check")
        .fetch_all(&sqlite.pool)
        .await
        .expect("cipher_integrity_check runs");
    for page in pages {
        let problem: String = page.try_get(0).unwrap_or_else(|_| "(unreadable)".into());
        failures.push(format!("{name}: PRAGMA cipher_integrity_check says {problem}"));
    }
    failures
}

/// The journal mode and `synchronous` of the writing connection (the one every commit goes through, taken
/// through the write gate as writers take it) and `synchronous` of a reading one.
pub(crate) async fn sqlite_pragmas(name: &str, sqlite: &db::SqliteDb) -> Vec<String> {
    let mut failures = Vec::new();
    let mut tx = sqlite.begin_write().await.expect("the writing connection");
    let journal_mode: String = sqlx::query_scalar("pragma journal_mode")
        .fetch_one(tx.conn())
        .await
        .expect("journal_mode reads");
    let synchronous: i64 = sqlx::query_scalar("pragma synchronous")
        .fetch_one(tx.conn())
        .await
        .expect("synchronous reads");
    tx.commit().await.expect("an empty write commits");
    let reading: i64 = sqlx::query_scalar("pragma synchronous")
        .fetch_one(&sqlite.pool)
        .await
        .expect("synchronous reads");
    if journal_mode != "wal" {
        failures.push(format!(
            "{name}: the writing connection's journal_mode is {journal_mode}, not wal"
        ));
    }
    if synchronous != 2 {
        failures.push(format!(
            "{name}: the writing connection's synchronous is {synchronous}, not 2 (FULL)"
        ));
    }
    if reading != 2 {
        failures.push(format!(
            "{name}: a reading connection's synchronous is {reading}, not 2 (FULL)"
        ));
    }
    failures
}

/// PostgreSQL's `synchronous_commit` on a connection made as the server makes its own.
pub(crate) async fn synchronous_commit(name: &str, pool: &sqlx::PgPool) -> Vec<String> {
    let value: String = sqlx::query_scalar("show synchronous_commit")
        .fetch_one(pool)
        .await
        .expect("synchronous_commit reads");
    if value == "on" {
        Vec::new()
    } else {
        vec![format!("{name}: synchronous_commit is {value}, not on")]
    }
}

/// Each counts rows that a half-written change would leave; all must be 0.
pub(crate) const COMMON_CHECKS: &[(&str, &str)] = &[
    (
        "tickets without a message",
        "select count(*) from tickets t where not exists (select 1 from messages m where m.ticket_id = t.id)",
    ),
    (
        "messages without a ticket",
        "select count(*) from messages m where not exists (select 1 from tickets t where t.id = m.ticket_id)",
    ),
    (
        "tickets without a requester",
        "select count(*) from tickets t where not exists (select 1 from customers c where c.id = t.requester_id)",
    ),
    (
        "tickets without a thread id",
        "select count(*) from tickets where thread_id = ''",
    ),
    (
        "(status, assignee) pairs whose view count disagrees with the tickets",
        "select count(*) from (
             select status, assignee from (
                 select status, coalesce(assignee_account_id, 0) as assignee, 1 as n from tickets
                 union all
                 select status, assignee, -n from ticket_counts
             ) as parts
             group by status, assignee
             having sum(n) <> 0
         ) as wrong",
    ),
];

pub(crate) const SQLITE_CHECKS: &[(&str, &str)] = &[
    (
        "tickets without a search row",
        "select count(*) from tickets t where not exists (select 1 from ticket_search s where s.rowid = t.id)",
    ),
    (
        "search rows without a ticket",
        "select count(*) from ticket_search s where not exists (select 1 from tickets t where t.id = s.rowid)",
    ),
    (
        "missing ticket numbers (SQLite numbers them without gaps)",
        "select (select coalesce(max(number), 0) from tickets) - (select count(*) from tickets)",
    ),
    (
        "the ticket counter minus the last number",
        "select (select value from counters where name = 'ticket_number') - (select coalesce(max(number), 0) from tickets)",
    ),
];

pub(crate) const POSTGRES_CHECKS: &[(&str, &str)] = &[
    (
        "tickets without a search row",
        "select count(*) from tickets t where not exists (select 1 from ticket_search s where s.ticket_id = t.id)",
    ),
    (
        "search rows without a ticket",
        "select count(*) from ticket_search s where not exists (select 1 from tickets t where t.id = s.ticket_id)",
    ),
];
