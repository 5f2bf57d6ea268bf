//! Creating, opening and dropping a workspace's storage on each backend.

use crate::{
    Error, Landlord, Result, Workspace, WorkspaceId,
    config::StorageConfig,
    crypto,
    db::{self, Backend, Db, quote_ident, quote_literal},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use std::{collections::HashMap, path::PathBuf};
use url::Url;
use zeroize::Zeroizing;

pub(super) struct Provisioned {
    pub db: Db,
    /// What opens the database again: the SQLCipher key (hex) or the role's connection URL. Sealed by the
    /// caller before it is stored.
    pub credentials: Zeroizing<Vec<u8>>,
    pub server: Option<String>,
    pub db_name: Option<String>,
}

/// The configured PostgreSQL tenant servers (by `host:port`), and everything about file locations.
pub(super) struct Servers {
    admin_urls: Vec<(String, SecretString)>,
    admin_pools: tokio::sync::Mutex<HashMap<String, PgPool>>,
    prefix: String,
    data_dir: PathBuf,
    connections: u32,
}

impl Servers {
    pub fn from_config(config: &StorageConfig) -> Result<Servers> {
        let mut urls: Vec<&SecretString> = config.tenant_servers.iter().collect();
        if urls.is_empty()
            && let Some(landlord) = &config.database_url
        {
            urls.push(landlord);
        }
        let admin_urls = urls
            .into_iter()
            .map(|url| Ok((server_name(url.expose_secret())?, url.clone())))
            .collect::<Result<Vec<_>>>()?;
        if !config
            .name_prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            || config.name_prefix.is_empty()
            || config.name_prefix.len() > 30
        {
            return Err(Error::Config("name_prefix must be 1 to 30 of [a-z0-9_]".into()));
        }
        Ok(Servers {
            admin_urls,
            admin_pools: tokio::sync::Mutex::new(HashMap::new()),
            prefix: config.name_prefix.clone(),
            data_dir: config.data_dir.clone(),
            connections: config.workspace_connections,
        })
    }

    fn sqlite_path(&self, id: WorkspaceId) -> PathBuf {
        self.data_dir.join("workspaces").join(format!("{id}.db"))
    }

    pub async fn provision(&self, landlord: &Landlord, id: WorkspaceId) -> Result<Provisioned> {
        match landlord.backend() {
            Backend::Sqlite => {
                let path = self.sqlite_path(id);
                crypto::create_private_dir(path.parent().expect("a workspace file has a directory"))?;
                if path.exists() {
                    return Err(Error::Conflict(format!("{} exists already", path.display())));
                }
                let key = crypto::random_bytes::<32>();
                let pool = db::sqlite_pool(db::sqlite_options(&path, &key, true), self.connections).await?;
                Ok(Provisioned {
                    db: Db::Sqlite(pool),
                    credentials: Zeroizing::new(hex::encode(key.as_ref()).into_bytes()),
                    server: None,
                    db_name: None,
                })
            }
            Backend::Postgres => {
                let server = self.least_loaded(landlord).await?;
                let name = format!("{}_ws_{}", self.prefix, id);
                let password = Zeroizing::new(URL_SAFE_NO_PAD.encode(crypto::random_bytes::<24>().as_ref()));
                let admin = self.admin_pool(&server).await?;
                match create_database(&admin, &name, &password).await {
                    Ok(()) => {}
                    Err(error) => {
                        let _ = drop_database(&admin, &name).await;
                        return Err(error);
                    }
                }
                let url = self.role_url(&server, &name, &password)?;
                let pool = db::postgres_workspace_pool(&url, self.connections).await?;
                Ok(Provisioned {
                    db: Db::Postgres(db::PgDb::new(pool)),
                    credentials: Zeroizing::new(url.into_bytes()),
                    server: Some(server),
                    db_name: Some(name),
                })
            }
        }
    }

    pub async fn connect(&self, workspace: &Workspace, credentials: &[u8]) -> Result<Db> {
        match workspace.backend {
            Backend::Sqlite => {
                let key: [u8; 32] = hex::decode(credentials)
                    .ok()
                    .and_then(|bytes| bytes.try_into().ok())
                    .ok_or_else(|| Error::Config(format!("workspace {} has a malformed key", workspace.id)))?;
                let key = Zeroizing::new(key);
                let options = db::sqlite_options(&self.sqlite_path(workspace.id), &key, false);
                Ok(Db::Sqlite(db::sqlite_pool(options, self.connections).await?))
            }
            Backend::Postgres => {
                let url = std::str::from_utf8(credentials)
                    .map_err(|_| Error::Config(format!("workspace {} has malformed credentials", workspace.id)))?;
                Ok(Db::Postgres(db::PgDb::new(
                    db::postgres_workspace_pool(url, self.connections).await?,
                )))
            }
        }
    }

    pub async fn drop_storage(&self, workspace: &Workspace) -> Result<()> {
        match workspace.backend {
            Backend::Sqlite => {
                let path = self.sqlite_path(workspace.id);
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let file = PathBuf::from(format!("{}{suffix}", path.display()));
                    match tokio::fs::remove_file(&file).await {
                        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error.into()),
                        _ => {}
                    }
                }
                Ok(())
            }
            Backend::Postgres => {
                let (Some(server), Some(name)) = (&workspace.server, &workspace.db_name) else {
                    return Ok(());
                };
                let admin = self.admin_pool(server).await?;
                drop_database(&admin, name).await
            }
        }
    }

    async fn least_loaded(&self, landlord: &Landlord) -> Result<String> {
        let counts: HashMap<String, i64> = landlord.workspaces_per_server().await?.into_iter().collect();
        self.admin_urls
            .iter()
            .map(|(name, _)| name)
            .min_by_key(|name| counts.get(*name).copied().unwrap_or(0))
            .cloned()
            .ok_or_else(|| Error::Config("no PostgreSQL tenant server is configured".into()))
    }

    async fn admin_pool(&self, server: &str) -> Result<PgPool> {
        let mut pools = self.admin_pools.lock().await;
        if let Some(pool) = pools.get(server) {
            return Ok(pool.clone());
        }
        let url = self
            .admin_urls
            .iter()
            .find(|(name, _)| name == server)
            .map(|(_, url)| url)
            .ok_or_else(|| Error::Config(format!("tenant server {server} is no longer configured")))?;
        let pool = db::postgres_pool(url.expose_secret(), 2).await?;
        pools.insert(server.to_owned(), pool.clone());
        Ok(pool)
    }

    /// The admin URL of `server` with the workspace role's name, password and database.
    fn role_url(&self, server: &str, name: &str, password: &str) -> Result<String> {
        let admin = self
            .admin_urls
            .iter()
            .find(|(candidate, _)| candidate == server)
            .map(|(_, url)| url)
            .ok_or_else(|| Error::Config(format!("tenant server {server} is not configured")))?;
        let mut url = Url::parse(admin.expose_secret()).map_err(|e| Error::Config(e.to_string()))?;
        let invalid = |_| Error::Config("a tenant server URL cannot carry credentials".into());
        url.set_username(name).map_err(invalid)?;
        url.set_password(Some(password)).map_err(invalid)?;
        url.set_path(&format!("/{name}"));
        Ok(url.to_string())
    }
}

