//! Interleaved isolation under load (docs/security.md row 25), on SQLite and on PostgreSQL: two workspaces,
//! each signed up by its own owner, each with tickets, requesters, a portal customer and a name that carry
//! the workspace's canaries (`CANARY-ALPHA-…`, `alphacanary`, `…+alpha@…`). Then thousands of concurrent
//! requests alternate between them on the same server (its shared pools, the team cache, the page
//! renderer): lists, searches (its own word and the other's), counts, tickets as data and as pages, the
//! workspace page, replies (which queue mail to requesters), the portal's home and ticket as data and as
//! pages, and a probe of the other workspace. Meanwhile the outbox relays and the mail worker writes the
//! mail. Every response must hold its own workspace's canaries and none of the other's; so must every
//! message, which must also reach the requester of its own ticket, one for every reply.

use crate::{
    auth::{PASSWORD, expect},
    helpers::{Backend, TestApp, TestOptions, cookie_of, spawn_app_with},
    on_both_backends,
};
use futures::StreamExt;
use serde_json::Value;
use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

/// Requests in the interleaved load (at least what the security checklist asks for); `INTERLEAVED_REQUESTS` overrides.
const REQUESTS: usize = 10_000;
/// Requests in flight at once.
const CONCURRENCY: usize = 64;
/// Different sizes, so a count or a list read from the wrong workspace cannot pass for the right one.
const ALPHA_TICKETS: usize = 20;
const BETA_TICKETS: usize = 16;

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
        let form = [
            ("slug", slug),
            ("requester_email", requester.as_str()),
            ("requester_name", name.as_str()),
            ("subject", subject.as_str()),
            ("body", body.as_str()),
        ];
        expect(app.call("w/tickets/create", &form, Some(&owner)).await, 200).await;
        let newest = expect(
            app.call("w/tickets", &[("slug", slug), ("query[sort]", "newest")], Some(&owner))
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
    expect(
        app.call(
            "p/signin/link",
            &[("slug", slug), ("email", customer_email.as_str())],
            None,
        )
        .await,
        200,
    )
    .await;
    let link = app
        .email(&customer_email, "Sign in to", 1)
        .await
        .link(&format!("{}/p/{slug}/signin/", app.address));
    let token = link.rsplit('/').next().unwrap().to_owned();
    let redeemed = app
        .call("p/signin/redeem", &[("slug", slug), ("token", token.as_str())], None)
        .await;
    let customer = cookie_of(&redeemed);
    expect(redeemed, 200).await;

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

/// What the load's tasks share: a client to the server and both workspaces.
struct Ctx {
    client: reqwest::Client,
    address: String,
    origin: String,
    ws: [Ws; 2],
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
enum Kind {
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

struct Outcome {
    ws: usize,
    kind: Kind,
    /// Whether this kind of response must show one of its own workspace's canaries.
    evidence: bool,
    /// Whether it did.
    own: bool,
    /// The reply's index when a reply was accepted.
    reply: Option<usize>,
    problems: Vec<String>,
}

/// The `i`th request: even ones to alpha, odd ones to beta.
async fn one(ctx: Arc<Ctx>, i: usize) -> Outcome {
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

/// A message as the mail directory holds it: recipient and subject, and every part decoded, lowercased.
struct Mail {
    file: String,
    to: String,
    subject: String,
    content: String,
}

fn read_mails(dir: &Path) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|entry| entry.path().extension().and_then(|e| e.to_str()) == Some("eml"))
        .filter_map(|entry| {
            let raw = std::fs::read_to_string(entry.path()).ok()?;
            let header = |name: &str| {
                raw.lines()
                    .find_map(|line| line.strip_prefix(name))
                    .unwrap_or_default()
                    .trim()
                    .to_lowercase()
            };
            Some(Mail {
                file: entry.file_name().to_string_lossy().into_owned(),
                to: header("To:"),
                subject: header("Subject:"),
                content: decoded(&raw).to_lowercase(),
            })
        })
        .collect()
}

/// The message with quoted-printable undone, followed by its base64 parts decoded (the mailer picks the
/// shorter encoding per part, so either may be there).
fn decoded(raw: &str) -> String {
    let mut text = crate::helpers::decode_quoted_printable(raw);
    text.push('\n');
    text.push_str(&base64_parts(raw));
    text
}

/// The decoded text of every part sent as base64.
fn base64_parts(raw: &str) -> String {
    use base64::Engine;
    let lines: Vec<&str> = raw.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].to_ascii_lowercase();
        if !(line.starts_with("content-transfer-encoding:") && line.contains("base64")) {
            i += 1;
            continue;
        }
        // The rest of the part's headers, then its body up to the next boundary.
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
        i += 1;
        let mut data = String::new();
        while i < lines.len() && !lines[i].starts_with("--") && !lines[i].trim().is_empty() {
            data.push_str(lines[i].trim());
            i += 1;
        }
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data.as_bytes()) {
            out.push_str(&String::from_utf8_lossy(&bytes));
            out.push('\n');
        }
    }
    out
}

