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

/// Pages rendered while other servers start in the same process all finish. Working out a router's route
/// list switches resource loading off for the whole process for a moment (leptos_server's
/// `SuppressResourceLoad`), and a page whose resources first ran in that moment waited for ever (leptos
/// issue 4773): a test's request hung whenever another test started its server at the wrong time. The list
/// is now worked out once per process (`startup::route_list`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_rendered_while_other_servers_start_all_finish() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;
    let app = spawn_app().await;
    let starting = AtomicBool::new(true);
    let others = async {
        for _ in 0..40 {
            let other = spawn_app().await;
            other.shut_down().await.expect("the other server stops");
        }
        starting.store(false, Ordering::Relaxed);
    };
    let app = &app;
    let pages = async {
        let (mut answered, mut stuck) = (0, Vec::new());
        while starting.load(Ordering::Relaxed) {
            let batch = (0..8).map(|i| {
                let path = if i % 2 == 0 { "/" } else { "/signin" };
                async move { (path, tokio::time::timeout(Duration::from_secs(15), app.get(path)).await) }
            });
            for (path, answer) in futures::future::join_all(batch).await {
                match answer {
                    Ok(response) if response.status() == 200 => answered += 1,
                    Ok(response) => panic!("{path}: {}", response.status()),
                    Err(_) => stuck.push(path),
                }
            }
        }
        (answered, stuck)
    };
    let ((), (answered, stuck)) = tokio::join!(others, pages);
    assert!(answered > 0);
    assert!(
        stuck.is_empty(),
        "{} of {} pages never finished: {stuck:?}",
        stuck.len(),
        answered + stuck.len()
    );
}
