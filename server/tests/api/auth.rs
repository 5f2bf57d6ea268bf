//! Accounts and sign-in over HTTP, each test on SQLite and on PostgreSQL: sessions and their cookie,
//! rotation, sign-out and revocation, enumeration, rate limits, magic links, emailed codes, invitations,
//! roles, Turnstile on the forms and the same forms without JavaScript. Numbers are the rows of docs/security.md.

use crate::{
    helpers::{Backend, TestApp, TestOptions, cookie_of, header, session_cookie, spawn_app_with},
    on_both_backends,
};
use base64::Engine;
use serde_json::Value;

pub(crate) const PASSWORD: &str = "violet tractor umbrella 93";
const NEW_PASSWORD: &str = "copper lantern orchard 58";

pub(crate) async fn app_on(backend: Backend) -> TestApp {
    spawn_app_with(TestOptions {
        postgres: backend == Backend::Postgres,
        ..TestOptions::default()
    })
    .await
}

/// Asserts the status and returns the body, showing the body when the status is wrong.
pub(crate) async fn expect(response: reqwest::Response, status: u16) -> String {
    let actual = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(actual, status, "body: {body}");
    body
}

/// Signs up `email` with a workspace at `slug`; returns the session cookie.
pub(crate) async fn sign_up(app: &TestApp, email: &str, slug: &str) -> String {
    let response = app
        .sign_up("Ada Lovelace", email, "Analytical Engines", slug, PASSWORD)
        .await;
    let cookie = session_cookie(&response).map(|(name, value, _)| format!("{name}={value}"));
    expect(response, 200).await;
    cookie.expect("signing up signs in")
}

/// Signs up and verifies the address with the emailed code.
pub(crate) async fn sign_up_verified(app: &TestApp, email: &str, slug: &str) -> String {
    let cookie = sign_up(app, email, slug).await;
    let code = app.email(email, "verification", 1).await.code();
    expect(app.call("account/verify", &[("code", &code)], Some(&cookie)).await, 200).await;
    cookie
}

async fn sign_in(app: &TestApp, email: &str, password: &str, cookie: Option<&str>) -> reqwest::Response {
    app.call("signin", &[("email", email), ("password", password)], cookie)
        .await
}

/// `me` as the holder of `cookie`: the person's JSON, or `Value::Null` when not signed in.
async fn me(app: &TestApp, cookie: &str) -> Value {
    let body = expect(app.call("me", &[], Some(cookie)).await, 200).await;
    serde_json::from_str(&body).unwrap()
}

async fn sessions(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.call("account/sessions", &[], Some(cookie)).await
}

async fn signing_up_creates_a_workspace_signs_in_and_mails_a_code(backend: Backend) {
    let app = app_on(backend).await;
    let cookie = sign_up(&app, "ada@example.com", "engines").await;
    let person = me(&app, &cookie).await;
    assert_eq!(person["name"], "Ada Lovelace");
    assert_eq!(person["verified"], false);
    assert_eq!(person["workspaces"][0]["slug"], "engines");
    assert_eq!(person["workspaces"][0]["role"], "owner");

    app.email("ada@example.com", "Welcome", 1).await;
    let code = app.email("ada@example.com", "verification", 1).await.code();

    // Unverified: signed in, but cannot invite.
    let refused = app
        .call(
            "w/team/invite",
            &[("slug", "engines"), ("email", "bob@example.com"), ("role", "agent")],
            Some(&cookie),
        )
        .await;
    assert!(expect(refused, 422).await.contains("Verify your email"));

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let body = expect(app.call("account/verify", &[("code", wrong)], Some(&cookie)).await, 422).await;
    assert!(body.contains("tries left"), "{body}");
    expect(app.call("account/verify", &[("code", &code)], Some(&cookie)).await, 200).await;
    assert_eq!(me(&app, &cookie).await["verified"], true);
}

