use crate::helpers::{TestOptions, header, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_theme_server_function_sets_a_year_long_cookie() {
    let app = spawn_app().await;
    let response = app.post_form_same_origin("/api/theme", "theme=dark").await;
    assert_eq!(response.status(), 200);
    let cookie = header(&response, "set-cookie");
    assert!(cookie.starts_with("ferrodesk-theme=dark;"), "{cookie}");
    for attribute in ["Path=/", "Max-Age=31536000", "SameSite=Lax", "HttpOnly"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http in tests: {cookie}");
}

#[tokio::test]
async fn choosing_system_deletes_the_cookie() {
    let app = spawn_app().await;
    let response = app.post_form_same_origin("/api/theme", "theme=system").await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "set-cookie").contains("Max-Age=0"));
}

#[tokio::test]
async fn the_cookie_is_secure_when_the_site_is_https() {
    let app = spawn_app_with(TestOptions {
        base_url: Some("https://help.example.com"),
        ..Default::default()
    })
    .await;
    let response = app
        .client
        .post(app.url("/api/theme"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://help.example.com")
        .body("theme=light")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(header(&response, "set-cookie").contains("; Secure"));
}

#[tokio::test]
async fn a_plain_form_post_is_sent_back_to_the_page_it_came_from() {
    let app = spawn_app().await;
    let referer = app.url("/");
    let response = app
        .client
        .post(app.url("/api/theme"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html,application/xhtml+xml")
        .header("origin", &app.address)
        .header("referer", &referer)
        .body("theme=light")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    // Leptos sends the browser back to the Referer, with an empty query string.
    assert_eq!(header(&response, "location").trim_end_matches('?'), referer);
    assert!(header(&response, "set-cookie").starts_with("ferrodesk-theme=light;"));
}

#[tokio::test]
async fn an_unknown_theme_is_rejected_and_sets_nothing() {
    let app = spawn_app().await;
    let response = app.post_form_same_origin("/api/theme", "theme=purple").await;
    assert!(response.status().is_client_error() || response.status().is_server_error());
    assert_eq!(header(&response, "set-cookie"), "");
}

#[tokio::test]
async fn the_page_is_rendered_in_the_theme_of_the_cookie() {
    let app = spawn_app().await;
    let dark = app
        .client
        .get(app.url("/"))
        .header("cookie", "ferrodesk-theme=dark")
        .send()
        .await
        .unwrap();
    let html = dark.text().await.unwrap();
    assert!(html.contains(r#"<html lang="en" data-theme="dark">"#), "{html}");
    assert!(
        html.contains(r#"aria-pressed="true">Dark"#) || html.contains(r#"value="dark" aria-pressed="true""#),
        "{html}"
    );

    let system = app.get("/").await.text().await.unwrap();
    assert!(
        system.contains(r#"<html lang="en">"#),
        "no attribute for System: {system}"
    );
}
