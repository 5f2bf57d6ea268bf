//! What a portal customer reaches: their own tickets, their public messages and files, nothing else.

use super::*;
use crate::helpers::{TestEnv, agent, new_ticket};
use chrono::Utc;
use domain::{
    Error,
    workspace::{
        attachments::{self, FileStore, Limits, Upload},
        portal::{self, PortalSettings},
        tickets::{self, Changes, Kind, Status},
    },
};

testkit::both_backends!(setup = crate::helpers::env; a_customer_reaches_only_their_own_tickets_public_messages_and_files);

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
    assert_eq!(
        tickets::get(&wa, tickets::TicketNumber(carl_ticket.number))
            .await
            .unwrap()
            .status,
        "open"
    );
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
