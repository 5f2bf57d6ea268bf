//! Full-text search over tickets: subject, every message (notes included: only agents search) and the
//! requester's name and address. SQLite: an FTS5 table with BM25 ranking (`fts_rank`); PostgreSQL: a
//! `tsvector` per ticket with a GIN index and `ts_rank`. The document is rebuilt in the transaction of every write that
//! changes its text, so search never lags behind.
//!
//! Ranking is bounded: the newest [`CANDIDATES`] matching tickets are ranked and the best shown. For a rare
//! word that is every match; for a word in half the workspace it keeps a search as fast as a rare one,
//! at the price of not ranking years-old tickets against new ones.

use super::tickets::{COLUMNS, Ticket};
use crate::{
    Result, WorkspaceDb,
    db::{Db, Tx},
    on_db,
};
use serde::Serialize;

/// How many of the newest matches are ranked.
pub const CANDIDATES: i64 = 1000;
/// SQLite: how many of the newest tickets each word's IDF is estimated from.
const IDF_SAMPLE: i64 = 20_000;
/// Marks the highlighted words in snippets before they are escaped; stripped from indexed text.
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// The statement that writes the search documents of the tickets `t` that match `$where` (SQL text), on
/// SQLite: one definition of a document for every writer of them (a change here, the seeding command).
macro_rules! sqlite_documents {
    ($where:literal) => {
        concat!(
            "insert into ticket_search (rowid, subject, body, requester)
    select t.id, t.subject,
           coalesce((select group_concat(m.body, char(10)) from messages m
                     where m.ticket_id = t.id and m.kind <> 'event'), ''),
           t.requester_name || ' ' || t.requester_email
    from tickets t where ",
            $where
        )
    };
}

/// The same on PostgreSQL, for a new ticket or one whose text changed. The parser keeps an address as one
/// word; its parts are added so a search for the domain or the surname finds it, as SQLite's tokenizer does.
/// (No comments in the SQL: it becomes part of a larger statement, [`Tx::at_commit`].)
macro_rules! postgres_documents {
    ($where:literal) => {
        concat!(
            "insert into ticket_search (ticket_id, document)
    select t.id,
           setweight(to_tsvector('simple', t.subject), 'A')
           || setweight(to_tsvector('simple', t.requester_name || ' ' || t.requester_email || ' '
                                    || translate(t.requester_email, '@.', '  ')), 'B')
           || to_tsvector('simple', coalesce((select string_agg(m.body, E'\\n' order by m.id) from messages m
                                              where m.ticket_id = t.id and m.kind <> 'event'), ''))
    from tickets t where ",
            $where,
            " on conflict (ticket_id) do update set document = excluded.document"
        )
    };
}
pub(crate) use {postgres_documents, sqlite_documents};

/// SQLite: rebuilds the documents of the tickets whose ids are in `$1`, a JSON array.
const REINDEX_SQLITE: &str = concat!(
    "delete from ticket_search where rowid in (select value from json_each($1));\n",
    sqlite_documents!("t.id in (select value from json_each($1))")
);

/// PostgreSQL: rebuilds the documents of the tickets whose ids are in `$1`, a `bigint[]`.
const REINDEX_POSTGRES: &str = postgres_documents!("t.id = any($1)");

/// Rebuilds a ticket's document once, just before `tx` commits ([`Tx::at_commit`]), from what it holds then.
/// On SQLite that is once for every ticket a shared transaction changed: FTS5 writes new rows as a new
/// segment whenever a savepoint opens or ends, so written in each writer's own part they would make one
/// small segment per writer, each merged later (`GateTx::at_commit`). On PostgreSQL it runs in the same
/// statement as the change's other queued statements.
pub(crate) fn reindex(tx: &mut Tx, ticket_id: i64) {
    tx.at_commit(REINDEX_SQLITE, REINDEX_POSTGRES, ticket_id);
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hit {
    pub ticket: Ticket,
    /// Escaped text with the matching words in `<mark>`: safe to put into a page as HTML.
    pub snippet: String,
}

/// The words of a query, each searched as a word (no operators reach the engine).
fn words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.' && c != '_' && c != '-')
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| !w.is_empty())
        .take(8)
        .collect()
}

