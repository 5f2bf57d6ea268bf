//! Server functions of the agents' ticket pages. Each one resolves the workspace from the signed-in
//! person's memberships (a ticket number of another workspace is simply not found) and works only in that
//! workspace's own database.
// Form posts arrive as one argument per field; the functions the `server` macro generates for the browser
// take the same list.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A choice in a select: value and label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// A row of the ticket list. It travels as an array of its fields in this order, not as an object: the
/// list's rows are most of its page's hydration data, which is escaped character by character into a
/// script, and the field names were 45 % of their bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketRow {
    pub number: i64,
    /// The row id, which bulk actions name.
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub requester: String,
    pub assignee: Option<String>,
    /// When it was last updated: RFC 3339 in UTC to the second (`2026-12-04T03:22:51Z`), for
    /// `<time datetime>`; [`TicketRow::updated_label`] shows it.
    pub updated: String,
    /// For search results: escaped text with `<mark>` around the matching words.
    pub snippet: Option<String>,
}

impl Serialize for TicketRow {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let TicketRow {
            number,
            id,
            subject,
            status,
            priority,
            requester,
            assignee,
            updated,
            snippet,
        } = self;
        (
            number, id, subject, status, priority, requester, assignee, updated, snippet,
        )
            .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for TicketRow {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (number, id, subject, status, priority, requester, assignee, updated, snippet) =
            Deserialize::deserialize(deserializer)?;
        Ok(TicketRow {
            number,
            id,
            subject,
            status,
            priority,
            requester,
            assignee,
            updated,
            snippet,
        })
    }
}

impl TicketRow {
    /// `YYYY-MM-DD HH:MM` of [`TicketRow::updated`], cut from it rather than sent twice to the browser.
    pub fn updated_label(&self) -> String {
        minute_label(&self.updated)
    }
}

impl MessageView {
    /// `YYYY-MM-DD HH:MM` of [`MessageView::at_iso`], cut from it rather than sent twice to the browser.
    pub fn at_label(&self) -> String {
        minute_label(&self.at_iso)
    }
}

