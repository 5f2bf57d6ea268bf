//! Seeded demo workspaces look like ones that were worked in.

use super::*;
use crate::helpers::{TestEnv, agent, new_ticket};
use chrono::Utc;
use domain::workspace::{
    search,
    tickets::{self, Assignee, Status},
    views::{self, Cursor, Filter, Sort},
};

testkit::both_backends!(setup = crate::helpers::env; seeded_workspaces_look_like_worked_ones);

async fn seeded_workspaces_look_like_worked_ones(env: TestEnv) {
    use domain::workspace::seed::{self, SeedOptions};
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let me = agent(1, "Ada Agent", "acme");
    tickets::create(
        &ws,
        &me,
        &new_ticket("first@example.com", "Before seeding", "x"),
        Utc::now(),
    )
    .await
    .unwrap();
    let agents = vec![
        bob(),
        Assignee {
            account_id: 1,
            name: "Ada Agent".into(),
            email: "ada@desk.example".into(),
        },
    ];
    let options = SeedOptions {
        tickets: 3000,
        agents,
        customers: None,
        seed: 7,
        batch: 1000,
        now: Utc::now(),
    };
    let mut batches = 0;
    let report = seed::seed(&ws, &options, |_, _| batches += 1).await.unwrap();
    assert_eq!((report.tickets, batches), (3000, 3));
    assert!(
        (2.0..4.0).contains(&(report.messages as f64 / 3000.0)),
        "about three messages a ticket: {report:?}"
    );
    let everything = views::list(&ws, &Filter::default(), Sort::Newest, None, 1)
        .await
        .unwrap();
    assert_eq!(
        everything.tickets[0].number, 3001,
        "numbers continue after the existing ticket"
    );
    let next = tickets::create(
        &ws,
        &me,
        &new_ticket("after@example.com", "After seeding", "x"),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(next.number, 3002);
    // The trigger-kept counts agree with counting the rows.
    let counts = views::counts(&ws, 1, Utc::now()).await.unwrap();
    let open = async |f: Filter| views::list(&ws, &f, Sort::Newest, None, 200).await.unwrap();
    let unsolved = Filter {
        statuses: Status::UNSOLVED.to_vec(),
        ..Default::default()
    };
    let mut n = 0;
    let mut cursor = None;
    loop {
        let page = views::list(&ws, &unsolved, Sort::Newest, cursor.as_ref(), 200)
            .await
            .unwrap();
        n += page.tickets.len() as i64;
        match page.next {
            Some(next) => cursor = Some(Cursor::parse(&next, Sort::Newest).unwrap()),
            None => break,
        }
    }
    assert_eq!(counts.all_open, n);
    assert!(counts.all_open > 0 && counts.all_open < 3002, "{counts:?}");
    assert!(
        !open(Filter {
            tag: Some("billing".into()),
            ..Default::default()
        })
        .await
        .tickets
        .is_empty()
    );
    // Search covers the seeded tickets.
    assert_eq!(search::search(&ws, seed::COMMON_WORD, 20).await.unwrap().len(), 20);
    let hit = &search::search(&ws, "before seeding", 5).await.unwrap()[0];
    assert_eq!(hit.ticket.number, 1);
    // On PostgreSQL every table was vacuumed after the load, the trigger-kept ones too: their dead rows
    // (one per seeded ticket) would otherwise slow every count until autovacuum came.
    if let (Some(admin), Some(db_name)) = (env.pg_admin_url(), workspace.db_name.as_deref()) {
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{db_name}"));
        let pool = sqlx::PgPool::connect(url.as_str()).await.unwrap();
        let tables: Vec<(String, bool)> = sqlx::query_as(
            "select relname::text, last_vacuum is not null from pg_stat_user_tables
             where schemaname = current_schema() order by 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        assert!(tables.iter().any(|(name, _)| name == "ticket_counts"), "{tables:?}");
        assert!(
            tables.iter().all(|(_, vacuumed)| *vacuumed),
            "not all vacuumed: {tables:?}"
        );
    }
}
