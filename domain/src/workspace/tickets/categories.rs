//! Tags (normalized, set and added on tickets) and the workspace's categories.

use super::{Actor, audit, begin, invalid};
use crate::{Error, Result, WorkspaceDb, db::Tx, on_db, on_tx};
use chrono::{DateTime, Utc};
use serde::Serialize;

const TAG_MAX: usize = 40;

/// Normalizes a tag: lower case, spaces become dashes, letters, digits, `-`, `_` and `.` only.
pub fn normalize_tag(tag: &str) -> Result<String> {
    let tag: String = tag
        .trim()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-");
    if tag.is_empty() || tag.chars().count() > TAG_MAX {
        return Err(invalid("A tag must be 1 to 40 characters long."));
    }
    if !tag.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err(invalid("A tag may hold letters, digits, '-', '_' and '.' only."));
    }
    Ok(tag)
}

/// Parses a comma-separated list of tags, dropping repeats.
pub fn parse_tags(list: &str) -> Result<Vec<String>> {
    let mut tags = Vec::new();
    for tag in list.split(',').filter(|t| !t.trim().is_empty()) {
        let tag = normalize_tag(tag)?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > 20 {
        return Err(invalid("A ticket can carry at most 20 tags."));
    }
    Ok(tags)
}

pub(super) async fn set_tags_in(tx: &mut Tx, ticket_id: i64, tags: &[String]) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("delete from ticket_tags where ticket_id = $1")
        .bind(ticket_id)
        .execute(conn)
        .await
        .map(|d| d.rows_affected()))?;
    for tag in tags {
        add_tag_in(tx, ticket_id, tag).await?;
    }
    Ok(())
}

pub(super) async fn add_tag_in(tx: &mut Tx, ticket_id: i64, tag: &str) -> Result<()> {
    let tag_id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "insert into tags (name) values ($1) on conflict (name) do update set name = excluded.name returning id",
    )
    .bind(tag)
    .fetch_one(conn)
    .await)?;
    on_tx!(tx, conn => sqlx::query(
        "insert into ticket_tags (ticket_id, tag_id) values ($1, $2) on conflict do nothing",
    )
    .bind(ticket_id)
    .bind(tag_id)
    .execute(conn)
    .await
    .map(|d| d.rows_affected()))?;
    Ok(())
}

pub(super) async fn category_exists(tx: &mut Tx, id: i64) -> Result<()> {
    let found: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar("select id from categories where id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await)?;
    found
        .map(|_| ())
        .ok_or_else(|| invalid("Choose one of the workspace's categories."))
}

pub(super) async fn tags_in(tx: &mut Tx, ticket_id: i64) -> Result<Vec<String>> {
    Ok(on_tx!(tx, conn => sqlx::query_scalar(
        "select t.name from ticket_tags tt join tags t on t.id = tt.tag_id where tt.ticket_id = $1 order by t.name",
    )
    .bind(ticket_id)
    .fetch_all(conn)
    .await)?)
}
/// The tags of a ticket, alphabetically.
pub async fn tags(ws: &WorkspaceDb, ticket_id: i64) -> Result<Vec<String>> {
    Ok(on_db!(ws.db(), pool => sqlx::query_scalar(
        "select t.name from ticket_tags tt join tags t on t.id = tt.tag_id where tt.ticket_id = $1 order by t.name",
    )
    .bind(ticket_id)
    .fetch_all(pool)
    .await)?)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Category {
    pub id: i64,
    pub name: String,
}

pub async fn categories(ws: &WorkspaceDb) -> Result<Vec<Category>> {
    Ok(
        on_db!(ws.db(), pool => sqlx::query_as("select id, name from categories order by name")
        .fetch_all(pool)
        .await)?,
    )
}

/// Adds a category (admins decide; the caller checks the role).
pub async fn create_category(ws: &WorkspaceDb, actor: &Actor, name: &str, now: DateTime<Utc>) -> Result<Category> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(invalid("A category name must be 1 to 60 characters long."));
    }
    let mut tx = begin(ws).await?;
    let category: Category = on_tx!(&mut tx, conn => sqlx::query_as(
        "insert into categories (name, created_at) values ($1, $2) returning id, name",
    )
    .bind(name)
    .bind(now)
    .fetch_one(conn)
    .await)
    .map_err(|e| Error::unique_or(e, || format!("There is a category named {name} already.")))?;
    audit(
        &mut tx,
        actor,
        "category.created",
        &format!("category:{}", category.id),
        Some(name),
        now,
    );
    tx.commit().await?;
    Ok(category)
}

/// Removes a category; its tickets keep their place with no category.
pub async fn delete_category(ws: &WorkspaceDb, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin(ws).await?;
    on_tx!(&mut tx, conn => sqlx::query("update tickets set category_id = null where category_id = $1")
        .bind(id)
        .execute(conn)
        .await
        .map(|d| d.rows_affected()))?;
    let removed = on_tx!(&mut tx, conn => sqlx::query("delete from categories where id = $1")
        .bind(id)
        .execute(conn)
        .await
        .map(|d| d.rows_affected()))?;
    if removed == 0 {
        return Err(Error::NotFound);
    }
    audit(&mut tx, actor, "category.deleted", &format!("category:{id}"), None, now);
    tx.commit().await?;
    Ok(())
}

/// Every tag in use, alphabetically (for the filter's choices).
/// How many tags the list's tag filter offers (the first by name).
pub const TAG_CHOICES: usize = 500;

pub async fn all_tags(ws: &WorkspaceDb) -> Result<Vec<String>> {
    let sql = format!("select name from tags order by name limit {TAG_CHOICES}");
    Ok(on_db!(ws.db(), pool => sqlx::query_scalar(&sql).fetch_all(pool).await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalized_and_checked() {
        assert_eq!(normalize_tag("  Billing Issue ").unwrap(), "billing-issue");
        assert!(normalize_tag("<script>").is_err());
        assert!(normalize_tag("a\r\nb").is_ok_and(|t| t == "a-b"));
        assert_eq!(parse_tags("vip, VIP ,refund,").unwrap(), vec!["vip", "refund"]);
    }
}
