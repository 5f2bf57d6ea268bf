//! Security logging (docs/security.md row 36): the JSON log of a whole sign-in story, captured at debug level (SQL
//! statements at trace). Every sign-in success and failure, authorization denial and rate-limit hit is an
//! event with a UTC timestamp; no password, code, link token, session id, address as typed, workspace
//! database key or role password is ever written, nor the master key; a CR/LF in an address cannot forge a
//! line. Every page whose address holds a token is fetched and posted to, including a refused and a failing
//! request. On PostgreSQL the server logs every statement meanwhile (`log_statement = all` for the test's
//! role), and its log holds no role password either. Its own test binary, because the log subscriber is
//! global to a process.

#[path = "api/helpers.rs"]
mod helpers;

use app::{
    auth::api::{
        RedeemMagicLink, RequestMagicLink, RequestPasswordReset, ResetPassword, SignIn, VerifyEmail, VerifySignInCode,
    },
    portal::api::{PortalCheckLink, PortalRedeemLink, PortalRequestLink, Rate, RatingPage},
    tickets::api::{CreateTicket, UpdateTicket},
    workspace::api::{AcceptInvitation, Invitation, Invite, Team},
};
use helpers::{Backend, TestApp, TestOptions, cookie_of, postgres_available, spawn_app_with};
use server::settings::LogFormat;
use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

const PASSWORD: &str = "violet tractor umbrella 93";
const NEW_PASSWORD: &str = "copper lantern orchard 58";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let filter = tracing_subscriber::EnvFilter::new("debug,reqwest=off,hyper_util=off,sqlx=trace");
        server::telemetry::init_with_filter(LogFormat::Json, filter, move || writer.clone());
        captured
    })
}

