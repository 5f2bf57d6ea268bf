//! Sliding-window limits for sign-in and the other auth endpoints (ASVS 6.3.1, 2.4.1).
//!
//! Two uses: a cap on all requests per client address (throttling), and a cap on *failures* per account
//! (at most 100 wrong passwords an hour, ASVS 6.1.1). Neither locks anyone out for good: a window slides,
//! and the answer says when to try again (`Retry-After`). Time is passed in, so tests can move it.
//! The counts live in this process; with several nodes each enforces its own, which bounds an attacker at
//! (nodes × limit) — written down in docs/security.md.

use chrono::{DateTime, Duration, Utc};
use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

pub struct SlidingWindow {
    max: usize,
    window: Duration,
    events: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

/// Refused until `retry_after` has passed.
#[derive(Debug, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: Duration,
}

impl Limited {
    /// Logs the refusal of `key` by the limit named `what` (the security log's `rate_limited` event) and
    /// returns the whole seconds to wait, at least one, for `Retry-After`.
    pub fn refuse(&self, what: &str, key: &str) -> u64 {
        let retry_after_secs = self.retry_after.num_seconds().max(1) as u64;
        tracing::warn!(event = "rate_limited", limit = what, key = ?key, retry_after_secs, "request refused by a rate limit");
        retry_after_secs
    }
}

