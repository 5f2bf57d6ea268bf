//! The customer side over HTTP, each test on SQLite and on PostgreSQL: portal sign-in by link and what a
//! portal session can reach, the enquiry form's Turnstile, caps and MX check, rating links, feedback.

use crate::{
    auth::{Team, app_on, expect, team},
    helpers::{Backend, TestApp, TestOptions, cookie_of, header, spawn_app_with},
    on_both_backends,
};
use serde_json::Value;

/// Opens a ticket in `slug` for `requester` as the holder of `cookie`; returns its number.
async fn open_ticket(app: &TestApp, cookie: &str, slug: &str, requester: &str, subject: &str) -> i64 {
    let form = [
        ("slug", slug),
        ("requester_email", requester),
        ("subject", subject),
        ("body", "Please help."),
    ];
    expect(app.call("w/tickets/create", &form, Some(cookie)).await, 200).await;
    let body = expect(
        app.call("w/tickets", &[("slug", slug), ("query[sort]", "newest")], Some(cookie))
            .await,
        200,
    )
    .await;
    let list: Value = serde_json::from_str(&body).unwrap();
    list["rows"][0][0].as_i64().unwrap()
}

/// Signs `email` in to the portal of `slug` through the emailed link; returns the session cookie.
async fn portal_sign_in(app: &TestApp, slug: &str, email: &str, count: usize) -> String {
    expect(
        app.call("p/signin/link", &[("slug", slug), ("email", email)], None)
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
        app.call("p/signin/check", &[("slug", slug), ("token", &token)], None)
            .await,
        200,
    )
    .await;
    let redeemed = app
        .call("p/signin/redeem", &[("slug", slug), ("token", &token)], None)
        .await;
    let cookie = cookie_of(&redeemed);
    expect(redeemed, 200).await;
    let again = app
        .call("p/signin/redeem", &[("slug", slug), ("token", &token)], None)
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

async fn a_customer_reaches_only_their_own_requests_and_no_staff_function(backend: Backend) {
    let app = app_on(backend).await;
    let Team { owner, agent, stranger } = team(&app).await;
    let carls = open_ticket(&app, &agent, "alpha", "carl@customer.example", "Carl's printer").await;
    let danas = open_ticket(&app, &agent, "alpha", "dana@customer.example", "Dana's invoice").await;
    let in_beta = open_ticket(&app, &stranger, "beta", "carl@customer.example", "Carl at beta").await;
    assert_eq!(in_beta, carls, "both workspaces have a ticket #1");
    // A public reply and an internal note, each with a file.
    let reply = reqwest::multipart::Form::new()
        .text("kind", "reply")
        .text("body", "Try turning it off and on.");
    expect(
        multipart(
            &app,
            &agent,
            &format!("/w/alpha/tickets/{carls}/reply"),
            with_file(reply, "files", "steps.png", png()),
        )
        .await,
        201,
    )
    .await;
    let note = reqwest::multipart::Form::new()
        .text("kind", "note")
        .text("body", "Carl broke it himself");
    expect(
        multipart(
            &app,
            &agent,
            &format!("/w/alpha/tickets/{carls}/reply"),
            with_file(note, "files", "proof.png", png()),
        )
        .await,
        201,
    )
    .await;

    let carl = portal_sign_in(&app, "alpha", "carl@customer.example", 1).await;
    let home = json(app.call("p/home", &[("slug", "alpha")], Some(&carl)).await, 200).await;
    assert_eq!(home["customer"][1], "carl@customer.example");
    let rows = home["tickets"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{home}");
    assert_eq!(rows[0]["subject"], "Carl's printer");
    let number = carls.to_string();
    let page = app
        .call("p/ticket", &[("slug", "alpha"), ("number", &number)], Some(&carl))
        .await;
    let body = expect(page, 200).await;
    assert!(body.contains("Try turning it off and on."), "{body}");
    assert!(!body.contains("Carl broke it himself"), "no internal notes: {body}");
    assert!(!body.contains("proof.png"), "no files of notes");
    assert!(
        !body.contains("agent@example.com") && !body.contains("owner@example.com"),
        "no agents' addresses"
    );
    let view: Value = serde_json::from_str(&body).unwrap();
    let file_url = view["messages"][1]["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let download = |path: String, cookie: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url(&path))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
        }
    };
    expect(download(file_url.clone(), carl.clone()).await, 200).await;
    // By any id: Dana's ticket, the note's file, and beta's ticket #1 are out of reach.
    let danas = danas.to_string();
    expect(
        app.call("p/ticket", &[("slug", "alpha"), ("number", &danas)], Some(&carl))
            .await,
        404,
    )
    .await;
    for id in 1..=4 {
        let path = format!("/p/alpha/tickets/{danas}/files/{id}");
        expect(download(path, carl.clone()).await, 404).await;
    }
    let note_file = file_url.rsplit_once('/').unwrap().0.to_owned() + "/2";
    expect(download(note_file, carl.clone()).await, 404).await;
    expect(
        app.call("p/ticket", &[("slug", "beta"), ("number", &number)], Some(&carl))
            .await,
        401,
    )
    .await;
    let beta_home = json(app.call("p/home", &[("slug", "beta")], Some(&carl)).await, 200).await;
    assert!(beta_home["customer"].is_null(), "a portal session is for one workspace");
    // A portal session is nobody to the staff side.
    assert!(json(app.call("me", &[], Some(&carl)).await, 200).await.is_null());
    let ticket_form = [("slug", "alpha"), ("number", number.as_str())];
    for (function, form) in [
        ("w/tickets", &[("slug", "alpha")][..]),
        ("w/tickets/counts", &[("slug", "alpha")][..]),
        ("w/ticket", &ticket_form[..]),
        ("w/ticket/take", &ticket_form[..]),
        (
            "w/ticket/update",
            &[
                ("slug", "alpha"),
                ("number", number.as_str()),
                ("status", "solved"),
                ("priority", "low"),
                ("assignee", "none"),
                ("category", "none"),
                ("tags", ""),
            ][..],
        ),
        (
            "w/tickets/create",
            &[
                ("slug", "alpha"),
                ("requester_email", "x@y.example"),
                ("subject", "s"),
                ("body", "b"),
            ][..],
        ),
        ("w/tickets/new", &[("slug", "alpha")][..]),
        ("w/overview", &[("slug", "alpha")][..]),
        ("w/team", &[("slug", "alpha")][..]),
        (
            "w/team/invite",
            &[("slug", "alpha"), ("email", "x@y.example"), ("role", "admin")][..],
        ),
        ("w/feedback", &[("slug", "alpha")][..]),
        ("w/feedback/vote", &[("slug", "alpha"), ("id", "1")][..]),
        ("w/reports/satisfaction", &[("slug", "alpha")][..]),
        ("w/settings/portal/show", &[("slug", "alpha")][..]),
        (
            "w/settings/portal",
            &[
                ("slug", "alpha"),
                ("brand_color", ""),
                ("shared_domains", "customer.example"),
            ][..],
        ),
        ("account/sessions", &[][..]),
    ] {
        expect(app.call(function, form, Some(&carl)).await, 401).await;
    }
    // And every other staff function there is, found in the server's registry, with every argument any of
    // them takes (extra fields are ignored), so each one gets as far as its sign-in check.
    let every_argument = [
        ("slug", "alpha"),
        ("number", number.as_str()),
        ("id", "1"),
        ("account_id", "1"),
        ("message_id", "1"),
        ("status", "solved"),
        ("priority", "low"),
        ("assignee", "none"),
        ("category", "none"),
        ("tags", "x"),
        ("tag", "x"),
        ("subject", "x"),
        ("body", "x"),
        ("name", "x"),
        ("query[status]", "open"),
        ("requester_email", "x@y.example"),
        ("email", "x@y.example"),
        ("role", "admin"),
        ("required", "true"),
        ("code", "123456"),
        ("password", crate::auth::PASSWORD),
        ("current", crate::auth::PASSWORD),
        ("current_password", crate::auth::PASSWORD),
        ("new_password", crate::auth::PASSWORD),
        ("brand_color", ""),
        ("shared_domains", "customer.example"),
        ("ids[0]", "1"),
        ("add_tag", "x"),
    ];
    let mut staff = 0;
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        let function = path.trim_start_matches("/api/");
        if !(function.starts_with("w/") || function.starts_with("account") || function == "signout/everywhere") {
            continue;
        }
        staff += 1;
        let mut status = app.call(function, &every_argument, Some(&carl)).await.status().as_u16();
        if status == 400 {
            // `query` is the list's filters in one function and a saved view's text in another.
            let mut other = every_argument.to_vec();
            other.retain(|(name, _)| *name != "query[status]");
            other.push(("query", "status=open"));
            status = app.call(function, &other, Some(&carl)).await.status().as_u16();
        }
        assert_eq!(status, 401, "{function} with a portal session");
    }
    assert!(staff >= 25, "the registry lists the staff functions: {staff}");
    let staff_reply = reqwest::multipart::Form::new().text("kind", "note").text("body", "hi");
    expect(
        multipart(&app, &carl, &format!("/w/alpha/tickets/{carls}/reply"), staff_reply).await,
        401,
    )
    .await;
    expect(
        download(format!("/w/alpha/tickets/{carls}/files/1"), carl.clone()).await,
        401,
    )
    .await;
    // And a staff session is nobody to the portal.
    expect(
        app.call("p/ticket", &[("slug", "alpha"), ("number", &number)], Some(&owner))
            .await,
        401,
    )
    .await;

    // Carl answers (with a file), opens a new request, and closes the first.
    let answer = reqwest::multipart::Form::new().text("body", "Still smoking.");
    expect(
        multipart(
            &app,
            &carl,
            &format!("/p/alpha/tickets/{carls}/reply"),
            with_file(answer, "files", "smoke.png", png()),
        )
        .await,
        201,
    )
    .await;
    let other = reqwest::multipart::Form::new().text("body", "Not mine");
    expect(
        multipart(&app, &carl, &format!("/p/alpha/tickets/{danas}/reply"), other).await,
        404,
    )
    .await;
    let empty = reqwest::multipart::Form::new()
        .text("subject", "New one")
        .text("body", " ");
    let refused = json(multipart(&app, &carl, "/p/alpha/tickets", empty).await, 422).await;
    assert_eq!(refused["Form"]["field"], "body", "{refused}");
    let new = reqwest::multipart::Form::new()
        .text("subject", "Scanner too")
        .text("body", "It jams.");
    let created = json(
        multipart(
            &app,
            &carl,
            "/p/alpha/tickets",
            with_file(new, "files", "jam.png", png()),
        )
        .await,
        201,
    )
    .await;
    let new_number = created["number"].as_i64().unwrap().to_string();
    let seen = json(
        app.call("w/ticket", &[("slug", "alpha"), ("number", &new_number)], Some(&agent))
            .await,
        200,
    )
    .await;
    assert_eq!(seen["requester_email"], "carl@customer.example");
    assert_eq!(seen["thread"][0]["attachments"][0]["name"], "jam.png");
    expect(
        app.call("p/ticket/close", &[("slug", "alpha"), ("number", &number)], Some(&carl))
            .await,
        200,
    )
    .await;
    let closed = json(
        app.call("w/ticket", &[("slug", "alpha"), ("number", &number)], Some(&agent))
            .await,
        200,
    )
    .await;
    assert_eq!(closed["status"], "closed");
    // Signing out ends the portal session on the server.
    expect(app.call("p/signout", &[("slug", "alpha")], Some(&carl)).await, 200).await;
    expect(
        app.call("p/ticket", &[("slug", "alpha"), ("number", &number)], Some(&carl))
            .await,
        401,
    )
    .await;
}

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
    let list = json(app.call("w/tickets", &[("slug", "alpha")], Some(&agent)).await, 200).await;
    let number = list["rows"][0][0].as_i64().unwrap().to_string();
    let ticket = json(
        app.call("w/ticket", &[("slug", "alpha"), ("number", &number)], Some(&agent))
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
    let list = json(app.call("w/tickets", &[("slug", "alpha")], Some(agent)).await, 200).await;
    list["rows"].as_array().unwrap().len()
}

