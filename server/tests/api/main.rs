//! Integration tests: each test starts a real server on a free port with a fresh data directory.

mod assets;
mod auth;
mod dns_double;
mod health;
mod helpers;
mod pages;
mod portal;
mod security;
mod theme;
mod tickets;
mod turnstile_double;
