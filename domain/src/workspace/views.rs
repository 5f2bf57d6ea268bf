//! The ticket list: filters, sort orders, keyset pagination, the built-in views' counts, and each agent's
//! saved views.
//!
//! Every page is a range scan on an index that matches its sort order; the next page starts after the last
//! row's sort key, so page 1,000 costs what page 1 costs. Counts come from `ticket_counts`, which triggers
//! keep per (status, assignee), and "recently solved" from `solved_counts`, which triggers keep per hour, so
//! they cost the same at a thousand tickets as at a million.

use super::{
    search,
    tickets::{COLUMNS, Status, Ticket},
};
use crate::form;
use crate::{Error, Result, WorkspaceDb, on_db, on_write};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::sync::LazyLock;
use vocab::{AccountId, ListQuery};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssigneeFilter {
    Unassigned,
    Account(i64),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Any of these statuses; empty means any status.
    pub statuses: Vec<Status>,
    pub priority: Option<super::tickets::Priority>,
    pub assignee: Option<AssigneeFilter>,
    pub category_id: Option<i64>,
    pub tag: Option<String>,
    /// The requester's email address.
    pub requester: Option<String>,
}

pub use vocab::Sort;

/// Where a page starts: the sort key of the previous page's last row, as an opaque string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    time: Option<DateTime<Utc>>,
    id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        match self.time {
            Some(time) => format!("{}.{}", time.timestamp_nanos_opt().unwrap_or_default(), self.id),
            None => self.id.to_string(),
        }
    }

    pub fn parse(text: &str, sort: Sort) -> Result<Cursor> {
        let bad = || Error::Invalid("That page link is not valid; start from the first page.".into());
        match sort {
            Sort::Newest => Ok(Cursor {
                time: None,
                id: text.parse().map_err(|_| bad())?,
            }),
            Sort::Updated | Sort::Oldest => {
                let (nanos, id) = text.split_once('.').ok_or_else(bad)?;
                let nanos: i64 = nanos.parse().map_err(|_| bad())?;
                Ok(Cursor {
                    time: Some(DateTime::from_timestamp_nanos(nanos)),
                    id: id.parse().map_err(|_| bad())?,
                })
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Page {
    pub tickets: Vec<Ticket>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

/// A list URL's request, checked: a search, or a page of a filtered view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Ranked search results (one page).
    Search(String),
    Page {
        filter: Filter,
        sort: Sort,
        after: Option<Cursor>,
    },
}

impl Request {
    /// Reads the list's URL for the agent `me` (`assignee=me`). Empty values are no filter; a refusal names
    /// the filter to correct.
    pub fn parse(query: &ListQuery, me: AccountId) -> Result<Request> {
        let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let statuses = match text(&query.status).as_deref() {
            None => Vec::new(),
            Some("unsolved") => Status::UNSOLVED.to_vec(),
            Some("solved") => vec![Status::Solved, Status::Closed],
            Some(one) => vec![form::status(one, "status")?],
        };
        let assignee = match text(&query.assignee).as_deref() {
            None => None,
            Some("me") => Some(AssigneeFilter::Account(me.get())),
            Some("none") => Some(AssigneeFilter::Unassigned),
            Some(id) => Some(AssigneeFilter::Account(id.parse().map_err(|_| Error::Field {
                field: "assignee",
                message: "Choose a member of the team.".into(),
            })?)),
        };
        let filter = Filter {
            statuses,
            priority: text(&query.priority)
                .map(|p| form::priority(&p, "priority"))
                .transpose()?,
            assignee,
            category_id: text(&query.category).map(|c| form::category(&c)).transpose()?.flatten(),
            tag: text(&query.tag),
            requester: text(&query.requester),
        };
        let sort = match text(&query.sort) {
            Some(sort) => Sort::parse(&sort).ok_or_else(|| Error::Field {
                field: "sort",
                message: "Choose an order.".into(),
            })?,
            None => Sort::Updated,
        };
        if let Some(q) = text(&query.q) {
            return Ok(Request::Search(q));
        }
        let after = text(&query.after)
            .map(|cursor| Cursor::parse(&cursor, sort))
            .transpose()?;
        Ok(Request::Page { filter, sort, after })
    }
}

/// What the list page shows: its tickets (with a highlighted snippet each when searching), the next
/// page's cursor, and what to filter by.
pub struct Listing {
    pub tickets: Vec<(Ticket, Option<String>)>,
    pub next: Option<String>,
    pub searching: bool,
    pub panel: Panel,
}

/// The list page's content for `query`, as the agent `me` sees it. A page past the last one is
/// not found.
pub async fn listing(ws: &WorkspaceDb, query: &ListQuery, me: AccountId) -> Result<Listing> {
    const PAGE: i64 = 50;
    let (tickets, next, searching) = match Request::parse(query, me)? {
        Request::Search(q) => {
            let hits = search::search(ws, &q, PAGE).await?;
            (
                hits.into_iter().map(|h| (h.ticket, Some(h.snippet))).collect(),
                None,
                true,
            )
        }
        Request::Page { filter, sort, after } => {
            let page = list(ws, &filter, sort, after.as_ref(), PAGE).await?;
            let tickets: Vec<_> = page.tickets.into_iter().map(|t| (t, None)).collect();
            if tickets.is_empty() && after.is_some() {
                return Err(Error::NotFound);
            }
            (tickets, page.next, false)
        }
    };
    let panel = panel(ws).await?;
    Ok(Listing {
        tickets,
        next,
        searching,
        panel,
    })
}

enum Arg {
    Int(i64),
    Text(String),
    Time(DateTime<Utc>),
}

/// Binds `args` in order to a query on either driver.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Int(v) => query.bind(*v),
                Arg::Text(v) => query.bind(v.as_str()),
                Arg::Time(v) => query.bind(*v),
            };
        }
        query
    }};
}

