//! Tickets over HTTP, each test on SQLite and on PostgreSQL: the agents' server functions, the composer
//! with files, downloads, isolation between workspaces, and what hostile input becomes in pages.

mod agent_workflow;
mod attachments;
mod hostile_input;
mod isolation;

use crate::{auth::expect, helpers::TestApp};
use app::tickets::api::TicketPage;
use serde_json::Value;

/// Opens a ticket in `slug` as the holder of `cookie`; returns its number.
async fn open_ticket(
    app: &TestApp,
    cookie: &str,
    slug: &str,
    subject: &str,
    body: &str,
    extra: &[(&str, &str)],
) -> i64 {
    let mut form = vec![
        ("slug", slug),
        ("requester_email", "carl@customer.example"),
        ("requester_name", "Carl Customer"),
        ("subject", subject),
        ("body", body),
    ];
    form.extend_from_slice(extra);
    expect(app.call("w/tickets/create", &form, Some(cookie)).await, 200).await;
    let list = list(app, cookie, slug, &[("query[sort]", "newest")]).await;
    // A row is an array of its fields: number, id, subject, status, priority, requester, assignee, updated,
    // snippet.
    list["rows"][0][0].as_i64().unwrap()
}

async fn list(app: &TestApp, cookie: &str, slug: &str, query: &[(&str, &str)]) -> Value {
    let mut form = vec![("slug", slug)];
    form.extend_from_slice(query);
    serde_json::from_str(&expect(app.call("w/tickets", &form, Some(cookie)).await, 200).await).unwrap()
}

/// The built-in views' counts, as the navigation shows them.
async fn view_counts(app: &TestApp, cookie: &str, slug: &str) -> Value {
    serde_json::from_str(&expect(app.call("w/tickets/counts", &[("slug", slug)], Some(cookie)).await, 200).await)
        .unwrap()
}

async fn ticket(app: &TestApp, cookie: &str, slug: &str, number: i64) -> Value {
    let body = expect(
        app.call_fn(
            &TicketPage {
                slug: slug.into(),
                number,
            },
            Some(cookie),
        )
        .await,
        200,
    )
    .await;
    serde_json::from_str(&body).unwrap()
}

/// Posts the composer as a script would (no HTML wanted): the response says what happened.
async fn reply(
    app: &TestApp,
    cookie: &str,
    slug: &str,
    number: i64,
    kind: &str,
    body: &str,
    files: Vec<(&str, Vec<u8>)>,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new()
        .text("kind", kind.to_owned())
        .text("body", body.to_owned());
    for (name, bytes) in files {
        form = form.part(
            "files",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
    }
    app.client
        .post(app.url(&format!("/w/{slug}/tickets/{number}/reply")))
        .header("origin", &app.origin)
        .header("sec-fetch-site", "same-origin")
        .header("cookie", cookie)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn download(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// A one-pixel PNG.
pub(crate) fn png() -> Vec<u8> {
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend_from_slice(&[
        0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89,
    ]);
    png.extend_from_slice(&[
        0, 0, 0, 0x0A, b'I', b'D', b'A', b'T', 0x78, 0x9C, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0D, 0x0A, 0x2D, 0xB4,
    ]);
    png.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
    png
}
