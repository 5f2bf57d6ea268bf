//! Opening and changing tickets: numbers, requesters made on the fly, events, audit entries and notices.

use super::*;
use crate::helpers::{TestEnv, agent, all_tickets, new_ticket, queued_emails};
use chrono::{Duration, SubsecRound, Utc};
use domain::{
    Error,
    workspace::{
        audit, outbox,
        tickets::{self, Changes, Priority, Status},
    },
};

testkit::both_backends!(setup = crate::helpers::env; tickets_are_numbered_and_requesters_are_made_on_the_fly, changes_become_events_audit_entries_and_notices);

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
