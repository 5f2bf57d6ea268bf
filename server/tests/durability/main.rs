//! Durability (docs/security.md row 39): a write the server acknowledged is committed, whole, before the answer leaves.
//!
//! The release `ferrodesk` binary serves a workspace while eight clients open tickets and reply to their own
//! tickets; at a random moment the harness sends the process SIGKILL (`Child::kill`), and in some rounds it
//! also kills a restart before the server is ready. With the server dead it opens the databases as an
//! operator's command would (through the domain crate, so SQLCipher's keys apply) and checks:
//!
//! - every acknowledged ticket (200 with its location) is stored with its subject, its first message whole,
//!   a search row that finds it and its confirmation mail (in the workspace's outbox, the landlord's job
//!   queue or the mail directory); every acknowledged reply (201 with its id) likewise;
//! - nothing is half-written: no ticket without a message, requester, thread id or search row, no message or
//!   search row without a ticket, view counts that agree with the tickets, no stored reply without its mail
//!   and no mail about a message that is not stored; on SQLite ticket numbers without gaps;
//! - SQLite: `PRAGMA integrity_check` is `ok` and `cipher_integrity_check` finds nothing, for the landlord
//!   and the workspace; their writing connections run `journal_mode=wal` and `synchronous=2` (FULL).
//!   PostgreSQL: `synchronous_commit` is `on` for the landlord's and the workspace's connections.
//!
//! Then it starts the server again (the next round), which must come up on what the kill left behind (a
//! SQLite WAL included) and still know the session signed in before the first kill. The checks of existence
//! cover every write acknowledged so far, after every restart.
//!
//! `FERRODESK_DURABILITY_ROUNDS` sets the number of rounds (10 in the test suite; `make durability` runs 100),
//! `FERRODESK_DURABILITY_SEED` repeats a run's schedule of kills and writes (not its timing). On a failure the
//! data directory and the server's log are kept, and their place printed.

#[path = "../api/helpers.rs"]
mod helpers;

mod clients;
mod harness;
mod inspect;
mod verify;

use clients::{Api, ClientState, Rng, client, http_client, sign_up};
use harness::Harness;
use helpers::{Backend, postgres_available};
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

const SLUG: &str = "durable";
const OWNER: &str = "owner@durable.example";
const PASSWORD: &str = "violet tractor umbrella 93";
/// Clients writing at once.
const CLIENTS: usize = 8;
/// The kill comes this many milliseconds after the clients start, at random.
const KILL_AFTER_MS: (u64, u64) = (200, 1500);
/// How long a start may take before `/readyz` answers.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Failures listed in a report (all are counted).
const SHOWN_FAILURES: usize = 40;

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ten_rounds_of_kill_9_lose_no_acknowledged_write() {
        super::run(super::Backend::Sqlite).await
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ten_rounds_of_kill_9_lose_no_acknowledged_write() {
        if super::postgres_available().await {
            super::run(super::Backend::Postgres).await
        }
    }
}