async fn sign_up_refuses_bad_input_field_by_field(backend: Backend) {
    let app = app_on(backend).await;
    let attempt = |email: &'static str, slug: &'static str, password: &'static str| {
        let app = &app;
        async move {
            let response = app
                .call(
                    "signup",
                    &[
                        ("name", "Ada"),
                        ("email", email),
                        ("organization", "Engines"),
                        ("slug", slug),
                        ("password", password),
                    ],
                    None,
                )
                .await;
            assert!(session_cookie(&response).is_none(), "no session for a refused sign-up");
            let body = expect(response, 422).await;
            serde_json::from_str::<Value>(&body).unwrap()
        }
    };
    let error = attempt("ada@example.com", "engines", "password123").await;
    assert_eq!(error["Form"]["field"], "password");
    let error = attempt("not-an-address", "engines", PASSWORD).await;
    assert_eq!(error["Form"]["field"], "email");
    let error = attempt("ada@example.com", "signin", PASSWORD).await;
    assert_eq!(error["Form"]["field"], "slug");
    // What was typed comes back, except the password.
    assert!(
        error["Form"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|pair| pair[0] == "email" && pair[1] == "ada@example.com")
    );
    assert!(!error.to_string().contains(PASSWORD));
}

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
    let out = app.call("signout", &[], Some(&cookie)).await;
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
        app.call("account/sessions/revoke", &[("id", &other_id)], Some(&laptop))
            .await,
        200,
    )
    .await;
    expect(sessions(&app, &phone).await, 401).await;
    let own = list[0]["id"].as_str().unwrap().to_owned();
    expect(
        app.call("account/sessions/revoke", &[("id", &own)], Some(&laptop))
            .await,
        422,
    )
    .await;

    // Someone else's session id cannot be ended by another account.
    let mallory = sign_up(&app, "mallory@example.com", "mallory").await;
    expect(
        app.call("account/sessions/revoke", &[("id", &own)], Some(&mallory))
            .await,
        404,
    )
    .await;
    expect(sessions(&app, &laptop).await, 200).await;

    let tablet = cookie_of(&sign_in(&app, "ada@example.com", PASSWORD, None).await);
    expect(app.call("signout/everywhere", &[], Some(&laptop)).await, 200).await;
    expect(sessions(&app, &laptop).await, 401).await;
    expect(sessions(&app, &tablet).await, 401).await;
}

async fn a_password_reset_ends_every_session_and_changes_the_password(backend: Backend) {
    let app = app_on(backend).await;
    let first = sign_up(&app, "ada@example.com", "engines").await;
    let second = cookie_of(&sign_in(&app, "ada@example.com", PASSWORD, None).await);
    expect(
        app.call("password/forgot", &[("email", "ada@example.com")], None).await,
        200,
    )
    .await;
    let link = app
        .email("ada@example.com", "Reset", 1)
        .await
        .link(&format!("{}/password/reset/", app.address));
    let token = link.rsplit('/').next().unwrap().to_owned();

    // A refused password keeps the link usable.
    expect(
        app.call("password/reset", &[("token", &token), ("password", "short")], None)
            .await,
        422,
    )
    .await;
    let reset = app
        .call("password/reset", &[("token", &token), ("password", NEW_PASSWORD)], None)
        .await;
    let fresh = cookie_of(&reset);
    expect(reset, 200).await;
    expect(sessions(&app, &first).await, 401).await;
    expect(sessions(&app, &second).await, 401).await;
    expect(sessions(&app, &fresh).await, 200).await;
    expect(sign_in(&app, "ada@example.com", PASSWORD, None).await, 422).await;
    expect(sign_in(&app, "ada@example.com", NEW_PASSWORD, None).await, 200).await;
    // The link worked once.
    expect(
        app.call("password/reset", &[("token", &token), ("password", NEW_PASSWORD)], None)
            .await,
        422,
    )
    .await;
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

async fn unknown_addresses_and_wrong_passwords_get_the_same_answer(backend: Backend) {
    let app = app_on(backend).await;
    sign_up(&app, "ada@example.com", "engines").await;
    let unknown = sign_in(&app, "nobody@example.com", PASSWORD, None).await;
    let (unknown_status, unknown_body) = (unknown.status(), unknown.text().await.unwrap());
    let wrong = sign_in(&app, "ada@example.com", "wrong password entirely", None).await;
    let (wrong_status, wrong_body) = (wrong.status(), wrong.text().await.unwrap());
    assert_eq!(unknown_status, wrong_status);
    assert_eq!(unknown_status, 422);
    // The bodies differ only in the address the form keeps.
    assert_eq!(
        unknown_body.replace("nobody@example.com", "X"),
        wrong_body.replace("ada@example.com", "X")
    );
    // Asking for links answers the same too.
    for function in ["signin/link", "password/forgot"] {
        let known = app.call(function, &[("email", "ada@example.com")], None).await;
        let (known_status, known_location) = (known.status(), header(&known, "location").to_owned());
        let unknown = app.call(function, &[("email", "nobody@example.com")], None).await;
        assert_eq!(known_status, unknown.status());
        assert_eq!(known_location, header(&unknown, "location"));
    }
}

async fn auth_requests_are_limited_per_client_address_which_headers_cannot_fake(backend: Backend) {
    let app = app_on(backend).await;
    for n in 0..30 {
        let response = app.call("signin/code", &[("code", "123456")], None).await;
        assert_ne!(response.status(), 429, "request {n} is within the limit");
    }
    let refused = app.call("signin/code", &[("code", "123456")], None).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = header(&refused, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert!(expect(refused, 429).await.contains("Limited"));
    // Spoofed forwarding headers from an untrusted peer do not give a fresh allowance.
    let spoofed = app
        .client
        .post(app.url("/api/signin/code"))
        .header("origin", &app.origin)
        .header("x-forwarded-for", "198.51.100.77")
        .header("cf-connecting-ip", "198.51.100.78")
        .header("x-real-ip", "198.51.100.79")
        .form(&[("code", "123456")])
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), 429);
}

