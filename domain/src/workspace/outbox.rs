//! Mail caused by a change to a workspace's data is written to the workspace's `outbox` in the change's own
//! transaction, then moved to the landlord's job queue (sealed, like all queued mail) by [`relay`]: right
//! after the change commits, and by housekeeping for anything a stopped process left behind. A message is
//! deleted from the outbox only in the step after its job committed, so none is lost; a crash between the
//! two steps can send one twice, never zero times.

use crate::{Landlord, Result, WorkspaceDb, db::Tx, mail, mail::Email, on_db, on_tx};
use chrono::{DateTime, Utc};

pub(crate) async fn add(tx: &mut Tx, email: &Email, now: DateTime<Utc>) -> Result<()> {
    let payload = serde_json::to_string(email).map_err(|e| crate::Error::Invalid(e.to_string()))?;
    on_tx!(tx, conn => sqlx::query("insert into outbox (payload, created_at) values ($1, $2)")
        .bind(payload)
        .bind(now)
        .execute(conn)
        .await
        .map(|d| d.rows_affected()))?;
    Ok(())
}

/// Moves the workspace's waiting mail to the landlord's queue; returns how many messages moved.
pub async fn relay(landlord: &Landlord, ws: &WorkspaceDb, now: DateTime<Utc>) -> Result<usize> {
    let waiting: Vec<(i64, String)> = on_db!(ws.db(), pool => sqlx::query_as(
        "select id, payload from outbox order by id limit 200",
    )
    .fetch_all(pool)
    .await)?;
    let mut moved = 0;
    for (id, payload) in waiting {
        match serde_json::from_str::<Email>(&payload) {
            Ok(email) => {
                let mut tx = landlord.db().begin().await?;
                mail::queue(landlord, &mut tx, &email, Some(ws.id().get()), now).await?;
                tx.commit().await?;
                moved += 1;
            }
            Err(error) => {
                tracing::error!(workspace = %ws.id(), outbox = id, %error, "dropping an unreadable outbox entry")
            }
        }
        on_db!(ws.db(), pool => sqlx::query("delete from outbox where id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|d| d.rows_affected()))?;
    }
    Ok(moved)
}

/// How many messages wait in the workspace's outbox.
pub async fn waiting(ws: &WorkspaceDb) -> Result<i64> {
    Ok(on_db!(ws.db(), pool => sqlx::query_scalar("select count(*) from outbox").fetch_one(pool).await)?)
}
