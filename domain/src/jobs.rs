//! The job queue in the landlord: work that must survive a crash or an outage (mail now; webhooks,
//! exports and retention later).
//!
//! A job is written in the same transaction as the change that causes it. A worker claims a batch of due
//! jobs by setting a lease (`locked_until`); PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so several
//! nodes can work the queue, and SQLite's single writer gives the same guarantee. A failed job is tried
//! again later with exponential backoff (10 s doubling, at most 30 min); a finished one is deleted.

use crate::{Landlord, Result, db::Tx, on_db, on_tx, on_write};
use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub workspace_id: Option<i64>,
    pub attempts: i64,
}

/// How long a claimed job is reserved for its worker; a worker that dies loses its claim after this.
pub const LEASE: Duration = Duration::minutes(5);

pub async fn enqueue(
    tx: &mut Tx,
    kind: &str,
    payload: &str,
    workspace_id: Option<i64>,
    run_at: DateTime<Utc>,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "insert into jobs (kind, payload, workspace_id, run_at, created_at) values ($1, $2, $3, $4, $4)",
    )
    .bind(kind)
    .bind(payload)
    .bind(workspace_id)
    .bind(run_at)
    .execute(conn)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Enqueues a job of `kind` for each payload, in this order (their ids ascend with it), in one statement.
pub async fn enqueue_all(
    tx: &mut Tx,
    kind: &str,
    payloads: &[String],
    workspace_id: Option<i64>,
    run_at: DateTime<Utc>,
) -> Result<()> {
    if payloads.is_empty() {
        return Ok(());
    }
    match tx {
        Tx::Sqlite(tx) => {
            let list = serde_json::to_string(payloads).map_err(|e| crate::Error::Invalid(e.to_string()))?;
            sqlx::query(
                "insert into jobs (kind, payload, workspace_id, run_at, created_at)
                 select $1, value, $3, $4, $4 from json_each($2) order by key",
            )
            .bind(kind)
            .bind(list)
            .bind(workspace_id)
            .bind(run_at)
            .execute(tx.conn())
            .await?;
        }
        Tx::Postgres(tx) => {
            sqlx::query(
                "insert into jobs (kind, payload, workspace_id, run_at, created_at)
                 select $1, payload, $3, $4, $4 from unnest($2::text[]) with ordinality as p (payload, n)
                 order by n",
            )
            .bind(kind)
            .bind(payloads)
            .bind(workspace_id)
            .bind(run_at)
            .execute(tx.conn())
            .await?;
        }
    }
    Ok(())
}

/// Claims the oldest due jobs of `kind`, at most `limit`, in one write.
pub async fn claim(landlord: &Landlord, kind: &str, now: DateTime<Utc>, limit: i64) -> Result<Vec<Job>> {
    const SQLITE: &str = "update jobs set locked_until = $3, attempts = attempts + 1
        where id in (select id from jobs where kind = $1 and run_at <= $2 and (locked_until is null or locked_until <= $2)
                     order by run_at, id limit $4)
        returning id, kind, payload, workspace_id, attempts";
    const POSTGRES: &str = "update jobs set locked_until = $3, attempts = attempts + 1
        where id in (select id from jobs where kind = $1 and run_at <= $2 and (locked_until is null or locked_until <= $2)
                     order by run_at, id limit $4 for update skip locked)
        returning id, kind, payload, workspace_id, attempts";
    let sql = match landlord.backend() {
        crate::db::Backend::Sqlite => SQLITE,
        crate::db::Backend::Postgres => POSTGRES,
    };
    let mut jobs: Vec<Job> = on_write!(landlord.db(), conn => sqlx::query_as(sql)
        .bind(kind)
        .bind(now)
        .bind(now + LEASE)
        .bind(limit)
        .fetch_all(conn)
        .await)?;
    jobs.sort_by_key(|job| job.id);
    Ok(jobs)
}

/// Deletes finished jobs, in one write.
pub async fn complete(landlord: &Landlord, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    // Integers this module read from the database: nothing of a request is in this SQL.
    let list = crate::db::integer_list(ids);
    let sql = format!("delete from jobs where id in ({list})");
    on_write!(landlord.db(), conn => sqlx::query(&sql)
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Puts a failed job back, due again after the backoff for its attempt count.
pub async fn retry_later(landlord: &Landlord, job: &Job, error: &str, now: DateTime<Utc>) -> Result<()> {
    on_write!(landlord.db(), conn => sqlx::query(
        "update jobs set run_at = $2, locked_until = null, last_error = $3 where id = $1",
    )
    .bind(job.id)
    .bind(now + backoff(job.attempts))
    .bind(error)
    .execute(conn)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// 10 s after the first failure, doubling, at most 30 minutes.
pub fn backoff(attempts: i64) -> Duration {
    let exponent = attempts.clamp(1, 20) as u32 - 1;
    Duration::seconds(10 * 2i64.pow(exponent)).min(Duration::minutes(30))
}

/// Jobs waiting (due or not), for tests and health pages.
pub async fn pending(landlord: &Landlord, kind: &str) -> Result<i64> {
    Ok(
        on_db!(landlord.db(), pool => sqlx::query_scalar("select count(*) from jobs where kind = $1")
        .bind(kind)
        .fetch_one(pool)
        .await)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_ten_seconds_up_to_half_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(10));
        assert_eq!(backoff(2), Duration::seconds(20));
        assert_eq!(backoff(5), Duration::seconds(160));
        assert_eq!(backoff(10), Duration::minutes(30));
        assert_eq!(backoff(1000), Duration::minutes(30));
    }
}