impl SlidingWindow {
    pub fn new(max: usize, window: Duration) -> SlidingWindow {
        SlidingWindow {
            max,
            window,
            events: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` has used up its allowance at `now` (nothing is counted).
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), Limited> {
        let mut events = self.lock();
        let Some(times) = events.get_mut(key) else {
            return Ok(());
        };
        self.forget_old(times, now);
        if times.len() < self.max {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        Err(Limited {
            retry_after: (oldest + self.window - now).max(Duration::seconds(1)),
        })
    }

    /// Counts one event for `key` at `now`.
    pub fn record(&self, key: &str, now: DateTime<Utc>) {
        let mut events = self.lock();
        let times = self.current(&mut events, key, now);
        times.push_back(now);
    }

    /// Checks and, if allowed, counts, in one step under the lock: for limits on every request, and for
    /// failure limits around a slow check (a password's argon2, a code), where the slot is taken before the
    /// check and given back with [`SlidingWindow::release`] when it succeeds. Checking first and recording
    /// after the slow part would let a concurrent burst all pass the check before any was recorded.
    pub fn reserve(&self, key: &str, now: DateTime<Utc>) -> Result<(), Limited> {
        self.hit(key, now)
    }

    /// `key`'s events still inside the window at `now`, made if missing. Under a flood of distinct keys it
    /// first drops every key whose window has passed, to bound memory.
    fn current<'a>(
        &self,
        events: &'a mut HashMap<String, VecDeque<DateTime<Utc>>>,
        key: &str,
        now: DateTime<Utc>,
    ) -> &'a mut VecDeque<DateTime<Utc>> {
        if events.len() > 100_000 {
            let window = self.window;
            events.retain(|_, times| times.back().is_some_and(|last| *last + window > now));
        }
        let times = events.entry(key.to_owned()).or_default();
        self.forget_old(times, now);
        times
    }

    /// Takes back one event counted for `key` at `at` (a reserved attempt that did not fail).
    pub fn release(&self, key: &str, at: DateTime<Utc>) {
        let mut events = self.lock();
        if let Some(times) = events.get_mut(key)
            && let Some(position) = times.iter().rposition(|t| *t == at)
        {
            times.remove(position);
        }
    }

    /// Checks and, if allowed, counts: for limits on every request.
    pub fn hit(&self, key: &str, now: DateTime<Utc>) -> Result<(), Limited> {
        let mut events = self.lock();
        let times = self.current(&mut events, key, now);
        if times.len() >= self.max {
            let oldest = times.front().copied().unwrap_or(now);
            return Err(Limited {
                retry_after: (oldest + self.window - now).max(Duration::seconds(1)),
            });
        }
        times.push_back(now);
        Ok(())
    }

    /// Forgets `key` (a successful sign-in clears that account's failures).
    pub fn clear(&self, key: &str) {
        self.lock().remove(key);
    }

    fn forget_old(&self, times: &mut VecDeque<DateTime<Utc>>, now: DateTime<Utc>) {
        while times.front().is_some_and(|t| *t + self.window <= now) {
            times.pop_front();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<DateTime<Utc>>>> {
        self.events.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The limits on the auth endpoints.
pub struct AuthLimits {
    /// Wrong passwords or codes per account: 100 an hour.
    pub failures_per_account: SlidingWindow,
    /// Auth requests per client address: 30 a minute.
    pub requests_per_ip: SlidingWindow,
    /// Messages (links, codes) asked for per email address: 5 an hour, so nobody can flood an inbox.
    pub mails_per_address: SlidingWindow,
}

impl Default for AuthLimits {
    fn default() -> Self {
        AuthLimits {
            failures_per_account: SlidingWindow::new(100, Duration::hours(1)),
            requests_per_ip: SlidingWindow::new(30, Duration::minutes(1)),
            mails_per_address: SlidingWindow::new(5, Duration::hours(1)),
        }
    }
}

/// The caps on the public enquiry form. Only accepted enquiries count: a refused one (Turnstile, bad
/// input, a cap) records nothing.
pub struct EnquiryLimits {
    /// Enquiries per client address in an hour.
    pub per_ip_hour: SlidingWindow,
    /// Enquiries per client address in a day.
    pub per_ip_day: SlidingWindow,
    /// Enquiries per workspace in 24 hours, counted in the workspace's database (so every node agrees).
    pub per_workspace_day: i64,
}

impl EnquiryLimits {
    pub fn new(per_ip_hour: usize, per_ip_day: usize, per_workspace_day: i64) -> EnquiryLimits {
        EnquiryLimits {
            per_ip_hour: SlidingWindow::new(per_ip_hour, Duration::hours(1)),
            per_ip_day: SlidingWindow::new(per_ip_day, Duration::days(1)),
            per_workspace_day,
        }
    }
}

impl Default for EnquiryLimits {
    fn default() -> Self {
        EnquiryLimits::new(5, 20, 500)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_101st_failure_within_an_hour_is_refused_and_the_window_slides() {
        let limits = AuthLimits::default();
        let start = Utc::now();
        for n in 0..100 {
            let at = start + Duration::seconds(n * 30);
            assert_eq!(
                limits.failures_per_account.check("account:7", at),
                Ok(()),
                "failure {n}"
            );
            limits.failures_per_account.record("account:7", at);
        }
        let at = start + Duration::seconds(100 * 30);
        let refused = limits.failures_per_account.check("account:7", at).unwrap_err();
        assert_eq!(
            refused.retry_after,
            Duration::seconds(3600 - 3000),
            "until the first failure is an hour old"
        );
        // No permanent lockout: an hour after the first failure there is room again.
        assert_eq!(
            limits
                .failures_per_account
                .check("account:7", start + Duration::hours(1)),
            Ok(())
        );
        // Other accounts are not affected.
        assert_eq!(limits.failures_per_account.check("account:8", at), Ok(()));
    }

    #[test]
    fn reserving_is_one_step_so_a_concurrent_burst_gets_exactly_the_allowance() {
        let limits = std::sync::Arc::new(SlidingWindow::new(100, Duration::hours(1)));
        let now = Utc::now();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let limits = limits.clone();
                std::thread::spawn(move || (0..40).filter(|_| limits.reserve("account:7", now).is_ok()).count())
            })
            .collect();
        let granted: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(granted, 100, "320 racing reservations, 100 granted");
        // A reservation given back (the attempt succeeded) frees its slot, and only one.
        limits.release("account:7", now);
        assert_eq!(limits.reserve("account:7", now), Ok(()));
        assert!(limits.reserve("account:7", now).is_err());
    }

    #[test]
    fn a_success_clears_the_failures() {
        let limits = SlidingWindow::new(2, Duration::hours(1));
        let now = Utc::now();
        limits.record("a", now);
        limits.record("a", now);
        assert!(limits.check("a", now).is_err());
        limits.clear("a");
        assert_eq!(limits.check("a", now), Ok(()));
    }

    #[test]
    fn requests_per_address_are_throttled_per_address() {
        let limits = AuthLimits::default();
        let now = Utc::now();
        for _ in 0..30 {
            limits.requests_per_ip.hit("ip:198.51.100.1", now).unwrap();
        }
        let refused = limits.requests_per_ip.hit("ip:198.51.100.1", now).unwrap_err();
        assert_eq!(refused.retry_after, Duration::minutes(1));
        assert_eq!(
            limits.requests_per_ip.hit("ip:198.51.100.2", now),
            Ok(()),
            "another address is not blocked"
        );
        assert_eq!(
            limits
                .requests_per_ip
                .hit("ip:198.51.100.1", now + Duration::minutes(1)),
            Ok(())
        );
    }
}
