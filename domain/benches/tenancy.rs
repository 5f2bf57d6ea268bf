//! Storage benchmark: prints numbers, asserts nothing. `make bench` (or `cargo bench -p domain`).
//!
//! Measures workspace creation on each backend, a cold open (pool + key + schema check), a warm lookup
//! (cache hit), the resident memory after 1,000 workspaces have been opened in turn, and what SQLCipher
//! costs against plain SQLite for durable single-row writes and point reads.

use domain::{Landlord, StorageConfig, TenantRouter, WorkspaceId, db};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use testkit::postgres::PgScratch;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!(
        "ferrodesk storage benchmark ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let dir = tempfile::tempdir().unwrap();

    let sqlite = StorageConfig {
        data_dir: dir.path().join("sqlite"),
        ..Default::default()
    };
    run_backend("SQLite (SQLCipher)", sqlite.clone(), 200).await;
    rss_after_opening_many(
        StorageConfig {
            data_dir: dir.path().join("many"),
            ..Default::default()
        },
        1000,
    )
    .await;
    sqlcipher_overhead(dir.path()).await;

    let admin_url = testkit::postgres::url();
    match PgScratch::create(&admin_url, &dir.path().join("pg"), StorageConfig::default()).await {
        Some((config, _scratch)) => run_backend("PostgreSQL", config, 20).await,
        None => println!("\nPostgreSQL: skipped, no server at {admin_url}"),
    }
}

async fn run_backend(label: &str, config: StorageConfig, count: usize) {
    println!("\n{label}");
    let router = TenantRouter::new(Arc::new(Landlord::open(config.clone()).await.unwrap())).unwrap();
    let mut creation = Vec::new();
    let mut ids = Vec::new();
    for n in 0..count {
        let started = Instant::now();
        let ws = router
            .create_workspace(&format!("bench-{n:05}"), "Bench")
            .await
            .unwrap();
        creation.push(started.elapsed());
        ids.push(ws.id);
    }
    report("workspace creation", &mut creation, count);

    // A router with an empty cache: every first open is cold.
    let cold_router = TenantRouter::new(Arc::new(Landlord::open(config.clone()).await.unwrap())).unwrap();
    let mut cold = Vec::new();
    for id in &ids {
        let started = Instant::now();
        let ws = cold_router.open(*id).await.unwrap();
        cold.push(started.elapsed());
        drop(ws);
    }
    report("cold open", &mut cold, ids.len());

    let id: WorkspaceId = ids[0];
    cold_router.open(id).await.unwrap();
    let iterations = 100_000;
    let mut warm = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        let ws = cold_router.open(id).await.unwrap();
        warm.push(started.elapsed());
        drop(ws);
    }
    report("warm lookup", &mut warm, iterations);
}

async fn rss_after_opening_many(config: StorageConfig, count: usize) {
    println!(
        "\nSQLite: {count} workspaces opened in turn (bound {})",
        config.max_open_workspaces
    );
    let router = TenantRouter::new(Arc::new(Landlord::open(config).await.unwrap())).unwrap();
    let before = rss_kib();
    let mut ids = Vec::new();
    for n in 0..count {
        ids.push(
            router
                .create_workspace(&format!("many-{n:05}"), "Many")
                .await
                .unwrap()
                .id,
        );
    }
    for id in &ids {
        let ws = router.open(*id).await.unwrap();
        domain::workspace::settings::set(&ws, "touched", "yes").await.unwrap();
    }
    println!(
        "  RSS {:.1} MiB (peak {:.1} MiB, {:.1} MiB before), open pools {}",
        rss_kib() as f64 / 1024.0,
        status_kib("VmHWM:") as f64 / 1024.0,
        before as f64 / 1024.0,
        router.open_pools()
    );
}

async fn sqlcipher_overhead(dir: &std::path::Path) {
    println!("\nSQLCipher against plain SQLite (WAL, synchronous=FULL, one connection)");
    let key = [7u8; 32];
    let encrypted = db::sqlite_options(&dir.join("encrypted.db"), &key, true);
    let plain = db::sqlite_unencrypted_options(&dir.join("plain.db"), true);
    for (label, options) in [("plain", plain), ("SQLCipher", encrypted)] {
        let pool = db::sqlite_pool(options, 1).await.unwrap().pool;
        sqlx::query("create table t (id integer primary key, body text not null)")
            .execute(&pool)
            .await
            .unwrap();
        let body = "x".repeat(500);
        let writes = 2_000;
        let started = Instant::now();
        for _ in 0..writes {
            sqlx::query("insert into t (body) values ($1)")
                .bind(&body)
                .execute(&pool)
                .await
                .unwrap();
        }
        let write = started.elapsed();
        let reads = 50_000;
        let started = Instant::now();
        for n in 0..reads {
            let _: String = sqlx::query_scalar("select body from t where id = $1")
                .bind((n % writes) as i64 + 1)
                .fetch_one(&pool)
                .await
                .unwrap();
        }
        let read = started.elapsed();
        println!(
            "  {label:<9}  durable inserts {:>7.0}/s   point reads {:>7.0}/s",
            writes as f64 / write.as_secs_f64(),
            reads as f64 / read.as_secs_f64()
        );
        pool.close().await;
    }
}

fn report(label: &str, samples: &mut [Duration], count: usize) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "  {label:<20} n={count:<6} mean {:>10}  p50 {:>10}  p95 {:>10}  p99 {:>10}",
        fmt(mean),
        fmt(pick(0.50)),
        fmt(pick(0.95)),
        fmt(pick(0.99))
    );
}

fn fmt(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.2} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }
}

fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
