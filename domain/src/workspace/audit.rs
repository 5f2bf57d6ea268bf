use crate::{Result, WorkspaceDb, on_db, on_write};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn record(
    ws: &WorkspaceDb,
    actor: &str,
    action: &str,
    subject: Option<&str>,
    ip: Option<&str>,
) -> Result<()> {
    on_write!(ws.db(), conn => sqlx::query(
        "insert into audit_log (actor, action, subject, ip, created_at) values ($1, $2, $3, $4, $5)",
    )
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(ip)
    .bind(Utc::now())
    .execute(conn)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

pub async fn list(ws: &WorkspaceDb) -> Result<Vec<AuditEntry>> {
    Ok(on_db!(ws.db(), pool => sqlx::query_as(
        "select id, actor, action, subject, ip, created_at from audit_log order by id desc",
    )
    .fetch_all(pool)
    .await)?)
}
