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

#[path = "api/helpers.rs"]
mod helpers;

use domain::{
    Landlord, StorageConfig,
    db::{self, Db},
    landlord::credentials_context,
    on_db,
};
use helpers::pg_scratch::PgScratch;
use helpers::{Backend, postgres_available, postgres_url, session_cookie};
use secrecy::ExposeSecret;
use serde_json::Value;
use sqlx::Row;
use std::{
    collections::{HashMap, HashSet},
    ffi::{OsStr, OsString},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use tempfile::TempDir;

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

/// One acknowledged write, as sent.
struct Write {
    number: i64,
    /// The reply's message id; `None` for a new ticket (its first message is looked up).
    message_id: Option<i64>,
    /// A new ticket's subject (empty for a reply).
    subject: String,
    /// A word found nowhere else: in the body (and a new ticket's subject), searched for.
    marker: String,
    body: String,
}

/// A small, seedable generator (SplitMix64): the schedule of kills and what each client writes.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// In `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }
}

/// The `n`th marker: `zq` and eight letters. Letters only, so SQLite's FTS5 and PostgreSQL's parser each
/// see one word.
fn marker(n: u64) -> String {
    let mut letters = [b'a'; 8];
    let mut rest = n;
    for letter in letters.iter_mut().rev() {
        *letter = b'a' + (rest % 26) as u8;
        rest /= 26;
    }
    format!("zq{}", String::from_utf8_lossy(&letters))
}

const WORDS: [&str; 12] = [
    "printer", "invoice", "lantern", "orchard", "copper", "violet", "tractor", "harbour", "meadow", "signal", "parcel",
    "ledger",
];

/// A message of one to eleven paragraphs (about 0.1 to 1.2 KB), starting with its marker.
fn body_text(marker: &str, rng: &mut Rng) -> String {
    let mut body = format!("{marker}: a message the durability harness wrote and expects back whole.");
    for line in 1..=rng.below(11) {
        body.push_str(&format!("\n\nLine {line}:"));
        for _ in 0..rng.between(4, 14) {
            body.push(' ');
            body.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
        }
        body.push('.');
    }
    body
}

/// What a client keeps from round to round.
struct ClientState {
    index: usize,
    rng: Rng,
    /// Its tickets' numbers (acknowledged ones only), which it replies to.
    tickets: Vec<i64>,
}

#[derive(Default)]
struct ClientRun {
    writes: Vec<Write>,
    refused: Vec<String>,
    /// Requests that got no whole answer (the server died under them).
    unanswered: usize,
}

enum Outcome<T> {
    Acknowledged(T),
    Refused(String),
    Unanswered,
}

