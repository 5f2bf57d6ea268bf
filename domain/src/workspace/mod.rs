//! Repositories of a workspace's own database. Every function takes the [`WorkspaceDb`] handed out by the
//! tenant router: there is no way to name a workspace by id here.

pub mod attachments;
pub mod audit;
pub mod customers;
pub mod enquiries;
pub mod feedback;
pub mod home;
pub mod markdown;
pub mod outbox;
pub mod portal;
pub mod ratings;
pub mod search;
pub mod seed;
pub mod settings;
pub mod ticket_page;
pub mod tickets;
pub mod views;

/// Every statement read by position ([`crate::db::rows`]), with the name of its reader and the columns that
/// reader takes, in order. Each statement must select those columns first, in that order (it may select
/// more after them); the storage tests check that on both backends. (Every [`tickets::Ticket`] read selects
/// [`tickets::COLUMNS`], which a unit test compares with its reader.)
#[doc(hidden)]
pub fn positional_statements() -> Vec<(&'static str, &'static [&'static str], String)> {
    let mut statements = vec![(
        "tickets::Ticket",
        tickets::Ticket::READ_ORDER,
        format!("select {} from tickets", tickets::COLUMNS),
    )];
    statements.extend(views::positional_statements());
    statements
}
