//! Who may sign in: passwords, one-time tokens and codes, accounts and memberships.

pub mod accounts;
pub mod credentials;
pub mod limits;
pub mod password;
pub mod portal;
pub mod recovery;
pub mod registration;
pub mod sign_ins;
pub mod team;
pub mod tokens;