/// Runs the story on one backend; returns the secrets it saw, which the log must not contain.
async fn story(app: &TestApp) -> Vec<String> {
    let mut secrets = vec![PASSWORD.to_owned()];
    let signup = app
        .sign_up("Ada", "ada@example.com", "Engines", "engines", PASSWORD)
        .await;
    let cookie = cookie_of(&signup);
    secrets.push(cookie.split_once('=').unwrap().1.to_owned());
    let code = app.email("ada@example.com", "verification", 1).await.code();
    secrets.push(code.clone());
    assert_eq!(
        app.call_fn(&VerifyEmail { code: code.clone() }, Some(&cookie))
            .await
            .status(),
        200
    );

    // A failure, with a line break smuggled into the address.
    let failed = app
        .call_fn(
            &SignIn {
                email: "eve@example.com\r\n{\"event\":\"sign_in_succeeded\"}".into(),
                password: "wrong password here".into(),
                turnstile: None,
                next: None,
            },
            None,
        )
        .await;
    assert_eq!(failed.status(), 422);
    secrets.push("wrong password here".into());
    let signed_in = app
        .call_fn(
            &SignIn {
                email: "ada@example.com".into(),
                password: PASSWORD.into(),
                turnstile: None,
                next: None,
            },
            None,
        )
        .await;
    assert_eq!(signed_in.status(), 200);
    secrets.push(cookie_of(&signed_in).split_once('=').unwrap().1.to_owned());

    // A link, requested and used.
    app.call_fn(
        &RequestMagicLink {
            email: "ada@example.com".into(),
            turnstile: None,
        },
        None,
    )
    .await;
    let link = app
        .email("ada@example.com", "sign-in link", 1)
        .await
        .link(&format!("{}/signin/link/", app.address));
    let token = link.rsplit('/').next().unwrap().to_owned();
    let redeemed = app.call_fn(&RedeemMagicLink { token: token.clone() }, None).await;
    assert_eq!(redeemed.status(), 200);
    secrets.push(token);

    // A link page looked at (as a mail scanner does) and a link that fails.
    let bogus = "Zm9yZ2VkLXRva2VuLXRoYXQtd2FzLW5ldmVyLWlzc3VlZC1hdC1hbGw";
    secrets.push(bogus.into());
    assert_eq!(app.get(&format!("/signin/link/{bogus}")).await.status(), 200);
    assert_eq!(
        app.call_fn(&RedeemMagicLink { token: bogus.into() }, None)
            .await
            .status(),
        422
    );

    // A password reset: its page and its form.
    app.call_fn(
        &RequestPasswordReset {
            email: "ada@example.com".into(),
            turnstile: None,
        },
        None,
    )
    .await;
    let token = token_of(
        &app.email("ada@example.com", "Reset", 1).await,
        &format!("{}/password/reset/", app.address),
    );
    assert_eq!(app.get(&format!("/password/reset/{token}")).await.status(), 200);
    let reset = app
        .call_fn(
            &ResetPassword {
                token: token.clone(),
                password: NEW_PASSWORD.into(),
            },
            None,
        )
        .await;
    assert_eq!(reset.status(), 200);
    let ada = cookie_of(&reset);
    secrets.extend([
        token,
        NEW_PASSWORD.to_owned(),
        ada.split_once('=').unwrap().1.to_owned(),
    ]);

    // An invitation: its page, what it shows, and its acceptance.
    assert_eq!(
        app.call_fn(
            &Invite {
                slug: "engines".into(),
                email: "grace@example.com".into(),
                role: "agent".into(),
            },
            Some(&ada),
        )
        .await
        .status(),
        200
    );
    let token = token_of(
        &app.email("grace@example.com", "invited", 1).await,
        &format!("{}/invitations/", app.address),
    );
    assert_eq!(app.get(&format!("/invitations/{token}")).await.status(), 200);
    assert_eq!(
        app.call_fn(&Invitation { token: token.clone() }, None).await.status(),
        200
    );
    let accepted = app
        .call_fn(
            &AcceptInvitation {
                token: token.clone(),
                name: Some("Grace".into()),
                password: Some(PASSWORD.into()),
            },
            None,
        )
        .await;
    assert_eq!(accepted.status(), 200);
    secrets.extend([token, cookie_of(&accepted).split_once('=').unwrap().1.to_owned()]);

    // A customer's portal sign-in: the link's page, its check and its use.
    assert_eq!(
        app.call_fn(
            &PortalRequestLink {
                slug: "engines".into(),
                email: "carl@customer.example".into(),
                turnstile: None,
            },
            None
        )
        .await
        .status(),
        200
    );
    let token = token_of(
        &app.email("carl@customer.example", "Sign in to", 1).await,
        &format!("{}/p/engines/signin/", app.address),
    );
    assert_eq!(app.get(&format!("/p/engines/signin/{token}")).await.status(), 200);
    assert_eq!(
        app.call_fn(
            &PortalCheckLink {
                slug: "engines".into(),
                token: token.clone(),
            },
            None
        )
        .await
        .status(),
        200
    );
    let customer = app
        .call_fn(
            &PortalRedeemLink {
                slug: "engines".into(),
                token: token.clone(),
            },
            None,
        )
        .await;
    assert_eq!(customer.status(), 200);
    secrets.extend([token, cookie_of(&customer).split_once('=').unwrap().1.to_owned()]);

    // A rating link: a ticket solved for the customer mails one; its page, what it shows, and the rating.
    let created = app
        .call_fn(
            &CreateTicket {
                slug: "engines".into(),
                requester_email: "carl@customer.example".into(),
                requester_name: None,
                subject: "Broken".into(),
                body: "Please help.".into(),
                priority: None,
                category: None,
                assignee: None,
                tags: None,
            },
            Some(&ada),
        )
        .await;
    assert_eq!(created.status(), 200);
    let solve = UpdateTicket {
        slug: "engines".into(),
        number: 1,
        status: "solved".into(),
        priority: "normal".into(),
        assignee: "none".into(),
        category: "none".into(),
        tags: "".into(),
        subject: None,
    };
    assert_eq!(app.call_fn(&solve, Some(&ada)).await.status(), 200);
    let mail = app
        .emails_to("carl@customer.example", "Broken", 2)
        .await
        .into_iter()
        .find(|m| m.text.contains("How did we do?"))
        .expect("the solved mail asks for a rating");
    let token = mail.link(&format!("{}/p/engines/rate/", app.address));
    let token = token.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    assert_eq!(app.get(&format!("/p/engines/rate/{token}?r=good")).await.status(), 200);
    assert_eq!(
        app.call_fn(
            &RatingPage {
                slug: "engines".into(),
                token: token.clone(),
            },
            None
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.call_fn(
            &Rate {
                slug: "engines".into(),
                token: token.clone(),
                rating: "good".into(),
                comment: None,
            },
            None
        )
        .await
        .status(),
        200
    );
    secrets.push(token);

    // An authorization denial: someone else's workspace.
    let other = app.sign_up("Bob", "bob@example.com", "Other", "other", PASSWORD).await;
    let bob = cookie_of(&other);
    assert_eq!(
        app.call_fn(&Team { slug: "engines".into() }, Some(&bob)).await.status(),
        404
    );

    // Rate-limit hits: on the code step, and on a token's form (the token in the refused request's body).
    let mut limited = false;
    for _ in 0..80 {
        if app
            .call_fn(&VerifySignInCode { code: "123456".into() }, None)
            .await
            .status()
            == 429
        {
            limited = true;
            break;
        }
    }
    assert!(limited);
    assert_eq!(
        app.call_fn(&RedeemMagicLink { token: bogus.into() }, None)
            .await
            .status(),
        429
    );
    assert_eq!(app.get(&format!("/signin/link/{bogus}")).await.status(), 200);

    // What the workspace databases are opened with, and the master key: never in a log.
    let landlord = app.landlord().await;
    for slug in ["engines", "other"] {
        let workspace = landlord.workspace_by_slug(slug).await.unwrap();
        let sealed = landlord.sealed_credentials(workspace.id).await.unwrap();
        let plain = landlord
            .keys()
            .open(&sealed, &domain::landlord::credentials_context(workspace.id))
            .unwrap();
        let plain = String::from_utf8(plain.to_vec()).unwrap();
        match url::Url::parse(&plain) {
            Ok(url) => secrets.push(url.password().expect("a role password").to_owned()),
            Err(_) => secrets.push(plain),
        }
    }
    if let Ok(key) = std::fs::read_to_string(app.data_dir.path().join("data").join("master.key")) {
        secrets.push(key.trim().to_owned());
    }
    secrets
}

fn token_of(mail: &helpers::Email, prefix: &str) -> String {
    mail.link(prefix).rsplit('/').next().unwrap().to_owned()
}

/// The PostgreSQL server's log file (Debian's, beside the cluster), and its length now: what the server logs
/// from here on is what this test reads.
fn postgres_log() -> Option<(std::path::PathBuf, u64)> {
    let newest = std::fs::read_dir("/var/log/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "log"))
        .max_by_key(|entry| entry.metadata().and_then(|m| m.modified()).ok())?
        .path();
    let length = std::fs::metadata(&newest).ok()?.len();
    Some((newest, length))
}

/// Makes the PostgreSQL server log every statement of the test's role until dropped.
struct StatementLogging(String);

impl StatementLogging {
    async fn on(admin_url: &str) -> StatementLogging {
        let admin = sqlx::PgPool::connect(admin_url).await.unwrap();
        sqlx::raw_sql("alter role current_user set log_statement = 'all'")
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        StatementLogging(admin_url.to_owned())
    }
}

impl Drop for StatementLogging {
    fn drop(&mut self) {
        let url = self.0.clone();
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    let admin = sqlx::PgPool::connect(&url).await.unwrap();
                    sqlx::raw_sql("alter role current_user reset log_statement")
                        .execute(&admin)
                        .await
                        .unwrap();
                })
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_security_log_has_every_event_in_utc_and_no_secret() {
    let logs = logs();
    let mut backends = vec![Backend::Sqlite];
    if postgres_available().await {
        backends.push(Backend::Postgres);
    }
    let mut secrets = Vec::new();
    let mut postgres_text = None;
    for backend in backends {
        let logging = match backend {
            Backend::Postgres => Some(StatementLogging::on(&helpers::postgres_url()).await),
            Backend::Sqlite => None,
        };
        let server_log = logging.as_ref().and_then(|_| postgres_log());
        let app = spawn_app_with(TestOptions {
            postgres: backend == Backend::Postgres,
            // The story makes about 30 auth requests before it runs into the limit on purpose.
            auth_requests_per_minute: Some(60),
            ..TestOptions::default()
        })
        .await;
        secrets.extend(story(&app).await);
        drop(logging);
        if backend == Backend::Postgres {
            let (path, from) = server_log.expect("PostgreSQL's log file under /var/log/postgresql");
            let bytes = std::fs::read(&path).unwrap();
            postgres_text = Some(String::from_utf8_lossy(&bytes[from as usize..]).into_owned());
        }
    }
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("every line is one JSON event: {line}")))
        .collect();
    for wanted in [
        "sign_in_succeeded",
        "sign_in_failed",
        "authorization_denied",
        "rate_limited",
    ] {
        let found: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == wanted).collect();
        assert!(!found.is_empty(), "no {wanted} event in the log");
        for event in found {
            let at = event["timestamp"].as_str().unwrap();
            assert!(at.ends_with('Z'), "UTC timestamps: {at}");
        }
    }
    // The smuggled line break stayed inside its field: no line of the log is a forged success.
    let forged = events
        .iter()
        .filter(|e| e["event"] == "sign_in_succeeded" && e.get("account").is_none())
        .count();
    assert_eq!(forged, 0);
    // The address as typed is not logged (a password typed into it would be): its keyed hash is.
    assert!(!text.contains("eve@example.com"), "the typed address is in the log");
    let failed = events.iter().find(|e| e["event"] == "sign_in_failed").unwrap();
    assert_eq!(failed["typed"].as_str().map(str::len), Some(16), "{failed}");
    // The log really holds SQL statements and request spans with their route patterns.
    assert!(text.contains("/signin/link/{token}"), "requests name their route");
    assert!(text.contains("/p/{slug}/rate/{token}"), "requests name their route");
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a secret reached the log: {secret}");
    }
    if let Some(postgres) = postgres_text {
        assert!(
            text.contains("sqlx::query"),
            "PostgreSQL statements are logged at this level"
        );
        assert!(
            postgres.contains("SCRAM-SHA-256$"),
            "PostgreSQL logged the role's creation (with a verifier)"
        );
        for secret in &secrets {
            assert!(
                !postgres.contains(secret.as_str()),
                "a secret reached PostgreSQL's log: {secret}"
            );
        }
    }
}
