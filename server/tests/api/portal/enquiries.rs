//! The public enquiry form: Turnstile, caps and the MX check; a refused enquiry records nothing.

use super::*;
use crate::{
    auth::{Team, expect},
    helpers::{Backend, TestApp, TestOptions, cookie_of, header, spawn_app_with},
};
use app::{
    auth::api::SignUp,
    tickets::api::{ListQuery, TicketList, TicketPage},
};

/// Posts the enquiry form from the client address `ip` (the test server trusts 127.0.0.1 as a proxy).
async fn enquire(app: &TestApp, ip: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url("/api/p/enquiry"))
        .header("origin", &app.origin)
        .header("sec-fetch-site", "same-origin")
        .header("x-forwarded-for", ip)
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn enquiries_pass_turnstile_caps_and_the_mx_check_or_record_nothing(backend: Backend) {
    let turnstile = crate::turnstile_double::start().await;
    let dns = crate::dns_double::start().await;
    let app = spawn_app_with(TestOptions {
        postgres: backend == Backend::Postgres,
        turnstile: Some(("1x0000000000000000000000000000000AA".into(), turnstile)),
        dns_server: Some(dns),
        enquiry_caps: Some((2, 10, 3)),
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..TestOptions::default()
    })
    .await;
    let Team { agent, .. } = team_with_turnstile(&app).await;
    let token = "XXXX.DUMMY.TOKEN.XXXX";
    let form = |email: &'static str, turnstile: &'static str| {
        vec![
            ("slug", "alpha"),
            ("name", "Erin Example"),
            ("email", email),
            ("company", "Shop Ltd"),
            ("phone", "+44 20 7946 0000"),
            ("message", "Do you ship to Norway?"),
            ("turnstile", turnstile),
        ]
    };
    // Turnstile failures, bad input and a domain without mail: refused, nothing recorded, nothing counted.
    let refused = expect(
        enquire(&app, "198.51.100.1", &form("erin@shop.example", "wrong")).await,
        422,
    )
    .await;
    assert!(refused.contains("turnstile"), "{refused}");
    let refused = json(
        enquire(&app, "198.51.100.1", &form("erin@nomail.example", token)).await,
        422,
    )
    .await;
    assert_eq!(refused["Form"]["field"], "email", "{refused}");
    assert!(refused["Form"]["message"].as_str().unwrap().contains("nomail.example"));
    let mut no_name = form("erin@shop.example", token);
    no_name[1].1 = "";
    let refused = json(enquire(&app, "198.51.100.1", &no_name).await, 422).await;
    assert_eq!(refused["Form"]["field"], "name");
    assert_eq!(count_tickets(&app, &agent).await, 0);
    // DNS that does not answer lets the address through.
    expect(
        enquire(&app, "198.51.100.1", &form("erin@silent.example", token)).await,
        200,
    )
    .await;
    expect(
        enquire(&app, "198.51.100.1", &form("erin@shop.example", token)).await,
        200,
    )
    .await;
    // The address's hourly cap (2) is reached; another address still gets through; then the workspace's
    // daily cap (3) stops everyone.
    let capped = enquire(&app, "198.51.100.1", &form("erin@shop.example", token)).await;
    assert!(header(&capped, "retry-after").parse::<u64>().unwrap() > 0);
    expect(capped, 429).await;
    expect(
        enquire(&app, "198.51.100.2", &form("fay@shop.example", token)).await,
        200,
    )
    .await;
    expect(
        enquire(&app, "198.51.100.3", &form("gus@shop.example", token)).await,
        429,
    )
    .await;
    assert_eq!(count_tickets(&app, &agent).await, 3);
    let list = json(
        app.call_fn(
            &TicketList {
                slug: "alpha".into(),
                query: ListQuery::default(),
            },
            Some(&agent),
        )
        .await,
        200,
    )
    .await;
    let number = list["rows"][0][0].as_i64().unwrap().to_string();
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
    assert!(ticket["subject"].as_str().unwrap().starts_with("Enquiry: "));
    let categories = ticket["categories"].as_array().unwrap();
    let enquiry = categories
        .iter()
        .find(|c| c["label"] == "Enquiry")
        .expect("the Enquiry category");
    assert_eq!(
        ticket["category_id"].as_i64().unwrap().to_string(),
        enquiry["value"].as_str().unwrap()
    );
    let confirmation = app.email("fay@shop.example", "Enquiry", 1).await;
    assert!(confirmation.text.contains("/p/alpha/tickets/"), "{}", confirmation.text);

    // The form's pages: the portal's may not be framed; the embeddable one may, and still has its CSP.
    let page = app.get("/p/alpha/contact").await;
    assert_eq!(header(&page, "x-frame-options"), "DENY");
    assert!(header(&page, "content-security-policy").contains("frame-ancestors 'none'"));
    expect(page, 200).await;
    let embedded = app.get("/embed/alpha/contact").await;
    assert_eq!(header(&embedded, "x-frame-options"), "");
    let csp = header(&embedded, "content-security-policy").to_owned();
    assert!(
        csp.contains("frame-ancestors *") && csp.contains("script-src 'self' 'nonce-"),
        "{csp}"
    );
    let html = expect(embedded, 200).await;
    assert!(
        html.contains(r#"name="embed""#) && !html.contains("site-header"),
        "no site frame"
    );
    expect(app.get("/p/nowhere/contact").await, 404).await;
}

async fn count_tickets(app: &TestApp, agent: &str) -> usize {
    let list = json(
        app.call_fn(
            &TicketList {
                slug: "alpha".into(),
                query: ListQuery::default(),
            },
            Some(agent),
        )
        .await,
        200,
    )
    .await;
    list["rows"].as_array().unwrap().len()
}

/// The usual team, signed up through Turnstile.
async fn team_with_turnstile(app: &TestApp) -> Team {
    let token = "XXXX.DUMMY.TOKEN.XXXX";
    let response = app
        .call_fn(
            &SignUp {
                name: "Ada".into(),
                email: "owner@example.com".into(),
                organization: "Alpha".into(),
                slug: "alpha".into(),
                password: crate::auth::PASSWORD.into(),
                turnstile: Some(token.into()),
            },
            None,
        )
        .await;
    let owner = cookie_of(&response);
    expect(response, 200).await;
    Team {
        agent: owner.clone(),
        stranger: owner.clone(),
        owner,
    }
}

testkit::both_backends!(enquiries_pass_turnstile_caps_and_the_mx_check_or_record_nothing);
