//! A real Ferrodesk server per test, on a free port of 127.0.0.1 with a fresh data directory (SQLite, or a
//! scratch database on the PostgreSQL test server), its mail written to files in that directory (the mail
//! sink the tests read), and calls of its server functions, by path or by their Rust types.

use crate::postgres::PgScratch;
use server::{
    Application, Settings,
    assets::{AssetManifest, Hashes},
};
use std::path::Path;
use tempfile::TempDir;
use tokio::sync::oneshot;

pub struct TestApp {
    pub address: String,
    /// The origin browsers send: the base URL's when one is configured, else `address`.
    pub origin: String,
    pub settings: Settings,
    pub client: reqwest::Client,
    pub data_dir: TempDir,
    /// The landlord and workspace databases on PostgreSQL, dropped with the app.
    _postgres: Option<PgScratch>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<Result<(), server::startup::StartupError>>>,
}

/// Options for [`spawn_app_with`].
#[derive(Default)]
pub struct TestOptions {
    pub base_url: Option<&'static str>,
    pub hashed_assets: bool,
    /// Store everything on the PostgreSQL server at `TEST_DATABASE_URL` instead of SQLite files.
    pub postgres: bool,
    /// Turn Turnstile on with this secret, verified against this siteverify URL.
    pub turnstile: Option<(String, String)>,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The largest attachment, in bytes (the default otherwise).
    pub attachment_max_bytes: Option<usize>,
    /// Check enquiry senders' mail domains against this DNS server (no check otherwise).
    pub dns_server: Option<std::net::SocketAddr>,
    /// Enquiry caps: per address per hour, per address per day, per workspace per day.
    pub enquiry_caps: Option<(usize, usize, i64)>,
    /// Auth requests allowed per client address per minute (the default otherwise).
    pub auth_requests_per_minute: Option<usize>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestOptions::default()).await
}

pub async fn spawn_app_with(options: TestOptions) -> TestApp {
    // `FERRODESK_TEST_LOG=debug` (any `RUST_LOG` filter) prints the servers' logs to stderr, uncaptured: for
    // finding out what a stuck or failing test's server was doing.
    if let Ok(filter) = std::env::var("FERRODESK_TEST_LOG") {
        server::telemetry::init_with_filter(
            server::settings::LogFormat::Pretty,
            tracing_subscriber::EnvFilter::new(filter),
            std::io::stderr,
        );
    }
    let data_dir = tempfile::tempdir().expect("temporary data directory");
    let site_root = data_dir.path().join("site");
    write_site(&site_root, options.hashed_assets);

    let mut settings = Settings {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.path().join("data"),
        base_url: options.base_url.map(|url| url.parse().unwrap()),
        site_root,
        mail_poll_ms: 50,
        trusted_proxies: options.trusted_proxies,
        ..Settings::default()
    };
    settings.check_mx = options.dns_server.is_some();
    settings.dns_server = options.dns_server;
    if let Some((hour, day, workspace)) = options.enquiry_caps {
        settings.enquiries_per_ip_hour = hour;
        settings.enquiries_per_ip_day = day;
        settings.enquiries_per_workspace_day = workspace;
    }
    if let Some(per_minute) = options.auth_requests_per_minute {
        settings.auth_requests_per_minute = per_minute;
    }
    if let Some(max) = options.attachment_max_bytes {
        settings.attachment_max_bytes = max;
        settings.message_attachments_max_bytes = max * 2;
    }
    if let Some((secret, url)) = options.turnstile {
        settings.turnstile_secret = Some(secret.into());
        settings.turnstile_site_key = Some("1x00000000000000000000AA".into());
        settings.turnstile_verify_url = url;
    }
    let postgres = if options.postgres {
        Some(on_postgres(&mut settings).await)
    } else {
        None
    };
    let assets = AssetManifest {
        hashes: options.hashed_assets.then(|| Hashes {
            js: "js1".into(),
            wasm: "wasm1".into(),
            css: "css1".into(),
        }),
    };
    let kept_settings = settings.clone();
    let application = Application::build_with_assets(settings, assets)
        .await
        .expect("the app builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async move {
        let _ = rx.await;
    }));

    // A request that gets no answer fails its test, naming the request, instead of holding up the run.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    let origin = options
        .base_url
        .map(|url| url.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| address.clone());
    TestApp {
        origin,
        settings: kept_settings,
        address,
        client,
        data_dir,
        _postgres: postgres,
        shutdown: Some(tx),
        server: Some(server),
    }
}

/// Moves `settings`' storage to a scratch landlord database and name prefix on the PostgreSQL test server,
/// dropped with the value returned.
pub async fn on_postgres(settings: &mut Settings) -> PgScratch {
    let admin_url = crate::postgres::url();
    let (storage, scratch) = PgScratch::create(&admin_url, &settings.data_dir, settings.storage())
        .await
        .expect("PostgreSQL answers at TEST_DATABASE_URL (or 127.0.0.1:5432)");
    settings.database_url = storage.database_url;
    settings.tenant_servers = storage.tenant_servers;
    settings.name_prefix = storage.name_prefix;
    scratch
}

