//! A workspace's start page as one member sees it: their open tickets, the unassigned ones, what others
//! changed since their last visit, the views' counts, and what the getting-started checklist needs to know.

use super::{
    tickets::{COLUMNS, Ticket},
    views::{self, AssigneeFilter, Counts, Filter, Sort},
};
use crate::{Result, WorkspaceDb, on_db, on_write};
use chrono::{DateTime, Duration, Utc};
use vocab::Status;

/// A visit ends after this long without a look at the start page; the next look begins a new one, and
/// "changed since your last visit" then starts where the one before ended.
pub const VISIT_GAP: Duration = Duration::minutes(30);

/// How many tickets the start page lists in each of its lists.
pub const SHOWN: usize = 5;

/// The setting that records the first enquiry sent through the form embedded on the workspace's own site.
const FORM_USED: &str = "home.embedded_form_used_at";

pub struct Home {
    pub my_open: Vec<Ticket>,
    pub unassigned: Vec<Ticket>,
    /// Tickets someone else changed (a message, a note, a change of a field, a rating) since `since`,
    /// last changed first: at most [`SHOWN`].
    pub changed: Vec<Ticket>,
    /// More tickets than these changed.
    pub more_changed: bool,
    /// The end of the member's previous visit; `None` on their first.
    pub since: Option<DateTime<Utc>>,
    pub counts: Counts,
    /// An enquiry has come through the form embedded on the workspace's site.
    pub form_used: bool,
}

/// The start page for the member `me` at `now`, which counts as a look (see [`VISIT_GAP`]).
pub async fn look(ws: &WorkspaceDb, me: i64, now: DateTime<Utc>) -> Result<Home> {
    let since = visit(ws, me, now).await?;
    let unsolved = |assignee| Filter {
        statuses: Status::UNSOLVED.to_vec(),
        assignee: Some(assignee),
        ..Filter::default()
    };
    let first = async |filter: &Filter| -> Result<Vec<Ticket>> {
        Ok(views::list(ws, filter, Sort::Updated, None, SHOWN as i64)
            .await?
            .tickets)
    };
    let my_open = first(&unsolved(AssigneeFilter::Account(me))).await?;
    let unassigned = first(&unsolved(AssigneeFilter::Unassigned)).await?;
    let mut changed = match since {
        Some(since) => changed_since(ws, me, since).await?,
        None => Vec::new(),
    };
    let more_changed = changed.len() > SHOWN;
    changed.truncate(SHOWN);
    Ok(Home {
        my_open,
        unassigned,
        changed,
        more_changed,
        since,
        counts: views::counts(ws, me, now).await?,
        form_used: super::settings::get(ws, FORM_USED).await?.is_some(),
    })
}

/// Records a look at the start page and answers where "changed since" starts: the end of the previous
/// visit, or `None` on the first.
async fn visit(ws: &WorkspaceDb, me: i64, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    Ok(
        on_write!(ws.db(), conn => sqlx::query_scalar::<_, Option<DateTime<Utc>>>(
        "insert into member_visits (account_id, seen_at, since_at) values ($1, $2, null)
         on conflict (account_id) do update set
             since_at = case when member_visits.seen_at < $3 then member_visits.seen_at
                             else member_visits.since_at end,
             seen_at = excluded.seen_at
         returning since_at",
    )
    .bind(me)
    .bind(now)
    .bind(now - VISIT_GAP)
    .fetch_one(conn)
    .await)?,
    )
}

/// The tickets someone other than `me` changed after `since`, last changed first: one more than
/// [`SHOWN`], to tell whether there are more.
async fn changed_since(ws: &WorkspaceDb, me: i64, since: DateTime<Utc>) -> Result<Vec<Ticket>> {
    let sql = format!(
        "select {COLUMNS} from tickets t
         where t.updated_at > $1
           and exists (select 1 from messages m where m.ticket_id = t.id and m.created_at > $1
                         and (m.author_account_id is null or m.author_account_id <> $2))
         order by t.updated_at desc, t.id desc limit {}",
        SHOWN + 1
    );
    Ok(on_db!(ws.db(), pool => sqlx::query_as(&sql).bind(since).bind(me).fetch_all(pool).await)?)
}

/// Notes that an enquiry came through the form embedded on the workspace's site (the checklist's "put the
/// form on your site"); only the first one is kept.
pub async fn note_embedded_form_used(ws: &WorkspaceDb, now: DateTime<Utc>) -> Result<()> {
    on_write!(ws.db(), conn => sqlx::query(
        "insert into settings (key, value, updated_at) values ($1, $2, $3) on conflict (key) do nothing",
    )
    .bind(FORM_USED)
    .bind(now.to_rfc3339())
    .bind(now)
    .execute(conn)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}
