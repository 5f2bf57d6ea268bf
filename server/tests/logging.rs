//! Security logging (SECURITY.md 36): the JSON log of a whole sign-in story, captured. Every sign-in
//! success and failure, authorization denial and rate-limit hit is an event with a UTC timestamp; no
//! password, code, link token or session id is ever written; a CR/LF in an address cannot forge a line.
//! Its own test binary, because the log subscriber is global to a process.

#[path = "api/helpers.rs"]
mod helpers;

use helpers::{Backend, TestApp, TestOptions, cookie_of, postgres_available, spawn_app_with};
use server::settings::LogFormat;
use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

const PASSWORD: &str = "violet tractor umbrella 93";

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
        server::telemetry::init_with_writer(LogFormat::Json, move || writer.clone());
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
        app.call("account/verify", &[("code", &code)], Some(&cookie))
            .await
            .status(),
        200
    );

    // A failure, with a line break smuggled into the address.
    let failed = app
        .call(
            "signin",
            &[
                ("email", "eve@example.com\r\n{\"event\":\"sign_in_succeeded\"}"),
                ("password", "wrong password here"),
            ],
            None,
        )
        .await;
    assert_eq!(failed.status(), 422);
    secrets.push("wrong password here".into());
    let signed_in = app
        .call("signin", &[("email", "ada@example.com"), ("password", PASSWORD)], None)
        .await;
    assert_eq!(signed_in.status(), 200);
    secrets.push(cookie_of(&signed_in).split_once('=').unwrap().1.to_owned());

    // A link, requested and used.
    app.call("signin/link", &[("email", "ada@example.com")], None).await;
    let link = app
        .email("ada@example.com", "sign-in link", 1)
        .await
        .link(&format!("{}/signin/link/", app.address));
    let token = link.rsplit('/').next().unwrap().to_owned();
    let redeemed = app.call("signin/link/redeem", &[("token", &token)], None).await;
    assert_eq!(redeemed.status(), 200);
    secrets.push(token);

    // An authorization denial: someone else's workspace.
    let other = app.sign_up("Bob", "bob@example.com", "Other", "other", PASSWORD).await;
    let bob = cookie_of(&other);
    assert_eq!(
        app.call("w/team", &[("slug", "engines")], Some(&bob)).await.status(),
        404
    );

    // A rate-limit hit.
    let mut limited = false;
    for _ in 0..40 {
        if app.call("signin/code", &[("code", "123456")], None).await.status() == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited);
    secrets
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_security_log_has_every_event_in_utc_and_no_secret() {
    let logs = logs();
    let mut backends = vec![Backend::Sqlite];
    if postgres_available().await {
        backends.push(Backend::Postgres);
    }
    let mut secrets = Vec::new();
    for backend in backends {
        let app = spawn_app_with(TestOptions {
            postgres: backend == Backend::Postgres,
            ..TestOptions::default()
        })
        .await;
        secrets.extend(story(&app).await);
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
    assert!(text.contains("eve@example.com"), "the failed address is logged");
    assert!(!text.contains("eve@example.com\r\n"), "raw CR/LF never reaches the log");
    for secret in secrets {
        assert!(!text.contains(&secret), "a secret reached the log: {secret}");
    }
}
