//! Ticket benchmark: prints numbers, asserts nothing.
//!
//! `cargo bench -p server --bench tickets -- [--tickets N] [--backend sqlite|postgres] [--requests N]
//! [--seconds N] [--creations N] [--data-dir DIR] [--only latency,throughput,create|list] [--encoding E]`
//! (`make bench-tickets TICKETS=… BACKEND=…`). Starts the real server in this process on a fresh data
//! directory, signs an owner up over HTTP, seeds the workspace with `ferrodesk seed`'s generator, then
//! measures over HTTP with keep-alive connections, as a browser would (but asking for uncompressed pages
//! unless `--encoding` gives an `Accept-Encoding`, as Chromium's `gzip, deflate, br, zstd`):
//! the full list page (server-rendered, filtered, 50 rows), a static file on the same connection, the view
//! counts, a ticket page, search for a
//! rare and a common word, list pages per second with 8 connections, durable ticket creation (each
//! answered after its commit) with 8 connections, and the memory the process holds. `--only list` (never
//! part of a default run) makes `--requests` All-open list pages and nothing else: run under callgrind with
//! two request counts, the difference of the totals is the instructions of that many list pages.

mod measure;

use measure::{Usage, cost_per, percentiles, rss_kb, status_number};
use server::{Application, Settings, assets::AssetManifest};
use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

/// The server's allocator (see `src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    tickets: u64,
    postgres: bool,
    requests: usize,
    seconds: u64,
    /// SQLite only: a data directory kept between runs. The first run seeds it; later runs measure the
    /// same workspace again (with the tickets earlier runs created) without seeding.
    data_dir: Option<std::path::PathBuf>,
    /// Only these parts (`latency`, `throughput`, `create`), for profiling one of them.
    only: Option<String>,
    /// How many tickets the creation part creates: enough to include the index merges and WAL checkpoints
    /// that some commits pay for, which a short run may or may not meet.
    creations: u64,
    /// An `Accept-Encoding` for the page requests (a browser sends one, and the server then compresses
    /// every page); without it the pages come uncompressed.
    encoding: Option<String>,
}

impl Args {
    fn runs(&self, part: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|only| only.split(',').any(|p| p == part))
    }
}

fn args() -> Args {
    let mut args = Args {
        tickets: 100_000,
        postgres: false,
        requests: 300,
        seconds: 10,
        data_dir: None,
        only: None,
        creations: 6000,
        encoding: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--tickets" => args.tickets = it.next().and_then(|v| v.parse().ok()).expect("--tickets N"),
            "--backend" => args.postgres = it.next().as_deref() == Some("postgres"),
            "--requests" => args.requests = it.next().and_then(|v| v.parse().ok()).expect("--requests N"),
            "--seconds" => args.seconds = it.next().and_then(|v| v.parse().ok()).expect("--seconds N"),
            "--only" => args.only = it.next(),
            "--creations" => args.creations = it.next().and_then(|v| v.parse().ok()).expect("--creations N"),
            "--data-dir" => args.data_dir = Some(it.next().expect("--data-dir DIR").into()),
            "--encoding" => args.encoding = Some(it.next().expect("--encoding ACCEPT-ENCODING")),
            _ => {}
        }
    }
    args
}

struct Client {
    http: reqwest::Client,
    base: String,
    cookie: String,
    encoding: Option<String>,
    /// The page bytes received (as sent: compressed when an encoding was asked for).
    received: AtomicU64,
}