/// Tickets matching every word of `query`, best first, at most `limit`.
#[tracing::instrument(skip_all, fields(workspace = %ws.id()))]
pub async fn search(ws: &WorkspaceDb, query: &str, limit: i64) -> Result<Vec<Hit>> {
    let words = words(query);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let limit = limit.clamp(1, 100);
    let (ids, snippets): (Vec<i64>, Vec<(i64, String)>) = match ws.db() {
        Db::Sqlite(sqlite) => {
            let pool = &sqlite.pool;
            let fts = words.iter().map(|w| phrase(w)).collect::<Vec<_>>().join(" ");
            // FTS5 walks a word's postings newest first and stops after the candidates; BM25 ranks those,
            // with IDFs estimated from the newest tickets (see `estimated_idfs`).
            let idfs = estimated_idfs(pool, &words).await?;
            let idf_args: String = (0..idfs.len()).map(|i| format!(", ${}", i + 4)).collect();
            let sql = format!(
                "select rowid from ticket_search
                 where ticket_search match $1
                   and rowid >= coalesce((select min(rowid) from (select rowid from ticket_search
                                          where ticket_search match $1 order by rowid desc limit $2)), 0)
                 order by {rank}(ticket_search, 10.0, 1.0, 4.0{idf_args}), rowid desc
                 limit $3",
                rank = crate::fts_rank::NAME,
            );
            let mut ranked = sqlx::query_scalar(&sql).bind(&fts).bind(CANDIDATES).bind(limit);
            for idf in idfs {
                ranked = ranked.bind(idf);
            }
            let ids: Vec<i64> = ranked.fetch_all(pool).await?;
            // Snippets only for the tickets shown: each one reads and tokenizes a whole document.
            let list = crate::db::integer_list(&ids);
            let snippets: Vec<(i64, String)> = sqlx::query_as(&format!(
                "select rowid, snippet(ticket_search, -1, char(57344), char(57345), '…', 16)
                 from ticket_search where ticket_search match $1 and rowid in ({list})"
            ))
            .bind(&fts)
            .fetch_all(pool)
            .await?;
            (ids, snippets)
        }
        Db::Postgres(pg) => {
            let text = words.join(" ");
            // A workspace's connections run generic plans (`db::WORKSPACE_PLAN_CACHE_MODE`); search is
            // planned for its words, as PostgreSQL does by default, in a transaction that ends with it.
            let mut tx = pg.begin().await?;
            sqlx::query(crate::db::PLANNER_DEFAULT).execute(&mut *tx).await?;
            // Which plan finds the newest matches fastest depends on how common the words are: when every
            // word is in at least 1 % of tickets (the column statistics' most common elements), walking the
            // primary key from the newest ticket finds them at once; otherwise the GIN index finds the few
            // matches and they are sorted (`+ 0` keeps the planner off the primary key walk).
            let (common, lexemes): (i64, i64) = sqlx::query_as(
                "with words as (select unnest(tsvector_to_array(to_tsvector('simple', $1))) as word)
                 select (select count(distinct e.elem) from pg_stats s,
                                unnest(s.most_common_elems::text::text[],
                                       s.most_common_elem_freqs[1:array_length(s.most_common_elems::text::text[], 1)])
                                    as e(elem, freq)
                         where s.tablename = 'ticket_search' and s.attname = 'document' and e.freq >= 0.01
                           and e.elem in (select word from words)),
                        (select count(*) from words)",
            )
            .bind(&text)
            .fetch_one(&mut *tx)
            .await?;
            // The plan is chosen here, not left to the planner: its row estimate for `@@` can be off by a
            // hundred times (a common word estimated at 0.5 % took the GIN path and sorted 800,000 rows), and a
            // prepared statement's plan may change after its first executions. `ts_match_vq` is `@@` as a
            // function, which no index serves: the newest tickets are read in key order until enough match.
            // `+ 0` keeps the rare case off that walk: the index finds the few matches, which are sorted.
            let (matches, order) = if lexemes > 0 && common >= lexemes {
                (
                    "ts_match_vq(s.document, plainto_tsquery('simple', $1))",
                    "s.ticket_id desc",
                )
            } else {
                ("s.document @@ plainto_tsquery('simple', $1)", "s.ticket_id + 0 desc")
            };
            let ids: Vec<i64> = sqlx::query_scalar(&format!(
                "select newest.ticket_id
                 from (select s.ticket_id, s.document from ticket_search s
                       where {matches} order by {order} limit $2) newest
                 order by ts_rank(newest.document, plainto_tsquery('simple', $1)) desc, newest.ticket_id desc
                 limit $3"
            ))
            .bind(&text)
            .bind(CANDIDATES)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            let snippets: Vec<(i64, String)> = sqlx::query_as(
                "select t.id, ts_headline('simple', t.subject || E'\\n' || coalesce(b.body, ''),
                                          plainto_tsquery('simple', $1),
                                          'StartSel=' || chr(57344) || ', StopSel=' || chr(57345) || ', MaxWords=24, MinWords=10, MaxFragments=2, FragmentDelimiter=\" … \"')
                 from tickets t
                 left join lateral (select string_agg(m.body, E'\\n' order by m.id) as body from messages m
                                    where m.ticket_id = t.id and m.kind <> 'event') b on true
                 where t.id = any($2)",
            )
            .bind(&text)
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            (ids, snippets)
        }
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let tickets: Vec<Ticket> = fetch_tickets(ws, &ids).await?;
    Ok(ids
        .into_iter()
        .filter_map(|id| {
            let ticket = tickets.iter().find(|t| t.id == id)?.clone();
            let snippet = snippets
                .iter()
                .find(|(s, _)| *s == id)
                .map(|(_, s)| s.as_str())
                .unwrap_or_default();
            Some(Hit {
                ticket,
                snippet: highlight(snippet),
            })
        })
        .collect())
}

