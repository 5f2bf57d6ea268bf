//! What the ticket benchmark measures besides latency: percentiles, and the CPU time and memory of this
//! process, PostgreSQL's processes and the machine, read from `/proc`.

use std::{path::Path, time::Duration};

pub fn percentiles(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |p: f64| {
        samples[((samples.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(samples.len() - 1)]
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<44} p50 {:>7.2} ms   p95 {:>7.2} ms   p99 {:>7.2} ms   (n={})",
        ms(at(0.50)),
        ms(at(0.95)),
        ms(at(0.99)),
        samples.len()
    );
}

/// What the machine has done so far: this process's CPU time (all threads, user and kernel) and its
/// threads' context switches, PostgreSQL's processes' CPU time, and the whole machine's busy, idle and
/// stolen time (`/proc/stat`). Divided by the work done between two snapshots, these tell two runs apart
/// on a machine whose speed varies from minute to minute, where pages per second alone does not; stolen
/// time is what the machine's host gave to others.
pub struct Usage {
    cpu: Duration,
    switches: u64,
    /// CPU ticks of each PostgreSQL process by pid (one that exits before the next snapshot is not counted).
    postgres: std::collections::HashMap<String, u64>,
    busy: Duration,
    idle: Duration,
    steal: Duration,
}

/// The kernel counts CPU time in clock ticks of 1/100 s on Linux (USER_HZ).
pub fn ticks(n: u64) -> Duration {
    Duration::from_millis(n * 10)
}

/// A process's command name and its user and kernel CPU ticks, from `/proc/<pid>/stat`.
pub fn process_ticks(stat: &Path) -> Option<(String, u64)> {
    let stat = std::fs::read_to_string(stat).ok()?;
    let (head, rest) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_owned();
    // Fields after the command name: utime and stime are the 12th and 13th.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let used = fields.get(11..13)?.iter().filter_map(|v| v.parse::<u64>().ok()).sum();
    Some((name, used))
}

impl Usage {
    pub fn now() -> Usage {
        let own = process_ticks(Path::new("/proc/self/stat")).map_or(0, |(_, t)| t);
        let switches = std::fs::read_dir("/proc/self/task")
            .map(|tasks| {
                tasks
                    .flatten()
                    .map(|task| {
                        let status = task.path().join("status");
                        status_number(&status, "voluntary_ctxt_switches:")
                            + status_number(&status, "nonvoluntary_ctxt_switches:")
                    })
                    .sum()
            })
            .unwrap_or(0);
        let postgres = std::fs::read_dir("/proc")
            .map(|procs| {
                procs
                    .flatten()
                    .filter_map(|p| {
                        let (name, used) = process_ticks(&p.path().join("stat"))?;
                        (name == "postgres").then(|| (p.file_name().to_string_lossy().into_owned(), used))
                    })
                    .collect()
            })
            .unwrap_or_default();
        // cpu  user nice system idle iowait irq softirq steal ...
        let machine: Vec<u64> = std::fs::read_to_string("/proc/stat")
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let at = |i: usize| machine.get(i).copied().unwrap_or(0);
        Usage {
            cpu: ticks(own),
            switches,
            postgres,
            busy: ticks(at(0) + at(1) + at(2) + at(5) + at(6)),
            idle: ticks(at(3) + at(4)),
            steal: ticks(at(7)),
        }
    }
}

/// Prints what one unit of work cost in CPU time and context switches since `before`.
pub fn cost_per(unit: &str, count: u64, before: Usage) {
    let after = Usage::now();
    let count = count.max(1) as f64;
    let per = |a: Duration, b: Duration| a.saturating_sub(b).as_secs_f64() * 1000.0 / count;
    let postgres: u64 = after
        .postgres
        .iter()
        .map(|(pid, used)| used.saturating_sub(before.postgres.get(pid).copied().unwrap_or(0)))
        .sum();
    println!(
        "  per {unit}: {:.2} ms CPU (server and client together), {:.1} context switches",
        per(after.cpu, before.cpu),
        (after.switches - before.switches) as f64 / count
    );
    let total = (after.busy + after.idle + after.steal) - (before.busy + before.idle + before.steal);
    let share = |a: Duration, b: Duration| 100.0 * a.saturating_sub(b).as_secs_f64() / total.as_secs_f64().max(1e-9);
    println!(
        "  per {unit}: {:.2} ms CPU in PostgreSQL's processes, {:.2} ms on the whole machine; machine {:.0} % busy, {:.0} % idle, {:.0} % stolen",
        per(ticks(postgres), Duration::ZERO),
        per(after.busy, before.busy),
        share(after.busy, before.busy),
        share(after.idle, before.idle),
        share(after.steal, before.steal)
    );
}

/// A number from a `/proc/…/status` or `smaps_rollup` file, by its field name (`VmRSS:`, a unit after it is ignored).
pub fn status_number(path: &Path, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

pub fn rss_kb(field: &str) -> u64 {
    status_number(Path::new("/proc/self/status"), field)
}