impl Client {
    async fn get(&self, path: &str) -> Duration {
        let started = Instant::now();
        let mut request = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie);
        if let Some(encoding) = &self.encoding {
            request = request.header("accept-encoding", encoding);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.bytes().await.unwrap();
        self.received.fetch_add(body.len() as u64, Ordering::Relaxed);
        assert!(
            status.is_success(),
            "{path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        started.elapsed()
    }

    async fn call(&self, function: &str, form: &[(&str, &str)]) -> Duration {
        let started = Instant::now();
        let response = self
            .http
            .post(format!("{}/api/{function}", self.base))
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .header("cookie", &self.cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.bytes().await.unwrap();
        assert!(
            status.is_success(),
            "{function}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        started.elapsed()
    }
}

/// The seeding runs in a child process (this program again, with `FD_BENCH_SEED` set), so the memory it
/// uses is not counted as the server's.
async fn seed_child(tickets: u64) {
    use secrecy::SecretString;
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let storage = domain::StorageConfig {
        data_dir: env("FD_BENCH_DATA_DIR").unwrap().into(),
        database_url: env("FD_BENCH_DATABASE_URL").map(SecretString::from),
        tenant_servers: env("FD_BENCH_TENANT").map(SecretString::from).into_iter().collect(),
        name_prefix: env("FD_BENCH_PREFIX").unwrap_or_else(|| "ferrodesk".into()),
        ..domain::StorageConfig::default()
    };
    let router = domain::TenantRouter::new(Arc::new(domain::Landlord::open(storage).await.unwrap())).unwrap();
    let started = Instant::now();
    let report = server::seeding::seed_workspace(&router, "bench", tickets, 8, |done, total| {
        if done % 100_000 == 0 || done == total {
            eprintln!("  seeded {done}/{total}");
        }
    })
    .await
    .unwrap();
    let seed_secs = started.elapsed().as_secs_f64();
    println!(
        "seeding (a separate process): {} tickets, {} messages, {} requesters in {:.1} s ({:.0} tickets/s), peak RSS {} MB",
        report.tickets,
        report.messages,
        report.customers,
        seed_secs,
        report.tickets as f64 / seed_secs,
        rss_kb("VmHWM:") / 1024
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    if std::env::var("FD_BENCH_SEED").is_ok() {
        seed_child(args.tickets).await;
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let kept = args.data_dir.clone().filter(|_| !args.postgres);
    let root = kept.clone().unwrap_or_else(|| temp.path().to_owned());
    let cookie_file = root.join("bench-cookie");
    let reused = std::fs::read_to_string(&cookie_file).ok();
    let site = root.join("site");
    testkit::app::write_site(&site, false);
    let mut settings = Settings {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: root.join("data"),
        site_root: site,
        auth_requests_per_minute: 1000,
        ..Settings::default()
    };
    let _scratch = if args.postgres {
        Some(testkit::app::on_postgres(&mut settings).await)
    } else {
        None
    };
    let backend = if args.postgres {
        "PostgreSQL"
    } else {
        "SQLite (SQLCipher)"
    };
    println!(
        "ferrodesk ticket benchmark: {backend}, {} tickets, {} cores",
        args.tickets,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let storage = settings.storage();
    let application = Application::build_with_assets(settings, AssetManifest { hashes: None })
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped(std::future::pending()));

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = match reused {
        Some(cookie) => {
            println!("reusing the workspace seeded in {}", root.display());
            let still_valid = http
                .get(format!("{base}/w/bench/tickets"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap()
                .status()
                .is_success();
            if still_valid {
                cookie
            } else {
                let cookie = sign_in(&http, &base).await;
                std::fs::write(&cookie_file, &cookie).unwrap();
                cookie
            }
        }
        None => {
            let cookie = sign_up(&http, &base).await;
            seed(&storage, args.tickets);
            if kept.is_some() {
                std::fs::write(&cookie_file, &cookie).unwrap();
            }
            cookie
        }
    };
    let client = Arc::new(Client {
        http,
        base,
        cookie,
        encoding: args.encoding.clone(),
        received: AtomicU64::new(0),
    });
    if let Some(encoding) = &args.encoding {
        println!("page requests send Accept-Encoding: {encoding}");
    }

    if args
        .only
        .as_deref()
        .is_some_and(|only| only.split(',').any(|part| part == "list"))
    {
        client.get("/w/bench/tickets?status=unsolved").await;
        for _ in 0..args.requests {
            client.get("/w/bench/tickets?status=unsolved").await;
        }
        println!("{} list pages, All open", args.requests);
    }
    if args.runs("latency") {
        let n = args.requests;
        // Warm the workspace's pool and caches once.
        client.get("/w/bench/tickets?status=unsolved").await;

        let mut samples = Vec::new();
        for _ in 0..n {
            samples.push(client.get("/w/bench/tickets?status=unsolved").await);
        }
        percentiles("list page, All open (50 rows, full HTML)", samples);
        // On the same kept-alive connection: a static file must come faster than a page.
        let mut samples = Vec::new();
        for _ in 0..n {
            samples.push(client.get("/pkg/ferrodesk.css").await);
        }
        percentiles("static file (/pkg stylesheet, 4.6 KB)", samples);
        let mut samples = Vec::new();
        for _ in 0..n {
            samples.push(client.get("/w/bench/tickets?status=unsolved&assignee=me").await);
        }
        percentiles("list page, My open (full HTML)", samples);
        let mut samples = Vec::new();
        for i in 0..n {
            let priority = ["urgent", "high", "low"][i % 3];
            samples.push(
                client
                    .get(&format!(
                        "/w/bench/tickets?status=solved&priority={priority}&sort=oldest"
                    ))
                    .await,
            );
        }
        percentiles("list page, solved by priority, oldest first", samples);
        let mut samples = Vec::new();
        for _ in 0..n {
            samples.push(client.call("w/tickets/counts", &[("slug", "bench")]).await);
        }
        percentiles("view counts (server function)", samples);
        let mut samples = Vec::new();
        let mut seed = 0x9e37_79b9_u64;
        for _ in 0..n {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let number = seed % args.tickets + 1;
            samples.push(client.get(&format!("/w/bench/tickets/{number}")).await);
        }
        percentiles("ticket page (full HTML, random ticket)", samples);
        for (label, word) in [
            ("search, rare word (full HTML)", domain::workspace::seed::RARE_WORD),
            ("search, common word (full HTML)", domain::workspace::seed::COMMON_WORD),
            ("search, two common words (full HTML)", "dashboard please"),
        ] {
            let mut samples = Vec::new();
            for _ in 0..n.min(200) {
                samples.push(
                    client
                        .get(&format!("/w/bench/tickets?q={}", word.replace(' ', "+")))
                        .await,
                );
            }
            percentiles(label, samples);
        }
    }
    if args.runs("throughput") {
        // Throughput with 8 connections.
        let done = Arc::new(AtomicU64::new(0));
        let received_before = client.received.load(Ordering::Relaxed);
        let before = Usage::now();
        let until = Instant::now() + Duration::from_secs(args.seconds);
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let client = client.clone();
            let done = done.clone();
            tasks.push(tokio::spawn(async move {
                while Instant::now() < until {
                    client.get("/w/bench/tickets?status=unsolved").await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        println!(
            "list pages per second, 8 connections: {:.0}",
            done.load(Ordering::Relaxed) as f64 / args.seconds as f64
        );
        cost_per("page", done.load(Ordering::Relaxed), before);
        println!(
            "  {:.1} KB received per page",
            (client.received.load(Ordering::Relaxed) - received_before) as f64
                / done.load(Ordering::Relaxed).max(1) as f64
                / 1000.0
        );
    }
    if args.runs("create") {
        // Durable creation with 8 connections.
        let total = args.creations;
        let next = Arc::new(AtomicU64::new(0));
        let before = Usage::now();
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let client = client.clone();
            let next = next.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let email = format!("bench{}@customer.example", i % 400);
                    let subject = format!("Benchmark ticket {i}");
                    client
                        .call(
                            "w/tickets/create",
                            &[
                                ("slug", "bench"),
                                ("requester_email", &email),
                                ("subject", &subject),
                                (
                                    "body",
                                    "The dashboard does not load since this morning. Could you please take a look?",
                                ),
                            ],
                        )
                        .await;
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "durable ticket creations per second, 8 connections: {:.0} ({total} in {secs:.1} s)",
            total as f64 / secs
        );
        cost_per("creation", total, before);
    }
    println!(
        "memory of the server process (with the benchmark's HTTP client in it): RSS {} MB now, peak {} MB",
        rss_kb("VmRSS:") / 1024,
        rss_kb("VmHWM:") / 1024
    );
    if args.postgres {
        // PSS: each page counted once in all, shared among the processes that map it (the shared buffers
        // are mapped by every backend, so summing RSS would count them once per process).
        let pss_kb: u64 = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| {
                std::fs::read_to_string(entry.path().join("comm")).is_ok_and(|comm| comm.trim() == "postgres")
            })
            .map(|entry| status_number(&entry.path().join("smaps_rollup"), "Pss:"))
            .sum();
        let server_kb = rss_kb("VmRSS:");
        println!(
            "PostgreSQL server processes: {} MB PSS summed; with this process's RSS: {} MB in all",
            pss_kb / 1024,
            (pss_kb + server_kb) / 1024
        );
    }
    let disk = dir_size(&root.join("data"));
    if !args.postgres {
        println!("data directory: {} MB", disk / (1024 * 1024));
    }
}

const OWNER_EMAIL: &str = "owner@bench.example";
const OWNER_PASSWORD: &str = "violet tractor umbrella 93";

async fn sign_up(http: &reqwest::Client, base: &str) -> String {
    let form = [
        ("name", "Bench Owner"),
        ("email", OWNER_EMAIL),
        ("organization", "Bench"),
        ("slug", "bench"),
        ("password", OWNER_PASSWORD),
    ];
    session_cookie(http, base, "signup", &form).await
}

/// A new sign-in for the owner, when a kept workspace's saved session has ended.
async fn sign_in(http: &reqwest::Client, base: &str) -> String {
    session_cookie(
        http,
        base,
        "signin",
        &[("email", OWNER_EMAIL), ("password", OWNER_PASSWORD)],
    )
    .await
}

async fn session_cookie(http: &reqwest::Client, base: &str, function: &str, form: &[(&str, &str)]) -> String {
    let signed_up = http
        .post(format!("{base}/api/{function}"))
        .header("origin", base)
        .header("sec-fetch-site", "same-origin")
        .form(form)
        .send()
        .await
        .unwrap();
    assert!(
        signed_up.status().is_success() || signed_up.status().is_redirection(),
        "{function}: {}",
        signed_up.text().await.unwrap()
    );
    signed_up
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ferrodesk="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned()
}

/// Seeds beside the server, as `ferrodesk seed` would, in a process of its own.
fn seed(storage: &domain::StorageConfig, tickets: u64) {
    use secrecy::ExposeSecret;
    let expose = |v: Option<&secrecy::SecretString>| v.map(|v| v.expose_secret().to_owned()).unwrap_or_default();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--tickets", &tickets.to_string()])
        .env("FD_BENCH_SEED", "1")
        .env("FD_BENCH_DATA_DIR", &storage.data_dir)
        .env("FD_BENCH_DATABASE_URL", expose(storage.database_url.as_ref()))
        .env("FD_BENCH_TENANT", expose(storage.tenant_servers.first()))
        .env("FD_BENCH_PREFIX", &storage.name_prefix)
        .status()
        .unwrap();
    assert!(status.success(), "seeding failed");
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    let meta = e.metadata().unwrap();
                    if meta.is_dir() { dir_size(&e.path()) } else { meta.len() }
                })
                .sum()
        })
        .unwrap_or(0)
}
