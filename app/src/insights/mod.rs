//! What the team learns from customers: satisfaction, feedback, the portal's settings.

pub mod api;
pub mod pages;
