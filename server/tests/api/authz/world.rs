//! Setting up the world: both workspaces, the principals' sessions, and what A is given for the rows to name.

use super::*;
use crate::{
    auth::{PASSWORD, expect},
    helpers::{Backend, TestApp, TestOptions, cookie_of, spawn_app_with},
    interleaved::set_up,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// The canaries of a workspace set up by `set_up`: in subjects and names, in bodies, in addresses.
fn canaries(slug: &str) -> Vec<String> {
    vec![format!("canary-{slug}"), format!("{slug}canary"), format!("+{slug}@")]
}

/// Invites `email` to `slug` with `role` and accepts as a new account; returns its session cookie.
async fn join(app: &TestApp, inviter: &str, slug: &str, email: &str, role: &str, name: &str) -> String {
    expect(
        app.call(
            "w/team/invite",
            &[("slug", slug), ("email", email), ("role", role)],
            Some(inviter),
        )
        .await,
        200,
    )
    .await;
    let link = app
        .email(email, "invited", 1)
        .await
        .link(&format!("{}/invitations/", app.address));
    let token = link.rsplit('/').next().unwrap().to_owned();
    let accepted = app
        .call(
            "invitations/accept",
            &[("token", token.as_str()), ("name", name), ("password", PASSWORD)],
            None,
        )
        .await;
    let cookie = cookie_of(&accepted);
    expect(accepted, 200).await;
    cookie
}

impl World {
    pub(super) async fn build(backend: Backend) -> World {
        let app = spawn_app_with(TestOptions {
            postgres: backend == Backend::Postgres,
            // Hundreds of auth requests from one address within a minute: the limits are tested elsewhere.
            auth_requests_per_minute: Some(100_000),
            enquiry_caps: Some((1_000, 1_000, 1_000)),
            ..TestOptions::default()
        })
        .await;
        let (alpha, beta) = tokio::join!(set_up(&app, "alpha", "ALPHA", 4), set_up(&app, "beta", "BETA", 2));
        // Inviting needs a verified address.
        for (email, cookie) in [
            ("owner+alpha@example.com", &alpha.owner),
            ("owner+beta@example.com", &beta.owner),
        ] {
            let code = app.email(email, "verification", 1).await.code();
            expect(
                app.call("account/verify", &[("code", code.as_str())], Some(cookie))
                    .await,
                200,
            )
            .await;
        }
        let agent_a = join(
            &app,
            &alpha.owner,
            "alpha",
            "agent+alpha@example.com",
            "agent",
            "Agent CANARY-ALPHA-AGENT",
        )
        .await;
        join(
            &app,
            &alpha.owner,
            "alpha",
            "leaver+alpha@example.com",
            "agent",
            "Leaver CANARY-ALPHA-LEAVER",
        )
        .await;
        let admin_b = join(
            &app,
            &beta.owner,
            "beta",
            "admin+beta@example.com",
            "admin",
            "Admin CANARY-BETA-ADMIN",
        )
        .await;
        let agent_b = join(
            &app,
            &beta.owner,
            "beta",
            "agent+beta@example.com",
            "agent",
            "Agent CANARY-BETA-AGENT",
        )
        .await;
        let cookies = BTreeMap::from([
            (Who::CustomerA, alpha.customer.clone()),
            (Who::AgentB, agent_b),
            (Who::AdminB, admin_b),
            (Who::OwnerB, beta.owner.clone()),
            (Who::AgentA, agent_a),
            (Who::OwnerA, alpha.owner.clone()),
        ]);

        let outside_a = canaries("alpha");
        let outside_b = canaries("beta");
        let mut customer_forbidden = outside_b.clone();
        for (k, ticket) in alpha.tickets.iter().enumerate() {
            if alpha.carl.contains(&k) {
                continue;
            }
            customer_forbidden.push(ticket.token.clone());
            customer_forbidden.push(format!("canary-alpha-b{k:02}"));
            customer_forbidden.push(format!("canary-alpha-n{k:02}"));
            customer_forbidden.push(ticket.requester.to_lowercase());
        }
        for hidden in [
            "canary-alpha-note",
            "canary-alpha-view",
            "canary-alpha-cat",
            "canary-alpha-leaver",
            "owner+alpha@",
            "agent+alpha@",
            "leaver+alpha@",
        ] {
            customer_forbidden.push(hidden.to_owned());
        }
        let key_id = app.landlord().await.keys().current().id().to_owned();

        let mut world = World {
            app,
            alpha,
            cookies,
            vars: BTreeMap::new(),
            customer_links: 1,
            key_id,
            outside_a,
            outside_b,
            customer_forbidden,
            b_tickets: 0,
            answers: 0,
            problems: Vec::new(),
        };
        world.plant().await;
        world
    }

    /// Gives A a file, a note, feedback, a view, a category and a spare owner session, and learns the ids
    /// the rows name.
    async fn plant(&mut self) {
        let owner = self.cookie(Who::OwnerA);
        let agent = self.cookie(Who::AgentA);
        let customer = self.cookie(Who::CustomerA);
        // Tickets 0 and 2 are the customer's; 1 and 3 other requesters'.
        let number = |k: usize| self.alpha.tickets[k].number;
        let (n_carl, n_staff, n_close, n_other) = (number(0), number(1), number(2), number(3));

        // A's agent answers the customer with a file, and notes something only the team may read.
        let reply = pairs(&[
            ("kind", "reply"),
            ("body", "Reply CANARY-ALPHA-REPLY from the alphacanary desk."),
        ]);
        let (status, body) = self
            .post_multipart(
                &format!("/w/alpha/tickets/{n_carl}/reply"),
                &reply,
                Some(("files", "diagram.png")),
                agent.as_deref(),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let msg_id = serde_json::from_str::<Value>(&body).unwrap()["message_id"]
            .as_i64()
            .unwrap();
        let note = pairs(&[
            ("kind", "note"),
            ("body", "Note CANARY-ALPHA-NOTE: alphacanary, team only."),
        ]);
        let (status, body) = self
            .post_multipart(
                &format!("/w/alpha/tickets/{n_carl}/reply"),
                &note,
                None,
                agent.as_deref(),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let n = n_carl.to_string();
        let page = self
            .json_of("w/ticket", &[("slug", "alpha"), ("number", &n)], agent.as_deref())
            .await;
        let file_id = page["thread"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"].as_i64() == Some(msg_id))
            .and_then(|m| m["attachments"][0]["id"].as_i64())
            .unwrap_or_else(|| panic!("the reply's file in {page}"));

        // The customer sends feedback with a screenshot.
        let feedback = pairs(&[
            ("kind", "bug"),
            ("title", "Feedback CANARY-ALPHA-FEEDBACK"),
            ("description", "The alphacanary export breaks."),
        ]);
        let (status, body) = self
            .post_multipart(
                "/p/alpha/feedback",
                &feedback,
                Some(("screenshot", "screen.png")),
                customer.as_deref(),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let fb_id = serde_json::from_str::<Value>(&body).unwrap()["id"].as_i64().unwrap();

        // A's agent saves a view; A's owner adds a category.
        expect(
            self.app
                .call(
                    "w/views/save",
                    &[
                        ("slug", "alpha"),
                        ("name", "View CANARY-ALPHA-VIEW"),
                        ("query", "status=open"),
                    ],
                    agent.as_deref(),
                )
                .await,
            200,
        )
        .await;
        let shell = self.json_of("shell", &[("path", "/w/alpha")], agent.as_deref()).await;
        let view_id = saved_view_id(shell["nav"].as_str().unwrap_or_default(), "View CANARY-ALPHA-VIEW")
            .expect("the navigation lists the saved view with its delete form");
        expect(
            self.app
                .call(
                    "w/categories/create",
                    &[("slug", "alpha"), ("name", "Cat CANARY-ALPHA-CAT")],
                    owner.as_deref(),
                )
                .await,
            200,
        )
        .await;
        let list = self.json_of("w/tickets", &[("slug", "alpha")], owner.as_deref()).await;
        let cat_id = list["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["label"] == "Cat CANARY-ALPHA-CAT")
            .and_then(|c| c["value"].as_str())
            .unwrap()
            .to_owned();
        // A list row is [number, id, subject, …].
        let id_of = |number: i64| {
            list["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|row| row[0].as_i64() == Some(number))
                .and_then(|row| row[1].as_i64())
                .unwrap_or_else(|| panic!("ticket {number} in {list}"))
        };
        let (t_staff_id, t_other_id) = (id_of(n_staff), id_of(n_other));

        let team = self.json_of("w/team", &[("slug", "alpha")], owner.as_deref()).await;
        let account = |email: &str| {
            team["members"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["email"] == email)
                .and_then(|m| m["account_id"].as_i64())
                .unwrap_or_else(|| panic!("{email} in {team}"))
        };
        let (owner_id, agent_id, leaver_id) = (
            account("owner+alpha@example.com"),
            account("agent+alpha@example.com"),
            account("leaver+alpha@example.com"),
        );

        // A second session of A's owner, whose id the revoke row offers everyone.
        self.sign_in("owner+alpha@example.com", PASSWORD).await;
        let sessions = self.json_of("account/sessions", &[], owner.as_deref()).await;
        let owner_sid = sessions
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["current"] == false)
            .and_then(|s| s["id"].as_str())
            .unwrap()
            .to_owned();

        let beta_id = self
            .app
            .landlord()
            .await
            .workspace_by_slug("beta")
            .await
            .unwrap()
            .id
            .to_string();
        let b_owner = self.cookie(Who::OwnerB);
        let b_list = self.json_of("w/tickets", &[("slug", "beta")], b_owner.as_deref()).await;
        self.b_tickets = b_list["rows"].as_array().unwrap().len();

        for (name, value) in [
            ("slug", "alpha".to_owned()),
            ("bogus", BOGUS_TOKEN.to_owned()),
            ("n_carl", n_carl.to_string()),
            ("n_staff", n_staff.to_string()),
            ("n_close", n_close.to_string()),
            ("t_staff_id", t_staff_id.to_string()),
            ("t_other_id", t_other_id.to_string()),
            ("msg_id", msg_id.to_string()),
            ("file_id", file_id.to_string()),
            ("fb_id", fb_id.to_string()),
            ("view_id", view_id.to_string()),
            ("cat_id", cat_id),
            ("owner_id", owner_id.to_string()),
            ("agent_id", agent_id.to_string()),
            ("leaver_id", leaver_id.to_string()),
            ("owner_sid", owner_sid),
            ("beta_id", beta_id),
            // Customer ids count from 1 in each workspace: the customer is 1, the requester of ticket 1 is 2.
            ("other_requester", "2".to_owned()),
        ] {
            self.vars.insert(name, value);
        }
    }
}

/// The id of the saved view `name` in the navigation's HTML: the hidden `id` of its delete form.
fn saved_view_id(nav: &str, name: &str) -> Option<i64> {
    let rest = &nav[nav.find(name)?..];
    let key = "name=\"id\" value=\"";
    let start = rest.find(key)? + key.len();
    rest[start..].split('"').next()?.parse().ok()
}
