//! A workspace's start page for one member: their open tickets, the unassigned ones, what others changed
//! since their previous visit (a visit ends after 30 minutes without a look), and the checklist's marker for
//! the embedded form.

use crate::helpers::{TestEnv, agent, new_ticket};
use chrono::{DateTime, Duration, Utc};
use domain::workspace::{
    home,
    tickets::{self, Assignee, Changes, Status},
};

testkit::both_backends!(setup = crate::helpers::env; the_start_page_shows_my_work_and_what_others_changed_since_my_last_visit);

async fn the_start_page_shows_my_work_and_what_others_changed_since_my_last_visit(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let (me, bob) = (agent(1, "Ada Agent", "acme"), agent(2, "Bob Agent", "acme"));
    // Whole seconds: PostgreSQL keeps microseconds, and the visits' times are compared for equality.
    let t0 = DateTime::from_timestamp((Utc::now() - Duration::hours(5)).timestamp(), 0).unwrap();
    let at = |minutes: i64| t0 + Duration::minutes(minutes);
    let subjects = |list: &[tickets::Ticket]| list.iter().map(|t| t.subject.clone()).collect::<Vec<_>>();

    // The first look has nothing to compare with.
    let first = home::look(&ws, 1, at(0)).await.unwrap();
    assert_eq!(first.since, None);
    assert!(first.changed.is_empty() && first.my_open.is_empty() && first.unassigned.is_empty());
    assert!(!first.form_used);

    let mut mine = new_ticket("c@example.com", "Assigned to Ada by Bob", "x");
    mine.assignee = Some(Assignee {
        account_id: 1,
        name: "Ada Agent".into(),
        email: "ada@desk.example".into(),
    });
    tickets::create(&ws, &bob, &mine, at(10)).await.unwrap();
    let own = tickets::create(&ws, &me, &new_ticket("d@example.com", "Opened by Ada", "x"), at(20))
        .await
        .unwrap();
    tickets::create(&ws, &bob, &new_ticket("e@example.com", "Opened by Bob", "x"), at(30))
        .await
        .unwrap();

    // A look 15 minutes on is the same visit: still nothing to compare with.
    assert_eq!(home::look(&ws, 1, at(15)).await.unwrap().since, None);

    // Two hours on, a new visit: since the end of the previous one (minute 15), Bob's ticket of minute 30
    // changed; Bob's of minute 10 is older, and Ada's own is not news to her.
    let second = home::look(&ws, 1, at(120)).await.unwrap();
    assert_eq!(second.since, Some(at(15)));
    assert_eq!(subjects(&second.changed), ["Opened by Bob"]);
    assert!(!second.more_changed);
    assert_eq!(subjects(&second.my_open), ["Assigned to Ada by Bob"]);
    assert_eq!(subjects(&second.unassigned), ["Opened by Bob", "Opened by Ada"]);
    assert_eq!(second.counts.my_open, 1);
    assert_eq!(second.counts.unassigned, 2);

    // Bob changes Ada's ticket during the visit: it shows, last changed first, against the same start.
    let pending = Changes {
        status: Some(Status::Pending),
        ..Default::default()
    };
    tickets::update(&ws, &bob, own.id, &pending, at(125)).await.unwrap();
    let third = home::look(&ws, 1, at(130)).await.unwrap();
    assert_eq!(third.since, Some(at(15)));
    assert_eq!(subjects(&third.changed), ["Opened by Ada", "Opened by Bob"]);

    // Another member's visits are their own.
    assert_eq!(home::look(&ws, 2, at(130)).await.unwrap().since, None);

    // More changes than the page lists.
    for i in 0..home::SHOWN {
        tickets::create(
            &ws,
            &bob,
            &new_ticket("f@example.com", &format!("Batch {i}"), "x"),
            at(140 + i as i64),
        )
        .await
        .unwrap();
    }
    let fourth = home::look(&ws, 1, at(150)).await.unwrap();
    assert_eq!(fourth.changed.len(), home::SHOWN);
    assert!(fourth.more_changed);
    assert_eq!(fourth.unassigned.len(), home::SHOWN);

    // The first enquiry through the embedded form is noted once; a second changes nothing.
    home::note_embedded_form_used(&ws, at(160)).await.unwrap();
    home::note_embedded_form_used(&ws, at(170)).await.unwrap();
    assert!(home::look(&ws, 1, at(180)).await.unwrap().form_used);
}
