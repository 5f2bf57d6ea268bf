//! The feedback inbox: bug reports and feature requests from staff and customers, with a status the team
//! sets (new, planned, done, declined) and votes (one per person and item).
//!
//! A screenshot is optional; it must be an image (PNG, JPEG, GIF, WebP, by content) and is kept like an
//! attachment, behind the [`BlobStore`].

use super::attachments::{self, BlobStore, Upload};
use crate::{Error, Result, WorkspaceDb, crypto, on_db, on_tx, on_write};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The largest screenshot, in bytes.
pub const SCREENSHOT_MAX: usize = 5 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bug,
    Feature,
}

impl Kind {
    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "bug" => Some(Kind::Bug),
            "feature" => Some(Kind::Feature),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Bug => "bug",
            Kind::Feature => "feature",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    New,
    Planned,
    Done,
    Declined,
}

impl State {
    pub const ALL: [State; 4] = [State::New, State::Planned, State::Done, State::Declined];

    pub fn parse(text: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Planned => "planned",
            State::Done => "done",
            State::Declined => "declined",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            State::New => "New",
            State::Planned => "Planned",
            State::Done => "Done",
            State::Declined => "Declined",
        }
    }
}

/// Who sends feedback or votes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Voice {
    Staff { account_id: i64, name: String },
    Customer { customer_id: i64, name: String },
}