/// The indexes of the replies whose text is in `content` (`canary-alpha-r00042` → 42).
fn reply_ids(content: &str, slug: &str) -> BTreeSet<usize> {
    let prefix = format!("canary-{slug}-r");
    content
        .match_indices(prefix.as_str())
        .filter_map(|(at, _)| {
            content
                .get(at + prefix.len()..at + prefix.len() + 5)?
                .parse::<usize>()
                .ok()
        })
        .collect()
}

async fn interleaved_requests_and_mail_hold_only_their_own_workspaces_canaries(backend: Backend) {
    let started = Instant::now();
    let requests = std::env::var("INTERLEAVED_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(REQUESTS);
    let app = spawn_app_with(TestOptions {
        postgres: backend == Backend::Postgres,
        ..TestOptions::default()
    })
    .await;
    let (alpha, beta) = tokio::join!(
        set_up(&app, "alpha", "ALPHA", ALPHA_TICKETS),
        set_up(&app, "beta", "BETA", BETA_TICKETS),
    );
    let setup_time = started.elapsed();
    let ctx = Arc::new(Ctx {
        client: app.client.clone(),
        address: app.address.clone(),
        origin: app.origin.clone(),
        ws: [alpha, beta],
    });

    // The load: each request its own task, so the client's work spreads over the runtime's threads too.
    let load_started = Instant::now();
    let outcomes: Vec<Outcome> = futures::stream::iter(0..requests)
        .map(|i| tokio::spawn(one(ctx.clone(), i)))
        .buffer_unordered(CONCURRENCY)
        .map(|joined| joined.expect("a request's task does not panic"))
        .collect()
        .await;
    let load_time = load_started.elapsed();

    let mut problems: Vec<String> = Vec::new();
    let mut per_ws = [0usize; 2];
    let mut replies: [BTreeSet<usize>; 2] = Default::default();
    // Per kind: requests, of which must show an own canary, of which did.
    let mut kinds: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    for outcome in &outcomes {
        per_ws[outcome.ws] += 1;
        if let Some(i) = outcome.reply {
            replies[outcome.ws].insert(i);
        }
        let entry = kinds.entry(format!("{:?}", outcome.kind)).or_default();
        entry[0] += 1;
        if outcome.evidence {
            entry[1] += 1;
        }
        if outcome.own {
            entry[2] += 1;
        }
        problems.extend(outcome.problems.iter().cloned());
    }

    // The mail: wait until every accepted reply's message is written, then read them all.
    let dir = app.data_dir.path().join("data").join("mail");
    let mail_started = Instant::now();
    let deadline = mail_started + Duration::from_secs(120);
    let mut waited_out = false;
    loop {
        let mails = read_mails(&dir);
        let arrived = (0..2).all(|w| {
            let slug = ctx.ws[w].slug;
            let seen: BTreeSet<usize> = mails.iter().flat_map(|m| reply_ids(&m.content, slug)).collect();
            replies[w].is_subset(&seen)
        });
        if arrived {
            break;
        }
        if Instant::now() > deadline {
            waited_out = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // The last file may still be being written.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mails = read_mails(&dir);
    let mail_time = mail_started.elapsed();

    let mut per_ws_mails = [0usize; 2];
    let mut own_in_mails = [0usize; 2];
    let mut mailed_replies: [BTreeSet<usize>; 2] = Default::default();
    for mail in &mails {
        let Some(w) = (0..2).find(|&w| mail.to.contains(&format!("+{}@", ctx.ws[w].slug))) else {
            problems.push(format!(
                "mail {} to {:?} ({:?}) is for neither workspace's people",
                mail.file, mail.to, mail.subject
            ));
            continue;
        };
        let (me, other) = (&ctx.ws[w], &ctx.ws[1 - w]);
        per_ws_mails[w] += 1;
        if mail.content.contains(&format!("canary-{}", me.slug)) {
            own_in_mails[w] += 1;
        }
        for marker in &other.markers {
            if mail.content.contains(marker.as_str()) {
                problems.push(format!(
                    "LEAK: mail {} to {} ({:?}) holds {marker:?} of {}: …{}…",
                    mail.file,
                    mail.to,
                    mail.subject,
                    other.slug,
                    around(&mail.content, marker)
                ));
            }
        }
        mailed_replies[w].extend(reply_ids(&mail.content, me.slug));
        // A message about a ticket goes to that ticket's requester.
        let prefix = format!("canary-{}-s", me.slug);
        if let Some(at) = mail.subject.find(prefix.as_str()) {
            let ticket = mail
                .subject
                .get(at + prefix.len()..at + prefix.len() + 2)
                .and_then(|digits| digits.parse::<usize>().ok())
                .and_then(|k| me.tickets.get(k));
            match ticket {
                Some(ticket) if mail.to.contains(ticket.requester.as_str()) => {}
                Some(ticket) => problems.push(format!(
                    "mail {} about {:?} went to {}, not its requester {}",
                    mail.file, ticket.subject, mail.to, ticket.requester
                )),
                None => problems.push(format!(
                    "mail {} has a subject naming no ticket of {}: {:?}",
                    mail.file, me.slug, mail.subject
                )),
            }
        }
    }
    for w in 0..2 {
        let missing: Vec<&usize> = replies[w].difference(&mailed_replies[w]).collect();
        if !missing.is_empty() {
            problems.push(format!(
                "{} of {}'s {} replies have no mail{} (first: {:?})",
                missing.len(),
                ctx.ws[w].slug,
                replies[w].len(),
                if waited_out { " after 120 s" } else { "" },
                &missing[..missing.len().min(10)]
            ));
        }
    }

    let reply_count = replies[0].len() + replies[1].len();
    println!(
        "interleaved isolation: {} requests (A: {}, B: {}; replies {}), {} mails checked, {:?}",
        outcomes.len(),
        per_ws[0],
        per_ws[1],
        reply_count,
        mails.len(),
        backend
    );
    println!(
        "  mails: A {} ({} with its canary, {} replies), B {} ({} with its canary, {} replies)",
        per_ws_mails[0],
        own_in_mails[0],
        mailed_replies[0].len(),
        per_ws_mails[1],
        own_in_mails[1],
        mailed_replies[1].len()
    );
    for (kind, [total, expected, seen]) in &kinds {
        println!("  {kind}: {total} requests, own canary expected in {expected}, seen in {seen}");
    }
    println!(
        "  setup {:.1?}, load {:.1?} ({:.0} requests/s at {CONCURRENCY} in flight), mail {:.1?}; {} problems",
        setup_time,
        load_time,
        outcomes.len() as f64 / load_time.as_secs_f64().max(0.001),
        mail_time,
        problems.len()
    );

    assert!(
        problems.is_empty(),
        "{} problems on {backend:?}; the first:\n{}",
        problems.len(),
        problems.iter().take(25).cloned().collect::<Vec<_>>().join("\n")
    );
    assert_eq!(outcomes.len(), requests);
    assert!(
        !replies[0].is_empty() && !replies[1].is_empty(),
        "both workspaces replied"
    );
    assert!(
        per_ws_mails[0] > 0 && per_ws_mails[1] > 0,
        "both workspaces' mail was checked"
    );
}

on_both_backends!(interleaved_requests_and_mail_hold_only_their_own_workspaces_canaries);
