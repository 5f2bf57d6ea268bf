//! Concurrent writers: all succeed, a failing one loses only its own work, queued statements run at commit.

use crate::helpers::{TestEnv, agent, all_tickets, new_ticket};
use chrono::Utc;
use domain::{
    Error,
    workspace::{
        search,
        tickets::{self, Kind},
        views,
    },
};

testkit::both_backends!(setup = crate::helpers::env; concurrent_writes_to_one_workspace_all_succeed, writers_that_fail_or_go_away_leave_the_others_whole, statements_queued_in_a_transaction_run_at_its_commit);

async fn concurrent_writes_to_one_workspace_all_succeed(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let me = agent(1, "Ada Agent", "acme");
    let first = tickets::create(&ws, &me, &new_ticket("a@example.com", "Shared", "x"), Utc::now())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (ws, me) = (ws.clone(), me.clone());
        tasks.push(tokio::spawn(async move {
            let new = new_ticket(&format!("c{}@example.com", i % 3), &format!("Concurrent {i}"), "body");
            tickets::create(&ws, &me, &new, Utc::now()).await.unwrap();
            tickets::add_message(&ws, &me, first.id, Kind::Note, &format!("note {i}"), None, Utc::now())
                .await
                .unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Concurrent creations may take their numbers in another order than their rows' ids.
    let mut numbers: Vec<i64> = all_tickets(&ws).await.iter().map(|t| t.number).collect();
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=17).collect::<Vec<_>>(),
        "every ticket got its own number, no gaps"
    );
    assert_eq!(tickets::thread(&ws, first.id, false).await.unwrap().len(), 17);
}

// Writers that are refused inside their transaction, or go away part-way (a client hanging up), lose
// only their own work: on SQLite the writers share a transaction (group commit), so this is what keeps
// one writer's failure from reaching the others.
async fn writers_that_fail_or_go_away_leave_the_others_whole(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let me = agent(1, "Ada Agent", "acme");
    let mut tasks = Vec::new();
    for i in 0..48 {
        let (ws, me) = (ws.clone(), me.clone());
        tasks.push(tokio::spawn(async move {
            let mut new = new_ticket(&format!("c{}@example.com", i % 5), &format!("Writer {i}"), "body");
            match i % 4 {
                // Refused inside its transaction: there is no such category.
                1 => {
                    new.category_id = Some(999_999);
                    tickets::create(&ws, &me, &new, Utc::now()).await.map(|_| true)
                }
                // Dropped part-way, wherever it happens to be.
                2 => {
                    let wait = std::time::Duration::from_micros(50 * (i as u64 % 7));
                    let done = tokio::time::timeout(wait, tickets::create(&ws, &me, &new, Utc::now())).await;
                    Ok(matches!(done, Ok(Ok(_))))
                }
                _ => tickets::create(&ws, &me, &new, Utc::now()).await.map(|_| true),
            }
        }));
    }
    let mut confirmed = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match (i % 4, task.await.unwrap()) {
            (1, refused) => assert!(matches!(refused, Err(Error::Field { .. })), "writer {i}: {refused:?}"),
            (_, Ok(true)) => confirmed.push(format!("Writer {i}")),
            (2, Ok(false)) => {}
            (_, other) => panic!("writer {i}: {other:?}"),
        }
    }
    assert!(confirmed.len() >= 24, "every writer that was left alone succeeded");

    // A write after all that is not stuck behind a lock nobody holds.
    let after = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        tickets::create(
            &ws,
            &me,
            &new_ticket("late@example.com", "Afterwards", "body"),
            Utc::now(),
        ),
    )
    .await
    .expect("the write lock is free")
    .unwrap();

    let stored = all_tickets(&ws).await;
    let subjects: Vec<&str> = stored.iter().map(|t| t.subject.as_str()).collect();
    for subject in &confirmed {
        assert!(
            subjects.contains(&subject.as_str()),
            "{subject} was confirmed, so it is stored"
        );
    }
    for (i, subject) in subjects.iter().enumerate() {
        if let Some(n) = subject.strip_prefix("Writer ") {
            assert_ne!(n.parse::<usize>().unwrap() % 4, 1, "a refused writer left nothing");
        }
        // Whatever is stored is whole: its first message, and its place in the counts and search.
        assert_eq!(
            tickets::thread(&ws, stored[i].id, false).await.unwrap().len(),
            1,
            "{subject}"
        );
    }
    let counts = views::counts(&ws, 1, Utc::now()).await.unwrap();
    assert_eq!(counts.all_open, stored.len() as i64);
    let found = search::search(&ws, "body", 100).await.unwrap();
    assert_eq!(found.len(), stored.len());
    let mut numbers: Vec<i64> = stored.iter().map(|t| t.number).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), stored.len(), "numbers are unique");
    assert_eq!(after.number, *numbers.last().unwrap());
    if env.backend() == domain::db::Backend::Sqlite {
        assert_eq!(
            numbers,
            (1..=stored.len() as i64).collect::<Vec<_>>(),
            "and on SQLite gap-free"
        );
    }
}

// What a change queues for its commit (its audit line, mail and search rows) runs once, at the commit, in
// the order queued and with each statement's own parameters; a transaction that ends without committing
// runs none of it.
async fn statements_queued_in_a_transaction_run_at_its_commit(env: TestEnv) {
    use domain::{db::Value, on_db, on_tx, on_write};
    const IDS_SQLITE: &str = "insert into queued (name)
        select 'ids ' || group_concat(value, ',') from (select value from json_each($1) order by value)";
    const IDS_POSTGRES: &str = "insert into queued (name) select 'ids ' || array_to_string($1, ',')";
    let db = env.router.landlord().db();
    on_write!(db, conn => sqlx::query("create table queued (name text not null)")
        .execute(conn)
        .await
        .map(|_| ()))
    .unwrap();
    let names = || async {
        on_db!(db, pool => sqlx::query_scalar::<_, String>("select name from queued order by name")
            .fetch_all(pool)
            .await)
        .unwrap()
    };

    let mut tx = db.begin().await.unwrap();
    tx.at_commit(IDS_SQLITE, IDS_POSTGRES, 7);
    tx.later(
        "insert into queued (name) values ($1 || '-' || $2 || '-' || coalesce($3, 'none'))",
        vec![Value::text("a"), Value::Int(Some(1)), Value::Text(None)],
    );
    on_tx!(&mut tx, conn => sqlx::query("insert into queued (name) values ('direct')")
        .execute(conn)
        .await
        .map(|_| ()))
    .unwrap();
    tx.later("insert into queued (name) values ($1)", vec![Value::text("b")]);
    tx.at_commit(IDS_SQLITE, IDS_POSTGRES, 3);
    tx.at_commit(IDS_SQLITE, IDS_POSTGRES, 7);
    let before_commit: Vec<String> = on_tx!(&mut tx, conn => sqlx::query_scalar("select name from queued")
        .fetch_all(conn)
        .await)
    .unwrap();
    assert_eq!(before_commit, ["direct"], "queued statements wait for the commit");
    tx.commit().await.unwrap();
    assert_eq!(names().await, ["a-1-none", "b", "direct", "ids 3,7"]);

    let mut tx = db.begin().await.unwrap();
    tx.later("insert into queued (name) values ($1)", vec![Value::text("never")]);
    tx.at_commit(IDS_SQLITE, IDS_POSTGRES, 1);
    drop(tx);
    assert_eq!(names().await, ["a-1-none", "b", "direct", "ids 3,7"]);
}
