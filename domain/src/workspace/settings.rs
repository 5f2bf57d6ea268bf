use crate::{Result, WorkspaceDb, on_db, on_write};
use chrono::Utc;

pub async fn get(ws: &WorkspaceDb, key: &str) -> Result<Option<String>> {
    Ok(
        on_db!(ws.db(), pool => sqlx::query_scalar("select value from settings where key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await)?,
    )
}

pub async fn set(ws: &WorkspaceDb, key: &str, value: &str) -> Result<()> {
    on_write!(ws.db(), conn => sqlx::query(
        "insert into settings (key, value, updated_at) values ($1, $2, $3)
         on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(value)
    .bind(Utc::now())
    .execute(conn)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}
