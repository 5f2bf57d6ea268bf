use crate::{
    helpers::{TestEnv, agent, all_tickets, new_ticket, queued_emails},
    on_both_backends,
};
use chrono::{Duration, SubsecRound, Utc};
use domain::{
    Error,
    workspace::{
        attachments::{self, FileStore, Limits, Upload},
        audit, outbox, search,
        tickets::{self, Assignee, Author, Changes, Kind, Priority, Status},
        views::{self, AssigneeFilter, Cursor, Filter, Sort},
    },
};

fn bob() -> Assignee {
    Assignee {
        account_id: 2,
        name: "Bob Agent".into(),
        email: "bob@desk.example".into(),
    }
}

on_both_backends!(tickets_are_numbered_and_requesters_are_made_on_the_fly);
async fn tickets_are_numbered_and_requesters_are_made_on_the_fly(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let me = agent(1, "Ada Agent", "acme");
    let now = Utc::now();
    let first = tickets::create(
        &ws,
        &me,
        &new_ticket("Carl@Example.com", "Printer on fire", "It *smokes*."),
        now,
    )
    .await
    .unwrap();
    let mut second = new_ticket("carl@example.com", "Still on fire", "Help");
    second.requester_name = "Carl".into();
    second.priority = Some(Priority::Urgent);
    second.tags = tickets::parse_tags("Printer, vip").unwrap();
    let second = tickets::create(&ws, &me, &second, now).await.unwrap();
    assert_eq!((first.number, second.number), (1, 2));
    assert_eq!(first.requester_id, second.requester_id, "one customer per address");
    assert_eq!(first.requester_email, "carl@example.com");
    assert_eq!((first.status.as_str(), second.priority.as_str()), ("new", "urgent"));
    assert_eq!(tickets::tags(&ws, second.id).await.unwrap(), vec!["printer", "vip"]);
    let thread = tickets::thread(&ws, first.id, false).await.unwrap();
    assert_eq!(thread.len(), 1);
    assert_eq!(thread[0].html, "<p>It <em>smokes</em>.</p>\n");
    assert_eq!(thread[0].author_name, "Ada Agent");

    for (bad, wrong) in [
        (new_ticket("not an address", "Subject", "Body"), "requester_email"),
        (new_ticket("c@example.com", "", "Body"), "subject"),
        (new_ticket("c@example.com", "Subject", "   "), "body"),
        (
            new_ticket("c@example.com", "Line\r\nBcc: x@example.com", "Body"),
            "subject",
        ),
    ] {
        assert!(
            matches!(tickets::create(&ws, &me, &bad, now).await, Err(Error::Field { field, .. }) if field == wrong),
            "{bad:?}"
        );
    }
    assert_eq!(all_tickets(&ws).await.len(), 2, "refused tickets leave nothing behind");
    // The requester got a confirmation for each ticket, threaded by Message-ID.
    outbox::relay(env.router.landlord(), &ws, now).await.unwrap();
    let mails = queued_emails(&env).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[0].to, "carl@example.com");
    assert_eq!(mails[0].subject, "[#1] Printer on fire");
    assert_eq!(
        mails[0].message_id.as_deref(),
        Some(format!("<acme.1.{}@desk.example>", thread[0].id).as_str()),
        "the first message's Message-ID: workspace, ticket number, message id"
    );
    assert_eq!(mails[0].in_reply_to, None, "it starts the thread");
    assert_eq!(outbox::waiting(&ws).await.unwrap(), 0);
}

