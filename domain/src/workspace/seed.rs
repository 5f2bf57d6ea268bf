//! Realistic demo and benchmark data: tickets with about three messages each, requesters spread the way
//! real ones are (a few write often, most once), statuses by age (old tickets are closed, new ones open),
//! assignees weighted towards a few busy agents, tags and categories. Generated text is varied from word
//! lists with a fixed seed, so two runs make the same workspace.
//!
//! Rows are written in batches of multi-row inserts, and the search documents are built once at the end,
//! which is what makes a million tickets a matter of minutes rather than hours. Counters, the view counts
//! (by the triggers) and search end up exactly as if every ticket had been opened through the app.

use super::{markdown, tickets::Assignee};
use crate::{Result, WorkspaceDb, db::Db, on_db};
use chrono::{DateTime, Duration, Utc};
use sqlx::{Connection, QueryBuilder};

/// A small, fast, deterministic generator (SplitMix64): the seeder's data, and the durability harness's
/// schedule of kills and writes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// In `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A Zipf-like index in `0..n`: small indexes are much more likely.
    fn skewed(&mut self, n: u64) -> u64 {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) - 1.0).floor().min(n as f64 - 1.0) as u64
    }
}

const PRODUCTS: &[&str] = &[
    "dashboard",
    "mobile app",
    "invoice export",
    "calendar sync",
    "single sign-on",
    "API",
    "webhook",
    "billing page",
    "report builder",
    "password reset",
    "team inbox",
    "CSV import",
    "printer driver",
    "desktop client",
    "search",
    "notifications",
    "user directory",
    "data export",
    "payment form",
    "audit log",
];
const PROBLEMS: &[&str] = &[
    "does not load",
    "shows the wrong totals",
    "times out",
    "crashes on start",
    "is very slow",
    "logs me out",
    "sends duplicate emails",
    "rejects my card",
    "lost my changes",
    "shows an error 500",
    "will not save",
    "is missing data",
    "displays garbled characters",
    "ignores my settings",
    "keeps spinning",
];
const SINCE: &[&str] = &[
    "since this morning",
    "after the last update",
    "since we moved offices",
    "on Mondays",
    "for some users",
    "when I use Safari",
    "on my phone only",
    "since yesterday",
    "after renaming the team",
    "intermittently",
];
const OPENERS: &[&str] = &[
    "Hello,",
    "Hi team,",
    "Good morning,",
    "Dear support,",
    "Hey there,",
    "Hi,",
    "Hello support team,",
];
const DETAILS: &[&str] = &[
    "I already cleared the cache and tried another browser.",
    "Three colleagues see the same thing.",
    "It worked fine last week.",
    "We have a deadline on Friday, so this is urgent for us.",
    "The error mentions a timeout in the sync service.",
    "I attached what I see on screen.",
    "Our account number is on the last invoice.",
    "Restarting did not help.",
    "It happens with both the old and the new version.",
    "Could you check the logs on your side?",
    "We pay annually and upgraded to the business plan recently.",
    "The numbers in the export do not match the dashboard.",
];
const CLOSERS: &[&str] = &[
    "Thanks!",
    "Best regards,",
    "Cheers,",
    "Thank you for your help.",
    "Kind regards,",
    "Please advise.",
];
const REPLIES: &[&str] = &[
    "Thanks for reaching out. I could reproduce this and passed it to our engineers.",
    "Sorry for the trouble! Could you send us the exact time it happened and your browser version?",
    "We released a fix for this a few minutes ago. Could you try again and let us know?",
    "I have reset the sync for your account; it should catch up within the hour.",
    "This is a known issue with the current version. A workaround is to export from the report builder instead.",
    "I checked your account and the settings look correct. Let us look deeper and get back to you.",
    "Good news: the refund is on its way and should show within 5 business days.",
];
const NOTES: &[&str] = &[
    "Customer is on the legacy plan; check the migration ticket.",
    "Looks related to the deploy on Tuesday. Escalated to the platform team.",
    "Second time this month for this account.",
    "Asked billing to confirm the refund.",
];
const FOLLOW_UPS: &[&str] = &[
    "That fixed it, thank you!",
    "Still happening for me, unfortunately.",
    "Here is the information you asked for.",
    "Thanks, that workaround helps for now.",
    "Any update on this?",
];
const FIRST: &[&str] = &[
    "Ana", "Ben", "Chen", "Dara", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jonas", "Kofi", "Lena", "Mateo", "Nadia",
    "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe",
];
const LAST: &[&str] = &[
    "Almeida", "Brown", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova", "Jensen", "Kim",
    "Lopez", "Moreau", "Nowak", "Okafor", "Petrov", "Rossi", "Santos", "Tanaka", "Urban", "Varga", "Weber", "Yilmaz",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "acme.example",
    "globex.example",
    "initech.example",
    "umbrella.example",
];
const TAGS: &[&str] = &[
    "billing",
    "bug",
    "feature-request",
    "vip",
    "sso",
    "mobile",
    "refund",
    "outage",
    "onboarding",
    "api",
];
const CATEGORIES: &[&str] = &["Billing", "Technical", "Account", "Sales"];

