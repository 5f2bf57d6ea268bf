use crate::helpers::{TestOptions, header, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_page_carries_the_security_headers() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(header(&response, "x-frame-options"), "DENY");
    assert_eq!(header(&response, "referrer-policy"), "same-origin");
    assert_eq!(header(&response, "cross-origin-opener-policy"), "same-origin");
    assert_eq!(header(&response, "cache-control"), "no-store");
    let csp = header(&response, "content-security-policy").to_owned();
    for directive in [
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "default-src 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // Served over plain http, so no HSTS (browsers ignore it there, and it would pin a dev host).
    assert_eq!(header(&response, "strict-transport-security"), "");
}

#[tokio::test]
async fn the_only_inline_script_is_allowed_by_this_responses_nonce() {
    let app = spawn_app().await;
    let first = app.get("/").await;
    let csp = header(&first, "content-security-policy").to_owned();
    let nonce = csp
        .split_whitespace()
        .find_map(|token| token.strip_prefix("'nonce-")?.strip_suffix('\''))
        .expect("the CSP names a nonce")
        .to_owned();
    assert!(nonce.len() >= 22, "at least 128 bits: {nonce}");
    let html = first.text().await.unwrap();
    let scripts: Vec<&str> = html
        .match_indices("<script")
        .map(|(i, _)| &html[i..i + 80.min(html.len() - i)])
        .collect();
    assert!(!scripts.is_empty());
    for script in scripts {
        assert!(
            script.contains(&format!(r#"nonce="{nonce}""#)),
            "script without the nonce: {script}"
        );
    }

    let second = app.get("/").await;
    assert!(
        !header(&second, "content-security-policy").contains(&nonce),
        "a fresh nonce per response"
    );
}

#[tokio::test]
async fn responses_that_are_not_pages_get_a_deny_all_policy() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz", "/manifest.webmanifest"] {
        let response = app.get(path).await;
        assert_eq!(header(&response, "x-content-type-options"), "nosniff", "{path}");
        assert!(
            header(&response, "content-security-policy").starts_with("default-src 'none'"),
            "{path}"
        );
        assert!(
            header(&response, "content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn hsts_is_sent_when_the_public_url_is_https() {
    let app = spawn_app_with(TestOptions {
        base_url: Some("https://help.example.com"),
        ..Default::default()
    })
    .await;
    let response = app.get("/").await;
    let hsts = header(&response, "strict-transport-security");
    let max_age: u64 = hsts
        .split(';')
        .find_map(|part| part.trim().strip_prefix("max-age="))
        .and_then(|age| age.parse().ok())
        .expect("max-age");
    assert!(max_age >= 31_536_000, "{hsts}");
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused_before_it_reaches_a_server_function() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/theme"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .body("theme=dark")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(header(&response, "set-cookie"), "");
}

#[tokio::test]
async fn a_post_from_another_origin_without_fetch_metadata_is_refused_too() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/theme"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "http://127.0.0.1:1")
        .body("theme=dark")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

/// A signed-in page and the site's files fetched beside it (as a browser fetches the icon and the manifest
/// while the page loads), on one thread: each keeps its own headers. Leptos served files under a reactive
/// owner that hung below the page last rendered on the thread, and took that page's headers (its nonce'd
/// CSP, `no-store`) for the file, so the page went out with the deny-all default and its scripts blocked.
#[tokio::test(flavor = "current_thread")]
async fn pages_and_files_served_side_by_side_keep_their_own_headers() {
    let app = spawn_app().await;
    let signed_up = app
        .sign_up(
            "Ada",
            "ada@example.com",
            "Engines",
            "engines",
            "violet tractor umbrella 93",
        )
        .await;
    let cookie = crate::helpers::cookie_of(&signed_up);
    // Bounded, so a request that never gets its answer fails the test instead of holding up the suite.
    let rounds = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        for round in 0..20 {
            let page = async {
                app.client
                    .get(app.url("/w/engines"))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap()
            };
            let files = futures::future::join_all(
                (0..10).map(|n| app.get(["/favicon.svg", "/manifest.webmanifest", "/icons/icon-192.png"][n % 3])),
            );
            let (page, files) = tokio::join!(page, files);
            assert_eq!(page.status(), 200, "round {round}");
            assert!(
                header(&page, "content-security-policy").contains("'nonce-"),
                "round {round}: the page keeps its CSP: {:?}",
                page.headers()
            );
            assert_eq!(header(&page, "cache-control"), "no-store", "round {round}");
            for file in files {
                assert_eq!(file.status(), 200, "round {round}");
                let csp = header(&file, "content-security-policy");
                assert!(
                    csp.starts_with("default-src 'none'") && !csp.contains("'nonce-"),
                    "round {round}: a file took a page's CSP: {csp}"
                );
                assert_ne!(header(&file, "cache-control"), "no-store", "round {round}");
            }
        }
    })
    .await;
    assert!(
        rounds.is_ok(),
        "20 rounds of a page and 10 files did not finish within a minute"
    );
}
