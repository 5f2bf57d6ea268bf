//! The authorization matrix and mass assignment, each on SQLite and on PostgreSQL.
//!
//! Two workspaces, set up as the interleaved test does: A (`alpha`) with its owner, an agent, a member
//! about to be removed and a portal customer, and B (`beta`) with its owner, an admin and an agent. A's
//! data carries canaries (`CANARY-ALPHA-…`, `alphacanary`, `…+alpha@…`) in ticket subjects and bodies,
//! requester names and addresses, the customer's name, the workspace's name, a note, a view, a category,
//! feedback.
//!
//! Every server function, every hand-written axum route and every page is called as each principal —
//! anonymous, A's portal customer, B's agent, admin and owner, A's agent — against A's slug and A's ids
//! (and as A's owner where only an admin may, so each row has someone who gets through). The tables below
//! say what each must answer. They are compared with the registries (the server functions' inventory,
//! `startup::ROUTES`, the Leptos route list), so something added without a row fails here until someone
//! has decided who may call it.
//!
//! Every answer is also searched: nothing of A's reaches anyone outside A (except A's name on its public
//! pages), nothing of B's reaches A's people, A's customer sees neither the other requesters' tickets nor
//! the team's notes and addresses, and no answer anywhere holds a password hash, a token or code hash, a
//! value sealed under the server's key, or a password.
//!
//! The mass-assignment pass sends every write again with fields no function takes (`workspace_id`,
//! `role`, `account_id`, `owner`, `is_admin`, `requester_id`, `id`, `slug`), with a second `slug` naming
//! B, and as JSON: each is refused or does no more than the plain call, which a handful of checks confirm.

mod calls;
mod checks;
mod mass_assignment;
mod matrix;
mod registries;
mod tables;
mod world;

use crate::{helpers::TestApp, interleaved::Ws};
use std::collections::BTreeMap;

/// A password nobody has; A's agent changes to it at the very end.
const OTHER_PASSWORD: &str = "amber kettle meadow 41";
/// A link token that was never issued, shaped like one.
const BOGUS_TOKEN: &str = "Zm9yZ2VkLXRva2VuLXRoYXQtd2FzLW5ldmVyLWlzc3VlZA";
/// A's name as `set_up` spells it ("Org CANARY-ALPHA-ORG"), lowercased: public on A's portal pages.
const A_NAME: &str = "canary-alpha-org";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    /// Signed in to A's portal, the requester of some of A's tickets.
    CustomerA,
    AgentB,
    AdminB,
    OwnerB,
    AgentA,
    /// Not one of the matrix's principals: it is called only for what an admin may do, so that those rows
    /// have someone who gets through (which shows their refusals are the role's, not a bad body's). It is
    /// also the actor of those writes in the mass-assignment pass.
    OwnerA,
}

/// The principals every row is called as.
const PRINCIPALS: [Who; 6] = [
    Who::Anonymous,
    Who::CustomerA,
    Who::AgentB,
    Who::AdminB,
    Who::OwnerB,
    Who::AgentA,
];

impl Who {
    /// Also what `{who}` becomes in a form, so each principal's probes (addresses, slugs) are its own and
    /// no address gets more mail than its hourly allowance.
    fn label(self) -> &'static str {
        match self {
            Who::Anonymous => "anonymous",
            Who::CustomerA => "customer-a",
            Who::AgentB => "agent-b",
            Who::AdminB => "admin-b",
            Who::OwnerB => "owner-b",
            Who::AgentA => "agent-a",
            Who::OwnerA => "owner-a",
        }
    }

    /// The address a staff member signs in with.
    fn email(self) -> Option<&'static str> {
        match self {
            Who::AgentB => Some("agent+beta@example.com"),
            Who::AdminB => Some("admin+beta@example.com"),
            Who::OwnerB => Some("owner+beta@example.com"),
            Who::AgentA => Some("agent+alpha@example.com"),
            Who::OwnerA => Some("owner+alpha@example.com"),
            Who::Anonymous | Who::CustomerA => None,
        }
    }

    fn is_staff(self) -> bool {
        self.email().is_some()
    }
}

/// The least role a staff function asks of a member of the workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    Agent,
    Admin,
}

/// Who may call something, and what they get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// Public by design: everyone gets this status (bodies that would sign someone in or change their
    /// password are ones that fail, so no principal's session changes), and nothing of A's.
    Public(u16),
    /// Public and about A by its slug: everyone gets this status; A's name may show, nothing else of A's.
    Brand(u16),
    /// The caller's own account: 401 without a staff sign-in, this status with one (of either workspace).
    Account(u16),
    /// A staff function of A: 401 signed out or as a customer (a portal sign-in is nobody to the staff
    /// side), 404 for B's people (A does not exist for them), 403 for A's agent when it needs an admin, and
    /// this status for a member with the role.
    Staff(Need, u16),
    /// A's portal customer only: this status for them, 401 for everyone else (staff sign-ins included).
    Portal(u16),
}

impl Rule {
    fn expected(self, who: Who) -> u16 {
        match self {
            Rule::Public(ok) | Rule::Brand(ok) => ok,
            Rule::Account(ok) => {
                if who.is_staff() {
                    ok
                } else {
                    401
                }
            }
            Rule::Staff(need, ok) => match who {
                Who::Anonymous | Who::CustomerA => 401,
                Who::AgentB | Who::AdminB | Who::OwnerB => 404,
                Who::AgentA if need == Need::Admin => 403,
                Who::AgentA | Who::OwnerA => ok,
            },
            Rule::Portal(ok) => {
                if who == Who::CustomerA {
                    ok
                } else {
                    401
                }
            }
        }
    }

    /// Whether A's name may appear in the answer to someone outside A.
    fn brand(self) -> bool {
        matches!(self, Rule::Brand(_))
    }

    fn is_public(self) -> bool {
        matches!(self, Rule::Public(_) | Rule::Brand(_))
    }

    /// Who makes the call in the mass-assignment pass: someone the plain call works for, where anyone does.
    fn actor(self) -> Who {
        match self {
            Rule::Public(_) | Rule::Brand(_) => Who::Anonymous,
            Rule::Account(_) | Rule::Staff(Need::Agent, _) => Who::AgentA,
            Rule::Staff(Need::Admin, _) => Who::OwnerA,
            Rule::Portal(_) => Who::CustomerA,
        }
    }
}

/// What a call does to the caller's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ends {
    Nothing,
    /// Signing out: each principal calls it with a session of its own made for the purpose.
    ThisSession,
    /// Signing out everywhere: every staff principal signs in again afterwards.
    EverySession,
}

type Form = &'static [(&'static str, &'static str)];

fn pairs(form: &[(&str, &str)]) -> Vec<(String, String)> {
    form.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// Both workspaces, the principals' sessions, A's ids, and what the answers so far got wrong.
struct World {
    app: TestApp,
    alpha: Ws,
    /// Session cookies; anonymous has none.
    cookies: BTreeMap<Who, String>,
    /// What `{name}` in a form or path becomes.
    vars: BTreeMap<&'static str, String>,
    /// Sign-in links mailed to A's customer so far.
    customer_links: usize,
    /// The id of the server's current key, which prefixes everything sealed with it.
    key_id: String,
    /// What nobody outside A may see.
    outside_a: Vec<String>,
    /// What nobody outside B may see.
    outside_b: Vec<String>,
    /// What A's customer may not see: B's canaries, the other requesters' tickets, the team's notes,
    /// views, categories and addresses.
    customer_forbidden: Vec<String>,
    /// B's tickets after set-up: nothing here may add one.
    b_tickets: usize,
    answers: usize,
    problems: Vec<String>,
}
