//! One request of the load: what it asks of which workspace, and what its answer must and must not hold.

use super::*;
use serde_json::Value;
use std::sync::Arc;

/// What the load's tasks share: a client to the server and both workspaces.
pub(super) struct Ctx {
    pub(super) client: reqwest::Client,
    pub(super) address: String,
    pub(super) origin: String,
    pub(super) ws: [Ws; 2],
}

impl Ctx {
    /// A server function, as the hydrated app calls it.
    async fn call(&self, function: &str, form: &[(&str, String)], cookie: &str) -> reqwest::Result<reqwest::Response> {
        self.client
            .post(format!("{}/api/{function}", self.address))
            .header("origin", &self.origin)
            .header("sec-fetch-site", "same-origin")
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
    }

    /// A page, server-rendered.
    async fn page(&self, path: &str, cookie: &str) -> reqwest::Result<reqwest::Response> {
        self.client
            .get(format!("{}{path}", self.address))
            .header("accept", "text/html")
            .header("cookie", cookie)
            .send()
            .await
    }

    /// A public reply through the composer (as a script posts it: the answer is JSON).
    async fn reply(&self, slug: &str, number: i64, body: String, cookie: &str) -> reqwest::Result<reqwest::Response> {
        let form = reqwest::multipart::Form::new().text("kind", "reply").text("body", body);
        self.client
            .post(format!("{}/w/{slug}/tickets/{number}/reply", self.address))
            .header("origin", &self.origin)
            .header("sec-fetch-site", "same-origin")
            .header("cookie", cookie)
            .multipart(form)
            .send()
            .await
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// `w/tickets`
    List,
    /// `w/tickets` searching the workspace's own word.
    Search,
    /// `w/tickets` searching the other workspace's word: nothing found.
    ForeignSearch,
    /// `w/tickets` for the other workspace's slug: 404.
    CrossProbe,
    /// `w/tickets/counts`
    Counts,
    /// `w/ticket`
    Ticket,
    /// `GET /w/{slug}/tickets/{number}`
    TicketPage,
    /// `GET /w/{slug}/tickets`
    TicketsPage,
    /// `GET /w/{slug}/tickets?q=…`
    SearchPage,
    /// `GET /w/{slug}`
    WorkspacePage,
    /// `POST /w/{slug}/tickets/{number}/reply`: a write that queues mail to the requester.
    Reply,
    /// `p/home` as the portal customer.
    PortalHome,
    /// `GET /p/{slug}` as the portal customer.
    PortalHomePage,
    /// `p/ticket` as the portal customer.
    PortalTicket,
    /// `GET /p/{slug}/tickets/{number}` as the portal customer.
    PortalTicketPage,
}

/// The kind of the `round`th request pair (one request to each workspace): one in ten is a reply.
fn kind_of(round: usize) -> Kind {
    let turn = round / 10;
    match round % 10 {
        0 => Kind::List,
        1 => Kind::Search,
        2 => Kind::Counts,
        3 => Kind::Ticket,
        4 => Kind::TicketPage,
        5 => Kind::Reply,
        6 => Kind::PortalHomePage,
        7 => Kind::PortalTicketPage,
        8 => [
            Kind::TicketsPage,
            Kind::WorkspacePage,
            Kind::ForeignSearch,
            Kind::CrossProbe,
            Kind::SearchPage,
        ][turn % 5],
        _ => [Kind::PortalHome, Kind::PortalTicket][turn % 2],
    }
}

pub(super) struct Outcome {
    pub(super) ws: usize,
    pub(super) kind: Kind,
    /// Whether this kind of response must show one of its own workspace's canaries.
    pub(super) evidence: bool,
    /// Whether it did.
    pub(super) own: bool,
    /// The reply's index when a reply was accepted.
    pub(super) reply: Option<usize>,
    pub(super) problems: Vec<String>,
}

/// The `i`th request: even ones to alpha, odd ones to beta.
pub(super) async fn one(ctx: Arc<Ctx>, i: usize) -> Outcome {
    let w = i % 2;
    let me = &ctx.ws[w];
    let other = &ctx.ws[1 - w];
    let round = i / 2;
    let turn = round / 10;
    let kind = kind_of(round);
    let slug = me.slug;
    let owner = me.owner.as_str();
    let customer = me.customer.as_str();
    let ticket = &me.tickets[(round * 7 + 3) % me.tickets.len()];
    let carls = &me.tickets[me.carl[round % me.carl.len()]];
    let replied = &me.tickets[turn % me.tickets.len()];
    let any_own = format!("canary-{slug}-s");
    let s = |value: &str| value.to_owned();
    let (sent, expected, evidence): (reqwest::Result<reqwest::Response>, u16, Option<String>) = match kind {
        Kind::List => (
            ctx.call("w/tickets", &[("slug", s(slug))], owner).await,
            200,
            Some(any_own),
        ),
        Kind::Search => (
            ctx.call("w/tickets", &[("slug", s(slug)), ("query[q]", me.word.clone())], owner)
                .await,
            200,
            Some(any_own),
        ),
        Kind::ForeignSearch => (
            ctx.call(
                "w/tickets",
                &[("slug", s(slug)), ("query[q]", other.word.clone())],
                owner,
            )
            .await,
            200,
            None,
        ),
        Kind::CrossProbe => (
            ctx.call("w/tickets", &[("slug", s(other.slug))], owner).await,
            404,
            None,
        ),
        Kind::Counts => (
            ctx.call("w/tickets/counts", &[("slug", s(slug))], owner).await,
            200,
            None,
        ),
        Kind::Ticket => (
            ctx.call(
                "w/ticket",
                &[("slug", s(slug)), ("number", ticket.number.to_string())],
                owner,
            )
            .await,
            200,
            Some(ticket.token.clone()),
        ),
        Kind::TicketPage => (
            ctx.page(&format!("/w/{slug}/tickets/{}", ticket.number), owner).await,
            200,
            Some(ticket.token.clone()),
        ),
        Kind::TicketsPage => (ctx.page(&format!("/w/{slug}/tickets"), owner).await, 200, Some(any_own)),
        Kind::SearchPage => (
            ctx.page(&format!("/w/{slug}/tickets?q={}", me.word), owner).await,
            200,
            Some(any_own),
        ),
        Kind::WorkspacePage => (
            ctx.page(&format!("/w/{slug}"), owner).await,
            200,
            Some(format!("canary-{slug}-org")),
        ),
        Kind::Reply => {
            let body = format!("Reply CANARY-{}-R{i:05} about the {}.", me.upper, me.word);
            (ctx.reply(slug, replied.number, body, owner).await, 201, None)
        }
        Kind::PortalHome => (
            ctx.call("p/home", &[("slug", s(slug))], customer).await,
            200,
            Some(any_own),
        ),
        Kind::PortalHomePage => (ctx.page(&format!("/p/{slug}"), customer).await, 200, Some(any_own)),
        Kind::PortalTicket => (
            ctx.call(
                "p/ticket",
                &[("slug", s(slug)), ("number", carls.number.to_string())],
                customer,
            )
            .await,
            200,
            Some(carls.token.clone()),
        ),
        Kind::PortalTicketPage => (
            ctx.page(&format!("/p/{slug}/tickets/{}", carls.number), customer).await,
            200,
            Some(carls.token.clone()),
        ),
    };

    let label = format!("{kind:?} #{i} in {slug}");
    let mut outcome = Outcome {
        ws: w,
        kind,
        evidence: evidence.is_some(),
        own: false,
        reply: None,
        problems: Vec::new(),
    };
    let response = match sent {
        Ok(response) => response,
        Err(error) => {
            outcome.problems.push(format!("{label}: request failed: {error}"));
            return outcome;
        }
    };
    let status = response.status().as_u16();
    let body = match response.text().await {
        Ok(body) => body,
        Err(error) => {
            outcome
                .problems
                .push(format!("{label}: reading the body failed: {error}"));
            return outcome;
        }
    };
    let lower = body.to_lowercase();
    let mut found = Vec::new();
    if status != expected {
        found.push(format!("status {status}, expected {expected}: {}", excerpt(&body)));
    }
    for marker in &other.markers {
        if lower.contains(marker.as_str()) {
            found.push(format!(
                "LEAK: holds {marker:?} of {}: …{}…",
                other.slug,
                around(&lower, marker)
            ));
        }
    }
    if let Some(token) = &evidence {
        outcome.own = lower.contains(token.as_str());
        if !outcome.own && status == expected {
            found.push(format!("lacks its own {token:?}: {}", excerpt(&body)));
        }
    }
    if status == expected {
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let count = me.tickets.len();
        let rows = v["rows"].as_array().map_or(usize::MAX, Vec::len);
        match kind {
            Kind::List | Kind::Search if v["slug"].as_str() != Some(slug) || rows != count => {
                found.push(format!(
                    "{rows} rows of workspace {}, expected {count} of {slug}",
                    v["slug"]
                ));
            }
            Kind::ForeignSearch if rows != 0 => {
                found.push(format!("LEAK: searching {}'s word found {rows} rows", other.slug));
            }
            Kind::Counts if v["all_open"].as_i64() != Some(count as i64) => {
                found.push(format!("counts {v}, expected all_open {count}"));
            }
            Kind::Ticket
                if v["subject"].as_str() != Some(ticket.subject.as_str())
                    || v["requester_email"].as_str() != Some(ticket.requester.as_str()) =>
            {
                found.push(format!(
                    "ticket {} is {:?} for {}, expected {:?} for {}",
                    ticket.number, v["subject"], v["requester_email"], ticket.subject, ticket.requester
                ));
            }
            Kind::PortalHome => {
                let tickets = v["tickets"].as_array().map_or(usize::MAX, Vec::len);
                if v["customer"][1].as_str() != Some(me.customer_email.as_str()) || tickets != me.carl.len() {
                    found.push(format!(
                        "portal home of {} with {tickets} tickets, expected {} with {}",
                        v["customer"],
                        me.customer_email,
                        me.carl.len()
                    ));
                }
            }
            Kind::PortalTicket if v["subject"].as_str() != Some(carls.subject.as_str()) => {
                found.push(format!(
                    "portal ticket {:?}, expected {:?}",
                    v["subject"], carls.subject
                ));
            }
            Kind::Reply => outcome.reply = Some(i),
            _ => {}
        }
    }
    outcome
        .problems
        .extend(found.into_iter().map(|problem| format!("{label}: {problem}")));
    outcome
}
