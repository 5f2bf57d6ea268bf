//! Liveness and readiness for load balancers and orchestrators.

use crate::startup::AppState;
use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

/// The process is up and answering.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The server should get traffic: not shutting down, its data directory is there, the landlord answers.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if state.draining.load(Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "draining" })));
    }
    let data_dir = tokio::fs::metadata(&state.settings.data_dir).await;
    if !data_dir.is_ok_and(|meta| meta.is_dir()) {
        return not_ready("data directory is missing");
    }
    if let Err(error) = state.services.landlord().db().ping().await {
        tracing::error!(%error, "the landlord database does not answer");
        return not_ready("the database does not answer");
    }
    (StatusCode::OK, Json(json!({ "status": "ready" })))
}

fn not_ready(reason: &str) -> (StatusCode, Json<Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "not ready", "reason": reason })),
    )
}
