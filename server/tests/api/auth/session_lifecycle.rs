//! Sessions: the cookie, a new id at sign-in, signing out, listing and revoking sessions, suspension.

use super::*;
use crate::helpers::{Backend, TestOptions, cookie_of, header, session_cookie, spawn_app_with};
use app::auth::api::{RevokeSession, SignOut, SignOutEverywhere};
use base64::Engine;
use serde_json::Value;

async fn the_session_cookie_is_host_prefixed_secure_httponly_and_lax(backend: Backend) {
    let app = spawn_app_with(TestOptions {
        postgres: backend == Backend::Postgres,
        base_url: Some("https://help.example.test"),
        ..TestOptions::default()
    })
    .await;
    let response = app
        .sign_up("Ada", "ada@example.com", "Engines", "engines", PASSWORD)
        .await;
    let (name, value, line) = session_cookie(&response).expect("a session cookie");
    let location = header(&response, "location").to_owned();
    expect(response, 200).await;
    assert_eq!(name, "__Host-ferrodesk");
    let attributes: Vec<String> = line.split(';').skip(1).map(|a| a.trim().to_lowercase()).collect();
    for needed in ["secure", "httponly", "path=/", "samesite=lax"] {
        assert!(attributes.iter().any(|a| a == needed), "{needed} in {line}");
    }
    assert!(!attributes.iter().any(|a| a.starts_with("domain")), "no Domain: {line}");
    // 128 bits or more of randomness (tower-sessions ids are random i128s, base64url).
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&value).unwrap();
    assert!(raw.len() >= 16, "{value}");
    assert!(!location.contains(&value), "the session id is never in a URL");
    // Nor in any page or redirect a signed-in person gets.
    let cookie = format!("{name}={value}");
    for path in [
        "/",
        "/account",
        "/w/engines",
        "/w/engines/team",
        "/signin",
        "/signup",
        "/nowhere",
    ] {
        let page = app
            .client
            .get(app.url(path))
            .header("accept", "text/html")
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert!(!header(&page, "location").contains(&value), "{path}");
        let html = page.text().await.unwrap();
        assert!(!html.contains(&value), "the session id is not in {path}");
    }
}

async fn signing_in_gives_a_new_session_id_and_the_old_one_is_dead(backend: Backend) {
    let app = app_on(backend).await;
    let first = sign_up(&app, "ada@example.com", "engines").await;
    let again = sign_in(&app, "ada@example.com", PASSWORD, Some(&first)).await;
    let second = cookie_of(&again);
    expect(again, 200).await;
    assert_ne!(first, second);
    assert_eq!(me(&app, &first).await, Value::Null, "the pre-sign-in id is worthless");
    assert_eq!(me(&app, &second).await["name"], "Ada Lovelace");

    // A planted id (session fixation) is not adopted.
    let planted = "ferrodesk=AAAAAAAAAAAAAAAAAAAAAA";
    let response = sign_in(&app, "ada@example.com", PASSWORD, Some(planted)).await;
    let issued = cookie_of(&response);
    expect(response, 200).await;
    assert_ne!(issued, planted);
    assert_eq!(me(&app, planted).await, Value::Null);
}

async fn signing_out_ends_the_session_on_the_server(backend: Backend) {
    let app = app_on(backend).await;
    let cookie = sign_up(&app, "ada@example.com", "engines").await;
    expect(sessions(&app, &cookie).await, 200).await;
    let out = app.call_fn(&SignOut {}, Some(&cookie)).await;
    let cleared = session_cookie(&out).map(|(_, _, line)| line).unwrap_or_default();
    expect(out, 200).await;
    assert!(
        cleared.to_lowercase().contains("max-age=0"),
        "the cookie is removed: {cleared}"
    );
    // Replaying the old cookie does not work.
    expect(sessions(&app, &cookie).await, 401).await;
    assert_eq!(me(&app, &cookie).await, Value::Null);
}

async fn sessions_are_listed_and_can_be_ended_one_by_one_or_everywhere(backend: Backend) {
    let app = app_on(backend).await;
    let laptop = sign_up(&app, "ada@example.com", "engines").await;
    let phone = {
        let response = app
            .client
            .post(app.url("/api/signin"))
            .header("origin", &app.origin)
            .header(
                "user-agent",
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1",
            )
            .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        cookie_of(&response)
    };
    let listed = sessions(&app, &laptop).await;
    assert_eq!(
        header(&listed, "cache-control"),
        "no-store",
        "personal answers are never cached"
    );
    let list: Value = serde_json::from_str(&expect(listed, 200).await).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["current"], true, "this session first");
    assert_eq!(list[0]["ip"], "127.0.0.1");
    let other = list.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["device"], "Safari on iOS");
    let other_id = other["id"].as_str().unwrap().to_owned();

    expect(
        app.call_fn(&RevokeSession { id: other_id.clone() }, Some(&laptop))
            .await,
        200,
    )
    .await;
    expect(sessions(&app, &phone).await, 401).await;
    let own = list[0]["id"].as_str().unwrap().to_owned();
    expect(
        app.call_fn(&RevokeSession { id: own.clone() }, Some(&laptop)).await,
        422,
    )
    .await;

    // Someone else's session id cannot be ended by another account.
    let mallory = sign_up(&app, "mallory@example.com", "mallory").await;
    expect(
        app.call_fn(&RevokeSession { id: own.clone() }, Some(&mallory)).await,
        404,
    )
    .await;
    expect(sessions(&app, &laptop).await, 200).await;

    let tablet = cookie_of(&sign_in(&app, "ada@example.com", PASSWORD, None).await);
    expect(app.call_fn(&SignOutEverywhere {}, Some(&laptop)).await, 200).await;
    expect(sessions(&app, &laptop).await, 401).await;
    expect(sessions(&app, &tablet).await, 401).await;
}

async fn suspending_an_account_ends_its_sessions_at_once(backend: Backend) {
    let app = app_on(backend).await;
    let cookie = sign_up(&app, "ada@example.com", "engines").await;
    let other = cookie_of(&sign_in(&app, "ada@example.com", PASSWORD, None).await);
    let landlord = app.landlord().await;
    let account = domain::auth::accounts::by_email(&landlord, "ada@example.com")
        .await
        .unwrap();
    domain::auth::sign_ins::disable_account(&landlord, account.id, chrono::Utc::now())
        .await
        .unwrap();
    expect(sessions(&app, &cookie).await, 401).await;
    expect(sessions(&app, &other).await, 401).await;
    let refused = expect(sign_in(&app, "ada@example.com", PASSWORD, None).await, 422).await;
    assert!(refused.contains("The email or password is not right."));
}

testkit::both_backends!(
    the_session_cookie_is_host_prefixed_secure_httponly_and_lax,
    signing_in_gives_a_new_session_id_and_the_old_one_is_dead,
    signing_out_ends_the_session_on_the_server,
    sessions_are_listed_and_can_be_ended_one_by_one_or_everywhere,
    suspending_an_account_ends_its_sessions_at_once,
);
