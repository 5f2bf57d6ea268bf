//! `rank_bm25`: FTS5's BM25 with the inverse document frequencies given by the caller.
//!
//! SQLite's own `bm25()` computes each word's IDF by counting every document that holds the word
//! (`xQueryPhrase` over the whole table), once per query. Search ranks only the newest matching tickets
//! (see `workspace::search`), but that count still walked the whole posting list of a common word: half a
//! million entries in a workspace of a million tickets, 30–60 ms on every search for it. `rank_bm25` is the
//! same formula, term for term, taking the IDFs as arguments instead, so the caller can estimate them at a
//! bounded cost.
//!
//! `rank_bm25(fts_table, weight_0, …, weight_{columns-1}, idf_0, …, idf_{phrases-1})` returns minus the
//! score, as `bm25()` does, so `order by` it ascending puts the best first; a missing weight or IDF counts
//! as 1. Given the exact IDFs it returns what `bm25(fts_table, weight_0, …)` returns (a test checks this).
//!
//! The function is registered on every SQLite connection the server opens (`sqlite_setup::prepare`). This
//! and `sqlite_setup` are the crate's only unsafe code: here the C calls that find FTS5's API and register
//! the function, and the callback that FTS5 calls for each ranked row.
#![allow(unsafe_code)]

use libsqlite3_sys as ffi;
use sqlx::SqliteConnection;
use std::{
    ffi::{CStr, c_int, c_void},
    ptr,
};

/// The SQL name of the function.
pub const NAME: &str = "rank_bm25";
const NAME_C: &CStr = c"rank_bm25";

/// BM25's constants, as in SQLite's `bm25()`.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// The IDF of a word held by `hits` of `documents` documents, as SQLite's `bm25()` computes it: never
/// below a millionth, so a word in more than half the documents still counts a little.
pub fn idf(documents: u64, hits: u64) -> f64 {
    let (n, h) = (documents as f64, hits.min(documents) as f64);
    let idf = ((n - h + 0.5) / (h + 0.5)).ln();
    if idf <= 0.0 { 1e-6 } else { idf }
}

/// Registers `rank_bm25` on one connection.
pub async fn register(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is a live connection handle, locked for this thread until `handle` drops at the end of
    // this function, and `register_on` uses it only within the call.
    let rc = unsafe { register_on(db) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Configuration(
            format!("registering the FTS5 function {NAME} failed with SQLite code {rc}").into(),
        ))
    }
}

/// # Safety
/// `db` must be an open connection that no other thread uses during the call.
unsafe fn register_on(db: *mut ffi::sqlite3) -> c_int {
    // FTS5 hands out its API through `select fts5(?1)` with a pointer bound as type "fts5_api_ptr".
    let mut api: *mut ffi::fts5_api = ptr::null_mut();
    let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
    // SAFETY: plain C API calls on a valid handle; `api` outlives the statement, which is finalized here.
    unsafe {
        let rc = ffi::sqlite3_prepare_v2(db, c"select fts5(?1)".as_ptr(), -1, &mut stmt, ptr::null_mut());
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        ffi::sqlite3_bind_pointer(stmt, 1, (&raw mut api).cast::<c_void>(), c"fts5_api_ptr".as_ptr(), None);
        ffi::sqlite3_step(stmt);
        let rc = ffi::sqlite3_finalize(stmt);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        if api.is_null() || (*api).iVersion < 2 {
            return ffi::SQLITE_ERROR;
        }
        let Some(create) = (*api).xCreateFunction else {
            return ffi::SQLITE_ERROR;
        };
        create(api, NAME_C.as_ptr(), ptr::null_mut(), Some(rank_bm25), None)
    }
}

/// Sets an error message as the function's result.
///
/// # Safety
/// `ctx` must be the context FTS5 passed to the callback.
unsafe fn fail(ctx: *mut ffi::sqlite3_context, message: &CStr) {
    // SAFETY: `message` is NUL-terminated; -1 tells SQLite to read up to the NUL and copy.
    unsafe { ffi::sqlite3_result_error(ctx, message.as_ptr(), -1) }
}

