//! Feedback: votes, statuses, and screenshots that must be images.

use super::*;
use crate::helpers::TestEnv;
use chrono::Utc;
use domain::{
    Error,
    workspace::{
        attachments::{FileStore, Upload},
        feedback::{self, NewItem, State, Voice},
        portal,
    },
};

testkit::both_backends!(setup = crate::helpers::env; feedback_takes_votes_statuses_and_only_image_screenshots);

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
