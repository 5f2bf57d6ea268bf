//! Satisfaction ratings: solving a ticket mails its requester a link to rate the help (good or bad, with an
//! optional comment), without signing in.
//!
//! The link's token is 256 random bits; only its SHA-256 is stored, in the ticket's `ratings` row. Using a
//! token is one conditional `update … returning` that records the rating and puts a fresh token's hash in
//! place of the old one: each token works exactly once (also under concurrent use), and the page that
//! thanks the customer carries the fresh token, so the rating can be changed until seven days after the
//! ticket was solved. Solving it again (after a reopen) issues a new link and a new seven days.

use super::{markdown, outbox, tickets::Ticket};
use crate::{Error, Result, WorkspaceDb, db::Tx, mail::Email, on_db, on_tx};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// How long after solving a ticket its rating can be given or changed.
pub const WINDOW: Duration = Duration::days(7);
/// The longest comment, in characters.
pub const COMMENT_MAX: usize = 2_000;

pub use vocab::Score;

/// A ticket's rating as agents see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Rating {
    pub ticket_id: i64,
    pub rating: Option<String>,
    pub comment: String,
    pub expires_at: DateTime<Utc>,
    pub rated_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// What the rating page shows for a live token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub ticket_number: i64,
    pub subject: String,
    pub rating: Option<Score>,
    pub comment: String,
    pub expires_at: DateTime<Utc>,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(crate::crypto::random_bytes::<32>().as_ref())
}

/// The rating page's address for `token`.
pub fn link(base_url: &str, slug: &str, token: &str) -> String {
    format!("{}/p/{slug}/rate/{token}", base_url.trim_end_matches('/'))
}

/// Issues a ticket's rating link (in the solving change's transaction) and writes the mail that carries it
/// to the requester.
pub(crate) async fn issue_in(
    tx: &mut Tx,
    ticket: &Ticket,
    thread: &str,
    base_url: &str,
    slug: &str,
    workspace_name: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let token = new_token();
    on_tx!(tx, conn => sqlx::query(
        "insert into ratings (ticket_id, token_hash, expires_at, updated_at) values ($1, $2, $3, $4)
         on conflict (ticket_id) do update set token_hash = excluded.token_hash, expires_at = excluded.expires_at,
             updated_at = excluded.updated_at",
    )
    .bind(ticket.id)
    .bind(hash(&token))
    .bind(now + WINDOW)
    .bind(now)
    .execute(conn)
    .await
    .map(|d| d.rows_affected()))?;
    let url = link(base_url, slug, &token);
    let (good, bad) = (format!("{url}?r=good"), format!("{url}?r=bad"));
    let mut email = Email::new(
        ticket.requester_email.clone(),
        format!("[#{}] {}", ticket.number, ticket.subject),
        format!(
            "Your request #{} at {workspace_name} is solved.\n\nHow did we do?\nGood: {good}\nBad: {bad}\n\n\
             The link works for 7 days. If something is still wrong, just answer this message.\n",
            ticket.number
        ),
        format!(
            "<p>Your request #{} at {} is solved.</p><p>How did we do? <a href=\"{}\">Good</a> · <a href=\"{}\">Bad</a></p>\
             <p>The link works for 7 days. If something is still wrong, just answer this message.</p>",
            ticket.number,
            markdown::escape(workspace_name),
            markdown::escape(&good),
            markdown::escape(&bad)
        ),
    );
    email.in_reply_to = (!thread.is_empty()).then(|| thread.to_owned());
    outbox::add(tx, &email, now)
}

/// What a live token rates, without using it.
pub async fn peek(ws: &WorkspaceDb, token: &str, now: DateTime<Utc>) -> Result<Pending> {
    type Row = (i64, String, Option<String>, String, DateTime<Utc>);
    let found: Option<Row> = on_db!(ws.db(), pool => sqlx::query_as(
        "select t.number, t.subject, r.rating, r.comment, r.expires_at from ratings r join tickets t on t.id = r.ticket_id
         where r.token_hash = $1 and r.expires_at > $2",
    )
    .bind(hash(token))
    .bind(now)
    .fetch_optional(pool)
    .await)?;
    let (ticket_number, subject, rating, comment, expires_at) = found.ok_or(Error::NotFound)?;
    Ok(Pending {
        ticket_number,
        subject,
        rating: rating.as_deref().and_then(Score::parse),
        comment,
        expires_at,
    })
}

