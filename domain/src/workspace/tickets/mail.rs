//! The mail a ticket's changes queue: Message-IDs that thread every mail under the ticket's first one, and
//! the links, notices and replies sent to requesters and assignees.

use super::{Actor, Assignee, Ticket};
use crate::{mail::Email, workspace::markdown};

fn message_id(actor: &Actor, ticket: &Ticket, message_id: i64) -> String {
    let (prefix, suffix) = message_id_parts(actor, ticket);
    format!("{prefix}{message_id}{suffix}")
}

/// A message's Message-ID is `<slug.number.id@host>`: what comes before the message's id, and after it.
fn message_id_parts(actor: &Actor, ticket: &Ticket) -> (String, String) {
    (
        format!("{}{}.", message_id_prefix(actor), ticket.number),
        message_id_suffix(actor),
    )
}

/// The part of a Message-ID before the ticket's number: `<slug.`.
pub(super) fn message_id_prefix(actor: &Actor) -> String {
    format!("<{}.", actor.workspace_slug)
}

/// The part of a Message-ID after the message's id: `@host>`.
pub(super) fn message_id_suffix(actor: &Actor) -> String {
    let host = url::Url::parse(&actor.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "ferrodesk.invalid".into());
    format!("@{host}>")
}

/// Where the requester follows the ticket: the workspace's portal.
pub fn portal_url(base_url: &str, slug: &str, number: i64) -> String {
    format!("{}/p/{slug}/tickets/{number}", base_url.trim_end_matches('/'))
}

pub(super) fn ticket_url(actor: &Actor, ticket: &Ticket) -> String {
    format!(
        "{}/w/{}/tickets/{}",
        actor.base_url, actor.workspace_slug, ticket.number
    )
}

/// A mail about a ticket, threaded under its first mail.
pub(super) fn ticket_email(
    actor: &Actor,
    ticket: &Ticket,
    thread: &str,
    to: &str,
    message: i64,
    text: String,
    html: String,
) -> Email {
    let own_id = message_id(actor, ticket, message);
    Email {
        to: to.to_owned(),
        subject: format!("[#{}] {}", ticket.number, ticket.subject),
        text,
        html: Some(html),
        in_reply_to: (own_id != thread && !thread.is_empty()).then(|| thread.to_owned()),
        message_id: Some(own_id),
    }
}

pub(super) fn assignment_email(actor: &Actor, ticket: &Ticket, thread: &str, assignee: &Assignee, url: &str) -> Email {
    let mut email = Email::new(
        assignee.email.clone(),
        format!("[#{}] {}", ticket.number, ticket.subject),
        format!(
            "{} assigned ticket #{} to you in {}.\n\n{url}\n",
            actor.name(),
            ticket.number,
            actor.workspace_name
        ),
        format!(
            "<p>{} assigned ticket #{} to you in {}.</p><p><a href=\"{}\">Open the ticket</a></p>",
            markdown::escape(actor.name()),
            ticket.number,
            markdown::escape(&actor.workspace_name),
            markdown::escape(url)
        ),
    );
    email.in_reply_to = (!thread.is_empty()).then(|| thread.to_owned());
    email
}