/// A minimal built site: the public assets of the repository and a stylesheet in `pkg/` (named with a hash
/// when `hashed`).
pub fn write_site(root: &Path, hashed: bool) {
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

impl TestApp {
    /// Calls a server function the way the hydrated app does (a same-origin form post that does not ask
    /// for HTML), with the session cookie if given.
    pub async fn call(&self, function: &str, form: &[(&str, &str)], cookie: Option<&str>) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url(&format!("/api/{function}")))
            .header("origin", &self.origin)
            .header("sec-fetch-site", "same-origin")
            .form(form);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request succeeds")
    }

    /// As [`TestApp::call`], as a browser without JavaScript posts a form: it asks for HTML and says
    /// which page it came from.
    pub async fn post_page(
        &self,
        function: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        from: &str,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url(&format!("/api/{function}")))
            .header("origin", &self.origin)
            .header("sec-fetch-site", "same-origin")
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", self.url(from))
            .form(form);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request succeeds")
    }

    /// Every message written to the mail directory for `to` whose subject contains `about`, oldest first,
    /// once there are at least `count`.
    pub async fn emails_to(&self, to: &str, about: &str, count: usize) -> Vec<Email> {
        let dir = self.data_dir.path().join("data").join("mail");
        for _ in 0..200 {
            let mut found: Vec<(std::time::SystemTime, Email)> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|entry| {
                    let modified = entry.metadata().ok()?.modified().ok()?;
                    let raw = std::fs::read_to_string(entry.path()).ok()?;
                    let email = Email::parse(&raw);
                    (email.to.contains(to) && email.subject.contains(about)).then_some((modified, email))
                })
                .collect();
            if found.len() >= count {
                found.sort_by_key(|(modified, _)| *modified);
                return found.into_iter().map(|(_, email)| email).collect();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("fewer than {count} messages to {to} about {about:?} arrived within 10 s");
    }

    /// The newest message to `to` about `about`, waiting for the `count`th.
    pub async fn email(&self, to: &str, about: &str, count: usize) -> Email {
        self.emails_to(to, about, count).await.pop().unwrap()
    }
}

/// A message as written to the mail directory: the headers we need and the plain-text part, decoded.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub raw: String,
}

impl Email {
    pub fn parse(raw: &str) -> Email {
        let header = |name: &str| {
            raw.lines()
                .find_map(|line| line.strip_prefix(name))
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        Email {
            to: header("To:"),
            subject: header("Subject:"),
            text: decode_quoted_printable(raw),
            raw: raw.to_owned(),
        }
    }

    /// The first link in the message that starts with `prefix` (for example `http://…/signin/link/`).
    pub fn link(&self, prefix: &str) -> String {
        let start = self
            .text
            .find(prefix)
            .unwrap_or_else(|| panic!("no {prefix} link in {}", self.text));
        self.text[start..]
            .split(|c: char| c.is_whitespace() || c == '"' || c == '<')
            .next()
            .unwrap()
            .to_owned()
    }

    /// The 6-digit code in the message.
    pub fn code(&self) -> String {
        let bytes = self.subject.clone() + " " + &self.text;
        // A word of exactly six digits: cut at every non-digit, a run inside a header's random id or a
        // multipart boundary (`a123456b`) would pass for one.
        bytes
            .split(|c: char| !c.is_ascii_alphanumeric())
            .find(|word| word.len() == 6 && word.chars().all(|c| c.is_ascii_digit()))
            .unwrap_or_else(|| panic!("no code in {}", self.text))
            .to_owned()
    }
}

/// Undoes quoted-printable (soft line breaks and `=XX`), which mail uses for long lines.
pub fn decode_quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'=' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        if let Some(byte) = hex {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The session cookie a response sets: (name, value, the whole `Set-Cookie` line).
pub fn session_cookie(response: &reqwest::Response) -> Option<(String, String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|line| line.starts_with("ferrodesk=") || line.starts_with("__Host-ferrodesk="))
        .map(|line| {
            let pair = line.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            (name.to_owned(), value.to_owned(), line.to_owned())
        })
}

/// The `Cookie` header that sends a session cookie back.
pub fn cookie_of(response: &reqwest::Response) -> String {
    let (name, value, _) = session_cookie(response).expect("the response sets the session cookie");
    format!("{name}={value}")
}

impl TestApp {
    /// The landlord, opened a second time beside the server (as an operator's CLI would).
    pub async fn landlord(&self) -> domain::Landlord {
        domain::Landlord::open(self.settings.storage())
            .await
            .expect("the landlord opens")
    }
}

impl TestApp {
    /// Signs up an organization through the server function, as the sign-up form does.
    pub async fn sign_up(
        &self,
        name: &str,
        email: &str,
        organization: &str,
        slug: &str,
        password: &str,
    ) -> reqwest::Response {
        self.call_fn(
            &::app::auth::api::SignUp {
                name: name.into(),
                email: email.into(),
                organization: organization.into(),
                slug: slug.into(),
                password: password.into(),
                turnstile: None,
            },
            None,
        )
        .await
    }
}

impl TestApp {
    /// Calls the server function `F` with these arguments as the hydrated app does (see [`TestApp::call`]).
    pub async fn call_fn<F>(&self, args: &F, cookie: Option<&str>) -> reqwest::Response
    where
        F: leptos::server_fn::ServerFn + serde::Serialize,
    {
        let mut request = self
            .client
            .post(self.url(F::PATH))
            .header("origin", &self.origin)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_qs::to_string(args).expect("the arguments encode"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request succeeds")
    }

    /// Calls the server function `F` and reads its answer, failing the test when it is an error.
    pub async fn ok<F>(&self, args: &F, cookie: Option<&str>) -> F::Output
    where
        F: leptos::server_fn::ServerFn + serde::Serialize,
        F::Output: serde::de::DeserializeOwned,
    {
        let response = self.call_fn(args, cookie).await;
        let status = response.status();
        let body = response.text().await.expect("the answer arrives");
        assert!(status.is_success(), "{} answered {status}: {body}", F::PATH);
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{} answered {body}: {e}", F::PATH))
    }
}
