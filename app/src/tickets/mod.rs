//! The agents' ticket pages and their server functions.

pub mod api;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod support;
pub mod types;
