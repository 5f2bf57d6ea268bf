use crate::helpers::{header, spawn_app};

#[tokio::test]
async fn the_landing_page_is_rendered_on_the_server() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("The help desk that keeps every customer"), "{html}");
    assert!(
        html.contains(r#"<link rel="manifest" href="/manifest.webmanifest">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<link rel="stylesheet" href="/pkg/ferrodesk.css">"#),
        "{html}"
    );
}

#[tokio::test]
async fn an_unknown_page_is_a_friendly_404_rendered_by_the_app() {
    let app = spawn_app().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert!(header(&response, "content-type").starts_with("text/html"));
    assert!(!header(&response, "content-security-policy").is_empty());
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
    assert!(html.contains(r#"href="/""#), "links back home: {html}");
}

#[tokio::test]
async fn the_offline_page_is_an_ordinary_page() {
    let app = spawn_app().await;
    let response = app.get("/offline").await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("You are offline"));
}

#[tokio::test]
async fn pages_are_compressed_for_clients_that_accept_it() {
    let app = spawn_app().await;
    // What Chromium and Firefox send, what Safari sends, and a client that takes nothing but brotli.
    for (accepted, expected) in [
        ("gzip, deflate, br, zstd", Some("zstd")),
        ("gzip, deflate, br", Some("gzip")),
        ("br", None),
    ] {
        let response = app
            .client
            .get(app.url("/"))
            .header("accept-encoding", accepted)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers().get("content-encoding").map(|v| v.to_str().unwrap()),
            expected,
            "{accepted}"
        );
        let body = response.bytes().await.unwrap();
        if expected.is_none() {
            assert!(
                String::from_utf8_lossy(&body).contains("</html>"),
                "{accepted}: the page itself"
            );
        } else {
            assert!(
                !body.is_empty() && !body.windows(7).any(|w| w == b"</html>"),
                "{accepted}: compressed"
            );
        }
    }
}