/// The word seeded into few tickets (about 1 in 50,000), for measuring a search for a rare word.
pub const RARE_WORD: &str = "quasar";
/// A word in most tickets' first message, for measuring a search for a common word.
pub const COMMON_WORD: &str = "please";

#[derive(Clone, Debug)]
pub struct SeedOptions {
    pub tickets: u64,
    /// Who tickets are assigned to (about a fifth stay unassigned).
    pub agents: Vec<Assignee>,
    /// How many different requesters write in; defaults to one per eight tickets.
    pub customers: Option<u64>,
    pub seed: u64,
    /// Tickets per transaction.
    pub batch: u64,
    /// The newest ticket's time; the oldest is two years before.
    pub now: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub tickets: u64,
    pub messages: u64,
    pub customers: u64,
}

struct Row {
    number: i64,
    subject: String,
    status: &'static str,
    priority: &'static str,
    requester: usize,
    assignee: Option<usize>,
    category: Option<usize>,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    solved: Option<DateTime<Utc>>,
}

struct Msg {
    ticket: usize,
    kind: &'static str,
    agent: Option<usize>,
    customer: Option<usize>,
    body: String,
    at: DateTime<Utc>,
}

fn paragraph(text: &str) -> String {
    format!("<p>{}</p>\n", markdown::escape(text))
}