/// The usual team, signed up through Turnstile.
async fn team_with_turnstile(app: &TestApp) -> Team {
    let token = "XXXX.DUMMY.TOKEN.XXXX";
    let response = app
        .call(
            "signup",
            &[
                ("name", "Ada"),
                ("email", "owner@example.com"),
                ("organization", "Alpha"),
                ("slug", "alpha"),
                ("password", crate::auth::PASSWORD),
                ("turnstile", token),
            ],
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

async fn solving_mails_a_single_use_rating_link_and_the_report_counts_it(backend: Backend) {
    let app = app_on(backend).await;
    let Team { agent, owner, .. } = team(&app).await;
    let number = open_ticket(&app, &agent, "alpha", "carl@customer.example", "Broken")
        .await
        .to_string();
    let solve = [
        ("slug", "alpha"),
        ("number", number.as_str()),
        ("status", "solved"),
        ("priority", "normal"),
        ("assignee", "none"),
        ("category", "none"),
        ("tags", ""),
    ];
    expect(app.call("w/ticket/update", &solve, Some(&agent)).await, 200).await;
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
        app.call("p/rate/show", &[("slug", "alpha"), ("token", &token)], None)
            .await,
        200,
    )
    .await;
    assert_eq!(shown["number"].as_i64().unwrap().to_string(), number);
    expect(
        app.call(
            "p/rate",
            &[("slug", "alpha"), ("token", &token), ("rating", "meh")],
            None,
        )
        .await,
        422,
    )
    .await;
    let rated = app
        .call(
            "p/rate",
            &[
                ("slug", "alpha"),
                ("token", &token),
                ("rating", "good"),
                ("comment", "Fast!"),
            ],
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
        .call(
            "p/rate",
            &[("slug", "alpha"), ("token", &token), ("rating", "bad")],
            None,
        )
        .await;
    expect(again, 422).await;
    // Another workspace knows no such link (and a workspace that does not exist has no rating page at all).
    let live = next.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let elsewhere = app
        .call("p/rate", &[("slug", "beta"), ("token", &live), ("rating", "bad")], None)
        .await;
    assert!(expect(elsewhere, 422).await.contains("expired or was used"));
    let nowhere = app
        .call(
            "p/rate",
            &[("slug", "nowhere"), ("token", &live), ("rating", "bad")],
            None,
        )
        .await;
    expect(nowhere, 404).await;
    let ticket = json(
        app.call("w/ticket", &[("slug", "alpha"), ("number", &number)], Some(&agent))
            .await,
        200,
    )
    .await;
    assert_eq!(ticket["rating"]["score"], "good");
    assert_eq!(ticket["rating"]["comment"], "Fast!");
    let report = json(
        app.call("w/reports/satisfaction", &[("slug", "alpha")], Some(&owner))
            .await,
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

async fn feedback_arrives_in_the_inbox_from_staff_and_customers(backend: Backend) {
    let app = app_on(backend).await;
    let Team { agent, owner, stranger } = team(&app).await;
    let carl = portal_sign_in(&app, "alpha", "carl@customer.example", 1).await;
    let bug = reqwest::multipart::Form::new()
        .text("kind", "bug")
        .text("title", "Export does nothing")
        .text("description", "Clicked twice.");
    expect(
        multipart(
            &app,
            &carl,
            "/p/alpha/feedback",
            with_file(bug, "screenshot", "shot.png", png()),
        )
        .await,
        201,
    )
    .await;
    let not_an_image = reqwest::multipart::Form::new()
        .text("kind", "bug")
        .text("title", "x")
        .text("description", "y");
    let refused = json(
        multipart(
            &app,
            &carl,
            "/p/alpha/feedback",
            with_file(not_an_image, "screenshot", "x.html", b"<html>".to_vec()),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(refused["Form"]["field"], "screenshot");
    let idea = reqwest::multipart::Form::new()
        .text("kind", "feature")
        .text("title", "Dark reports")
        .text("description", "Please.");
    expect(multipart(&app, &agent, "/w/alpha/feedback", idea).await, 201).await;
    let nope = reqwest::multipart::Form::new()
        .text("kind", "bug")
        .text("title", "t")
        .text("description", "d");
    expect(multipart(&app, &stranger, "/w/alpha/feedback", nope).await, 404).await;

    let inbox = json(app.call("w/feedback", &[("slug", "alpha")], Some(&owner)).await, 200).await;
    let items = inbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let bug = items.iter().find(|i| i["kind"] == "bug").unwrap();
    assert_eq!(bug["from_customer"], true);
    let id = bug["id"].as_i64().unwrap().to_string();
    assert_eq!(
        json(
            app.call("w/feedback/vote", &[("slug", "alpha"), ("id", &id)], Some(&owner))
                .await,
            200
        )
        .await,
        2
    );
    expect(
        app.call(
            "w/feedback/status",
            &[("slug", "alpha"), ("id", &id), ("status", "planned")],
            Some(&agent),
        )
        .await,
        200,
    )
    .await;
    expect(
        app.call(
            "w/feedback/status",
            &[("slug", "alpha"), ("id", &id), ("status", "maybe")],
            Some(&agent),
        )
        .await,
        422,
    )
    .await;
    let screenshot = bug["screenshot"].as_str().unwrap().to_owned();
    let get = |cookie: &str| {
        app.client
            .get(app.url(&screenshot))
            .header("cookie", cookie.to_owned())
            .send()
    };
    let shot = get(&agent).await.unwrap();
    assert_eq!(header(&shot, "content-type"), "image/png");
    expect(shot, 200).await;
    expect(get(&carl).await.unwrap(), 401).await;
    expect(get(&stranger).await.unwrap(), 404).await;
    let home = json(app.call("p/home", &[("slug", "alpha")], Some(&carl)).await, 200).await;
    let mine = home["feedback"].as_array().unwrap();
    assert_eq!(mine.len(), 1, "a customer sees only what they sent: {home}");
    assert_eq!(mine[0]["status"], "planned");
}

on_both_backends!(
    a_customer_reaches_only_their_own_requests_and_no_staff_function,
    enquiries_pass_turnstile_caps_and_the_mx_check_or_record_nothing,
    solving_mails_a_single_use_rating_link_and_the_report_counts_it,
    feedback_arrives_in_the_inbox_from_staff_and_customers,
);