impl Voice {
    fn key(&self) -> String {
        match self {
            Voice::Staff { account_id, .. } => format!("account:{account_id}"),
            Voice::Customer { customer_id, .. } => format!("customer:{customer_id}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Item {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub status: String,
    pub author_account_id: Option<i64>,
    pub author_customer_id: Option<i64>,
    pub author_name: String,
    #[serde(skip)]
    pub screenshot_key: Option<String>,
    pub screenshot_type: Option<String>,
    pub votes: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, kind, title, description, status, author_account_id, author_customer_id, author_name, \
    screenshot_key, screenshot_type, votes, created_at, updated_at";

/// What a person sends.
#[derive(Clone, Debug, Default)]
pub struct NewItem {
    pub kind: String,
    pub title: String,
    pub description: String,
    pub screenshot: Option<Upload>,
}

fn field(field: &'static str, message: &str) -> Error {
    Error::Field {
        field,
        message: message.into(),
    }
}

/// Records a bug report or feature request. The sender's own vote comes with it.
#[tracing::instrument(skip_all, fields(workspace = %ws.id()))]
pub async fn submit(
    ws: &WorkspaceDb,
    store: &dyn BlobStore,
    voice: &Voice,
    new: &NewItem,
    now: DateTime<Utc>,
) -> Result<Item> {
    let kind = Kind::parse(&new.kind).ok_or_else(|| field("kind", "Choose a bug report or a feature request."))?;
    let title = new.title.trim();
    if title.is_empty() || title.chars().count() > 200 || title.chars().any(char::is_control) {
        return Err(field("title", "A title must be 1 to 200 characters long, on one line."));
    }
    let description = new.description.trim();
    if description.is_empty() {
        return Err(field("description", "Describe what happened or what you need."));
    }
    if description.chars().count() > 20_000 {
        return Err(field(
            "description",
            "A description can be at most 20,000 characters long.",
        ));
    }
    let screenshot = match &new.screenshot {
        Some(upload) => {
            if upload.bytes.len() > SCREENSHOT_MAX {
                return Err(Error::TooLarge("A screenshot can be at most 5 MB.".into()));
            }
            let content_type = attachments::content_type(&upload.bytes).unwrap_or("application/octet-stream");
            if !matches!(content_type, "image/png" | "image/jpeg" | "image/gif" | "image/webp") {
                return Err(field(
                    "screenshot",
                    "A screenshot must be a PNG, JPEG, GIF or WebP image.",
                ));
            }
            let key = format!("{}/{}", ws.id(), hex::encode(*crypto::random_bytes::<32>()));
            store.put(&key, &upload.bytes).await?;
            Some((key, content_type))
        }
        None => None,
    };
    let (account, customer, name) = match voice {
        Voice::Staff { account_id, name } => (Some(*account_id), None, name.clone()),
        Voice::Customer { customer_id, name } => (None, Some(*customer_id), name.clone()),
    };
    let result = async {
        let mut tx = ws.db().begin().await?;
        let sql = format!(
            "insert into feedback (kind, title, description, author_account_id, author_customer_id, author_name,
                                   screenshot_key, screenshot_type, votes, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9) returning {COLUMNS}"
        );
        let item: Item = on_tx!(&mut tx, conn => sqlx::query_as(&sql)
            .bind(kind.as_str())
            .bind(title)
            .bind(description)
            .bind(account)
            .bind(customer)
            .bind(&name)
            .bind(screenshot.as_ref().map(|(k, _)| k.as_str()))
            .bind(screenshot.as_ref().map(|(_, t)| *t))
            .bind(now)
            .fetch_one(conn)
            .await)?;
        on_tx!(&mut tx, conn => sqlx::query("insert into feedback_votes (feedback_id, voter, created_at) values ($1, $2, $3)")
            .bind(item.id)
            .bind(voice.key())
            .bind(now)
            .execute(conn)
            .await
            .map(|d| d.rows_affected()))?;
        tx.commit().await?;
        Ok(item)
    }
    .await;
    if result.is_err()
        && let Some((key, _)) = &screenshot
        && let Err(error) = store.delete(key).await
    {
        tracing::warn!(%error, "could not remove a refused feedback's screenshot");
    }
    result
}

/// The inbox: everything, or one status, most voted first.
pub async fn inbox(ws: &WorkspaceDb, status: Option<State>) -> Result<Vec<Item>> {
    let sql = match status {
        Some(_) => format!("select {COLUMNS} from feedback where status = $1 order by votes desc, id desc limit 500"),
        None => format!("select {COLUMNS} from feedback order by votes desc, id desc limit 500"),
    };
    Ok(on_db!(ws.db(), pool => {
        let query = sqlx::query_as(&sql);
        let query = match status {
            Some(status) => query.bind(status.as_str()),
            None => query,
        };
        query.fetch_all(pool).await
    })?)
}

/// What one customer sent, newest first.
pub async fn of_customer(ws: &WorkspaceDb, customer_id: i64) -> Result<Vec<Item>> {
    let sql = format!("select {COLUMNS} from feedback where author_customer_id = $1 order by id desc limit 200");
    Ok(on_db!(ws.db(), pool => sqlx::query_as(&sql).bind(customer_id).fetch_all(pool).await)?)
}

pub async fn get(ws: &WorkspaceDb, id: i64) -> Result<Item> {
    let sql = format!("select {COLUMNS} from feedback where id = $1");
    let found: Option<Item> = on_db!(ws.db(), pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
    found.ok_or(Error::NotFound)
}

/// The team moves an item along.
pub async fn set_status(ws: &WorkspaceDb, id: i64, status: State, now: DateTime<Utc>) -> Result<()> {
    let changed = on_write!(ws.db(), conn => sqlx::query("update feedback set status = $1, updated_at = $2 where id = $3")
        .bind(status.as_str())
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(|d| d.rows_affected()))?;
    if changed == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Adds the person's vote, or takes it back if they had voted; returns the item's votes now.
pub async fn toggle_vote(ws: &WorkspaceDb, id: i64, voice: &Voice, now: DateTime<Utc>) -> Result<i64> {
    let mut tx = ws.db().begin().await?;
    let removed = on_tx!(&mut tx, conn => sqlx::query("delete from feedback_votes where feedback_id = $1 and voter = $2")
        .bind(id)
        .bind(voice.key())
        .execute(conn)
        .await
        .map(|d| d.rows_affected()))?;
    if removed == 0 {
        let inserted = on_tx!(&mut tx, conn => sqlx::query(
            "insert into feedback_votes (feedback_id, voter, created_at)
             select id, $2, $3 from feedback where id = $1",
        )
        .bind(id)
        .bind(voice.key())
        .bind(now)
        .execute(conn)
        .await
        .map(|d| d.rows_affected()))?;
        if inserted == 0 {
            return Err(Error::NotFound);
        }
    }
    let votes: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "update feedback set votes = (select count(*) from feedback_votes where feedback_id = $1) where id = $1 returning votes",
    )
    .bind(id)
    .fetch_optional(conn)
    .await)?;
    tx.commit().await?;
    votes.ok_or(Error::NotFound)
}

/// The items the person has voted for.
pub async fn voted(ws: &WorkspaceDb, voice: &Voice) -> Result<Vec<i64>> {
    Ok(
        on_db!(ws.db(), pool => sqlx::query_scalar("select feedback_id from feedback_votes where voter = $1")
        .bind(voice.key())
        .fetch_all(pool)
        .await)?,
    )
}

/// An item's screenshot bytes and type.
pub async fn screenshot(store: &dyn BlobStore, item: &Item) -> Result<(String, Vec<u8>)> {
    let (Some(key), Some(content_type)) = (&item.screenshot_key, &item.screenshot_type) else {
        return Err(Error::NotFound);
    };
    Ok((content_type.clone(), store.get(key).await?))
}
