//! Tickets over HTTP, each test on SQLite and on PostgreSQL: the agents' server functions, the composer
//! with files, downloads, isolation between workspaces, and what hostile input becomes in pages.

use crate::{
    auth::{Team, app_on, expect, team},
    helpers::{Backend, TestApp, TestOptions, header, spawn_app_with},
    on_both_backends,
};
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

async fn ticket(app: &TestApp, cookie: &str, slug: &str, number: i64) -> Value {
    let number = number.to_string();
    let body = expect(
        app.call("w/ticket", &[("slug", slug), ("number", &number)], Some(cookie))
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

/// Posts `body` over a plain socket and reads the answer to its end: unlike an HTTP client, it fails when
/// the server hangs up before the whole request was sent.
async fn post_whole(
    app: &TestApp,
    path: &str,
    cookie: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {host}\r\norigin: {}\r\nsec-fetch-site: same-origin\r\ncookie: {cookie}\r\n\
         content-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        app.origin,
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
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

async fn agents_open_change_answer_filter_search_and_bulk_change_tickets(backend: Backend) {
    let app = app_on(backend).await;
    let Team { owner, agent, .. } = team(&app).await;
    let first = open_ticket(
        &app,
        &agent,
        "alpha",
        "Printer on fire",
        "It **smokes**.",
        &[("tags", "hardware, urgent-ish")],
    )
    .await;
    let second = open_ticket(
        &app,
        &owner,
        "alpha",
        "Invoice question",
        "Where is my invoice?",
        &[("assignee", "me")],
    )
    .await;
    assert_eq!((first, second), (1, 2));

    // The ticket page: rendered Markdown, tags, the team to assign to.
    let page = ticket(&app, &agent, "alpha", first).await;
    assert_eq!(page["thread"][0]["html"], "<p>It <strong>smokes</strong>.</p>\n");
    assert_eq!(page["tags"], serde_json::json!(["hardware", "urgent-ish"]));
    assert_eq!(page["agents"].as_array().unwrap().len(), 2);

    // Side panel changes become events; a bad value is refused beside its field.
    let me = page["me"].to_string();
    let change = |status: &'static str, tags: &'static str| {
        let me = me.clone();
        let app = &app;
        let agent = &agent;
        async move {
            app.call(
                "w/ticket/update",
                &[
                    ("slug", "alpha"),
                    ("number", "1"),
                    ("status", status),
                    ("priority", "high"),
                    ("assignee", &me),
                    ("category", "none"),
                    ("tags", tags),
                ],
                Some(agent),
            )
            .await
        }
    };
    expect(change("pending", "hardware").await, 200).await;
    let refused = expect(change("bogus", "hardware").await, 422).await;
    assert!(refused.contains("status"), "{refused}");
    let page = ticket(&app, &agent, "alpha", first).await;
    assert_eq!(page["status"], "pending");
    let events: Vec<&str> = page["thread"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "event")
        .map(|m| m["html"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "Status: New → Pending",
            "Priority: Normal → High",
            "Assigned to Agent Smith",
            "Tags: hardware"
        ]
    );

    // A reply with an image, and an internal note.
    let response = reply(
        &app,
        &agent,
        "alpha",
        first,
        "reply",
        "Please try *again*.",
        vec![("screen shot.png", png())],
    )
    .await;
    expect(response, 201).await;
    expect(
        reply(&app, &agent, "alpha", first, "note", "Customer is VIP", vec![]).await,
        201,
    )
    .await;
    let page = ticket(&app, &agent, "alpha", first).await;
    let messages: Vec<&Value> = page["thread"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] != "event")
        .collect();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[2]["kind"], "note");
    let image = &messages[1]["attachments"][0];
    assert_eq!(
        (image["name"].as_str(), image["is_image"].as_bool()),
        (Some("screen shot.png"), Some(true))
    );
    let url = image["url"].as_str().unwrap();
    let file = download(&app, &agent, url).await;
    assert_eq!(file.status(), 200);
    assert_eq!(header(&file, "content-type"), "image/png");
    assert!(header(&file, "content-disposition").starts_with("attachment;"));
    assert_eq!(file.bytes().await.unwrap().as_ref(), png().as_slice());
    let thumb = download(&app, &agent, &format!("{url}?inline=1")).await;
    assert!(header(&thumb, "content-disposition").starts_with("inline;"));
    // The requester got the reply, never the note.
    let mails = app.emails_to("carl@customer.example", "[#1]", 2).await;
    assert!(mails.iter().any(|m| m.text.contains("Please try")));
    assert!(mails.iter().all(|m| !m.text.contains("VIP")));

    // Filters, views, counts.
    let mine = list(
        &app,
        &agent,
        "alpha",
        &[("query[status]", "unsolved"), ("query[assignee]", "me")],
    )
    .await;
    assert_eq!(mine["rows"].as_array().unwrap().len(), 1);
    assert_eq!(mine["counts"]["my_open"], 1);
    assert_eq!(mine["counts"]["all_open"], 2);
    assert_eq!(mine["counts"]["unassigned"], 0);
    let tagged = list(&app, &agent, "alpha", &[("query[tag]", "hardware")]).await;
    assert_eq!(tagged["rows"][0][0], 1);
    let by_requester = list(&app, &agent, "alpha", &[("query[requester]", "carl@customer.example")]).await;
    assert_eq!(by_requester["rows"].as_array().unwrap().len(), 2);
    let bad = app
        .call(
            "w/tickets",
            &[("slug", "alpha"), ("query[after]", "garbage")],
            Some(&agent),
        )
        .await;
    expect(bad, 422).await;

    // Search: ranked, highlighted.
    let found = list(&app, &agent, "alpha", &[("query[q]", "invoice")]).await;
    assert_eq!(found["rows"].as_array().unwrap().len(), 1);
    assert!(found["rows"][0][8].as_str().unwrap().contains("<mark>"));

    // Bulk: both tickets solved in one step; a foreign id makes the whole change fail.
    let ids: Vec<String> = list(&app, &agent, "alpha", &[]).await["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].to_string())
        .collect();
    let solved = app
        .call(
            "w/tickets/bulk",
            &[
                ("slug", "alpha"),
                ("ids[0]", &ids[0]),
                ("ids[1]", &ids[1]),
                ("status", "solved"),
            ],
            Some(&agent),
        )
        .await;
    assert_eq!(expect(solved, 200).await, "2");
    let after = list(&app, &agent, "alpha", &[("query[status]", "solved")]).await;
    assert_eq!(after["rows"].as_array().unwrap().len(), 2);
    assert_eq!(after["counts"]["recently_solved"], 2);
    let partial = app
        .call(
            "w/tickets/bulk",
            &[
                ("slug", "alpha"),
                ("ids[0]", &ids[0]),
                ("ids[1]", "999999"),
                ("status", "open"),
            ],
            Some(&agent),
        )
        .await;
    assert_eq!(partial.status(), 404);
    assert_eq!(
        list(&app, &agent, "alpha", &[("query[status]", "open")]).await["rows"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // Saved views are the agent's own.
    expect(
        app.call(
            "w/views/save",
            &[
                ("slug", "alpha"),
                ("name", "Hardware"),
                ("query", "tag=hardware&evil=1"),
            ],
            Some(&agent),
        )
        .await,
        200,
    )
    .await;
    let saved = list(&app, &agent, "alpha", &[]).await["saved"].clone();
    assert_eq!(saved[0]["query"], "tag=hardware");
    assert_eq!(
        list(&app, &owner, "alpha", &[]).await["saved"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // Categories are for owners and admins.
    expect(
        app.call(
            "w/categories/create",
            &[("slug", "alpha"), ("name", "Billing")],
            Some(&agent),
        )
        .await,
        403,
    )
    .await;
    expect(
        app.call(
            "w/categories/create",
            &[("slug", "alpha"), ("name", "Billing")],
            Some(&owner),
        )
        .await,
        200,
    )
    .await;

    // The audit log has every change with who and from where.
    let landlord = app.landlord().await;
    let workspace = landlord.workspace_by_slug("alpha").await.unwrap();
    let router = domain::TenantRouter::new(std::sync::Arc::new(landlord)).unwrap();
    let ws = router.open(workspace.id).await.unwrap();
    let audit = domain::workspace::audit::list(&ws).await.unwrap();
    for action in [
        "ticket.created",
        "ticket.updated",
        "ticket.replied",
        "ticket.note_added",
        "category.created",
    ] {
        let entry = audit
            .iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("{action} in {audit:?}"));
        assert_eq!(entry.ip.as_deref(), Some("127.0.0.1"));
        assert!(entry.actor.starts_with("account:"));
    }
}

async fn nobody_outside_the_workspace_reaches_a_ticket_message_or_attachment(backend: Backend) {
    let app = app_on(backend).await;
    let Team { agent, stranger, .. } = team(&app).await;
    let number = open_ticket(&app, &agent, "alpha", "Alpha secret", "ALPHA-CANARY", &[]).await;
    expect(
        reply(
            &app,
            &agent,
            "alpha",
            number,
            "reply",
            "with file",
            vec![("a.txt", b"ALPHA-FILE".to_vec())],
        )
        .await,
        201,
    )
    .await;
    let page = ticket(&app, &agent, "alpha", number).await;
    // The reply's id: beta has no message with it (its only message has id 1).
    let message_id = page["thread"][1]["id"].to_string();
    let file_url = page["thread"][1]["attachments"][0]["url"].as_str().unwrap().to_owned();
    let file_id = file_url.rsplit('/').next().unwrap();
    // The stranger's own workspace has a ticket #1 too: ids are per workspace.
    open_ticket(&app, &stranger, "beta", "Beta's own", "beta body", &[]).await;

    let n = number.to_string();
    for (function, form) in [
        ("w/ticket", vec![("slug", "alpha"), ("number", n.as_str())]),
        ("w/tickets", vec![("slug", "alpha")]),
        (
            "w/ticket/update",
            vec![
                ("slug", "alpha"),
                ("number", &n),
                ("status", "open"),
                ("priority", "low"),
                ("assignee", "none"),
                ("category", "none"),
                ("tags", ""),
            ],
        ),
        ("w/ticket/take", vec![("slug", "alpha"), ("number", &n)]),
        (
            "w/ticket/edit",
            vec![
                ("slug", "alpha"),
                ("number", &n),
                ("message_id", &message_id),
                ("body", "pwned"),
            ],
        ),
        (
            "w/ticket/edit",
            vec![
                ("slug", "beta"),
                ("number", "1"),
                ("message_id", &message_id),
                ("body", "pwned"),
            ],
        ),
        (
            "w/tickets/create",
            vec![
                ("slug", "alpha"),
                ("requester_email", "x@example.com"),
                ("subject", "x"),
                ("body", "x"),
            ],
        ),
    ] {
        let response = app.call(function, &form, Some(&stranger)).await;
        assert_eq!(response.status(), 404, "{function} {form:?}");
        let anonymous = app.call(function, &form, None).await;
        assert_eq!(anonymous.status(), 401, "{function} without a session");
    }
    let beta_one = ticket(&app, &stranger, "beta", 1).await;
    assert_eq!(beta_one["subject"], "Beta's own");
    assert!(!beta_one.to_string().contains("ALPHA"));
    // The other workspace's file by its path, or its id under the stranger's own ticket.
    assert_eq!(download(&app, &stranger, &file_url).await.status(), 404);
    assert_eq!(
        download(&app, &stranger, &format!("/w/beta/tickets/1/files/{file_id}"))
            .await
            .status(),
        404
    );
    assert_eq!(download(&app, "ferrodesk=none", &file_url).await.status(), 401);
    assert_eq!(
        reply(&app, &stranger, "alpha", number, "reply", "hi", vec![])
            .await
            .status(),
        404
    );
    // The edit of another workspace's message id never touched it.
    let page = ticket(&app, &agent, "alpha", number).await;
    assert_eq!(page["thread"][0]["html"], "<p>ALPHA-CANARY</p>\n");
}

/// Removes the page's own scripts (those carrying the nonce) and returns the rest of the HTML.
fn without_own_scripts(html: &str) -> String {
    let mut rest = html;
    let mut out = String::new();
    while let Some(start) = rest.find("<script").filter(|start| {
        rest[*start..]
            .split('>')
            .next()
            .is_some_and(|tag| tag.contains(" nonce="))
    }) {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("</script>")
            .map(|e| start + e + "</script>".len())
            .unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The attribute names of a start tag (the text from `<` up to its `>`), reading quoted values as values.
fn attribute_names(tag: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = tag.chars().skip(1).skip_while(|c| c.is_ascii_alphanumeric()).peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == '/').is_some() {}
        let name: String =
            std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace() && *c != '=' && *c != '/')).collect();
        if name.is_empty() {
            return names;
        }
        names.push(name);
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next_if_eq(&'=').is_some() {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            match chars.peek().copied() {
                Some(quote @ ('"' | '\'')) => {
                    chars.next();
                    while chars.next().is_some_and(|c| c != quote) {}
                }
                _ => while chars.next_if(|c| !c.is_whitespace()).is_some() {},
            }
        }
    }
}

/// Every tag in the HTML that could run script: a `<script>`, an element with an `on…` attribute, a
/// `javascript:` URL, or an element that embeds a document.
fn dangerous_tags(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in html.match_indices('<') {
        let tag: String = html[i..]
            .chars()
            .take_while(|c| *c != '>')
            .collect::<String>()
            .to_lowercase();
        let name: String = tag[1..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        if name.is_empty() {
            continue;
        }
        let handler = attribute_names(&tag).iter().any(|attr| attr.starts_with("on"));
        let embeds = matches!(
            name.as_str(),
            "script" | "iframe" | "object" | "embed" | "svg" | "math" | "base"
        );
        if embeds || handler || tag.contains("javascript:") {
            found.push(tag);
        }
    }
    found
}

#[test]
fn the_markup_scanner_sees_handlers_only_outside_quoted_values() {
    assert_eq!(
        attribute_names("<a href=\"x onclick=y\" download='z onload=w' id=q>"),
        ["href", "download", "id"]
    );
    assert!(dangerous_tags("<p title=\"a onerror=b\">").is_empty());
    assert_eq!(dangerous_tags("<img src=x onerror=alert(1)>").len(), 1);
    assert_eq!(dangerous_tags("<div/onclick=alert(1)>").len(), 1);
    assert_eq!(dangerous_tags("<svg><p>").len(), 1);
}

const PAYLOADS: [&str; 10] = [
    "<script>alert('s')</script>",
    "</title><script>alert('t')</script>",
    "</textarea><img src=x onerror=alert('a')>",
    "<img src=x onerror=alert('i')>",
    "<svg onload=alert('v')>",
    "\"><script>alert('q')</script>",
    "</script><script>alert('b')</script>",
    "<a href=\"javascript:alert('j')\">click</a>",
    "<iframe src=\"javascript:alert('f')\"></iframe>",
    "'-alert('t')-'",
];

async fn hostile_input_never_becomes_markup_in_pages(backend: Backend) {
    let app = app_on(backend).await;
    let Team { agent, .. } = team(&app).await;
    for (i, payload) in PAYLOADS.iter().enumerate() {
        let requester = format!("x{i}@example.com");
        let body = format!("Body {payload} and [link](javascript:alert(1)) and {payload}");
        let form = [
            ("slug", "alpha"),
            ("requester_email", requester.as_str()),
            ("requester_name", payload),
            ("subject", payload),
            ("body", body.as_str()),
        ];
        expect(app.call("w/tickets/create", &form, Some(&agent)).await, 200).await;
        let number = (i + 1) as i64;
        expect(
            reply(
                &app,
                &agent,
                "alpha",
                number,
                "note",
                payload,
                vec![(payload, b"plain text".to_vec())],
            )
            .await,
            201,
        )
        .await;
    }
    let bad_tag = app
        .call(
            "w/tickets/create",
            &[
                ("slug", "alpha"),
                ("requester_email", "y@example.com"),
                ("subject", "s"),
                ("body", "b"),
                ("tags", "<script>"),
            ],
            Some(&agent),
        )
        .await;
    expect(bad_tag, 422).await;

    let mut pages = vec!["/w/alpha/tickets".to_owned(), "/w/alpha/tickets?q=alert".to_owned()];
    pages.extend((1..=PAYLOADS.len()).map(|n| format!("/w/alpha/tickets/{n}")));
    for path in pages {
        let response = app
            .client
            .get(app.url(&path))
            .header("cookie", &agent)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("alert("), "{path}: the payloads are on the page, as text");
        let dangerous = dangerous_tags(&without_own_scripts(&html));
        if !dangerous.is_empty() {
            std::fs::write("/tmp/hostile.html", &html).unwrap();
        }
        assert!(dangerous.is_empty(), "{path}: {dangerous:?}");
    }
}

async fn attachments_are_limited_typed_and_served_inert(backend: Backend) {
    let app = spawn_app_with(TestOptions {
        postgres: backend == Backend::Postgres,
        attachment_max_bytes: Some(64 * 1024),
        ..TestOptions::default()
    })
    .await;
    let Team { agent, .. } = team(&app).await;
    let number = open_ticket(&app, &agent, "alpha", "Files", "x", &[]).await;

    let big = reply(
        &app,
        &agent,
        "alpha",
        number,
        "reply",
        "big",
        vec![("big.bin", vec![7; 65 * 1024])],
    )
    .await;
    let body = expect(big, 413).await;
    assert!(
        body.contains("big.bin is 0.1 MB; a file can be at most 0.1 MB") || body.contains("a file can be at most"),
        "{body}"
    );
    // Far over the request limit, sent whole over a plain socket (an HTTP client may hide a reset): the
    // server knows long before the client is done, reads the rest and throws it away, and only then
    // answers, so the sender gets the 413 and its reason rather than a connection reset part-way.
    let mut form = Vec::new();
    form.extend_from_slice(b"--xYz\r\ncontent-disposition: form-data; name=\"kind\"\r\n\r\nreply\r\n");
    form.extend_from_slice(b"--xYz\r\ncontent-disposition: form-data; name=\"body\"\r\n\r\nhuge\r\n");
    form.extend_from_slice(b"--xYz\r\ncontent-disposition: form-data; name=\"files\"; filename=\"huge.bin\"\r\n\r\n");
    form.extend(std::iter::repeat_n(7u8, 17 * 1024 * 1024));
    form.extend_from_slice(b"\r\n--xYz--\r\n");
    let answer = post_whole(
        &app,
        &format!("/w/alpha/tickets/{number}/reply"),
        &agent,
        "multipart/form-data; boundary=xYz",
        &form,
    )
    .await
    .expect("the server heard the whole request out");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("larger than a message may carry"), "{answer}");
    let disguised = reply(
        &app,
        &agent,
        "alpha",
        number,
        "reply",
        "x",
        vec![("cat.png", b"<html><script>alert(1)</script>".to_vec())],
    )
    .await;
    let body = expect(disguised, 422).await;
    assert!(
        body.contains("cat.png") && body.contains("cannot be attached"),
        "{body}"
    );
    let svg = reply(
        &app,
        &agent,
        "alpha",
        number,
        "reply",
        "x",
        vec![("logo.jpg", b"<svg onload=alert(1)/>".to_vec())],
    )
    .await;
    expect(svg, 422).await;
    assert_eq!(
        ticket(&app, &agent, "alpha", number).await["thread"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "refusals leave nothing"
    );

    // A browser without JavaScript is sent back to the composer, which keeps what was written.
    let form = reqwest::multipart::Form::new()
        .text("kind", "note")
        .text("body", "My long careful answer")
        .part(
            "files",
            reqwest::multipart::Part::bytes(vec![7; 65 * 1024]).file_name("big.bin"),
        );
    let browser = app
        .client
        .post(app.url(&format!("/w/alpha/tickets/{number}/reply")))
        .header("origin", &app.origin)
        .header("sec-fetch-site", "same-origin")
        .header("accept", "text/html")
        .header("cookie", &agent)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status(), 303);
    assert_eq!(header(&browser, "location"), format!("/w/alpha/tickets/{number}#reply"));
    let page = ticket(&app, &agent, "alpha", number).await;
    assert_eq!(page["draft"]["body"], "My long careful answer");
    assert_eq!(page["draft"]["kind"], "note");
    assert!(page["draft"]["error"].as_str().unwrap().contains("at most"));
    assert!(
        ticket(&app, &agent, "alpha", number).await["draft"].is_null(),
        "shown once"
    );

    // Path traversal and header injection in names; text served as an inert download.
    let files = vec![
        ("../../../etc/passwd", b"root:x:0:0".to_vec()),
        ("page.html.txt", b"just words, then <script>alert(1)</script>".to_vec()),
    ];
    let sent = reply(&app, &agent, "alpha", number, "reply", "files", files).await;
    let sent_body = expect(sent, 422).await;
    assert!(
        sent_body.contains("page.html.txt"),
        "markup inside a text file is refused too: {sent_body}"
    );
    // A raw line break in a part's name breaks the multipart framing: refused, nothing stored.
    let raw = vec![("evil\r\nSet-Cookie: a=b.txt", b"hello".to_vec())];
    expect(reply(&app, &agent, "alpha", number, "reply", "raw", raw).await, 400).await;
    // Browsers send line breaks and quotes in names percent-encoded (as the HTML standard says).
    let files = vec![
        ("../../../etc/passwd", b"root:x:0:0".to_vec()),
        ("evil%0D%0ASet-Cookie: a=b.txt", b"hello".to_vec()),
    ];
    expect(reply(&app, &agent, "alpha", number, "reply", "files", files).await, 201).await;
    let page = ticket(&app, &agent, "alpha", number).await;
    let attachments = page["thread"][1]["attachments"].as_array().unwrap().clone();
    assert_eq!(attachments[0]["name"], "passwd");
    assert_eq!(attachments[1]["name"], "evil%0D%0ASet-Cookie a=b.txt");
    for attachment in &attachments {
        let url = attachment["url"].as_str().unwrap();
        let response = download(&app, &agent, &format!("{url}?inline=1")).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-type"), "text/plain; charset=utf-8");
        assert!(
            header(&response, "content-disposition").starts_with("attachment; filename=\""),
            "text is never inline"
        );
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert_eq!(
            header(&response, "content-security-policy"),
            "default-src 'none'; sandbox"
        );
        assert!(response.headers().get("set-cookie").is_none());
    }
    let data_dir = app.data_dir.path().join("data");
    assert!(!data_dir.join("etc").exists() && !app.data_dir.path().join("etc").exists());
}

/// SQL text in every filter of the list, its sort, cursor and search (docs/security.md row 29): each is a parameter or refused, so
/// every answer is 200 or a 4xx, nothing errors, and the tickets are all still there afterwards.
async fn sql_in_every_filter_is_only_ever_a_value(backend: Backend) {
    let app = app_on(backend).await;
    let Team { agent, .. } = team(&app).await;
    for subject in ["Printer on fire", "Mouse is sad"] {
        open_ticket(&app, &agent, "alpha", subject, "Body text.", &[]).await;
    }
    let hostile = [
        "' or '1'='1",
        "'; drop table tickets; --",
        "1; delete from tickets",
        "\" or 1=1 --",
        "open' union select sqlite_version(), 1, 1, 1, 1, 1, 1, 1, 1 --",
        "1) or (1=1",
        "%' or 1=1 --",
        "\\'; select pg_sleep(5); --",
        "*\") OR (\"1\"=\"1",
        "NEAR(a b) OR \"",
        "updated, (select password_hash from accounts)",
        "eyJub3QiOiJhIGN1cnNvciJ9' or 1=1 --",
    ];
    let fields = [
        "status",
        "priority",
        "assignee",
        "category",
        "tag",
        "requester",
        "sort",
        "after",
        "q",
    ];
    let mut answered = 0;
    for field in fields {
        let key = format!("query[{field}]");
        for value in hostile {
            let answer = app
                .call("w/tickets", &[("slug", "alpha"), (key.as_str(), value)], Some(&agent))
                .await;
            let status = answer.status();
            let body = answer.text().await.unwrap();
            assert!(
                status.is_success() || status.is_client_error(),
                "{field}={value:?}: {status} {body}"
            );
            assert!(!body.contains("$argon2"), "{field}={value:?} leaked a hash");
            answered += 1;
        }
    }
    let rows = list(&app, &agent, "alpha", &[]).await["rows"].as_array().unwrap().len();
    assert_eq!(rows, 2, "both tickets are still there after {answered} hostile filters");
}

on_both_backends!(
    sql_in_every_filter_is_only_ever_a_value,
    agents_open_change_answer_filter_search_and_bulk_change_tickets,
    nobody_outside_the_workspace_reaches_a_ticket_message_or_attachment,
    hostile_input_never_becomes_markup_in_pages,
    attachments_are_limited_typed_and_served_inert,
);
