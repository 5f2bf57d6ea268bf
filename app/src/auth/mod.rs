//! Accounts and sign-in.

pub mod api;
pub mod pages;
