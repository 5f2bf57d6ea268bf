use crate::helpers::TestEnv;
use domain::{Error, WorkspaceStatus, db::Backend, workspace::customers};

testkit::both_backends!(setup = crate::helpers::env; a_workspace_is_created_active_with_its_own_database, slugs_are_validated_and_unique, rename_suspend_resume_and_schedule_deletion, deleting_a_workspace_removes_its_database_files_and_key, the_landlord_holds_every_control_plane_table_and_no_ticket_data, concurrent_creations_of_one_slug_make_exactly_one_workspace, a_scheduled_deletion_happens_once_it_is_due_and_not_before);

async fn a_workspace_is_created_active_with_its_own_database(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "  Acme Inc.  ").await.unwrap();
    assert_eq!(workspace.slug, "acme");
    assert_eq!(workspace.name, "Acme Inc.");
    assert_eq!(workspace.status, WorkspaceStatus::Active);
    assert_eq!(workspace.schema_version, domain::tenancy::latest_schema_version());
    match env.backend() {
        Backend::Sqlite => {
            assert!(
                env.config
                    .data_dir
                    .join("workspaces")
                    .join(format!("{}.db", workspace.id))
                    .exists()
            );
        }
        Backend::Postgres => {
            assert_eq!(
                workspace.db_name.as_deref(),
                Some(&*format!("{}_ws_{}", env.config.name_prefix, workspace.id))
            );
            assert!(workspace.server.as_deref().unwrap().ends_with(":5432"));
        }
    }
    let listed = env.router.landlord().workspaces().await.unwrap();
    assert_eq!(listed, vec![workspace]);
}

async fn slugs_are_validated_and_unique(env: TestEnv) {
    for bad in ["ab", "Acme", "admin", "-x-", "a_b"] {
        assert!(
            matches!(env.router.create_workspace(bad, "X").await, Err(Error::Invalid(_))),
            "{bad}"
        );
    }
    assert!(matches!(
        env.router.create_workspace("acme", "").await,
        Err(Error::Invalid(_))
    ));
    env.router.create_workspace("acme", "Acme").await.unwrap();
    let taken = env.router.create_workspace("acme", "Other").await.unwrap_err();
    assert!(
        matches!(taken, Error::Conflict(ref m) if m.contains("acme")),
        "{taken:?}"
    );
    assert_eq!(
        env.router.landlord().workspaces().await.unwrap().len(),
        1,
        "nothing half-made is left"
    );
}

async fn rename_suspend_resume_and_schedule_deletion(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let landlord = env.router.landlord();
    landlord.rename_workspace(workspace.id, "Acme Support").await.unwrap();
    assert_eq!(landlord.workspace(workspace.id).await.unwrap().name, "Acme Support");

    env.router.open(workspace.id).await.unwrap();
    env.router.suspend(workspace.id).await.unwrap();
    assert!(matches!(
        env.router.open(workspace.id).await,
        Err(Error::Unavailable("suspended"))
    ));
    env.router.resume(workspace.id).await.unwrap();
    env.router.open(workspace.id).await.unwrap();

    let due = chrono::Utc::now() + chrono::Duration::days(30);
    env.router.schedule_deletion(workspace.id, due).await.unwrap();
    let scheduled = landlord.workspace(workspace.id).await.unwrap();
    assert_eq!(scheduled.status, WorkspaceStatus::DeletionScheduled);
    assert_eq!(scheduled.deletion_due_at.unwrap().timestamp(), due.timestamp());
    assert!(matches!(
        env.router.open(workspace.id).await,
        Err(Error::Unavailable(_))
    ));
    // Maintenance (export, migrations) can still reach it until it is gone.
    env.router.open_any(workspace.id).await.unwrap();
}

