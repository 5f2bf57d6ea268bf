//! The words the browser and the server share. Every closed set of values (a ticket's status, a member's
//! role, a list's sort order, a message's kind, a rating) is one enum here with its wire name and its label,
//! so a select's options, the SQL's stored text and the JSON a server function returns cannot disagree.
//! Validated inputs ([`EmailAddress`], [`Subject`]) give the same answer in the browser, before a form is
//! sent, as on the server, after.
//!
//! Only `serde` is a dependency: this crate is in the wasm bundle every page loads.

mod ids;
mod input;
mod list;
mod words;

pub use ids::{AccountId, TicketId, TicketNumber};
pub use input::{EmailAddress, Invalid, SUBJECT_MAX, Subject};
pub use list::{ListQuery, encode};
pub use words::{MessageKind, Priority, Role, Score, Sort, Status, Unknown};