/// One page of tickets matching `filter`, in `sort` order, starting after `after`.
#[tracing::instrument(skip_all, fields(workspace = %ws.id()))]
pub async fn list(ws: &WorkspaceDb, filter: &Filter, sort: Sort, after: Option<&Cursor>, limit: i64) -> Result<Page> {
    let limit = limit.clamp(1, 200);
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    let next_arg = |args: &mut Vec<Arg>, arg: Arg| {
        args.push(arg);
        format!("${}", args.len())
    };
    if !filter.statuses.is_empty() {
        let list: Vec<String> = filter
            .statuses
            .iter()
            .map(|s| next_arg(&mut args, Arg::Text(s.as_str().into())))
            .collect();
        clauses.push(format!("status in ({})", list.join(", ")));
    }
    if let Some(priority) = filter.priority {
        clauses.push(format!(
            "priority = {}",
            next_arg(&mut args, Arg::Text(priority.as_str().into()))
        ));
    }
    match filter.assignee {
        Some(AssigneeFilter::Unassigned) => clauses.push("assignee_account_id is null".into()),
        Some(AssigneeFilter::Account(id)) => {
            clauses.push(format!("assignee_account_id = {}", next_arg(&mut args, Arg::Int(id))));
        }
        None => {}
    }
    if let Some(category) = filter.category_id {
        clauses.push(format!("category_id = {}", next_arg(&mut args, Arg::Int(category))));
    }
    if let Some(tag) = &filter.tag {
        let p = next_arg(&mut args, Arg::Text(tag.clone()));
        clauses.push(format!(
            "id in (select tt.ticket_id from ticket_tags tt join tags g on g.id = tt.tag_id where g.name = {p})"
        ));
    }
    if let Some(requester) = &filter.requester {
        let p = next_arg(&mut args, Arg::Text(requester.trim().to_lowercase()));
        clauses.push(format!("requester_id = (select id from customers where email = {p})"));
    }
    if let Some(cursor) = after {
        match (sort, cursor.time) {
            (Sort::Newest, _) => clauses.push(format!("id < {}", next_arg(&mut args, Arg::Int(cursor.id)))),
            (Sort::Updated, Some(time)) => {
                let t = next_arg(&mut args, Arg::Time(time));
                let i = next_arg(&mut args, Arg::Int(cursor.id));
                clauses.push(format!("(updated_at, id) < ({t}, {i})"));
            }
            (Sort::Oldest, Some(time)) => {
                let t = next_arg(&mut args, Arg::Time(time));
                let i = next_arg(&mut args, Arg::Int(cursor.id));
                clauses.push(format!("(updated_at, id) > ({t}, {i})"));
            }
            _ => {
                return Err(Error::Invalid(
                    "That page link is not valid; start from the first page.".into(),
                ));
            }
        }
    }
    let order = match sort {
        Sort::Updated => "updated_at desc, id desc",
        Sort::Oldest => "updated_at asc, id asc",
        Sort::Newest => "id desc",
    };
    let filter_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("where {}", clauses.join(" and "))
    };
    let limit_arg = next_arg(&mut args, Arg::Int(limit + 1));
    let sql = format!("select {COLUMNS} from tickets {filter_sql} order by {order} limit {limit_arg}");
    let mut tickets: Vec<Ticket> =
        on_db!(ws.db(), pool => bind_args!(sqlx::query_as(&sql), &args).fetch_all(pool).await)?;
    let next = if tickets.len() as i64 > limit {
        tickets.truncate(limit as usize);
        tickets.last().map(|last| {
            let time = (sort != Sort::Newest).then_some(last.updated_at);
            Cursor { time, id: last.id }.encode()
        })
    } else {
        None
    };
    Ok(Page { tickets, next })
}