async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance(backend: Backend) {
    let app = spawn_app_with(TestOptions {
        postgres: backend == Backend::Postgres,
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..TestOptions::default()
    })
    .await;
    let from = |client: &'static str| {
        app.client
            .post(app.url("/api/signin/code"))
            .header("origin", &app.origin)
            .header("x-forwarded-for", client)
            .form(&[("code", "123456")])
            .send()
    };
    for _ in 0..30 {
        assert_ne!(from("203.0.113.1").await.unwrap().status(), 429);
    }
    assert_eq!(from("203.0.113.1").await.unwrap().status(), 429);
    assert_ne!(
        from("203.0.113.2").await.unwrap().status(),
        429,
        "another client is not blocked"
    );
}

async fn magic_links_are_scanner_safe_single_use_and_built_from_the_base_url(backend: Backend) {
    let app = app_on(backend).await;
    sign_up(&app, "ada@example.com", "engines").await;
    let response = app
        .client
        .post(app.url("/api/signin/link"))
        .header("origin", &app.origin)
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .form(&[("email", "ada@example.com")])
        .send()
        .await
        .unwrap();
    expect(response, 200).await;
    let mail = app.email("ada@example.com", "sign-in link", 1).await;
    assert!(!mail.raw.contains("evil.example"));
    let link = mail.link(&format!("{}/signin/link/", app.address));
    let token = link.rsplit('/').next().unwrap().to_owned();
    assert!(token.len() >= 43, "256 bits, base64url: {token}");

    // What a mail scanner does: HEAD and GET. Neither uses the link.
    let head = app.client.head(&link).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let page = app.get(&format!("/signin/link/{token}")).await;
    assert_eq!(header(&page, "referrer-policy"), "no-referrer");
    let html = expect(page, 200).await;
    assert!(html.contains("Sign in to Ferrodesk"));

    // Twenty concurrent redeems: exactly one signs in.
    let form = [("token", token.as_str())];
    let attempts = (0..20).map(|_| app.call("signin/link/redeem", &form, None));
    let responses = futures::future::join_all(attempts).await;
    let mut winners = Vec::new();
    for response in responses {
        if response.status() == 200 {
            winners.push(cookie_of(&response));
        } else {
            assert_eq!(response.status(), 422);
        }
    }
    assert_eq!(winners.len(), 1);
    assert_eq!(me(&app, &winners[0]).await["email"], "ada@example.com");
    expect(app.call("signin/link/redeem", &[("token", &token)], None).await, 422).await;
}

