//! The ticket list: filters, sorting, pages, counts, saved views, and the recently solved list.

use crate::helpers::{TestEnv, agent, all_tickets, new_ticket};
use chrono::{Duration, Utc};
use domain::{
    Error,
    workspace::{
        tickets::{self, Assignee, Changes, Priority, Status},
        views::{self, AssigneeFilter, Cursor, Filter, Sort},
    },
};

testkit::both_backends!(setup = crate::helpers::env; the_list_filters_sorts_pages_and_counts, recently_solved_follows_solves_reopens_and_the_clock);

async fn the_list_filters_sorts_pages_and_counts(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let me = agent(1, "Ada Agent", "acme");
    let start = Utc::now() - Duration::days(30);
    let billing = tickets::create_category(&ws, &me, "Billing", start).await.unwrap();
    for i in 0..25 {
        let mut new = new_ticket(&format!("c{}@example.com", i % 3), &format!("Ticket {i}"), "body");
        if i % 5 == 0 {
            new.assignee = Some(Assignee {
                account_id: 1,
                name: "Ada Agent".into(),
                email: "ada@desk.example".into(),
            });
        }
        if i % 2 == 0 {
            new.category_id = Some(billing.id);
            new.tags = vec!["even".into()];
        }
        let t = tickets::create(&ws, &me, &new, start + Duration::minutes(i))
            .await
            .unwrap();
        if i % 4 == 0 {
            let solved = Changes {
                status: Some(Status::Solved),
                ..Default::default()
            };
            tickets::update(&ws, &me, t.id, &solved, Utc::now() - Duration::days(i % 12))
                .await
                .unwrap();
        }
    }
    let counts = views::counts(&ws, 1, Utc::now()).await.unwrap();
    // Solved: 0, 4, 8, 12, 16, 20, 24 (7); solved within 7 days: i % 12 < 7 → 0, 4, 12, 16, 24.
    assert_eq!(counts.all_open, 18);
    assert_eq!(counts.my_open, 3, "5, 10, 15 (0 and 20 are solved)");
    assert_eq!(counts.unassigned, 15);
    assert_eq!(counts.recently_solved, 5);

    // Keyset pages of 10, by last update, cover every ticket once.
    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = views::list(&ws, &Filter::default(), Sort::Updated, cursor.as_ref(), 10)
            .await
            .unwrap();
        assert!(
            page.tickets
                .windows(2)
                .all(|w| (w[0].updated_at, w[0].id) > (w[1].updated_at, w[1].id))
        );
        seen.extend(page.tickets.iter().map(|t| t.number));
        match page.next {
            Some(next) => cursor = Some(Cursor::parse(&next, Sort::Updated).unwrap()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, (1..=25).collect::<Vec<_>>());

    let count = async |filter: Filter| {
        views::list(&ws, &filter, Sort::Newest, None, 100)
            .await
            .unwrap()
            .tickets
            .len()
    };
    assert_eq!(
        count(Filter {
            statuses: Status::UNSOLVED.to_vec(),
            ..Default::default()
        })
        .await,
        18
    );
    assert_eq!(
        count(Filter {
            assignee: Some(AssigneeFilter::Unassigned),
            ..Default::default()
        })
        .await,
        20
    );
    assert_eq!(
        count(Filter {
            assignee: Some(AssigneeFilter::Account(1)),
            ..Default::default()
        })
        .await,
        5
    );
    assert_eq!(
        count(Filter {
            category_id: Some(billing.id),
            ..Default::default()
        })
        .await,
        13
    );
    assert_eq!(
        count(Filter {
            tag: Some("even".into()),
            ..Default::default()
        })
        .await,
        13
    );
    assert_eq!(
        count(Filter {
            requester: Some("C1@example.com".into()),
            ..Default::default()
        })
        .await,
        8
    );
    assert_eq!(
        count(Filter {
            priority: Some(Priority::Urgent),
            ..Default::default()
        })
        .await,
        0
    );
    let oldest = views::list(&ws, &Filter::default(), Sort::Oldest, None, 1)
        .await
        .unwrap();
    assert_eq!(
        oldest.tickets[0].number, 2,
        "ticket 1 was solved later than ticket 2 was opened"
    );

    // Bulk: all or nothing.
    let ids: Vec<i64> = all_tickets(&ws).await.iter().take(3).map(|t| t.id).collect();
    let bulk = Changes {
        priority: Some(Priority::Urgent),
        add_tags: vec!["bulk".into()],
        ..Default::default()
    };
    assert_eq!(
        tickets::update_many(&ws, &me, &ids, &bulk, Utc::now()).await.unwrap(),
        3
    );
    assert_eq!(
        count(Filter {
            priority: Some(Priority::Urgent),
            ..Default::default()
        })
        .await,
        3
    );
    let with_missing = [ids[0], 99_999];
    let bad = Changes {
        priority: Some(Priority::Low),
        ..Default::default()
    };
    assert!(
        tickets::update_many(&ws, &me, &with_missing, &bad, Utc::now())
            .await
            .is_err()
    );
    assert_eq!(
        count(Filter {
            priority: Some(Priority::Low),
            ..Default::default()
        })
        .await,
        0,
        "nothing changed"
    );

    // Saved views belong to their agent.
    let view = views::save_view(&ws, 1, "Urgent", "priority=urgent", Utc::now())
        .await
        .unwrap();
    assert_eq!(views::saved_views(&ws, 1).await.unwrap(), vec![view.clone()]);
    assert!(views::saved_views(&ws, 2).await.unwrap().is_empty());

    // The navigation and the list page's filter choices are what the separate reads give, one query each.
    tickets::create_category(&ws, &me, "Accounts", start).await.unwrap();
    views::save_view(&ws, 1, "Mine", "assignee=me", Utc::now())
        .await
        .unwrap();
    views::save_view(&ws, 2, "Theirs", "assignee=2", Utc::now())
        .await
        .unwrap();
    let now = Utc::now();
    for agent in [1, 2, 3] {
        let nav = views::nav(&ws, agent, now).await.unwrap();
        assert_eq!(nav.counts, views::counts(&ws, agent, now).await.unwrap());
        assert_eq!(nav.saved, views::saved_views(&ws, agent).await.unwrap());
    }
    let panel = views::panel(&ws).await.unwrap();
    assert_eq!(panel.categories, tickets::categories(&ws).await.unwrap());
    assert_eq!(panel.tags, tickets::all_tags(&ws).await.unwrap());
    let nav = views::nav(&ws, 1, now).await.unwrap();
    assert_eq!(nav.counts.my_open, 3);
    let names = |v: &[views::SavedView]| v.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&nav.saved), ["Mine", "Urgent"]);
    assert_eq!(
        panel.categories.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Accounts", "Billing"]
    );
    assert_eq!(panel.tags, ["bulk", "even"]);
    assert!(matches!(
        views::delete_view(&ws, 2, view.id).await,
        Err(Error::NotFound)
    ));
    views::delete_view(&ws, 1, view.id).await.unwrap();
}

