// The API tests, the logging test and the durability test include this file; each uses part of it.
#![allow(unused_imports)]

pub use testkit::{
    Backend,
    app::{
        Email, TestApp, TestOptions, cookie_of, decode_quoted_printable, header, session_cookie, spawn_app,
        spawn_app_with,
    },
    postgres::{PgScratch, available as postgres_available, url as postgres_url},
};