on_both_backends!(changes_become_events_audit_entries_and_notices);
async fn changes_become_events_audit_entries_and_notices(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let me = agent(1, "Ada Agent", "acme");
    let now = Utc::now();
    let ticket = tickets::create(&ws, &me, &new_ticket("carl@example.com", "Refund", "Please"), now)
        .await
        .unwrap();
    // PostgreSQL keeps microseconds.
    let now = now.trunc_subsecs(6);
    let category = tickets::create_category(&ws, &me, "Billing", now).await.unwrap();
    let later = now + Duration::minutes(5);
    let changes = Changes {
        status: Some(Status::Solved),
        priority: Some(Priority::High),
        assignee: Some(Some(bob())),
        category_id: Some(Some(category.id)),
        add_tags: vec!["refund".into()],
        ..Changes::default()
    };
    let after = tickets::update(&ws, &me, ticket.id, &changes, later).await.unwrap();
    assert_eq!(after.status, "solved");
    assert_eq!(after.solved_at, Some(later));
    assert_eq!(after.updated_at, later);
    assert_eq!(after.assignee_name.as_deref(), Some("Bob Agent"));
    assert_eq!(after.category_id, Some(category.id));
    let events: Vec<String> = tickets::thread(&ws, ticket.id, false)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "event")
        .map(|m| m.body)
        .collect();
    assert_eq!(
        events,
        [
            "Status: New → Solved",
            "Priority: Normal → High",
            "Assigned to Bob Agent",
            "Category: Billing",
            "Tagged refund"
        ]
    );
    // The same changes again change nothing and record nothing.
    tickets::update(&ws, &me, ticket.id, &changes, later + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(tickets::thread(&ws, ticket.id, false).await.unwrap().len(), 6);
    let audit = audit::list(&ws).await.unwrap();
    let update = audit.iter().find(|e| e.action == "ticket.updated").unwrap();
    assert_eq!(
        (update.actor.as_str(), update.ip.as_deref()),
        ("account:1", Some("192.0.2.7"))
    );
    assert_eq!(audit.iter().filter(|e| e.action == "ticket.updated").count(), 1);
    // Reopening clears the solved time; a category that does not exist is refused.
    let reopened = tickets::update(
        &ws,
        &me,
        ticket.id,
        &Changes {
            status: Some(Status::Open),
            ..Default::default()
        },
        later,
    )
    .await
    .unwrap();
    assert_eq!(reopened.solved_at, None);
    let bad = Changes {
        category_id: Some(Some(9999)),
        ..Default::default()
    };
    assert!(matches!(
        tickets::update(&ws, &me, ticket.id, &bad, later).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        tickets::update(&ws, &me, 9999, &changes, later).await,
        Err(Error::NotFound)
    ));

    outbox::relay(env.router.landlord(), &ws, now).await.unwrap();
    let mails = queued_emails(&env).await;
    let to_bob: Vec<_> = mails.iter().filter(|m| m.to == "bob@desk.example").collect();
    assert_eq!(to_bob.len(), 1, "one notice of the assignment");
    assert!(to_bob[0].text.contains("https://desk.example/w/acme/tickets/1"));
}

on_both_backends!(replies_reach_the_requester_and_notes_never_do);
async fn replies_reach_the_requester_and_notes_never_do(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let me = agent(1, "Ada Agent", "acme");
    let now = Utc::now();
    let mut new = new_ticket("carl@example.com", "Login fails", "Cannot sign in");
    new.assignee = Some(bob());
    let ticket = tickets::create(&ws, &me, &new, now).await.unwrap();
    let reply = tickets::add_message(
        &ws,
        &me,
        ticket.id,
        Kind::Reply,
        "Try **this**.",
        Some(Status::Pending),
        now,
    )
    .await
    .unwrap();
    tickets::add_message(
        &ws,
        &me,
        ticket.id,
        Kind::Note,
        "SECRET-NOTE: customer is on the old plan",
        None,
        now,
    )
    .await
    .unwrap();
    let customer = tickets::Actor {
        author: Author::Customer {
            customer_id: ticket.requester_id,
            name: "Carl".into(),
        },
        ..me.clone()
    };
    tickets::add_message(&ws, &customer, ticket.id, Kind::Reply, "Works now, thanks", None, now)
        .await
        .unwrap();
    assert!(
        matches!(
            tickets::add_message(&ws, &customer, ticket.id, Kind::Note, "x", None, now).await,
            Err(Error::NotFound)
        ),
        "customers cannot write notes"
    );
    let public = tickets::thread(&ws, ticket.id, true).await.unwrap();
    assert!(public.iter().all(|m| m.kind != "note"));
    assert!(!format!("{public:?}").contains("SECRET-NOTE"));
    let all = tickets::thread(&ws, ticket.id, false).await.unwrap();
    assert!(all.iter().any(|m| m.kind == "note"));
    assert_eq!(
        tickets::get(&ws, ticket.number).await.unwrap().status,
        "open",
        "the customer's answer reopened it"
    );

    outbox::relay(env.router.landlord(), &ws, now).await.unwrap();
    let mails = queued_emails(&env).await;
    assert!(
        mails
            .iter()
            .all(|m| !m.text.contains("SECRET-NOTE") && !m.html.as_deref().unwrap_or("").contains("SECRET-NOTE"))
    );
    let to_carl: Vec<_> = mails.iter().filter(|m| m.to == "carl@example.com").collect();
    assert_eq!(to_carl.len(), 2, "the confirmation and the reply");
    assert!(to_carl[1].html.as_deref().unwrap().contains("<strong>this</strong>"));
    assert_eq!(
        to_carl[1].in_reply_to, to_carl[0].message_id,
        "the reply threads under the first mail"
    );
    assert!(
        to_carl[1]
            .message_id
            .as_deref()
            .unwrap()
            .contains(&format!(".{reply}@"))
    );
    let to_bob: Vec<_> = mails.iter().filter(|m| m.to == "bob@desk.example").collect();
    assert_eq!(to_bob.len(), 2, "the assignment and the customer's answer");
    assert!(to_bob[1].text.contains("Works now"));
}

