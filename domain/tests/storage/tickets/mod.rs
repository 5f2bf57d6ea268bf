//! Tickets in storage, on SQLite and PostgreSQL: opening and changing them, messages, the list, search,
//! attachments, seeding, concurrent writers and the mail relay.

mod attachments;
mod changes;
mod concurrency;
mod full_text_search;
mod list;
mod mail_relay;
mod messages;
mod seeding;

use domain::workspace::tickets::Assignee;

fn bob() -> Assignee {
    Assignee {
        account_id: 2,
        name: "Bob Agent".into(),
        email: "bob@desk.example".into(),
    }
}