/// The built-in views' counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub my_open: i64,
    pub unassigned: i64,
    pub all_open: i64,
    pub recently_solved: i64,
}

/// How far back "recently solved" looks.
pub const RECENTLY: Duration = Duration::days(7);

/// The rows the counts come from, as `(kind, id, name, extra, n, pos)`: per (status, assignee) with
/// tickets, kind `n` (PostgreSQL keeps a count in several shards, one per connection that changed it;
/// SQLite in one), and kind `r` for the recently solved: the hourly buckets after the hour "recently" starts
/// in, and the tickets solved in that first, partial hour. `$1`, `$2` and `$3` are [`Recently`]'s.
const COUNT_ROWS: &str = "select 'n' as kind, assignee as id, status as name, cast(null as text) as extra, n,
                                 cast(0 as bigint) as pos
                          from (select status, assignee, cast(sum(n) as bigint) as n from ticket_counts
                                group by status, assignee) c where n > 0
                          union all
                          select 'r', 0, '', null,
                                 (select cast(coalesce(sum(n), 0) as bigint) from solved_counts where hour > $2)
                                 + (select count(*) from tickets where solved_at >= $1 and solved_at < $3),
                                 0";

/// Where "recently solved" starts, split as [`COUNT_ROWS`] reads it: the start itself (`$1`), the hour it
/// falls in (`$2`, hours since 1970 in UTC, as `solved_counts` numbers them) and the end of that hour (`$3`).
///
/// The start is [`RECENTLY`] before now, rounded down to the minute, so the count is the same for every
/// request within a minute.
struct Recently {
    since: DateTime<Utc>,
    hour: i64,
    hour_end: DateTime<Utc>,
}

impl Recently {
    fn before(now: DateTime<Utc>) -> Recently {
        let since = now - RECENTLY;
        let since = DateTime::from_timestamp(since.timestamp().div_euclid(60) * 60, 0).unwrap_or(since);
        let hour = since.timestamp().div_euclid(3600);
        let hour_end = DateTime::from_timestamp(hour.saturating_add(1).saturating_mul(3600), 0).unwrap_or(since);
        Recently { since, hour, hour_end }
    }
}

