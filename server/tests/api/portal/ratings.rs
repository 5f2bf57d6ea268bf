//! Ratings: solving a ticket mails a single-use rating link, and the satisfaction report counts it.

use super::*;
use crate::{
    auth::{Team, app_on, expect, team},
    helpers::{Backend, header},
};
use app::{
    insights::api::Satisfaction,
    portal::api::{Rate, RatingPage},
    tickets::api::{TicketPage, UpdateTicket},
};

async fn solving_mails_a_single_use_rating_link_and_the_report_counts_it(backend: Backend) {
    let app = app_on(backend).await;
    let Team { agent, owner, .. } = team(&app).await;
    let number = open_ticket(&app, &agent, "alpha", "carl@customer.example", "Broken")
        .await
        .to_string();
    let solve = UpdateTicket {
        slug: "alpha".into(),
        number: number.parse().unwrap(),
        status: "solved".into(),
        priority: "normal".into(),
        assignee: "none".into(),
        category: "none".into(),
        tags: "".into(),
        subject: None,
    };
    expect(app.call_fn(&solve, Some(&agent)).await, 200).await;
    // The confirmation and the solved mail share the subject and may share a file time: pick by content.
    let mail = app
        .emails_to("carl@customer.example", "Broken", 2)
        .await
        .into_iter()
        .find(|m| m.text.contains("How did we do?"))
        .expect("the solved mail asks for a rating");
    let link = mail.link(&format!("{}/p/alpha/rate/", app.address));
    let token = link.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let page = app.get(&format!("/p/alpha/rate/{token}?r=good")).await;
    assert_eq!(header(&page, "referrer-policy"), "no-referrer");
    expect(page, 200).await;
    let shown = json(
        app.call_fn(
            &RatingPage {
                slug: "alpha".into(),
                token: token.clone(),
            },
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(shown["number"].as_i64().unwrap().to_string(), number);
    expect(
        app.call_fn(
            &Rate {
                slug: "alpha".into(),
                token: token.clone(),
                rating: "meh".into(),
                comment: None,
            },
            None,
        )
        .await,
        422,
    )
    .await;
    let rated = app
        .call_fn(
            &Rate {
                slug: "alpha".into(),
                token: token.clone(),
                rating: "good".into(),
                comment: Some("Fast!".into()),
            },
            None,
        )
        .await;
    let next = header(&rated, "serverfnredirect").to_owned() + header(&rated, "location");
    expect(rated, 200).await;
    assert!(
        next.contains("/p/alpha/rate/") && !next.contains(&token),
        "a new link: {next}"
    );
    let again = app
        .call_fn(
            &Rate {
                slug: "alpha".into(),
                token: token.clone(),
                rating: "bad".into(),
                comment: None,
            },
            None,
        )
        .await;
    expect(again, 422).await;
    // Another workspace knows no such link (and a workspace that does not exist has no rating page at all).
    let live = next.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let elsewhere = app
        .call_fn(
            &Rate {
                slug: "beta".into(),
                token: live.clone(),
                rating: "bad".into(),
                comment: None,
            },
            None,
        )
        .await;
    assert!(expect(elsewhere, 422).await.contains("expired or was used"));
    let nowhere = app
        .call_fn(
            &Rate {
                slug: "nowhere".into(),
                token: live.clone(),
                rating: "bad".into(),
                comment: None,
            },
            None,
        )
        .await;
    expect(nowhere, 404).await;
    let ticket = json(
        app.call_fn(
            &TicketPage {
                slug: "alpha".into(),
                number: number.parse().unwrap(),
            },
            Some(&agent),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ticket["rating"]["score"], "good");
    assert_eq!(ticket["rating"]["comment"], "Fast!");
    let report = json(
        app.call_fn(&Satisfaction { slug: "alpha".into() }, Some(&owner)).await,
        200,
    )
    .await;
    assert_eq!((report["good"].as_i64(), report["bad"].as_i64()), (Some(1), Some(0)));
    assert_eq!(report["weeks"].as_array().unwrap().len(), 12);
    let page = expect(
        app.client
            .get(app.url("/w/alpha/reports"))
            .header("cookie", &owner)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(
        page.contains(r#"data-good="1""#) && page.contains("100% good of 1 ratings"),
        "{page}"
    );
}

testkit::both_backends!(solving_mails_a_single_use_rating_link_and_the_report_counts_it);
