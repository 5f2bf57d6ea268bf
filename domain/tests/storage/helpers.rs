use domain::{Landlord, StorageConfig, TenantRouter, db::Backend};
use secrecy::SecretString;
use std::sync::Arc;
use tempfile::TempDir;

pub struct TestEnv {
    pub router: TenantRouter,
    pub config: StorageConfig,
    /// Holds the data directory until the test ends.
    _dir: TempDir,
    postgres: Option<PgCleanup>,
}

impl TestEnv {
    pub fn backend(&self) -> Backend {
        self.router.landlord().backend()
    }

    pub fn pg_admin_url(&self) -> Option<String> {
        self.postgres.as_ref().map(|pg| pg.admin_url.clone())
    }
}

/// Runs `$test(env)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::sqlite_env(Default::default()).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(env) = $crate::helpers::postgres_env(Default::default()).await {
                        super::$name(env).await
                    }
                }
            }
        )*
    };
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

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh landlord database and a name prefix of its own on the test server; dropped with the env.
pub async fn postgres_env(config: StorageConfig) -> Option<TestEnv> {
    let admin_url = postgres_admin_url();
    let admin = match tokio::time::timeout(std::time::Duration::from_secs(3), sqlx::PgPool::connect(&admin_url)).await {
        Ok(Ok(pool)) => pool,
        failure => {
            if std::env::var_os("FERRODESK_REQUIRE_POSTGRES").is_some() {
                panic!("PostgreSQL is required but does not answer at {admin_url}: {failure:?}");
            }
            eprintln!("skipped: no PostgreSQL at {admin_url}");
            return None;
        }
    };
    let prefix = format!("fdt_{}", hex::encode(domain::crypto::random_bytes::<5>().as_ref()));
    sqlx::raw_sql(&format!("create database {prefix}_landlord"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let mut landlord_url = url::Url::parse(&admin_url).unwrap();
    landlord_url.set_path(&format!("/{prefix}_landlord"));

    let dir = tempfile::tempdir().unwrap();
    let config = StorageConfig {
        data_dir: dir.path().join("data"),
        database_url: Some(SecretString::from(landlord_url.to_string())),
        tenant_servers: vec![SecretString::from(admin_url.clone())],
        name_prefix: prefix.clone(),
        ..config
    };
    let landlord = Landlord::open(config.clone()).await.expect("landlord opens");
    let router = TenantRouter::new(Arc::new(landlord)).unwrap();
    Some(TestEnv {
        router,
        config,
        _dir: dir,
        postgres: Some(PgCleanup { admin_url, prefix }),
    })
}

/// Drops every database and role the test made, even when it panicked.
struct PgCleanup {
    admin_url: String,
    prefix: String,
}

impl Drop for PgCleanup {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let pattern = format!("{}\\_%", self.prefix);
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
                let databases: Vec<String> =
                    sqlx::query_scalar("select datname from pg_database where datname like $1")
                        .bind(&pattern)
                        .fetch_all(&admin)
                        .await
                        .unwrap();
                for name in databases {
                    sqlx::raw_sql(&format!("drop database if exists \"{name}\" with (force)"))
                        .execute(&admin)
                        .await
                        .unwrap();
                }
                let roles: Vec<String> = sqlx::query_scalar("select rolname from pg_roles where rolname like $1")
                    .bind(&pattern)
                    .fetch_all(&admin)
                    .await
                    .unwrap();
                for name in roles {
                    sqlx::raw_sql(&format!("drop role if exists \"{name}\""))
                        .execute(&admin)
                        .await
                        .unwrap();
                }
            });
        });
        let _ = cleanup.join();
    }
}
