//! Mass assignment: writes with extra fields, a second slug or a JSON body get no further than plain calls.

use super::tables::{EXTRAS, FUNCTIONS};
use super::*;
use crate::{auth::PASSWORD, helpers::Backend, interleaved::excerpt};
use serde_json::Value;
use std::collections::BTreeMap;

impl World {
    /// Every write again, as someone it works for, with extra fields, with a second slug and as JSON.
    /// Returns the status of each write with the extra fields.
    async fn mass_assignment(&mut self) -> BTreeMap<&'static str, u16> {
        let mut with_extras = BTreeMap::new();
        for row in FUNCTIONS.iter().filter(|row| row.writes && row.ends == Ends::Nothing) {
            let actor = row.rule.actor();
            let cookie = self.cookie(actor);
            let label = |variant: &str| format!("{} as {} ({variant})", row.path, actor.label());
            let has = |name: &str| row.form.iter().any(|(key, _)| *key == name);

            let plain = self.fill_form(row.form, "mass");
            let (base, body) = self.call(row.path, &plain, cookie.as_deref()).await;
            self.inspect(&label("plain"), actor, row.rule.brand(), base, &body);

            // The extra fields, each only where the function takes no field of that name (a duplicate
            // would test the form parser, not mass assignment).
            let mut extra = self.fill_form(row.form, "mass-x");
            for (name, value) in EXTRAS {
                if !has(name) {
                    extra.push((name.to_owned(), self.fill(value, "mass-x")));
                }
            }
            if !has("slug") {
                extra.push(("slug".to_owned(), "beta".to_owned()));
            }
            let (status, body) = self.call(row.path, &extra, cookie.as_deref()).await;
            self.judge(&label("extra fields"), actor, row.rule, base, status, &body);
            with_extras.insert(row.path, status);

            // A second slug naming B after A's. Not on the public forms, where the slug is the caller's free
            // choice anyway.
            if has("slug") && !row.rule.is_public() {
                let mut twice = self.fill_form(row.form, "mass-s");
                twice.push(("slug".to_owned(), "beta".to_owned()));
                let (status, body) = self.call(row.path, &twice, cookie.as_deref()).await;
                self.judge(&label("second slug"), actor, row.rule, base, status, &body);
            }

            // Server functions here take forms only: a JSON body is refused, whatever it says.
            if !row.form.is_empty() {
                let (status, body) = self.call_json(row.path, &extra, cookie.as_deref()).await;
                let label = label("JSON");
                self.inspect(&label, actor, row.rule.brand(), status, &body);
                if !(400..500).contains(&status) {
                    self.problems.push(format!(
                        "{label}: {status} to a JSON body; expected a 4xx refusal (or teach this test what the \
                         function does with JSON): {}",
                        excerpt(&body)
                    ));
                }
            }
        }
        with_extras
    }

    /// A variant of a write: the same outcome as the plain call, or refused. Never a success the plain call
    /// did not have, nor a different success.
    fn judge(&mut self, label: &str, actor: Who, rule: Rule, base: u16, status: u16, body: &str) {
        self.inspect(label, actor, rule.brand(), status, body);
        if status != base && !(400..500).contains(&status) {
            self.problems.push(format!(
                "{label}: {status} where the plain call answered {base}: {}",
                excerpt(body)
            ));
        }
    }

    /// What the extra fields could have changed, checked where the call went through.
    async fn extras_changed_nothing_else(&mut self, with_extras: &BTreeMap<&'static str, u16>, other_before: Value) {
        let owner = self.cookie(Who::OwnerA);
        let agent = self.cookie(Who::AgentA);

        // A ticket opened by A's agent with `requester_id`, `workspace_id`, … is A's, for the address given.
        if with_extras.get("w/tickets/create") == Some(&200) {
            let list = self
                .json_of(
                    "w/tickets",
                    &[("slug", "alpha"), ("query[sort]", "newest")],
                    owner.as_deref(),
                )
                .await;
            let row = list["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|row| row[2] == "Probe from mass-x")
                .cloned();
            match row.and_then(|row| row[0].as_i64()) {
                Some(number) => {
                    let n = number.to_string();
                    let ticket = self
                        .json_of("w/ticket", &[("slug", "alpha"), ("number", &n)], owner.as_deref())
                        .await;
                    if ticket["requester_email"] != "probe+mass-x@elsewhere.example" {
                        self.problems.push(format!(
                            "w/tickets/create with extra fields: requester {}, not the address given",
                            ticket["requester_email"]
                        ));
                    }
                }
                None => self
                    .problems
                    .push("w/tickets/create with extra fields answered 200 but A has no such ticket".into()),
            }
        }

        // The ticket named by `id` was not the one changed (update, take, bulk all named another).
        let n_other = self.alpha.tickets[3].number.to_string();
        let other_after = self
            .json_of("w/ticket", &[("slug", "alpha"), ("number", &n_other)], owner.as_deref())
            .await;
        for field in ["status", "priority", "assignee_id", "subject", "tags"] {
            if other_after[field] != other_before[field] {
                self.problems.push(format!(
                    "the ticket named by an extra `id` changed its {field}: {} → {}",
                    other_before[field], other_after[field]
                ));
            }
        }

        // A view saved with `account_id` naming A's owner is the agent's.
        if with_extras.get("w/views/save") == Some(&200) {
            let saved = |shell: &Value| shell["nav"].as_str().unwrap_or_default().contains("View of mass-x");
            let mine = self.json_of("shell", &[("path", "/w/alpha")], agent.as_deref()).await;
            let owners = self.json_of("shell", &[("path", "/w/alpha")], owner.as_deref()).await;
            if !saved(&mine) || saved(&owners) {
                self.problems.push(format!(
                    "w/views/save with account_id of the owner: the agent has it {}, the owner {}",
                    saved(&mine),
                    saved(&owners)
                ));
            }
        }

        // An invitation sent with `workspace_id` naming B is to A.
        if with_extras.get("w/team/invite") == Some(&200) {
            let link = self
                .app
                .email("invitee+mass-x@elsewhere.example", "invited", 1)
                .await
                .link(&format!("{}/invitations/", self.app.address));
            let token = link.rsplit('/').next().unwrap().to_owned();
            let (status, body) = self.call("invitations/show", &pairs(&[("token", &token)]), None).await;
            self.check(
                "invitations/show of the invitation with extras",
                Who::Anonymous,
                true,
                200,
                status,
                &body,
            );
            let shown: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            if !shown["workspace"]
                .as_str()
                .unwrap_or("")
                .to_lowercase()
                .contains(A_NAME)
                || shown["role"] != "agent"
            {
                self.problems.push(format!(
                    "w/team/invite with workspace_id of B and role owner made the invitation {shown}"
                ));
            }
        }

        // A customer's new request with someone else's `requester_id`, `requester_email`, … is theirs, in A.
        let mut fields = pairs(&[
            ("subject", "Request with extra fields"),
            ("body", "Whose is this?"),
            ("requester_email", "req1+alpha@customer.example"),
            ("requester_name", "Someone Else"),
            ("customer_id", "{other_requester}"),
        ]);
        for (name, value) in EXTRAS {
            fields.push((name.to_owned(), value.to_owned()));
        }
        fields.push(("slug".to_owned(), "beta".to_owned()));
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(name, value)| (name.clone(), self.fill(value, "mass-x")))
            .collect();
        let customer = self.cookie(Who::CustomerA);
        let (status, body) = self
            .post_multipart("/p/alpha/tickets", &fields, None, customer.as_deref())
            .await;
        let label = "POST /p/{slug}/tickets with extra fields as customer-a";
        self.inspect(label, Who::CustomerA, false, status, &body);
        if status == 201 {
            let number = serde_json::from_str::<Value>(&body).unwrap_or(Value::Null)["number"]
                .as_i64()
                .unwrap_or(0)
                .to_string();
            let ticket = self
                .json_of("w/ticket", &[("slug", "alpha"), ("number", &number)], owner.as_deref())
                .await;
            if ticket["subject"] != "Request with extra fields"
                || ticket["requester_email"] != self.alpha.customer_email.as_str()
            {
                self.problems.push(format!(
                    "{label}: ticket {number} of A is {:?} for {}, expected the customer's own",
                    ticket["subject"], ticket["requester_email"]
                ));
            }
        } else if !(400..500).contains(&status) {
            self.problems.push(format!("{label}: {status}: {}", excerpt(&body)));
        }

        // A's agent changes its password with `role=owner`, `account_id` of the owner, …: the owner's
        // password is what it was, and the agent is still an agent of A only (see `roles_are_unchanged`).
        let mut form = pairs(&[("current", PASSWORD), ("password", OTHER_PASSWORD)]);
        for (name, value) in EXTRAS {
            form.push((name.to_owned(), self.fill(value, "mass-x")));
        }
        form.push(("slug".to_owned(), "beta".to_owned()));
        let (status, body) = self.call("account/password", &form, agent.as_deref()).await;
        self.check(
            "account/password with extra fields as agent-a",
            Who::AgentA,
            false,
            200,
            status,
            &body,
        );
        self.sign_in("owner+alpha@example.com", PASSWORD).await;
        let password = if status == 200 { OTHER_PASSWORD } else { PASSWORD };
        let agent = self.sign_in("agent+alpha@example.com", password).await;
        self.cookies.insert(Who::AgentA, agent);
    }
}

async fn extra_fields_and_json_bodies_get_no_further_than_the_plain_call(backend: Backend) {
    let mut world = World::build(backend).await;
    let owner = world.cookie(Who::OwnerA);
    let n_other = world.alpha.tickets[3].number.to_string();
    let other_before = world
        .json_of("w/ticket", &[("slug", "alpha"), ("number", &n_other)], owner.as_deref())
        .await;
    let with_extras = world.mass_assignment().await;
    world.extras_changed_nothing_else(&with_extras, other_before).await;
    world.roles_are_unchanged().await;
    world.finish("mass assignment", backend);
}

testkit::both_backends!(extra_fields_and_json_bodies_get_no_further_than_the_plain_call);
