use crate::helpers::spawn_app;
use std::time::Duration;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn readyz_is_ready_when_the_data_directory_exists() {
    let app = spawn_app().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn readyz_is_not_ready_when_the_data_directory_is_gone() {
    let app = spawn_app().await;
    std::fs::remove_dir_all(app.data_dir.path().join("data")).unwrap();
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn the_server_stops_cleanly_when_asked_to() {
    let app = spawn_app().await;
    let address = app.address.clone();
    assert_eq!(app.get("/healthz").await.status(), 200);

    let stopped = tokio::time::timeout(Duration::from_secs(10), app.shut_down()).await;
    assert!(matches!(stopped, Ok(Ok(()))), "shutdown finished cleanly: {stopped:?}");
    let after = reqwest::get(format!("{address}/healthz")).await;
    assert!(after.is_err(), "nothing listens after shutdown");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let first = app.get("/healthz").await;
    let second = app.get("/healthz").await;
    let (a, b) = (
        crate::helpers::header(&first, "x-request-id"),
        crate::helpers::header(&second, "x-request-id"),
    );
    assert_eq!(a.len(), 36, "a UUID: {a}");
    assert_ne!(a, b);
}
