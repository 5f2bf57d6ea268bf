use crate::helpers::{TestOptions, header, spawn_app, spawn_app_with};

#[tokio::test]
async fn hashed_build_files_are_cached_for_a_year() {
    let app = spawn_app_with(TestOptions {
        hashed_assets: true,
        ..Default::default()
    })
    .await;
    let response = app.get("/pkg/ferrodesk.css1.css").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    // Pages of a hashed build (which Leptos renders from the `hash.txt` beside the binary) are checked by
    // the browser suite against the real release build.
}

#[tokio::test]
async fn unhashed_build_files_are_revalidated() {
    let app = spawn_app().await;
    let response = app.get("/pkg/ferrodesk.css").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-cache");
}

#[tokio::test]
async fn a_missing_build_file_is_a_404_and_is_not_cached() {
    let app = spawn_app_with(TestOptions {
        hashed_assets: true,
        ..Default::default()
    })
    .await;
    let response = app.get("/pkg/nothing.js").await;
    assert_eq!(response.status(), 404);
    assert_ne!(
        header(&response, "cache-control"),
        "public, max-age=31536000, immutable"
    );
}

#[tokio::test]
async fn the_manifest_is_served_as_a_web_app_manifest() {
    let app = spawn_app().await;
    let response = app.get("/manifest.webmanifest").await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("application/manifest+json"));
    let manifest: serde_json::Value = response.json().await.unwrap();
    assert_eq!(manifest["display"], "standalone");
}

#[tokio::test]
async fn the_service_worker_is_served_for_this_build_with_a_policy_that_lets_it_fetch() {
    let app = spawn_app_with(TestOptions {
        hashed_assets: true,
        ..Default::default()
    })
    .await;
    let response = app.get("/sw.js").await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("text/javascript"));
    assert_eq!(header(&response, "content-security-policy"), "default-src 'self'");
    assert_eq!(header(&response, "cache-control"), "no-cache");
    let script = response.text().await.unwrap();
    assert!(
        script.contains(r#"const CACHE = "ferrodesk-js1-wasm1-css1";"#),
        "{script}"
    );
    assert!(script.contains(r#"url.pathname.startsWith("/api/")"#));
}
