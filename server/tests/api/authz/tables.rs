//! The tables: who may call each server function, route and page; and the mass-assignment pass's extra fields.

use super::*;

/// A server function's row. Form values may hold `{placeholders}`, filled from A's ids (see
/// [`World::plant`]) and `{who}`, the caller's label.
#[derive(Clone, Copy)]
pub(super) struct Function {
    /// The path after `/api/`.
    pub(super) path: &'static str,
    pub(super) rule: Rule,
    /// A valid body: each refusal is then the authorization's, not a bad body's.
    pub(super) form: Form,
    /// Changes something: the mass-assignment pass sends it again with extra fields.
    pub(super) writes: bool,
    pub(super) ends: Ends,
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
pub(super) const FUNCTIONS: &[Function] = &[
    // Accounts and sign-in.
    read("me", Rule::Public(200), &[]),
    // The frame's state: a workspace's navigation only for its members, nothing for anyone else.
    read(
        "shell",
        Rule::Public(200),
        &[("path", "/w/{slug}/tickets"), ("query", "?status=unsolved")],
    ),
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
    read("w/home", AGENT, &[SLUG]),
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
    read("w/categories", AGENT, &[SLUG]),
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
pub(super) struct Route {
    pub(super) method: &'static str,
    /// As the router has it, and `startup::ROUTES` lists it.
    pub(super) pattern: &'static str,
    pub(super) rule: Rule,
    /// The path called, with A's ids.
    pub(super) path: &'static str,
    /// The text fields of the multipart form a POST sends.
    pub(super) fields: Form,
}

const FEEDBACK: Form = &[
    ("kind", "feature"),
    ("title", "Idea from {who}"),
    ("description", "It would help."),
];

pub(super) const ROUTE_ROWS: &[Route] = &[
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
pub(super) enum Page {
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
    pub(super) fn expected(self, who: Who) -> u16 {
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
pub(super) const PAGE_ROWS: &[(&str, Page, &str)] = &[
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
    ("/w/{slug}/settings", Page::Staff, "/w/{slug}/settings"),
    ("/w/{slug}/settings/{topic}", Page::Staff, "/w/{slug}/settings/team"),
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
pub(super) const EXTRAS: [(&str, &str); 7] = [
    ("workspace_id", "{beta_id}"),
    ("role", "owner"),
    ("account_id", "{owner_id}"),
    ("owner", "true"),
    ("is_admin", "true"),
    ("requester_id", "{other_requester}"),
    ("id", "{t_other_id}"),
];
