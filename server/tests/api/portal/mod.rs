//! The customer side over HTTP, each test on SQLite and on PostgreSQL: portal sign-in by link and what a
//! portal session can reach, the enquiry form's Turnstile, caps and MX check, rating links, feedback.

mod customer_access;
mod enquiries;
mod feedback;
mod ratings;

use crate::{
    auth::expect,
    helpers::{TestApp, cookie_of, header},
};
use app::{
    portal::api::{PortalCheckLink, PortalRedeemLink, PortalRequestLink},
    tickets::api::{CreateTicket, ListQuery, TicketList},
};
use serde_json::Value;

/// Opens a ticket in `slug` for `requester` as the holder of `cookie`; returns its number.
async fn open_ticket(app: &TestApp, cookie: &str, slug: &str, requester: &str, subject: &str) -> i64 {
    let form = CreateTicket {
        slug: slug.into(),
        requester_email: requester.into(),
        requester_name: None,
        subject: subject.into(),
        body: "Please help.".into(),
        priority: None,
        category: None,
        assignee: None,
        tags: None,
    };
    expect(app.call_fn(&form, Some(cookie)).await, 200).await;
    let body = expect(
        app.call_fn(
            &TicketList {
                slug: slug.into(),
                query: ListQuery {
                    sort: Some("newest".into()),
                    ..ListQuery::default()
                },
            },
            Some(cookie),
        )
        .await,
        200,
    )
    .await;
    let list: Value = serde_json::from_str(&body).unwrap();
    list["rows"][0][0].as_i64().unwrap()
}

/// Signs `email` in to the portal of `slug` through the emailed link; returns the session cookie.
pub(crate) async fn portal_sign_in(app: &TestApp, slug: &str, email: &str, count: usize) -> String {
    expect(
        app.call_fn(
            &PortalRequestLink {
                slug: slug.into(),
                email: email.into(),
                turnstile: None,
            },
            None,
        )
        .await,
        200,
    )
    .await;
    let link = app
        .email(email, "Sign in to", count)
        .await
        .link(&format!("{}/p/{slug}/signin/", app.address));
    let token = link.rsplit('/').next().unwrap().to_owned();
    // The link's page is scanner-safe: looking at it uses nothing up.
    let page = app.get(&format!("/p/{slug}/signin/{token}")).await;
    assert_eq!(header(&page, "referrer-policy"), "no-referrer");
    expect(page, 200).await;
    expect(
        app.call_fn(
            &PortalCheckLink {
                slug: slug.into(),
                token: token.clone(),
            },
            None,
        )
        .await,
        200,
    )
    .await;
    let redeemed = app
        .call_fn(
            &PortalRedeemLink {
                slug: slug.into(),
                token: token.clone(),
            },
            None,
        )
        .await;
    let cookie = cookie_of(&redeemed);
    expect(redeemed, 200).await;
    let again = app
        .call_fn(
            &PortalRedeemLink {
                slug: slug.into(),
                token: token.clone(),
            },
            None,
        )
        .await;
    expect(again, 422).await;
    cookie
}

fn png() -> Vec<u8> {
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend_from_slice(&[0u8; 40]);
    png
}

async fn multipart(app: &TestApp, cookie: &str, path: &str, form: reqwest::multipart::Form) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("origin", &app.origin)
        .header("sec-fetch-site", "same-origin")
        .header("cookie", cookie)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn with_file(form: reqwest::multipart::Form, field: &str, name: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    form.part(
        field.to_owned(),
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    )
}

async fn json(response: reqwest::Response, status: u16) -> Value {
    serde_json::from_str(&expect(response, status).await).unwrap()
}
