//! What a portal session reaches: the customer's own requests and files, and no staff function.

use super::*;
use crate::{
    auth::{Team, app_on, expect, team},
    helpers::Backend,
};
use app::{
    auth::api::Me,
    portal::api::{PortalClose, PortalHome, PortalSignOut, PortalTicket},
    tickets::api::TicketPage,
};
use serde_json::Value;

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
    let home = json(
        app.call_fn(&PortalHome { slug: "alpha".into() }, Some(&carl)).await,
        200,
    )
    .await;
    assert_eq!(home["customer"][1], "carl@customer.example");
    let rows = home["tickets"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{home}");
    assert_eq!(rows[0]["subject"], "Carl's printer");
    let number = carls.to_string();
    let page = app
        .call_fn(
            &PortalTicket {
                slug: "alpha".into(),
                number: number.parse().unwrap(),
            },
            Some(&carl),
        )
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
        app.call_fn(
            &PortalTicket {
                slug: "alpha".into(),
                number: danas.parse().unwrap(),
            },
            Some(&carl),
        )
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
        app.call_fn(
            &PortalTicket {
                slug: "beta".into(),
                number: number.parse().unwrap(),
            },
            Some(&carl),
        )
        .await,
        401,
    )
    .await;
    let beta_home = json(app.call_fn(&PortalHome { slug: "beta".into() }, Some(&carl)).await, 200).await;
    assert!(beta_home["customer"].is_null(), "a portal session is for one workspace");
    // A portal session is nobody to the staff side.
    assert!(json(app.call_fn(&Me {}, Some(&carl)).await, 200).await.is_null());
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
        ("w/home", &[("slug", "alpha")][..]),
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
        app.call_fn(
            &PortalTicket {
                slug: "alpha".into(),
                number: number.parse().unwrap(),
            },
            Some(&owner),
        )
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
        app.call_fn(
            &TicketPage {
                slug: "alpha".into(),
                number: new_number.parse().unwrap(),
            },
            Some(&agent),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(seen["requester_email"], "carl@customer.example");
    assert_eq!(seen["thread"][0]["attachments"][0]["name"], "jam.png");
    expect(
        app.call_fn(
            &PortalClose {
                slug: "alpha".into(),
                number: number.parse().unwrap(),
            },
            Some(&carl),
        )
        .await,
        200,
    )
    .await;
    let closed = json(
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
    assert_eq!(closed["status"], "closed");
    // Signing out ends the portal session on the server.
    expect(
        app.call_fn(&PortalSignOut { slug: "alpha".into() }, Some(&carl)).await,
        200,
    )
    .await;
    expect(
        app.call_fn(
            &PortalTicket {
                slug: "alpha".into(),
                number: number.parse().unwrap(),
            },
            Some(&carl),
        )
        .await,
        401,
    )
    .await;
}

testkit::both_backends!(a_customer_reaches_only_their_own_requests_and_no_staff_function);
