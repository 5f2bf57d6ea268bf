use crate::{
    helpers::{TestEnv, agent, all_tickets, new_ticket, queued_emails},
    on_both_backends,
};
use chrono::{Duration, Utc};
use domain::{
    Error,
    auth::{portal as portal_auth, sign_ins::SessionPolicy},
    workspace::{
        attachments::{self, FileStore, Limits, Upload},
        customers,
        feedback::{self, NewItem, State, Voice},
        outbox,
        portal::{self, Enquiry, PortalSettings},
        ratings::{self, Score},
        tickets::{self, Actor, Author, Changes, Kind, Status},
    },
};

fn customer_actor(customer: &customers::Customer, slug: &str) -> Actor {
    Actor {
        author: Author::Customer {
            customer_id: customer.id,
            name: customer.name.clone(),
        },
        ..agent(0, "", slug)
    }
}

fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0u8; 32]);
    bytes
}

/// The token at the end of the first link in `text` that starts with `prefix`.
fn token_after(text: &str, prefix: &str) -> String {
    let start = text.find(prefix).unwrap_or_else(|| panic!("{prefix} in {text}")) + prefix.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

on_both_backends!(a_customer_reaches_only_their_own_tickets_public_messages_and_files);
async fn a_customer_reaches_only_their_own_tickets_public_messages_and_files(env: TestEnv) {
    let a = env.router.create_workspace("acme", "Acme").await.unwrap();
    let b = env.router.create_workspace("globex", "Globex").await.unwrap();
    let (wa, wb) = (
        env.router.open(a.id).await.unwrap(),
        env.router.open(b.id).await.unwrap(),
    );
    let store = FileStore::new(&env.config.data_dir);
    let now = Utc::now();
    let me = agent(1, "Ada Agent", "acme");
    let carl_ticket = tickets::create(&wa, &me, &new_ticket("carl@corp.example", "Carl's", "Hello"), now)
        .await
        .unwrap();
    let dana_ticket = tickets::create(&wa, &me, &new_ticket("dana@corp.example", "Dana's", "Hi"), now)
        .await
        .unwrap();
    // Workspace B has a ticket #1 as well, from the same address.
    tickets::create(
        &wb,
        &agent(1, "Bea", "globex"),
        &new_ticket("carl@corp.example", "B's", "x"),
        now,
    )
    .await
    .unwrap();
    let file = |name: &str| Upload {
        file_name: name.into(),
        bytes: png(),
    };
    attachments::add_message_with_files(
        &wa,
        &store,
        &me,
        carl_ticket.id,
        Kind::Reply,
        "Public",
        None,
        &[file("public.png")],
        Limits::default(),
        now,
    )
    .await
    .unwrap();
    attachments::add_message_with_files(
        &wa,
        &store,
        &me,
        carl_ticket.id,
        Kind::Note,
        "Secret note",
        None,
        &[file("secret.png")],
        Limits::default(),
        now,
    )
    .await
    .unwrap();
    let carl = portal::customer_for_sign_in(&wa, "Carl@Corp.example", now)
        .await
        .unwrap();
    assert_eq!(
        carl.id, carl_ticket.requester_id,
        "the sign-in finds the requester by address"
    );
    let private = PortalSettings::default();

    let mine = portal::tickets_of(&wa, &carl, &private).await.unwrap();
    assert_eq!(
        mine.iter().map(|t| t.number).collect::<Vec<_>>(),
        vec![carl_ticket.number]
    );
    assert!(matches!(
        portal::ticket(&wa, &carl, &private, dana_ticket.number).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        portal::ticket(&wa, &carl, &private, 999).await,
        Err(Error::NotFound)
    ));
    let thread = tickets::thread(&wa, carl_ticket.id, true).await.unwrap();
    assert!(thread.iter().all(|m| m.kind != "note"), "{thread:?}");
    let files = attachments::of_ticket(&wa, carl_ticket.id, false).await.unwrap();
    let (public, secret) = (&files[0], &files[1]);
    assert_eq!(secret.file_name, "secret.png");
    let (opened, _) = portal::open_attachment(&wa, &store, &carl, &private, carl_ticket.number, public.id)
        .await
        .unwrap();
    assert_eq!(opened.file_name, "public.png");
    for (number, id) in [
        (carl_ticket.number, secret.id),
        (dana_ticket.number, public.id),
        (carl_ticket.number, 9999),
    ] {
        assert!(
            matches!(
                portal::open_attachment(&wa, &store, &carl, &private, number, id).await,
                Err(Error::NotFound)
            ),
            "ticket {number} file {id}"
        );
    }
    // Carl of workspace B is another customer: B's tickets list is B's own.
    let carl_b = portal::customer_for_sign_in(&wb, "carl@corp.example", now)
        .await
        .unwrap();
    let theirs = portal::tickets_of(&wb, &carl_b, &private).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].subject, "B's");

    // An organization: the workspace shares tickets within corp.example.
    let shared = portal::set_portal_settings(&wa, "#0B6BCB", "corp.example, @other.example")
        .await
        .unwrap();
    assert_eq!(shared.brand_color.as_deref(), Some("#0b6bcb"));
    assert_eq!(shared.shared_domains, vec!["corp.example", "other.example"]);
    assert_eq!(portal::portal_settings(&wa).await.unwrap(), shared);
    let both = portal::tickets_of(&wa, &carl, &shared).await.unwrap();
    assert_eq!(both.len(), 2);
    portal::ticket(&wa, &carl, &shared, dana_ticket.number).await.unwrap();
    // `_` is no wildcard: corpXexample is another domain.
    let stranger = portal::customer_for_sign_in(&wa, "eve@corpxexample.org", now)
        .await
        .unwrap();
    assert!(portal::tickets_of(&wa, &stranger, &shared).await.unwrap().is_empty());
    for bad in ["red", "#12345", "#12345g"] {
        assert!(
            matches!(
                portal::parse_color(bad),
                Err(Error::Field {
                    field: "brand_color",
                    ..
                })
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        portal::parse_domains("not a domain!"),
        Err(Error::Field { .. })
    ));

    // A customer's answer reopens a solved ticket; closing is theirs to do.
    tickets::update(
        &wa,
        &me,
        carl_ticket.id,
        &Changes {
            status: Some(Status::Solved),
            ..Default::default()
        },
        now,
    )
    .await
    .unwrap();
    let carl_actor = customer_actor(&carl, "acme");
    tickets::add_message(&wa, &carl_actor, carl_ticket.id, Kind::Reply, "Still broken", None, now)
        .await
        .unwrap();
    assert_eq!(tickets::get(&wa, carl_ticket.number).await.unwrap().status, "open");
    assert!(matches!(
        tickets::add_message(&wa, &carl_actor, carl_ticket.id, Kind::Note, "sneaky", None, now).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        portal::close(&wa, &carl_actor, &carl, &private, dana_ticket.number, now).await,
        Err(Error::NotFound)
    ));
    let closed = portal::close(&wa, &carl_actor, &carl, &private, carl_ticket.number, now)
        .await
        .unwrap();
    assert_eq!(closed.status, "closed");
}

