use crate::{Error, Result, WorkspaceDb, on_db};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Ticket {
    pub id: i64,
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub requester_id: i64,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, number, subject, status, priority, requester_id, created_at";

/// Creates a ticket with the next number of the workspace and its first message, in one transaction.
#[tracing::instrument(skip_all, fields(workspace = %ws.id()))]
pub async fn create(ws: &WorkspaceDb, requester_id: i64, subject: &str, body: &str) -> Result<Ticket> {
    let subject = subject.trim();
    if subject.is_empty() || subject.chars().count() > 200 {
        return Err(Error::Invalid("A subject must be 1 to 200 characters long.".into()));
    }
    let now = Utc::now();
    let sql = format!(
        "insert into tickets (number, subject, requester_id, created_at, updated_at)
         values ($1, $2, $3, $4, $4) returning {COLUMNS}"
    );
    on_db!(ws.db(), pool => {
        let mut tx = pool.begin().await?;
        // The counter row is locked by this update until commit, so numbers are gap-free and unique.
        let number: i64 = sqlx::query_scalar(
            "update counters set value = value + 1 where name = 'ticket_number' returning value",
        )
        .fetch_one(&mut *tx)
        .await?;
        let ticket: Ticket = sqlx::query_as(&sql)
            .bind(number)
            .bind(subject)
            .bind(requester_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "insert into messages (ticket_id, author_customer_id, kind, body, created_at)
             values ($1, $2, 'reply', $3, $4)",
        )
        .bind(ticket.id)
        .bind(requester_id)
        .bind(body)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ticket)
    })
}

pub async fn get(ws: &WorkspaceDb, id: i64) -> Result<Ticket> {
    let sql = format!("select {COLUMNS} from tickets where id = $1");
    let found: Option<Ticket> = on_db!(ws.db(), pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
    found.ok_or(Error::NotFound)
}

pub async fn list(ws: &WorkspaceDb) -> Result<Vec<Ticket>> {
    let sql = format!("select {COLUMNS} from tickets order by number desc");
    Ok(on_db!(ws.db(), pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
}

/// The bodies of a ticket's messages, oldest first.
pub async fn message_bodies(ws: &WorkspaceDb, ticket_id: i64) -> Result<Vec<String>> {
    Ok(on_db!(ws.db(), pool => sqlx::query_scalar(
        "select body from messages where ticket_id = $1 order by id",
    )
    .bind(ticket_id)
    .fetch_all(pool)
    .await)?)
}
