use crate::helpers::{TestEnv, sqlite_env};
use domain::{Landlord, StorageConfig, TenantRouter, on_db};
use std::sync::Arc;

testkit::both_backends!(setup = crate::helpers::env; two_requests_opening_the_same_cold_workspace_get_one_pool, a_workspace_database_that_is_behind_is_migrated_when_opened, a_read_that_ends_well_keeps_its_connection_warm_and_no_other_does);

async fn two_requests_opening_the_same_cold_workspace_get_one_pool(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    // A second router over the same landlord starts with no pool open: the workspace is cold.
    let landlord = Landlord::open(env.config.clone()).await.unwrap();
    let cold = TenantRouter::new(Arc::new(landlord)).unwrap();
    let opens: Vec<_> = (0..8)
        .map(|_| {
            let router = cold.clone();
            async move { router.open(workspace.id).await }
        })
        .collect();
    let handles: Vec<_> = futures_join_all(opens).await.into_iter().map(Result::unwrap).collect();
    assert!(handles.windows(2).all(|pair| pair[0].same_pool(&pair[1])));
    assert_eq!(cold.open_pools(), 1);
}

async fn futures_join_all<F>(futures: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let tasks: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

async fn a_workspace_database_that_is_behind_is_migrated_when_opened(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let landlord = env.router.landlord();
    // Pretend the workspace was created by an older build.
    on_db!(landlord.db(), pool => sqlx::query("update workspaces set schema_version = 0 where id = $1")
        .bind(workspace.id.get())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
    .unwrap();
    let fresh = TenantRouter::new(Arc::new(Landlord::open(env.config.clone()).await.unwrap())).unwrap();
    fresh.open(workspace.id).await.unwrap();
    let version = fresh.landlord().workspace(workspace.id).await.unwrap().schema_version;
    assert_eq!(version, domain::tenancy::latest_schema_version());
}

/// PostgreSQL only: a pooled connection that died while idle (here its backend is terminated, as a database
/// restart would) is found by the ping before it is handed out, and a new one answers instead: no query
/// fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_died_while_idle_is_replaced_before_use() {
    let Some(env) = crate::helpers::postgres_env(Default::default()).await else {
        return;
    };
    let url = env.pg_admin_url().expect("a PostgreSQL environment");
    let pool = domain::db::postgres_pool(&url, 1).await.unwrap();
    let pid = || async {
        sqlx::query_scalar::<_, i32>("select pg_backend_pid()")
            .fetch_one(&pool)
            .await
    };
    let first = pid().await.unwrap();
    let admin = domain::db::postgres_pool(&url, 1).await.unwrap();
    sqlx::query("select pg_terminate_backend($1)")
        .bind(first)
        .execute(&admin)
        .await
        .unwrap();
    tokio::time::sleep(domain::db::PING_IDLE_AFTER + std::time::Duration::from_millis(200)).await;
    let second = pid().await.expect("the dead connection is replaced, not used");
    assert_ne!(second, first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_pragmas_read_back_as_set() {
    let env = sqlite_env(Default::default()).await;
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let pragmas = ws.sqlite_pragmas().await.unwrap().expect("a SQLite workspace");
    assert_eq!(pragmas.journal_mode, "wal");
    assert_eq!(pragmas.synchronous, 2, "FULL");
    assert_eq!(pragmas.foreign_keys, 1);
    assert_eq!(pragmas.busy_timeout, 5000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_workspaces_never_hold_more_pools_open_than_the_bound() {
    const BOUND: u64 = 16;
    let env = sqlite_env(StorageConfig {
        max_open_workspaces: BOUND,
        ..Default::default()
    })
    .await;
    let mut ids = Vec::new();
    let mut most_open = 0;
    for n in 0..1000 {
        let workspace = env
            .router
            .create_workspace(&format!("team-{n:04}"), "Team")
            .await
            .unwrap();
        ids.push(workspace.id);
        most_open = most_open.max(env.router.open_pools());
    }
    for id in &ids {
        env.router.open(*id).await.unwrap();
        most_open = most_open.max(env.router.open_pools());
    }
    assert!(most_open <= BOUND as usize, "at most {BOUND} open, saw {most_open}");
    assert!(
        most_open >= BOUND as usize - 1,
        "the cache is used up to its bound: {most_open}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_workspace_pool_is_closed() {
    let env = sqlite_env(StorageConfig {
        idle_workspace_secs: 1,
        ..Default::default()
    })
    .await;
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    drop(env.router.open(workspace.id).await.unwrap());
    assert_eq!(env.router.open_pools(), 1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while env.router.open_pools() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(env.router.open_pools(), 0, "closed after being idle");
    // And it opens again on the next request.
    env.router.open(workspace.id).await.unwrap();
    assert_eq!(env.router.open_pools(), 1);
}

/// A read that ran to its end keeps its connection for the next read (sqlx's pool would test it with a
/// round trip first); a failed or cancelled read, or a connection warm for longer than `PING_IDLE_AFTER`,
/// goes back through the pool; at most half the pool waits warm; closing gives them all back.
async fn a_read_that_ends_well_keeps_its_connection_warm_and_no_other_does(env: TestEnv) {
    use domain::db::{Db, PING_IDLE_AFTER};
    use std::time::Duration;
    let db: Db = env.router.landlord().db().clone();
    async fn one(db: Db) -> Result<i64, sqlx::Error> {
        on_db!(&db, pool => sqlx::query_scalar::<_, i64>("select cast(1 as bigint)").fetch_one(pool).await)
    }
    let read = || one(db.clone());
    assert_eq!(db.warm_connections(), 0);
    assert_eq!(read().await.unwrap(), 1);
    assert_eq!(
        db.warm_connections(),
        1,
        "a read that ended well leaves its connection warm"
    );
    assert_eq!(read().await.unwrap(), 1);
    assert_eq!(
        db.warm_connections(),
        1,
        "the next read took the warm one and left it warm again"
    );

    let failed = on_db!(&db, pool => sqlx::query("select * from no_such_table")
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
    assert!(failed.is_err());
    assert_eq!(
        db.warm_connections(),
        0,
        "a failed read's connection goes back to the pool"
    );
    assert_eq!(read().await.unwrap(), 1);

    // Cancelled mid-statement: the future is dropped while the query runs.
    let slow = if db.backend() == domain::db::Backend::Postgres {
        "select cast(count(*) as bigint) from pg_sleep(0.5), generate_series(1, 10)"
    } else {
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < 100000000) select count(*) from n"
    };
    let cancelled = tokio::time::timeout(Duration::from_millis(20), async {
        on_db!(&db, pool => sqlx::query_scalar::<_, i64>(slow).fetch_one(pool).await)
    })
    .await;
    assert!(cancelled.is_err(), "the slow read was cancelled");
    assert_eq!(
        db.warm_connections(),
        0,
        "a cancelled read's connection goes back to the pool"
    );
    assert_eq!(read().await.unwrap(), 1, "and the next read works");

    // Many reads at once: no more than half the pool (the landlord's has 10) stays warm.
    let reads: Vec<_> = (0..20).map(|_| read()).collect();
    for result in futures_join_all(reads).await {
        assert_eq!(result.unwrap(), 1);
    }
    assert!((1..=5).contains(&db.warm_connections()), "{}", db.warm_connections());

    // Warm for longer than PING_IDLE_AFTER: given back to the pool at the next read.
    tokio::time::sleep(PING_IDLE_AFTER + Duration::from_millis(100)).await;
    assert_eq!(read().await.unwrap(), 1);
    assert_eq!(db.warm_connections(), 1);

    tokio::time::timeout(Duration::from_secs(10), db.close())
        .await
        .expect("closing does not wait for warm connections");
    assert_eq!(db.warm_connections(), 0);
    assert!(read().await.is_err(), "a closed pool reads nothing");
}
