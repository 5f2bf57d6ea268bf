//! Liveness and readiness for load balancers and orchestrators.

use crate::startup::AppState;
use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

/// The process is up and answering.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The server should get traffic: not shutting down, and its data directory is there.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if state.draining.load(Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "draining" })));
    }
    let data_dir = tokio::fs::metadata(&state.settings.data_dir).await;
    match data_dir {
        Ok(meta) if meta.is_dir() => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not ready", "reason": "data directory is missing" })),
        ),
    }
}
