//! Attachments through the composer: limited in size, typed by content, served inert.

use super::*;
use crate::{
    auth::{Team, expect, team},
    helpers::{Backend, TestApp, TestOptions, header, spawn_app_with},
};

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

testkit::both_backends!(attachments_are_limited_typed_and_served_inert);
