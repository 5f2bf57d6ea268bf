//! Signing in: no enumeration, rate limits per client address, magic links, and emailed codes.

use super::*;
use crate::helpers::{Backend, TestOptions, cookie_of, header, spawn_app_with};
use app::{
    auth::api::{RedeemMagicLink, VerifySignInCode},
    workspace::api::SetSignInCode,
};
use serde_json::Value;

async fn unknown_addresses_and_wrong_passwords_get_the_same_answer(backend: Backend) {
    let app = app_on(backend).await;
    sign_up(&app, "ada@example.com", "engines").await;
    let unknown = sign_in(&app, "nobody@example.com", PASSWORD, None).await;
    let (unknown_status, unknown_body) = (unknown.status(), unknown.text().await.unwrap());
    let wrong = sign_in(&app, "ada@example.com", "wrong password entirely", None).await;
    let (wrong_status, wrong_body) = (wrong.status(), wrong.text().await.unwrap());
    assert_eq!(unknown_status, wrong_status);
    assert_eq!(unknown_status, 422);
    // The bodies differ only in the address the form keeps.
    assert_eq!(
        unknown_body.replace("nobody@example.com", "X"),
        wrong_body.replace("ada@example.com", "X")
    );
    // Asking for links answers the same too.
    for function in ["signin/link", "password/forgot"] {
        let known = app.call(function, &[("email", "ada@example.com")], None).await;
        let (known_status, known_location) = (known.status(), header(&known, "location").to_owned());
        let unknown = app.call(function, &[("email", "nobody@example.com")], None).await;
        assert_eq!(known_status, unknown.status());
        assert_eq!(known_location, header(&unknown, "location"));
    }
}

async fn auth_requests_are_limited_per_client_address_which_headers_cannot_fake(backend: Backend) {
    let app = app_on(backend).await;
    for n in 0..30 {
        let response = app.call_fn(&VerifySignInCode { code: "123456".into() }, None).await;
        assert_ne!(response.status(), 429, "request {n} is within the limit");
    }
    let refused = app.call_fn(&VerifySignInCode { code: "123456".into() }, None).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = header(&refused, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert!(expect(refused, 429).await.contains("Limited"));
    // Spoofed forwarding headers from an untrusted peer do not give a fresh allowance.
    let spoofed = app
        .client
        .post(app.url("/api/signin/code"))
        .header("origin", &app.origin)
        .header("x-forwarded-for", "198.51.100.77")
        .header("cf-connecting-ip", "198.51.100.78")
        .header("x-real-ip", "198.51.100.79")
        .form(&[("code", "123456")])
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), 429);
}

async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance(backend: Backend) {
    let app = spawn_app_with(TestOptions {
        postgres: backend == Backend::Postgres,
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..TestOptions::default()
    })
    .await;
    let from = |client: &'static str| {
        app.client
            .post(app.url("/api/signin/code"))
            .header("origin", &app.origin)
            .header("x-forwarded-for", client)
            .form(&[("code", "123456")])
            .send()
    };
    for _ in 0..30 {
        assert_ne!(from("203.0.113.1").await.unwrap().status(), 429);
    }
    assert_eq!(from("203.0.113.1").await.unwrap().status(), 429);
    assert_ne!(
        from("203.0.113.2").await.unwrap().status(),
        429,
        "another client is not blocked"
    );
}