/// Adds `options.tickets` tickets to the workspace; `progress(done, total)` is called after each batch.
pub async fn seed(ws: &WorkspaceDb, options: &SeedOptions, mut progress: impl FnMut(u64, u64)) -> Result<SeedReport> {
    let mut rng = Rng(options.seed);
    let sqlite = match ws.db() {
        Db::Sqlite(_) => true,
        Db::Postgres(_) => false,
    };
    let customer_count = options.customers.unwrap_or((options.tickets / 8).max(1)).max(1);
    let span = Duration::days(730);
    let start = options.now - span;

    // Categories and the customers first: they are referenced by every ticket.
    let mut category_ids = Vec::new();
    for name in CATEGORIES {
        let id: i64 = on_db!(ws.db(), pool => sqlx::query_scalar(
            "insert into categories (name, created_at) values ($1, $2)
             on conflict do nothing returning id",
        )
        .bind(*name)
        .bind(start)
        .fetch_optional(pool)
        .await)?
        .unwrap_or_default();
        let id = if id == 0 {
            on_db!(ws.db(), pool => sqlx::query_scalar("select id from categories where lower(name) = lower($1)")
                .bind(*name)
                .fetch_one(pool)
                .await)?
        } else {
            id
        };
        category_ids.push(id);
    }
    let first_customer: i64 = on_db!(ws.db(), pool => sqlx::query_scalar("select coalesce(max(id), 0) from customers")
        .fetch_one(pool)
        .await)?;
    let mut customers: Vec<(i64, String, String)> = Vec::with_capacity(customer_count as usize);
    let mut made = 0;
    while made < customer_count {
        let n = (customer_count - made).min(5000);
        let mut rows = Vec::with_capacity(n as usize);
        for i in made..made + n {
            let name = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
            let email = format!(
                "{}.{}{}@{}",
                name.split(' ').next().unwrap_or("x").to_lowercase(),
                name.split(' ').nth(1).unwrap_or("y").to_lowercase(),
                first_customer as u64 + i,
                rng.pick(DOMAINS)
            );
            rows.push((email, name));
        }
        let ids: Vec<i64> = on_db!(ws.db(), pool => {
            let mut tx = pool.begin().await?;
            let mut query = QueryBuilder::new("insert into customers (email, name, created_at, updated_at) ");
            query.push_values(&rows, |mut b, (email, name)| {
                b.push_bind(email).push_bind(name).push_bind(start).push_bind(start);
            });
            query.push(" returning id");
            let ids: Vec<i64> = query.build_query_scalar().fetch_all(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(ids)
        })?;
        customers.extend(ids.into_iter().zip(rows).map(|(id, (email, name))| (id, name, email)));
        made += n;
    }

    let first_number: i64 = on_db!(ws.db(), pool => sqlx::query_scalar(if sqlite {
        "select value from counters where name = 'ticket_number'"
    } else {
        "select case when is_called then last_value else last_value - 1 end from ticket_numbers"
    })
    .fetch_one(pool)
    .await)?;
    let first_ticket_id: i64 = on_db!(ws.db(), pool => sqlx::query_scalar("select coalesce(max(id), 0) from tickets")
        .fetch_one(pool)
        .await)?;
    let mut report = SeedReport {
        customers: customer_count,
        ..SeedReport::default()
    };
    let mut done = 0;
    while done < options.tickets {
        let n = (options.tickets - done).min(options.batch.max(1));
        let mut rows = Vec::with_capacity(n as usize);
        let mut messages = Vec::with_capacity(n as usize * 3);
        for i in done..done + n {
            // Tickets come in evenly over two years; the newest are still being worked.
            let created = start + Duration::seconds((span.num_seconds() as u64 * i / options.tickets.max(1)) as i64);
            let age_days = (options.now - created).num_days();
            let status = match (age_days, rng.below(100)) {
                (0..=2, r) if r < 45 => "new",
                (0..=2, r) if r < 80 => "open",
                (0..=2, _) => "pending",
                (3..=14, r) if r < 15 => "open",
                (3..=14, r) if r < 30 => "pending",
                (3..=14, r) if r < 35 => "on_hold",
                (3..=14, _) => "solved",
                (_, r) if r < 2 => "open",
                (_, r) if r < 3 => "pending",
                (_, r) if r < 25 => "solved",
                _ => "closed",
            };
            let priority = match rng.below(100) {
                0..=14 => "low",
                15..=74 => "normal",
                75..=94 => "high",
                _ => "urgent",
            };
            let requester = rng.skewed(customers.len() as u64) as usize;
            let assignee = (!options.agents.is_empty() && (status != "new" || rng.chance(30)) && !rng.chance(8))
                .then(|| rng.skewed(options.agents.len() as u64) as usize);
            let category = rng.chance(70).then(|| rng.below(category_ids.len() as u64) as usize);
            let product = rng.pick(PRODUCTS);
            let subject = match rng.below(4) {
                0 => format!("The {product} {}", rng.pick(PROBLEMS)),
                1 => format!("{} {} {}", capitalize(product), rng.pick(PROBLEMS), rng.pick(SINCE)),
                2 => format!("Question about the {product}"),
                _ => format!("Help: {product} {}", rng.pick(PROBLEMS)),
            };
            let ticket = rows.len();
            let mut body = format!(
                "{}\n\nThe {product} {} {}. {} {}",
                rng.pick(OPENERS),
                rng.pick(PROBLEMS),
                rng.pick(SINCE),
                rng.pick(DETAILS),
                rng.pick(DETAILS)
            );
            if rng.chance(80) {
                body.push_str(&format!(" Could you {COMMON_WORD} take a look?"));
            }
            if rng.below(50_000) == 0 {
                body.push_str(&format!(" Reference: {RARE_WORD}-{}.", rng.below(1000)));
            }
            body.push_str(&format!("\n\n{}\n{}", rng.pick(CLOSERS), customers[requester].1));
            messages.push(Msg {
                ticket,
                kind: "reply",
                agent: None,
                customer: Some(requester),
                body,
                at: created,
            });
            let mut at = created;
            let answered = status != "new";
            if answered {
                at += Duration::minutes(5 + rng.below(600) as i64);
                messages.push(Msg {
                    ticket,
                    kind: "reply",
                    agent: assignee.or(Some(0)).filter(|_| !options.agents.is_empty()),
                    customer: None,
                    body: rng.pick(REPLIES).to_owned(),
                    at,
                });
                if rng.chance(25) {
                    at += Duration::minutes(1 + rng.below(60) as i64);
                    messages.push(Msg {
                        ticket,
                        kind: "note",
                        agent: assignee.or(Some(0)).filter(|_| !options.agents.is_empty()),
                        customer: None,
                        body: rng.pick(NOTES).to_owned(),
                        at,
                    });
                }
                if rng.chance(70) {
                    at += Duration::minutes(30 + rng.below(2000) as i64);
                    messages.push(Msg {
                        ticket,
                        kind: "reply",
                        agent: None,
                        customer: Some(requester),
                        body: rng.pick(FOLLOW_UPS).to_owned(),
                        at,
                    });
                }
            }
            let at = at.min(options.now);
            let solved = matches!(status, "solved" | "closed").then_some(at);
            rows.push(Row {
                number: first_number + i as i64 + 1,
                subject,
                status,
                priority,
                requester,
                assignee,
                category,
                created,
                updated: at,
                solved,
            });
        }
        let mut tags: Vec<(usize, &str)> = Vec::new();
        for t in 0..rows.len() {
            if rng.chance(35) {
                tags.push((t, rng.pick(TAGS)));
            }
        }
        write_batch(ws, &rows, &messages, &tags, &customers, &category_ids, &options.agents).await?;
        report.tickets += n;
        report.messages += messages.len() as u64;
        done += n;
        progress(done, options.tickets);
    }
    let last = first_number + options.tickets as i64;
    on_db!(ws.db(), pool => sqlx::query(if sqlite {
        "update counters set value = $1 where name = 'ticket_number'"
    } else {
        "select setval('ticket_numbers', greatest($1, 1), $1 > 0)"
    })
        .bind(last)
        .execute(pool)
        .await
        .map(|d| d.rows_affected()))?;
    // Search documents for every new ticket, in one statement per backend.
    let search_sql = if sqlite {
        super::search::sqlite_documents!("t.id > $1")
    } else {
        super::search::postgres_documents!("t.id > $1")
    };
    on_db!(ws.db(), pool => sqlx::query(search_sql)
        .bind(first_ticket_id)
        .execute(pool)
        .await
        .map(|d| d.rows_affected()))?;
    // Fresh statistics, so the planners pick the indexes the list was built for. On PostgreSQL also a vacuum,
    // as after any bulk load: it sets the visibility map and hint bits, merges the search index's pending
    // entries and clears the dead rows the count triggers left (one per ticket in `ticket_counts`) now,
    // rather than leaving that to the first queries (or to autovacuum, which may be off). Every table of the
    // workspace's schema, read from the catalog so a table written by a trigger is never left out; not the
    // whole database, whose shared catalogs only a superuser may vacuum (each one a warning).
    let maintenance = match ws.db() {
        Db::Sqlite(_) => "analyze".to_owned(),
        Db::Postgres(pg) => {
            let tables: String = sqlx::query_scalar(
                "select string_agg(format('%I', c.relname), ', ' order by c.relname)
                 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 where n.nspname = current_schema() and c.relkind = 'r'",
            )
            .fetch_one(&pg.pool)
            .await?;
            format!("vacuum (analyze) {tables}")
        }
    };
    on_db!(ws.db(), pool => sqlx::query(&maintenance).execute(pool).await.map(|d| d.rows_affected()))?;
    Ok(report)
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

async fn write_batch(
    ws: &WorkspaceDb,
    rows: &[Row],
    messages: &[Msg],
    tags: &[(usize, &str)],
    customers: &[(i64, String, String)],
    category_ids: &[i64],
    agents: &[Assignee],
) -> Result<()> {
    on_db!(ws.db(), pool => {
        let mut tx = pool.begin().await?;
        let mut ids: Vec<i64> = Vec::with_capacity(rows.len());
        // SQLite binds at most 32,766 values per statement: 14 columns × 1,000 rows stays under that.
        for chunk in rows.chunks(1000) {
            let mut query = QueryBuilder::new(
                "insert into tickets (number, subject, status, priority, requester_id, requester_name, requester_email,
                 assignee_account_id, assignee_name, assignee_email, category_id, created_at, updated_at, solved_at) ",
            );
            query.push_values(chunk, |mut b, row| {
                let (customer_id, name, email) = &customers[row.requester];
                let agent = row.assignee.map(|a| &agents[a]);
                b.push_bind(row.number)
                    .push_bind(&row.subject)
                    .push_bind(row.status)
                    .push_bind(row.priority)
                    .push_bind(*customer_id)
                    .push_bind(name)
                    .push_bind(email)
                    .push_bind(agent.map(|a| a.account_id))
                    .push_bind(agent.map(|a| a.name.as_str()))
                    .push_bind(agent.map(|a| a.email.as_str()))
                    .push_bind(row.category.map(|c| category_ids[c]))
                    .push_bind(row.created)
                    .push_bind(row.updated)
                    .push_bind(row.solved);
            });
            query.push(" returning id");
            let chunk_ids: Vec<i64> = query.build_query_scalar().fetch_all(&mut *tx).await?;
            ids.extend(chunk_ids);
        }
        for chunk in messages.chunks(2000) {
            let mut query = QueryBuilder::new(
                "insert into messages (ticket_id, author_account_id, author_customer_id, author_name, kind, body, html, created_at) ",
            );
            query.push_values(chunk, |mut b, m| {
                let author_name = match (m.agent, m.customer) {
                    (Some(a), _) => agents[a].name.clone(),
                    (None, Some(c)) => customers[c].1.clone(),
                    _ => "Ferrodesk".to_owned(),
                };
                b.push_bind(ids[m.ticket])
                    .push_bind(m.agent.map(|a| agents[a].account_id))
                    .push_bind(m.customer.map(|c| customers[c].0))
                    .push_bind(author_name)
                    .push_bind(m.kind)
                    .push_bind(&m.body)
                    .push_bind(m.body.split("\n\n").map(paragraph).collect::<String>())
                    .push_bind(m.at);
            });
            query.build().execute(&mut *tx).await?;
        }
        for name in TAGS {
            sqlx::query("insert into tags (name) values ($1) on conflict (name) do nothing")
                .bind(*name)
                .execute(&mut *tx)
                .await?;
        }
        for chunk in tags.chunks(5000) {
            let mut query = QueryBuilder::new("insert into ticket_tags (ticket_id, tag_id) ");
            query.push_values(chunk, |mut b, (ticket, tag)| {
                b.push_bind(ids[*ticket]);
                b.push("(select id from tags where name = ");
                b.push_bind_unseparated(*tag);
                b.push_unseparated(")");
            });
            query.push(" on conflict do nothing");
            query.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(())
}
