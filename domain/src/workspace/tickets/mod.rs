//! Tickets and their threads: creation, changes recorded as events, replies and internal notes, tags,
//! categories. Every write is one transaction that also keeps the search document, the audit log and the
//! outbox of the mail it causes.

mod categories;
mod create;
mod mail;
mod messages;
mod update;

pub use categories::{
    Category, TAG_CHOICES, all_tags, categories, create_category, delete_category, normalize_tag, parse_tags, tags,
};
pub(crate) use create::create_in;
pub use create::{NewTicket, check_new, create};
pub use mail::portal_url;
pub(crate) use messages::add_message_in;
pub use messages::{Kind, add_message, edit_message, thread};
pub use update::{Changes, update, update_many};

use super::markdown;
use crate::{
    Error, Result, WorkspaceDb,
    db::{Tx, Value},
    on_db, on_tx,
};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

pub use vocab::{MessageKind, Priority, Status, TicketId, TicketNumber};

/// Who makes a change: an agent (account of the landlord) or a customer of the workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Author {
    Agent {
        account_id: i64,
        name: String,
    },
    Customer {
        customer_id: i64,
        name: String,
    },
    /// The system itself (imports, the seeding command).
    System,
}

/// A change's author plus what the audit log and the mail it causes need.
#[derive(Clone, Debug)]
pub struct Actor {
    pub author: Author,
    /// The client's address, for the audit log.
    pub ip: Option<String>,
    /// The public URL of the site (links in notifications), without a trailing slash.
    pub base_url: String,
    pub workspace_slug: String,
    pub workspace_name: String,
}

impl Actor {
    /// The system acting in `workspace` (the public form, imports), for a request from `ip`.
    pub fn system(workspace: &crate::Workspace, base_url: &str, ip: Option<String>) -> Actor {
        Actor {
            author: Author::System,
            ip,
            base_url: base_url.to_owned(),
            workspace_slug: workspace.slug.clone(),
            workspace_name: workspace.name.clone(),
        }
    }

    fn audit_name(&self) -> String {
        match &self.author {
            Author::Agent { account_id, .. } => format!("account:{account_id}"),
            Author::Customer { customer_id, .. } => format!("customer:{customer_id}"),
            Author::System => "system".into(),
        }
    }

    fn name(&self) -> &str {
        match &self.author {
            Author::Agent { name, .. } | Author::Customer { name, .. } => name,
            Author::System => "Ferrodesk",
        }
    }

    fn account_id(&self) -> Option<i64> {
        match &self.author {
            Author::Agent { account_id, .. } => Some(*account_id),
            _ => None,
        }
    }

    fn customer_id(&self) -> Option<i64> {
        match &self.author {
            Author::Customer { customer_id, .. } => Some(*customer_id),
            _ => None,
        }
    }
}

/// An agent a ticket can be assigned to: the caller checks that the account is a member of the workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignee {
    pub account_id: i64,
    pub name: String,
    pub email: String,
}

crate::read_by_position! {
    /// A ticket as the list and the ticket page show it. Read by position from [`COLUMNS`], in that order
    /// ([`crate::db::rows`]).
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    pub struct Ticket {
        pub id: i64,
        pub number: i64,
        pub subject: String,
        #[word]
        pub status: Status,
        #[word]
        pub priority: Priority,
        pub requester_id: i64,
        pub requester_name: String,
        pub requester_email: String,
        pub assignee_account_id: Option<i64>,
        pub assignee_name: Option<String>,
        pub assignee_email: Option<String>,
        pub category_id: Option<i64>,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub solved_at: Option<DateTime<Utc>>,
    }
}

/// How many columns [`COLUMNS`] lists.
pub(crate) const COLUMN_COUNT: usize = Ticket::READ_ORDER.len();

/// The columns of [`Ticket`], in its reading order.
pub(crate) const COLUMNS: &str = "id, number, subject, status, priority, requester_id, requester_name, \
    requester_email, assignee_account_id, assignee_name, assignee_email, category_id, created_at, updated_at, solved_at";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub kind: MessageKind,
    pub author_account_id: Option<i64>,
    pub author_customer_id: Option<i64>,
    pub author_name: String,
    /// The Markdown as written (or the event's text).
    pub body: String,
    /// Sanitized HTML, rendered when the message was written.
    pub html: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

