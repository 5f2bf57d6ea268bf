// Both test binaries (storage, timing) include this file; each uses part of it.
#![allow(dead_code)]

use domain::{Landlord, StorageConfig, TenantRouter, db::Backend};
use std::sync::Arc;
use tempfile::TempDir;
use testkit::postgres::PgScratch;

pub struct TestEnv {
    pub router: TenantRouter,
    pub config: StorageConfig,
    /// Holds the data directory until the test ends.
    _dir: TempDir,
    postgres: Option<PgScratch>,
}

impl TestEnv {
    pub fn backend(&self) -> Backend {
        self.router.landlord().backend()
    }

    pub fn pg_admin_url(&self) -> Option<String> {
        self.postgres.as_ref().map(|pg| pg.admin_url.clone())
    }
}

/// The environment a storage test body takes, on `backend` ([`testkit::both_backends!`]'s setup).
pub async fn env(backend: Backend) -> TestEnv {
    match backend {
        Backend::Sqlite => sqlite_env(Default::default()).await,
        Backend::Postgres => postgres_env(Default::default())
            .await
            .expect("PostgreSQL answered a moment ago"),
    }
}

pub async fn sqlite_env(config: StorageConfig) -> TestEnv {
    let dir = tempfile::tempdir().unwrap();
    let config = StorageConfig {
        data_dir: dir.path().join("data"),
        ..config
    };
    let landlord = Landlord::open(config.clone()).await.expect("landlord opens");
    let router = TenantRouter::new(Arc::new(landlord)).unwrap();
    TestEnv {
        router,
        config,
        _dir: dir,
        postgres: None,
    }
}

/// A fresh landlord database and a name prefix of its own on the test server; dropped with the env.
pub async fn postgres_env(config: StorageConfig) -> Option<TestEnv> {
    let admin_url = testkit::postgres::url();
    let dir = tempfile::tempdir().unwrap();
    let Some((config, scratch)) = PgScratch::create(&admin_url, &dir.path().join("data"), config).await else {
        assert!(
            !testkit::postgres::required(),
            "PostgreSQL is required but does not answer at {admin_url}"
        );
        eprintln!("skipped: no PostgreSQL at {admin_url}");
        return None;
    };
    let landlord = Landlord::open(config.clone()).await.expect("landlord opens");
    let router = TenantRouter::new(Arc::new(landlord)).unwrap();
    Some(TestEnv {
        router,
        config,
        _dir: dir,
        postgres: Some(scratch),
    })
}

/// Every email waiting in the job queue, oldest first.
pub async fn queued_emails(env: &TestEnv) -> Vec<domain::mail::Email> {
    let payloads: Vec<String> = domain::on_db!(env.router.landlord().db(), pool => sqlx::query_scalar(
        "select payload from jobs where kind = 'email' order by id",
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    payloads
        .iter()
        .map(|p| domain::mail::open_payload(env.router.landlord(), p).unwrap())
        .collect()
}

/// An agent of the workspace `slug`, as ticket operations take them.
pub fn agent(account_id: i64, name: &str, slug: &str) -> domain::workspace::tickets::Actor {
    domain::workspace::tickets::Actor {
        author: domain::workspace::tickets::Author::Agent {
            account_id,
            name: name.into(),
        },
        ip: Some("192.0.2.7".into()),
        base_url: "https://desk.example".into(),
        workspace_slug: slug.into(),
        workspace_name: slug.to_uppercase(),
    }
}

/// What an agent enters to open a ticket for `requester`.
pub fn new_ticket(requester: &str, subject: &str, body: &str) -> domain::workspace::tickets::NewTicket {
    domain::workspace::tickets::NewTicket {
        requester_email: requester.into(),
        subject: subject.into(),
        body: body.into(),
        ..Default::default()
    }
}

/// Every ticket of the workspace, newest first.
pub async fn all_tickets(ws: &domain::WorkspaceDb) -> Vec<domain::workspace::tickets::Ticket> {
    use domain::workspace::views;
    views::list(ws, &views::Filter::default(), views::Sort::Newest, None, 200)
        .await
        .unwrap()
        .tickets
}
