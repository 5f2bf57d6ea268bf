//! The Turnstile client against a local double of siteverify that behaves as Cloudflare documents for its
//! test secrets, plus the failures the network can add (5xx, slowness, a body that is not JSON).

use axum::{Form, Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::post};
use domain::turnstile::{Turnstile, TurnstileError};
use secrecy::SecretString;
use serde_json::json;
use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

const PASSES: &str = "1x0000000000000000000000000000000AA";
const FAILS: &str = "2x0000000000000000000000000000000AA";
const SPENT: &str = "3x0000000000000000000000000000000AA";
const TOKEN: &str = "XXXX.DUMMY.TOKEN.XXXX";

type Calls = Arc<Mutex<Vec<HashMap<String, String>>>>;

async fn siteverify(State(calls): State<Calls>, Form(form): Form<HashMap<String, String>>) -> axum::response::Response {
    let seen_before = {
        let mut calls = calls.lock().unwrap();
        let seen = calls
            .iter()
            .any(|c| c.get("idempotency_key") == form.get("idempotency_key"));
        calls.push(form.clone());
        seen
    };
    let answer =
        |success: bool, codes: &[&str]| Json(json!({ "success": success, "error-codes": codes })).into_response();
    match form.get("secret").map(String::as_str) {
        Some(PASSES) => answer(true, &[]),
        Some(FAILS) => answer(false, &["invalid-input-response"]),
        Some(SPENT) => answer(false, &["timeout-or-duplicate"]),
        Some("test-5xx") => StatusCode::BAD_GATEWAY.into_response(),
        Some("test-slow") => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            answer(true, &[])
        }
        Some("test-malformed") => "<html>upstream error</html>".into_response(),
        Some("test-internal-error-once") if !seen_before => answer(false, &["internal-error"]),
        Some("test-internal-error-once") => answer(true, &[]),
        Some("test-internal-error-always") => answer(false, &["internal-error"]),
        _ => answer(false, &["invalid-input-secret"]),
    }
}

async fn double() -> (String, Calls) {
    let calls: Calls = Arc::default();
    let app = Router::new()
        .route("/siteverify", post(siteverify))
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/siteverify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

fn client(url: &str, secret: &str) -> Turnstile {
    Turnstile::new(
        Some(SecretString::from(secret.to_owned())),
        url,
        Duration::from_millis(500),
    )
}

const IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 7)));

#[tokio::test]
async fn the_passing_test_secret_passes_and_sends_the_documented_fields() {
    let (url, calls) = double().await;
    assert_eq!(client(&url, PASSES).verify(Some(TOKEN), IP).await, Ok(()));
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["secret"], PASSES);
    assert_eq!(calls[0]["response"], TOKEN);
    assert_eq!(calls[0]["remoteip"], "203.0.113.7");
    assert_eq!(calls[0]["idempotency_key"].len(), 36);
    assert!(!calls[0].contains_key("remote_ip"));
}

#[tokio::test]
async fn every_kind_of_failure_is_a_refusal() {
    let (url, _) = double().await;
    for (secret, expected) in [
        (FAILS, "invalid-input-response"),
        (SPENT, "timeout-or-duplicate"),
        ("test-internal-error-always", "internal-error"),
    ] {
        match client(&url, secret).verify(Some(TOKEN), IP).await {
            Err(TurnstileError::Rejected(codes)) => assert_eq!(codes, expected),
            other => panic!("{secret}: {other:?}"),
        }
    }
    for (secret, reason) in [
        ("test-5xx", "HTTP 502"),
        ("test-slow", "timeout"),
        ("test-malformed", "malformed answer"),
    ] {
        assert_eq!(
            client(&url, secret).verify(Some(TOKEN), IP).await,
            Err(TurnstileError::Unavailable(reason.into())),
            "{secret}"
        );
    }
    // Nothing listening at all.
    let nowhere = client("http://127.0.0.1:9/siteverify", PASSES)
        .verify(Some(TOKEN), IP)
        .await;
    assert_eq!(nowhere, Err(TurnstileError::Unavailable("network".into())));
}

#[tokio::test]
async fn internal_error_is_retried_once_with_the_same_idempotency_key() {
    let (url, calls) = double().await;
    assert_eq!(
        client(&url, "test-internal-error-once").verify(Some(TOKEN), None).await,
        Ok(())
    );
    {
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0]["idempotency_key"], calls[1]["idempotency_key"]);
        assert!(!calls[0].contains_key("remoteip"), "no address, no field");
    }
    calls.lock().unwrap().clear();
    assert!(
        client(&url, "test-internal-error-always")
            .verify(Some(TOKEN), None)
            .await
            .is_err()
    );
    assert_eq!(calls.lock().unwrap().len(), 2, "one retry, not more");
}

#[tokio::test]
async fn a_missing_empty_or_oversized_token_is_refused_without_asking_cloudflare() {
    let (url, calls) = double().await;
    let turnstile = client(&url, PASSES);
    assert_eq!(turnstile.verify(None, IP).await, Err(TurnstileError::MissingToken));
    assert_eq!(
        turnstile.verify(Some("  "), IP).await,
        Err(TurnstileError::MissingToken)
    );
    let huge = "x".repeat(2049);
    assert!(matches!(
        turnstile.verify(Some(&huge), IP).await,
        Err(TurnstileError::Rejected(_))
    ));
    assert!(calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn without_a_secret_turnstile_is_off_and_lets_forms_through() {
    let turnstile = Turnstile::new(None, "http://127.0.0.1:9/unused", Duration::from_secs(1));
    assert!(!turnstile.enabled());
    assert_eq!(turnstile.verify(None, None).await, Ok(()));
}
