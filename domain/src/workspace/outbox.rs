//! Mail caused by a change to a workspace's data is written to the workspace's `outbox` in the change's own
//! transaction, then moved to the landlord's job queue (sealed, like all queued mail) by [`relay`]: right
//! after the change commits, and by housekeeping for anything a stopped process left behind. A message is
//! deleted from the outbox only in the step after its job committed, so none is lost; a crash between the
//! two steps can send one twice, never zero times.

use crate::{
    Landlord, Result, WorkspaceDb,
    db::{Tx, Value},
    mail,
    mail::Email,
    on_db, on_write,
};
use chrono::{DateTime, Utc};

pub(crate) fn add(tx: &mut Tx, email: &Email, now: DateTime<Utc>) -> Result<()> {
    let payload = serde_json::to_string(email).map_err(|e| crate::Error::Invalid(e.to_string()))?;
    tx.later(
        "insert into outbox (payload, created_at) values ($1, $2)",
        vec![Value::Text(Some(payload)), Value::Time(now)],
    );
    Ok(())
}

/// Moves the workspace's waiting mail to the landlord's queue, in one landlord transaction per 200
/// messages; returns how many messages moved.
pub async fn relay(landlord: &Landlord, ws: &WorkspaceDb, now: DateTime<Utc>) -> Result<usize> {
    let mut moved = 0;
    loop {
        let waiting: Vec<(i64, String)> = on_db!(ws.db(), pool => sqlx::query_as(
            "select id, payload from outbox order by id limit 200",
        )
        .fetch_all(pool)
        .await)?;
        if waiting.is_empty() {
            return Ok(moved);
        }
        let mut emails = Vec::with_capacity(waiting.len());
        for (id, payload) in &waiting {
            match serde_json::from_str::<Email>(payload) {
                Ok(email) => emails.push(email),
                Err(error) => {
                    tracing::error!(workspace = %ws.id(), outbox = id, %error, "dropping an unreadable outbox entry")
                }
            }
        }
        let mut tx = landlord.db().begin().await?;
        mail::queue_all(landlord, &mut tx, &emails, Some(ws.id().get()), now).await?;
        tx.commit().await?;
        moved += emails.len();
        // Exactly the rows read, never a range: on PostgreSQL ids are handed out when a transaction inserts,
        // not when it commits, so a row with a lower id than the highest read can commit after this read; deleting
        // `id <= highest` would drop its mail unsent. Integers read from the database: nothing of a request is
        // in this SQL.
        let read: Vec<i64> = waiting.iter().map(|(id, _)| *id).collect();
        let sql = format!("delete from outbox where id in ({})", crate::db::integer_list(&read));
        on_write!(ws.db(), conn => sqlx::query(&sql)
            .execute(conn)
            .await
            .map(|d| d.rows_affected()))?;
        if waiting.len() < 200 {
            return Ok(moved);
        }
    }
}

/// Relays in the background: a change commits and answers at once, and its mail moves to the job queue
/// a moment later, together with whatever other changes wrote meanwhile (one landlord commit for many).
#[derive(Clone)]
pub struct Relayer(tokio::sync::mpsc::UnboundedSender<WorkspaceDb>);

impl Relayer {
    pub fn spawn(landlord: std::sync::Arc<Landlord>) -> Relayer {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<WorkspaceDb>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut due = vec![first];
                while let Ok(more) = rx.try_recv() {
                    if !due.iter().any(|ws| ws.id() == more.id()) {
                        due.push(more);
                    }
                }
                for ws in due {
                    if let Err(error) = relay(&landlord, &ws, Utc::now()).await {
                        tracing::warn!(workspace = %ws.id(), %error, "outbox relay failed; housekeeping will retry");
                    }
                }
            }
        });
        Relayer(tx)
    }

    /// Asks for the workspace's outbox to be relayed soon.
    pub fn soon(&self, ws: &WorkspaceDb) {
        let _ = self.0.send(ws.clone());
    }
}

/// How many messages wait in the workspace's outbox.
pub async fn waiting(ws: &WorkspaceDb) -> Result<i64> {
    Ok(on_db!(ws.db(), pool => sqlx::query_scalar("select count(*) from outbox").fetch_one(pool).await)?)
}
