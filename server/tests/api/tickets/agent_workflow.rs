//! The agents' day: opening, changing, answering, filtering, searching and bulk-changing tickets.

use super::*;
use crate::{
    auth::{Team, app_on, expect, team},
    helpers::{Backend, header},
};
use app::tickets::api::{BulkUpdate, CreateCategory, ListQuery, SaveView, TicketList, UpdateTicket};
use serde_json::Value;

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
            app.call_fn(
                &UpdateTicket {
                    slug: "alpha".into(),
                    number: 1,
                    status: status.into(),
                    priority: "high".into(),
                    assignee: me,
                    category: "none".into(),
                    tags: tags.into(),
                    subject: None,
                },
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
    let counts = view_counts(&app, &agent, "alpha").await;
    assert_eq!(counts["my_open"], 1);
    assert_eq!(counts["all_open"], 2);
    assert_eq!(counts["unassigned"], 0);
    let tagged = list(&app, &agent, "alpha", &[("query[tag]", "hardware")]).await;
    assert_eq!(tagged["rows"][0][0], 1);
    let by_requester = list(&app, &agent, "alpha", &[("query[requester]", "carl@customer.example")]).await;
    assert_eq!(by_requester["rows"].as_array().unwrap().len(), 2);
    let bad = app
        .call_fn(
            &TicketList {
                slug: "alpha".into(),
                query: ListQuery {
                    after: Some("garbage".into()),
                    ..ListQuery::default()
                },
            },
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
        .call_fn(
            &BulkUpdate {
                slug: "alpha".into(),
                ids: Some(vec![ids[0].parse().unwrap(), ids[1].parse().unwrap()]),
                status: Some("solved".into()),
                priority: None,
                assignee: None,
                add_tag: None,
                back: None,
            },
            Some(&agent),
        )
        .await;
    assert_eq!(expect(solved, 200).await, "2");
    let after = list(&app, &agent, "alpha", &[("query[status]", "solved")]).await;
    assert_eq!(after["rows"].as_array().unwrap().len(), 2);
    assert_eq!(view_counts(&app, &agent, "alpha").await["recently_solved"], 2);
    let partial = app
        .call_fn(
            &BulkUpdate {
                slug: "alpha".into(),
                ids: Some(vec![ids[0].parse().unwrap(), 999999]),
                status: Some("open".into()),
                priority: None,
                assignee: None,
                add_tag: None,
                back: None,
            },
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
        app.call_fn(
            &SaveView {
                slug: "alpha".into(),
                name: "Hardware".into(),
                query: "tag=hardware&evil=1".into(),
            },
            Some(&agent),
        )
        .await,
        200,
    )
    .await;
    // The saved view is in the agent's navigation (its query cleaned of what is not a filter), not the owner's.
    let nav = |cookie: String| {
        let app = &app;
        async move {
            let shell = app.call("shell", &[("path", "/w/alpha/tickets")], Some(&cookie)).await;
            let shell: Value = serde_json::from_str(&expect(shell, 200).await).unwrap();
            shell["nav"].as_str().unwrap_or_default().to_owned()
        }
    };
    let agents = nav(agent.clone()).await;
    assert!(agents.contains("href=\"/w/alpha/tickets?tag=hardware\""), "{agents}");
    assert!(!agents.contains("evil"), "{agents}");
    assert!(!nav(owner.clone()).await.contains("Hardware"));

    // Categories are for owners and admins.
    expect(
        app.call_fn(
            &CreateCategory {
                slug: "alpha".into(),
                name: "Billing".into(),
            },
            Some(&agent),
        )
        .await,
        403,
    )
    .await;
    expect(
        app.call_fn(
            &CreateCategory {
                slug: "alpha".into(),
                name: "Billing".into(),
            },
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

testkit::both_backends!(agents_open_change_answer_filter_search_and_bulk_change_tickets);
