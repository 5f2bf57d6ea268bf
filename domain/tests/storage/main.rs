//! Storage tests. Each runs on SQLite, and on PostgreSQL when a server answers at `TEST_DATABASE_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`). With `FERRODESK_REQUIRE_POSTGRES=1` (CI) a
//! missing server fails the PostgreSQL half instead of skipping it.

mod auth;
mod encryption;
mod helpers;
mod home;
mod isolation;
mod lifecycle;
mod mail;
mod portal;
mod readers;
mod recovery;
mod registration;
mod router;
mod sessions;
mod team;
mod tickets;
