//! Repositories of a workspace's own database. Every function takes the [`WorkspaceDb`] handed out by the
//! tenant router: there is no way to name a workspace by id here.

pub mod attachments;
pub mod audit;
pub mod customers;
pub mod feedback;
pub mod markdown;
pub mod outbox;
pub mod portal;
pub mod ratings;
pub mod search;
pub mod seed;
pub mod settings;
pub mod tickets;
pub mod views;
