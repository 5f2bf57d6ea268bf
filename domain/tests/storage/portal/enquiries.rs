//! The public enquiry form: an enquiry becomes a ticket, and a refused one records nothing.

use crate::helpers::{TestEnv, agent, all_tickets, queued_emails};
use chrono::{Duration, Utc};
use domain::{
    Error,
    workspace::{
        customers, outbox,
        portal::{self, Enquiry},
        tickets::{self, Actor, Author},
    },
};

testkit::both_backends!(setup = crate::helpers::env; enquiries_become_tickets_and_refusals_record_nothing);

fn enquiry(message: &str) -> Enquiry {
    Enquiry {
        name: "Erin Example".into(),
        email: "Erin@Shop.example".into(),
        company: "Shop Ltd".into(),
        phone: "+44 20 7946 0000".into(),
        message: message.into(),
    }
}

async fn enquiries_become_tickets_and_refusals_record_nothing(env: TestEnv) {
    let a = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(a.id).await.unwrap();
    let now = Utc::now();
    let base = Actor {
        author: Author::System,
        ..agent(0, "", "acme")
    };
    let ticket = portal::submit_enquiry(
        &ws,
        &enquiry("Do you ship to Norway?\nWe need 40 units."),
        2,
        &base,
        now,
    )
    .await
    .unwrap();
    assert_eq!(ticket.subject, "Enquiry: Do you ship to Norway?");
    assert_eq!(ticket.requester_email, "erin@shop.example");
    assert_eq!(ticket.requester_name, "Erin Example");
    let category = tickets::categories(&ws).await.unwrap();
    assert_eq!(category.len(), 1);
    assert_eq!(category[0].name, "Enquiry");
    assert_eq!(ticket.category_id, Some(category[0].id));
    let thread = tickets::thread(&ws, ticket.id, false).await.unwrap();
    assert_eq!(
        thread[0].author_customer_id,
        Some(ticket.requester_id),
        "written by the sender"
    );
    assert!(thread[0].body.contains("Company: Shop Ltd"), "{}", thread[0].body);
    assert!(thread[0].body.contains("Phone: +44 20 7946 0000"));
    let customer = customers::get(&ws, ticket.requester_id).await.unwrap();
    assert_eq!(customer.email, "erin@shop.example");
    outbox::relay(env.router.landlord(), &ws, now).await.unwrap();
    let mails = queued_emails(&env).await;
    assert_eq!(mails.len(), 1, "one confirmation");
    assert_eq!(mails[0].to, "erin@shop.example");
    assert!(
        mails[0].text.contains("https://desk.example/p/acme/tickets/1"),
        "{}",
        mails[0].text
    );

    // Bad input: an error naming the field, and nothing written.
    for (bad, field) in [
        (
            Enquiry {
                name: " ".into(),
                ..enquiry("x")
            },
            "name",
        ),
        (
            Enquiry {
                email: "erin@".into(),
                ..enquiry("x")
            },
            "email",
        ),
        (
            Enquiry {
                phone: "call me".into(),
                ..enquiry("x")
            },
            "phone",
        ),
        (enquiry("   "), "message"),
        (enquiry(&"x".repeat(10_001)), "message"),
    ] {
        match portal::submit_enquiry(&ws, &bad, 2, &base, now).await {
            Err(Error::Field { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    portal::submit_enquiry(&ws, &enquiry("Second question"), 2, &base, now)
        .await
        .unwrap();
    // The workspace's daily cap (2) is reached: refused, nothing recorded.
    let refused = portal::submit_enquiry(
        &ws,
        &Enquiry {
            email: "frank@else.example".into(),
            ..enquiry("Third")
        },
        2,
        &base,
        now,
    )
    .await;
    assert!(matches!(refused, Err(Error::Limited { .. })), "{refused:?}");
    assert_eq!(all_tickets(&ws).await.len(), 2);
    assert_eq!(
        customers::list(&ws).await.unwrap().len(),
        1,
        "no customer for a refused enquiry"
    );
    assert_eq!(portal::enquiries_since(&ws, now - Duration::days(1)).await.unwrap(), 2);
    // A day later there is room again.
    portal::submit_enquiry(
        &ws,
        &enquiry("Next day"),
        2,
        &base,
        now + Duration::days(1) + Duration::seconds(1),
    )
    .await
    .unwrap();
}
