//! Portal sign-in links: used once, only in their own workspace, and not after they expire.

use super::*;
use crate::helpers::{TestEnv, queued_emails};
use chrono::{Duration, Utc};
use domain::{
    Error,
    auth::{portal as portal_auth, sign_ins::SessionPolicy},
};

testkit::both_backends!(setup = crate::helpers::env; portal_links_work_once_in_their_own_workspace_and_expire);

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