on_both_backends!(own_messages_can_be_edited_for_a_while);
async fn own_messages_can_be_edited_for_a_while(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let me = agent(1, "Ada Agent", "acme");
    let other = agent(2, "Bob Agent", "acme");
    let now = Utc::now();
    let ticket = tickets::create(&ws, &me, &new_ticket("c@example.com", "Typo", "x"), now)
        .await
        .unwrap();
    let note = tickets::add_message(&ws, &me, ticket.id, Kind::Note, "teh note", None, now)
        .await
        .unwrap();
    let edited = tickets::edit_message(
        &ws,
        &me,
        ticket.id,
        note,
        "the *note* zebrafish",
        now + Duration::minutes(14),
    )
    .await
    .unwrap();
    assert_eq!(edited.html, "<p>the <em>note</em> zebrafish</p>\n");
    assert!(edited.edited_at.is_some());
    assert_eq!(
        search::search(&ws, "zebrafish", 10).await.unwrap().len(),
        1,
        "search follows the edit"
    );
    assert!(matches!(
        tickets::edit_message(&ws, &other, ticket.id, note, "mine now", now).await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        tickets::edit_message(&ws, &me, ticket.id, note, "too late", now + Duration::minutes(16)).await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        tickets::edit_message(&ws, &me, ticket.id, 9999, "x", now).await,
        Err(Error::NotFound)
    ));
}

on_both_backends!(the_list_filters_sorts_pages_and_counts);
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

    // The list page's side panel is what the separate reads give, in one query.
    tickets::create_category(&ws, &me, "Accounts", start).await.unwrap();
    views::save_view(&ws, 1, "Mine", "assignee=me", Utc::now())
        .await
        .unwrap();
    views::save_view(&ws, 2, "Theirs", "assignee=2", Utc::now())
        .await
        .unwrap();
    let now = Utc::now();
    for agent in [1, 2, 3] {
        let panel = views::panel(&ws, agent, now).await.unwrap();
        assert_eq!(panel.counts, views::counts(&ws, agent, now).await.unwrap());
        assert_eq!(panel.categories, tickets::categories(&ws).await.unwrap());
        assert_eq!(panel.tags, tickets::all_tags(&ws).await.unwrap());
        assert_eq!(panel.saved, views::saved_views(&ws, agent).await.unwrap());
    }
    let panel = views::panel(&ws, 1, now).await.unwrap();
    assert_eq!(panel.counts.my_open, 3);
    let names = |v: &[views::SavedView]| v.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&panel.saved), ["Mine", "Urgent"]);
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

on_both_backends!(recently_solved_follows_solves_reopens_and_the_clock);
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
            assert_eq!(views::panel(&ws, 1, when).await.unwrap().counts, counts, "{label}");
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

on_both_backends!(search_ranks_highlights_and_escapes);
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

