//! The admin commands of the `ferrodesk` binary, run as an operator would, on the embedded default.

use std::process::{Command, Output};
use tempfile::TempDir;

fn ferrodesk(data: &TempDir, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrodesk"))
        .args(args)
        .env("FERRODESK_DATA_DIR", data.path())
        .env_remove("DATABASE_URL")
        .env_remove("FERRODESK_MASTER_KEY")
        .env_remove("FERRODESK_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn workspaces_are_created_listed_and_deleted_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let created = ferrodesk(&data, &["workspaces", "create", "acme", "Acme Inc."]);
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(stdout(&created).contains("created workspace acme"));

    let listed = ferrodesk(&data, &["workspaces", "list"]);
    assert!(listed.status.success());
    assert!(
        stdout(&listed).contains("acme") && stdout(&listed).contains("Acme Inc.") && stdout(&listed).contains("active")
    );

    let unconfirmed = ferrodesk(&data, &["workspaces", "delete", "acme"]);
    assert!(!unconfirmed.status.success());
    assert!(stderr(&unconfirmed).contains("--yes"));
    assert!(
        stdout(&ferrodesk(&data, &["workspaces", "list"])).contains("acme"),
        "nothing deleted without --yes"
    );

    let deleted = ferrodesk(&data, &["workspaces", "delete", "acme", "--yes"]);
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    assert!(!stdout(&ferrodesk(&data, &["workspaces", "list"])).contains("acme"));
    assert_eq!(
        std::fs::read_dir(data.path().join("workspaces")).unwrap().count(),
        0,
        "its file is gone"
    );
}

#[test]
fn bad_input_gets_a_clear_error_and_a_non_zero_exit() {
    let data = tempfile::tempdir().unwrap();
    let bad_slug = ferrodesk(&data, &["workspaces", "create", "Acme!", "Acme"]);
    assert!(!bad_slug.status.success());
    assert!(
        stderr(&bad_slug).contains("lowercase letters, digits and hyphens"),
        "{}",
        stderr(&bad_slug)
    );

    assert!(
        ferrodesk(&data, &["workspaces", "create", "acme", "Acme"])
            .status
            .success()
    );
    let taken = ferrodesk(&data, &["workspaces", "create", "acme", "Other"]);
    assert!(!taken.status.success());
    assert!(stderr(&taken).contains("already taken"), "{}", stderr(&taken));

    let missing = ferrodesk(&data, &["workspaces", "delete", "nobody", "--yes"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("there is no workspace nobody"));

    let unknown = ferrodesk(&data, &["frobnicate"]);
    assert_eq!(unknown.status.code(), Some(2));

    let bad_setting = Command::new(env!("CARGO_BIN_EXE_ferrodesk"))
        .args(["workspaces", "list"])
        .env("FERRODESK_DATA_DIR", data.path())
        .env("FERRODESK_ADDR", "nonsense")
        .output()
        .unwrap();
    assert_eq!(bad_setting.status.code(), Some(2));
    assert!(stderr(&bad_setting).contains("addr"));
}

#[test]
fn migrate_reports_progress_and_rotate_key_replaces_the_generated_key() {
    let data = tempfile::tempdir().unwrap();
    for slug in ["acme", "globex"] {
        assert!(
            ferrodesk(&data, &["workspaces", "create", slug, "Team"])
                .status
                .success()
        );
    }
    let migrated = ferrodesk(&data, &["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    assert!(
        stdout(&migrated).contains("0 of 2 workspaces migrated"),
        "{}",
        stdout(&migrated)
    );

    let key_before = std::fs::read_to_string(data.path().join("master.key")).unwrap();
    let rotated = ferrodesk(&data, &["rotate-key"]);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    assert!(
        stdout(&rotated).contains("3 secrets re-sealed"),
        "two workspaces and the landlord: {}",
        stdout(&rotated)
    );
    assert_ne!(
        std::fs::read_to_string(data.path().join("master.key")).unwrap(),
        key_before
    );
    // Everything still opens with the new key.
    assert!(ferrodesk(&data, &["migrate"]).status.success());
    assert!(stdout(&ferrodesk(&data, &["workspaces", "list"])).contains("globex"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_ends_an_accounts_sessions_or_suspends_it() {
    use domain::auth::{accounts, sign_ins};
    let data = tempfile::tempdir().unwrap();
    let config = domain::StorageConfig {
        data_dir: data.path().to_owned(),
        ..domain::StorageConfig::default()
    };
    let landlord = domain::Landlord::open(config).await.unwrap();
    let password = secrecy::SecretString::from("violet tractor umbrella 93".to_owned());
    let ada = accounts::create(&landlord, "ada@example.com", "Ada", &password)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    for _ in 0..2 {
        sign_ins::start(&landlord, ada.id, sign_ins::Device::default(), now)
            .await
            .unwrap();
    }

    let ended = ferrodesk(&data, &["accounts", "end-sessions", "ada@example.com"]);
    assert!(ended.status.success(), "{}", stderr(&ended));
    assert!(stdout(&ended).contains("ended 2 sessions"), "{}", stdout(&ended));
    assert!(sign_ins::list(&landlord, ada.id).await.unwrap().is_empty());

    let live = sign_ins::start(&landlord, ada.id, sign_ins::Device::default(), now)
        .await
        .unwrap();
    let suspended = ferrodesk(&data, &["accounts", "suspend", "ada@example.com"]);
    assert!(suspended.status.success(), "{}", stderr(&suspended));
    let policy = sign_ins::SessionPolicy::default();
    assert!(sign_ins::check(&landlord, &live, policy, now).await.unwrap().is_none());
    assert!(
        accounts::authenticate(&landlord, "ada@example.com", &password)
            .await
            .is_err()
    );

    let resumed = ferrodesk(&data, &["accounts", "resume", "ada@example.com"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(
        accounts::authenticate(&landlord, "ada@example.com", &password)
            .await
            .is_ok()
    );

    let unknown = ferrodesk(&data, &["accounts", "suspend", "nobody@example.com"]);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("there is no account nobody@example.com"));
}
