//! Feedback: it arrives in the inbox from staff and from customers.

use super::*;
use crate::{
    auth::{Team, app_on, expect, team},
    helpers::{Backend, header},
};
use app::{
    insights::api::{Inbox, SetFeedbackStatus, Vote},
    portal::api::PortalHome,
};

async fn feedback_arrives_in_the_inbox_from_staff_and_customers(backend: Backend) {
    let app = app_on(backend).await;
    let Team { agent, owner, stranger } = team(&app).await;
    let carl = portal_sign_in(&app, "alpha", "carl@customer.example", 1).await;
    let bug = reqwest::multipart::Form::new()
        .text("kind", "bug")
        .text("title", "Export does nothing")
        .text("description", "Clicked twice.");
    expect(
        multipart(
            &app,
            &carl,
            "/p/alpha/feedback",
            with_file(bug, "screenshot", "shot.png", png()),
        )
        .await,
        201,
    )
    .await;
    let not_an_image = reqwest::multipart::Form::new()
        .text("kind", "bug")
        .text("title", "x")
        .text("description", "y");
    let refused = json(
        multipart(
            &app,
            &carl,
            "/p/alpha/feedback",
            with_file(not_an_image, "screenshot", "x.html", b"<html>".to_vec()),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(refused["Form"]["field"], "screenshot");
    let idea = reqwest::multipart::Form::new()
        .text("kind", "feature")
        .text("title", "Dark reports")
        .text("description", "Please.");
    expect(multipart(&app, &agent, "/w/alpha/feedback", idea).await, 201).await;
    let nope = reqwest::multipart::Form::new()
        .text("kind", "bug")
        .text("title", "t")
        .text("description", "d");
    expect(multipart(&app, &stranger, "/w/alpha/feedback", nope).await, 404).await;

    let inbox = json(
        app.call_fn(
            &Inbox {
                slug: "alpha".into(),
                status: None,
            },
            Some(&owner),
        )
        .await,
        200,
    )
    .await;
    let items = inbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let bug = items.iter().find(|i| i["kind"] == "bug").unwrap();
    assert_eq!(bug["from_customer"], true);
    let id = bug["id"].as_i64().unwrap().to_string();
    assert_eq!(
        json(
            app.call_fn(
                &Vote {
                    slug: "alpha".into(),
                    id: id.parse().unwrap(),
                },
                Some(&owner),
            )
            .await,
            200
        )
        .await,
        2
    );
    expect(
        app.call_fn(
            &SetFeedbackStatus {
                slug: "alpha".into(),
                id: id.parse().unwrap(),
                status: "planned".into(),
            },
            Some(&agent),
        )
        .await,
        200,
    )
    .await;
    expect(
        app.call_fn(
            &SetFeedbackStatus {
                slug: "alpha".into(),
                id: id.parse().unwrap(),
                status: "maybe".into(),
            },
            Some(&agent),
        )
        .await,
        422,
    )
    .await;
    let screenshot = bug["screenshot"].as_str().unwrap().to_owned();
    let get = |cookie: &str| {
        app.client
            .get(app.url(&screenshot))
            .header("cookie", cookie.to_owned())
            .send()
    };
    let shot = get(&agent).await.unwrap();
    assert_eq!(header(&shot, "content-type"), "image/png");
    expect(shot, 200).await;
    expect(get(&carl).await.unwrap(), 401).await;
    expect(get(&stranger).await.unwrap(), 404).await;
    let home = json(
        app.call_fn(&PortalHome { slug: "alpha".into() }, Some(&carl)).await,
        200,
    )
    .await;
    let mine = home["feedback"].as_array().unwrap();
    assert_eq!(mine.len(), 1, "a customer sees only what they sent: {home}");
    assert_eq!(mine[0]["status"], "planned");
}

testkit::both_backends!(feedback_arrives_in_the_inbox_from_staff_and_customers);