on_both_backends!(attachments_are_typed_by_content_limited_and_scoped_to_their_ticket);
async fn attachments_are_typed_by_content_limited_and_scoped_to_their_ticket(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let store = FileStore::new(&env.config.data_dir);
    let me = agent(1, "Ada Agent", "acme");
    let now = Utc::now();
    let one = tickets::create(&ws, &me, &new_ticket("a@example.com", "One", "x"), now)
        .await
        .unwrap();
    let two = tickets::create(&ws, &me, &new_ticket("b@example.com", "Two", "x"), now)
        .await
        .unwrap();
    let png = Upload {
        file_name: "../../shot\r\n.png".into(),
        bytes: tiny_png(),
    };
    let log = Upload {
        file_name: "log.txt".into(),
        bytes: b"line 1\nline 2\n".to_vec(),
    };
    let limits = Limits::default();
    attachments::add_message_with_files(
        &ws,
        &store,
        &me,
        one.id,
        Kind::Reply,
        "See files",
        None,
        &[png, log],
        limits,
        now,
    )
    .await
    .unwrap();
    let secret = Upload {
        file_name: "internal.txt".into(),
        bytes: b"internal only".to_vec(),
    };
    attachments::add_message_with_files(
        &ws,
        &store,
        &me,
        one.id,
        Kind::Note,
        "Note",
        None,
        &[secret],
        limits,
        now,
    )
    .await
    .unwrap();
    let all = attachments::of_ticket(&ws, one.id, false).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(
        (all[0].file_name.as_str(), all[0].content_type.as_str()),
        ("shot.png", "image/png")
    );
    assert!(all[0].is_image());
    assert_eq!(all[1].content_type, "text/plain");
    assert_eq!(
        attachments::of_ticket(&ws, one.id, true).await.unwrap().len(),
        2,
        "a note's files are not public"
    );
    let (found, bytes) = attachments::open(&ws, &store, one.id, all[1].id).await.unwrap();
    assert_eq!((found.id, bytes.as_slice()), (all[1].id, &b"line 1\nline 2\n"[..]));
    assert!(
        matches!(
            attachments::open(&ws, &store, two.id, all[1].id).await,
            Err(Error::NotFound)
        ),
        "wrong ticket"
    );

    let svg = Upload {
        file_name: "logo.png".into(),
        bytes: b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".to_vec(),
    };
    let refused =
        attachments::add_message_with_files(&ws, &store, &me, two.id, Kind::Reply, "x", None, &[svg], limits, now)
            .await;
    assert!(
        matches!(refused, Err(Error::Invalid(ref m)) if m.contains("logo.png")),
        "{refused:?}"
    );
    let small = Limits {
        per_file: 1024,
        ..limits
    };
    let big = Upload {
        file_name: "big.bin".into(),
        bytes: vec![0; 2048],
    };
    let refused =
        attachments::add_message_with_files(&ws, &store, &me, two.id, Kind::Reply, "x", None, &[big], small, now).await;
    assert!(matches!(refused, Err(Error::TooLarge(_))));
    assert_eq!(
        tickets::thread(&ws, two.id, false).await.unwrap().len(),
        1,
        "refused messages leave nothing"
    );
    let files_dir = env.config.data_dir.join("files").join(workspace.id.to_string());
    assert_eq!(std::fs::read_dir(&files_dir).unwrap().count(), 3, "no stray files");
    // A message refused after the files were stored takes its files with it.
    let orphan = Upload {
        file_name: "a.txt".into(),
        bytes: b"a".to_vec(),
    };
    assert!(
        attachments::add_message_with_files(&ws, &store, &me, 9999, Kind::Reply, "x", None, &[orphan], limits, now)
            .await
            .is_err()
    );
    assert_eq!(std::fs::read_dir(&files_dir).unwrap().count(), 3);
}

fn tiny_png() -> Vec<u8> {
    // A 1×1 transparent PNG.
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend_from_slice(&[
        0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89,
    ]);
    png.extend_from_slice(&[
        0, 0, 0, 0x0A, b'I', b'D', b'A', b'T', 0x78, 0x9C, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0D, 0x0A, 0x2D, 0xB4,
    ]);
    png.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
    png
}

on_both_backends!(mail_about_tickets_carries_no_live_markup);
async fn mail_about_tickets_carries_no_live_markup(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let mut me = agent(1, "<img src=x onerror=alert('agent')>", "acme");
    me.workspace_name = "</p><script>alert('ws')</script>".into();
    let now = Utc::now();
    let payload =
        "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3)) <svg onload=alert(4)>";
    let mut new = new_ticket("carl@example.com", "<b>subject</b>", payload);
    new.requester_name = "<iframe src=javascript:alert(5)>".into();
    new.assignee = Some(Assignee {
        account_id: 2,
        name: "<b>Bob</b>".into(),
        email: "bob@desk.example".into(),
    });
    let ticket = tickets::create(&ws, &me, &new, now).await.unwrap();
    tickets::add_message(&ws, &me, ticket.id, Kind::Reply, payload, None, now)
        .await
        .unwrap();
    let customer = tickets::Actor {
        author: Author::Customer {
            customer_id: ticket.requester_id,
            name: "<script>alert(6)</script>".into(),
        },
        ..me.clone()
    };
    tickets::add_message(&ws, &customer, ticket.id, Kind::Reply, payload, None, now)
        .await
        .unwrap();
    outbox::relay(env.router.landlord(), &ws, now).await.unwrap();
    let mails = queued_emails(&env).await;
    assert_eq!(
        mails.len(),
        4,
        "confirmation, assignment, reply, the customer's answer to the assignee"
    );
    for mail in mails {
        let html = mail.html.unwrap().to_lowercase();
        // (Text such as "[x](javascript:…)" may remain, as text; no attribute carries it.)
        for live in [
            "<script",
            "<img",
            "<svg",
            "<iframe",
            "=\"javascript:",
            "='javascript:",
            "=javascript:",
            "<b>",
        ] {
            assert!(!html.contains(live), "{live} in {html}");
        }
        assert!(!html.trim().is_empty());
        assert!(!mail.subject.contains('\n'));
    }
}

