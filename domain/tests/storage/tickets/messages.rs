//! Replies and notes: who they reach, editing one's own for a while, and mail that carries no live markup.

use super::*;
use crate::helpers::{TestEnv, agent, new_ticket, queued_emails};
use chrono::{Duration, Utc};
use domain::{
    Error,
    workspace::{
        outbox, search,
        tickets::{self, Assignee, Author, Kind, Status},
    },
};

testkit::both_backends!(setup = crate::helpers::env; replies_reach_the_requester_and_notes_never_do, own_messages_can_be_edited_for_a_while, mail_about_tickets_carries_no_live_markup);

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
        tickets::get(&ws, tickets::TicketNumber(ticket.number))
            .await
            .unwrap()
            .status,
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
