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
