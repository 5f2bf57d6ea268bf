//! The load: interleaved requests to both workspaces and the mail they cause hold only their own canaries.

use super::mail::{read_mails, reply_ids};
use super::requests::{Ctx, Outcome, one};
use super::*;
use crate::helpers::{Backend, TestOptions, spawn_app_with};
use futures::StreamExt;
use std::{
    collections::{BTreeMap, BTreeSet},
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

testkit::both_backends!(interleaved_requests_and_mail_hold_only_their_own_workspaces_canaries);
