//! Accounts and sign-in over HTTP, each test on SQLite and on PostgreSQL: sessions and their cookie,
//! rotation, sign-out and revocation, enumeration, rate limits, magic links, emailed codes, invitations,
//! roles, Turnstile on the forms and the same forms without JavaScript. Numbers are the rows of docs/security.md.

mod accounts;
mod forms;
mod roles_and_invitations;
mod session_lifecycle;
mod signing_in;

use crate::helpers::{Backend, TestApp, TestOptions, cookie_of, session_cookie, spawn_app_with};
use app::{
    auth::api::{Me, MySessions, SignIn, VerifyEmail},
    workspace::api::{AcceptInvitation, Invite},
};
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
    expect(app.call_fn(&VerifyEmail { code }, Some(&cookie)).await, 200).await;
    cookie
}

async fn sign_in(app: &TestApp, email: &str, password: &str, cookie: Option<&str>) -> reqwest::Response {
    app.call_fn(
        &SignIn {
            email: email.into(),
            password: password.into(),
            turnstile: None,
            next: None,
        },
        cookie,
    )
    .await
}

/// `me` as the holder of `cookie`: the person's JSON, or `Value::Null` when not signed in.
async fn me(app: &TestApp, cookie: &str) -> Value {
    let body = expect(app.call_fn(&Me {}, Some(cookie)).await, 200).await;
    serde_json::from_str(&body).unwrap()
}

async fn sessions(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.call_fn(&MySessions {}, Some(cookie)).await
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
        app.call_fn(
            &Invite {
                slug: "alpha".into(),
                email: "agent@example.com".into(),
                role: "agent".into(),
            },
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
        .call_fn(
            &AcceptInvitation {
                token: token.clone(),
                name: Some("Agent Smith".into()),
                password: Some(PASSWORD.into()),
            },
            None,
        )
        .await;
    let agent = cookie_of(&accepted);
    expect(accepted, 200).await;
    let stranger = sign_up_verified(app, "stranger@example.com", "beta").await;
    Team { owner, agent, stranger }
}
