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

use crate::{
    auth::{PASSWORD, expect},
    helpers::{Backend, TestApp, TestOptions, cookie_of, session_cookie, spawn_app_with},
    interleaved::{Ws, around, excerpt, set_up},
    on_both_backends,
    tickets::png,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

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

/// A server function's row. Form values may hold `{placeholders}`, filled from A's ids (see
/// [`World::plant`]) and `{who}`, the caller's label.
#[derive(Clone, Copy)]
struct Function {
    /// The path after `/api/`.
    path: &'static str,
    rule: Rule,
    /// A valid body: each refusal is then the authorization's, not a bad body's.
    form: Form,
    /// Changes something: the mass-assignment pass sends it again with extra fields.
    writes: bool,
    ends: Ends,
}

const fn read(path: &'static str, rule: Rule, form: Form) -> Function {
    Function {
        path,
        rule,
        form,
        writes: false,
        ends: Ends::Nothing,
    }
}

const fn write(path: &'static str, rule: Rule, form: Form) -> Function {
    Function {
        path,
        rule,
        form,
        writes: true,
        ends: Ends::Nothing,
    }
}

impl Function {
    const fn ending(self, ends: Ends) -> Function {
        Function { ends, ..self }
    }
}

const SLUG: (&str, &str) = ("slug", "{slug}");
const AGENT: Rule = Rule::Staff(Need::Agent, 200);
const ADMIN: Rule = Rule::Staff(Need::Admin, 200);

/// Every server function, in the order the matrix calls them (a ticket is read before it is closed, a
/// view saved before one is deleted).
const FUNCTIONS: &[Function] = &[
    // Accounts and sign-in.
    read("me", Rule::Public(200), &[]),
    // A weak password: refused, so nobody is signed up (or in) on the caller's session.
    write(
        "signup",
        Rule::Public(422),
        &[
            ("name", "Probe"),
            ("email", "probe+{who}@elsewhere.example"),
            ("organization", "Probe Org"),
            ("slug", "probe-{who}"),
            ("password", "short"),
        ],
    ),
    write(
        "signin",
        Rule::Public(422),
        &[
            ("email", "probe+{who}@elsewhere.example"),
            ("password", "not the password at all"),
        ],
    ),
    write("signin/code", Rule::Public(422), &[("code", "000000")]),
    write(
        "signin/link",
        Rule::Public(200),
        &[("email", "probe+{who}@elsewhere.example")],
    ),
    write("signin/link/redeem", Rule::Public(422), &[("token", BOGUS_TOKEN)]),
    write(
        "password/forgot",
        Rule::Public(200),
        &[("email", "probe+{who}@elsewhere.example")],
    ),
    write(
        "password/reset",
        Rule::Public(422),
        &[("token", BOGUS_TOKEN), ("password", OTHER_PASSWORD)],
    ),
    write("signout", Rule::Public(200), &[]).ending(Ends::ThisSession),
    write("signout/everywhere", Rule::Account(200), &[]).ending(Ends::EverySession),
    read("account/sessions", Rule::Account(200), &[]),
    // One of A's owner's sessions (not the one it uses): nobody else's to end.
    write("account/sessions/revoke", Rule::Account(404), &[("id", "{owner_sid}")]),
    // Every staff principal is verified: no live code, so any code is refused.
    write("account/verify", Rule::Account(422), &[("code", "000000")]),
    write("account/verify/resend", Rule::Account(422), &[]),
    // A wrong current password: refused without changing anything.
    write(
        "account/password",
        Rule::Account(422),
        &[("current", "not my password"), ("password", OTHER_PASSWORD)],
    ),
    write(
        "account/email",
        Rule::Account(422),
        &[("current", "not my password"), ("email", "new+{who}@elsewhere.example")],
    ),
    // The team.
    read("w/overview", AGENT, &[SLUG]),
    read("w/team", AGENT, &[SLUG]),
    write(
        "w/team/invite",
        ADMIN,
        &[SLUG, ("email", "invitee+{who}@elsewhere.example"), ("role", "agent")],
    ),
    // Setting A's agent to the role it has.
    write(
        "w/team/role",
        ADMIN,
        &[SLUG, ("account_id", "{agent_id}"), ("role", "agent")],
    ),
    // Agents pass the door (they may leave), but the team rules let them remove nobody else: 403, as for
    // an admin's function. A's owner removes the member set up to be removed.
    write("w/team/remove", ADMIN, &[SLUG, ("account_id", "{leaver_id}")]),
    // Off: a code at sign-in would stop the principals signing in again.
    write("w/settings/sign-in-code", ADMIN, &[SLUG, ("required", "false")]),
    read("invitations/show", Rule::Public(404), &[("token", BOGUS_TOKEN)]),
    write(
        "invitations/accept",
        Rule::Public(422),
        &[("token", BOGUS_TOKEN), ("name", "Probe"), ("password", OTHER_PASSWORD)],
    ),
    // Tickets.
    read("w/tickets", AGENT, &[SLUG]),
    read("w/tickets/counts", AGENT, &[SLUG]),
    read("w/ticket", AGENT, &[SLUG, ("number", "{n_staff}")]),
    write(
        "w/tickets/create",
        AGENT,
        &[
            SLUG,
            ("requester_email", "probe+{who}@elsewhere.example"),
            ("subject", "Probe from {who}"),
            ("body", "Probe body."),
        ],
    ),
    write(
        "w/ticket/update",
        AGENT,
        &[
            SLUG,
            ("number", "{n_staff}"),
            ("status", "open"),
            ("priority", "normal"),
            ("assignee", "none"),
            ("category", "none"),
            ("tags", ""),
        ],
    ),
    write("w/ticket/take", AGENT, &[SLUG, ("number", "{n_staff}")]),
    write(
        "w/tickets/bulk",
        AGENT,
        &[SLUG, ("ids[0]", "{t_staff_id}"), ("status", "open")],
    ),
    // A's agent's own reply, written minutes ago.
    write(
        "w/ticket/edit",
        AGENT,
        &[
            SLUG,
            ("number", "{n_carl}"),
            ("message_id", "{msg_id}"),
            ("body", "Edited by {who}."),
        ],
    ),
    write(
        "w/views/save",
        AGENT,
        &[SLUG, ("name", "View of {who}"), ("query", "status=open")],
    ),
    // A's agent's own view.
    write("w/views/delete", AGENT, &[SLUG, ("id", "{view_id}")]),
    write("w/categories/create", ADMIN, &[SLUG, ("name", "Category of {who}")]),
    write("w/categories/delete", ADMIN, &[SLUG, ("id", "{cat_id}")]),
    read("w/tickets/new", AGENT, &[SLUG]),
    write("theme", Rule::Public(200), &[("theme", "dark")]),
    // Insights.
    read("w/reports/satisfaction", AGENT, &[SLUG]),
    read("w/feedback", AGENT, &[SLUG]),
    write(
        "w/feedback/status",
        AGENT,
        &[SLUG, ("id", "{fb_id}"), ("status", "planned")],
    ),
    write("w/feedback/vote", AGENT, &[SLUG, ("id", "{fb_id}")]),
    read("w/settings/portal/show", AGENT, &[SLUG]),
    write(
        "w/settings/portal",
        ADMIN,
        &[SLUG, ("brand_color", ""), ("shared_domains", "")],
    ),
    // The portal and the public forms.
    read("p/home", Rule::Brand(200), &[SLUG]),
    write(
        "p/signin/link",
        Rule::Public(200),
        &[SLUG, ("email", "probe+{who}@elsewhere.example")],
    ),
    read("p/signin/check", Rule::Public(422), &[SLUG, ("token", BOGUS_TOKEN)]),
    write("p/signin/redeem", Rule::Public(422), &[SLUG, ("token", BOGUS_TOKEN)]),
    write("p/signout", Rule::Public(200), &[SLUG]).ending(Ends::ThisSession),
    read("p/ticket", Rule::Portal(200), &[SLUG, ("number", "{n_carl}")]),
    write("p/ticket/close", Rule::Portal(200), &[SLUG, ("number", "{n_close}")]),
    read("p/brand", Rule::Brand(200), &[SLUG]),
    write(
        "p/enquiry",
        Rule::Public(200),
        &[
            SLUG,
            ("name", "Probe {who}"),
            ("email", "probe+{who}@elsewhere.example"),
            ("message", "A question from {who} about the service."),
        ],
    ),
    read("p/rate/show", Rule::Public(422), &[SLUG, ("token", BOGUS_TOKEN)]),
    write(
        "p/rate",
        Rule::Public(422),
        &[SLUG, ("token", BOGUS_TOKEN), ("rating", "good")],
    ),
];

/// A hand-written axum route's row.
struct Route {
    method: &'static str,
    /// As the router has it, and `startup::ROUTES` lists it.
    pattern: &'static str,
    rule: Rule,
    /// The path called, with A's ids.
    path: &'static str,
    /// The text fields of the multipart form a POST sends.
    fields: Form,
}

const FEEDBACK: Form = &[
    ("kind", "feature"),
    ("title", "Idea from {who}"),
    ("description", "It would help."),
];

const ROUTE_ROWS: &[Route] = &[
    Route {
        method: "GET",
        pattern: "/healthz",
        rule: Rule::Public(200),
        path: "/healthz",
        fields: &[],
    },
    Route {
        method: "GET",
        pattern: "/readyz",
        rule: Rule::Public(200),
        path: "/readyz",
        fields: &[],
    },
    Route {
        method: "GET",
        pattern: "/sw.js",
        rule: Rule::Public(200),
        path: "/sw.js",
        fields: &[],
    },
    Route {
        method: "POST",
        pattern: "/w/{slug}/tickets/{number}/reply",
        rule: Rule::Staff(Need::Agent, 201),
        path: "/w/{slug}/tickets/{n_staff}/reply",
        fields: &[("kind", "note"), ("body", "A note from {who}.")],
    },
    Route {
        method: "GET",
        pattern: "/w/{slug}/tickets/{number}/files/{id}",
        rule: Rule::Staff(Need::Agent, 200),
        path: "/w/{slug}/tickets/{n_carl}/files/{file_id}",
        fields: &[],
    },
    Route {
        method: "POST",
        pattern: "/p/{slug}/tickets",
        rule: Rule::Portal(201),
        path: "/p/{slug}/tickets",
        fields: &[("subject", "Request from {who}"), ("body", "Please help.")],
    },
    Route {
        method: "POST",
        pattern: "/p/{slug}/tickets/{number}/reply",
        rule: Rule::Portal(201),
        path: "/p/{slug}/tickets/{n_carl}/reply",
        fields: &[("body", "An answer from {who}.")],
    },
    // The file of A's agent's public reply on the customer's own ticket.
    Route {
        method: "GET",
        pattern: "/p/{slug}/tickets/{number}/files/{id}",
        rule: Rule::Portal(200),
        path: "/p/{slug}/tickets/{n_carl}/files/{file_id}",
        fields: &[],
    },
    Route {
        method: "POST",
        pattern: "/p/{slug}/feedback",
        rule: Rule::Portal(201),
        path: "/p/{slug}/feedback",
        fields: FEEDBACK,
    },
    Route {
        method: "POST",
        pattern: "/w/{slug}/feedback",
        rule: Rule::Staff(Need::Agent, 201),
        path: "/w/{slug}/feedback",
        fields: FEEDBACK,
    },
    Route {
        method: "GET",
        pattern: "/w/{slug}/feedback/{id}/screenshot",
        rule: Rule::Staff(Need::Agent, 200),
        path: "/w/{slug}/feedback/{fb_id}/screenshot",
        fields: &[],
    },
    // A colour, never the name.
    Route {
        method: "GET",
        pattern: "/p/{slug}/brand.css",
        rule: Rule::Public(200),
        path: "/p/{slug}/brand.css",
        fields: &[],
    },
];

/// What a page answers a browser (one that asks for HTML, so server functions leave the status to the
/// page: a missing sign-in is a redirect, a missing workspace the 404 page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Page {
    /// 200 for everyone; nothing of A's.
    Public,
    /// 200 for everyone; A's name, nothing else of A's.
    Brand,
    /// 200 with a staff sign-in of any workspace; without one, 302 to sign in.
    SignedIn,
    /// A's staff pages: 302 to sign in without a staff sign-in, the 404 page for B's people, 200 for A's.
    Staff,
    /// A portal request: 200 for everyone, but only its customer sees it ("Please sign in" for others).
    PortalTicket,
}

