//! A workspace as its staff see it: start page, team, and the Settings area.

pub mod api;
pub mod home;
pub mod pages;
pub mod settings;
