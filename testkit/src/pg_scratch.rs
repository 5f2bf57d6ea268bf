//! A scratch landlord database and name prefix on a PostgreSQL server, for tests and the benchmark. Every
//! database and role with the prefix is dropped with the value, even after a panic.

use domain::StorageConfig;
use secrecy::SecretString;
use std::{path::Path, time::Duration};

pub struct PgScratch {
    pub admin_url: String,
    pub prefix: String,
}

impl PgScratch {
    /// A storage configuration whose landlord and workspaces live on the server at `admin_url`, or `None`
    /// when no server answers there.
    pub async fn create(admin_url: &str, data_dir: &Path, config: StorageConfig) -> Option<(StorageConfig, PgScratch)> {
        let admin = tokio::time::timeout(Duration::from_secs(3), sqlx::PgPool::connect(admin_url))
            .await
            .ok()?
            .ok()?;
        let prefix = format!("fdt_{}", hex::encode(domain::crypto::random_bytes::<5>().as_ref()));
        sqlx::raw_sql(&format!("create database {prefix}_landlord"))
            .execute(&admin)
            .await
            .ok()?;
        admin.close().await;
        let mut landlord = url::Url::parse(admin_url).ok()?;
        landlord.set_path(&format!("/{prefix}_landlord"));
        let config = StorageConfig {
            data_dir: data_dir.to_owned(),
            database_url: Some(SecretString::from(landlord.to_string())),
            tenant_servers: vec![SecretString::from(admin_url.to_owned())],
            name_prefix: prefix.clone(),
            ..config
        };
        Some((
            config,
            PgScratch {
                admin_url: admin_url.to_owned(),
                prefix,
            },
        ))
    }
}

impl Drop for PgScratch {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let pattern = format!("{}\\_%", self.prefix);
        // Drop may run inside a runtime; a thread of its own can block on one.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
                for (list, drop) in [
                    (
                        "select datname from pg_database where datname like $1",
                        "drop database if exists \"{}\" with (force)",
                    ),
                    (
                        "select rolname from pg_roles where rolname like $1",
                        "drop role if exists \"{}\"",
                    ),
                ] {
                    let names: Vec<String> = sqlx::query_scalar(list).bind(&pattern).fetch_all(&admin).await.unwrap();
                    for name in names {
                        sqlx::raw_sql(&drop.replace("{}", &name)).execute(&admin).await.unwrap();
                    }
                }
            });
        });
        let _ = cleanup.join();
    }
}