impl Page {
    fn expected(self, who: Who) -> u16 {
        match self {
            Page::Public | Page::Brand | Page::PortalTicket => 200,
            Page::SignedIn => {
                if who.is_staff() {
                    200
                } else {
                    302
                }
            }
            Page::Staff => match who {
                Who::Anonymous | Who::CustomerA => 302,
                Who::AgentB | Who::AdminB | Who::OwnerB => 404,
                Who::AgentA | Who::OwnerA => 200,
            },
        }
    }
}

/// A page: its pattern as the Leptos route list gives it, and the path called.
const PAGE_ROWS: &[(&str, Page, &str)] = &[
    ("/", Page::Public, "/"),
    ("/offline", Page::Public, "/offline"),
    ("/signup", Page::Public, "/signup"),
    ("/signin", Page::Public, "/signin"),
    ("/signin/code", Page::Public, "/signin/code"),
    ("/signin/link", Page::Public, "/signin/link"),
    ("/signin/link/{token}", Page::Public, "/signin/link/{bogus}"),
    ("/password/forgot", Page::Public, "/password/forgot"),
    ("/password/reset/{token}", Page::Public, "/password/reset/{bogus}"),
    ("/account", Page::SignedIn, "/account"),
    ("/invitations/{token}", Page::Public, "/invitations/{bogus}"),
    ("/w/{slug}", Page::Staff, "/w/{slug}"),
    ("/w/{slug}/team", Page::Staff, "/w/{slug}/team"),
    ("/w/{slug}/tickets", Page::Staff, "/w/{slug}/tickets"),
    ("/w/{slug}/tickets/new", Page::Staff, "/w/{slug}/tickets/new"),
    ("/w/{slug}/tickets/{number}", Page::Staff, "/w/{slug}/tickets/{n_staff}"),
    ("/w/{slug}/reports", Page::Staff, "/w/{slug}/reports"),
    ("/w/{slug}/feedback", Page::Staff, "/w/{slug}/feedback"),
    ("/p/{slug}", Page::Brand, "/p/{slug}"),
    ("/p/{slug}/signin/{token}", Page::Public, "/p/{slug}/signin/{bogus}"),
    (
        "/p/{slug}/tickets/{number}",
        Page::PortalTicket,
        "/p/{slug}/tickets/{n_carl}",
    ),
    ("/p/{slug}/contact", Page::Brand, "/p/{slug}/contact"),
    ("/p/{slug}/rate/{token}", Page::Public, "/p/{slug}/rate/{bogus}"),
    ("/embed/{slug}/contact", Page::Brand, "/embed/{slug}/contact"),
];