/// Records (or changes) the rating that `token` stands for and returns the token that can change it
/// again. A used, replaced, expired or unknown token is `NotFound`.
pub async fn rate(ws: &WorkspaceDb, token: &str, score: Score, comment: &str, now: DateTime<Utc>) -> Result<String> {
    let comment = comment.trim();
    if comment.chars().count() > COMMENT_MAX {
        return Err(Error::Field {
            field: "comment",
            message: "A comment can be at most 2,000 characters long.".into(),
        });
    }
    let next = new_token();
    let mut tx = ws.db().begin().await?;
    let rated: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "update ratings set rating = $1, comment = $2, rated_at = coalesce(rated_at, $3), updated_at = $3, token_hash = $4
         where token_hash = $5 and expires_at > $3
         returning ticket_id",
    )
    .bind(score.as_str())
    .bind(comment)
    .bind(now)
    .bind(hash(&next))
    .bind(hash(token))
    .fetch_optional(conn)
    .await)?;
    let ticket_id = rated.ok_or(Error::NotFound)?;
    let text = match (score, comment.is_empty()) {
        (Score::Good, true) => "Rated the help: good".to_owned(),
        (Score::Bad, true) => "Rated the help: bad".to_owned(),
        (score, false) => format!("Rated the help: {} — “{comment}”", score.as_str()),
    };
    on_tx!(&mut tx, conn => sqlx::query(
        "insert into messages (ticket_id, author_name, kind, body, html, created_at) values ($1, 'Requester', 'event', $2, $3, $4)",
    )
    .bind(ticket_id)
    .bind(&text)
    .bind(markdown::escape(&text))
    .bind(now)
    .execute(conn)
    .await
    .map(|d| d.rows_affected()))?;
    on_tx!(&mut tx, conn => sqlx::query(
        "insert into audit_log (actor, action, subject, detail, created_at)
         values ('requester', 'ticket.rated', (select 'ticket:' || number from tickets where id = $1), $2, $3)",
    )
    .bind(ticket_id)
    .bind(score.as_str())
    .bind(now)
    .execute(conn)
    .await
    .map(|d| d.rows_affected()))?;
    tx.commit().await?;
    Ok(next)
}

/// A ticket's rating, if it has a rating row (it was solved at least once).
pub async fn of_ticket(ws: &WorkspaceDb, ticket_id: i64) -> Result<Option<Rating>> {
    Ok(on_db!(ws.db(), pool => sqlx::query_as(
        "select ticket_id, rating, comment, expires_at, rated_at, updated_at from ratings where ticket_id = $1",
    )
    .bind(ticket_id)
    .fetch_optional(pool)
    .await)?)
}

/// One week of the satisfaction report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Week {
    /// The Monday the week starts on.
    pub starts: chrono::NaiveDate,
    pub good: i64,
    pub bad: i64,
}

impl Week {
    /// The share of good ratings in percent, if there were any ratings.
    pub fn percent_good(&self) -> Option<i64> {
        let total = self.good + self.bad;
        (total > 0).then(|| (self.good * 100 + total / 2) / total)
    }
}

/// Ratings per week (by when they were first given) for the `weeks` weeks up to `now`, oldest first; weeks
/// without ratings are there with zeros.
pub async fn weekly(ws: &WorkspaceDb, weeks: u32, now: DateTime<Utc>) -> Result<Vec<Week>> {
    use chrono::Datelike;
    let this_monday = now.date_naive() - Duration::days(i64::from(now.weekday().num_days_from_monday()));
    let first = this_monday - Duration::weeks(i64::from(weeks.max(1)) - 1);
    let since = first.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now);
    let rows: Vec<(DateTime<Utc>, String)> = on_db!(ws.db(), pool => sqlx::query_as(
        "select rated_at, rating from ratings where rated_at >= $1 and rating is not null",
    )
    .bind(since)
    .fetch_all(pool)
    .await)?;
    let mut out: Vec<Week> = (0..weeks.max(1))
        .map(|n| Week {
            starts: first + Duration::weeks(i64::from(n)),
            good: 0,
            bad: 0,
        })
        .collect();
    for (at, rating) in rows {
        let index = (at.date_naive() - first).num_days() / 7;
        if let Some(week) = usize::try_from(index).ok().and_then(|i| out.get_mut(i)) {
            match rating.as_str() {
                "good" => week.good += 1,
                _ => week.bad += 1,
            }
        }
    }
    Ok(out)
}
