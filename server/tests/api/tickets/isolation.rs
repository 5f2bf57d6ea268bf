//! Isolation between workspaces: nobody outside a workspace reaches its tickets, messages or attachments.

use super::*;
use crate::{
    auth::{Team, app_on, expect, team},
    helpers::Backend,
};

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

testkit::both_backends!(nobody_outside_the_workspace_reaches_a_ticket_message_or_attachment);
