//! The gate's tests: writers sharing commits, dropped writers, queued statements, checkpoints.

use super::*;
use chrono::DateTime;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use std::time::Duration;

async fn database() -> (tempfile::TempDir, SqlitePool, Arc<WriteGate>) {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("gate.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .unwrap();
    sqlx::query("create table t (name text not null)")
        .execute(&pool)
        .await
        .unwrap();
    (dir, pool, Arc::default())
}

async fn insert(tx: &mut GateTx, name: &str) {
    sqlx::query("insert into t (name) values ($1)")
        .bind(name)
        .execute(tx.conn())
        .await
        .unwrap();
}

async fn names(pool: &SqlitePool) -> Vec<String> {
    sqlx::query_scalar("select name from t order by name")
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn until_queued(gate: &WriteGate, n: usize) {
    while gate.queued.load(Ordering::SeqCst) < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test]
async fn a_writer_dropped_in_a_shared_transaction_loses_only_its_own_work() {
    let (_dir, pool, gate) = database().await;
    let mut a = gate.begin(&pool).await.unwrap();
    insert(&mut a, "a").await;
    let b = tokio::spawn({
        let (gate, pool) = (gate.clone(), pool.clone());
        async move {
            let mut b = gate.begin(&pool).await.unwrap();
            insert(&mut b, "b").await;
            // Dropped without commit: a refused request, or one whose client went away.
        }
    });
    until_queued(&gate, 1).await;
    // `b` is waiting, so `a` hands the transaction on and waits for its commit.
    let committed = tokio::spawn(a.commit());
    b.await.unwrap();
    committed.await.unwrap().unwrap();
    assert_eq!(names(&pool).await, ["a"]);
    assert_eq!(gate.commits(), (1, 1));
}

#[tokio::test]
async fn a_lone_writer_dropped_ends_the_transaction_and_frees_the_lock() {
    let (_dir, pool, gate) = database().await;
    let mut a = gate.begin(&pool).await.unwrap();
    insert(&mut a, "a").await;
    drop(a);
    // Another connection can write (the file's lock is free) once the rollback has run.
    tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            let written = sqlx::query("insert into t (name) values ('outside')")
                .execute(&pool)
                .await;
            if written.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the write lock is released");
    let mut b = gate.begin(&pool).await.unwrap();
    insert(&mut b, "b").await;
    b.commit().await.unwrap();
    assert_eq!(names(&pool).await, ["b", "outside"]);
    assert_eq!(gate.commits(), (1, 1));
}

#[tokio::test]
async fn queued_writers_share_commits_and_each_returns_after_its_own() {
    let (_dir, pool, gate) = database().await;
    let first = gate.begin(&pool).await.unwrap();
    let mut writers = Vec::new();
    for i in 0..20 {
        let (gate, pool) = (gate.clone(), pool.clone());
        writers.push(tokio::spawn(async move {
            let mut tx = gate.begin(&pool).await.unwrap();
            insert(&mut tx, &format!("w{i:02}")).await;
            tx.commit().await.unwrap();
            // Returned: the row is committed, so a connection outside the batch sees it.
            let seen: i64 = sqlx::query_scalar("select count(*) from t where name = $1")
                .bind(format!("w{i:02}"))
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(seen, 1);
        }));
    }
    until_queued(&gate, 20).await;
    first.commit().await.unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(names(&pool).await.len(), 20);
    let (commits, writers) = gate.commits();
    assert_eq!(writers, 21);
    assert!(commits < 21, "{commits} commits for 21 queued writers");
}

#[tokio::test]
async fn checkpoints_run_beside_the_writers_and_the_wal_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let options = crate::db::sqlite_unencrypted_options(&dir.path().join("wal.db"), true);
    let db = crate::db::sqlite_pool(options, 2).await.unwrap();
    let mut tx = db.begin_write().await.unwrap();
    let autocheckpoint: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    assert_eq!(
        autocheckpoint, 0,
        "the writing connection leaves checkpoints to the checkpointer"
    );
    sqlx::query("create table t (body blob not null)")
        .execute(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let write = |sql: &'static str| {
        let db = db.clone();
        async move {
            let mut tx = db.begin_write().await.unwrap();
            sqlx::query(sql).execute(tx.conn()).await.unwrap();
            tx.commit().await.unwrap();
        }
    };
    // 100 commits of ~100 pages each: past RESTART_FRAMES.
    for _ in 0..100 {
        write("insert into t (body) values (randomblob(400000))").await;
    }
    // The WAL's length, from its index (`-shm`): the header's `mxFrame`, in the machine's byte order.
    let shm = dir.path().join("wal.db-shm");
    let frames = || {
        let header = std::fs::read(&shm).unwrap();
        u32::from_ne_bytes(header[16..20].try_into().unwrap())
    };
    // Once the checkpointer has copied everything, a transaction starts the WAL over.
    let mut written = 100;
    tokio::time::timeout(Duration::from_secs(30), async {
        while db.checkpoints().1 == 0 || frames() > 100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            write("insert into t (body) values (x'00')").await;
            written += 1;
        }
    })
    .await
    .expect("the WAL started over");
    let mut conn = db.pool.acquire().await.unwrap();
    let rows: i64 = sqlx::query_scalar("select count(*) from t")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(rows, written);
    drop(conn);
    db.close().await;
}

