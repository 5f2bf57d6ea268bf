//! The PostgreSQL server the tests use: `TEST_DATABASE_URL`, by default this machine's
//! `postgres://postgres@127.0.0.1:5432/postgres`. A test that finds no server there skips its PostgreSQL
//! half, unless `FERRODESK_REQUIRE_POSTGRES=1` (set by CI) makes that a failure.

pub use crate::pg_scratch::PgScratch;

/// The admin URL of the test server.
pub fn url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Whether a missing server fails the run instead of skipping the PostgreSQL tests.
pub fn required() -> bool {
    std::env::var("FERRODESK_REQUIRE_POSTGRES").as_deref() == Ok("1")
}

/// Whether the server answers (within 3 s). Panics when it does not and [`required`] says it must.
pub async fn available() -> bool {
    let url = url();
    let up = tokio::time::timeout(std::time::Duration::from_secs(3), sqlx::PgPool::connect(&url))
        .await
        .is_ok_and(|pool| pool.is_ok());
    if !up {
        assert!(
            !required(),
            "PostgreSQL is required (FERRODESK_REQUIRE_POSTGRES=1) but does not answer at {url}"
        );
        eprintln!("PostgreSQL does not answer at {url}: skipping the PostgreSQL run");
    }
    up
}
