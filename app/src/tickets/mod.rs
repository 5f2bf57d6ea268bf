//! The agents' ticket pages and their server functions.

pub mod api;
pub mod pages;