async fn deleting_a_workspace_removes_its_database_files_and_key(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let keep = env.router.create_workspace("globex", "Globex").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    customers::create(&ws, "a@example.com", "A").await.unwrap();
    drop(ws);
    let files = env.config.data_dir.join("files").join(workspace.id.to_string());
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("attachment.bin"), b"data").unwrap();

    env.router.delete_workspace(workspace.id).await.unwrap();

    assert!(!files.exists());
    let landlord = env.router.landlord();
    assert!(matches!(landlord.workspace(workspace.id).await, Err(Error::NotFound)));
    assert!(
        matches!(landlord.sealed_credentials(workspace.id).await, Err(Error::NotFound)),
        "the key is gone"
    );
    match env.backend() {
        Backend::Sqlite => {
            let file = env
                .config
                .data_dir
                .join("workspaces")
                .join(format!("{}.db", workspace.id));
            assert!(!file.exists());
        }
        Backend::Postgres => {
            let admin = sqlx::PgPool::connect(&env.pg_admin_url().unwrap()).await.unwrap();
            let name = workspace.db_name.unwrap();
            let left: i64 = sqlx::query_scalar(
                "select (select count(*) from pg_database where datname = $1) + (select count(*) from pg_roles where rolname = $1)",
            )
            .bind(&name)
            .fetch_one(&admin)
            .await
            .unwrap();
            assert_eq!(left, 0, "database and role are dropped");
        }
    }
    assert_eq!(landlord.workspaces().await.unwrap().len(), 1);
    env.router
        .open(keep.id)
        .await
        .expect("the other workspace is untouched");
    // The slug is free again; the id is not reused.
    let again = env.router.create_workspace("acme", "Acme again").await.unwrap();
    assert!(again.id > keep.id);
}

async fn the_landlord_holds_every_control_plane_table_and_no_ticket_data(env: TestEnv) {
    let sql = match env.backend() {
        Backend::Sqlite => "select name from sqlite_master where type = 'table'",
        Backend::Postgres => {
            "select table_name::text from information_schema.tables
             where table_schema in ('public', 'tower_sessions') and table_type = 'BASE TABLE'"
        }
    };
    let tables: Vec<String> =
        domain::on_db!(env.router.landlord().db(), pool => sqlx::query_scalar(sql).fetch_all(pool).await).unwrap();
    let session_table = if env.backend() == Backend::Sqlite {
        "tower_sessions"
    } else {
        "session"
    };
    for wanted in [
        "workspaces",
        "accounts",
        "memberships",
        "one_time_tokens",
        "jobs",
        "audit_events",
        session_table,
    ] {
        assert!(tables.iter().any(|t| t == wanted), "{wanted} in {tables:?}");
    }
    for tenant_table in ["tickets", "customers", "messages"] {
        assert!(
            !tables.iter().any(|t| t == tenant_table),
            "{tenant_table} must not be in the landlord"
        );
    }
}

async fn concurrent_creations_of_one_slug_make_exactly_one_workspace(env: TestEnv) {
    let attempts: Vec<_> = (0..6)
        .map(|n| {
            let router = env.router.clone();
            tokio::spawn(async move { router.create_workspace("acme", &format!("Acme {n}")).await })
        })
        .collect();
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => created += 1,
            Err(Error::Conflict(message)) => assert!(message.contains("acme")),
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(created, 1);
    let all = env.router.landlord().workspaces().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].status, WorkspaceStatus::Active);
}

async fn a_scheduled_deletion_happens_once_it_is_due_and_not_before(env: TestEnv) {
    let now = chrono::Utc::now();
    let leaving = env.router.create_workspace("leaving", "Leaving").await.unwrap();
    let staying = env.router.create_workspace("staying", "Staying").await.unwrap();
    env.router
        .schedule_deletion(leaving.id, now + chrono::Duration::days(7))
        .await
        .unwrap();

    assert!(
        env.router
            .delete_due_workspaces(now + chrono::Duration::days(6))
            .await
            .unwrap()
            .is_empty()
    );
    let deleted = env
        .router
        .delete_due_workspaces(now + chrono::Duration::days(7))
        .await
        .unwrap();
    assert_eq!(deleted, vec!["leaving".to_owned()]);
    let left: Vec<_> = env
        .router
        .landlord()
        .workspaces()
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(left, vec![staying.id]);
}