/// How a time is shown on the ticket pages, `YYYY-MM-DD HH:MM`, cut from its RFC 3339 form in UTC; a value
/// too short to cut is shown as it is.
pub fn minute_label(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => [day, " ", time].concat(),
        _ => rfc3339.to_owned(),
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewCounts {
    pub my_open: i64,
    pub unassigned: i64,
    pub all_open: i64,
    pub recently_solved: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedViewItem {
    pub id: i64,
    pub name: String,
    pub query: String,
}

/// The list page's filters, as they appear in its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub priority: Option<String>,
    pub assignee: Option<String>,
    pub category: Option<String>,
    pub tag: Option<String>,
    pub requester: Option<String>,
    pub sort: Option<String>,
    pub after: Option<String>,
    pub q: Option<String>,
}

impl ListQuery {
    /// The query string of these filters (without the page cursor).
    pub fn to_query_string(&self) -> String {
        let pairs = [
            ("status", &self.status),
            ("priority", &self.priority),
            ("assignee", &self.assignee),
            ("category", &self.category),
            ("tag", &self.tag),
            ("requester", &self.requester),
            ("sort", &self.sort),
            ("q", &self.q),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| {
                v.as_deref()
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={}", encode(v)))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListView {
    pub slug: String,
    pub workspace: String,
    pub is_admin: bool,
    pub counts: ViewCounts,
    pub rows: Vec<TicketRow>,
    /// The next page's cursor.
    pub next: Option<String>,
    /// Whether these are search results (ranked, one page).
    pub searching: bool,
    pub agents: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub tags: Vec<String>,
    pub saved: Vec<SavedViewItem>,
    pub me: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentView {
    pub id: i64,
    pub name: String,
    pub size: String,
    pub is_image: bool,
    pub url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: i64,
    /// `reply`, `note` or `event`.
    pub kind: String,
    pub author: String,
    /// Sanitized HTML (rendered and cleaned when the message was written).
    pub html: String,
    /// When it was written, RFC 3339 in UTC; [`MessageView::at_label`] is how it is shown.
    pub at_iso: String,
    pub edited: bool,
    /// The Markdown, for the author while the edit window is open.
    pub editable_body: Option<String>,
    pub attachments: Vec<AttachmentView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketView {
    pub slug: String,
    pub workspace: String,
    pub id: i64,
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub requester_name: String,
    pub requester_email: String,
    pub assignee_id: Option<i64>,
    pub category_id: Option<i64>,
    pub tags: Vec<String>,
    pub created: String,
    pub thread: Vec<MessageView>,
    pub agents: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub me: i64,
    /// What the composer held when a post of it was refused (kept in the session), and why.
    pub draft: Option<Draft>,
    /// The largest attachment and the most per message, in words.
    pub limits: String,
    /// The requester's rating, once given.
    pub rating: Option<RatingInfo>,
}

/// A requester's rating of the help on a ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingInfo {
    /// `good` or `bad`.
    pub score: String,
    pub comment: String,
    pub at: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub body: String,
    pub kind: String,
    pub error: String,
}

pub const STATUSES: [(&str, &str); 6] = [
    ("new", "New"),
    ("open", "Open"),
    ("pending", "Pending"),
    ("on_hold", "On hold"),
    ("solved", "Solved"),
    ("closed", "Closed"),
];
pub const PRIORITIES: [(&str, &str); 4] = [
    ("low", "Low"),
    ("normal", "Normal"),
    ("high", "High"),
    ("urgent", "Urgent"),
];

pub fn status_label(status: &str) -> &'static str {
    STATUSES.iter().find(|(v, _)| *v == status).map_or("?", |(_, l)| l)
}

pub fn priority_label(priority: &str) -> &'static str {
    PRIORITIES.iter().find(|(v, _)| *v == priority).map_or("?", |(_, l)| l)
}

/// The session key of a refused reply's draft, per workspace and ticket.
pub fn draft_key(slug: &str, number: i64) -> String {
    format!("draft:{slug}:{number}")
}

#[cfg(feature = "ssr")]
pub mod support {
    //! What the ticket server functions and the attachment handlers share.
    use super::*;
    use crate::server::{Current, Services, client_ip, from_domain, reject};
    use domain::{
        WorkspaceDb, WorkspaceId,
        auth::{accounts::MembershipOf, team},
        workspace::tickets::{Actor, Assignee, Author},
    };
    use std::sync::Arc;

    pub fn actor(services: &Services, current: &Current, membership: &MembershipOf, ip: Option<String>) -> Actor {
        Actor {
            author: Author::Agent {
                account_id: current.account.id,
                name: current.account.name.clone(),
            },
            ip,
            base_url: services.base_url.clone(),
            workspace_slug: membership.slug.clone(),
            workspace_name: membership.name.clone(),
        }
    }

    pub fn request_actor(services: &Services, current: &Current, membership: &MembershipOf) -> Actor {
        actor(services, current, membership, client_ip().map(|ip| ip.to_string()))
    }

    pub async fn open(services: &Services, membership: &MembershipOf) -> Result<WorkspaceDb, AppError> {
        services
            .tenants
            .open(WorkspaceId::from_row(membership.workspace_id))
            .await
            .map_err(from_domain)
    }

    /// Has the mail a change caused moved to the job queue (in the background; what fails there,
    /// housekeeping moves later).
    pub async fn relay(services: &Services, ws: &WorkspaceDb) {
        services.relayer.soon(ws);
    }

    /// The workspace's team, from memory while it has not changed since it was read.
    pub async fn agents(services: &Services, membership: &MembershipOf) -> Result<Arc<[team::Member]>, AppError> {
        let workspace = WorkspaceId::from_row(membership.workspace_id);
        team::members_at(services.landlord(), workspace, membership.team_version)
            .await
            .map_err(from_domain)
    }

    /// Resolves an assignee choice: `none` unassigns, `me` is the caller, a number must be a member.
    pub fn assignee(
        value: &str,
        current: &Current,
        members: &[team::Member],
        field: &str,
    ) -> Result<Option<Assignee>, AppError> {
        let id = match value {
            "" | "none" => return Ok(None),
            "me" => current.account.id,
            other => other
                .parse()
                .map_err(|_| reject(AppError::field(field, "Choose a member of the team.")))?,
        };
        members
            .iter()
            .find(|m| m.account_id == id)
            .map(|m| {
                Some(Assignee {
                    account_id: m.account_id,
                    name: m.name.clone(),
                    email: m.email.clone(),
                })
            })
            .ok_or_else(|| reject(AppError::field(field, "Choose a member of the team.")))
    }

    pub fn agent_choices(members: Arc<[team::Member]>) -> Vec<Choice> {
        members
            .iter()
            .map(|m| Choice {
                value: m.account_id.to_string(),
                label: m.name.clone(),
            })
            .collect()
    }

    pub fn category_choices(categories: Vec<domain::workspace::tickets::Category>) -> Vec<Choice> {
        categories
            .into_iter()
            .map(|c| Choice {
                value: c.id.to_string(),
                label: c.name,
            })
            .collect()
    }

    pub fn counts(counts: domain::workspace::views::Counts) -> ViewCounts {
        ViewCounts {
            my_open: counts.my_open,
            unassigned: counts.unassigned,
            all_open: counts.all_open,
            recently_solved: counts.recently_solved,
        }
    }

    /// A time's label ([`minute_label`]).
    pub fn when(time: chrono::DateTime<chrono::Utc>) -> String {
        minute_label(&time.to_rfc3339())
    }

    pub fn size(bytes: i64) -> String {
        match bytes {
            b if b < 1024 => format!("{b} B"),
            b if b < 1024 * 1024 => format!("{:.0} KB", b as f64 / 1024.0),
            b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        }
    }
}

#[cfg(feature = "ssr")]
use crate::server::reject;

#[cfg(feature = "ssr")]
fn status_of(value: &str, field: &str) -> Result<domain::workspace::tickets::Status, AppError> {
    domain::workspace::tickets::Status::parse(value).ok_or_else(|| reject(AppError::field(field, "Choose a status.")))
}

#[cfg(feature = "ssr")]
fn priority_of(value: &str, field: &str) -> Result<domain::workspace::tickets::Priority, AppError> {
    domain::workspace::tickets::Priority::parse(value)
        .ok_or_else(|| reject(AppError::field(field, "Choose a priority.")))
}

#[cfg(feature = "ssr")]
fn category_of(value: &str) -> Result<Option<i64>, AppError> {
    match value {
        "" | "none" => Ok(None),
        id => id
            .parse()
            .map(Some)
            .map_err(|_| reject(AppError::field("category", "Choose a category."))),
    }
}

#[cfg(feature = "ssr")]
fn tags_of(value: &str, field: &str) -> Result<Vec<String>, AppError> {
    domain::workspace::tickets::parse_tags(value).map_err(|e| reject(AppError::field(field, e.to_string())))
}

#[cfg(feature = "ssr")]
fn row(ticket: domain::workspace::tickets::Ticket, snippet: Option<String>) -> TicketRow {
    TicketRow {
        number: ticket.number,
        id: ticket.id,
        subject: ticket.subject,
        status: ticket.status,
        priority: ticket.priority,
        requester: if ticket.requester_name.is_empty() {
            ticket.requester_email
        } else {
            ticket.requester_name
        },
        assignee: ticket.assignee_name,
        updated: ticket.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        snippet,
    }
}

/// The ticket list: a view's page of tickets (or search results), the counts of the built-in views, and
/// what the filters offer.
#[server(endpoint = "w/tickets")]
pub async fn ticket_list(slug: String, #[server(default)] query: ListQuery) -> Result<ListView, AppError> {
    use crate::server::{fail, from_domain, now, require_member, services};
    use domain::auth::accounts::Role;
    use domain::workspace::{
        search,
        tickets::Status,
        views::{self, AssigneeFilter, Cursor, Filter, Sort},
    };
    let (current, membership) = require_member(&slug, Role::Agent).await?;
    let services = services()?;
    let ws = support::open(&services, &membership).await?;
    let me = current.account.id;
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let statuses = match text(&query.status).as_deref() {
        None => Vec::new(),
        Some("unsolved") => Status::UNSOLVED.to_vec(),
        Some("solved") => vec![Status::Solved, Status::Closed],
        Some(one) => vec![status_of(one, "status")?],
    };
    let assignee = match text(&query.assignee).as_deref() {
        None => None,
        Some("me") => Some(AssigneeFilter::Account(me)),
        Some("none") => Some(AssigneeFilter::Unassigned),
        Some(id) => {
            Some(AssigneeFilter::Account(id.parse().map_err(|_| {
                reject(AppError::field("assignee", "Choose a member of the team."))
            })?))
        }
    };
    let filter = Filter {
        statuses,
        priority: text(&query.priority).map(|p| priority_of(&p, "priority")).transpose()?,
        assignee,
        category_id: text(&query.category).map(|c| category_of(&c)).transpose()?.flatten(),
        tag: text(&query.tag),
        requester: text(&query.requester),
    };
    let sort = match text(&query.sort) {
        Some(sort) => Sort::parse(&sort).ok_or_else(|| reject(AppError::field("sort", "Choose an order.")))?,
        None => Sort::Updated,
    };
    let (rows, next, searching): (Vec<TicketRow>, Option<String>, bool) = match text(&query.q) {
        Some(q) => {
            let hits = search::search(&ws, &q, 50).await.map_err(from_domain)?;
            (
                hits.into_iter().map(|h| row(h.ticket, Some(h.snippet))).collect(),
                None,
                true,
            )
        }
        None => {
            let after = match text(&query.after) {
                Some(cursor) => Some(Cursor::parse(&cursor, sort).map_err(from_domain)?),
                None => None,
            };
            let page = views::list(&ws, &filter, sort, after.as_ref(), 50)
                .await
                .map_err(from_domain)?;
            (
                page.tickets.into_iter().map(|t| row(t, None)).collect(),
                page.next,
                false,
            )
        }
    };
    let panel = views::panel(&ws, me, now()).await.map_err(from_domain)?;
    let agents = support::agents(&services, &membership).await?;
    if rows.is_empty() && query.after.is_some() && !searching {
        return fail(AppError::NotFound);
    }
    Ok(ListView {
        slug: membership.slug.clone(),
        workspace: membership.name.clone(),
        is_admin: membership.role != Role::Agent,
        counts: support::counts(panel.counts),
        rows,
        next,
        searching,
        agents: support::agent_choices(agents),
        categories: support::category_choices(panel.categories),
        tags: panel.tags,
        saved: panel
            .saved
            .into_iter()
            .map(|v| SavedViewItem {
                id: v.id,
                name: v.name,
                query: v.query,
            })
            .collect(),
        me,
    })
}

/// The built-in views' counts alone (for refreshing the side panel).
#[server(endpoint = "w/tickets/counts")]
pub async fn ticket_counts(slug: String) -> Result<ViewCounts, AppError> {
    use crate::server::{from_domain, now, require_member, services};
    use domain::auth::accounts::Role;
    let (current, membership) = require_member(&slug, Role::Agent).await?;
    let services = services()?;
    let ws = support::open(&services, &membership).await?;
    let counts = domain::workspace::views::counts(&ws, current.account.id, now())
        .await
        .map_err(from_domain)?;
    Ok(support::counts(counts))
}

/// One ticket with its whole thread (notes included: this is the agents' page).
#[server(endpoint = "w/ticket")]
pub async fn ticket_page(slug: String, number: i64) -> Result<TicketView, AppError> {
    use crate::server::{from_domain, internal, now, require_member, services, session};
    use domain::auth::accounts::Role;
    use domain::workspace::{attachments, tickets};
    let (current, membership) = require_member(&slug, Role::Agent).await?;
    let services = services()?;
    let ws = support::open(&services, &membership).await?;
    let ticket = tickets::get(&ws, number).await.map_err(from_domain)?;
    let thread = tickets::thread(&ws, ticket.id, false).await.map_err(from_domain)?;
    let files = attachments::of_ticket(&ws, ticket.id, false)
        .await
        .map_err(from_domain)?;
    let tags = tickets::tags(&ws, ticket.id).await.map_err(from_domain)?;
    let categories = tickets::categories(&ws).await.map_err(from_domain)?;
    let agents = support::agents(&services, &membership).await?;
    let rating = domain::workspace::ratings::of_ticket(&ws, ticket.id)
        .await
        .map_err(from_domain)?
        .and_then(|r| {
            Some(RatingInfo {
                score: r.rating?,
                comment: r.comment,
                at: support::when(r.updated_at),
            })
        });
    let session = session().await?;
    let key = draft_key(&membership.slug, number);
    let draft: Option<Draft> = session.remove(&key).await.map_err(internal)?;
    let now = now();
    let me = current.account.id;
    let limits = services.attachment_limits;
    let thread = thread
        .into_iter()
        .map(|m| {
            let editable =
                m.author_account_id == Some(me) && m.kind != "event" && now - m.created_at <= tickets::EDIT_WINDOW;
            MessageView {
                id: m.id,
                kind: m.kind,
                author: m.author_name,
                html: m.html,
                at_iso: m.created_at.to_rfc3339(),
                edited: m.edited_at.is_some(),
                editable_body: editable.then_some(m.body),
                attachments: files
                    .iter()
                    .filter(|a| a.message_id == m.id)
                    .map(|a| AttachmentView {
                        id: a.id,
                        name: a.file_name.clone(),
                        size: support::size(a.size),
                        is_image: a.is_image(),
                        url: format!("/w/{}/tickets/{}/files/{}", membership.slug, number, a.id),
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(TicketView {
        slug: membership.slug.clone(),
        workspace: membership.name.clone(),
        id: ticket.id,
        number: ticket.number,
        subject: ticket.subject,
        status: ticket.status,
        priority: ticket.priority,
        requester_name: ticket.requester_name,
        requester_email: ticket.requester_email,
        assignee_id: ticket.assignee_account_id,
        category_id: ticket.category_id,
        tags,
        created: support::when(ticket.created_at),
        thread,
        agents: support::agent_choices(agents),
        categories: support::category_choices(categories),
        me,
        draft,
        limits: format!(
            "Up to {} files, {} each, {} together.",
            limits.files_per_message,
            support::size(limits.per_file as i64),
            support::size(limits.per_message as i64)
        ),
        rating,
    })
}

/// Opens a ticket for a requester (found or created by address) and goes to it.
#[server(endpoint = "w/tickets/create")]
pub async fn create_ticket(
    slug: String,
    requester_email: String,
    requester_name: Option<String>,
    subject: String,
    body: String,
    priority: Option<String>,
    category: Option<String>,
    assignee: Option<String>,
    tags: Option<String>,
) -> Result<(), AppError> {
    use crate::server::{fail, from_domain, now, redirect, require_member, services};
    use domain::auth::accounts::Role;
    use domain::workspace::tickets::{self, NewTicket};
    let keep = |error: AppError| {
        error.keeping(&[
            ("requester_email", requester_email.as_str()),
            ("requester_name", requester_name.as_deref().unwrap_or("")),
            ("subject", subject.as_str()),
            ("body", body.as_str()),
            ("tags", tags.as_deref().unwrap_or("")),
        ])
    };
    let (current, membership) = require_member(&slug, Role::Agent).await?;
    let services = services()?;
    let members = support::agents(&services, &membership).await?;
    let checked = (|| -> Result<NewTicket, AppError> {
        Ok(NewTicket {
            requester_email: requester_email.clone(),
            requester_name: requester_name.clone().unwrap_or_default(),
            subject: subject.clone(),
            body: body.clone(),
            priority: priority
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(|p| priority_of(p, "priority"))
                .transpose()?,
            category_id: category_of(category.as_deref().unwrap_or(""))?,
            tags: tags_of(tags.as_deref().unwrap_or(""), "tags")?,
            assignee: support::assignee(assignee.as_deref().unwrap_or(""), &current, &members, "assignee")?,
        })
    })();
    let new = match checked {
        Ok(new) => new,
        Err(error) => return fail(keep(error)),
    };
    let ws = support::open(&services, &membership).await?;
    let actor = support::request_actor(&services, &current, &membership);
    let ticket = match tickets::create(&ws, &actor, &new, now()).await {
        Ok(ticket) => ticket,
        Err(domain::Error::Invalid(message)) => {
            let field = field_of(&message);
            return fail(keep(AppError::Form {
                field,
                message,
                values: Vec::new(),
            }));
        }
        Err(other) => return Err(from_domain(other)),
    };
    support::relay(&services, &ws).await;
    redirect(&format!("/w/{}/tickets/{}", membership.slug, ticket.number));
    Ok(())
}

/// Which input a domain message is about, so it shows beside that input.
#[cfg(feature = "ssr")]
fn field_of(message: &str) -> Option<String> {
    let lower = message.to_lowercase();
    let field = if lower.contains("subject") {
        "subject"
    } else if lower.contains("email") || lower.contains("address") {
        "requester_email"
    } else if lower.contains("name") {
        "requester_name"
    } else if lower.contains("message") {
        "body"
    } else if lower.contains("tag") {
        "tags"
    } else if lower.contains("categor") {
        "category"
    } else {
        return None;
    };
    Some(field.to_owned())
}

/// Changes a ticket's fields from its side panel; each real change becomes an event in the thread.
#[server(endpoint = "w/ticket/update")]
pub async fn update_ticket(
    slug: String,
    number: i64,
    status: String,
    priority: String,
    assignee: String,
    category: String,
    tags: String,
    subject: Option<String>,
) -> Result<(), AppError> {
    use crate::server::{from_domain, now, require_member, services};
    use domain::auth::accounts::Role;
    use domain::workspace::tickets::{self, Changes};
    let (current, membership) = require_member(&slug, Role::Agent).await?;
    let services = services()?;
    let members = support::agents(&services, &membership).await?;
    let changes = Changes {
        subject: subject.filter(|s| !s.trim().is_empty()),
        status: Some(status_of(&status, "status")?),
        priority: Some(priority_of(&priority, "priority")?),
        assignee: Some(support::assignee(&assignee, &current, &members, "assignee")?),
        category_id: Some(category_of(&category)?),
        tags: Some(tags_of(&tags, "tags").map_err(|e| e.keeping(&[("tags", tags.as_str())]))?),
        add_tags: Vec::new(),
    };
    let ws = support::open(&services, &membership).await?;
    let ticket = tickets::get(&ws, number).await.map_err(from_domain)?;
    let actor = support::request_actor(&services, &current, &membership);
    tickets::update(&ws, &actor, ticket.id, &changes, now())
        .await
        .map_err(from_domain)?;
    support::relay(&services, &ws).await;
    Ok(())
}

/// Assigns the ticket to the caller.
#[server(endpoint = "w/ticket/take")]
pub async fn assign_to_me(slug: String, number: i64) -> Result<(), AppError> {
    use crate::server::{from_domain, now, require_member, services};
    use domain::auth::accounts::Role;
    use domain::workspace::tickets::{self, Changes};
    let (current, membership) = require_member(&slug, Role::Agent).await?;
    let services = services()?;
    let members = support::agents(&services, &membership).await?;
    let me = support::assignee("me", &current, &members, "assignee")?;
    let ws = support::open(&services, &membership).await?;
    let ticket = tickets::get(&ws, number).await.map_err(from_domain)?;
    let actor = support::request_actor(&services, &current, &membership);
    let changes = Changes {
        assignee: Some(me),
        ..Changes::default()
    };
    tickets::update(&ws, &actor, ticket.id, &changes, now())
        .await
        .map_err(from_domain)?;
    support::relay(&services, &ws).await;
    Ok(())
}

/// Applies one change to the selected tickets of the list (all or none), then goes back to the list.
#[server(endpoint = "w/tickets/bulk")]
pub async fn bulk_update(
    slug: String,
    ids: Option<Vec<i64>>,
    status: Option<String>,
    priority: Option<String>,
    assignee: Option<String>,
    add_tag: Option<String>,
    back: Option<String>,
) -> Result<usize, AppError> {
    use crate::server::{fail, from_domain, now, redirect, require_member, safe_next, services};
    use domain::auth::accounts::Role;
    use domain::workspace::tickets::{self, Changes};
    let (current, membership) = require_member(&slug, Role::Agent).await?;
    let ids = ids.unwrap_or_default();
    if ids.is_empty() {
        return fail(AppError::field("ids", "Select at least one ticket."));
    }
    let services = services()?;
    let members = support::agents(&services, &membership).await?;
    let some = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let changes = Changes {
        status: some(&status).map(|s| status_of(&s, "bulk_status")).transpose()?,
        priority: some(&priority).map(|p| priority_of(&p, "bulk_priority")).transpose()?,
        assignee: some(&assignee)
            .map(|a| support::assignee(&a, &current, &members, "bulk_assignee"))
            .transpose()?,
        add_tags: tags_of(add_tag.as_deref().unwrap_or(""), "add_tag")?,
        ..Changes::default()
    };
    if changes.status.is_none()
        && changes.priority.is_none()
        && changes.assignee.is_none()
        && changes.add_tags.is_empty()
    {
        return fail(AppError::form("Choose what to change."));
    }
    let ws = support::open(&services, &membership).await?;
    let actor = support::request_actor(&services, &current, &membership);
    let changed = tickets::update_many(&ws, &actor, &ids, &changes, now())
        .await
        .map_err(from_domain)?;
    support::relay(&services, &ws).await;
    if let Some(back) = safe_next(back.as_deref()).filter(|b| b.starts_with(&format!("/w/{}/tickets", membership.slug)))
    {
        redirect(&back);
    }
    Ok(changed)
}

/// Corrects one of the caller's own messages within the edit window.
#[server(endpoint = "w/ticket/edit")]
pub async fn edit_message(slug: String, number: i64, message_id: i64, body: String) -> Result<(), AppError> {
    use crate::server::{from_domain, now, require_member, services};
    use domain::auth::accounts::Role;
    use domain::workspace::tickets;
    let (current, membership) = require_member(&slug, Role::Agent).await?;
    let services = services()?;
    let ws = support::open(&services, &membership).await?;
    // The message must belong to this ticket: the domain looks it up by both ids.
    let ticket = tickets::get(&ws, number).await.map_err(from_domain)?;
    let actor = support::request_actor(&services, &current, &membership);
    tickets::edit_message(&ws, &actor, ticket.id, message_id, &body, now())
        .await
        .map_err(|e| from_domain(e).keeping(&[("body", body.as_str())]))?;
    Ok(())
}

/// Saves the list's current filters under a name, for the caller only.
#[server(endpoint = "w/views/save")]
pub async fn save_view(slug: String, name: String, query: String) -> Result<(), AppError> {
    use crate::server::{from_domain, now, require_member, services};
    use domain::auth::accounts::Role;
    use domain::workspace::views;
    let (current, membership) = require_member(&slug, Role::Agent).await?;
    let services = services()?;
    let ws = support::open(&services, &membership).await?;
    // Only the filters a list URL understands are kept.
    let query: String = query
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            [
                "status",
                "priority",
                "assignee",
                "category",
                "tag",
                "requester",
                "sort",
                "q",
            ]
            .contains(&key)
        })
        .collect::<Vec<_>>()
        .join("&");
    views::save_view(&ws, current.account.id, &name, &query, now())
        .await
        .map_err(|e| match from_domain(e) {
            AppError::Form { message, .. } => AppError::field("name", message).keeping(&[("name", name.as_str())]),
            other => other,
        })?;
    Ok(())
}

#[server(endpoint = "w/views/delete")]
pub async fn delete_view(slug: String, id: i64) -> Result<(), AppError> {
    use crate::server::{from_domain, require_member, services};
    use domain::auth::accounts::Role;
    let (current, membership) = require_member(&slug, Role::Agent).await?;
    let services = services()?;
    let ws = support::open(&services, &membership).await?;
    domain::workspace::views::delete_view(&ws, current.account.id, id)
        .await
        .map_err(from_domain)
}

/// Adds a category (owners and admins).
#[server(endpoint = "w/categories/create")]
pub async fn create_category(slug: String, name: String) -> Result<(), AppError> {
    use crate::server::{from_domain, now, require_member, services};
    use domain::auth::accounts::Role;
    let (current, membership) = require_member(&slug, Role::Admin).await?;
    let services = services()?;
    let ws = support::open(&services, &membership).await?;
    let actor = support::request_actor(&services, &current, &membership);
    domain::workspace::tickets::create_category(&ws, &actor, &name, now())
        .await
        .map_err(|e| match from_domain(e) {
            AppError::Form { message, .. } => {
                AppError::field("category_name", message).keeping(&[("category_name", name.as_str())])
            }
            other => other,
        })?;
    Ok(())
}

/// Removes a category (owners and admins); its tickets keep no category.
#[server(endpoint = "w/categories/delete")]
pub async fn delete_category(slug: String, id: i64) -> Result<(), AppError> {
    use crate::server::{from_domain, now, require_member, services};
    use domain::auth::accounts::Role;
    let (current, membership) = require_member(&slug, Role::Admin).await?;
    let services = services()?;
    let ws = support::open(&services, &membership).await?;
    let actor = support::request_actor(&services, &current, &membership);
    domain::workspace::tickets::delete_category(&ws, &actor, id, now())
        .await
        .map_err(from_domain)
}

/// What the new-ticket form offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTicketView {
    pub slug: String,
    pub workspace: String,
    pub agents: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub me: i64,
}

#[server(endpoint = "w/tickets/new")]
pub async fn new_ticket_form(slug: String) -> Result<NewTicketView, AppError> {
    use crate::server::{from_domain, require_member, services};
    use domain::auth::accounts::Role;
    let (current, membership) = require_member(&slug, Role::Agent).await?;
    let services = services()?;
    let ws = support::open(&services, &membership).await?;
    let categories = domain::workspace::tickets::categories(&ws).await.map_err(from_domain)?;
    let agents = support::agents(&services, &membership).await?;
    Ok(NewTicketView {
        slug: membership.slug.clone(),
        workspace: membership.name.clone(),
        agents: support::agent_choices(agents),
        categories: support::category_choices(categories),
        me: current.account.id,
    })
}

#[cfg(test)]
mod tests {
    use super::TicketRow;

    fn row_updated(updated: &str) -> TicketRow {
        TicketRow {
            number: 1,
            id: 1,
            subject: "Printer".into(),
            status: "open".into(),
            priority: "normal".into(),
            requester: "Ada".into(),
            assignee: None,
            updated: updated.into(),
            snippet: None,
        }
    }

    #[test]
    fn a_row_travels_as_an_array_of_its_fields() {
        let row = TicketRow {
            assignee: Some("Grace".into()),
            snippet: Some("<mark>printer</mark>".into()),
            ..row_updated("2026-12-04T03:22:51Z")
        };
        let json = serde_json::to_string(&row).unwrap();
        assert_eq!(
            json,
            r#"[1,1,"Printer","open","normal","Ada","Grace","2026-12-04T03:22:51Z","<mark>printer</mark>"]"#
        );
        assert_eq!(serde_json::from_str::<TicketRow>(&json).unwrap(), row);
        let unassigned = row_updated("2026-12-04T03:22:51Z");
        let json = serde_json::to_string(&unassigned).unwrap();
        assert_eq!(serde_json::from_str::<TicketRow>(&json).unwrap(), unassigned);
        // Anything else is refused, not read into the wrong fields.
        assert!(serde_json::from_str::<TicketRow>(r#"[1,1,"Printer"]"#).is_err());
        assert!(serde_json::from_str::<TicketRow>(r#"{"number":1}"#).is_err());
    }

    #[test]
    fn the_updated_label_is_the_minute_of_the_timestamp() {
        assert_eq!(row_updated("2026-12-04T03:22:51Z").updated_label(), "2026-12-04 03:22");
        // A timestamp too short to cut is shown as it is, not dropped.
        assert_eq!(row_updated("2026-12").updated_label(), "2026-12");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_row_carries_its_update_time_in_utc_to_the_second_and_names_the_requester() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-04T04:22:51.987+01:00")
            .unwrap()
            .to_utc();
        let ticket = |name: &str| domain::workspace::tickets::Ticket {
            id: 7,
            number: 3,
            subject: "Printer".into(),
            status: "open".into(),
            priority: "high".into(),
            requester_id: 1,
            requester_name: name.into(),
            requester_email: "ada@example.com".into(),
            assignee_account_id: None,
            assignee_name: None,
            assignee_email: None,
            category_id: None,
            created_at: at,
            updated_at: at,
            solved_at: None,
        };
        let named = super::row(ticket("Ada"), None);
        assert_eq!(named.updated, "2026-12-04T03:22:51Z");
        assert_eq!(named.updated_label(), "2026-12-04 03:22");
        assert_eq!(named.requester, "Ada");
        assert_eq!(super::row(ticket(""), None).requester, "ada@example.com");
        // The thread's times are labelled the same way.
        assert_eq!(super::support::when(at), "2026-12-04 03:22");
        let message = super::MessageView {
            id: 1,
            kind: "reply".into(),
            author: "Ada".into(),
            html: String::new(),
            at_iso: at.to_rfc3339(),
            edited: false,
            editable_body: None,
            attachments: Vec::new(),
        };
        assert_eq!(message.at_iso, "2026-12-04T03:22:51.987+00:00");
        assert_eq!(message.at_label(), "2026-12-04 03:22");
    }
}
