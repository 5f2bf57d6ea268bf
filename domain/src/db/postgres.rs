//! PostgreSQL: the pools (a workspace's run generic plans), their connection options (no TLS to a server on
//! this machine unless asked for), and quoting for DDL, which takes no bind parameters.

use super::{Warm, checked_when_idle};
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions, PgSslMode},
};
use std::{net::IpAddr, str::FromStr, sync::Arc, time::Duration};

/// A PostgreSQL pool, and the connections kept warm for its next statements ([`Warm`]).
#[derive(Clone, Debug)]
pub struct PgDb {
    pub pool: PgPool,
    pub warm: Arc<Warm<sqlx::Postgres>>,
}

impl PgDb {
    pub fn new(pool: PgPool) -> Self {
        PgDb {
            warm: Arc::new(Warm::new(&pool)),
            pool,
        }
    }

    /// Begins a transaction on a warm connection if there is one (while it waits warm, the pool has one
    /// connection fewer to give), else on one from the pool. `Transaction::begin` is what `Pool::begin`
    /// calls with a connection of its own.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        match self.warm.take() {
            Some(conn) => sqlx::Transaction::begin(conn, None).await,
            None => self.pool.begin().await,
        }
    }
}

pub async fn postgres_pool(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options = postgres_options(url, std::env::var_os("PGSSLMODE").is_some())?;
    pg_pool(options, max_connections).await
}

/// What a workspace's connections set at startup: every prepared statement runs its generic plan.
///
/// PostgreSQL otherwise plans a statement again for its values on every execution until it has seen five
/// and then keeps doing so whenever the generic plan looks costlier than the custom ones did. The list
/// page's statements (keyset ranges on the index of the sort order, counts by key) have a best plan that
/// does not depend on the values, and planning them again was a large part of their cost (PostgreSQL's CPU
/// per list page at 1M tickets fell from ~1.6 to ~0.8–1.1 ms). The exception is search, whose best plan
/// depends on how common the searched words are: it runs in a transaction that asks for PostgreSQL's
/// default (see [`PLANNER_DEFAULT`]).
pub const WORKSPACE_PLAN_CACHE_MODE: &str = "force_generic_plan";

/// Restores PostgreSQL's default choice between generic and custom plans for the rest of a transaction.
pub const PLANNER_DEFAULT: &str = "set local plan_cache_mode = auto";

/// The pool of one workspace's database (see [`WORKSPACE_PLAN_CACHE_MODE`]).
pub async fn postgres_workspace_pool(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options = postgres_options(url, std::env::var_os("PGSSLMODE").is_some())?
        .options([("plan_cache_mode", WORKSPACE_PLAN_CACHE_MODE)]);
    pg_pool(options, max_connections).await
}

/// How long PostgreSQL lets a connection sit idle inside a transaction before it ends the session (and with
/// it the transaction and its locks). Nothing here holds a transaction open while it waits for anything but
/// its own statements, so only a stuck task would reach it; it then fails instead of holding its locks for
/// ever.
const IDLE_IN_TRANSACTION: &str = "60s";

async fn pg_pool(options: PgConnectOptions, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options = options.options([("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION)]);
    checked_when_idle(PgPoolOptions::new())
        .max_connections(max_connections)
        .min_connections(0)
        .idle_timeout(Duration::from_secs(60))
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
}

/// The options of a PostgreSQL URL. A server on this machine (a loopback address, `localhost` or a Unix
/// socket) is spoken to without TLS unless the URL or `PGSSLMODE` (`ssl_mode_set`) names an `sslmode`:
/// loopback traffic never leaves the kernel, so TLS there would protect nothing and would cost both sides
/// an encryption of every query and row. Any other server keeps the driver's default (`prefer`) or what the
/// URL asks for (`sslmode=verify-full` in production).
pub fn postgres_options(url: &str, ssl_mode_set: bool) -> Result<PgConnectOptions, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?;
    let named = ssl_mode_set
        || url::Url::parse(url)
            .is_ok_and(|url| url.query_pairs().any(|(key, _)| key == "sslmode" || key == "ssl-mode"));
    let host = options.get_host();
    let local = host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    Ok(if local && !named {
        options.ssl_mode(PgSslMode::Disable)
    } else {
        options
    })
}

/// Quotes a PostgreSQL identifier. Names we create are `[a-z0-9_]` already; this keeps DDL safe regardless.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a PostgreSQL string literal (DDL such as `CREATE ROLE … PASSWORD` takes no bind parameters).
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_servers_are_spoken_to_without_tls_unless_the_url_says_otherwise() {
        let mode = |url: &str, set: bool| postgres_options(url, set).unwrap().get_ssl_mode();
        for local in [
            "postgres://u@127.0.0.1:5432/d",
            "postgres://u@localhost/d",
            "postgres://u@[::1]:5432/d",
            "postgres://u@127.8.9.10/d",
            "postgres:///d?host=/var/run/postgresql",
        ] {
            assert!(matches!(mode(local, false), PgSslMode::Disable), "{local}");
            assert!(
                !matches!(mode(local, true), PgSslMode::Disable),
                "{local} with PGSSLMODE"
            );
        }
        assert!(matches!(
            mode("postgres://u@127.0.0.1/d?sslmode=require", false),
            PgSslMode::Require
        ));
        assert!(matches!(mode("postgres://u@db.internal/d", false), PgSslMode::Prefer));
        assert!(matches!(mode("postgres://u@10.0.0.7/d", false), PgSslMode::Prefer));
        assert!(matches!(
            mode("postgres://u@db.internal/d?sslmode=verify-full", false),
            PgSslMode::VerifyFull
        ));
    }

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(quote_ident("fd_ws_1"), "\"fd_ws_1\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
