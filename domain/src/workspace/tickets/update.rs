//! Changes to tickets: each field that really changes becomes an event in the thread and an audit entry,
//! with the rating request and assignment notice they cause; and the same changes to many tickets at once.

use super::{
    Actor, Assignee, Author, Priority, Status, Ticket, audit, begin,
    categories::{add_tag_in, category_exists, set_tags_in, tags_in},
    check_subject, invalid,
    mail::{assignment_email, ticket_url},
    messages::event,
    thread_id_in, ticket_in,
};
use crate::{
    Result, WorkspaceDb,
    db::Tx,
    on_tx,
    workspace::{outbox, ratings, search},
};
use chrono::{DateTime, Utc};

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

pub(super) async fn update_in(
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
                .bind(&subject)
                .bind(id)
                .execute(conn)
                .await
                .map(|d| d.rows_affected()))?;
            events.push(format!("Subject: {} → {}", before.subject, subject));
            reindex = true;
        }
    }
    if let Some(status) = changes.status
        && status != before.status
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
        let old = before.status.label();
        events.push(format!("Status: {old} → {}", status.label()));
    }
    if let Some(priority) = changes.priority
        && priority != before.priority
    {
        on_tx!(&mut *tx, conn => sqlx::query("update tickets set priority = $1 where id = $2")
            .bind(priority.as_str())
            .bind(id)
            .execute(conn)
            .await
            .map(|d| d.rows_affected()))?;
        let old = before.priority.label();
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
    match tx {
        // Writers take turns on SQLite: nothing to order.
        Tx::Sqlite(_) => {}
        Tx::Postgres(tx) => {
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
    }
    Ok(())
}
