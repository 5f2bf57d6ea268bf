//! A local stand-in for Turnstile's siteverify, as Cloudflare documents it for its test keys: the passing
//! test secret accepts the dummy token the test site key issues, and nothing else.

use axum::{Form, Json, Router, routing::post};
use serde_json::{Value, json};
use std::collections::HashMap;

const PASSES: &str = "1x0000000000000000000000000000000AA";
const TOKEN: &str = "XXXX.DUMMY.TOKEN.XXXX";

async fn siteverify(Form(form): Form<HashMap<String, String>>) -> Json<Value> {
    let ok = form.get("secret").map(String::as_str) == Some(PASSES)
        && form.get("response").map(String::as_str) == Some(TOKEN);
    if ok {
        Json(json!({ "success": true, "error-codes": [] }))
    } else {
        Json(json!({ "success": false, "error-codes": ["invalid-input-response"] }))
    }
}

/// Starts the double; returns its siteverify URL.
pub async fn start() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/siteverify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, Router::new().route("/siteverify", post(siteverify))).await });
    url
}