/// How long after writing it an agent may still correct their own reply or note.
pub const EDIT_WINDOW: Duration = Duration::minutes(15);
/// The longest subject, in characters.
pub const SUBJECT_MAX: usize = vocab::SUBJECT_MAX;
/// The longest message body, in bytes.
pub const BODY_MAX: usize = 100_000;

fn invalid(message: &str) -> Error {
    Error::Invalid(message.into())
}

fn check_subject(subject: &str) -> Result<String> {
    vocab::Subject::parse(subject)
        .map(vocab::Subject::into_string)
        .map_err(|invalid| Error::Invalid(invalid.to_string()))
}

/// A message's text, checked, and its HTML: made before a write begins, as rendering takes longer than
/// the statements that store it, and other writers may be waiting for the write lock.
pub(crate) struct Body<'a> {
    text: &'a str,
    html: String,
}

impl<'a> Body<'a> {
    pub(crate) fn new(text: &'a str) -> Result<Body<'a>> {
        let text = check_body(text)?;
        Ok(Body {
            text,
            html: markdown::render(text),
        })
    }
}

fn check_body(body: &str) -> Result<&str> {
    let body = body.trim_end();
    if body.trim().is_empty() {
        return Err(invalid("Write a message."));
    }
    if body.len() > BODY_MAX {
        return Err(invalid("A message can be at most 100,000 characters long."));
    }
    Ok(body)
}

/// The ticket's transaction: a `Tx` of the workspace's database plus the backend, for the few statements
/// whose SQL differs.
pub(crate) async fn begin(ws: &WorkspaceDb) -> Result<Tx> {
    Ok(ws.db().begin().await?)
}

/// Queues the audit line of a change in its transaction.
fn audit(tx: &mut Tx, actor: &Actor, action: &str, subject: &str, detail: Option<&str>, now: DateTime<Utc>) {
    tx.later(
        "insert into audit_log (actor, action, subject, ip, detail, created_at) values ($1, $2, $3, $4, $5, $6)",
        vec![
            Value::text(actor.audit_name()),
            Value::text(action),
            Value::text(subject),
            Value::Text(actor.ip.clone()),
            Value::Text(detail.map(str::to_owned)),
            Value::Time(now),
        ],
    );
}

async fn ticket_in(tx: &mut Tx, id: i64) -> Result<Ticket> {
    let sql = format!("select {COLUMNS} from tickets where id = $1");
    let found: Option<Ticket> = on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)?;
    found.ok_or(Error::NotFound)
}

/// The ticket with `number`.
pub async fn get(ws: &WorkspaceDb, number: TicketNumber) -> Result<Ticket> {
    let sql = format!("select {COLUMNS} from tickets where number = $1");
    let found: Option<Ticket> =
        on_db!(ws.db(), pool => sqlx::query_as(&sql).bind(number.get()).fetch_optional(pool).await)?;
    found.ok_or(Error::NotFound)
}

/// The ticket with the row id `id`.
pub async fn get_by_id(ws: &WorkspaceDb, id: TicketId) -> Result<Ticket> {
    let sql = format!("select {COLUMNS} from tickets where id = $1");
    let found: Option<Ticket> =
        on_db!(ws.db(), pool => sqlx::query_as(&sql).bind(id.get()).fetch_optional(pool).await)?;
    found.ok_or(Error::NotFound)
}

async fn thread_id_in(tx: &mut Tx, ticket_id: i64) -> Result<String> {
    Ok(
        on_tx!(tx, conn => sqlx::query_scalar("select thread_id from tickets where id = $1")
        .bind(ticket_id)
        .fetch_one(conn)
        .await)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_are_the_ticket_readers_in_its_order() {
        let listed: Vec<&str> = COLUMNS.split(',').map(str::trim).collect();
        assert_eq!(listed, Ticket::READ_ORDER);
        assert_eq!(COLUMN_COUNT, 15);
    }
}
