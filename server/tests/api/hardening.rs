//! Defects found by the security review, each over HTTP on SQLite and on PostgreSQL: the per-account
//! failure allowance holds under a concurrent burst and cannot lock the owner out from where they usually
//! sign in; the page to go to after signing in can only be a page of this site; re-authenticating for a
//! change gives the session a new id.

use crate::{
    auth::{PASSWORD, expect},
    helpers::{Backend, TestApp, TestOptions, cookie_of, header, session_cookie, spawn_app_with},
};
use serde_json::Value;

async fn behind_proxy(backend: Backend) -> TestApp {
    spawn_app_with(TestOptions {
        postgres: backend == Backend::Postgres,
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..TestOptions::default()
    })
    .await
}

/// A server behind a trusted proxy where Ada has signed up (owner of `engines`) with [`PASSWORD`].
async fn ada_behind_proxy(backend: Backend) -> TestApp {
    let app = behind_proxy(backend).await;
    expect(
        app.sign_up("Ada Lovelace", "ada@example.com", "Engines", "engines", PASSWORD)
            .await,
        200,
    )
    .await;
    app
}

/// A sign-in from client address `from` (through the trusted proxy), as a script posts it.
async fn sign_in_from(app: &TestApp, from: &str, password: &str, next: Option<&str>) -> reqwest::Response {
    let mut form = vec![("email", "ada@example.com"), ("password", password)];
    if let Some(next) = next {
        form.push(("next", next));
    }
    app.client
        .post(app.url("/api/signin"))
        .header("origin", &app.origin)
        .header("sec-fetch-site", "same-origin")
        .header("x-forwarded-for", from)
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn a_burst_of_wrong_passwords_gets_exactly_the_allowance_and_the_owner_still_gets_in(backend: Backend) {
    let app = ada_behind_proxy(backend).await;
    // The owner's usual place.
    expect(sign_in_from(&app, "192.0.2.10", PASSWORD, None).await, 200).await;

    // 150 wrong passwords at once, each from its own address (so no per-address limit is in the way).
    let burst = (0..150).map(|n| {
        let app = &app;
        async move {
            let from = format!("198.51.{}.{}", 100 + n / 200, 1 + n % 200);
            sign_in_from(app, &from, "not the password at all", None).await
        }
    });
    let answers = futures::future::join_all(burst).await;
    let (mut checked, mut refused) = (0, 0);
    for answer in answers {
        match answer.status().as_u16() {
            // Reached argon2: the password was checked and found wrong.
            422 => checked += 1,
            429 => {
                let retry_after: u64 = header(&answer, "retry-after").parse().expect("Retry-After");
                assert!((1..=3600).contains(&retry_after), "{retry_after}");
                refused += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(
        (checked, refused),
        (100, 50),
        "exactly 100 wrong passwords an hour are checked"
    );

    // The right password from somewhere new is refused too: the allowance is the account's.
    let elsewhere = sign_in_from(&app, "203.0.113.50", PASSWORD, None).await;
    assert_eq!(elsewhere.status(), 429);
    assert!(!header(&elsewhere, "retry-after").is_empty());
    // From where the owner signed in before, the right password still works.
    let home = sign_in_from(&app, "192.0.2.10", PASSWORD, None).await;
    assert!(session_cookie(&home).is_some());
    expect(home, 200).await;
}

async fn from_a_known_address_wrong_passwords_have_an_allowance_of_their_own(backend: Backend) {
    let app = ada_behind_proxy(backend).await;
    expect(sign_in_from(&app, "192.0.2.10", PASSWORD, None).await, 200).await;
    for n in 0..100 {
        let from = format!("198.51.100.{}", 1 + n);
        expect(sign_in_from(&app, &from, "not the password at all", None).await, 422).await;
    }
    assert_eq!(
        sign_in_from(&app, "198.51.100.200", "not the password at all", None)
            .await
            .status(),
        429
    );
    // The known address may guess, but within an allowance of its own (30 a minute per address applies
    // too, so the allowance is spent over several addresses' worth of time: here, just its first part).
    for _ in 0..5 {
        expect(
            sign_in_from(&app, "192.0.2.10", "not the password at all", None).await,
            422,
        )
        .await;
    }
    expect(sign_in_from(&app, "192.0.2.10", PASSWORD, None).await, 200).await;
}

/// Hostile values for the page to go to after signing in, as they arrive in the form.
fn hostile_nexts() -> Vec<String> {
    let mut hostile: Vec<String> = [
        "/\t/evil.example",
        "/%09/evil.example",
        "/\r\n/evil.example",
        "/\n/evil.example",
        "/\r/evil.example",
        "/\\/evil.example",
        "/%2F%2Fevil.example",
        "/%2f/evil.example",
        "/%5C%5Cevil.example",
        "///evil.example",
        "//evil.example",
        "\\\\evil.example",
        "\\/evil.example",
        "/\\evil.example",
        "https:evil.example",
        "https://evil.example",
        "http://127.0.0.1@evil.example",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        " //evil.example",
        "/ /evil.example",
        "/.//evil.example",
        "/..//evil.example",
        "/%0d%0aSet-Cookie:%20a=b",
        "/\u{0}/evil.example",
        "/\u{2028}/evil.example",
        "/\u{a0}/evil.example",
        "%2F%2Fevil.example",
        "evil.example",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    hostile.push(format!("/{}", "a".repeat(4000)));
    hostile
}

async fn after_sign_in_only_pages_of_this_site_are_followed(backend: Backend) {
    let app = ada_behind_proxy(backend).await;
    let hostile = hostile_nexts();
    assert!(hostile.len() >= 20);
    for (n, next) in hostile.iter().enumerate() {
        let from = format!("203.0.113.{}", 1 + n);
        // As a page without JavaScript posts it (a 302 to the next page) and as the app calls it.
        let page = app
            .client
            .post(app.url("/api/signin"))
            .header("origin", &app.origin)
            .header("sec-fetch-site", "same-origin")
            .header("accept", "text/html")
            .header("referer", app.url("/signin"))
            .header("x-forwarded-for", &from)
            .form(&[("email", "ada@example.com"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 302, "{next:?}");
        assert_eq!(header(&page, "location"), "/w/engines", "{next:?}");
        let script = sign_in_from(&app, &from, PASSWORD, Some(next)).await;
        assert_eq!(script.status(), 200, "{next:?}");
        let to = format!("{}{}", header(&script, "location"), header(&script, "serverfnredirect"));
        assert!(
            to.starts_with("/w/engines") && !to.contains("evil"),
            "{next:?} sent the browser to {to:?}"
        );
        // The sign-in page with it in its address renders, and the value is not a link anywhere.
        let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        let form = app.get(&format!("/signin?next={encoded}")).await;
        assert_eq!(form.status(), 200, "{next:?}");
    }
    // A page of this site is followed, query and all.
    let page = sign_in_from(&app, "203.0.113.250", PASSWORD, Some("/w/engines/tickets?status=open")).await;
    let to = format!("{}{}", header(&page, "location"), header(&page, "serverfnredirect"));
    assert!(to.starts_with("/w/engines/tickets?status=open"), "{to}");
}

async fn me(app: &TestApp, cookie: &str) -> Value {
    serde_json::from_str(&expect(app.call("me", &[], Some(cookie)).await, 200).await).unwrap()
}

async fn changing_the_password_or_address_gives_the_session_a_new_id(backend: Backend) {
    let app = behind_proxy(backend).await;
    let signed_up = app
        .sign_up("Ada Lovelace", "ada@example.com", "Engines", "engines", PASSWORD)
        .await;
    let first = cookie_of(&signed_up);
    expect(signed_up, 200).await;

    let changed = app
        .call(
            "account/password",
            &[("current", PASSWORD), ("password", "copper lantern orchard 58")],
            Some(&first),
        )
        .await;
    let second = cookie_of(&changed);
    expect(changed, 200).await;
    assert_ne!(first, second, "a new session id after re-authenticating");
    assert_eq!(me(&app, &first).await, Value::Null, "the old id is dead");
    assert_eq!(me(&app, &second).await["name"], "Ada Lovelace");

    let moved = app
        .call(
            "account/email",
            &[
                ("current", "copper lantern orchard 58"),
                ("email", "ada@engines.example"),
            ],
            Some(&second),
        )
        .await;
    let third = cookie_of(&moved);
    expect(moved, 200).await;
    assert_ne!(second, third);
    assert_eq!(me(&app, &second).await, Value::Null, "the old id is dead");
    assert_eq!(me(&app, &third).await["name"], "Ada Lovelace");
    // The session list shows the one sign-in, still current under its new id.
    let sessions: Value =
        serde_json::from_str(&expect(app.call("account/sessions", &[], Some(&third)).await, 200).await).unwrap();
    assert_eq!(sessions.as_array().map(Vec::len), Some(1), "{sessions}");
}

async fn a_long_password_counts_to_its_last_character(backend: Backend) {
    let app = behind_proxy(backend).await;
    let long = "Grüße aus dem Maschinenraum: sieben Zahnräder und 1 Lochkarte!!!";
    assert_eq!(long.chars().count(), 64);
    expect(
        app.sign_up("Ada Lovelace", "ada@example.com", "Engines", "engines", long)
            .await,
        200,
    )
    .await;
    let all_but_last: String = long.chars().take(63).collect();
    expect(sign_in_from(&app, "192.0.2.1", &all_but_last, None).await, 422).await;
    expect(sign_in_from(&app, "192.0.2.1", long, None).await, 200).await;
}

testkit::both_backends!(
    a_long_password_counts_to_its_last_character,
    a_burst_of_wrong_passwords_gets_exactly_the_allowance_and_the_owner_still_gets_in,
    from_a_known_address_wrong_passwords_have_an_allowance_of_their_own,
    after_sign_in_only_pages_of_this_site_are_followed,
    changing_the_password_or_address_gives_the_session_a_new_id,
);
