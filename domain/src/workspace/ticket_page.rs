//! One ticket as the agents' page shows it: the ticket, its whole thread (notes included) with each
//! message's attachments and whether the reader may still edit it, its tags, the categories to choose
//! from, and the requester's rating.

use super::{
    attachments::{self, Attachment},
    ratings::{self, Rating},
    tickets::{self, Category, Message, Ticket},
};
use crate::{Result, WorkspaceDb};
use chrono::{DateTime, Utc};
use vocab::{AccountId, TicketNumber};

pub struct TicketPage {
    pub ticket: Ticket,
    pub thread: Vec<Entry>,
    pub tags: Vec<String>,
    pub categories: Vec<Category>,
    pub rating: Option<Rating>,
}

/// A message of the thread with its attachments.
pub struct Entry {
    pub message: Message,
    pub attachments: Vec<Attachment>,
    /// Whether the reader wrote it and its edit window ([`tickets::EDIT_WINDOW`]) is still open.
    pub editable: bool,
}

/// The ticket numbered `number`, read by the agent `me` at `now`.
pub async fn page(ws: &WorkspaceDb, number: TicketNumber, me: AccountId, now: DateTime<Utc>) -> Result<TicketPage> {
    let ticket = tickets::get(ws, number).await?;
    let thread = tickets::thread(ws, ticket.id, false).await?;
    let mut files = attachments::of_ticket(ws, ticket.id, false).await?;
    let tags = tickets::tags(ws, ticket.id).await?;
    let categories = tickets::categories(ws).await?;
    let rating = ratings::of_ticket(ws, ticket.id).await?;
    let thread = thread
        .into_iter()
        .map(|message| {
            let editable = message.author_account_id == Some(me.get())
                && message.kind != "event"
                && now - message.created_at <= tickets::EDIT_WINDOW;
            let (attachments, rest) = files.drain(..).partition(|a| a.message_id == message.id);
            files = rest;
            Entry {
                message,
                attachments,
                editable,
            }
        })
        .collect();
    Ok(TicketPage {
        ticket,
        thread,
        tags,
        categories,
        rating,
    })
}
