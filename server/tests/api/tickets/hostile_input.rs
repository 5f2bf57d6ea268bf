//! Hostile input: markup never becomes live in pages, and SQL in a filter is only ever a value.

use super::*;
use crate::{
    auth::{Team, app_on, expect, team},
    helpers::Backend,
};

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

testkit::both_backends!(
    sql_in_every_filter_is_only_ever_a_value,
    hostile_input_never_becomes_markup_in_pages,
);
