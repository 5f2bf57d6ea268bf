//! Integration tests: each test starts a real server on a free port with a fresh data directory.

mod assets;
mod auth;
mod authz;
mod dns_double;
mod hardening;
mod health;
mod helpers;
mod interleaved;
mod pages;
mod portal;
mod security;
mod theme;
mod tickets;
mod turnstile_double;
