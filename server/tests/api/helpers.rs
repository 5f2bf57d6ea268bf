use server::{
    Application, Settings,
    assets::{AssetManifest, Hashes},
};
use std::path::Path;
use tempfile::TempDir;
use tokio::sync::oneshot;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub data_dir: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<Result<(), server::startup::StartupError>>>,
}

/// Options for [`spawn_app_with`].
#[derive(Default)]
pub struct TestOptions {
    pub base_url: Option<&'static str>,
    pub hashed_assets: bool,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestOptions::default()).await
}

pub async fn spawn_app_with(options: TestOptions) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temporary data directory");
    let site_root = data_dir.path().join("site");
    write_site(&site_root, options.hashed_assets);

    let settings = Settings {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.path().join("data"),
        base_url: options.base_url.map(|url| url.parse().unwrap()),
        site_root,
        ..Settings::default()
    };
    let assets = AssetManifest {
        hashes: options.hashed_assets.then(|| Hashes {
            js: "js1".into(),
            wasm: "wasm1".into(),
            css: "css1".into(),
        }),
    };
    let application = Application::build_with_assets(settings, assets)
        .await
        .expect("the app builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async move {
        let _ = rx.await;
    }));

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        address,
        client,
        data_dir,
        shutdown: Some(tx),
        server: Some(server),
    }
}

/// A minimal built site: the public assets of the repository and a stylesheet in `pkg/`.
fn write_site(root: &Path, hashed: bool) {
    let public = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public");
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::create_dir_all(root.join("icons")).unwrap();
    for file in ["manifest.webmanifest", "favicon.svg", "icons/icon-192.png"] {
        std::fs::copy(public.join(file), root.join(file)).unwrap();
    }
    let css = if hashed { "ferrodesk.css1.css" } else { "ferrodesk.css" };
    std::fs::write(root.join("pkg").join(css), "body { color: black; }\n".repeat(200)).unwrap();
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request succeeds")
    }

    /// Posts a form the way a browser on this site does.
    pub async fn post_form_same_origin(&self, path: &str, body: &'static str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", &self.address)
            .header("sec-fetch-site", "same-origin")
            .body(body)
            .send()
            .await
            .expect("request succeeds")
    }

    /// Stops the server the way SIGTERM does and waits for it to finish.
    pub async fn shut_down(mut self) -> Result<(), server::startup::StartupError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.server
            .take()
            .unwrap()
            .await
            .expect("the server task does not panic")
    }
}

/// The value of a response header, or "" when it is absent.
pub fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}
