//! Accounts: sign-up and verification, refused sign-ups, password resets, changing the password or address.

use super::*;
use crate::helpers::{Backend, cookie_of, session_cookie};
use app::{
    auth::api::{ChangeEmail, ChangePassword, RequestPasswordReset, ResetPassword, SignUp, VerifyEmail},
    workspace::api::Invite,
};
use serde_json::Value;

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
        .call_fn(
            &Invite {
                slug: "engines".into(),
                email: "bob@example.com".into(),
                role: "agent".into(),
            },
            Some(&cookie),
        )
        .await;
    assert!(expect(refused, 422).await.contains("Verify your email"));

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let body = expect(
        app.call_fn(&VerifyEmail { code: wrong.into() }, Some(&cookie)).await,
        422,
    )
    .await;
    assert!(body.contains("tries left"), "{body}");
    expect(
        app.call_fn(&VerifyEmail { code: code.clone() }, Some(&cookie)).await,
        200,
    )
    .await;
    assert_eq!(me(&app, &cookie).await["verified"], true);
}

async fn sign_up_refuses_bad_input_field_by_field(backend: Backend) {
    let app = app_on(backend).await;
    let attempt = |email: &'static str, slug: &'static str, password: &'static str| {
        let app = &app;
        async move {
            let response = app
                .call_fn(
                    &SignUp {
                        name: "Ada".into(),
                        email: email.into(),
                        organization: "Engines".into(),
                        slug: slug.into(),
                        password: password.into(),
                        turnstile: None,
                    },
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

async fn a_password_reset_ends_every_session_and_changes_the_password(backend: Backend) {
    let app = app_on(backend).await;
    let first = sign_up(&app, "ada@example.com", "engines").await;
    let second = cookie_of(&sign_in(&app, "ada@example.com", PASSWORD, None).await);
    expect(
        app.call_fn(
            &RequestPasswordReset {
                email: "ada@example.com".into(),
                turnstile: None,
            },
            None,
        )
        .await,
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
        app.call_fn(
            &ResetPassword {
                token: token.clone(),
                password: "short".into(),
            },
            None,
        )
        .await,
        422,
    )
    .await;
    let reset = app
        .call_fn(
            &ResetPassword {
                token: token.clone(),
                password: NEW_PASSWORD.into(),
            },
            None,
        )
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
        app.call_fn(
            &ResetPassword {
                token: token.clone(),
                password: NEW_PASSWORD.into(),
            },
            None,
        )
        .await,
        422,
    )
    .await;
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
        .call_fn(
            &ChangePassword {
                current: "not my password".into(),
                password: NEW_PASSWORD.into(),
            },
            Some(&here),
        )
        .await;
    assert!(expect(wrong, 422).await.contains("current"));
    expect(sign_in(&app, "ada@example.com", PASSWORD, None).await, 200).await;

    // Re-authenticated: the session goes on under a new id (the old one is dead; `hardening.rs`).
    let changed = app
        .call_fn(
            &ChangePassword {
                current: PASSWORD.into(),
                password: NEW_PASSWORD.into(),
            },
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
        .call_fn(
            &ChangeEmail {
                current: PASSWORD.into(),
                email: "ada@new.example".into(),
            },
            Some(&here),
        )
        .await;
    expect(wrong, 422).await;
    let changed = app
        .call_fn(
            &ChangeEmail {
                current: NEW_PASSWORD.into(),
                email: "ada@new.example".into(),
            },
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
    expect(app.call_fn(&VerifyEmail { code: code.clone() }, Some(&here)).await, 200).await;
    expect(sign_in(&app, "ada@new.example", NEW_PASSWORD, None).await, 200).await;
}

testkit::both_backends!(
    changing_the_password_or_address_needs_the_current_password_and_sends_a_notice,
    signing_up_creates_a_workspace_signs_in_and_mails_a_code,
    sign_up_refuses_bad_input_field_by_field,
    a_password_reset_ends_every_session_and_changes_the_password,
);