#[test]
fn later_statements_have_their_parameters_renumbered_outside_quotes() {
    let mut out = String::new();
    shift_parameters(
        "insert into t (a, b) values ($1, '$1 and $2', \"$3\", $10)",
        4,
        &mut out,
    );
    assert_eq!(out, "insert into t (a, b) values ($5, '$1 and $2', \"$3\", $14)");
    out.clear();
    shift_parameters("select $", 3, &mut out);
    assert_eq!(out, "select $");
}

#[tokio::test]
async fn later_statements_run_with_the_writer_s_part_and_roll_back_with_it() {
    let (_dir, pool, gate) = database().await;
    let mut a = gate.begin(&pool).await.unwrap();
    a.later("insert into t (name) values ($1)", vec![Value::text("a1")]);
    a.later(
        "insert into t (name) values ($1 || '-' || $2 || '-' || coalesce($3, 'none'))",
        vec![
            Value::text("a2"),
            Value::Time(DateTime::from_timestamp(0, 0).unwrap()),
            Value::Int(None),
        ],
    );
    insert(&mut a, "a0").await;
    let b = tokio::spawn({
        let (gate, pool) = (gate.clone(), pool.clone());
        async move {
            let mut b = gate.begin(&pool).await.unwrap();
            b.later("insert into t (name) values ($1)", vec![Value::text("b1")]);
            // Dropped without commit: its queued statement never runs.
        }
    });
    until_queued(&gate, 1).await;
    let committed = tokio::spawn(a.commit());
    b.await.unwrap();
    committed.await.unwrap().unwrap();
    assert_eq!(names(&pool).await, ["a0", "a1", "a2-1970-01-01T00:00:00+00:00-none"]);
    let mut c = gate.begin(&pool).await.unwrap();
    c.later("insert into t (name) values ('n' || $1)", vec![Value::Int(Some(7))]);
    c.commit().await.unwrap();
    assert_eq!(names(&pool).await.last().unwrap(), "n7");
}

const IDS: &str = "insert into t (name) select group_concat(value, ',') from json_each($1)";

#[tokio::test]
async fn at_commit_statements_run_once_per_commit_with_the_ids_of_the_writers_in_it() {
    let (_dir, pool, gate) = database().await;
    let mut first = gate.begin(&pool).await.unwrap();
    first.at_commit(IDS, 10);
    first.at_commit(IDS, 10);
    let mut writers = Vec::new();
    for i in 1..=4 {
        let (gate, pool) = (gate.clone(), pool.clone());
        writers.push(tokio::spawn(async move {
            let mut tx = gate.begin(&pool).await.unwrap();
            tx.at_commit(IDS, i);
            if i == 3 {
                return; // dropped: its id is not passed
            }
            tx.commit().await.unwrap();
        }));
    }
    until_queued(&gate, 4).await;
    first.commit().await.unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let rows = names(&pool).await;
    assert_eq!(rows.len(), gate.commits().0, "one row per commit: {rows:?}");
    let mut ids: Vec<i64> = rows
        .iter()
        .flat_map(|row| row.split(',').map(|id| id.parse::<i64>().unwrap()))
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2, 4, 10]);
}
