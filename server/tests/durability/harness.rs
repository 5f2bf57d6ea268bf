//! The harness: the `ferrodesk serve` process it starts and kills, and the data it runs on.

use crate::{
    READY_TIMEOUT,
    clients::http_client,
    helpers::{Backend, PgScratch, postgres_url},
};
use domain::StorageConfig;
use secrecy::ExposeSecret;
use std::{
    collections::HashMap,
    ffi::{OsStr, OsString},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use tempfile::TempDir;

/// The `ferrodesk serve` process, configured only by its environment.
pub(crate) struct Server {
    child: Option<Child>,
    pub(crate) base: String,
    env: Vec<(String, String)>,
    log: PathBuf,
    /// For `/readyz` (and the sign-up).
    pub(crate) http: reqwest::Client,
}

/// A variable of the test's environment that would configure the server: it gets only the harness's.
fn is_setting(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with("FERRODESK_") || name == "DATABASE_URL" || name == "LEPTOS_SITE_ROOT" || name == "RUST_LOG"
}

impl Server {
    /// Starts the process without waiting for it; its output is appended to the log.
    pub(crate) fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the server's log opens");
        let mut command = Command::new(env!("CARGO_BIN_EXE_ferrodesk"));
        command.arg("serve");
        for (name, _) in std::env::vars_os() {
            if is_setting(&name) {
                command.env_remove(name);
            }
        }
        command
            .envs(self.env.iter().map(|(name, value)| (name.as_str(), value.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().expect("the log's handle clones")))
            .stderr(Stdio::from(log));
        self.child = Some(command.spawn().expect("the ferrodesk binary starts"));
    }

    /// SIGKILL (what `Child::kill` sends on Unix), and the process reaped.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server and waits until `/readyz` answers 200 (a start that exits is tried again, twice).
    pub(crate) async fn start(&mut self) {
        for attempt in 1..=3 {
            self.spawn();
            let deadline = Instant::now() + READY_TIMEOUT;
            loop {
                let exited = self.child.as_mut().and_then(|child| child.try_wait().ok().flatten());
                if let Some(status) = exited {
                    eprintln!("the server exited while starting ({status}), attempt {attempt} of 3");
                    self.child = None;
                    break;
                }
                if self.ready().await {
                    return;
                }
                if Instant::now() > deadline {
                    self.kill();
                    panic!("the server was not ready within {READY_TIMEOUT:?}\n{}", self.log_tail());
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!("the server did not start in three attempts\n{}", self.log_tail());
    }

    async fn ready(&self) -> bool {
        let response = self
            .http
            .get(format!("{}/readyz", self.base))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        response.is_ok_and(|response| response.status() == 200)
    }

    /// The end of the server's log, for failure messages.
    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut start = text.len().saturating_sub(6000);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        format!("the server's log ({}) ends:\n{}", self.log.display(), &text[start..])
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One backend's run: the server, its data, and what the checks have read so far.
pub(crate) struct Harness {
    pub(crate) server: Server,
    /// The storage the server runs on, as its settings make it.
    pub(crate) config: StorageConfig,
    /// `.eml` files of the mail directory already read: name → the Message-ID's key (files never change).
    pub(crate) mail_files: HashMap<OsString, Option<String>>,
    dir: Option<TempDir>,
    /// The landlord and workspace databases on PostgreSQL, dropped after the server is gone.
    _postgres: Option<PgScratch>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.server.kill();
        if std::thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            let kept = dir.keep();
            eprintln!("the data directory and the server's log are kept in {}", kept.display());
        }
    }
}

impl Harness {
    pub(crate) async fn new(backend: Backend) -> Harness {
        let dir = tempfile::Builder::new()
            .prefix("ferrodesk-durability-")
            .tempdir()
            .expect("a temporary directory");
        let data_dir = dir.path().join("data");
        let site_root = dir.path().join("site");
        std::fs::create_dir_all(site_root.join("pkg")).expect("the site directory");
        let (config, postgres) = match backend {
            Backend::Sqlite => (
                StorageConfig {
                    data_dir: data_dir.clone(),
                    ..StorageConfig::default()
                },
                None,
            ),
            Backend::Postgres => {
                let admin_url = postgres_url();
                let (config, scratch) = PgScratch::create(&admin_url, &data_dir, StorageConfig::default())
                    .await
                    .expect("a scratch landlord database on PostgreSQL");
                (config, Some(scratch))
            }
        };
        // A port that was free a moment ago; the server binds it again at every start.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut env: Vec<(String, String)> = [
            ("FERRODESK_ADDR", format!("127.0.0.1:{port}")),
            ("FERRODESK_DATA_DIR", data_dir.display().to_string()),
            ("FERRODESK_SITE_ROOT", site_root.display().to_string()),
            ("FERRODESK_ENVIRONMENT", "development".into()),
            ("FERRODESK_LOG_FORMAT", "json".into()),
            // Mail moves from the outbox to the queue to the mail directory while the clients write, so the
            // kills find it at every stage.
            ("FERRODESK_MAIL_POLL_MS", "50".into()),
            ("FERRODESK_AUTH_REQUESTS_PER_MINUTE", "600".into()),
            ("FERRODESK_CHECK_MX", "false".into()),
            ("RUST_LOG", "warn".into()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        if let Some(url) = &config.database_url {
            // Workspace databases go to the landlord's server (no FERRODESK_TENANT_SERVERS), named with the
            // scratch prefix so that they are dropped with it.
            env.push(("DATABASE_URL".into(), url.expose_secret().to_owned()));
            env.push(("FERRODESK_NAME_PREFIX".into(), config.name_prefix.clone()));
        }
        Harness {
            server: Server {
                child: None,
                base: format!("http://127.0.0.1:{port}"),
                env,
                log: dir.path().join("server.log"),
                http: http_client(),
            },
            config,
            mail_files: HashMap::new(),
            dir: Some(dir),
            _postgres: postgres,
        }
    }
}
