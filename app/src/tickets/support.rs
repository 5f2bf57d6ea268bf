//! What the ticket server functions and the attachment handlers share on the server: the actor of a
//! request, the team as choices, and the parsing of the ticket forms' values.

use super::types::*;
use crate::context::{Current, Services, client_ip};
use crate::error::AppError;
use domain::{
    WorkspaceDb, WorkspaceId,
    auth::{accounts::MembershipOf, team},
    workspace::tickets::{Actor, Author},
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
        .map_err(AppError::from)
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

pub fn row(ticket: domain::workspace::tickets::Ticket, snippet: Option<String>) -> TicketRow {
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

/// The list page's data from the domain's listing.
pub fn list_view(
    membership: &MembershipOf,
    listing: domain::workspace::views::Listing,
    agents: Arc<[team::Member]>,
    me: i64,
) -> ListView {
    let panel = listing.panel;
    ListView {
        slug: membership.slug.clone(),
        workspace: membership.name.clone(),
        rows: listing
            .tickets
            .into_iter()
            .map(|(t, snippet)| row(t, snippet))
            .collect(),
        next: listing.next,
        searching: listing.searching,
        agents: agent_choices(agents),
        categories: category_choices(panel.categories),
        tags: panel.tags,
        me,
    }
}

/// The ticket page's data from the domain's page of one ticket.
pub fn ticket_view(
    membership: &MembershipOf,
    page: domain::workspace::ticket_page::TicketPage,
    agents: Arc<[team::Member]>,
    me: i64,
    draft: Option<Draft>,
    limits: domain::workspace::attachments::Limits,
) -> TicketView {
    let ticket = page.ticket;
    let number = ticket.number;
    let thread = page
        .thread
        .into_iter()
        .map(|entry| {
            let m = entry.message;
            MessageView {
                id: m.id,
                kind: m.kind,
                author: m.author_name,
                html: m.html,
                at_iso: m.created_at.to_rfc3339(),
                edited: m.edited_at.is_some(),
                editable_body: entry.editable.then_some(m.body),
                attachments: entry
                    .attachments
                    .into_iter()
                    .map(|a| AttachmentView {
                        id: a.id,
                        size: size(a.size),
                        is_image: a.is_image(),
                        url: format!("/w/{}/tickets/{}/files/{}", membership.slug, number, a.id),
                        name: a.file_name,
                    })
                    .collect(),
            }
        })
        .collect();
    let rating = page.rating.and_then(|r| {
        Some(RatingInfo {
            score: r.rating.as_deref().and_then(Score::parse)?,
            comment: r.comment,
            at: when(r.updated_at),
        })
    });
    TicketView {
        slug: membership.slug.clone(),
        workspace: membership.name.clone(),
        id: ticket.id,
        number,
        subject: ticket.subject,
        status: ticket.status,
        priority: ticket.priority,
        requester_name: ticket.requester_name,
        requester_email: ticket.requester_email,
        assignee_id: ticket.assignee_account_id,
        category_id: ticket.category_id,
        tags: page.tags,
        created: when(ticket.created_at),
        thread,
        agents: agent_choices(agents),
        categories: category_choices(page.categories),
        me,
        draft,
        limits: limits_text(limits),
        rating,
    }
}

/// The attachment limits in words, under a composer.
pub fn limits_text(limits: domain::workspace::attachments::Limits) -> String {
    format!(
        "Up to {} files, {} each, {} together.",
        limits.files_per_message,
        size(limits.per_file as i64),
        size(limits.per_message as i64)
    )
}
