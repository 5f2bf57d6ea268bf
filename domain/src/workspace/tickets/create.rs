//! Opening a ticket: the requester's address and name checked, the ticket, its first message and its
//! requester stored in one statement per backend, and the confirmation and assignment mails queued.

use super::{
    Actor, Assignee, Body, COLUMN_COUNT, COLUMNS, Priority, Ticket, audit, begin,
    categories::{add_tag_in, category_exists},
    check_body, check_subject, invalid,
    mail::{assignment_email, message_id_prefix, message_id_suffix, portal_url, ticket_email, ticket_url},
};
use crate::{
    Error, Result, WorkspaceDb,
    auth::accounts::normalize_email,
    db::Tx,
    workspace::{markdown, outbox, search},
};
use chrono::{DateTime, Utc};
use sqlx::{FromRow, Row};

const NAME_MAX: usize = 120;

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
    normalize_email(&new.requester_email).map_err(|e| e.on_field("requester_email"))?;
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
    let email = normalize_email(&new.requester_email).map_err(|e| e.on_field("requester_email"))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_subjects_are_checked() {
        assert_eq!(normalize_email(" Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "a b@example.com",
            "ada@example.com\r\nBcc: x@y.z",
            "<a@b.c>",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        assert!(check_subject("Hello\r\nBcc: x@y.z").is_err());
        assert!(check_subject(&"x".repeat(201)).is_err());
        assert_eq!(check_subject("  Printer on fire ").unwrap(), "Printer on fire");
    }
}