/// A word as a quoted FTS5 string: punctuation inside it is part of the phrase, never syntax.
fn phrase(word: &str) -> String {
    format!("\"{}\"", word.replace('"', ""))
}

/// SQLite: each word's IDF for ranking, estimated from the newest [`IDF_SAMPLE`] tickets.
///
/// SQLite's `bm25()` counts every document holding each word on every search, which for a common word
/// walks half the index; counting within the newest tickets costs a bounded walk, and their share of a word
/// is what the ranked candidates (the newest matches) are drawn from anyway. One word needs no IDF: a
/// constant factor does not change the order.
async fn estimated_idfs(pool: &sqlx::SqlitePool, words: &[String]) -> Result<Vec<f64>> {
    if words.len() < 2 {
        return Ok(vec![1.0; words.len()]);
    }
    let counts: String = (0..words.len())
        .map(|i| {
            format!(
                ", (select count(*) from ticket_search where ticket_search match ${} and rowid > sample.low)",
                i + 2
            )
        })
        .collect();
    let sql = format!(
        "select (select count(*) from tickets where id > sample.low){counts}
         from (select coalesce(max(id), 0) - $1 as low from tickets) sample"
    );
    let mut query = sqlx::query(&sql).bind(IDF_SAMPLE);
    for word in words {
        query = query.bind(phrase(word));
    }
    let row = query.fetch_one(pool).await?;
    let count = |i: usize| -> Result<u64> { Ok(sqlx::Row::try_get::<i64, _>(&row, i)?.max(0) as u64) };
    let documents = count(0)?;
    (1..=words.len())
        .map(|i| Ok(crate::fts_rank::idf(documents, count(i)?)))
        .collect()
}

async fn fetch_tickets(ws: &WorkspaceDb, ids: &[i64]) -> Result<Vec<Ticket>> {
    let list = crate::db::integer_list(ids);
    // The ids are integers this module read from the database; nothing of the request is in this SQL.
    let sql = format!("select {COLUMNS} from tickets where id in ({list})");
    Ok(on_db!(ws.db(), pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
}

/// Escapes a snippet and turns its markers into `<mark>`; markers that do not pair up are dropped.
fn highlight(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 32);
    let mut open = false;
    let mut text = String::new();
    let flush = |text: &mut String, out: &mut String| {
        out.push_str(&super::markdown::escape(text));
        text.clear();
    };
    for c in raw.chars() {
        match c {
            OPEN if !open => {
                flush(&mut text, &mut out);
                out.push_str("<mark>");
                open = true;
            }
            CLOSE if open => {
                flush(&mut text, &mut out);
                out.push_str("</mark>");
                open = false;
            }
            OPEN | CLOSE => {}
            '\n' | '\r' => text.push(' '),
            c => text.push(c),
        }
    }
    flush(&mut text, &mut out);
    if open {
        out.push_str("</mark>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_plain_words() {
        assert_eq!(words("Printer  \"on\" FIRE!!"), vec!["printer", "on", "fire"]);
        assert_eq!(words("NEAR(a b) OR c* ^d"), vec!["near", "a", "b", "or", "c", "d"]);
        assert_eq!(words("ada@example.com"), vec!["ada@example.com"]);
        assert!(words("  ** ").is_empty());
    }

    #[test]
    fn snippets_are_escaped_and_marked() {
        let raw = format!("<script>x</script> {OPEN}printer{CLOSE} & {OPEN}fire");
        assert_eq!(
            highlight(&raw),
            "&lt;script&gt;x&lt;/script&gt; <mark>printer</mark> &amp; <mark>fire</mark>"
        );
    }
}
