//! Searching every answer for secrets, leaks and server errors, and the checks both passes end with.

use super::*;
use crate::{
    auth::PASSWORD,
    helpers::Backend,
    interleaved::{around, excerpt},
};
use serde_json::Value;
use std::collections::BTreeSet;

/// Secrets no answer may hold, whoever asks: password hashes, token and code hashes (64 hex digits),
/// values sealed under the server's key (`v1.<key id>.…`), and passwords.
fn secrets_in(body: &str, key_id: &str) -> Vec<String> {
    let mut found = Vec::new();
    if body.contains("$argon2") {
        found.push("an Argon2 hash".to_owned());
    }
    let sealed = format!("v1.{key_id}.");
    if body.contains(&sealed) {
        found.push(format!("a value sealed under the server's key ({sealed}…)"));
    }
    for password in [PASSWORD, OTHER_PASSWORD] {
        if body.contains(password) {
            found.push(format!("the password {password:?}"));
        }
    }
    // Link tokens are stored as SHA-256 and codes as HMAC-SHA256, both 64 hex digits; sign-in ids (which
    // the account page shows) are 32.
    let mut run = 0;
    for c in body.chars() {
        if c.is_ascii_hexdigit() {
            run += 1;
            if run == 64 {
                found.push("64 hex digits in a row (a token or code hash)".to_owned());
            }
        } else {
            run = 0;
        }
    }
    found
}

/// A JSON string's text, or "" for anything else.
fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

impl World {
    /// What `who` may not find in any answer.
    fn forbidden(&self, who: Who) -> Vec<String> {
        match who {
            Who::AgentA | Who::OwnerA => self.outside_b.clone(),
            Who::CustomerA => self.customer_forbidden.clone(),
            Who::AgentB | Who::AdminB | Who::OwnerB => self.outside_a.clone(),
            Who::Anonymous => [self.outside_a.clone(), self.outside_b.clone()].concat(),
        }
    }

    /// Searches an answer to `who` for secrets, for what `who` may not see, and for a server error.
    /// `brand`: A's name may be in it.
    pub(super) fn inspect(&mut self, label: &str, who: Who, brand: bool, status: u16, body: &str) {
        self.answers += 1;
        if status >= 500 {
            self.problems
                .push(format!("{label}: server error {status}: {}", excerpt(body)));
        }
        for secret in secrets_in(body, &self.key_id) {
            self.problems.push(format!("{label}: SECRET: holds {secret}"));
        }
        let lower = body.to_lowercase();
        let scanned = if brand { lower.replace(A_NAME, "") } else { lower };
        for marker in self.forbidden(who) {
            if scanned.contains(marker.as_str()) {
                self.problems.push(format!(
                    "{label}: LEAK: holds {marker:?}: …{}…",
                    around(&scanned, &marker)
                ));
            }
        }
    }

    /// [`World::inspect`], and the status must be `expected`.
    pub(super) fn check(&mut self, label: &str, who: Who, brand: bool, expected: u16, status: u16, body: &str) {
        if status != expected {
            self.problems
                .push(format!("{label}: {status}, expected {expected}: {}", excerpt(body)));
        }
        self.inspect(label, who, brand, status, body);
    }

    /// Everyone's roles are what set-up gave them, B's team and tickets are as they were, and A's team has
    /// nobody of B's.
    pub(super) async fn roles_are_unchanged(&mut self) {
        for (who, slug, role) in [
            (Who::AgentA, "alpha", "agent"),
            (Who::OwnerA, "alpha", "owner"),
            (Who::AgentB, "beta", "agent"),
            (Who::AdminB, "beta", "admin"),
            (Who::OwnerB, "beta", "owner"),
        ] {
            let cookie = self.cookie(who);
            let me = self.json_of("me", &[], cookie.as_deref()).await;
            let memberships: Vec<(String, String)> = me["workspaces"]
                .as_array()
                .map(|all| all.iter().map(|w| (text(&w["slug"]), text(&w["role"]))).collect())
                .unwrap_or_default();
            if memberships != [(slug.to_owned(), role.to_owned())] {
                self.problems.push(format!(
                    "{} is now {memberships:?}, expected {role} of {slug} only",
                    who.label()
                ));
            }
        }
        let b_owner = self.cookie(Who::OwnerB);
        let team = self.json_of("w/team", &[("slug", "beta")], b_owner.as_deref()).await;
        let members: BTreeSet<(String, String)> = team["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (text(&m["email"]), text(&m["role"])))
            .collect();
        let expected: BTreeSet<(String, String)> = [
            ("owner+beta@example.com", "owner"),
            ("admin+beta@example.com", "admin"),
            ("agent+beta@example.com", "agent"),
        ]
        .into_iter()
        .map(|(email, role)| (email.to_owned(), role.to_owned()))
        .collect();
        if members != expected {
            self.problems.push(format!("B's team is now {members:?}"));
        }
        let list = self.json_of("w/tickets", &[("slug", "beta")], b_owner.as_deref()).await;
        let count = list["rows"].as_array().unwrap().len();
        if count != self.b_tickets {
            self.problems.push(format!(
                "B has {count} tickets, {} after set-up: something of A's went to B",
                self.b_tickets
            ));
        }
        let owner = self.cookie(Who::OwnerA);
        let team = self.json_of("w/team", &[("slug", "alpha")], owner.as_deref()).await;
        if team.to_string().contains("+beta@") {
            self.problems.push(format!("B's people joined A: {team}"));
        }
    }

    pub(super) fn finish(self, what: &str, backend: Backend) {
        println!(
            "{what} on {backend:?}: {} answers searched, {} problems",
            self.answers,
            self.problems.len()
        );
        assert!(
            self.problems.is_empty(),
            "{} problems on {backend:?}; the first:\n{}",
            self.problems.len(),
            self.problems.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
        );
    }
}
