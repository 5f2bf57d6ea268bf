//! A workspace as its staff see it: start page and team.

pub mod api;
pub mod pages;