async fn run(backend: Backend) {
    let rounds: usize = std::env::var("FERRODESK_DURABILITY_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("FERRODESK_DURABILITY_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|since| since.as_nanos() as u64)
                .unwrap_or(1)
        });
    let name = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    println!("durability {name}: {rounds} rounds, seed {seed} (FERRODESK_DURABILITY_SEED={seed} repeats the schedule)");
    let began = Instant::now();
    let mut harness = Harness::new(backend).await;
    let mut schedule = Rng::new(seed);
    harness.server.start().await;
    let cookie = sign_up(&harness.server.http, &harness.server.base).await;
    let markers = Arc::new(AtomicU64::new(0));
    let mut clients: Vec<ClientState> = (0..CLIENTS)
        .map(|index| ClientState {
            index,
            rng: Rng::new(seed ^ (index as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D)),
            tickets: Vec::new(),
        })
        .collect();
    let mut ledger = Ledger::default();
    let mut totals = Totals::default();

    for round in 1..=rounds {
        if round > 1 {
            if schedule.below(4) == 0 {
                // A restart killed before it is ready: while it opens, recovers and migrates the databases.
                harness.server.spawn();
                tokio::time::sleep(Duration::from_millis(schedule.below(400))).await;
                harness.server.kill();
                totals.startup_kills += 1;
            }
            harness.server.start().await;
        }
        let api = Api {
            http: http_client(),
            base: harness.server.base.clone(),
            cookie: cookie.clone(),
        };
        assert!(
            api.signed_in().await,
            "round {round}: the session signed in before the first kill is gone: an acknowledged sign-in was lost\n{}",
            harness.server.log_tail()
        );

        let stop = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = clients
            .drain(..)
            .map(|state| tokio::spawn(client(api.clone(), state, markers.clone(), stop.clone())))
            .collect();
        let kill_after = Duration::from_millis(schedule.between(KILL_AFTER_MS.0, KILL_AFTER_MS.1));
        tokio::time::sleep(kill_after).await;
        harness.server.kill();
        stop.store(true, Ordering::SeqCst);

        let mut new = Vec::new();
        let mut refused = Vec::new();
        let mut unanswered = 0;
        for handle in handles {
            let (state, run) = tokio::time::timeout(Duration::from_secs(60), handle)
                .await
                .expect("a client stops once the server is gone")
                .expect("a client does not panic");
            clients.push(state);
            new.extend(run.writes);
            refused.extend(run.refused);
            unanswered += run.unanswered;
        }
        assert!(
            refused.is_empty(),
            "round {round}: the server refused {} write(s) it should have taken, first: {:?}\n{}",
            refused.len(),
            &refused[..refused.len().min(5)],
            harness.server.log_tail()
        );
        for write in &new {
            match write.message_id {
                None => ledger.tickets.push((write.number, write.subject.clone())),
                Some(id) => ledger.replies.push((write.number, id)),
            }
        }

        let checked = Instant::now();
        let stored = harness.verify(&ledger, &new).await;
        let new_tickets = new.iter().filter(|write| write.message_id.is_none()).count();
        println!(
            "  round {round}/{rounds}: killed {} ms into the writes; {} acknowledged ({new_tickets} tickets, {} replies), \
             {unanswered} unanswered; stored {} tickets, {} messages, mail for {}; all {} acknowledged found ({} ms)",
            kill_after.as_millis(),
            new.len(),
            new.len() - new_tickets,
            stored.tickets,
            stored.messages,
            stored.mails,
            stored.found,
            checked.elapsed().as_millis(),
        );
        totals.unanswered += unanswered;
        totals.found = stored.found;
        totals.tickets_stored = stored.tickets;
        totals.messages_stored = stored.messages;
        totals.postgres_fsync = stored.postgres_fsync;
    }

    // The server comes up once more on what the last kill left, and serves what was acknowledged.
    harness.server.start().await;
    let api = Api {
        http: http_client(),
        base: harness.server.base.clone(),
        cookie,
    };
    assert!(api.signed_in().await, "the session is gone after the last restart");
    for (number, subject) in ledger.tickets.iter().rev().take(3) {
        let (status, page) = api.ticket_page(*number).await;
        assert_eq!(status, 200, "ticket #{number} after the last restart: {page}");
        assert!(
            page.contains(subject.as_str()),
            "ticket #{number} is served whole: {page}"
        );
    }
    harness.server.kill();

    let acknowledged = ledger.tickets.len() + ledger.replies.len();
    assert!(
        acknowledged >= rounds,
        "only {acknowledged} writes were acknowledged in {rounds} rounds: the harness did not load the server"
    );
    let fsync = totals
        .postgres_fsync
        .as_deref()
        .map(|fsync| format!(", PostgreSQL fsync={fsync}"))
        .unwrap_or_default();
    println!(
        "durability {name}: {rounds} rounds ({} killed while starting), {acknowledged} writes acknowledged ({} tickets, \
         {} replies), {} found; stored {} tickets and {} messages ({} tickets and {} messages were written without an \
         answer reaching the client); {} requests unanswered at the kills; {:.1} s, seed {seed}{fsync}",
        totals.startup_kills,
        ledger.tickets.len(),
        ledger.replies.len(),
        totals.found,
        totals.tickets_stored,
        totals.messages_stored,
        totals.tickets_stored.saturating_sub(ledger.tickets.len()),
        totals
            .messages_stored
            .saturating_sub(ledger.tickets.len() + ledger.replies.len()),
        totals.unanswered,
        began.elapsed().as_secs_f64(),
    );
}

#[derive(Default)]
struct Totals {
    startup_kills: usize,
    unanswered: usize,
    found: usize,
    tickets_stored: usize,
    messages_stored: usize,
    postgres_fsync: Option<String>,
}

/// Every write acknowledged so far.
#[derive(Default)]
struct Ledger {
    /// (number, subject) of each ticket.
    tickets: Vec<(i64, String)>,
    /// (ticket number, message id) of each reply.
    replies: Vec<(i64, i64)>,
}