/// Fields no server function takes, with values that would give the caller B, A's owner's account,
/// another requester or another ticket if any were read. `slug` is added where a function takes none; a
/// second `slug` is its own variant.
const EXTRAS: [(&str, &str); 7] = [
    ("workspace_id", "{beta_id}"),
    ("role", "owner"),
    ("account_id", "{owner_id}"),
    ("owner", "true"),
    ("is_admin", "true"),
    ("requester_id", "{other_requester}"),
    ("id", "{t_other_id}"),
];

/// Fails with the difference between what a registry holds and what a table has rows for.
fn assert_same(what: &str, registered: BTreeSet<String>, table: BTreeSet<String>, advice: &str) {
    let missing: Vec<&String> = registered.difference(&table).collect();
    let stale: Vec<&String> = table.difference(&registered).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "the {what} and tests/api/authz.rs differ.\n  without a row ({advice}): {missing:?}\n  rows for \
         nothing that exists (remove them): {stale:?}"
    );
}

fn no_duplicates<'a>(what: &str, keys: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for key in keys {
        assert!(seen.insert(key.to_owned()), "{what}: two rows for {key}");
    }
    seen
}

/// The server functions' table against their inventory (every `#[server]` registers itself there).
fn check_function_table() {
    let mut registered = BTreeSet::new();
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        // The matrix posts forms; a function answering GET would need calling differently.
        assert_eq!(
            method.as_str(),
            "POST",
            "{path} is not a POST: teach tests/api/authz.rs to call it"
        );
        registered.insert(path.trim_start_matches("/api/").to_owned());
    }
    let table = no_duplicates("FUNCTIONS", FUNCTIONS.iter().map(|f| f.path));
    assert_same(
        "registered server functions",
        registered,
        table,
        "add it to FUNCTIONS saying who may call it",
    );
}

