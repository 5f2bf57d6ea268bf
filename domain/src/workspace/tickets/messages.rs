//! A ticket's thread: event lines, replies and internal notes (with the mail a reply causes), an agent's
//! corrections, and reading the thread.

use super::{
    Actor, Author, Body, EDIT_WINDOW, Message, Status, audit, begin, check_body,
    mail::{portal_url, ticket_email, ticket_url},
    thread_id_in, ticket_in,
    update::{Changes, update_in},
};
use crate::{
    Error, Result, WorkspaceDb,
    db::Tx,
    on_db, on_tx,
    workspace::{markdown, outbox, search},
};
use chrono::{DateTime, Utc};

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
pub(super) async fn event(tx: &mut Tx, ticket_id: i64, actor: &Actor, text: &str, now: DateTime<Utc>) -> Result<()> {
    let html = markdown::escape(text);
    insert_message(tx, ticket_id, actor, "event", text, &html, now).await?;
    Ok(())
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
