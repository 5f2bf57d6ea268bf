//! What the storage layer needs to know; part of the server's settings.

use crate::crypto::{KeyRing, MasterKey};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StorageConfig {
    /// Files: SQLite databases, attachments, the generated master key.
    pub data_dir: PathBuf,
    /// PostgreSQL landlord (`DATABASE_URL`). Unset: the embedded SQLite default.
    #[serde(serialize_with = "expose_option")]
    pub database_url: Option<SecretString>,
    /// PostgreSQL servers that hold workspace databases, as admin URLs (a role with CREATEDB and
    /// CREATEROLE). Empty: the landlord's server. A new workspace goes to the server with the fewest.
    #[serde(serialize_with = "expose_vec")]
    pub tenant_servers: Vec<SecretString>,
    /// Prefix of PostgreSQL database and role names, so several installations (or test runs) can share a
    /// server.
    pub name_prefix: String,
    /// At most this many workspace pools are open at once; the least recently used is closed first.
    pub max_open_workspaces: u64,
    /// A workspace pool unused this long is closed.
    pub idle_workspace_secs: u64,
    /// Connections per workspace pool.
    pub workspace_connections: u32,
    /// The master key (base64, 32 bytes). Unset: `<data_dir>/master.key`, generated on first start.
    #[serde(serialize_with = "expose_option")]
    pub master_key: Option<SecretString>,
    /// Earlier master keys, kept until `ferrodesk rotate-key` has re-sealed everything with the current one.
    #[serde(serialize_with = "expose_vec")]
    pub retired_master_keys: Vec<SecretString>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: PathBuf::from("data"),
            database_url: None,
            tenant_servers: Vec::new(),
            name_prefix: "ferrodesk".into(),
            max_open_workspaces: 128,
            idle_workspace_secs: 300,
            workspace_connections: 4,
            master_key: None,
            retired_master_keys: Vec::new(),
        }
    }
}

impl StorageConfig {
    pub fn master_key_file(&self) -> PathBuf {
        self.data_dir.join("master.key")
    }

    /// The next key of a generated-key rotation, written before anything is re-sealed with it.
    fn next_master_key_file(&self) -> PathBuf {
        self.data_dir.join("master.key.next")
    }

    /// The key ring: the configured master key, or the generated key file of the embedded default.
    pub fn key_ring(&self) -> Result<KeyRing, crate::Error> {
        let current = match &self.master_key {
            Some(key) => MasterKey::parse(key.expose_secret())?,
            None => {
                crate::crypto::create_private_dir(&self.data_dir)?;
                MasterKey::load_or_create(&self.master_key_file())?
            }
        };
        let mut retired = self
            .retired_master_keys
            .iter()
            .map(|key| MasterKey::parse(key.expose_secret()))
            .collect::<Result<Vec<_>, _>>()?;
        // A rotation that stopped half-way has sealed some values with the next key: they must still open.
        if self.master_key.is_none()
            && let Ok(next) = std::fs::read_to_string(self.next_master_key_file())
        {
            retired.push(MasterKey::parse(&next)?);
        }
        Ok(KeyRing::new(current, retired))
    }
}

/// What a key rotation did.
#[derive(Debug)]
pub struct Rotation {
    pub key_id: String,
    pub resealed: usize,
}

/// Re-seals every secret under the current master key.
///
/// With a configured key, the operator has already made the new key current and listed the old one in
/// `retired_master_keys`. With the generated key file, this makes the new key: it is written to
/// `master.key.next` first, everything is re-sealed, and only then does it replace `master.key`. Stopped
/// half-way, a second run picks up the same next key and finishes.
pub async fn rotate_master_key(config: &StorageConfig) -> Result<Rotation, crate::Error> {
    if config.master_key.is_some() {
        let landlord = crate::Landlord::open(config.clone()).await?;
        let resealed = landlord.reseal_all().await?;
        landlord.db().close().await;
        return Ok(Rotation {
            key_id: landlord.keys().current().id().to_owned(),
            resealed,
        });
    }
    let current_file = config.master_key_file();
    let next_file = config.next_master_key_file();
    let old = MasterKey::parse(&std::fs::read_to_string(&current_file)?)?;
    let new = match std::fs::read_to_string(&next_file) {
        Ok(text) => MasterKey::parse(&text)?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKey::generate();
            crate::crypto::write_private(&next_file, key.encode().expose_secret().as_bytes())?;
            key
        }
        Err(error) => return Err(error.into()),
    };
    let landlord = crate::Landlord::open_with_keys(config.clone(), KeyRing::new(new.clone(), vec![old])).await?;
    let resealed = landlord.reseal_all().await?;
    landlord.db().close().await;
    std::fs::rename(&next_file, &current_file)?;
    Ok(Rotation {
        key_id: new.id().to_owned(),
        resealed,
    })
}

// Figment builds settings by serializing the defaults; the defaults hold no secrets, and these serializers
// only exist so that round trip works. Secrets are never logged: `SecretString`'s Debug is redacted.
pub fn expose_option<S: serde::Serializer>(value: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    value.as_ref().map(|v| v.expose_secret().to_owned()).serialize(s)
}

pub fn expose_vec<S: serde::Serializer>(value: &[SecretString], s: S) -> Result<S::Ok, S::Error> {
    value
        .iter()
        .map(|v| v.expose_secret().to_owned())
        .collect::<Vec<_>>()
        .serialize(s)
}