/// The callback FTS5 calls for each row the function ranks.
///
/// # Safety
/// Called by FTS5 only, with its own valid `api`, `fts` and `ctx`, and `values` pointing to `count`
/// argument values.
unsafe extern "C" fn rank_bm25(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    count: c_int,
    values: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: the pointers are FTS5's for the duration of this call (see the function's contract); every
    // index below is checked against the counts FTS5 reports.
    unsafe {
        let api = &*api;
        let (
            Some(column_count),
            Some(phrase_count),
            Some(row_count),
            Some(total_size),
            Some(inst_count),
            Some(inst),
            Some(column_size),
        ) = (
            api.xColumnCount,
            api.xPhraseCount,
            api.xRowCount,
            api.xColumnTotalSize,
            api.xInstCount,
            api.xInst,
            api.xColumnSize,
        )
        else {
            return fail(ctx, c"rank_bm25: this FTS5 lacks a needed function");
        };
        let columns = column_count(fts).max(0) as usize;
        let phrases = phrase_count(fts).max(0) as usize;
        let args = std::slice::from_raw_parts(values, count.max(0) as usize);
        // A missing weight or IDF counts as 1, as a missing weight does for `bm25()`.
        let arg = |i: usize| args.get(i).map_or(1.0, |v| ffi::sqlite3_value_double(*v));

        // The average row length over the whole table: FTS5 keeps these totals, nothing is counted here.
        let (mut rows, mut tokens) = (0i64, 0i64);
        let mut rc = row_count(fts, &mut rows);
        if rc == ffi::SQLITE_OK {
            rc = total_size(fts, -1, &mut tokens);
        }
        // Each phrase's frequency in this row, every hit weighted by its column.
        let mut frequency = [0f64; 16];
        let frequency = if phrases <= frequency.len() {
            &mut frequency[..phrases]
        } else {
            return fail(ctx, c"rank_bm25: at most 16 phrases");
        };
        let mut hits = 0;
        if rc == ffi::SQLITE_OK {
            rc = inst_count(fts, &mut hits);
        }
        for i in 0..hits {
            if rc != ffi::SQLITE_OK {
                break;
            }
            let (mut phrase, mut column, mut offset) = (0, 0, 0);
            rc = inst(fts, i, &mut phrase, &mut column, &mut offset);
            if rc == ffi::SQLITE_OK
                && let (Ok(phrase), Ok(column)) = (usize::try_from(phrase), usize::try_from(column))
                && phrase < phrases
                && column < columns
            {
                frequency[phrase] += arg(column);
            }
        }
        let mut length = 0;
        if rc == ffi::SQLITE_OK {
            rc = column_size(fts, -1, &mut length);
        }
        if rc != ffi::SQLITE_OK {
            return ffi::sqlite3_result_error_code(ctx, rc);
        }
        let average = if rows > 0 { tokens as f64 / rows as f64 } else { 1.0 };
        let norm = K1 * (1.0 - B + B * f64::from(length) / average);
        let score: f64 = frequency
            .iter()
            .enumerate()
            .map(|(i, f)| arg(columns + i) * ((f * (K1 + 1.0)) / (f + norm)))
            .sum();
        ffi::sqlite3_result_double(ctx, -score);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    const WORDS: [&str; 6] = ["invoice", "wrong", "printer", "paper", "toner", "refund"];

    /// A table shaped like the tickets' index, with varied lengths and mixes of words in every column.
    async fn table() -> SqliteConnection {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        register(&mut conn).await.unwrap();
        sqlx::query("create virtual table docs using fts5(subject, body, requester)")
            .execute(&mut conn)
            .await
            .unwrap();
        for i in 0..60usize {
            let body: Vec<&str> = (0..(i % 7) + 1).map(|j| WORDS[(i * 3 + j * 5) % WORDS.len()]).collect();
            sqlx::query("insert into docs (subject, body, requester) values ($1, $2, $3)")
                .bind(format!("{} issue", WORDS[i % WORDS.len()]))
                .bind(format!("{} and more text {i}", body.join(" ")))
                .bind(format!("{} Person user{i}@example.com", WORDS[(i + 2) % WORDS.len()]))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        conn
    }

    #[tokio::test]
    async fn with_exact_idfs_it_is_sqlite_bm25() {
        let mut conn = table().await;
        let documents: i64 = sqlx::query_scalar("select count(*) from docs")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        for query in [
            vec!["invoice"],
            vec!["printer", "paper"],
            vec!["refund", "toner", "invoice"],
        ] {
            let mut idfs = Vec::new();
            for word in &query {
                let hits: i64 = sqlx::query_scalar("select count(*) from docs where docs match $1")
                    .bind(format!("\"{word}\""))
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                idfs.push(idf(documents as u64, hits as u64));
            }
            let args: String = idfs.iter().map(|idf| format!(", {idf:e}")).collect();
            let rows: Vec<(i64, f64, f64)> = sqlx::query_as(&format!(
                "select rowid, bm25(docs, 10.0, 1.0, 4.0), rank_bm25(docs, 10.0, 1.0, 4.0{args})
                 from docs where docs match $1"
            ))
            .bind(
                query
                    .iter()
                    .map(|w| format!("\"{w}\""))
                    .collect::<Vec<_>>()
                    .join(" OR "),
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            assert!(rows.len() >= 10, "{query:?}: {}", rows.len());
            for (rowid, bm25, ours) in rows {
                assert!(bm25 < 0.0, "{query:?} row {rowid}: {bm25}");
                assert!(
                    (bm25 - ours).abs() <= 1e-12 * bm25.abs(),
                    "{query:?} row {rowid}: bm25 {bm25}, rank_bm25 {ours}"
                );
            }
        }
    }

    #[tokio::test]
    async fn missing_or_extra_arguments_are_no_error() {
        let mut conn = table().await;
        for args in ["", ", 1.0", ", 1.0, 1.0, 1.0, 2.0, 3.0"] {
            let ranked: Vec<f64> = sqlx::query_scalar(&format!(
                "select rank_bm25(docs{args}) from docs where docs match 'toner'"
            ))
            .fetch_all(&mut conn)
            .await
            .unwrap();
            assert!(!ranked.is_empty() && ranked.iter().all(|r| *r < 0.0), "{ranked:?}");
        }
    }

    #[test]
    fn idf_is_sqlite_s() {
        assert!((idf(1000, 10) - (990.5f64 / 10.5).ln()).abs() < 1e-12);
        assert_eq!(idf(1000, 600), 1e-6, "more than half: a millionth");
        assert_eq!(idf(10, 50), 1e-6, "hits beyond the documents are capped");
        assert!(idf(20_000, 0) > idf(20_000, 1));
    }
}
