//! The customer side: portal, enquiry form, ratings.

pub mod api;
pub mod pages;