async fn cross_site_posts_are_refused_sign_in_included(backend: Backend) {
    let app = app_on(backend).await;
    let cookie = sign_up(&app, "ada@example.com", "engines").await;
    for function in ["signin", "signout", "signout/everywhere", "w/team/invite"] {
        let response = app
            .client
            .post(app.url(&format!("/api/{function}")))
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .header("cookie", &cookie)
            .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{function}");
    }
    // A GET cannot sign anyone out.
    let get = app
        .client
        .get(app.url("/api/signout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(matches!(get.status().as_u16(), 404 | 405), "{}", get.status());
    expect(sessions(&app, &cookie).await, 200).await;
}

/// An owner with a verified address, an agent who accepted an invitation, and the owner of another
/// workspace.
pub(crate) struct Team {
    pub owner: String,
    pub agent: String,
    pub stranger: String,
}

pub(crate) async fn team(app: &TestApp) -> Team {
    let owner = sign_up_verified(app, "owner@example.com", "alpha").await;
    expect(
        app.call(
            "w/team/invite",
            &[("slug", "alpha"), ("email", "agent@example.com"), ("role", "agent")],
            Some(&owner),
        )
        .await,
        200,
    )
    .await;
    let link = app
        .email("agent@example.com", "invited", 1)
        .await
        .link(&format!("{}/invitations/", app.address));
    let token = link.rsplit('/').next().unwrap().to_owned();
    let accepted = app
        .call(
            "invitations/accept",
            &[("token", &token), ("name", "Agent Smith"), ("password", PASSWORD)],
            None,
        )
        .await;
    let agent = cookie_of(&accepted);
    expect(accepted, 200).await;
    let stranger = sign_up_verified(app, "stranger@example.com", "beta").await;
    Team { owner, agent, stranger }
}

async fn every_team_function_checks_the_callers_role(backend: Backend) {
    let app = app_on(backend).await;
    let Team { owner, agent, stranger } = team(&app).await;
    let members: Value =
        serde_json::from_str(&expect(app.call("w/team", &[("slug", "alpha")], Some(&agent)).await, 200).await).unwrap();
    let owner_id = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "owner@example.com")
        .unwrap()["account_id"]
        .to_string();
    let invite = [("slug", "alpha"), ("email", "x@example.com"), ("role", "agent")];
    let role = [("slug", "alpha"), ("account_id", owner_id.as_str()), ("role", "agent")];
    let remove = [("slug", "alpha"), ("account_id", owner_id.as_str())];
    let code = [("slug", "alpha"), ("required", "true")];
    let calls: [(&str, &[(&str, &str)]); 4] = [
        ("w/team/invite", &invite),
        ("w/team/role", &role),
        ("w/team/remove", &remove),
        ("w/settings/sign-in-code", &code),
    ];
    for (function, form) in calls {
        expect(app.call(function, form, Some(&agent)).await, 403).await;
        expect(app.call(function, form, None).await, 401).await;
        // A member of another workspace cannot reach this one at all.
        expect(app.call(function, form, Some(&stranger)).await, 404).await;
    }
    expect(app.call("w/team", &[("slug", "alpha")], None).await, 401).await;
    expect(app.call("w/overview", &[("slug", "alpha")], Some(&stranger)).await, 404).await;
    // Headers and query parameters do not choose the workspace; the session's memberships do.
    let sneaky = app
        .client
        .post(app.url("/api/w/team?slug=alpha"))
        .header("origin", &app.origin)
        .header("cookie", &stranger)
        .header("x-tenant", "alpha")
        .header("x-forwarded-host", "alpha.example.test")
        .form(&[("slug", "beta")])
        .send()
        .await
        .unwrap();
    let body = expect(sneaky, 200).await;
    assert!(
        body.contains("stranger@example.com") && !body.contains("owner@example.com"),
        "{body}"
    );
    // The owner can do what the agent could not.
    expect(app.call("w/settings/sign-in-code", &code, Some(&owner)).await, 200).await;
}

async fn the_last_owner_can_be_neither_demoted_nor_removed(backend: Backend) {
    let app = app_on(backend).await;
    let Team { owner, .. } = team(&app).await;
    let team: Value =
        serde_json::from_str(&expect(app.call("w/team", &[("slug", "alpha")], Some(&owner)).await, 200).await).unwrap();
    let me = team["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["is_me"] == true)
        .unwrap()["account_id"]
        .to_string();
    let demote = app
        .call(
            "w/team/role",
            &[("slug", "alpha"), ("account_id", &me), ("role", "agent")],
            Some(&owner),
        )
        .await;
    assert!(expect(demote, 422).await.contains("owner"));
    expect(
        app.call("w/team/remove", &[("slug", "alpha"), ("account_id", &me)], Some(&owner))
            .await,
        422,
    )
    .await;
}

async fn invitations_are_accepted_with_a_new_or_an_existing_account(backend: Backend) {
    let app = app_on(backend).await;
    let Team { owner, agent, stranger } = team(&app).await;
    assert_eq!(me(&app, &agent).await["workspaces"][0]["slug"], "alpha");

    // An existing account (signed in as the invited address) joins a second workspace.
    expect(
        app.call(
            "w/team/invite",
            &[("slug", "alpha"), ("email", "stranger@example.com"), ("role", "admin")],
            Some(&owner),
        )
        .await,
        200,
    )
    .await;
    let link = app
        .email("stranger@example.com", "invited", 1)
        .await
        .link(&format!("{}/invitations/", app.address));
    let token = link.rsplit('/').next().unwrap().to_owned();
    // Showing the invitation does not use it up; someone else cannot accept it.
    let shown: Value =
        serde_json::from_str(&expect(app.call("invitations/show", &[("token", &token)], None).await, 200).await)
            .unwrap();
    assert_eq!(shown["account_exists"], true);
    expect(
        app.call("invitations/accept", &[("token", &token)], Some(&agent)).await,
        422,
    )
    .await;
    expect(
        app.call("invitations/accept", &[("token", &token)], Some(&stranger))
            .await,
        200,
    )
    .await;
    let person = me(&app, &stranger).await;
    let slugs: Vec<&str> = person["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs.len(), 2, "{person}");
    assert!(slugs.contains(&"alpha") && slugs.contains(&"beta"));
    expect(
        app.call("invitations/accept", &[("token", &token)], Some(&stranger))
            .await,
        422,
    )
    .await;
}

async fn a_workspace_can_require_an_emailed_code_at_sign_in(backend: Backend) {
    let app = app_on(backend).await;
    let owner = sign_up_verified(&app, "ada@example.com", "engines").await;
    expect(
        app.call(
            "w/settings/sign-in-code",
            &[("slug", "engines"), ("required", "true")],
            Some(&owner),
        )
        .await,
        200,
    )
    .await;
    let first = sign_in(&app, "ada@example.com", PASSWORD, None).await;
    assert_eq!(header(&first, "location"), "/signin/code");
    let first_pending = cookie_of(&first);
    assert_eq!(
        me(&app, &first_pending).await,
        Value::Null,
        "not signed in before the code"
    );
    let first_code = app.email("ada@example.com", "sign-in code", 1).await.code();

    // A second sign-in sends a new code; the first one stops working (newest wins).
    let second = sign_in(&app, "ada@example.com", PASSWORD, None).await;
    let pending = cookie_of(&second);
    let second_code = app.email("ada@example.com", "sign-in code", 2).await.code();
    if first_code != second_code {
        expect(
            app.call("signin/code", &[("code", &first_code)], Some(&pending)).await,
            422,
        )
        .await;
    }
    let done = app.call("signin/code", &[("code", &second_code)], Some(&pending)).await;
    let signed_in = cookie_of(&done);
    expect(done, 200).await;
    assert_ne!(signed_in, pending, "a new session id after the second step");
    assert_eq!(me(&app, &signed_in).await["email"], "ada@example.com");
    assert_eq!(me(&app, &pending).await, Value::Null);

    // Five wrong guesses void the code.
    let pending = cookie_of(&sign_in(&app, "ada@example.com", PASSWORD, None).await);
    let code = app.email("ada@example.com", "sign-in code", 3).await.code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        assert!(
            expect(app.call("signin/code", &[("code", wrong)], Some(&pending)).await, 422)
                .await
                .contains("tries left")
        );
    }
    assert!(
        expect(app.call("signin/code", &[("code", wrong)], Some(&pending)).await, 422)
            .await
            .contains("stopped working")
    );
    expect(app.call("signin/code", &[("code", &code)], Some(&pending)).await, 422).await;
    // A code without the password step signs nobody in.
    expect(app.call("signin/code", &[("code", &code)], None).await, 422).await;
}

async fn turnstile_guards_the_public_forms(backend: Backend) {
    let url = crate::turnstile_double::start().await;
    let app = spawn_app_with(TestOptions {
        postgres: backend == Backend::Postgres,
        turnstile: Some(("1x0000000000000000000000000000000AA".into(), url)),
        ..TestOptions::default()
    })
    .await;
    let signup = [
        ("name", "Ada"),
        ("email", "ada@example.com"),
        ("organization", "Engines"),
        ("slug", "engines"),
        ("password", PASSWORD),
    ];
    let refused = expect(app.call("signup", &signup, None).await, 422).await;
    assert!(refused.contains("turnstile"), "{refused}");
    let mut with_token = signup.to_vec();
    with_token.push(("turnstile", "XXXX.DUMMY.TOKEN.XXXX"));
    for function in ["signin", "signin/link", "password/forgot"] {
        let body = expect(
            app.call(function, &[("email", "ada@example.com"), ("password", PASSWORD)], None)
                .await,
            422,
        )
        .await;
        assert!(body.contains("turnstile"), "{function}: {body}");
    }
    // The refused sign-up left nothing: the address is still free.
    expect(app.call("signup", &with_token, None).await, 200).await;
    expect(
        app.call(
            "signin",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("turnstile", "XXXX.DUMMY.TOKEN.XXXX"),
            ],
            None,
        )
        .await,
        200,
    )
    .await;
    // The page carries the widget and allows Cloudflare's script and frame, and nothing else new.
    let page = app.get("/signin").await;
    let csp = header(&page, "content-security-policy").to_owned();
    let html = expect(page, 200).await;
    assert!(html.contains(r#"class="cf-turnstile""#), "the widget is on the form");
    assert!(csp.contains("frame-src https://challenges.cloudflare.com"), "{csp}");
}

async fn forms_work_without_javascript(backend: Backend) {
    let app = app_on(backend).await;
    sign_up(&app, "ada@example.com", "engines").await;
    let wrong = app
        .post_page(
            "signin",
            &[("email", "ada@example.com"), ("password", "not the password")],
            None,
            "/signin",
        )
        .await;
    assert_eq!(wrong.status(), 302);
    let back = header(&wrong, "location").to_owned();
    assert!(back.contains("/signin?") && back.contains("__err="), "{back}");
    let page = app.client.get(&back).send().await.unwrap();
    let html = expect(page, 200).await;
    assert!(
        html.contains("The email or password is not right."),
        "the error is on the page"
    );
    assert!(html.contains(r#"value="ada@example.com""#), "the address is kept");
    assert!(!html.contains("not the password"));

    let right = app
        .post_page(
            "signin",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
            None,
            "/signin",
        )
        .await;
    assert_eq!(right.status(), 302);
    assert_eq!(header(&right, "location"), "/w/engines");
    let cookie = cookie_of(&right);
    let home = app
        .client
        .get(app.url("/w/engines"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let html = expect(home, 200).await;
    assert!(
        html.contains("Analytical Engines"),
        "the workspace page renders for its member"
    );

    // Signed out, a member page sends the visitor to sign in and back.
    let away = app
        .client
        .get(app.url("/w/engines"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(away.status(), 302);
    assert_eq!(header(&away, "location"), "/signin?next=/w/engines");
}

async fn changing_the_password_or_address_needs_the_current_password_and_sends_a_notice(backend: Backend) {
    let app = app_on(backend).await;
    let here = sign_up(&app, "ada@example.com", "engines").await;
    let elsewhere = cookie_of(&sign_in(&app, "ada@example.com", PASSWORD, None).await);

    // Without, or with a wrong, current password: refused, nothing changes, nothing is sent.
    let missing = app
        .call("account/password", &[("password", NEW_PASSWORD)], Some(&here))
        .await;
    assert!(missing.status().is_client_error(), "{}", missing.status());
    let wrong = app
        .call(
            "account/password",
            &[("current", "not my password"), ("password", NEW_PASSWORD)],
            Some(&here),
        )
        .await;
    assert!(expect(wrong, 422).await.contains("current"));
    expect(sign_in(&app, "ada@example.com", PASSWORD, None).await, 200).await;

    // Re-authenticated: the session goes on under a new id (the old one is dead; `hardening.rs`).
    let changed = app
        .call(
            "account/password",
            &[("current", PASSWORD), ("password", NEW_PASSWORD)],
            Some(&here),
        )
        .await;
    let here = cookie_of(&changed);
    expect(changed, 200).await;
    app.email("ada@example.com", "password was changed", 1).await;
    expect(sessions(&app, &here).await, 200).await;
    expect(sessions(&app, &elsewhere).await, 401).await;
    expect(sign_in(&app, "ada@example.com", NEW_PASSWORD, None).await, 200).await;

    // The address: the current password again; a code goes to the new one, a notice to the old one.
    let wrong = app
        .call(
            "account/email",
            &[("current", PASSWORD), ("email", "ada@new.example")],
            Some(&here),
        )
        .await;
    expect(wrong, 422).await;
    let changed = app
        .call(
            "account/email",
            &[("current", NEW_PASSWORD), ("email", "ada@new.example")],
            Some(&here),
        )
        .await;
    let here = cookie_of(&changed);
    expect(changed, 200).await;
    app.email(
        "ada@example.com",
        "email address of your Ferrodesk account was changed",
        1,
    )
    .await;
    let code = app.email("ada@new.example", "verification", 1).await.code();
    let person = me(&app, &here).await;
    assert_eq!(person["email"], "ada@new.example");
    assert_eq!(person["verified"], false, "the new address is not verified yet");
    expect(app.call("account/verify", &[("code", &code)], Some(&here)).await, 200).await;
    expect(sign_in(&app, "ada@new.example", NEW_PASSWORD, None).await, 200).await;
}

on_both_backends!(
    changing_the_password_or_address_needs_the_current_password_and_sends_a_notice,
    signing_up_creates_a_workspace_signs_in_and_mails_a_code,
    sign_up_refuses_bad_input_field_by_field,
    the_session_cookie_is_host_prefixed_secure_httponly_and_lax,
    signing_in_gives_a_new_session_id_and_the_old_one_is_dead,
    signing_out_ends_the_session_on_the_server,
    sessions_are_listed_and_can_be_ended_one_by_one_or_everywhere,
    a_password_reset_ends_every_session_and_changes_the_password,
    suspending_an_account_ends_its_sessions_at_once,
    unknown_addresses_and_wrong_passwords_get_the_same_answer,
    auth_requests_are_limited_per_client_address_which_headers_cannot_fake,
    behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance,
    magic_links_are_scanner_safe_single_use_and_built_from_the_base_url,
    cross_site_posts_are_refused_sign_in_included,
    every_team_function_checks_the_callers_role,
    the_last_owner_can_be_neither_demoted_nor_removed,
    invitations_are_accepted_with_a_new_or_an_existing_account,
    a_workspace_can_require_an_emailed_code_at_sign_in,
    turnstile_guards_the_public_forms,
    forms_work_without_javascript,
);
