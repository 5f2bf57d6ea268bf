//! The landlord database: which workspaces exist, where their data lives, who may enter them.

use crate::{
    Error, Result,
    config::StorageConfig,
    crypto::{self, KeyRing},
    db::{self, Backend, Db},
    on_db, on_write,
    slug::Slug,
};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sqlx::migrate::Migrator;
use std::{fmt, path::Path};
use tower_sessions_core::{
    SessionStore as _,
    session::{Id, Record},
    session_store,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};
use zeroize::Zeroizing;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/landlord/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/landlord/postgres");

/// Associated data of the sealed key of the landlord's own SQLite file.
const LANDLORD_KEY_CONTEXT: &str = "landlord:sqlcipher-key";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WorkspaceId(i64);

impl WorkspaceId {
    pub fn get(self) -> i64 {
        self.0
    }

    /// The id as stored in a row that references a workspace (one-time tokens, jobs).
    pub fn from_row(id: i64) -> WorkspaceId {
        WorkspaceId(id)
    }
}

impl fmt::Display for WorkspaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceStatus {
    Provisioning,
    Active,
    Suspended,
    DeletionScheduled,
}

impl WorkspaceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceStatus::Provisioning => "provisioning",
            WorkspaceStatus::Active => "active",
            WorkspaceStatus::Suspended => "suspended",
            WorkspaceStatus::DeletionScheduled => "deletion_scheduled",
        }
    }

    fn parse(value: &str) -> WorkspaceStatus {
        match value {
            "active" => WorkspaceStatus::Active,
            "suspended" => WorkspaceStatus::Suspended,
            "deletion_scheduled" => WorkspaceStatus::DeletionScheduled,
            _ => WorkspaceStatus::Provisioning,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub slug: String,
    pub name: String,
    pub status: WorkspaceStatus,
    pub backend: Backend,
    /// PostgreSQL: the tenant server (`host:port`) and the database name.
    pub server: Option<String>,
    pub db_name: Option<String>,
    pub schema_version: i64,
    pub created_at: DateTime<Utc>,
    pub deletion_due_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct WorkspaceRow {
    id: i64,
    slug: String,
    name: String,
    status: String,
    backend: String,
    server: Option<String>,
    db_name: Option<String>,
    schema_version: i64,
    created_at: DateTime<Utc>,
    deletion_due_at: Option<DateTime<Utc>>,
}

impl From<WorkspaceRow> for Workspace {
    fn from(row: WorkspaceRow) -> Workspace {
        Workspace {
            id: WorkspaceId(row.id),
            slug: row.slug,
            name: row.name,
            status: WorkspaceStatus::parse(&row.status),
            backend: if row.backend == "postgres" {
                Backend::Postgres
            } else {
                Backend::Sqlite
            },
            server: row.server,
            db_name: row.db_name,
            schema_version: row.schema_version,
            created_at: row.created_at,
            deletion_due_at: row.deletion_due_at,
        }
    }
}

const WORKSPACE_COLUMNS: &str =
    "id, slug, name, status, backend, server, db_name, schema_version, created_at, deletion_due_at";

/// The session store on the landlord's backend. A cookie's session id is never stored: the store keeps
/// the SHA-256 of it, cut to 128 bits (see [`stored_session_id`]), so a copy of the database or a log of
/// its statements names no session anyone can use. Callers pass and get the cookie's id as tower-sessions
/// knows it; only the rows hold the hash.
#[derive(Clone, Debug)]
pub enum SessionStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// The id a cookie session's row is stored under: the first 128 bits of SHA-256 of the cookie's id. The
/// cookie's id is 128 random bits, so the hash needs no key and cannot be searched back.
pub fn stored_session_id(cookie_id: &Id) -> Id {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(cookie_id.0.to_le_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Id(i128::from_le_bytes(bytes))
}

/// [`stored_session_id`] of a cookie id in its text form; text that is no session id maps to itself
/// (it then matches no row).
pub fn stored_session_key(cookie_id: &str) -> String {
    match cookie_id.parse::<Id>() {
        Ok(id) => stored_session_id(&id).to_string(),
        Err(_) => cookie_id.to_owned(),
    }
}

impl SessionStore {
    // The inner stores' own methods, on ids as the rows hold them.
    async fn inner_save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            SessionStore::Sqlite(store) => store.save(record).await,
            SessionStore::Postgres(store) => store.save(record).await,
        }
    }

    async fn inner_load(&self, stored: &Id) -> session_store::Result<Option<Record>> {
        match self {
            SessionStore::Sqlite(store) => store.load(stored).await,
            SessionStore::Postgres(store) => store.load(stored).await,
        }
    }

    /// Deletes the row stored under `stored` (an id as the rows hold it, not a cookie's).
    pub(crate) async fn delete_stored(&self, stored: &Id) -> session_store::Result<()> {
        match self {
            SessionStore::Sqlite(store) => store.delete(stored).await,
            SessionStore::Postgres(store) => store.delete(stored).await,
        }
    }
}

/// The landlord's store serves tower-sessions directly, whichever backend it is on.
#[async_trait::async_trait]
impl tower_sessions_core::SessionStore for SessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new id until its hash names no row (128 random bits: in practice the first).
        while self.inner_load(&stored_session_id(&record.id)).await?.is_some() {
            record.id = Id::default();
        }
        self.save(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let stored = Record {
            id: stored_session_id(&record.id),
            ..record.clone()
        };
        self.inner_save(&stored).await
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self
            .inner_load(&stored_session_id(session_id))
            .await?
            .map(|record| Record {
                id: *session_id,
                ..record
            }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.delete_stored(&stored_session_id(session_id)).await
    }
}

pub struct Landlord {
    db: Db,
    keys: KeyRing,
    config: StorageConfig,
    teams: crate::auth::team::Teams,
}

impl Landlord {
    /// Opens (creating on first start) and migrates the landlord database.
    pub async fn open(config: StorageConfig) -> Result<Landlord> {
        let keys = config.key_ring()?;
        Landlord::open_with_keys(config, keys).await
    }

    /// As [`Landlord::open`], with an explicit key ring (key rotation).
    pub async fn open_with_keys(config: StorageConfig, keys: KeyRing) -> Result<Landlord> {
        let db = match &config.database_url {
            None => {
                crypto::create_private_dir(&config.data_dir)?;
                let key = landlord_file_key(&config.data_dir, &keys)?;
                let options = db::sqlite_options(&config.data_dir.join("landlord.db"), &key, true);
                Db::Sqlite(db::sqlite_pool(options, 8).await?)
            }
            Some(url) => Db::Postgres(db::PgDb::new(db::postgres_pool(url.expose_secret(), 10).await?)),
        };
        match &db {
            Db::Sqlite(sqlite) => {
                SQLITE_MIGRATIONS.run(&sqlite.pool).await?;
                SqliteStore::new(sqlite.pool.clone()).migrate().await?;
            }
            Db::Postgres(pg) => {
                POSTGRES_MIGRATIONS.run(&pg.pool).await?;
                PostgresStore::new(pg.pool.clone()).migrate().await?;
            }
        }
        Ok(Landlord {
            db,
            keys,
            config,
            teams: Default::default(),
        })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The store of sign-in sessions (tower-sessions), in this database.
    pub fn session_store(&self) -> SessionStore {
        match &self.db {
            Db::Sqlite(sqlite) => SessionStore::Sqlite(SqliteStore::new(sqlite.pool.clone())),
            Db::Postgres(pg) => SessionStore::Postgres(PostgresStore::new(pg.pool.clone())),
        }
    }

    /// Workspaces' teams as last read (see [`team::members_at`](crate::auth::team::members_at)).
    pub(crate) fn teams(&self) -> &crate::auth::team::Teams {
        &self.teams
    }

    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    pub fn config(&self) -> &StorageConfig {
        &self.config
    }

    /// Where new workspaces' data goes: the landlord's own backend.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    #[tracing::instrument(skip_all)]
    pub(crate) async fn insert_workspace(&self, slug: &Slug, name: &str) -> Result<WorkspaceId> {
        let now = Utc::now();
        let backend = match self.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        let id: i64 = on_write!(&self.db, conn => sqlx::query_scalar(
            "insert into workspaces (slug, name, status, backend, created_at, updated_at)
             values ($1, $2, 'provisioning', $3, $4, $4) returning id",
        )
        .bind(slug.as_str())
        .bind(name)
        .bind(backend)
        .bind(now)
        .fetch_one(conn)
        .await)
        .map_err(|e| Error::unique_or(e, || format!("The address “{slug}” is already taken.")))?;
        Ok(WorkspaceId(id))
    }

    /// Records where a new workspace's database is and how to open it, and makes the workspace active.
    #[tracing::instrument(skip_all, fields(workspace = %id))]
    pub(crate) async fn activate_workspace(
        &self,
        id: WorkspaceId,
        server: Option<&str>,
        db_name: Option<&str>,
        sealed_credentials: &str,
        schema_version: i64,
    ) -> Result<()> {
        on_write!(&self.db, conn => sqlx::query(
            "update workspaces set status = 'active', server = $2, db_name = $3, credentials = $4,
             schema_version = $5, updated_at = $6 where id = $1",
        )
        .bind(id.0)
        .bind(server)
        .bind(db_name)
        .bind(sealed_credentials)
        .bind(schema_version)
        .bind(Utc::now())
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    pub async fn workspace(&self, id: WorkspaceId) -> Result<Workspace> {
        let sql = format!("select {WORKSPACE_COLUMNS} from workspaces where id = $1");
        let row: Option<WorkspaceRow> =
            on_db!(&self.db, pool => sqlx::query_as(&sql).bind(id.0).fetch_optional(pool).await)?;
        row.map(Workspace::from).ok_or(Error::NotFound)
    }

    pub async fn workspace_by_slug(&self, slug: &str) -> Result<Workspace> {
        let sql = format!("select {WORKSPACE_COLUMNS} from workspaces where slug = $1");
        let row: Option<WorkspaceRow> =
            on_db!(&self.db, pool => sqlx::query_as(&sql).bind(slug).fetch_optional(pool).await)?;
        row.map(Workspace::from).ok_or(Error::NotFound)
    }

    pub async fn workspaces(&self) -> Result<Vec<Workspace>> {
        let sql = format!("select {WORKSPACE_COLUMNS} from workspaces order by id");
        let rows: Vec<WorkspaceRow> = on_db!(&self.db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(Workspace::from).collect())
    }

    /// The sealed credentials of a workspace's database.
    pub async fn sealed_credentials(&self, id: WorkspaceId) -> Result<String> {
        let sealed: Option<Option<String>> = on_db!(&self.db, pool => sqlx::query_scalar(
            "select credentials from workspaces where id = $1",
        )
        .bind(id.0)
        .fetch_optional(pool)
        .await)?;
        sealed.flatten().ok_or(Error::NotFound)
    }

    pub async fn rename_workspace(&self, id: WorkspaceId, name: &str) -> Result<()> {
        let name = workspace_name(name)?;
        self.update(
            "update workspaces set name = $2, updated_at = $3 where id = $1",
            id,
            Some(&name),
        )
        .await
    }

    pub(crate) async fn set_status(
        &self,
        id: WorkspaceId,
        status: WorkspaceStatus,
        deletion_due_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let done = on_write!(&self.db, conn => sqlx::query(
            "update workspaces set status = $2, deletion_due_at = $3, updated_at = $4 where id = $1",
        )
        .bind(id.0)
        .bind(status.as_str())
        .bind(deletion_due_at)
        .bind(Utc::now())
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))?;
        if done == 0 { Err(Error::NotFound) } else { Ok(()) }
    }

    pub(crate) async fn set_schema_version(&self, id: WorkspaceId, version: i64) -> Result<()> {
        on_write!(&self.db, conn => sqlx::query(
            "update workspaces set schema_version = $2 where id = $1",
        )
        .bind(id.0)
        .bind(version)
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Deletes the workspace's row, and with it the only copy of the key to its data.
    pub(crate) async fn delete_workspace_row(&self, id: WorkspaceId) -> Result<()> {
        on_write!(&self.db, conn => sqlx::query("delete from workspaces where id = $1").bind(id.0).execute(conn).await.map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// How many workspaces each PostgreSQL tenant server holds.
    pub(crate) async fn workspaces_per_server(&self) -> Result<Vec<(String, i64)>> {
        Ok(on_db!(&self.db, pool => sqlx::query_as(
            "select server, count(*) from workspaces where server is not null group by server",
        )
        .fetch_all(pool)
        .await)?)
    }

    async fn update(&self, sql: &str, id: WorkspaceId, value: Option<&str>) -> Result<()> {
        let done = on_db!(&self.db, pool => sqlx::query(sql)
            .bind(id.0)
            .bind(value)
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        if done == 0 { Err(Error::NotFound) } else { Ok(()) }
    }

    /// Re-seals every secret with the current master key (after a rotation). Returns how many changed.
    #[tracing::instrument(skip_all)]
    pub async fn reseal_all(&self) -> Result<usize> {
        let rows: Vec<(i64, String)> = on_db!(&self.db, pool => sqlx::query_as(
            "select id, credentials from workspaces where credentials is not null",
        )
        .fetch_all(pool)
        .await)?;
        let mut changed = 0;
        for (id, sealed) in rows {
            if self.keys.is_current(&sealed) {
                continue;
            }
            let context = credentials_context(WorkspaceId(id));
            let plain = self.keys.open(&sealed, &context)?;
            let resealed = self.keys.seal(&plain, &context);
            on_write!(&self.db, conn => sqlx::query("update workspaces set credentials = $2 where id = $1")
                .bind(id)
                .bind(&resealed)
                .execute(conn)
                .await
                .map(|done| done.rows_affected()))?;
            changed += 1;
        }
        // Queued messages (which carry links and codes) are sealed too.
        let jobs: Vec<(i64, String)> = on_db!(&self.db, pool => sqlx::query_as(
            "select id, payload from jobs where kind = $1",
        )
        .bind(crate::mail::JOB_KIND)
        .fetch_all(pool)
        .await)?;
        for (id, sealed) in jobs {
            if self.keys.is_current(&sealed) {
                continue;
            }
            let plain = self.keys.open(&sealed, crate::mail::PAYLOAD_CONTEXT)?;
            let resealed = self.keys.seal(&plain, crate::mail::PAYLOAD_CONTEXT);
            on_write!(&self.db, conn => sqlx::query("update jobs set payload = $2 where id = $1")
                .bind(id)
                .bind(&resealed)
                .execute(conn)
                .await
                .map(|done| done.rows_affected()))?;
            changed += 1;
        }
        // Only a SQLite landlord has a key file (its SQLCipher key, sealed by the master key).
        let sqlite = match self.backend() {
            Backend::Sqlite => true,
            Backend::Postgres => false,
        };
        if sqlite {
            let path = self.config.data_dir.join("landlord.key");
            let sealed = std::fs::read_to_string(&path)?;
            if !self.keys.is_current(&sealed) {
                let key = self.keys.open(sealed.trim(), LANDLORD_KEY_CONTEXT)?;
                replace_private(&path, self.keys.seal(&key, LANDLORD_KEY_CONTEXT).as_bytes())?;
                changed += 1;
            }
        }
        Ok(changed)
    }
}

/// The associated data under which a workspace's credentials are sealed.
pub fn credentials_context(id: WorkspaceId) -> String {
    format!("workspace:{}:credentials", id.0)
}

pub(crate) fn workspace_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Invalid(
            "A workspace name must be 1 to 100 characters long.".into(),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "A workspace name cannot contain control characters.".into(),
        ));
    }
    Ok(name.to_owned())
}

/// The random key of the landlord's SQLite file, sealed by the master key in `<data>/landlord.key`.
///
/// A wrapped random key rather than one derived from the master key: rotating the master key then re-seals
/// 100 bytes instead of re-encrypting the whole landlord file.
fn landlord_file_key(data_dir: &Path, keys: &KeyRing) -> Result<Zeroizing<[u8; 32]>> {
    let path = data_dir.join("landlord.key");
    let database = data_dir.join("landlord.db");
    match std::fs::read_to_string(&path) {
        Ok(sealed) => {
            let key = keys.open(sealed.trim(), LANDLORD_KEY_CONTEXT)?;
            let key: [u8; 32] = key
                .as_slice()
                .try_into()
                .map_err(|_| Error::Config(format!("{} does not hold a 32-byte key", path.display())))?;
            Ok(Zeroizing::new(key))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if database.exists() {
                return Err(Error::Config(format!(
                    "{} exists but its key file {} is missing",
                    database.display(),
                    path.display()
                )));
            }
            let key = crypto::random_bytes::<32>();
            crypto::write_private(&path, keys.seal(key.as_ref(), LANDLORD_KEY_CONTEXT).as_bytes())?;
            Ok(key)
        }
        Err(error) => Err(error.into()),
    }
}

/// Replaces a private file atomically: write a sibling, then rename over the original.
pub(crate) fn replace_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let next = path.with_extension("next");
    let _ = std::fs::remove_file(&next);
    crypto::write_private(&next, contents)?;
    std::fs::rename(&next, path)
}