/// Opens tickets and replies to its own until told to stop; a write counts only once its answer is in.
async fn client(
    api: Api,
    mut state: ClientState,
    markers: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> (ClientState, ClientRun) {
    let mut run = ClientRun::default();
    let requester = format!("customer{}@durable.example", state.index);
    while !stop.load(Ordering::SeqCst) {
        let marker = marker(markers.fetch_add(1, Ordering::Relaxed));
        let body = body_text(&marker, &mut state.rng);
        let reply_to = if !state.tickets.is_empty() && state.rng.below(100) < 60 {
            let pick = state.rng.below(state.tickets.len() as u64) as usize;
            Some(state.tickets[pick])
        } else {
            None
        };
        let outcome = match reply_to {
            Some(number) => {
                let answer = api.reply(number, &body).await;
                match answer {
                    Outcome::Acknowledged(message_id) => Outcome::Acknowledged(Write {
                        number,
                        message_id: Some(message_id),
                        subject: String::new(),
                        marker,
                        body,
                    }),
                    Outcome::Refused(why) => Outcome::Refused(why),
                    Outcome::Unanswered => Outcome::Unanswered,
                }
            }
            None => {
                let subject = format!("Durability {marker}");
                let answer = api.create(&subject, &body, &requester).await;
                match answer {
                    Outcome::Acknowledged(number) => {
                        state.tickets.push(number);
                        Outcome::Acknowledged(Write {
                            number,
                            message_id: None,
                            subject,
                            marker,
                            body,
                        })
                    }
                    Outcome::Refused(why) => Outcome::Refused(why),
                    Outcome::Unanswered => Outcome::Unanswered,
                }
            }
        };
        match outcome {
            Outcome::Acknowledged(write) => run.writes.push(write),
            Outcome::Refused(why) => run.refused.push(why),
            Outcome::Unanswered => {
                run.unanswered += 1;
                // The server is gone (or going); do not spin on refused connections until told to stop.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(state.rng.below(15))).await;
    }
    (state, run)
}

/// A fresh HTTP client: the connections of a killed server are of no use to the next one.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// The server's API as the signed-in owner calls it: same-origin posts, as the app makes them.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Api {
    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .header("cookie", &self.cookie)
    }

    async fn call(&self, function: &str, form: &[(&str, &str)]) -> Result<reqwest::Response, reqwest::Error> {
        self.post(&format!("/api/{function}")).form(form).send().await
    }

    /// Opens a ticket; acknowledged is a 200 whose `Location` names the new ticket.
    async fn create(&self, subject: &str, body: &str, requester: &str) -> Outcome<i64> {
        let form = [
            ("slug", SLUG),
            ("requester_email", requester),
            ("requester_name", "Durable Customer"),
            ("subject", subject),
            ("body", body),
        ];
        let Ok(response) = self.call("w/tickets/create", &form).await else {
            return Outcome::Unanswered;
        };
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.unwrap_or_default();
        if status != 200 {
            return Outcome::Refused(format!("opening a ticket: {status} {text}"));
        }
        match location
            .strip_prefix(&format!("/w/{SLUG}/tickets/"))
            .and_then(|number| number.parse().ok())
        {
            Some(number) => Outcome::Acknowledged(number),
            None => Outcome::Refused(format!("opening a ticket: 200, but the location is {location:?}")),
        }
    }

    /// Replies through the composer; acknowledged is a 201 with the message's id.
    async fn reply(&self, number: i64, body: &str) -> Outcome<i64> {
        let form = reqwest::multipart::Form::new()
            .text("kind", "reply")
            .text("body", body.to_owned());
        let Ok(response) = self
            .post(&format!("/w/{SLUG}/tickets/{number}/reply"))
            .multipart(form)
            .send()
            .await
        else {
            return Outcome::Unanswered;
        };
        let status = response.status().as_u16();
        if status != 201 {
            let text = response.text().await.unwrap_or_default();
            return Outcome::Refused(format!("replying to #{number}: {status} {text}"));
        }
        match response.json::<Value>().await {
            Ok(answer) => match answer["message_id"].as_i64() {
                Some(id) => Outcome::Acknowledged(id),
                None => Outcome::Refused(format!("replying to #{number}: 201 without a message id: {answer}")),
            },
            // The status came but not the id: the client cannot tell which message is its own.
            Err(_) => Outcome::Unanswered,
        }
    }

    /// Whether the cookie still signs the owner in.
    async fn signed_in(&self) -> bool {
        match self.call("me", &[]).await {
            Ok(response) if response.status() == 200 => response.json::<Value>().await.is_ok_and(|me| !me.is_null()),
            _ => false,
        }
    }

    /// The agents' ticket page (its JSON): the status and the text.
    async fn ticket_page(&self, number: i64) -> (u16, String) {
        let number = number.to_string();
        match self.call("w/ticket", &[("slug", SLUG), ("number", &number)]).await {
            Ok(response) => {
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            }
            Err(error) => (0, error.to_string()),
        }
    }
}

/// Signs up the owner, which makes the workspace; returns the session cookie.
async fn sign_up(http: &reqwest::Client, base: &str) -> String {
    let response = http
        .post(format!("{base}/api/signup"))
        .header("origin", base)
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("name", "Olive Owner"),
            ("email", OWNER),
            ("organization", "Durable Goods"),
            ("slug", SLUG),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("the sign-up is answered");
    let status = response.status().as_u16();
    let cookie = session_cookie(&response).map(|(name, value, _)| format!("{name}={value}"));
    let text = response.text().await.unwrap_or_default();
    assert_eq!(status, 200, "signing up: {text}");
    cookie.expect("signing up signs in")
}

/// The `ferrodesk serve` process, configured only by its environment.
struct Server {
    child: Option<Child>,
    base: String,
    env: Vec<(String, String)>,
    log: PathBuf,
    /// For `/readyz` (and the sign-up).
    http: reqwest::Client,
}

/// A variable of the test's environment that would configure the server: it gets only the harness's.
fn is_setting(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with("FERRODESK_") || name == "DATABASE_URL" || name == "LEPTOS_SITE_ROOT" || name == "RUST_LOG"
}

impl Server {
    /// Starts the process without waiting for it; its output is appended to the log.
    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the server's log opens");
        let mut command = Command::new(env!("CARGO_BIN_EXE_ferrodesk"));
        command.arg("serve");
        for (name, _) in std::env::vars_os() {
            if is_setting(&name) {
                command.env_remove(name);
            }
        }
        command
            .envs(self.env.iter().map(|(name, value)| (name.as_str(), value.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().expect("the log's handle clones")))
            .stderr(Stdio::from(log));
        self.child = Some(command.spawn().expect("the ferrodesk binary starts"));
    }

    /// SIGKILL (what `Child::kill` sends on Unix), and the process reaped.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server and waits until `/readyz` answers 200 (a start that exits is tried again, twice).
    async fn start(&mut self) {
        for attempt in 1..=3 {
            self.spawn();
            let deadline = Instant::now() + READY_TIMEOUT;
            loop {
                let exited = self.child.as_mut().and_then(|child| child.try_wait().ok().flatten());
                if let Some(status) = exited {
                    eprintln!("the server exited while starting ({status}), attempt {attempt} of 3");
                    self.child = None;
                    break;
                }
                if self.ready().await {
                    return;
                }
                if Instant::now() > deadline {
                    self.kill();
                    panic!("the server was not ready within {READY_TIMEOUT:?}\n{}", self.log_tail());
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!("the server did not start in three attempts\n{}", self.log_tail());
    }

    async fn ready(&self) -> bool {
        let response = self
            .http
            .get(format!("{}/readyz", self.base))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        response.is_ok_and(|response| response.status() == 200)
    }

    /// The end of the server's log, for failure messages.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut start = text.len().saturating_sub(6000);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        format!("the server's log ({}) ends:\n{}", self.log.display(), &text[start..])
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One backend's run: the server, its data, and what the checks have read so far.
struct Harness {
    server: Server,
    /// The storage the server runs on, as its settings make it.
    config: StorageConfig,
    /// `.eml` files of the mail directory already read: name → the Message-ID's key (files never change).
    mail_files: HashMap<OsString, Option<String>>,
    dir: Option<TempDir>,
    /// The landlord and workspace databases on PostgreSQL, dropped after the server is gone.
    _postgres: Option<PgScratch>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.server.kill();
        if std::thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            let kept = dir.keep();
            eprintln!("the data directory and the server's log are kept in {}", kept.display());
        }
    }
}

impl Harness {
    async fn new(backend: Backend) -> Harness {
        let dir = tempfile::Builder::new()
            .prefix("ferrodesk-durability-")
            .tempdir()
            .expect("a temporary directory");
        let data_dir = dir.path().join("data");
        let site_root = dir.path().join("site");
        std::fs::create_dir_all(site_root.join("pkg")).expect("the site directory");
        let (config, postgres) = match backend {
            Backend::Sqlite => (
                StorageConfig {
                    data_dir: data_dir.clone(),
                    ..StorageConfig::default()
                },
                None,
            ),
            Backend::Postgres => {
                let admin_url = postgres_url().expect("a PostgreSQL URL");
                let (config, scratch) = PgScratch::create(&admin_url, &data_dir, StorageConfig::default())
                    .await
                    .expect("a scratch landlord database on PostgreSQL");
                (config, Some(scratch))
            }
        };
        // A port that was free a moment ago; the server binds it again at every start.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut env: Vec<(String, String)> = [
            ("FERRODESK_ADDR", format!("127.0.0.1:{port}")),
            ("FERRODESK_DATA_DIR", data_dir.display().to_string()),
            ("FERRODESK_SITE_ROOT", site_root.display().to_string()),
            ("FERRODESK_ENVIRONMENT", "development".into()),
            ("FERRODESK_LOG_FORMAT", "json".into()),
            // Mail moves from the outbox to the queue to the mail directory while the clients write, so the
            // kills find it at every stage.
            ("FERRODESK_MAIL_POLL_MS", "50".into()),
            ("FERRODESK_AUTH_REQUESTS_PER_MINUTE", "600".into()),
            ("FERRODESK_CHECK_MX", "false".into()),
            ("RUST_LOG", "warn".into()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        if let Some(url) = &config.database_url {
            // Workspace databases go to the landlord's server (no FERRODESK_TENANT_SERVERS), named with the
            // scratch prefix so that they are dropped with it.
            env.push(("DATABASE_URL".into(), url.expose_secret().to_owned()));
            env.push(("FERRODESK_NAME_PREFIX".into(), config.name_prefix.clone()));
        }
        Harness {
            server: Server {
                child: None,
                base: format!("http://127.0.0.1:{port}"),
                env,
                log: dir.path().join("server.log"),
                http: http_client(),
            },
            config,
            mail_files: HashMap::new(),
            dir: Some(dir),
            _postgres: postgres,
        }
    }

    /// Checks the stored data with the server dead (see the module's comment); panics listing what is wrong.
    async fn verify(&mut self, ledger: &Ledger, new: &[Write]) -> Stored {
        let landlord = match Landlord::open(self.config.clone()).await {
            Ok(landlord) => landlord,
            Err(error) => panic!(
                "the landlord does not open after the kill: {error}\n{}",
                self.server.log_tail()
            ),
        };
        let mut failures: Vec<String> = Vec::new();
        let mut postgres_fsync = None;
        match landlord.db() {
            Db::Sqlite(sqlite) => {
                failures.extend(sqlite_integrity("the landlord", sqlite).await);
                failures.extend(sqlite_pragmas("the landlord", sqlite).await);
            }
            Db::Postgres(pg) => {
                failures.extend(synchronous_commit("the landlord", &pg.pool).await);
                postgres_fsync = Some(
                    sqlx::query_scalar::<_, String>("show fsync")
                        .fetch_one(&pg.pool)
                        .await
                        .expect("show fsync"),
                );
            }
        }
        let ws = open_workspace(&landlord, &self.config).await;
        let postgres = match &ws {
            Db::Sqlite(sqlite) => {
                failures.extend(sqlite_integrity("the workspace", sqlite).await);
                failures.extend(sqlite_pragmas("the workspace", sqlite).await);
                false
            }
            Db::Postgres(pg) => {
                failures.extend(synchronous_commit("the workspace", &pg.pool).await);
                true
            }
        };

        // What is stored.
        let tickets: Vec<(i64, i64, String)> = on_db!(&ws, conn => sqlx::query_as(
            "select id, number, subject from tickets",
        )
        .fetch_all(conn)
        .await)
        .expect("the tickets read");
        let messages: Vec<(i64, i64, String)> = on_db!(&ws, conn => sqlx::query_as(
            "select id, ticket_id, kind from messages",
        )
        .fetch_all(conn)
        .await)
        .expect("the messages read");
        let by_number: HashMap<i64, (i64, &str)> = tickets
            .iter()
            .map(|(id, number, subject)| (*number, (*id, subject.as_str())))
            .collect();
        let number_of: HashMap<i64, i64> = tickets.iter().map(|(id, number, _)| (*id, *number)).collect();
        let ticket_of: HashMap<i64, i64> = messages.iter().map(|(id, ticket, _)| (*id, *ticket)).collect();
        let mut first_message: HashMap<i64, i64> = HashMap::new();
        for (id, ticket, _) in &messages {
            first_message
                .entry(*ticket)
                .and_modify(|first| *first = (*first).min(*id))
                .or_insert(*id);
        }

        // Every acknowledged write so far is there.
        let mut found = 0;
        for (number, subject) in &ledger.tickets {
            match by_number.get(number) {
                None => failures.push(format!("acknowledged ticket #{number} ({subject}) is not stored")),
                Some((_, stored)) if stored != subject => {
                    failures.push(format!("ticket #{number} is stored as {stored:?}, not {subject:?}"))
                }
                Some(_) => found += 1,
            }
        }
        for (number, id) in &ledger.replies {
            let ticket = by_number.get(number).map(|(ticket, _)| *ticket);
            match ticket_of.get(id) {
                None => failures.push(format!("acknowledged reply {id} to #{number} is not stored")),
                Some(stored) if Some(*stored) != ticket => {
                    failures.push(format!("reply {id} is stored on ticket id {stored}, not on #{number}"))
                }
                Some(_) => found += 1,
            }
        }

        // This round's writes are whole and searchable.
        let search = if postgres {
            "select count(*) from ticket_search where document @@ to_tsquery('simple', $1) and ticket_id = $2"
        } else {
            "select count(*) from ticket_search where ticket_search match $1 and rowid = $2"
        };
        for write in new {
            let Some((ticket, _)) = by_number.get(&write.number) else {
                continue; // reported above
            };
            let message = match write.message_id {
                Some(id) => id,
                None => match first_message.get(ticket) {
                    Some(first) => *first,
                    None => continue, // a ticket without a message: reported below
                },
            };
            let what = match write.message_id {
                Some(id) => format!("reply {id} to #{}", write.number),
                None => format!("the first message of #{}", write.number),
            };
            match message_body(&ws, message).await {
                None => failures.push(format!("{what} is not stored")),
                Some(body) if body != write.body => failures.push(format!(
                    "{what} is not whole: {} bytes stored, {} sent",
                    body.len(),
                    write.body.len()
                )),
                Some(_) => {}
            }
            let hits: i64 = on_db!(&ws, conn => sqlx::query_scalar(search)
                .bind(write.marker.as_str())
                .bind(*ticket)
                .fetch_one(conn)
                .await)
            .expect("the search row reads");
            if hits != 1 {
                failures.push(format!("the search row of #{} does not find {what}", write.number));
            }
        }

        // Nothing is half-written.
        let checks = if postgres { POSTGRES_CHECKS } else { SQLITE_CHECKS };
        for (what, sql) in COMMON_CHECKS.iter().chain(checks) {
            let wrong: i64 = on_db!(&ws, conn => sqlx::query_scalar(sql).fetch_one(conn).await)
                .unwrap_or_else(|error| panic!("{what}: {error}"));
            if wrong != 0 {
                failures.push(format!("{what}: {wrong}"));
            }
        }

        // Mail: each stored reply's is somewhere, and there is none about a message that is not stored.
        let mail = self.mail_keys(&landlord, &ws, &mut failures).await;
        for (id, ticket, kind) in &messages {
            let Some(number) = number_of.get(ticket) else {
                continue; // a message without a ticket: reported above
            };
            if kind.as_str() == "reply" && !mail.contains(&format!("{SLUG}.{number}.{id}")) {
                failures.push(format!(
                    "message {id} of #{number} is stored, but its mail is in neither the outbox, the queue nor the \
                     mail directory"
                ));
            }
        }
        for key in &mail {
            let Some((number, id)) = key
                .strip_prefix(&format!("{SLUG}."))
                .and_then(|rest| rest.split_once('.'))
            else {
                continue;
            };
            let (Ok(number), Ok(id)) = (number.parse::<i64>(), id.parse::<i64>()) else {
                continue;
            };
            let stored = by_number
                .get(&number)
                .is_some_and(|(ticket, _)| ticket_of.get(&id) == Some(ticket));
            if !stored {
                failures.push(format!(
                    "there is mail about message {id} of #{number}, which is not stored"
                ));
            }
        }

        ws.close().await;
        landlord.db().close().await;
        if !failures.is_empty() {
            panic!(
                "{} problem(s) after the kill:\n  {}\n{}",
                failures.len(),
                failures[..failures.len().min(SHOWN_FAILURES)].join("\n  "),
                self.server.log_tail()
            );
        }
        Stored {
            tickets: tickets.len(),
            messages: messages.len(),
            mails: mail.len(),
            found,
            postgres_fsync,
        }
    }

    /// The keys (`slug.number.message`, from the Message-ID) of every message in the workspace's outbox, the
    /// landlord's job queue and the mail directory.
    async fn mail_keys(&mut self, landlord: &Landlord, ws: &Db, failures: &mut Vec<String>) -> HashSet<String> {
        let mut keys = HashSet::new();
        let outbox: Vec<String> = on_db!(ws, conn => sqlx::query_scalar("select payload from outbox")
            .fetch_all(conn)
            .await)
        .expect("the outbox reads");
        for payload in outbox {
            match serde_json::from_str::<domain::mail::Email>(&payload) {
                Ok(email) => keys.extend(email.message_id.as_deref().and_then(mail_key)),
                Err(error) => failures.push(format!("an outbox entry does not parse: {error}")),
            }
        }
        let queued: Vec<String> = on_db!(landlord.db(), conn => sqlx::query_scalar(
            "select payload from jobs where kind = 'email'",
        )
        .fetch_all(conn)
        .await)
        .expect("the job queue reads");
        for payload in queued {
            match domain::mail::open_payload(landlord, &payload) {
                Ok(email) => keys.extend(email.message_id.as_deref().and_then(mail_key)),
                Err(error) => failures.push(format!("a queued email does not open: {error}")),
            }
        }
        let dir = self.config.data_dir.join("mail");
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name();
            if self.mail_files.contains_key(&name) || entry.path().extension() != Some(OsStr::new("eml")) {
                continue;
            }
            let key = eml_message_id(&entry.path()).as_deref().and_then(mail_key);
            self.mail_files.insert(name, key);
        }
        keys.extend(self.mail_files.values().flatten().cloned());
        keys
    }
}

/// What a check found stored.
struct Stored {
    tickets: usize,
    messages: usize,
    mails: usize,
    /// Acknowledged writes found (so far, all of them).
    found: usize,
    postgres_fsync: Option<String>,
}

/// `<durable.12.34@host>` → `durable.12.34`.
fn mail_key(message_id: &str) -> Option<String> {
    let id = message_id.trim().trim_start_matches('<');
    id.split_once('@').map(|(key, _)| key.to_owned())
}

/// The Message-ID header of an `.eml` file.
fn eml_message_id(path: &Path) -> Option<String> {
    let raw = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let headers: Vec<&str> = text.lines().take_while(|line| !line.is_empty()).collect();
    for (at, line) in headers.iter().enumerate() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("message-id") {
            let value = value.trim();
            // A folded header continues on the next line.
            return if value.is_empty() {
                headers.get(at + 1).map(|next| next.trim().to_owned())
            } else {
                Some(value.to_owned())
            };
        }
    }
    None
}

/// Opens the workspace's database as the server does, with its sealed key or role URL.
async fn open_workspace(landlord: &Landlord, config: &StorageConfig) -> Db {
    let workspace = landlord
        .workspace_by_slug(SLUG)
        .await
        .expect("the workspace is in the landlord");
    let sealed = landlord
        .sealed_credentials(workspace.id)
        .await
        .expect("the workspace's credentials are stored");
    let credentials = landlord
        .keys()
        .open(&sealed, &credentials_context(workspace.id))
        .expect("the workspace's credentials open");
    match workspace.backend {
        db::Backend::Sqlite => {
            let key: [u8; 32] = hex::decode(credentials.as_slice())
                .expect("a hex key")
                .try_into()
                .expect("a 32-byte key");
            let path = config.data_dir.join("workspaces").join(format!("{}.db", workspace.id));
            Db::Sqlite(
                db::sqlite_pool(db::sqlite_options(&path, &key, false), 2)
                    .await
                    .expect("the workspace's file opens after the kill"),
            )
        }
        db::Backend::Postgres => {
            let url = std::str::from_utf8(credentials.as_slice()).expect("a role URL");
            Db::Postgres(db::PgDb::new(
                db::postgres_workspace_pool(url, 2)
                    .await
                    .expect("the workspace's database answers"),
            ))
        }
    }
}

async fn message_body(ws: &Db, id: i64) -> Option<String> {
    on_db!(ws, conn => sqlx::query_scalar("select body from messages where id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await)
    .expect("a message reads")
}

/// `PRAGMA integrity_check` and SQLCipher's `cipher_integrity_check` (each page's HMAC).
async fn sqlite_integrity(name: &str, sqlite: &db::SqliteDb) -> Vec<String> {
    let mut failures = Vec::new();
    let integrity: Vec<String> = sqlx::query_scalar("pragma integrity_check")
        .fetch_all(&sqlite.pool)
        .await
        .expect("integrity_check runs");
    if integrity != ["ok"] {
        failures.push(format!("{name}: PRAGMA integrity_check says {integrity:?}"));
    }
    // `cipher_integrity_check` reads the database file alone, not the WAL. After a kill during a checkpoint
    // the file may hold pages the checkpoint had made room for but not yet copied (zeros, which fail their
    // HMAC) while the WAL still holds them whole; the next open finishes the copy. So the WAL is first
    // checkpointed, as that open would, and then every page of the file must carry a valid HMAC.
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("pragma wal_checkpoint(TRUNCATE)")
        .fetch_one(&sqlite.pool)
        .await
        .expect("wal_checkpoint runs");
    if busy != 0 {
        failures.push(format!("{name}: the WAL could not be checkpointed"));
    }
    let pages = sqlx::query("pragma cipher_integrity_check")
        .fetch_all(&sqlite.pool)
        .await
        .expect("cipher_integrity_check runs");
    for page in pages {
        let problem: String = page.try_get(0).unwrap_or_else(|_| "(unreadable)".into());
        failures.push(format!("{name}: PRAGMA cipher_integrity_check says {problem}"));
    }
    failures
}

/// The journal mode and `synchronous` of the writing connection (the one every commit goes through, taken
/// through the write gate as writers take it) and `synchronous` of a reading one.
async fn sqlite_pragmas(name: &str, sqlite: &db::SqliteDb) -> Vec<String> {
    let mut failures = Vec::new();
    let mut tx = sqlite.begin_write().await.expect("the writing connection");
    let journal_mode: String = sqlx::query_scalar("pragma journal_mode")
        .fetch_one(tx.conn())
        .await
        .expect("journal_mode reads");
    let synchronous: i64 = sqlx::query_scalar("pragma synchronous")
        .fetch_one(tx.conn())
        .await
        .expect("synchronous reads");
    tx.commit().await.expect("an empty write commits");
    let reading: i64 = sqlx::query_scalar("pragma synchronous")
        .fetch_one(&sqlite.pool)
        .await
        .expect("synchronous reads");
    if journal_mode != "wal" {
        failures.push(format!(
            "{name}: the writing connection's journal_mode is {journal_mode}, not wal"
        ));
    }
    if synchronous != 2 {
        failures.push(format!(
            "{name}: the writing connection's synchronous is {synchronous}, not 2 (FULL)"
        ));
    }
    if reading != 2 {
        failures.push(format!(
            "{name}: a reading connection's synchronous is {reading}, not 2 (FULL)"
        ));
    }
    failures
}

/// PostgreSQL's `synchronous_commit` on a connection made as the server makes its own.
async fn synchronous_commit(name: &str, pool: &sqlx::PgPool) -> Vec<String> {
    let value: String = sqlx::query_scalar("show synchronous_commit")
        .fetch_one(pool)
        .await
        .expect("synchronous_commit reads");
    if value == "on" {
        Vec::new()
    } else {
        vec![format!("{name}: synchronous_commit is {value}, not on")]
    }
}

/// Each counts rows that a half-written change would leave; all must be 0.
const COMMON_CHECKS: &[(&str, &str)] = &[
    (
        "tickets without a message",
        "select count(*) from tickets t where not exists (select 1 from messages m where m.ticket_id = t.id)",
    ),
    (
        "messages without a ticket",
        "select count(*) from messages m where not exists (select 1 from tickets t where t.id = m.ticket_id)",
    ),
    (
        "tickets without a requester",
        "select count(*) from tickets t where not exists (select 1 from customers c where c.id = t.requester_id)",
    ),
    (
        "tickets without a thread id",
        "select count(*) from tickets where thread_id = ''",
    ),
    (
        "(status, assignee) pairs whose view count disagrees with the tickets",
        "select count(*) from (
             select status, assignee from (
                 select status, coalesce(assignee_account_id, 0) as assignee, 1 as n from tickets
                 union all
                 select status, assignee, -n from ticket_counts
             ) as parts
             group by status, assignee
             having sum(n) <> 0
         ) as wrong",
    ),
];

const SQLITE_CHECKS: &[(&str, &str)] = &[
    (
        "tickets without a search row",
        "select count(*) from tickets t where not exists (select 1 from ticket_search s where s.rowid = t.id)",
    ),
    (
        "search rows without a ticket",
        "select count(*) from ticket_search s where not exists (select 1 from tickets t where t.id = s.rowid)",
    ),
    (
        "missing ticket numbers (SQLite numbers them without gaps)",
        "select (select coalesce(max(number), 0) from tickets) - (select count(*) from tickets)",
    ),
    (
        "the ticket counter minus the last number",
        "select (select value from counters where name = 'ticket_number') - (select coalesce(max(number), 0) from tickets)",
    ),
];

const POSTGRES_CHECKS: &[(&str, &str)] = &[
    (
        "tickets without a search row",
        "select count(*) from tickets t where not exists (select 1 from ticket_search s where s.ticket_id = t.id)",
    ),
    (
        "search rows without a ticket",
        "select count(*) from ticket_search s where not exists (select 1 from tickets t where t.id = s.ticket_id)",
    ),
];