/// Binds a [`Recently`] as `$1`–`$3`.
macro_rules! bind_recently {
    ($query:expr, $recently:expr) => {
        $query
            .bind($recently.since)
            .bind($recently.hour)
            .bind($recently.hour_end)
    };
}

crate::read_by_position! {
    /// One row of a combined query: which part it belongs to (`kind`) and up to four values. Read by position
    /// (see [`crate::db::rows`]), as [`COUNT_ROWS`] and [`panel`] select them: a list page reads a hundred of
    /// these, and looking each column up by name cost more than decoding it.
    struct PanelRow {
        kind: String,
        id: i64,
        name: String,
        extra: Option<String>,
        n: i64,
    }
}

/// Adds a count row to the built-in views' counts for the agent `me`.
fn tally(counts: &mut Counts, row: &PanelRow, me: i64) {
    if row.kind == "r" {
        counts.recently_solved = row.n;
        return;
    }
    if Status::parse(&row.name).is_some_and(|s| !s.is_solved()) {
        counts.all_open += row.n;
        if row.id == 0 {
            counts.unassigned += row.n;
        }
        if row.id == me {
            counts.my_open += row.n;
        }
    }
}

pub async fn counts(ws: &WorkspaceDb, me: i64, now: DateTime<Utc>) -> Result<Counts> {
    let recently = Recently::before(now);
    let rows: Vec<PanelRow> =
        on_db!(ws.db(), pool => bind_recently!(sqlx::query_as(COUNT_ROWS), recently).fetch_all(pool).await)?;
    let mut counts = Counts::default();
    for row in &rows {
        tally(&mut counts, row, me);
    }
    Ok(counts)
}

/// What the workspace's navigation shows on every staff page: the built-in views' counts and the agent's
/// saved views.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Nav {
    pub counts: Counts,
    pub saved: Vec<SavedView>,
}

/// [`nav`]'s statement, built once: it runs on every staff page.
static NAV_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "select kind, id, name, extra, n, pos from (
           {COUNT_ROWS}
           union all
           select 's', id, name, query, 0, row_number() over (order by name, id) from saved_views
           where account_id = $4
         ) nav order by kind, pos"
    )
});

/// [`counts`] and [`saved_views`] in one query: every staff page shows them, and each query costs a round
/// trip (on SQLite a hop to the connection's thread and back) that is dearer than these small reads.
pub async fn nav(ws: &WorkspaceDb, me: i64, now: DateTime<Utc>) -> Result<Nav> {
    let recently = Recently::before(now);
    let rows: Vec<PanelRow> = on_db!(ws.db(), pool => bind_recently!(sqlx::query_as(NAV_SQL.as_str()), recently)
        .bind(me)
        .fetch_all(pool)
        .await)?;
    let mut nav = Nav::default();
    for row in rows {
        match row.kind.as_str() {
            "s" => nav.saved.push(SavedView {
                id: row.id,
                name: row.name,
                query: row.extra.unwrap_or_default(),
            }),
            _ => tally(&mut nav.counts, &row, me),
        }
    }
    Ok(nav)
}

/// What the ticket list offers to filter by beside its tickets: the categories and the first tags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Panel {
    pub categories: Vec<super::tickets::Category>,
    /// The first [`super::tickets::TAG_CHOICES`] tags by name.
    pub tags: Vec<String>,
}

/// [`panel`]'s statement, built once: it runs on every list page.
static PANEL_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "select kind, id, name, extra, n, pos from (
           select 'c' as kind, id, name, cast(null as text) as extra, cast(0 as bigint) as n,
                  row_number() over (order by name, id) as pos from categories
           union all
           select 't', 0, name, null, 0, row_number() over (order by name)
           from (select name from tags order by name limit {}) t
         ) panel order by kind, pos",
        super::tickets::TAG_CHOICES
    )
});

