use crate::{Error, Result, WorkspaceDb, on_db, on_write};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Customer {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[tracing::instrument(skip_all, fields(workspace = %ws.id()))]
pub async fn create(ws: &WorkspaceDb, email: &str, name: &str) -> Result<Customer> {
    let email = crate::auth::accounts::normalize_email(email)?;
    let now = Utc::now();
    on_write!(ws.db(), conn => sqlx::query_as(
        "insert into customers (email, name, created_at, updated_at) values ($1, $2, $3, $3)
         returning id, email, name, created_at",
    )
    .bind(&email)
    .bind(name.trim())
    .bind(now)
    .fetch_one(conn)
    .await)
    .map_err(|e| Error::unique_or(e, || format!("A customer with the address {email} exists already.")))
}

pub async fn get(ws: &WorkspaceDb, id: i64) -> Result<Customer> {
    let found: Option<Customer> = on_db!(ws.db(), pool => sqlx::query_as(
        "select id, email, name, created_at from customers where id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await)?;
    found.ok_or(Error::NotFound)
}

pub async fn list(ws: &WorkspaceDb) -> Result<Vec<Customer>> {
    Ok(on_db!(ws.db(), pool => sqlx::query_as(
        "select id, email, name, created_at from customers order by id",
    )
    .fetch_all(pool)
    .await)?)
}
