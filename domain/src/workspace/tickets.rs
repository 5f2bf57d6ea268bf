//! Tickets and their threads: creation, changes recorded as events, replies and internal notes, tags,
//! categories. Every write is one transaction that also keeps the search document, the audit log and the
//! outbox of the mail it causes.

use super::{markdown, outbox, ratings, search};
use crate::{
    Error, Result, WorkspaceDb,
    db::{Tx, Value},
    mail::Email,
    on_db, on_tx,
};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::{FromRow, Row};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Open,
    Pending,
    OnHold,
    Solved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::New,
        Status::Open,
        Status::Pending,
        Status::OnHold,
        Status::Solved,
        Status::Closed,
    ];
    /// The statuses of tickets still being worked.
    pub const UNSOLVED: [Status; 4] = [Status::New, Status::Open, Status::Pending, Status::OnHold];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Open => "open",
            Status::Pending => "pending",
            Status::OnHold => "on_hold",
            Status::Solved => "solved",
            Status::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::New => "New",
            Status::Open => "Open",
            Status::Pending => "Pending",
            Status::OnHold => "On hold",
            Status::Solved => "Solved",
            Status::Closed => "Closed",
        }
    }

    pub fn is_solved(self) -> bool {
        matches!(self, Status::Solved | Status::Closed)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(text: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Priority::Low => "Low",
            Priority::Normal => "Normal",
            Priority::High => "High",
            Priority::Urgent => "Urgent",
        }
    }
}

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

/// A ticket as the list and the ticket page show it. Read from [`COLUMNS`], in that order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ticket {
    pub id: i64,
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub priority: String,
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

/// How many columns [`COLUMNS`] lists.
pub(crate) const COLUMN_COUNT: usize = 15;

pub(crate) const COLUMNS: &str = "id, number, subject, status, priority, requester_id, requester_name, \
    requester_email, assignee_account_id, assignee_name, assignee_email, category_id, created_at, updated_at, solved_at";