on_both_backends!(portal_links_work_once_in_their_own_workspace_and_expire);
async fn portal_links_work_once_in_their_own_workspace_and_expire(env: TestEnv) {
    let landlord = env.router.landlord();
    let a = env.router.create_workspace("acme", "Acme").await.unwrap();
    let b = env.router.create_workspace("globex", "Globex").await.unwrap();
    let now = Utc::now();
    portal_auth::request_link(landlord, &a, "Carl@Example.com", "https://desk.example/", now)
        .await
        .unwrap();
    portal_auth::request_link(landlord, &a, "dana@example.com", "https://desk.example", now)
        .await
        .unwrap();
    assert!(matches!(
        portal_auth::request_link(landlord, &a, "not-an-address", "https://desk.example", now).await,
        Err(Error::Invalid(_))
    ));
    let mails = queued_emails(&env).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[0].to, "carl@example.com");
    assert_eq!(mails[0].subject, "Sign in to Acme support");
    let token = token_after(&mails[0].text, "https://desk.example/p/acme/signin/");
    let other = token_after(&mails[1].text, "https://desk.example/p/acme/signin/");
    assert!(token.len() >= 43, "256 random bits: {token}");

    assert!(matches!(
        portal_auth::peek_link(landlord, b.id, &token, now).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        portal_auth::redeem_link(landlord, b.id, &token, now).await,
        Err(Error::NotFound)
    ));
    assert_eq!(
        portal_auth::peek_link(landlord, a.id, &token, now).await.unwrap(),
        "carl@example.com"
    );
    assert_eq!(
        portal_auth::redeem_link(landlord, a.id, &token, now).await.unwrap(),
        "carl@example.com",
        "refused in B, still good in A"
    );
    assert!(matches!(
        portal_auth::redeem_link(landlord, a.id, &token, now).await,
        Err(Error::NotFound)
    ));
    let later = now + Duration::minutes(10) + Duration::seconds(1);
    assert!(matches!(
        portal_auth::redeem_link(landlord, a.id, &other, later).await,
        Err(Error::NotFound)
    ));

    // Sign-ins: checked on every request, ended by idle time, lifetime or sign-out.
    let policy = SessionPolicy::default();
    let id = portal_auth::start(landlord, a.id, 7, Default::default(), now)
        .await
        .unwrap();
    let found = portal_auth::check(landlord, &id, policy, now).await.unwrap().unwrap();
    assert_eq!((found.workspace(), found.customer_id), (a.id, 7));
    assert!(
        portal_auth::check(landlord, &id, policy, now + policy.idle)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        portal_auth::check(landlord, &id, policy, now).await.unwrap().is_none(),
        "an expired one is gone"
    );
    let id = portal_auth::start(landlord, a.id, 7, Default::default(), now)
        .await
        .unwrap();
    portal_auth::end(landlord, &id).await.unwrap();
    assert!(portal_auth::check(landlord, &id, policy, now).await.unwrap().is_none());
    let old = portal_auth::start(landlord, a.id, 7, Default::default(), now - policy.absolute)
        .await
        .unwrap();
    assert_eq!(portal_auth::purge_expired(landlord, policy, now).await.unwrap(), 1);
    assert!(portal_auth::check(landlord, &old, policy, now).await.unwrap().is_none());
    // A workspace that is not active sends no links.
    env.router.suspend(b.id).await.unwrap();
    let suspended = landlord.workspace(b.id).await.unwrap();
    assert!(matches!(
        portal_auth::request_link(landlord, &suspended, "carl@example.com", "https://desk.example", now).await,
        Err(Error::NotFound)
    ));
}

