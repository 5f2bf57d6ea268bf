//! Full-text search: ranking, highlighting, escaping, and the query plans it runs under.

use crate::helpers::{TestEnv, agent, new_ticket};
use chrono::Utc;
use domain::workspace::{
    search,
    tickets::{self, Kind},
};

testkit::both_backends!(setup = crate::helpers::env; search_ranks_highlights_and_escapes);

async fn search_ranks_highlights_and_escapes(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let me = agent(1, "Ada Agent", "acme");
    let now = Utc::now();
    let in_body = tickets::create(
        &ws,
        &me,
        &new_ticket("a@example.com", "Question", "my invoice is wrong"),
        now,
    )
    .await
    .unwrap();
    let in_subject = tickets::create(
        &ws,
        &me,
        &new_ticket("b@example.com", "Invoice missing", "where is it"),
        now,
    )
    .await
    .unwrap();
    let mut xss = new_ticket(
        "x@example.com",
        "<img src=x onerror=alert(1)> invoice",
        "<script>alert(1)</script> invoice",
    );
    xss.requester_name = "<b>Mallory</b>".into();
    tickets::create(&ws, &me, &xss, now).await.unwrap();
    tickets::create(
        &ws,
        &me,
        &new_ticket("dana.scully@fbi.example", "Other", "nothing here"),
        now,
    )
    .await
    .unwrap();

    let hits = search::search(&ws, "invoice", 10).await.unwrap();
    assert_eq!(hits.len(), 3);
    assert!(
        hits.iter().position(|h| h.ticket.id == in_subject.id) < hits.iter().position(|h| h.ticket.id == in_body.id),
        "a subject match ranks above a body match"
    );
    for hit in &hits {
        assert!(
            hit.snippet.to_lowercase().contains("<mark>invoice</mark>"),
            "{}",
            hit.snippet
        );
        assert!(
            !hit.snippet.contains("<script") && !hit.snippet.contains("<img"),
            "{}",
            hit.snippet
        );
    }
    // A reply is found at once; requesters are found by name and address; notes are searchable by agents.
    tickets::add_message(&ws, &me, in_body.id, Kind::Note, "escalate to platypus team", None, now)
        .await
        .unwrap();
    assert_eq!(
        search::search(&ws, "platypus", 10).await.unwrap()[0].ticket.id,
        in_body.id
    );
    assert_eq!(search::search(&ws, "scully", 10).await.unwrap().len(), 1);
    assert_eq!(
        search::search(&ws, "invoice wrong", 10).await.unwrap().len(),
        1,
        "every word must match"
    );
    for syntax in [
        "\"",
        "NEAR(",
        "*",
        "a OR",
        ")(",
        "'; drop table tickets; --",
        "\u{E000}",
    ] {
        search::search(&ws, syntax, 10).await.unwrap();
    }
}

/// PostgreSQL only: a workspace's connections run generic plans; search asks for the planner's default in
/// a transaction of its own, which leaves its connection as it was (one connection here, so every search
/// and every check use the same one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_workspace_connections_run_generic_plans_except_for_search() {
    let config = domain::StorageConfig {
        workspace_connections: 1,
        ..Default::default()
    };
    let Some(env) = crate::helpers::postgres_env(config).await else {
        return;
    };
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let generic = Some(domain::db::WORKSPACE_PLAN_CACHE_MODE.to_owned());
    assert_eq!(ws.postgres_plan_cache_mode().await.unwrap(), generic);
    let me = agent(1, "Ada Agent", "acme");
    let ticket = tickets::create(
        &ws,
        &me,
        &new_ticket("a@example.com", "Printer", "toner is out"),
        Utc::now(),
    )
    .await
    .unwrap();
    for _ in 0..8 {
        // Past the five executions after which PostgreSQL may switch a statement to a generic plan.
        let hits = search::search(&ws, "toner", 10).await.unwrap();
        assert_eq!(hits.iter().map(|h| h.ticket.id).collect::<Vec<_>>(), [ticket.id]);
        assert_eq!(ws.postgres_plan_cache_mode().await.unwrap(), generic);
    }
}

/// SQLite only: BM25 weighs each word by how rare it is; PostgreSQL's `ts_rank` looks at the ticket alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_weighs_rare_words_above_common_ones() {
    let env = crate::helpers::sqlite_env(Default::default()).await;
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let me = agent(1, "Ada Agent", "acme");
    let now = Utc::now();
    // "printer" is in every ticket, "toner" in two. Both matches hold both words three times in all; the
    // one with the rare word three times is the better match, although it is the older one.
    let rare_thrice = tickets::create(
        &ws,
        &me,
        &new_ticket("a@example.com", "Question", "printer toner toner toner"),
        now,
    )
    .await
    .unwrap();
    let common_thrice = tickets::create(
        &ws,
        &me,
        &new_ticket("b@example.com", "Question", "printer printer printer toner"),
        now,
    )
    .await
    .unwrap();
    for i in 0..20 {
        let body = format!("the printer in room {i} jams");
        tickets::create(&ws, &me, &new_ticket("c@example.com", "Question", &body), now)
            .await
            .unwrap();
    }
    let hits = search::search(&ws, "printer toner", 10).await.unwrap();
    let ids: Vec<i64> = hits.iter().map(|h| h.ticket.id).collect();
    assert_eq!(ids, vec![rare_thrice.id, common_thrice.id]);
    assert_eq!(
        search::search(&ws, "toner printer", 10).await.unwrap()[0].ticket.id,
        rare_thrice.id
    );
}