/// Reads the columns by position, as [`COLUMNS`] lists them, where the derived reader would look each one
/// up by name, and without sqlx's check that each column's database type suits the field (the types are
/// the migrations' own; a value that does not decode is still an error): a list page reads 51 tickets of
/// 15 columns, and the name lookups and type checks were 5.5 % of its instructions.
impl<'r, R> sqlx::FromRow<'r, R> for Ticket
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database>,
    String: sqlx::Decode<'r, R::Database>,
    DateTime<Utc>: sqlx::Decode<'r, R::Database>,
{
    fn from_row(row: &'r R) -> std::result::Result<Self, sqlx::Error> {
        Ok(Ticket {
            id: row.try_get_unchecked(0)?,
            number: row.try_get_unchecked(1)?,
            subject: row.try_get_unchecked(2)?,
            status: row.try_get_unchecked(3)?,
            priority: row.try_get_unchecked(4)?,
            requester_id: row.try_get_unchecked(5)?,
            requester_name: row.try_get_unchecked(6)?,
            requester_email: row.try_get_unchecked(7)?,
            assignee_account_id: row.try_get_unchecked(8)?,
            assignee_name: row.try_get_unchecked(9)?,
            assignee_email: row.try_get_unchecked(10)?,
            category_id: row.try_get_unchecked(11)?,
            created_at: row.try_get_unchecked(12)?,
            updated_at: row.try_get_unchecked(13)?,
            solved_at: row.try_get_unchecked(14)?,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    pub kind: String,
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
pub const SUBJECT_MAX: usize = 200;
/// The longest message body, in bytes.
pub const BODY_MAX: usize = 100_000;
const TAG_MAX: usize = 40;
const NAME_MAX: usize = 120;

fn invalid(message: &str) -> Error {
    Error::Invalid(message.into())
}

fn check_subject(subject: &str) -> Result<&str> {
    let subject = subject.trim();
    if subject.is_empty() || subject.chars().count() > SUBJECT_MAX {
        return Err(invalid("A subject must be 1 to 200 characters long."));
    }
    if subject.chars().any(char::is_control) {
        return Err(invalid("A subject cannot hold control characters or line breaks."));
    }
    Ok(subject)
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

/// What an agent (or the portal) enters to open a ticket.
#[derive(Clone, Debug, Default)]
pub struct NewTicket {
    pub requester_email: String,
    pub requester_name: String,
    pub subject: String,
    pub body: String,
    pub priority: Option<Priority>,
    pub category_id: Option<i64>,
    pub tags: Vec<String>,
    pub assignee: Option<Assignee>,
}

fn check_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ','))
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'));
    if valid {
        Ok(email)
    } else {
        Err(invalid("Enter the requester's email address."))
    }
}

/// The ticket's transaction: a `Tx` of the workspace's database plus the backend, for the few statements
/// whose SQL differs.
pub(crate) async fn begin(ws: &WorkspaceDb) -> Result<Tx> {
    Ok(ws.db().begin().await?)
}

/// The name a new requester gets: the one given, else the address's local part.
fn new_requester_name<'a>(email: &'a str, name: &'a str) -> Result<&'a str> {
    let name = name.trim();
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(invalid("A name can be at most 120 characters long, on one line."));
    }
    Ok(if name.is_empty() {
        email.split('@').next().unwrap_or(email)
    } else {
        name
    })
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

/// A message's row; `$1`…`$8` are its columns in this order.
const INSERT_MESSAGE: &str =
    "insert into messages (ticket_id, author_account_id, author_customer_id, author_name, kind, body, html, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8)";

async fn insert_message(
    tx: &mut Tx,
    ticket_id: i64,
    actor: &Actor,
    kind: &str,
    body: &str,
    html: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    let sql = format!("{INSERT_MESSAGE} returning id");
    Ok(on_tx!(tx, conn => sqlx::query_scalar(&sql)
        .bind(ticket_id)
        .bind(actor.account_id())
        .bind(actor.customer_id())
        .bind(actor.name())
        .bind(kind)
        .bind(body)
        .bind(html)
        .bind(now)
        .fetch_one(conn)
        .await)?)
}

/// Records an event line in the thread ("Status: Open → Solved").
async fn event(tx: &mut Tx, ticket_id: i64, actor: &Actor, text: &str, now: DateTime<Utc>) -> Result<()> {
    let html = markdown::escape(text);
    insert_message(tx, ticket_id, actor, "event", text, &html, now).await?;
    Ok(())
}

async fn set_tags_in(tx: &mut Tx, ticket_id: i64, tags: &[String]) -> Result<()> {
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

async fn add_tag_in(tx: &mut Tx, ticket_id: i64, tag: &str) -> Result<()> {
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

async fn category_exists(tx: &mut Tx, id: i64) -> Result<()> {
    let found: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar("select id from categories where id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await)?;
    found
        .map(|_| ())
        .ok_or_else(|| invalid("Choose one of the workspace's categories."))
}

async fn ticket_in(tx: &mut Tx, id: i64) -> Result<Ticket> {
    let sql = format!("select {COLUMNS} from tickets where id = $1");
    let found: Option<Ticket> = on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)?;
    found.ok_or(Error::NotFound)
}

fn message_id(actor: &Actor, ticket: &Ticket, message_id: i64) -> String {
    let (prefix, suffix) = message_id_parts(actor, ticket);
    format!("{prefix}{message_id}{suffix}")
}

/// A message's Message-ID is `<slug.number.id@host>`: what comes before the message's id, and after it.
fn message_id_parts(actor: &Actor, ticket: &Ticket) -> (String, String) {
    (
        format!("{}{}.", message_id_prefix(actor), ticket.number),
        message_id_suffix(actor),
    )
}

/// The part of a Message-ID before the ticket's number: `<slug.`.
fn message_id_prefix(actor: &Actor) -> String {
    format!("<{}.", actor.workspace_slug)
}

/// The part of a Message-ID after the message's id: `@host>`.
fn message_id_suffix(actor: &Actor) -> String {
    let host = url::Url::parse(&actor.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "ferrodesk.invalid".into());
    format!("@{host}>")
}

/// Where the requester follows the ticket: the workspace's portal.
pub fn portal_url(base_url: &str, slug: &str, number: i64) -> String {
    format!("{}/p/{slug}/tickets/{number}", base_url.trim_end_matches('/'))
}

fn ticket_url(actor: &Actor, ticket: &Ticket) -> String {
    format!(
        "{}/w/{}/tickets/{}",
        actor.base_url, actor.workspace_slug, ticket.number
    )
}

/// A mail about a ticket, threaded under its first mail.
fn ticket_email(
    actor: &Actor,
    ticket: &Ticket,
    thread: &str,
    to: &str,
    message: i64,
    text: String,
    html: String,
) -> Email {
    let own_id = message_id(actor, ticket, message);
    Email {
        to: to.to_owned(),
        subject: format!("[#{}] {}", ticket.number, ticket.subject),
        text,
        html: Some(html),
        in_reply_to: (own_id != thread && !thread.is_empty()).then(|| thread.to_owned()),
        message_id: Some(own_id),
    }
}

/// Opens a ticket: the requester is found or created from the address, the body is its first message (a
/// public reply by whoever opened it). The requester gets a confirmation, an assignee a notice.
#[tracing::instrument(skip_all, fields(workspace = %ws.id()))]
pub async fn create(ws: &WorkspaceDb, actor: &Actor, new: &NewTicket, now: DateTime<Utc>) -> Result<Ticket> {
    let body = Body::new(&new.body).map_err(|e| e.on_field("body"))?;
    let mut tx = begin(ws).await?;
    let (ticket, _) = create_in(&mut tx, actor, new, &body, now).await?;
    tx.commit().await?;
    Ok(ticket)
}

/// Checks what [`create`] would refuse before anything is stored (the portal stores files first). Errors
/// name the field of [`NewTicket`] they are about, as [`create`]'s do.
pub fn check_new(new: &NewTicket) -> Result<()> {
    check_subject(&new.subject).map_err(|e| e.on_field("subject"))?;
    check_body(&new.body).map_err(|e| e.on_field("body"))?;
    check_email(&new.requester_email).map_err(|e| e.on_field("requester_email"))?;
    Ok(())
}

/// [`create`] inside a caller's transaction; returns the ticket and its first message's id. `body` is
/// `new.body`'s.
pub(crate) async fn create_in(
    tx: &mut Tx,
    actor: &Actor,
    new: &NewTicket,
    body: &Body<'_>,
    now: DateTime<Utc>,
) -> Result<(Ticket, i64)> {
    let subject = check_subject(&new.subject).map_err(|e| e.on_field("subject"))?;
    let (html, body) = (body.html.as_str(), body.text);
    let email = check_email(&new.requester_email).map_err(|e| e.on_field("requester_email"))?;
    let priority = new.priority.unwrap_or(Priority::Normal);
    if let Some(category) = new.category_id {
        category_exists(tx, category)
            .await
            .map_err(|e| e.on_field("category"))?;
    }
    let assignee = new.assignee.as_ref();
    // The portal's customer writes as themself; an agent writes on the requester's behalf. The first
    // message's Message-ID is the thread's, stored on the ticket.
    let name = new_requester_name(&email, &new.requester_name).map_err(|e| e.on_field("requester_name"))?;
    // Both statements take the same parameters, in this order.
    macro_rules! bind_new_ticket {
        ($sql:expr) => {
            sqlx::query($sql)
                .bind(subject)
                .bind(priority.as_str())
                .bind(&email)
                .bind(name)
                .bind(assignee.map(|a| a.account_id))
                .bind(assignee.map(|a| a.name.as_str()))
                .bind(assignee.map(|a| a.email.as_str()))
                .bind(new.category_id)
                .bind(now)
                .bind(actor.account_id())
                .bind(actor.customer_id())
                .bind(actor.name())
                .bind(body)
                .bind(html)
                .bind(message_id_prefix(actor))
                .bind(message_id_suffix(actor))
        };
    }
    let (ticket, first, thread): (Ticket, i64, String) = match &mut *tx {
        Tx::Sqlite(gate) => {
            // One trip to the connection's thread: the requester (created if the address is new), the
            // counter row (in the transaction, as writers take turns anyway, so numbers are gap-free), the
            // ticket, its first message and the thread id. `last_insert_rowid()` is the ticket's id, then the
            // message's (a trigger's inserts do not change it). `fetch_all`: SQLite's driver stops a
            // multi-statement query at the first row `fetch_one` asks for.
            let number = "(select value from counters where name = 'ticket_number')";
            let sql = format!(
                "insert into customers (email, name, created_at, updated_at) values ($3, $4, $9, $9)
                     on conflict (email) do nothing;
                 update counters set value = value + 1 where name = 'ticket_number';
                 insert into tickets (number, subject, priority, requester_id, requester_name, requester_email,
                                      assignee_account_id, assignee_name, assignee_email, category_id,
                                      created_at, updated_at)
                 select {number}, $1, $2, c.id, c.name, c.email, $5, $6, $7, $8, $9, $9
                 from customers c where c.email = $3
                 returning {COLUMNS};
                 insert into messages (ticket_id, author_account_id, author_customer_id, author_name, kind, body,
                                       html, created_at)
                 values (last_insert_rowid(), $10, $11, $12, 'reply', $13, $14, $9)
                 returning id, $15 || {number} || '.' || id || $16;
                 update tickets set thread_id = $15 || {number} || '.' || last_insert_rowid() || $16
                 where id = (select ticket_id from messages where id = last_insert_rowid())"
            );
            let rows = bind_new_ticket!(&sql).fetch_all(gate.conn()).await?;
            let [ticket, message] = rows.as_slice() else {
                return Err(Error::Database(sqlx::Error::RowNotFound));
            };
            (Ticket::from_row(ticket)?, message.try_get(0)?, message.try_get(1)?)
        }
        Tx::Postgres(pg) => {
            // One statement: the requester (created if the address is new), the ticket and its first
            // message. The number comes from a sequence, which locks nothing, so concurrent creations do not
            // queue behind each other's commit (a creation that fails leaves its number unused). The
            // message's id is taken first, so the ticket is written once, with its thread id, instead of
            // inserted and then updated (a second row version, and new entries in its indexes).
            let sql = format!(
                "with ids as (
                     select nextval('ticket_numbers') as number,
                            nextval(pg_get_serial_sequence('messages', 'id')) as message
                 ), found as (
                     select id, name, email from customers where email = $3
                 ), added as (
                     insert into customers (email, name, created_at, updated_at)
                     select $3, $4, $9, $9 where not exists (select from found)
                     on conflict (email) do update set updated_at = customers.updated_at
                     returning id, name, email
                 ), requester as (
                     select * from found union all select * from added
                 ), ticket as (
                     insert into tickets (number, subject, priority, requester_id, requester_name,
                                          requester_email, assignee_account_id, assignee_name, assignee_email,
                                          category_id, thread_id, created_at, updated_at)
                     select ids.number, $1, $2, r.id, r.name, r.email, $5, $6, $7, $8,
                            $15 || ids.number || '.' || ids.message || $16, $9, $9
                     from ids, requester r
                     returning {COLUMNS}, thread_id
                 ), message as (
                     insert into messages (id, ticket_id, author_account_id, author_customer_id, author_name,
                                           kind, body, html, created_at)
                     overriding system value
                     select ids.message, ticket.id, $10, $11, $12, 'reply', $13, $14, $9 from ids, ticket
                 )
                 select ticket.*, ids.message from ticket, ids"
            );
            let row = bind_new_ticket!(&sql).fetch_one(pg.conn()).await?;
            let ticket = Ticket::from_row(&row)?;
            let thread = row.try_get(COLUMN_COUNT)?;
            (ticket, row.try_get(COLUMN_COUNT + 1)?, thread)
        }
    };
    for tag in &new.tags {
        add_tag_in(tx, ticket.id, tag).await?;
    }
    search::reindex(tx, ticket.id);
    audit(
        tx,
        actor,
        "ticket.created",
        &format!("ticket:{}", ticket.number),
        None,
        now,
    );
    let url = ticket_url(actor, &ticket);
    let portal = portal_url(&actor.base_url, &actor.workspace_slug, ticket.number);
    let confirmation = ticket_email(
        actor,
        &ticket,
        &thread,
        &email,
        first,
        format!(
            "We have your request #{} and will answer here by email.\n\n{}\n\nFollow it and answer online: {portal}\n",
            ticket.number, body
        ),
        format!(
            "<p>We have your request #{} and will answer here by email.</p><blockquote>{}</blockquote>\
             <p><a href=\"{}\">Follow it and answer online</a></p>",
            ticket.number,
            html,
            markdown::escape(&portal)
        ),
    );
    outbox::add(tx, &confirmation, now)?;
    if let Some(assignee) = &new.assignee
        && Some(assignee.account_id) != actor.account_id()
    {
        let notice = assignment_email(actor, &ticket, &thread, assignee, &url);
        outbox::add(tx, &notice, now)?;
    }
    Ok((ticket, first))
}

fn assignment_email(actor: &Actor, ticket: &Ticket, thread: &str, assignee: &Assignee, url: &str) -> Email {
    let mut email = Email::new(
        assignee.email.clone(),
        format!("[#{}] {}", ticket.number, ticket.subject),
        format!(
            "{} assigned ticket #{} to you in {}.\n\n{url}\n",
            actor.name(),
            ticket.number,
            actor.workspace_name
        ),
        format!(
            "<p>{} assigned ticket #{} to you in {}.</p><p><a href=\"{}\">Open the ticket</a></p>",
            markdown::escape(actor.name()),
            ticket.number,
            markdown::escape(&actor.workspace_name),
            markdown::escape(url)
        ),
    );
    email.in_reply_to = (!thread.is_empty()).then(|| thread.to_owned());
    email
}

/// The ticket with `number`.
pub async fn get(ws: &WorkspaceDb, number: i64) -> Result<Ticket> {
    let sql = format!("select {COLUMNS} from tickets where number = $1");
    let found: Option<Ticket> = on_db!(ws.db(), pool => sqlx::query_as(&sql).bind(number).fetch_optional(pool).await)?;
    found.ok_or(Error::NotFound)
}

/// The ticket with the row id `id`.
pub async fn get_by_id(ws: &WorkspaceDb, id: i64) -> Result<Ticket> {
    let sql = format!("select {COLUMNS} from tickets where id = $1");
    let found: Option<Ticket> = on_db!(ws.db(), pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
    found.ok_or(Error::NotFound)
}

/// A ticket's thread, oldest first. `public_only` leaves out internal notes (what a customer may see).
pub async fn thread(ws: &WorkspaceDb, ticket_id: i64, public_only: bool) -> Result<Vec<Message>> {
    let sql = if public_only {
        "select id, kind, author_account_id, author_customer_id, author_name, body, html, created_at, edited_at
         from messages where ticket_id = $1 and kind <> 'note' order by id"
    } else {
        "select id, kind, author_account_id, author_customer_id, author_name, body, html, created_at, edited_at
         from messages where ticket_id = $1 order by id"
    };
    Ok(on_db!(ws.db(), pool => sqlx::query_as(sql).bind(ticket_id).fetch_all(pool).await)?)
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

/// What a change to a ticket sets; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    pub subject: Option<String>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    /// `Some(None)` unassigns.
    pub assignee: Option<Option<Assignee>>,
    /// `Some(None)` clears the category.
    pub category_id: Option<Option<i64>>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
    /// Adds tags, keeping the others.
    pub add_tags: Vec<String>,
}

/// Applies `changes` to the ticket with row id `id`; every field that really changes becomes an event in
/// the thread and an audit entry. Returns the ticket as it is now.
#[tracing::instrument(skip_all, fields(workspace = %ws.id(), ticket = id))]
pub async fn update(ws: &WorkspaceDb, actor: &Actor, id: i64, changes: &Changes, now: DateTime<Utc>) -> Result<Ticket> {
    let mut tx = begin(ws).await?;
    let (ticket, _) = update_in(&mut tx, actor, id, changes, now).await?;
    tx.commit().await?;
    Ok(ticket)
}

async fn update_in(
    tx: &mut Tx,
    actor: &Actor,
    id: i64,
    changes: &Changes,
    now: DateTime<Utc>,
) -> Result<(Ticket, bool)> {
    let before = ticket_in(tx, id).await?;
    let mut events: Vec<String> = Vec::new();
    let mut reindex = false;
    if let Some(subject) = &changes.subject {
        let subject = check_subject(subject)?;
        if subject != before.subject {
            on_tx!(&mut *tx, conn => sqlx::query("update tickets set subject = $1 where id = $2")
                .bind(subject)
                .bind(id)
                .execute(conn)
                .await
                .map(|d| d.rows_affected()))?;
            events.push(format!("Subject: {} → {}", before.subject, subject));
            reindex = true;
        }
    }
    if let Some(status) = changes.status
        && status.as_str() != before.status
    {
        let solved_at = if status.is_solved() {
            before.solved_at.or(Some(now))
        } else {
            None
        };
        on_tx!(&mut *tx, conn => sqlx::query("update tickets set status = $1, solved_at = $2 where id = $3")
            .bind(status.as_str())
            .bind(solved_at)
            .bind(id)
            .execute(conn)
            .await
            .map(|d| d.rows_affected()))?;
        let old = Status::parse(&before.status).map_or("?", Status::label);
        events.push(format!("Status: {old} → {}", status.label()));
    }
    if let Some(priority) = changes.priority
        && priority.as_str() != before.priority
    {
        on_tx!(&mut *tx, conn => sqlx::query("update tickets set priority = $1 where id = $2")
            .bind(priority.as_str())
            .bind(id)
            .execute(conn)
            .await
            .map(|d| d.rows_affected()))?;
        let old = Priority::parse(&before.priority).map_or("?", Priority::label);
        events.push(format!("Priority: {old} → {}", priority.label()));
    }
    let mut newly_assigned = None;
    if let Some(assignee) = &changes.assignee
        && assignee.as_ref().map(|a| a.account_id) != before.assignee_account_id
    {
        on_tx!(&mut *tx, conn => sqlx::query(
            "update tickets set assignee_account_id = $1, assignee_name = $2, assignee_email = $3 where id = $4",
        )
        .bind(assignee.as_ref().map(|a| a.account_id))
        .bind(assignee.as_ref().map(|a| a.name.as_str()))
        .bind(assignee.as_ref().map(|a| a.email.as_str()))
        .bind(id)
        .execute(conn)
        .await
        .map(|d| d.rows_affected()))?;
        events.push(match assignee {
            Some(a) => format!("Assigned to {}", a.name),
            None => "Unassigned".into(),
        });
        newly_assigned = assignee.clone();
    }
    if let Some(category) = changes.category_id
        && category != before.category_id
    {
        if let Some(category) = category {
            category_exists(tx, category).await?;
        }
        on_tx!(&mut *tx, conn => sqlx::query("update tickets set category_id = $1 where id = $2")
            .bind(category)
            .bind(id)
            .execute(conn)
            .await
            .map(|d| d.rows_affected()))?;
        let name: Option<String> = match category {
            Some(c) => on_tx!(&mut *tx, conn => sqlx::query_scalar("select name from categories where id = $1")
                .bind(c)
                .fetch_optional(conn)
                .await)?,
            None => None,
        };
        events.push(format!("Category: {}", name.as_deref().unwrap_or("none")));
    }
    if let Some(tags) = &changes.tags {
        let old = tags_in(tx, id).await?;
        if *tags != old {
            set_tags_in(tx, id, tags).await?;
            events.push(format!(
                "Tags: {}",
                if tags.is_empty() {
                    "none".into()
                } else {
                    tags.join(", ")
                }
            ));
        }
    }
    if !changes.add_tags.is_empty() {
        let old = tags_in(tx, id).await?;
        let added: Vec<&String> = changes.add_tags.iter().filter(|t| !old.contains(t)).collect();
        for tag in &added {
            add_tag_in(tx, id, tag).await?;
        }
        if !added.is_empty() {
            events.push(format!(
                "Tagged {}",
                added.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if events.is_empty() {
        return Ok((before, false));
    }
    for text in &events {
        event(tx, id, actor, text, now).await?;
    }
    on_tx!(&mut *tx, conn => sqlx::query("update tickets set updated_at = $1 where id = $2")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map(|d| d.rows_affected()))?;
    if reindex {
        search::reindex(tx, id);
    }
    let subject = format!("ticket:{}", before.number);
    audit(tx, actor, "ticket.updated", &subject, Some(&events.join("; ")), now);
    let after = ticket_in(tx, id).await?;
    // Solved by the team: the requester is asked to rate the help.
    if changes.status == Some(Status::Solved)
        && before.status != Status::Solved.as_str()
        && !matches!(actor.author, Author::Customer { .. })
    {
        let thread = thread_id_in(tx, id).await?;
        ratings::issue_in(
            tx,
            &after,
            &thread,
            &actor.base_url,
            &actor.workspace_slug,
            &actor.workspace_name,
            now,
        )
        .await?;
    }
    if let Some(assignee) = newly_assigned
        && Some(assignee.account_id) != actor.account_id()
    {
        let thread = thread_id_in(tx, id).await?;
        let notice = assignment_email(actor, &after, &thread, &assignee, &ticket_url(actor, &after));
        outbox::add(tx, &notice, now)?;
    }
    Ok((after, true))
}

async fn tags_in(tx: &mut Tx, ticket_id: i64) -> Result<Vec<String>> {
    Ok(on_tx!(tx, conn => sqlx::query_scalar(
        "select t.name from ticket_tags tt join tags t on t.id = tt.tag_id where tt.ticket_id = $1 order by t.name",
    )
    .bind(ticket_id)
    .fetch_all(conn)
    .await)?)
}

async fn thread_id_in(tx: &mut Tx, ticket_id: i64) -> Result<String> {
    Ok(
        on_tx!(tx, conn => sqlx::query_scalar("select thread_id from tickets where id = $1")
        .bind(ticket_id)
        .fetch_one(conn)
        .await)?,
    )
}

/// Applies the same changes to many tickets in one transaction: all or none. Returns how many changed.
#[tracing::instrument(skip_all, fields(workspace = %ws.id(), tickets = ids.len()))]
pub async fn update_many(
    ws: &WorkspaceDb,
    actor: &Actor,
    ids: &[i64],
    changes: &Changes,
    now: DateTime<Utc>,
) -> Result<usize> {
    if ids.is_empty() {
        return Err(invalid("Select at least one ticket."));
    }
    if ids.len() > 500 {
        return Err(invalid("Change at most 500 tickets at a time."));
    }
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut tx = begin(ws).await?;
    if changes.status.is_some() {
        lock_in_order(&mut tx, &ids).await?;
    }
    let mut changed = 0;
    for id in &ids {
        let (_, was_changed) = update_in(&mut tx, actor, *id, changes, now).await?;
        changed += usize::from(was_changed);
    }
    tx.commit().await?;
    Ok(changed)
}

/// On PostgreSQL, locks the tickets `ids` (sorted) and then the `solved_counts` rows of the hours they were
/// solved in, each in ascending order, before a status change to all of them. Every other write locks a
/// ticket before the one hourly row its trigger moves, and a new solve's hour is the latest there is, so
/// writers at the same time wait for one another instead of deadlocking. (SQLite's writers take turns.)
async fn lock_in_order(tx: &mut Tx, ids: &[i64]) -> Result<()> {
    if let Tx::Postgres(tx) = tx {
        sqlx::query("select id from tickets where id = any($1) order by id for update")
            .bind(ids)
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "select hour from solved_counts
             where hour in (select floor(extract(epoch from solved_at) / 3600)::bigint from tickets
                            where id = any($1) and solved_at is not null)
             order by hour for update",
        )
        .bind(ids)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A public reply: the requester sees it and gets it by mail.
    Reply,
    /// An internal note: agents only, never shown or mailed to a customer.
    Note,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Reply => "reply",
            Kind::Note => "note",
        }
    }
}

/// Adds a reply or a note to the ticket with row id `ticket_id`, optionally changing its status in the same
/// step ("reply and set pending"). Returns the new message's id.
#[tracing::instrument(skip_all, fields(workspace = %ws.id(), ticket = ticket_id))]
pub async fn add_message(
    ws: &WorkspaceDb,
    actor: &Actor,
    ticket_id: i64,
    kind: Kind,
    body: &str,
    status: Option<Status>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let body = Body::new(body).map_err(|e| e.on_field("body"))?;
    let mut tx = begin(ws).await?;
    let id = add_message_in(&mut tx, actor, ticket_id, kind, &body, status, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`add_message`] inside a caller's transaction (attachments are recorded in the same one).
pub(crate) async fn add_message_in(
    tx: &mut Tx,
    actor: &Actor,
    ticket_id: i64,
    kind: Kind,
    body: &Body<'_>,
    status: Option<Status>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let (html, body) = (body.html.as_str(), body.text);
    if kind == Kind::Note && !matches!(actor.author, Author::Agent { .. }) {
        return Err(Error::NotFound);
    }
    let ticket = ticket_in(tx, ticket_id).await?;
    let id = insert_message(tx, ticket_id, actor, kind.as_str(), body, html, now).await?;
    // A customer answering a pending or solved ticket reopens it; an agent's status choice wins otherwise.
    let status = match (&actor.author, status) {
        (_, Some(status)) => Some(status),
        (Author::Customer { .. }, None) if ticket.status != "new" => Some(Status::Open),
        _ => None,
    };
    let changes = Changes {
        status,
        ..Changes::default()
    };
    update_in(tx, actor, ticket_id, &changes, now).await?;
    on_tx!(&mut *tx, conn => sqlx::query("update tickets set updated_at = $1 where id = $2")
        .bind(now)
        .bind(ticket_id)
        .execute(conn)
        .await
        .map(|d| d.rows_affected()))?;
    search::reindex(tx, ticket_id);
    let action = if kind == Kind::Note {
        "ticket.note_added"
    } else {
        "ticket.replied"
    };
    audit(tx, actor, action, &format!("ticket:{}", ticket.number), None, now);
    let thread = thread_id_in(tx, ticket_id).await?;
    match (kind, &actor.author) {
        (Kind::Reply, Author::Agent { .. } | Author::System) => {
            let portal = portal_url(&actor.base_url, &actor.workspace_slug, ticket.number);
            let text = format!(
                "{body}\n\n— {} ({})\n\nRead and answer online: {portal}\n",
                actor.name(),
                actor.workspace_name
            );
            let html = format!(
                "{html}<p>— {} ({})</p><p><a href=\"{}\">Read and answer online</a></p>",
                markdown::escape(actor.name()),
                markdown::escape(&actor.workspace_name),
                markdown::escape(&portal)
            );
            let email = ticket_email(actor, &ticket, &thread, &ticket.requester_email, id, text, html);
            outbox::add(tx, &email, now)?;
        }
        (Kind::Reply, Author::Customer { .. }) if ticket.assignee_account_id.is_some() => {
            if let Some(to) = &ticket.assignee_email {
                let url = ticket_url(actor, &ticket);
                let text = format!("{} answered #{}:\n\n{body}\n\n{url}\n", actor.name(), ticket.number);
                let html = format!(
                    "<p>{} answered #{}:</p>{html}<p><a href=\"{}\">Open the ticket</a></p>",
                    markdown::escape(actor.name()),
                    ticket.number,
                    markdown::escape(&url)
                );
                let email = ticket_email(actor, &ticket, &thread, to, id, text, html);
                outbox::add(tx, &email, now)?;
            }
        }
        _ => {}
    }
    Ok(id)
}

/// Corrects an agent's own reply or note within [`EDIT_WINDOW`] of writing it.
#[tracing::instrument(skip_all, fields(workspace = %ws.id(), message = message_id))]
pub async fn edit_message(
    ws: &WorkspaceDb,
    actor: &Actor,
    ticket_id: i64,
    message_id: i64,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Message> {
    let body = check_body(body)?;
    let Some(account_id) = actor.account_id() else {
        return Err(Error::NotFound);
    };
    let mut tx = begin(ws).await?;
    let found: Option<(i64, Option<i64>, String, DateTime<Utc>)> = on_tx!(&mut tx, conn => sqlx::query_as(
        "select ticket_id, author_account_id, kind, created_at from messages where id = $1 and ticket_id = $2",
    )
    .bind(message_id)
    .bind(ticket_id)
    .fetch_optional(conn)
    .await)?;
    let Some((ticket_id, author, kind, created_at)) = found else {
        return Err(Error::NotFound);
    };
    if author != Some(account_id) || kind == "event" {
        return Err(Error::Conflict("Only your own replies and notes can be edited.".into()));
    }
    if now - created_at > EDIT_WINDOW {
        return Err(Error::Conflict(
            "Messages can be edited for 15 minutes after they are written.".into(),
        ));
    }
    let html = markdown::render(body);
    let message: Message = on_tx!(&mut tx, conn => sqlx::query_as(
        "update messages set body = $1, html = $2, edited_at = $3 where id = $4
         returning id, kind, author_account_id, author_customer_id, author_name, body, html, created_at, edited_at",
    )
    .bind(body)
    .bind(&html)
    .bind(now)
    .bind(message_id)
    .fetch_one(conn)
    .await)?;
    search::reindex(&mut tx, ticket_id);
    let number: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar("select number from tickets where id = $1")
        .bind(ticket_id)
        .fetch_one(conn)
        .await)?;
    audit(
        &mut tx,
        actor,
        "message.edited",
        &format!("ticket:{number}"),
        Some(&format!("message {message_id}")),
        now,
    );
    tx.commit().await?;
    Ok(message)
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
    fn the_column_count_is_the_number_of_columns() {
        assert_eq!(COLUMNS.split(',').count(), COLUMN_COUNT);
    }

    #[test]
    fn tags_are_normalized_and_checked() {
        assert_eq!(normalize_tag("  Billing Issue ").unwrap(), "billing-issue");
        assert!(normalize_tag("<script>").is_err());
        assert!(normalize_tag("a\r\nb").is_ok_and(|t| t == "a-b"));
        assert_eq!(parse_tags("vip, VIP ,refund,").unwrap(), vec!["vip", "refund"]);
    }

    #[test]
    fn addresses_and_subjects_are_checked() {
        assert_eq!(check_email(" Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "a b@example.com",
            "ada@example.com\r\nBcc: x@y.z",
            "<a@b.c>",
        ] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
        assert!(check_subject("Hello\r\nBcc: x@y.z").is_err());
        assert!(check_subject(&"x".repeat(201)).is_err());
        assert_eq!(check_subject("  Printer on fire ").unwrap(), "Printer on fire");
    }
}
