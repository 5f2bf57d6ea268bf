//! The public forms: cross-site posts refused, Turnstile, and the same forms without JavaScript.

use super::*;
use crate::helpers::{Backend, TestOptions, cookie_of, header, spawn_app_with};
use app::auth::api::{SignIn, SignUp};

async fn cross_site_posts_are_refused_sign_in_included(backend: Backend) {
    let app = app_on(backend).await;
    let cookie = sign_up(&app, "ada@example.com", "engines").await;
    for function in ["signin", "signout", "signout/everywhere", "w/team/invite"] {
        let response = app
            .client
            .post(app.url(&format!("/api/{function}")))
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .header("cookie", &cookie)
            .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{function}");
    }
    // A GET cannot sign anyone out.
    let get = app
        .client
        .get(app.url("/api/signout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(matches!(get.status().as_u16(), 404 | 405), "{}", get.status());
    expect(sessions(&app, &cookie).await, 200).await;
}

async fn turnstile_guards_the_public_forms(backend: Backend) {
    let url = crate::turnstile_double::start().await;
    let app = spawn_app_with(TestOptions {
        postgres: backend == Backend::Postgres,
        turnstile: Some(("1x0000000000000000000000000000000AA".into(), url)),
        ..TestOptions::default()
    })
    .await;
    let signup = SignUp {
        name: "Ada".into(),
        email: "ada@example.com".into(),
        organization: "Engines".into(),
        slug: "engines".into(),
        password: PASSWORD.into(),
        turnstile: None,
    };
    let refused = expect(app.call_fn(&signup, None).await, 422).await;
    assert!(refused.contains("turnstile"), "{refused}");
    let with_token = SignUp {
        turnstile: Some("XXXX.DUMMY.TOKEN.XXXX".into()),
        ..signup
    };
    for function in ["signin", "signin/link", "password/forgot"] {
        let body = expect(
            app.call(function, &[("email", "ada@example.com"), ("password", PASSWORD)], None)
                .await,
            422,
        )
        .await;
        assert!(body.contains("turnstile"), "{function}: {body}");
    }
    // The refused sign-up left nothing: the address is still free.
    expect(app.call_fn(&with_token, None).await, 200).await;
    expect(
        app.call_fn(
            &SignIn {
                email: "ada@example.com".into(),
                password: PASSWORD.into(),
                turnstile: Some("XXXX.DUMMY.TOKEN.XXXX".into()),
                next: None,
            },
            None,
        )
        .await,
        200,
    )
    .await;
    // The page carries the widget and allows Cloudflare's script and frame, and nothing else new.
    let page = app.get("/signin").await;
    let csp = header(&page, "content-security-policy").to_owned();
    let html = expect(page, 200).await;
    assert!(html.contains(r#"class="cf-turnstile""#), "the widget is on the form");
    assert!(csp.contains("frame-src https://challenges.cloudflare.com"), "{csp}");
}

async fn forms_work_without_javascript(backend: Backend) {
    let app = app_on(backend).await;
    sign_up(&app, "ada@example.com", "engines").await;
    let wrong = app
        .post_page(
            "signin",
            &[("email", "ada@example.com"), ("password", "not the password")],
            None,
            "/signin",
        )
        .await;
    assert_eq!(wrong.status(), 302);
    let back = header(&wrong, "location").to_owned();
    assert!(back.contains("/signin?") && back.contains("__err="), "{back}");
    let page = app.client.get(&back).send().await.unwrap();
    let html = expect(page, 200).await;
    assert!(
        html.contains("The email or password is not right."),
        "the error is on the page"
    );
    assert!(html.contains(r#"value="ada@example.com""#), "the address is kept");
    assert!(!html.contains("not the password"));

    let right = app
        .post_page(
            "signin",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
            None,
            "/signin",
        )
        .await;
    assert_eq!(right.status(), 302);
    assert_eq!(header(&right, "location"), "/w/engines");
    let cookie = cookie_of(&right);
    let home = app
        .client
        .get(app.url("/w/engines"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let html = expect(home, 200).await;
    assert!(
        html.contains("Analytical Engines"),
        "the workspace page renders for its member"
    );

    // Signed out, a member page sends the visitor to sign in and back.
    let away = app
        .client
        .get(app.url("/w/engines"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(away.status(), 302);
    assert_eq!(header(&away, "location"), "/signin?next=/w/engines");
}

testkit::both_backends!(
    cross_site_posts_are_refused_sign_in_included,
    turnstile_guards_the_public_forms,
    forms_work_without_javascript,
);
