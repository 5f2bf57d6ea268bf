use crate::helpers::{TestEnv, agent, all_tickets, new_ticket, postgres_env, sqlite_env};
use domain::{
    Landlord, StorageConfig, TenantRouter,
    crypto::MasterKey,
    db::{self, Backend},
    landlord::credentials_context,
    on_db,
    workspace::{customers, tickets},
};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

const CANARY: &str = "CANARY-ENCRYPTION-5d1e";

async fn write_canary(env: &TestEnv) -> domain::Workspace {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let customer = customers::create(&ws, "someone@example.com", CANARY).await.unwrap();
    let ticket = new_ticket(&customer.email, CANARY, CANARY);
    tickets::create(&ws, &agent(1, "Agent", "acme"), &ticket, chrono::Utc::now())
        .await
        .unwrap();
    workspace
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn a_canary_written_through_the_app_is_not_in_the_files_bytes() {
    let env = sqlite_env(Default::default()).await;
    let workspace = write_canary(&env).await;
    let dir = env.config.data_dir.join("workspaces");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!contains(&bytes, CANARY));
        assert!(!contains(&bytes, "SQLite format 3"), "no plain SQLite header");
        checked += 1;
    }
    assert!(checked >= 1, "the workspace file and its WAL were read");
    let landlord = std::fs::read(env.config.data_dir.join("landlord.db")).unwrap();
    assert!(!contains(&landlord, "acme"), "the landlord file is encrypted too");
    drop(workspace);
}

#[tokio::test]
async fn a_workspace_file_does_not_open_without_its_key_or_with_another_workspaces_key() {
    let env = sqlite_env(Default::default()).await;
    let a = write_canary(&env).await;
    let b = env.router.create_workspace("globex", "Globex").await.unwrap();
    let path = env.config.data_dir.join("workspaces").join(format!("{}.db", a.id));
    let key_of = |id| {
        let router = env.router.clone();
        async move {
            let sealed = router.landlord().sealed_credentials(id).await.unwrap();
            let hex_key = router
                .landlord()
                .keys()
                .open(&sealed, &credentials_context(id))
                .unwrap();
            let key: [u8; 32] = hex::decode(hex_key.as_slice()).unwrap().try_into().unwrap();
            key
        }
    };

    let own = db::sqlite_pool(db::sqlite_options(&path, &key_of(a.id).await, false), 1)
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("select count(*) from tickets")
        .fetch_one(&own.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    own.pool.close().await;

    let without_key = open_error(sqlx::sqlite::SqliteConnectOptions::new().filename(&path)).await;
    assert!(without_key.contains("file is not a database"), "{without_key}");
    let with_other_key = open_error(db::sqlite_options(&path, &key_of(b.id).await, false)).await;
    assert!(with_other_key.contains("file is not a database"), "{with_other_key}");
}

/// The error of connecting with `options` and reading, whichever of the two fails.
async fn open_error(options: sqlx::sqlite::SqliteConnectOptions) -> String {
    match db::sqlite_pool(options, 1).await {
        Err(error) => error.to_string(),
        Ok(db) => sqlx::query_scalar::<_, i64>("select count(*) from tickets")
            .fetch_one(&db.pool)
            .await
            .unwrap_err()
            .to_string(),
    }
}

/// Every credential column, as text: what a dump of the landlord would show.
async fn landlord_dump(landlord: &Landlord) -> String {
    let rows: Vec<(i64, String, Option<String>)> = on_db!(landlord.db(), pool => sqlx::query_as(
        "select id, slug, credentials from workspaces",
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    format!("{rows:?}")
}

async fn no_plaintext_credential_in_the_landlord(env: TestEnv) {
    let workspace = write_canary(&env).await;
    let landlord = env.router.landlord();
    let sealed = landlord.sealed_credentials(workspace.id).await.unwrap();
    let plain = landlord
        .keys()
        .open(&sealed, &credentials_context(workspace.id))
        .unwrap();
    let plain = String::from_utf8(plain.to_vec()).unwrap();
    let dump = landlord_dump(landlord).await;
    assert!(!dump.contains(&plain), "the plaintext credential is in the dump");
    if env.backend() == Backend::Postgres {
        let password = url::Url::parse(&plain).unwrap().password().unwrap().to_owned();
        assert!(password.len() >= 32);
        assert!(!dump.contains(&password));
    }
    assert!(dump.contains("v1."), "sealed values are there: {dump}");
}

#[tokio::test]
async fn a_landlord_dump_holds_no_plaintext_credential_sqlite() {
    no_plaintext_credential_in_the_landlord(sqlite_env(Default::default()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_landlord_dump_holds_no_plaintext_credential_postgres() {
    if let Some(env) = postgres_env(Default::default()).await {
        no_plaintext_credential_in_the_landlord(env).await;
    }
}

/// Rotation with configured keys: the new key current, the old one retired; everything re-sealed.
async fn rotation_reseals_everything(make: impl AsyncFnOnce(StorageConfig) -> Option<TestEnv>) {
    let old = MasterKey::generate();
    let config = StorageConfig {
        master_key: Some(old.encode()),
        ..Default::default()
    };
    let Some(env) = make(config).await else { return };
    let first = write_canary(&env).await;
    let second = env.router.create_workspace("globex", "Globex").await.unwrap();
    drop(env.router.clone());

    let new = MasterKey::generate();
    let rotated = StorageConfig {
        master_key: Some(new.encode()),
        retired_master_keys: vec![SecretString::from(old.encode().expose_secret().to_owned())],
        ..env.config.clone()
    };
    let landlord = Landlord::open(rotated.clone()).await.unwrap();
    let changed = landlord.reseal_all().await.unwrap();
    assert!(changed >= 2, "both workspaces re-sealed: {changed}");
    for id in [first.id, second.id] {
        let sealed = landlord.sealed_credentials(id).await.unwrap();
        assert!(landlord.keys().is_current(&sealed));
    }
    assert_eq!(landlord.reseal_all().await.unwrap(), 0, "nothing left to re-seal");

    // The old key can go now: with the new key alone, every workspace still opens.
    let only_new = StorageConfig {
        retired_master_keys: vec![],
        ..rotated
    };
    let router = TenantRouter::new(Arc::new(Landlord::open(only_new).await.unwrap())).unwrap();
    let ws = router.open(first.id).await.unwrap();
    assert_eq!(all_tickets(&ws).await[0].subject, CANARY);
}

#[tokio::test]
async fn key_rotation_reseals_every_row_sqlite() {
    rotation_reseals_everything(async |config| Some(sqlite_env(config).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_reseals_every_row_postgres() {
    rotation_reseals_everything(postgres_env).await;
}

#[tokio::test]
async fn rotating_the_generated_key_file_reseals_everything_and_replaces_the_key() {
    let env = sqlite_env(Default::default()).await;
    let workspace = write_canary(&env).await;
    let before = std::fs::read_to_string(env.config.master_key_file()).unwrap();

    let rotation = domain::config::rotate_master_key(&env.config).await.unwrap();
    assert!(
        rotation.resealed >= 2,
        "the workspace key and the landlord key: {rotation:?}"
    );

    let after = std::fs::read_to_string(env.config.master_key_file()).unwrap();
    assert_ne!(before, after);
    assert_eq!(MasterKey::parse(&after).unwrap().id(), rotation.key_id);
    assert!(!env.config.data_dir.join("master.key.next").exists());
    let router = TenantRouter::new(Arc::new(Landlord::open(env.config.clone()).await.unwrap())).unwrap();
    let ws = router.open(workspace.id).await.unwrap();
    assert_eq!(all_tickets(&ws).await.len(), 1);
}