fn enquiry(message: &str) -> Enquiry {
    Enquiry {
        name: "Erin Example".into(),
        email: "Erin@Shop.example".into(),
        company: "Shop Ltd".into(),
        phone: "+44 20 7946 0000".into(),
        message: message.into(),
    }
}

on_both_backends!(enquiries_become_tickets_and_refusals_record_nothing);
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

on_both_backends!(rating_links_work_once_change_within_seven_days_and_feed_the_report);
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

on_both_backends!(feedback_takes_votes_statuses_and_only_image_screenshots);
async fn feedback_takes_votes_statuses_and_only_image_screenshots(env: TestEnv) {
    let a = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(a.id).await.unwrap();
    let store = FileStore::new(&env.config.data_dir);
    let now = Utc::now();
    let ada = Voice::Staff {
        account_id: 1,
        name: "Ada".into(),
    };
    let carl = portal::customer_for_sign_in(&ws, "carl@example.com", now)
        .await
        .unwrap();
    let carl_voice = Voice::Customer {
        customer_id: carl.id,
        name: carl.name.clone(),
    };
    let bug = feedback::submit(
        &ws,
        &store,
        &carl_voice,
        &NewItem {
            kind: "bug".into(),
            title: "Export button does nothing".into(),
            description: "Clicked it twice.".into(),
            screenshot: Some(Upload {
                file_name: "shot.png".into(),
                bytes: png(),
            }),
        },
        now,
    )
    .await
    .unwrap();
    assert_eq!((bug.status.as_str(), bug.votes), ("new", 1));
    let (kind, bytes) = feedback::screenshot(&store, &bug).await.unwrap();
    assert_eq!((kind.as_str(), bytes), ("image/png", png()));
    let idea = feedback::submit(
        &ws,
        &store,
        &ada,
        &NewItem {
            kind: "feature".into(),
            title: "Dark mode for reports".into(),
            description: "Please.".into(),
            screenshot: None,
        },
        now,
    )
    .await
    .unwrap();
    for (bad, field) in [
        (
            NewItem {
                kind: "rant".into(),
                title: "t".into(),
                description: "d".into(),
                screenshot: None,
            },
            "kind",
        ),
        (
            NewItem {
                kind: "bug".into(),
                title: " ".into(),
                description: "d".into(),
                screenshot: None,
            },
            "title",
        ),
        (
            NewItem {
                kind: "bug".into(),
                title: "t".into(),
                description: "".into(),
                screenshot: None,
            },
            "description",
        ),
        (
            NewItem {
                kind: "bug".into(),
                title: "t".into(),
                description: "d".into(),
                screenshot: Some(Upload {
                    file_name: "x.html".into(),
                    bytes: b"<html><script>".to_vec(),
                }),
            },
            "screenshot",
        ),
    ] {
        match feedback::submit(&ws, &store, &ada, &bad, now).await {
            Err(Error::Field { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert_eq!(
        feedback::inbox(&ws, None).await.unwrap().len(),
        2,
        "refused items are not stored"
    );

    assert_eq!(feedback::toggle_vote(&ws, bug.id, &ada, now).await.unwrap(), 2);
    assert_eq!(
        feedback::toggle_vote(&ws, bug.id, &ada, now).await.unwrap(),
        1,
        "a second vote takes it back"
    );
    assert_eq!(feedback::toggle_vote(&ws, bug.id, &ada, now).await.unwrap(), 2);
    assert!(matches!(
        feedback::toggle_vote(&ws, 999, &ada, now).await,
        Err(Error::NotFound)
    ));
    assert_eq!(feedback::voted(&ws, &ada).await.unwrap().len(), 2);
    let inbox = feedback::inbox(&ws, None).await.unwrap();
    assert_eq!(inbox[0].id, bug.id, "most voted first");
    feedback::set_status(&ws, idea.id, State::Planned, now).await.unwrap();
    assert!(matches!(
        feedback::set_status(&ws, 999, State::Done, now).await,
        Err(Error::NotFound)
    ));
    let planned = feedback::inbox(&ws, Some(State::Planned)).await.unwrap();
    assert_eq!(planned.iter().map(|i| i.id).collect::<Vec<_>>(), vec![idea.id]);
    let carls = feedback::of_customer(&ws, carl.id).await.unwrap();
    assert_eq!(
        carls.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![bug.id],
        "a customer sees only their own"
    );
}