async fn recently_solved_follows_solves_reopens_and_the_clock(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let me = agent(1, "Ada Agent", "acme");
    let now = Utc::now();
    let status = |status| Changes {
        status: Some(status),
        ..Default::default()
    };
    // Solved from now back to 9 days ago, 111 minutes and a few odd milliseconds apart: across hour
    // boundaries and on both sides of the seven days.
    let mut ids = Vec::new();
    for i in 0..120 {
        let at = now - Duration::minutes(111 * i) - Duration::milliseconds(1_237 * i);
        let new = new_ticket("c@example.com", &format!("Ticket {i}"), "x");
        let t = tickets::create(&ws, &me, &new, at - Duration::hours(1)).await.unwrap();
        tickets::update(&ws, &me, t.id, &status(Status::Solved), at)
            .await
            .unwrap();
        ids.push(t.id);
    }
    // What the counts must say at `when`: the stored tickets solved since the minute that began seven days
    // before it.
    let check = async |label: &str| {
        let stored = all_tickets(&ws).await;
        for when in [
            now,
            now + Duration::minutes(17),
            now + Duration::minutes(63) + Duration::seconds(5),
            now - Duration::days(1) + Duration::milliseconds(400),
            now + Duration::days(2),
        ] {
            let exact = when - views::RECENTLY;
            let since = exact
                - Duration::seconds(exact.timestamp().rem_euclid(60))
                - Duration::nanoseconds(exact.timestamp_subsec_nanos().into());
            let expected = stored
                .iter()
                .filter(|t| t.solved_at.is_some_and(|s| s >= since))
                .count() as i64;
            let counts = views::counts(&ws, 1, when).await.unwrap();
            assert_eq!(counts.recently_solved, expected, "{label}, at {when}");
            assert_eq!(views::nav(&ws, 1, when).await.unwrap().counts, counts, "{label}");
        }
    };
    check("solved").await;
    assert_eq!(
        views::counts(&ws, 1, now).await.unwrap().recently_solved,
        91,
        "7 days are 90.8 steps of 111 minutes"
    );

    // Closing a solved ticket keeps its solved time; reopening one takes it out.
    for (i, id) in ids.iter().enumerate().step_by(3) {
        let to = if i % 2 == 0 { Status::Closed } else { Status::Open };
        tickets::update(&ws, &me, *id, &status(to), now).await.unwrap();
    }
    check("closed and reopened one by one").await;

    // Two bulk changes at once, over tickets solved in the same hours taken in opposite orders.
    let evens: Vec<i64> = ids.iter().copied().skip(1).step_by(2).collect();
    let odds: Vec<i64> = ids.iter().copied().skip(2).step_by(2).rev().collect();
    let (reopen, pend) = (status(Status::Open), status(Status::Pending));
    let (a, b) = tokio::join!(
        tickets::update_many(&ws, &me, &evens, &reopen, now),
        tickets::update_many(&ws, &me, &odds, &pend, now),
    );
    assert!(a.unwrap() > 0 && b.unwrap() > 0);
    check("reopened in bulk").await;
    assert_eq!(views::counts(&ws, 1, now).await.unwrap().recently_solved, 1);

    let later = now + Duration::minutes(30);
    assert_eq!(
        tickets::update_many(&ws, &me, &ids, &status(Status::Solved), later)
            .await
            .unwrap(),
        120,
        "the closed one becomes solved again too"
    );
    check("solved again in bulk").await;
    assert_eq!(views::counts(&ws, 1, later).await.unwrap().recently_solved, 120);
}