/// The routes' table against the list beside the router.
fn check_route_table() {
    let listed = server::startup::ROUTES
        .iter()
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    let keys: Vec<String> = ROUTE_ROWS
        .iter()
        .map(|r| format!("{} {}", r.method, r.pattern))
        .collect();
    let table = no_duplicates("ROUTE_ROWS", keys.iter().map(String::as_str));
    assert_same(
        "routes in server::startup::ROUTES",
        listed,
        table,
        "add it to ROUTE_ROWS saying who may call it",
    );
}

/// The pages' table against the Leptos route list the router is built from.
fn check_page_table() {
    let generated = server::startup::route_list()
        .into_iter()
        .map(|route| route.path().to_owned())
        .collect();
    let table = no_duplicates("PAGE_ROWS", PAGE_ROWS.iter().map(|(pattern, _, _)| *pattern));
    assert_same(
        "pages of the app's router",
        generated,
        table,
        "add it to PAGE_ROWS saying who may see it",
    );
}

#[test]
fn every_server_function_has_a_row_in_the_authorization_matrix() {
    check_function_table();
}

#[test]
fn every_hand_written_route_has_a_row_in_the_authorization_matrix() {
    check_route_table();
}

#[tokio::test]
async fn every_page_has_a_row_in_the_authorization_matrix() {
    check_page_table();
}

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

