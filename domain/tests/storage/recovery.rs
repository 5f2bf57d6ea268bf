use crate::helpers::{TestEnv, queued_emails};
use chrono::{Duration, Utc};
use domain::{
    Error,
    auth::{
        accounts::{self, AuthError},
        recovery::{self, ResetError},
    },
    mail::Email,
};
use secrecy::SecretString;

testkit::both_backends!(setup = crate::helpers::env; a_magic_link_is_mailed_only_to_an_existing_account_and_signs_it_in_once, a_password_reset_sets_a_new_password_and_a_refused_one_keeps_the_link);

const PASSWORD: &str = "seven swans a-swimming";

fn token_after(text: &str, marker: &str) -> String {
    let start = text.find(marker).unwrap() + marker.len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

async fn a_magic_link_is_mailed_only_to_an_existing_account_and_signs_it_in_once(env: TestEnv) {
    let landlord = env.router.landlord();
    let ada = accounts::create(landlord, "ada@example.com", "Ada", &SecretString::from(PASSWORD))
        .await
        .unwrap();
    let now = Utc::now();
    let malformed = recovery::request_magic_link(landlord, "not an address", "https://help.example.com", now).await;
    assert!(
        matches!(malformed, Err(Error::Invalid(_))),
        "a form error, which says nothing about accounts"
    );
    recovery::request_magic_link(landlord, "nobody@example.com", "https://help.example.com", now)
        .await
        .unwrap();
    let notice = queued_emails(&env).await.pop().unwrap();
    assert_eq!(notice.to, "nobody@example.com");
    assert!(notice.text.contains("no active account") && notice.text.contains("https://help.example.com/signup"));
    assert!(
        !notice.text.contains("/signin/link/"),
        "no link for an address without an account"
    );

    recovery::request_magic_link(landlord, "ADA@example.com", "https://help.example.com/", now)
        .await
        .unwrap();
    let sent: Vec<Email> = queued_emails(&env)
        .await
        .into_iter()
        .filter(|e| e.to == "ada@example.com")
        .collect();
    assert_eq!(sent.len(), 1);
    // Only the configured base URL makes links; nothing from the request can change it.
    assert!(
        sent[0].text.contains("https://help.example.com/signin/link/"),
        "{}",
        sent[0].text
    );
    let token = token_after(&sent[0].text, "/signin/link/");

    let later = now + Duration::minutes(11);
    assert!(
        matches!(
            recovery::redeem_magic_link(landlord, &token, later).await,
            Err(Error::NotFound)
        ),
        "expired"
    );
    let signed_in = recovery::redeem_magic_link(landlord, &token, now).await.unwrap();
    assert_eq!(signed_in.id, ada.id);
    assert!(
        recovery::redeem_magic_link(landlord, &token, now).await.is_err(),
        "single use"
    );
}

async fn a_password_reset_sets_a_new_password_and_a_refused_one_keeps_the_link(env: TestEnv) {
    let landlord = env.router.landlord();
    accounts::create(landlord, "ada@example.com", "Ada", &SecretString::from(PASSWORD))
        .await
        .unwrap();
    let now = Utc::now();
    recovery::request_password_reset(landlord, "ada@example.com", "http://localhost:3000", now)
        .await
        .unwrap();
    let token = token_after(&queued_emails(&env).await[0].text, "/password/reset/");

    let weak = recovery::reset_password(landlord, &token, &SecretString::from("password123"), now).await;
    assert!(matches!(weak, Err(ResetError::Password(_))), "{weak:?}");
    let new_password = SecretString::from("an entirely new phrase for ada");
    recovery::reset_password(landlord, &token, &new_password, now)
        .await
        .expect("the same link still works");
    let old = accounts::authenticate(landlord, "ada@example.com", &SecretString::from(PASSWORD)).await;
    assert!(
        matches!(old, Err(AuthError::InvalidCredentials)),
        "the old password no longer works"
    );
    accounts::authenticate(landlord, "ada@example.com", &new_password)
        .await
        .unwrap();
    let again = recovery::reset_password(
        landlord,
        &token,
        &SecretString::from("yet another fine passphrase"),
        now,
    )
    .await;
    assert!(matches!(again, Err(ResetError::Invalid)), "the link is used up");
}