on_both_backends!(seeded_workspaces_look_like_worked_ones);
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

on_both_backends!(concurrent_writes_to_one_workspace_all_succeed);
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
on_both_backends!(writers_that_fail_or_go_away_leave_the_others_whole);
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
on_both_backends!(statements_queued_in_a_transaction_run_at_its_commit);
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

on_both_backends!(relayed_mail_keeps_its_order_across_batches);
async fn relayed_mail_keeps_its_order_across_batches(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let me = agent(1, "Ada Agent", "acme");
    let now = Utc::now();
    // 450 confirmations: three batches of at most 200.
    for n in 0..450 {
        let ticket = new_ticket(&format!("c{n}@example.com"), &format!("Question {n}"), "Body");
        tickets::create(&ws, &me, &ticket, now).await.unwrap();
    }
    assert_eq!(outbox::waiting(&ws).await.unwrap(), 450);
    assert_eq!(outbox::relay(env.router.landlord(), &ws, now).await.unwrap(), 450);
    let mails: Vec<(String, String)> = queued_emails(&env)
        .await
        .into_iter()
        .map(|m| (m.to, m.subject))
        .collect();
    let expected: Vec<(String, String)> = (0..450)
        .map(|n| (format!("c{n}@example.com"), format!("[#{}] Question {n}", n + 1)))
        .collect();
    assert_eq!(mails, expected, "one job per message, in the outbox's order");
    assert_eq!(outbox::waiting(&ws).await.unwrap(), 0);
    assert_eq!(outbox::relay(env.router.landlord(), &ws, now).await.unwrap(), 0);
}

on_both_backends!(mail_that_commits_out_of_id_order_is_still_relayed);
/// On PostgreSQL a transaction takes its outbox id when it inserts and may commit after a later id; the
/// relay, running meanwhile, must not treat the highest id it read as a watermark (a row with a lower id
/// committing between its read and its delete was dropped unsent). Eight writers hold their transactions
/// open for a moment while the relay runs in a loop: every row reaches the queue, once.
async fn mail_that_commits_out_of_id_order_is_still_relayed(env: TestEnv) {
    const WRITERS: usize = 8;
    const EACH: usize = 60;
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let now = Utc::now();
    let insert = "insert into outbox (payload, created_at) values ($1, $2)";
    let writing = std::sync::atomic::AtomicBool::new(true);
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let ws = ws.clone();
            tokio::spawn(async move {
                for n in 0..EACH {
                    let mail = serde_json::to_string(&domain::mail::Email::new(
                        format!("w{w}n{n}@example.com"),
                        "Hello",
                        "text".into(),
                        "<p>text</p>".into(),
                    ))
                    .unwrap();
                    match ws.db() {
                        domain::db::Db::Postgres(pg) => {
                            let mut tx = pg.pool.begin().await.unwrap();
                            sqlx::query(insert)
                                .bind(&mail)
                                .bind(now)
                                .execute(&mut *tx)
                                .await
                                .unwrap();
                            // Held open a moment, so later ids commit first.
                            tokio::time::sleep(std::time::Duration::from_micros(((w * 7 + n * 13) % 5) as u64 * 300))
                                .await;
                            tx.commit().await.unwrap();
                        }
                        db => {
                            domain::on_write!(db, conn => sqlx::query(insert)
                            .bind(&mail)
                            .bind(now)
                            .execute(conn)
                            .await
                            .map(|done| done.rows_affected()))
                            .unwrap();
                        }
                    }
                }
            })
        })
        .collect();
    let relaying = async {
        let mut relayed = 0;
        while writing.load(std::sync::atomic::Ordering::Relaxed) {
            relayed += outbox::relay(env.router.landlord(), &ws, now).await.unwrap();
            tokio::task::yield_now().await;
        }
        relayed
    };
    let (_, relayed) = tokio::join!(
        async {
            for writer in writers {
                writer.await.unwrap();
            }
            writing.store(false, std::sync::atomic::Ordering::Relaxed);
        },
        relaying
    );
    let relayed = relayed + outbox::relay(env.router.landlord(), &ws, now).await.unwrap();
    assert_eq!(relayed, WRITERS * EACH);
    let mut to: Vec<String> = queued_emails(&env).await.into_iter().map(|mail| mail.to).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), WRITERS * EACH, "every mail queued once");
    assert_eq!(outbox::waiting(&ws).await.unwrap(), 0);
}