async fn magic_links_are_scanner_safe_single_use_and_built_from_the_base_url(backend: Backend) {
    let app = app_on(backend).await;
    sign_up(&app, "ada@example.com", "engines").await;
    let response = app
        .client
        .post(app.url("/api/signin/link"))
        .header("origin", &app.origin)
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .form(&[("email", "ada@example.com")])
        .send()
        .await
        .unwrap();
    expect(response, 200).await;
    let mail = app.email("ada@example.com", "sign-in link", 1).await;
    assert!(!mail.raw.contains("evil.example"));
    let link = mail.link(&format!("{}/signin/link/", app.address));
    let token = link.rsplit('/').next().unwrap().to_owned();
    assert!(token.len() >= 43, "256 bits, base64url: {token}");

    // What a mail scanner does: HEAD and GET. Neither uses the link.
    let head = app.client.head(&link).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let page = app.get(&format!("/signin/link/{token}")).await;
    assert_eq!(header(&page, "referrer-policy"), "no-referrer");
    let html = expect(page, 200).await;
    assert!(html.contains("Sign in to Ferrodesk"));

    // Twenty concurrent redeems: exactly one signs in.
    let form = RedeemMagicLink { token: token.clone() };
    let attempts = (0..20).map(|_| app.call_fn(&form, None));
    let responses = futures::future::join_all(attempts).await;
    let mut winners = Vec::new();
    for response in responses {
        if response.status() == 200 {
            winners.push(cookie_of(&response));
        } else {
            assert_eq!(response.status(), 422);
        }
    }
    assert_eq!(winners.len(), 1);
    assert_eq!(me(&app, &winners[0]).await["email"], "ada@example.com");
    expect(app.call_fn(&RedeemMagicLink { token: token.clone() }, None).await, 422).await;
}

async fn a_workspace_can_require_an_emailed_code_at_sign_in(backend: Backend) {
    let app = app_on(backend).await;
    let owner = sign_up_verified(&app, "ada@example.com", "engines").await;
    expect(
        app.call_fn(
            &SetSignInCode {
                slug: "engines".into(),
                required: true,
            },
            Some(&owner),
        )
        .await,
        200,
    )
    .await;
    let first = sign_in(&app, "ada@example.com", PASSWORD, None).await;
    assert_eq!(header(&first, "location"), "/signin/code");
    let first_pending = cookie_of(&first);
    assert_eq!(
        me(&app, &first_pending).await,
        Value::Null,
        "not signed in before the code"
    );
    let first_code = app.email("ada@example.com", "sign-in code", 1).await.code();

    // A second sign-in sends a new code; the first one stops working (newest wins).
    let second = sign_in(&app, "ada@example.com", PASSWORD, None).await;
    let pending = cookie_of(&second);
    let second_code = app.email("ada@example.com", "sign-in code", 2).await.code();
    if first_code != second_code {
        expect(
            app.call_fn(
                &VerifySignInCode {
                    code: first_code.clone(),
                },
                Some(&pending),
            )
            .await,
            422,
        )
        .await;
    }
    let done = app
        .call_fn(
            &VerifySignInCode {
                code: second_code.clone(),
            },
            Some(&pending),
        )
        .await;
    let signed_in = cookie_of(&done);
    expect(done, 200).await;
    assert_ne!(signed_in, pending, "a new session id after the second step");
    assert_eq!(me(&app, &signed_in).await["email"], "ada@example.com");
    assert_eq!(me(&app, &pending).await, Value::Null);

    // Five wrong guesses void the code.
    let pending = cookie_of(&sign_in(&app, "ada@example.com", PASSWORD, None).await);
    let code = app.email("ada@example.com", "sign-in code", 3).await.code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        assert!(
            expect(
                app.call_fn(&VerifySignInCode { code: wrong.into() }, Some(&pending))
                    .await,
                422
            )
            .await
            .contains("tries left")
        );
    }
    assert!(
        expect(
            app.call_fn(&VerifySignInCode { code: wrong.into() }, Some(&pending))
                .await,
            422
        )
        .await
        .contains("stopped working")
    );
    expect(
        app.call_fn(&VerifySignInCode { code: code.clone() }, Some(&pending))
            .await,
        422,
    )
    .await;
    // A code without the password step signs nobody in.
    expect(app.call_fn(&VerifySignInCode { code: code.clone() }, None).await, 422).await;
}

testkit::both_backends!(
    unknown_addresses_and_wrong_passwords_get_the_same_answer,
    auth_requests_are_limited_per_client_address_which_headers_cannot_fake,
    behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance,
    magic_links_are_scanner_safe_single_use_and_built_from_the_base_url,
    a_workspace_can_require_an_emailed_code_at_sign_in,
);
