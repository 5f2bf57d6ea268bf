//! The tenant router: workspace → its own database.
//!
//! Open pools live in a bounded LRU cache: opening one more than the bound closes the least recently used,
//! and a housekeeping task closes pools idle too long. Each cache slot holds a `OnceCell`, so two requests
//! that open the same cold workspace at once run one initialiser and get one pool. A workspace database is
//! migrated when it is opened and its recorded schema version is behind.
//!
//! [`WorkspaceDb`] is the only way to reach a workspace's data, and only this module makes one.

mod provision;

use crate::{
    Error, Landlord, Result, Workspace, WorkspaceId, WorkspaceStatus,
    db::{Backend, Db},
    landlord::{credentials_context, workspace_name},
    slug::Slug,
};
use chrono::{DateTime, Utc};
use lru::LruCache;
use sqlx::migrate::Migrator;
use std::{
    num::NonZeroUsize,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::sync::OnceCell;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/workspace/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/workspace/postgres");

/// The newest workspace schema this build knows.
pub fn latest_schema_version() -> i64 {
    SQLITE_MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// An open workspace database. Cloning is cheap; the pool closes when the router has let go of it and the
/// last clone is dropped.
#[derive(Clone)]
pub struct WorkspaceDb(Arc<OpenWorkspace>);

impl WorkspaceDb {
    pub fn id(&self) -> WorkspaceId {
        self.0.id
    }

    /// The workspace's database, as the landlord's is (for tests and operators' tools; the features go
    /// through this crate's functions).
    pub fn db(&self) -> &Db {
        &self.0.db
    }

    /// Whether two handles share one pool.
    pub fn same_pool(&self, other: &WorkspaceDb) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The SQLite PRAGMAs the workspace's connections run with, as the database reports them.
    pub async fn sqlite_pragmas(&self) -> Result<Option<SqlitePragmas>> {
        let sqlite = match self.db() {
            Db::Sqlite(sqlite) => sqlite,
            Db::Postgres(_) => return Ok(None),
        };
        let mut conn = sqlite.pool.acquire().await?;
        let journal_mode: String = sqlx::query_scalar("pragma journal_mode").fetch_one(&mut *conn).await?;
        let synchronous: i64 = sqlx::query_scalar("pragma synchronous").fetch_one(&mut *conn).await?;
        let foreign_keys: i64 = sqlx::query_scalar("pragma foreign_keys").fetch_one(&mut *conn).await?;
        let busy_timeout: i64 = sqlx::query_scalar("pragma busy_timeout").fetch_one(&mut *conn).await?;
        Ok(Some(SqlitePragmas {
            journal_mode,
            synchronous,
            foreign_keys,
            busy_timeout,
        }))
    }

    /// The `plan_cache_mode` a PostgreSQL workspace's connection runs with, as the server reports it.
    pub async fn postgres_plan_cache_mode(&self) -> Result<Option<String>> {
        let pg = match self.db() {
            Db::Sqlite(_) => return Ok(None),
            Db::Postgres(pg) => pg,
        };
        Ok(Some(
            sqlx::query_scalar("show plan_cache_mode").fetch_one(&pg.pool).await?,
        ))
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct SqlitePragmas {
    pub journal_mode: String,
    pub synchronous: i64,
    pub foreign_keys: i64,
    pub busy_timeout: i64,
}

struct OpenWorkspace {
    id: WorkspaceId,
    db: Db,
    open: Arc<AtomicUsize>,
    /// The workspace's status, and when it was read from the landlord.
    status: Mutex<(WorkspaceStatus, Instant)>,
}

/// How long a status read from the landlord is trusted. Suspending or deleting through this router takes
/// effect at once; a change made by another node is seen within this time.
const STATUS_TTL: Duration = Duration::from_secs(10);

impl Drop for OpenWorkspace {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
        let db = self.db.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { db.close().await });
        }
    }
}

/// A cache slot: the pool once opened, and when it was last handed out.
struct Slot {
    pool: OnceCell<Arc<OpenWorkspace>>,
    last_used: Mutex<Instant>,
}

type Pools = Arc<Mutex<LruCache<WorkspaceId, Arc<Slot>>>>;

#[derive(Clone)]
pub struct TenantRouter {
    landlord: Arc<Landlord>,
    cache: Pools,
    idle: Duration,
    open: Arc<AtomicUsize>,
    servers: Arc<provision::Servers>,
}

impl TenantRouter {
    pub fn new(landlord: Arc<Landlord>) -> Result<TenantRouter> {
        let config = landlord.config();
        let bound = usize::try_from(config.max_open_workspaces)
            .ok()
            .and_then(NonZeroUsize::new)
            .ok_or_else(|| Error::Config("max_open_workspaces must be at least 1".into()))?;
        let cache = Arc::new(Mutex::new(LruCache::new(bound)));
        let idle = Duration::from_secs(config.idle_workspace_secs);
        let servers = Arc::new(provision::Servers::from_config(config)?);
        let router = TenantRouter {
            landlord,
            cache,
            idle,
            open: Arc::new(AtomicUsize::new(0)),
            servers,
        };
        router.spawn_housekeeping();
        Ok(router)
    }

    pub fn landlord(&self) -> &Landlord {
        &self.landlord
    }

    /// Opens an active workspace's database.
    pub async fn open(&self, id: WorkspaceId) -> Result<WorkspaceDb> {
        let db = self.open_any(id).await?;
        let (status, read_at) = *db.0.status.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let status = if read_at.elapsed() < STATUS_TTL {
            status
        } else {
            let fresh = self.landlord.workspace(id).await?.status;
            *db.0.status.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = (fresh, Instant::now());
            fresh
        };
        match status {
            WorkspaceStatus::Active => Ok(db),
            WorkspaceStatus::Suspended => Err(Error::Unavailable("suspended")),
            WorkspaceStatus::DeletionScheduled => Err(Error::Unavailable("scheduled for deletion")),
            WorkspaceStatus::Provisioning => Err(Error::Unavailable("still being created")),
        }
    }

    /// Opens a workspace's database whatever its status (for maintenance: migrations, export).
    pub async fn open_any(&self, id: WorkspaceId) -> Result<WorkspaceDb> {
        let slot = self.slot(id);
        let opened = slot
            .pool
            .get_or_try_init(|| async { self.open_uncached(id).await.map(Arc::new) })
            .await;
        match opened {
            Ok(pool) => Ok(WorkspaceDb(pool.clone())),
            Err(error) => {
                // Forget the failed slot, so the next request tries again.
                let mut cache = self.lock();
                if cache.peek(&id).is_some_and(|current| Arc::ptr_eq(current, &slot)) {
                    cache.pop(&id);
                }
                Err(error)
            }
        }
    }

    /// The slot of a workspace, made most recently used; a new slot may push out the least recently used.
    fn slot(&self, id: WorkspaceId) -> Arc<Slot> {
        let mut cache = self.lock();
        let slot = cache
            .get_or_insert(id, || {
                Arc::new(Slot {
                    pool: OnceCell::new(),
                    last_used: Mutex::new(Instant::now()),
                })
            })
            .clone();
        *slot.last_used.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now();
        slot
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<WorkspaceId, Arc<Slot>>> {
        // The cache holds no invariant a panic could break half-way; keep serving.
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn forget(&self, id: WorkspaceId) {
        self.lock().pop(&id);
    }

    async fn open_uncached(&self, id: WorkspaceId) -> Result<OpenWorkspace> {
        let workspace = self.landlord.workspace(id).await?;
        let sealed = self.landlord.sealed_credentials(id).await?;
        let credentials = self.landlord.keys().open(&sealed, &credentials_context(id))?;
        let db = self.servers.connect(&workspace, &credentials).await?;
        let open = OpenWorkspace {
            id,
            db,
            open: self.open.clone(),
            status: Mutex::new((workspace.status, Instant::now())),
        };
        self.open.fetch_add(1, Ordering::Relaxed);
        if workspace.schema_version < latest_schema_version() {
            let version = migrate(&open.db).await?;
            self.landlord.set_schema_version(id, version).await?;
        }
        Ok(open)
    }

    /// How many workspace pools are open now. A pool pushed out of the cache stays open only while a
    /// request still holds it.
    /// Moves the mail every active workspace's outbox still holds to the job queue: what a process that
    /// stopped between a change and its relay left behind. Returns how many messages moved.
    pub async fn relay_outboxes(&self, now: DateTime<Utc>) -> Result<usize> {
        let mut moved = 0;
        for workspace in self.landlord.workspaces().await? {
            if workspace.status != WorkspaceStatus::Active {
                continue;
            }
            match self.open(workspace.id).await {
                Ok(ws) => moved += crate::workspace::outbox::relay(&self.landlord, &ws, now).await?,
                Err(error) => {
                    tracing::warn!(workspace = %workspace.id, %error, "cannot open a workspace to relay its mail")
                }
            }
        }
        Ok(moved)
    }

    pub fn open_pools(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Creates a workspace: reserves the slug, creates its database, migrates it, and makes it active.
    #[tracing::instrument(skip(self, name))]
    pub async fn create_workspace(&self, slug: &str, name: &str) -> Result<Workspace> {
        let slug = Slug::parse(slug).map_err(Error::Invalid)?;
        let name = workspace_name(name)?;
        let id = self.landlord.insert_workspace(&slug, &name).await?;
        match self.servers.provision(&self.landlord, id).await {
            Ok(provisioned) => {
                let sealed = self
                    .landlord
                    .keys()
                    .seal(&provisioned.credentials, &credentials_context(id));
                let version = migrate(&provisioned.db).await?;
                self.landlord
                    .activate_workspace(
                        id,
                        provisioned.server.as_deref(),
                        provisioned.db_name.as_deref(),
                        &sealed,
                        version,
                    )
                    .await?;
                self.open.fetch_add(1, Ordering::Relaxed);
                let open = Arc::new(OpenWorkspace {
                    id,
                    db: provisioned.db,
                    open: self.open.clone(),
                    status: Mutex::new((WorkspaceStatus::Active, Instant::now())),
                });
                let _ = self.slot(id).pool.set(open);
                self.landlord.workspace(id).await
            }
            Err(error) => {
                tracing::error!(%error, workspace = %id, "provisioning failed; removing the workspace");
                let _ = self.landlord.delete_workspace_row(id).await;
                Err(error)
            }
        }
    }

    pub async fn suspend(&self, id: WorkspaceId) -> Result<()> {
        self.landlord.set_status(id, WorkspaceStatus::Suspended, None).await?;
        self.forget(id);
        Ok(())
    }

    pub async fn resume(&self, id: WorkspaceId) -> Result<()> {
        self.landlord.set_status(id, WorkspaceStatus::Active, None).await?;
        self.forget(id);
        Ok(())
    }

    /// Marks the workspace for deletion at `due`; it is closed to everyone until then.
    pub async fn schedule_deletion(&self, id: WorkspaceId, due: DateTime<Utc>) -> Result<()> {
        self.landlord
            .set_status(id, WorkspaceStatus::DeletionScheduled, Some(due))
            .await?;
        self.forget(id);
        Ok(())
    }

    /// Deletes a workspace for good: its key goes first (copies and backups of its data become unreadable),
    /// then its database and files.
    #[tracing::instrument(skip(self))]
    pub async fn delete_workspace(&self, id: WorkspaceId) -> Result<()> {
        let workspace = self.landlord.workspace(id).await?;
        self.forget(id);
        match workspace.backend {
            Backend::Sqlite => {
                self.landlord.delete_workspace_row(id).await?;
                self.servers.drop_storage(&workspace).await?;
            }
            Backend::Postgres => {
                // The database is the data here; drop it before forgetting where it was.
                self.servers.drop_storage(&workspace).await?;
                self.landlord.delete_workspace_row(id).await?;
            }
        }
        let files = self.landlord.config().data_dir.join("files").join(id.to_string());
        match tokio::fs::remove_dir_all(&files).await {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error.into()),
            _ => {}
        }
        Ok(())
    }

    /// Deletes every workspace whose scheduled deletion is due at `now`. Returns the slugs deleted.
    pub async fn delete_due_workspaces(&self, now: DateTime<Utc>) -> Result<Vec<String>> {
        let mut deleted = Vec::new();
        for workspace in self.landlord.workspaces().await? {
            let due = workspace.status == WorkspaceStatus::DeletionScheduled
                && workspace.deletion_due_at.is_some_and(|due| due <= now);
            if due {
                self.delete_workspace(workspace.id).await?;
                deleted.push(workspace.slug);
            }
        }
        Ok(deleted)
    }

    /// Migrates every workspace that is behind, reporting progress as (done, total).
    pub async fn migrate_all(&self, mut progress: impl FnMut(usize, usize)) -> Result<usize> {
        let workspaces = self.landlord.workspaces().await?;
        let total = workspaces.len();
        let latest = latest_schema_version();
        let mut migrated = 0;
        for (done, workspace) in workspaces.into_iter().enumerate() {
            if workspace.status != WorkspaceStatus::Provisioning && workspace.schema_version < latest {
                // Opening migrates.
                self.open_any(workspace.id).await?;
                migrated += 1;
            }
            progress(done + 1, total);
        }
        Ok(migrated)
    }

    /// Closes idle pools; stops when the last clone of the router is gone.
    fn spawn_housekeeping(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let cache = Arc::downgrade(&self.cache);
        let idle = self.idle;
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(30).min(idle));
            loop {
                tick.tick().await;
                let Some(cache) = cache.upgrade() else { break };
                close_idle(&cache, idle);
            }
        });
    }
}

/// Drops the slots not used for `idle`; their pools close once no request holds them.
fn close_idle(cache: &Pools, idle: Duration) {
    let mut cache = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let stale: Vec<WorkspaceId> = cache
        .iter()
        .filter(|(_, slot)| slot.last_used.lock().map(|at| at.elapsed() >= idle).unwrap_or(true))
        .map(|(id, _)| *id)
        .collect();
    for id in stale {
        cache.pop(&id);
    }
}

async fn migrate(db: &Db) -> Result<i64> {
    match db {
        Db::Sqlite(sqlite) => SQLITE_MIGRATIONS.run(&sqlite.pool).await?,
        Db::Postgres(pg) => POSTGRES_MIGRATIONS.run(&pg.pool).await?,
    }
    Ok(latest_schema_version())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_workspace_migrations() {
        let sqlite: Vec<i64> = SQLITE_MIGRATIONS.iter().map(|m| m.version).collect();
        let postgres: Vec<i64> = POSTGRES_MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(sqlite, postgres);
        assert!(latest_schema_version() >= 1);
    }
}
