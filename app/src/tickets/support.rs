//! What the ticket server functions and the attachment handlers share on the server: the actor of a
//! request, the team as choices, and the parsing of the ticket forms' values.

use super::types::*;
use crate::context::{Current, Services, client_ip, reject};
use crate::error::AppError;
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

pub(crate) fn status_of(value: &str, field: &str) -> Result<domain::workspace::tickets::Status, AppError> {
    domain::workspace::tickets::Status::parse(value).ok_or_else(|| reject(AppError::field(field, "Choose a status.")))
}

pub(crate) fn priority_of(value: &str, field: &str) -> Result<domain::workspace::tickets::Priority, AppError> {
    domain::workspace::tickets::Priority::parse(value)
        .ok_or_else(|| reject(AppError::field(field, "Choose a priority.")))
}

pub(crate) fn category_of(value: &str) -> Result<Option<i64>, AppError> {
    match value {
        "" | "none" => Ok(None),
        id => id
            .parse()
            .map(Some)
            .map_err(|_| reject(AppError::field("category", "Choose a category."))),
    }
}

pub(crate) fn tags_of(value: &str, field: &str) -> Result<Vec<String>, AppError> {
    domain::workspace::tickets::parse_tags(value).map_err(|e| reject(AppError::field(field, e.to_string())))
}

pub(crate) fn row(ticket: domain::workspace::tickets::Ticket, snippet: Option<String>) -> TicketRow {
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