/// The canaries of a workspace set up by `set_up`: in subjects and names, in bodies, in addresses.
fn canaries(slug: &str) -> Vec<String> {
    vec![format!("canary-{slug}"), format!("{slug}canary"), format!("+{slug}@")]
}

/// A JSON string's text, or "" for anything else.
fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn pairs(form: &[(&str, &str)]) -> Vec<(String, String)> {
    form.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
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

impl World {
    async fn build(backend: Backend) -> World {
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
        let list = self.json_of("w/tickets", &[("slug", "alpha")], agent.as_deref()).await;
        let view_id = list["saved"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "View CANARY-ALPHA-VIEW")
            .and_then(|v| v["id"].as_i64())
            .unwrap();
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

    fn cookie(&self, who: Who) -> Option<String> {
        self.cookies.get(&who).cloned()
    }

    /// `template` with `{who}` and A's ids filled in.
    fn fill(&self, template: &str, who: &str) -> String {
        let mut filled = template.replace("{who}", who);
        for (name, value) in &self.vars {
            filled = filled.replace(&format!("{{{name}}}"), value);
        }
        assert!(!filled.contains('{'), "a placeholder without a value in {template:?}");
        filled
    }

    fn fill_form(&self, form: Form, who: &str) -> Vec<(String, String)> {
        form.iter()
            .map(|(name, value)| ((*name).to_owned(), self.fill(value, who)))
            .collect()
    }

    async fn answer(response: reqwest::Response) -> (u16, String) {
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// A server function, as the hydrated app calls it (a same-origin form post).
    async fn call(&self, function: &str, form: &[(String, String)], cookie: Option<&str>) -> (u16, String) {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        World::answer(self.app.call(function, &form, cookie).await).await
    }

    /// The same fields as a JSON object.
    async fn call_json(&self, function: &str, form: &[(String, String)], cookie: Option<&str>) -> (u16, String) {
        let object: serde_json::Map<String, Value> = form
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let mut request = self
            .app
            .client
            .post(self.app.url(&format!("/api/{function}")))
            .header("origin", &self.app.origin)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/json")
            .body(Value::Object(object).to_string());
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        World::answer(request.send().await.expect("request succeeds")).await
    }

    /// A server function whose answer must be 200, as JSON.
    async fn json_of(&self, function: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Value {
        let body = expect(self.app.call(function, form, cookie).await, 200).await;
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{function}: {e}: {body}"))
    }

    /// A GET, as a browser asks for a page (`html`) or a script for a file.
    async fn get(&self, path: &str, cookie: Option<&str>, html: bool) -> (u16, String) {
        let mut request = self.app.client.get(self.app.url(path));
        if html {
            request = request.header("accept", "text/html,application/xhtml+xml");
        }
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        World::answer(request.send().await.expect("request succeeds")).await
    }

    /// A multipart form, as a script posts it (the answer is a status and JSON), with a PNG in `file`
    /// (field, file name) if given.
    async fn post_multipart(
        &self,
        path: &str,
        fields: &[(String, String)],
        file: Option<(&str, &str)>,
        cookie: Option<&str>,
    ) -> (u16, String) {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.clone(), value.clone());
        }
        if let Some((field, name)) = file {
            form = form.part(
                field.to_owned(),
                reqwest::multipart::Part::bytes(png()).file_name(name.to_owned()),
            );
        }
        let mut request = self
            .app
            .client
            .post(self.app.url(path))
            .header("origin", &self.app.origin)
            .header("sec-fetch-site", "same-origin")
            .multipart(form);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        World::answer(request.send().await.expect("request succeeds")).await
    }

    /// A new staff session with the password.
    async fn sign_in(&self, email: &str, password: &str) -> String {
        let response = self
            .app
            .call("signin", &[("email", email), ("password", password)], None)
            .await;
        let cookie = session_cookie(&response).map(|(name, value, _)| format!("{name}={value}"));
        let body = expect(response, 200).await;
        cookie.unwrap_or_else(|| panic!("signing in as {email} set no session cookie: {body}"))
    }

    /// A new portal session of A's customer, by an emailed link.
    async fn portal_session(&mut self) -> String {
        let email = self.alpha.customer_email.clone();
        expect(
            self.app
                .call("p/signin/link", &[("slug", "alpha"), ("email", email.as_str())], None)
                .await,
            200,
        )
        .await;
        self.customer_links += 1;
        let link = self
            .app
            .email(&email, "Sign in to", self.customer_links)
            .await
            .link(&format!("{}/p/alpha/signin/", self.app.address));
        let token = link.rsplit('/').next().unwrap().to_owned();
        let redeemed = self
            .app
            .call("p/signin/redeem", &[("slug", "alpha"), ("token", token.as_str())], None)
            .await;
        let cookie = cookie_of(&redeemed);
        expect(redeemed, 200).await;
        cookie
    }

    /// A session of `who` made for one call that ends it.
    async fn fresh_session(&mut self, who: Who) -> Option<String> {
        match who {
            Who::Anonymous => None,
            Who::CustomerA => Some(self.portal_session().await),
            staff => Some(self.sign_in(staff.email().unwrap(), PASSWORD).await),
        }
    }

    /// After signing out everywhere: the staff principals sign in again.
    async fn sign_staff_in_again(&mut self) {
        for who in PRINCIPALS.into_iter().filter(|who| who.is_staff()) {
            let cookie = self.sign_in(who.email().unwrap(), PASSWORD).await;
            self.cookies.insert(who, cookie);
        }
    }

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
    fn inspect(&mut self, label: &str, who: Who, brand: bool, status: u16, body: &str) {
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
    fn check(&mut self, label: &str, who: Who, brand: bool, expected: u16, status: u16, body: &str) {
        if status != expected {
            self.problems
                .push(format!("{label}: {status}, expected {expected}: {}", excerpt(body)));
        }
        self.inspect(label, who, brand, status, body);
    }

    /// Every server function as every principal. Returns the number of calls.
    async fn server_functions(&mut self) -> usize {
        let mut calls = 0;
        for row in FUNCTIONS {
            let mut principals = PRINCIPALS.to_vec();
            if matches!(row.rule, Rule::Staff(Need::Admin, _)) {
                principals.push(Who::OwnerA);
            }
            for who in principals {
                let cookie = match row.ends {
                    Ends::ThisSession => self.fresh_session(who).await,
                    Ends::Nothing | Ends::EverySession => self.cookie(who),
                };
                let form = self.fill_form(row.form, who.label());
                let (status, body) = self.call(row.path, &form, cookie.as_deref()).await;
                let label = format!("{} as {}", row.path, who.label());
                self.check(&label, who, row.rule.brand(), row.rule.expected(who), status, &body);
                calls += 1;
            }
            if row.ends == Ends::EverySession {
                self.sign_staff_in_again().await;
            }
        }
        calls
    }

    /// Every hand-written route as every principal. Returns the number of calls.
    async fn routes(&mut self) -> usize {
        // What the router answers for a path no route has: the app's 404 page. No route's answer may be
        // that (a route that stopped matching would look like a refusal otherwise).
        let (status, body) = self.get("/w/alpha/tickets/1/nowhere", None, false).await;
        assert_eq!(status, 404);
        assert!(body.contains("Page not found"), "{}", excerpt(&body));
        let mut calls = 0;
        for route in ROUTE_ROWS {
            for who in PRINCIPALS {
                let cookie = self.cookie(who);
                let path = self.fill(route.path, who.label());
                let (status, body) = if route.method == "GET" {
                    self.get(&path, cookie.as_deref(), false).await
                } else {
                    let fields = self.fill_form(route.fields, who.label());
                    self.post_multipart(&path, &fields, None, cookie.as_deref()).await
                };
                let label = format!("{} {} as {}", route.method, route.pattern, who.label());
                if body.contains("Page not found") {
                    self.problems
                        .push(format!("{label}: answered by the router's fallback, not the route"));
                }
                self.check(&label, who, route.rule.brand(), route.rule.expected(who), status, &body);
                calls += 1;
            }
        }
        calls
    }

    /// Every page as every principal. Returns the number of calls.
    async fn pages(&mut self) -> usize {
        let mut calls = 0;
        for (pattern, page, path) in PAGE_ROWS {
            for who in PRINCIPALS {
                let cookie = self.cookie(who);
                let path = self.fill(path, who.label());
                let (status, body) = self.get(&path, cookie.as_deref(), true).await;
                let label = format!("page {pattern} as {}", who.label());
                self.check(&label, who, *page == Page::Brand, page.expected(who), status, &body);
                calls += 1;
            }
        }
        calls
    }

    /// B's people in their own workspace: its lists, searches (A's word among them), team and pages hold
    /// nothing of A's.
    async fn b_lists_and_searches(&mut self) {
        for who in [Who::AgentB, Who::AdminB, Who::OwnerB] {
            let cookie = self.cookie(who);
            let customer = self.alpha.customer_email.clone();
            for (function, query) in [
                ("w/tickets", vec![]),
                ("w/tickets", vec![("query[q]", "alphacanary")]),
                ("w/tickets", vec![("query[q]", "canary")]),
                ("w/tickets", vec![("query[requester]", customer.as_str())]),
                ("w/tickets/counts", vec![]),
                ("w/team", vec![]),
                ("w/overview", vec![]),
                ("w/feedback", vec![]),
                ("w/tickets/new", vec![]),
                ("w/settings/portal/show", vec![]),
                ("w/reports/satisfaction", vec![]),
            ] {
                let mut form = vec![("slug", "beta")];
                form.extend(query.iter().copied());
                let (status, body) = self.call(function, &pairs(&form), cookie.as_deref()).await;
                let label = format!("{function} {query:?} in B as {}", who.label());
                self.check(&label, who, false, 200, status, &body);
                let searched_a = query
                    .iter()
                    .any(|(name, value)| *value == "alphacanary" || name.starts_with("query[requester]"));
                if searched_a && status == 200 {
                    let rows = serde_json::from_str::<Value>(&body).unwrap_or(Value::Null)["rows"]
                        .as_array()
                        .map_or(usize::MAX, Vec::len);
                    if rows != 0 {
                        self.problems
                            .push(format!("{label}: LEAK: found {rows} rows for what only A holds"));
                    }
                }
            }
            // (Not a search page for A's word: its search box shows the word it was given.)
            for path in ["/w/beta/tickets", "/w/beta", "/account"] {
                let (status, body) = self.get(path, cookie.as_deref(), true).await;
                let label = format!("page {path} as {}", who.label());
                self.check(&label, who, false, 200, status, &body);
            }
        }
    }

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
            let saved = |list: &Value| {
                list["saved"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|v| v["name"] == "View of mass-x")
            };
            let mine = self.json_of("w/tickets", &[("slug", "alpha")], agent.as_deref()).await;
            let owners = self.json_of("w/tickets", &[("slug", "alpha")], owner.as_deref()).await;
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

    /// Everyone's roles are what set-up gave them, B's team and tickets are as they were, and A's team has
    /// nobody of B's.
    async fn roles_are_unchanged(&mut self) {
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

    fn finish(self, what: &str, backend: Backend) {
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

async fn every_principal_gets_what_its_role_allows_and_nothing_of_another_workspace(backend: Backend) {
    check_function_table();
    check_route_table();
    check_page_table();
    let mut world = World::build(backend).await;
    let functions = world.server_functions().await;
    let routes = world.routes().await;
    let pages = world.pages().await;
    world.b_lists_and_searches().await;
    world.roles_are_unchanged().await;
    println!(
        "authorization matrix: {} server functions × {} principals ({functions} calls, A's owner included \
         where only an admin may), {} routes × {} ({routes} calls), {} pages × {} ({pages} calls)",
        FUNCTIONS.len(),
        PRINCIPALS.len(),
        ROUTE_ROWS.len(),
        PRINCIPALS.len(),
        PAGE_ROWS.len(),
        PRINCIPALS.len()
    );
    world.finish("authorization matrix", backend);
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

on_both_backends!(
    every_principal_gets_what_its_role_allows_and_nothing_of_another_workspace,
    extra_fields_and_json_bodies_get_no_further_than_the_plain_call,
);
