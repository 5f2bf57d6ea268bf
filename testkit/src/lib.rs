//! What Ferrodesk's tests and benchmarks share:
//!
//! - [`postgres`]: the test server's URL, whether CI requires it, and scratch databases dropped after the test;
//! - [`both_backends!`]: a test body run once on SQLite and once on PostgreSQL;
//! - [`smtp_sink`]: a loopback SMTP server that keeps what it receives;
//! - [`app`] (feature `server`): a real server per test on a free port, its mail directory as a mail sink, and
//!   calls of its server functions by their Rust types.

mod pg_scratch;
pub mod postgres;
pub mod smtp_sink;

#[cfg(feature = "server")]
pub mod app;

pub use domain::db::Backend;

/// Runs each named test body once per backend, as the tests `sqlite::<name>` and `postgres::<name>` of the
/// module it is invoked in (once per module). Each body is an `async fn(Backend)`; with `setup = path`, an
/// `async fn(Backend) -> T` makes what the bodies take. The PostgreSQL run is skipped when no server answers,
/// unless `FERRODESK_REQUIRE_POSTGRES=1` (CI) makes that a failure.
#[macro_export]
macro_rules! both_backends {
    (setup = $setup:path; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($setup($crate::Backend::Sqlite).await).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if $crate::postgres::available().await {
                    super::$name($setup($crate::Backend::Postgres).await).await
                }
            })*
        }
    };
    ($($name:ident),* $(,)?) => {
        $crate::both_backends!(setup = $crate::backend; $($name),*);
    };
}

/// The setup of [`both_backends!`] when the bodies take the backend itself.
pub async fn backend(backend: Backend) -> Backend {
    backend
}
