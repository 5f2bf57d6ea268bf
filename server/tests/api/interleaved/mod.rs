//! Interleaved isolation under load (docs/security.md row 25), on SQLite and on PostgreSQL: two workspaces,
//! each signed up by its own owner, each with tickets, requesters, a portal customer and a name that carry
//! the workspace's canaries (`CANARY-ALPHA-…`, `alphacanary`, `…+alpha@…`). Then thousands of concurrent
//! requests alternate between them on the same server (its shared pools, the team cache, the page
//! renderer): lists, searches (its own word and the other's), counts, tickets as data and as pages, the
//! workspace page, replies (which queue mail to requesters), the portal's home and ticket as data and as
//! pages, and a probe of the other workspace. Meanwhile the outbox relays and the mail worker writes the
//! mail. Every response must hold its own workspace's canaries and none of the other's; so must every
//! message, which must also reach the requester of its own ticket, one for every reply.

mod mail;
mod requests;
mod under_load;

use crate::{
    auth::{PASSWORD, expect},
    helpers::{TestApp, cookie_of},
};
use app::tickets::api::{CreateTicket, ListQuery, TicketList};
use serde_json::Value;

pub(crate) struct Ticket {
    pub(crate) number: i64,
    pub(crate) subject: String,
    /// The subject's canary, lowercased: `canary-alpha-s07`.
    pub(crate) token: String,
    pub(crate) requester: String,
}

/// One workspace as the load sees it.
pub(crate) struct Ws {
    pub(crate) slug: &'static str,
    /// `ALPHA`: the canaries' spelling.
    pub(crate) upper: &'static str,
    /// One word in every ticket's body and every reply (`alphacanary`), for search.
    pub(crate) word: String,
    /// The owner's session cookie.
    pub(crate) owner: String,
    /// The portal customer's session cookie.
    pub(crate) customer: String,
    pub(crate) customer_email: String,
    pub(crate) tickets: Vec<Ticket>,
    /// Which of `tickets` are the portal customer's.
    pub(crate) carl: Vec<usize>,
    /// Lowercased strings only this workspace's data holds.
    pub(crate) markers: Vec<String>,
}

fn markers(slug: &str) -> Vec<String> {
    vec![
        format!("canary-{slug}"),
        format!("{slug}canary"),
        format!("+{slug}@"),
        format!("/w/{slug}"),
        format!("/p/{slug}"),
    ]
}

/// Signs `slug` up with its own owner, opens `count` tickets (every other one for the portal customer) and
/// signs the customer in to the portal.
pub(crate) async fn set_up(app: &TestApp, slug: &'static str, upper: &'static str, count: usize) -> Ws {
    let owner_email = format!("owner+{slug}@example.com");
    let signed_up = app
        .sign_up(
            &format!("Owner CANARY-{upper}-OWNER"),
            &owner_email,
            &format!("Org CANARY-{upper}-ORG"),
            slug,
            PASSWORD,
        )
        .await;
    let owner = cookie_of(&signed_up);
    expect(signed_up, 200).await;

    let word = format!("{slug}canary");
    let customer_email = format!("carl+{slug}@customer.example");
    let mut tickets = Vec::with_capacity(count);
    let mut carl = Vec::new();
    for k in 0..count {
        let subject = format!("CANARY-{upper}-S{k:02} printer on fire");
        let (requester, name) = if k % 2 == 0 {
            carl.push(k);
            (customer_email.clone(), format!("Carl CANARY-{upper}-CUSTOMER"))
        } else {
            (
                format!("req{k}+{slug}@customer.example"),
                format!("Requester CANARY-{upper}-N{k:02}"),
            )
        };
        let body = format!("Body CANARY-{upper}-B{k:02}: the {word} printer smokes.");
        let form = CreateTicket {
            slug: slug.into(),
            requester_email: requester.clone(),
            requester_name: Some(name),
            subject: subject.clone(),
            body,
            priority: None,
            category: None,
            assignee: None,
            tags: None,
        };
        expect(app.call_fn(&form, Some(&owner)).await, 200).await;
        let newest = expect(
            app.call_fn(
                &TicketList {
                    slug: slug.into(),
                    query: ListQuery {
                        sort: Some("newest".into()),
                        ..ListQuery::default()
                    },
                },
                Some(&owner),
            )
            .await,
            200,
        )
        .await;
        let newest: Value = serde_json::from_str(&newest).unwrap();
        // A row is an array: number, id, subject, status, priority, requester, assignee, updated, snippet.
        assert_eq!(newest["rows"][0][2].as_str(), Some(subject.as_str()), "{newest}");
        tickets.push(Ticket {
            number: newest["rows"][0][0].as_i64().unwrap(),
            token: format!("canary-{}-s{k:02}", slug),
            subject,
            requester,
        });
    }

    // The portal customer signs in by the emailed link, once, before the load.
    let customer = crate::portal::portal_sign_in(app, slug, &customer_email, 1).await;

    Ws {
        slug,
        upper,
        word,
        owner,
        customer,
        customer_email,
        tickets,
        carl,
        markers: markers(slug),
    }
}

pub(crate) fn excerpt(text: &str) -> String {
    text.chars().take(300).collect()
}

/// The text around the first `needle` in `text`.
pub(crate) fn around(text: &str, needle: &str) -> String {
    let at = text.find(needle).unwrap_or(0);
    let before: Vec<char> = text[..at].chars().rev().take(80).collect();
    let before: String = before.into_iter().rev().collect();
    let after: String = text[at..].chars().take(120).collect();
    format!("{before}{after}")
}