/// `host:port` of a PostgreSQL URL: how placement names a server.
fn server_name(url: &str) -> Result<String> {
    let url = Url::parse(url).map_err(|e| Error::Config(format!("bad PostgreSQL URL: {e}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| Error::Config("a PostgreSQL URL needs a host".into()))?;
    Ok(format!("{host}:{}", url.port().unwrap_or(5432)))
}

/// A database owned by a role of the same name, which alone may connect to it.
///
/// The role's password never travels in the statement: PostgreSQL takes a SCRAM-SHA-256 verifier computed
/// here in its place, so a statement log (`log_statement`, an error's statement) holds nothing that signs in.
async fn create_database(admin: &PgPool, name: &str, password: &str) -> Result<()> {
    let ident = quote_ident(name);
    let salt = crypto::random_bytes::<16>();
    let verifier = scram_sha_256_verifier(password, salt.as_ref(), SCRAM_ITERATIONS);
    sqlx::raw_sql(&format!(
        "create role {ident} login password {}",
        quote_literal(&verifier)
    ))
    .execute(admin)
    .await
    .map_err(|e| Error::unique_or(e, || format!("role {name} exists already")))?;
    // CREATE DATABASE cannot run inside a transaction block: one statement per call.
    sqlx::raw_sql(&format!("create database {ident} owner {ident}"))
        .execute(admin)
        .await?;
    // New databases let PUBLIC connect and create temporary tables; only the owner may now.
    sqlx::raw_sql(&format!("revoke all on database {ident} from public"))
        .execute(admin)
        .await?;
    Ok(())
}

/// PostgreSQL's own default for the verifiers it computes (`scram_iterations`).
const SCRAM_ITERATIONS: u32 = 4096;

/// The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802, RFC 7677):
/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64. The passwords here are random
/// base64url text, which SASLprep leaves as it is.
fn scram_sha_256_verifier(password: &str, salt: &[u8], iterations: u32) -> String {
    use base64::engine::general_purpose::STANDARD;
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    let hmac = |key: &[u8], data: &[&[u8]]| {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        for part in data {
            mac.update(part);
        }
        mac.finalize().into_bytes()
    };
    // PBKDF2-HMAC-SHA256 with one block of output (Hi() in RFC 5802).
    let mut u = hmac(password.as_bytes(), &[salt, &1u32.to_be_bytes()]);
    let mut salted = u;
    for _ in 1..iterations {
        u = hmac(password.as_bytes(), &[&u]);
        salted.iter_mut().zip(u.iter()).for_each(|(s, x)| *s ^= x);
    }
    let client_key = hmac(&salted, &[b"Client Key"]);
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac(&salted, &[b"Server Key"]);
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(stored_key),
        STANDARD.encode(server_key)
    )
}

async fn drop_database(admin: &PgPool, name: &str) -> Result<()> {
    let ident = quote_ident(name);
    sqlx::raw_sql(&format!("drop database if exists {ident} with (force)"))
        .execute(admin)
        .await?;
    sqlx::raw_sql(&format!("drop role if exists {ident}"))
        .execute(admin)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677's example: user "user", password "pencil", salt `W22ZaJ0SNY7soEsUEjb6gQ==`, 4096 iterations.
    /// Its ServerSignature over the example's AuthMessage comes from the ServerKey computed here.
    #[test]
    fn the_scram_verifier_matches_rfc_7677() {
        use base64::engine::general_purpose::STANDARD;
        use hmac::{Hmac, Mac};
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let verifier = scram_sha_256_verifier("pencil", &salt, 4096);
        let (head, keys) = verifier.rsplit_once('$').unwrap();
        assert_eq!(head, "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==");
        let (_, server_key) = keys.split_once(':').unwrap();
        let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
            r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
            c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&STANDARD.decode(server_key).unwrap()).unwrap();
        mac.update(auth_message.as_bytes());
        assert_eq!(
            STANDARD.encode(mac.finalize().into_bytes()),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }
}
