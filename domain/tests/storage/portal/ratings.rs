//! Rating links: used once, changed within seven days, and counted in the satisfaction report.

use super::*;
use crate::helpers::{TestEnv, agent, new_ticket, queued_emails};
use chrono::{Duration, Utc};
use domain::{
    Error,
    workspace::{
        customers, outbox,
        portal::{self, PortalSettings},
        ratings::{self, Score},
        tickets::{self, Kind, Status},
    },
};

testkit::both_backends!(setup = crate::helpers::env; rating_links_work_once_change_within_seven_days_and_feed_the_report);

async fn rating_links_work_once_change_within_seven_days_and_feed_the_report(env: TestEnv) {
    let a = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(a.id).await.unwrap();
    let me = agent(1, "Ada Agent", "acme");
    let now = Utc::now();
    let ticket = tickets::create(&ws, &me, &new_ticket("carl@example.com", "Broken", "Help"), now)
        .await
        .unwrap();
    assert_eq!(ratings::of_ticket(&ws, ticket.id).await.unwrap(), None);
    tickets::add_message(&ws, &me, ticket.id, Kind::Reply, "Fixed it.", Some(Status::Solved), now)
        .await
        .unwrap();
    outbox::relay(env.router.landlord(), &ws, now).await.unwrap();
    let mails = queued_emails(&env).await;
    let rating_mail = mails
        .iter()
        .find(|m| m.text.contains("How did we do?"))
        .expect("a rating mail");
    assert_eq!(rating_mail.to, "carl@example.com");
    let token = token_after(&rating_mail.text, "https://desk.example/p/acme/rate/");
    assert!(rating_mail.text.contains(&format!("{token}?r=good")));

    let pending = ratings::peek(&ws, &token, now).await.unwrap();
    assert_eq!((pending.ticket_number, pending.rating), (ticket.number, None));
    let next = ratings::rate(&ws, &token, Score::Good, "Quick!", now).await.unwrap();
    assert_ne!(next, token);
    assert!(
        matches!(
            ratings::rate(&ws, &token, Score::Bad, "", now).await,
            Err(Error::NotFound)
        ),
        "used once"
    );
    assert!(matches!(ratings::peek(&ws, &token, now).await, Err(Error::NotFound)));
    let rating = ratings::of_ticket(&ws, ticket.id).await.unwrap().unwrap();
    assert_eq!(
        (rating.rating.as_deref(), rating.comment.as_str()),
        (Some("good"), "Quick!")
    );
    // Changed with the new token; the old one stays dead.
    let later = now + Duration::days(6);
    let third = ratings::rate(&ws, &next, Score::Bad, "Came back", later).await.unwrap();
    let rating = ratings::of_ticket(&ws, ticket.id).await.unwrap().unwrap();
    assert_eq!(rating.rating.as_deref(), Some("bad"));
    assert_eq!(
        rating.rated_at.map(|t| t.timestamp()),
        Some(now.timestamp()),
        "first given, not changed"
    );
    // Seven days after solving, the link is dead.
    let expired = now + ratings::WINDOW + Duration::seconds(1);
    assert!(matches!(
        ratings::rate(&ws, &third, Score::Good, "", expired).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        ratings::peek(&ws, &third, expired).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        ratings::rate(&ws, &third, Score::Good, &"x".repeat(2_001), later).await,
        Err(Error::Field { field: "comment", .. })
    ));
    let thread = tickets::thread(&ws, ticket.id, true).await.unwrap();
    assert!(
        thread
            .iter()
            .any(|m| m.kind == "event" && m.body.contains("Rated the help: good")),
        "{thread:?}"
    );

    // The report counts the rating in the week it was first given.
    let weeks = ratings::weekly(&ws, 12, later).await.unwrap();
    assert_eq!(weeks.len(), 12);
    assert_eq!(weeks.iter().map(|w| w.good + w.bad).sum::<i64>(), 1);
    let week = weeks.iter().find(|w| w.bad == 1).unwrap();
    assert_eq!(week.percent_good(), Some(0));
    assert!(week.starts <= now.date_naive() && now.date_naive() < week.starts + Duration::days(7));

    // A customer closing their own ticket is not asked to rate it.
    let other = tickets::create(&ws, &me, &new_ticket("dana@example.com", "Q", "?"), now)
        .await
        .unwrap();
    let dana = customers::get(&ws, other.requester_id).await.unwrap();
    portal::close(
        &ws,
        &customer_actor(&dana, "acme"),
        &dana,
        &PortalSettings::default(),
        other.number,
        now,
    )
    .await
    .unwrap();
    assert_eq!(ratings::of_ticket(&ws, other.id).await.unwrap(), None);
}