/// [`super::tickets::categories`] and [`super::tickets::all_tags`] in one query, for the list page.
pub async fn panel(ws: &WorkspaceDb) -> Result<Panel> {
    let rows: Vec<PanelRow> = on_db!(ws.db(), pool => sqlx::query_as(PANEL_SQL.as_str()).fetch_all(pool).await)?;
    let mut panel = Panel::default();
    for row in rows {
        match row.kind.as_str() {
            "c" => panel.categories.push(super::tickets::Category {
                id: row.id,
                name: row.name,
            }),
            _ => panel.tags.push(row.name),
        }
    }
    Ok(panel)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    /// The list page's query string (filters and sort) the view stands for.
    pub query: String,
}

pub async fn saved_views(ws: &WorkspaceDb, account_id: i64) -> Result<Vec<SavedView>> {
    Ok(on_db!(ws.db(), pool => sqlx::query_as(
        "select id, name, query from saved_views where account_id = $1 order by name",
    )
    .bind(account_id)
    .fetch_all(pool)
    .await)?)
}

/// A refusal of a view to save, shown beside its name (the form's one input).
fn name_error(message: &str) -> Error {
    Error::Field {
        field: "name",
        message: message.to_owned(),
    }
}

/// Saves (or replaces, by name) one of the agent's views.
pub async fn save_view(
    ws: &WorkspaceDb,
    account_id: i64,
    name: &str,
    query: &str,
    now: DateTime<Utc>,
) -> Result<SavedView> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(name_error("A view's name must be 1 to 60 characters long."));
    }
    if query.len() > 1000 {
        return Err(name_error("That view has too many filters to save."));
    }
    let count: i64 = on_db!(ws.db(), pool => sqlx::query_scalar("select count(*) from saved_views where account_id = $1")
        .bind(account_id)
        .fetch_one(pool)
        .await)?;
    if count >= 50 {
        return Err(name_error("You have 50 saved views; delete one first."));
    }
    Ok(on_write!(ws.db(), conn => sqlx::query_as(
        "insert into saved_views (account_id, name, query, created_at) values ($1, $2, $3, $4)
         on conflict (account_id, name) do update set query = excluded.query
         returning id, name, query",
    )
    .bind(account_id)
    .bind(name)
    .bind(query)
    .bind(now)
    .fetch_one(conn)
    .await)?)
}

pub async fn delete_view(ws: &WorkspaceDb, account_id: i64, id: i64) -> Result<()> {
    let deleted = on_write!(ws.db(), conn => sqlx::query("delete from saved_views where id = $1 and account_id = $2")
        .bind(id)
        .bind(account_id)
        .execute(conn)
        .await
        .map(|d| d.rows_affected()))?;
    if deleted == 0 { Err(Error::NotFound) } else { Ok(()) }
}

/// The statements read by position into this module's rows, with each reader's column order.
pub(crate) fn positional_statements() -> [(&'static str, &'static [&'static str], String); 3] {
    [
        ("views::panel", PanelRow::READ_ORDER, PANEL_SQL.clone()),
        ("views::nav", PanelRow::READ_ORDER, NAV_SQL.clone()),
        ("views::counts", PanelRow::READ_ORDER, COUNT_ROWS.to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let time = DateTime::from_timestamp_nanos(1_790_000_000_123_456_789);
        let cursor = Cursor {
            time: Some(time),
            id: 42,
        };
        assert_eq!(Cursor::parse(&cursor.encode(), Sort::Updated).unwrap(), cursor);
        assert_eq!(
            Cursor::parse("17", Sort::Newest).unwrap(),
            Cursor { time: None, id: 17 }
        );
        for bad in ["", "x", "1.", ".1", "1;drop table tickets", "9999999999999999999999.1"] {
            assert!(Cursor::parse(bad, Sort::Updated).is_err(), "{bad}");
        }
    }
}
