use crate::helpers::{TestEnv, queued_emails};
use chrono::Utc;
use domain::{
    auth::{
        accounts::{self, Role},
        registration::{self, Registration, RegistrationError},
        tokens::CodeCheck,
    },
    jobs, mail,
};
use secrecy::SecretString;

testkit::both_backends!(setup = crate::helpers::env; signing_up_makes_an_account_a_workspace_an_owner_and_two_emails, the_emailed_code_verifies_the_address, bad_input_is_reported_on_its_field_and_leaves_nothing_behind);

const PASSWORD: &str = "lanterns over the harbour";

fn input<'a>(email: &'a str, slug: &'a str, password: &'a SecretString) -> Registration<'a> {
    Registration {
        name: "Ada <b>Lovelace</b>",
        email,
        organization: "Analytical Engines",
        slug,
        password,
    }
}

async fn signing_up_makes_an_account_a_workspace_an_owner_and_two_emails(env: TestEnv) {
    let password = SecretString::from(PASSWORD);
    let done = registration::register(
        &env.router,
        input("Ada@Example.com", "engines", &password),
        "https://help.example.com",
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(done.account.email, "ada@example.com");
    assert_eq!(
        done.account.email_verified_at, None,
        "unverified until the code is entered"
    );
    assert_eq!(done.workspace.slug, "engines");
    let landlord = env.router.landlord();
    assert_eq!(
        accounts::role_in(landlord, done.account.id, done.workspace.id)
            .await
            .unwrap(),
        Some(Role::Owner)
    );
    env.router
        .open(done.workspace.id)
        .await
        .expect("the workspace has its database");

    let emails = queued_emails(&env).await;
    assert_eq!(emails.len(), 2);
    assert!(emails.iter().all(|e| e.to == "ada@example.com"));
    let welcome = &emails[0];
    assert!(welcome.text.contains("https://help.example.com/w/engines"));
    let html = welcome.html.as_deref().unwrap();
    assert!(
        html.contains("Ada &lt;b&gt;Lovelace&lt;/b&gt;") && !html.contains("<b>Lovelace"),
        "names are escaped: {html}"
    );
    assert!(emails[1].subject.contains("verification code"));
    assert_eq!(jobs::pending(landlord, mail::JOB_KIND).await.unwrap(), 2);
}

async fn the_emailed_code_verifies_the_address(env: TestEnv) {
    let password = SecretString::from(PASSWORD);
    let done = registration::register(
        &env.router,
        input("ada@example.com", "engines", &password),
        "http://x",
        Utc::now(),
    )
    .await
    .unwrap();
    let text = queued_emails(&env).await[1].text.clone();
    let code: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
    assert_eq!(code.len(), 6, "{text}");
    let landlord = env.router.landlord();
    let check = registration::verify_email(landlord, done.account.id, &SecretString::from(code.clone()), Utc::now())
        .await
        .unwrap();
    assert_eq!(check, CodeCheck::Accepted);
    assert!(
        accounts::by_id(landlord, done.account.id)
            .await
            .unwrap()
            .email_verified_at
            .is_some()
    );
    let again = registration::verify_email(landlord, done.account.id, &SecretString::from(code), Utc::now())
        .await
        .unwrap();
    assert_eq!(again, CodeCheck::NoCode, "the code works once");
}

async fn bad_input_is_reported_on_its_field_and_leaves_nothing_behind(env: TestEnv) {
    let password = SecretString::from(PASSWORD);
    let weak = SecretString::from("password123");
    let now = Utc::now();
    let cases: [(Registration<'_>, &str); 4] = [
        (input("ada@example.com", "Engines!", &password), "slug"),
        (input("ada@example.com", "admin", &password), "slug"),
        (input("not-an-email", "engines", &password), "email"),
        (input("ada@example.com", "engines", &weak), "password"),
    ];
    for (registration, expected) in cases {
        match registration::register(&env.router, registration, "http://x", now).await {
            Err(RegistrationError::Field { field, message }) => {
                assert_eq!(field, expected, "{message}");
                assert!(!message.is_empty());
            }
            other => panic!("expected an error on {expected}: {other:?}"),
        }
    }
    let landlord = env.router.landlord();
    assert!(landlord.workspaces().await.unwrap().is_empty());

    registration::register(
        &env.router,
        input("ada@example.com", "engines", &password),
        "http://x",
        now,
    )
    .await
    .unwrap();
    let taken_slug = registration::register(
        &env.router,
        input("bob@example.com", "engines", &password),
        "http://x",
        now,
    )
    .await;
    assert!(
        matches!(taken_slug, Err(RegistrationError::Field { field: "slug", .. })),
        "{taken_slug:?}"
    );
    let taken_email = registration::register(
        &env.router,
        input("ADA@example.com", "other-co", &password),
        "http://x",
        now,
    )
    .await;
    assert!(
        matches!(taken_email, Err(RegistrationError::Field { field: "email", .. })),
        "{taken_email:?}"
    );
    assert_eq!(
        landlord.workspaces().await.unwrap().len(),
        1,
        "no workspace is left from failed sign-ups"
    );
    assert!(accounts::by_email(landlord, "bob@example.com").await.is_err());
}
