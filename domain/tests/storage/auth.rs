use crate::helpers::{TestEnv, queued_emails};
use chrono::{Duration, Utc};
use domain::{
    Error,
    auth::{
        accounts::{self, AuthError, Role},
        password::PasswordError,
        tokens::{self, CodeCheck, Purpose, Subject},
    },
    on_db,
};
use secrecy::{ExposeSecret, SecretString};

testkit::both_backends!(setup = crate::helpers::env; link_tokens_have_256_bits_and_only_their_hash_is_stored, a_link_is_valid_until_it_expires_and_not_a_second_later, twenty_concurrent_redemptions_of_one_link_succeed_exactly_once, checking_a_link_for_the_confirm_page_does_not_use_it_up, the_newest_code_wins_and_a_code_is_bound_to_its_account, five_wrong_guesses_void_a_code, twenty_concurrent_wrong_guesses_count_five_and_the_code_stays_void, a_right_guess_racing_wrong_ones_never_revives_a_used_code, accounts_authenticate_without_telling_unknown_emails_from_wrong_passwords, memberships_give_a_role_per_workspace, mailed_links_and_codes_are_not_readable_from_a_database_dump);

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

const PASSWORD: &str = "plum orchard at midnight";

async fn account(env: &TestEnv, email: &str) -> i64 {
    accounts::create(env.router.landlord(), email, "Ada", &secret(PASSWORD))
        .await
        .unwrap()
        .id
}

/// Everything in the token table, as a dump would show it.
async fn dump(env: &TestEnv) -> String {
    let rows: Vec<(String, String)> = on_db!(env.router.landlord().db(), pool => sqlx::query_as(
        "select purpose, token_hash from one_time_tokens",
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    format!("{rows:?}")
}

async fn link_tokens_have_256_bits_and_only_their_hash_is_stored(env: TestEnv) {
    let landlord = env.router.landlord();
    let id = account(&env, "ada@example.com").await;
    let link = tokens::issue_link(
        landlord,
        Purpose::MagicLink,
        Subject {
            account_id: Some(id),
            ..Default::default()
        },
        Utc::now(),
    )
    .await
    .unwrap();
    let token = link.expose_secret();
    assert_eq!(token.len(), 43, "32 bytes in unpadded base64url");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let code = tokens::issue_code(landlord, Purpose::SignInCode, id, Utc::now())
        .await
        .unwrap();
    assert_eq!(code.expose_secret().len(), 6);
    assert!(code.expose_secret().bytes().all(|b| b.is_ascii_digit()));

    let dump = dump(&env).await;
    assert!(!dump.contains(token), "the link token is not stored");
    assert!(!dump.contains(code.expose_secret()), "the code is not stored: {dump}");
}

async fn a_link_is_valid_until_it_expires_and_not_a_second_later(env: TestEnv) {
    let landlord = env.router.landlord();
    let issued_at = Utc::now();
    let expiry = issued_at + tokens::LIFETIME;
    let link = tokens::issue_link(landlord, Purpose::PasswordReset, Subject::default(), issued_at)
        .await
        .unwrap();
    let token = link.expose_secret();
    assert!(
        tokens::link_is_valid(landlord, Purpose::PasswordReset, token, expiry - Duration::seconds(1))
            .await
            .unwrap()
    );
    assert!(matches!(
        tokens::redeem_link(landlord, Purpose::PasswordReset, token, expiry + Duration::seconds(1)).await,
        Err(Error::NotFound)
    ));
    assert!(
        tokens::redeem_link(landlord, Purpose::PasswordReset, token, expiry - Duration::seconds(1))
            .await
            .is_ok()
    );
    // Nor does a token redeem for another purpose.
    let other = tokens::issue_link(landlord, Purpose::Invitation, Subject::default(), issued_at)
        .await
        .unwrap();
    assert!(
        tokens::redeem_link(landlord, Purpose::MagicLink, other.expose_secret(), issued_at)
            .await
            .is_err()
    );
}

async fn twenty_concurrent_redemptions_of_one_link_succeed_exactly_once(env: TestEnv) {
    let now = Utc::now();
    let id = account(&env, "ada@example.com").await;
    let subject = Subject {
        account_id: Some(id),
        email: Some("ada@example.com"),
        ..Default::default()
    };
    let link = tokens::issue_link(env.router.landlord(), Purpose::MagicLink, subject, now)
        .await
        .unwrap();
    let attempts: Vec<_> = (0..20)
        .map(|_| {
            let router = env.router.clone();
            let token = link.expose_secret().to_owned();
            tokio::spawn(async move { tokens::redeem_link(router.landlord(), Purpose::MagicLink, &token, now).await })
        })
        .collect();
    let mut redeemed = Vec::new();
    for attempt in attempts {
        if let Ok(found) = attempt.await.unwrap() {
            redeemed.push(found);
        }
    }
    assert_eq!(redeemed.len(), 1, "exactly one redemption");
    assert_eq!(redeemed[0].account_id, Some(id));
    assert_eq!(redeemed[0].email.as_deref(), Some("ada@example.com"));
    assert!(
        tokens::redeem_link(env.router.landlord(), Purpose::MagicLink, link.expose_secret(), now)
            .await
            .is_err()
    );
}

async fn checking_a_link_for_the_confirm_page_does_not_use_it_up(env: TestEnv) {
    let landlord = env.router.landlord();
    let now = Utc::now();
    let link = tokens::issue_link(landlord, Purpose::MagicLink, Subject::default(), now)
        .await
        .unwrap();
    for _ in 0..3 {
        assert!(
            tokens::link_is_valid(landlord, Purpose::MagicLink, link.expose_secret(), now)
                .await
                .unwrap()
        );
    }
    assert!(
        tokens::redeem_link(landlord, Purpose::MagicLink, link.expose_secret(), now)
            .await
            .is_ok()
    );
    assert!(
        !tokens::link_is_valid(landlord, Purpose::MagicLink, link.expose_secret(), now)
            .await
            .unwrap()
    );
}

async fn the_newest_code_wins_and_a_code_is_bound_to_its_account(env: TestEnv) {
    let landlord = env.router.landlord();
    let now = Utc::now();
    let x = account(&env, "x@example.com").await;
    let y = account(&env, "y@example.com").await;
    let a = tokens::issue_code(landlord, Purpose::SignInCode, x, now).await.unwrap();
    let b = loop {
        let b = tokens::issue_code(landlord, Purpose::SignInCode, x, now).await.unwrap();
        if b.expose_secret() != a.expose_secret() {
            break b;
        }
    };
    let _for_y = tokens::issue_code(landlord, Purpose::SignInCode, y, now).await.unwrap();
    assert_ne!(
        tokens::check_code(landlord, Purpose::SignInCode, x, &a, now)
            .await
            .unwrap(),
        CodeCheck::Accepted
    );
    assert_ne!(
        tokens::check_code(landlord, Purpose::SignInCode, y, &b, now)
            .await
            .unwrap(),
        CodeCheck::Accepted
    );
    assert_eq!(
        tokens::check_code(landlord, Purpose::SignInCode, x, &b, now)
            .await
            .unwrap(),
        CodeCheck::Accepted
    );
    assert_eq!(
        tokens::check_code(landlord, Purpose::SignInCode, x, &b, now)
            .await
            .unwrap(),
        CodeCheck::NoCode,
        "single use"
    );
}

async fn five_wrong_guesses_void_a_code(env: TestEnv) {
    let landlord = env.router.landlord();
    let now = Utc::now();
    let id = account(&env, "ada@example.com").await;
    let code = tokens::issue_code(landlord, Purpose::EmailVerification, id, now)
        .await
        .unwrap();
    let wrong = secret(if code.expose_secret() == "000000" {
        "111111"
    } else {
        "000000"
    });
    for remaining in (0..5).rev() {
        let check = tokens::check_code(landlord, Purpose::EmailVerification, id, &wrong, now)
            .await
            .unwrap();
        assert_eq!(check, CodeCheck::Wrong { remaining });
    }
    let late = tokens::check_code(landlord, Purpose::EmailVerification, id, &code, now)
        .await
        .unwrap();
    assert_eq!(
        late,
        CodeCheck::NoCode,
        "the right code no longer works after five wrong ones"
    );
    let expired = tokens::issue_code(landlord, Purpose::EmailVerification, id, now)
        .await
        .unwrap();
    let after = now + tokens::LIFETIME + Duration::seconds(1);
    assert_eq!(
        tokens::check_code(landlord, Purpose::EmailVerification, id, &expired, after)
            .await
            .unwrap(),
        CodeCheck::NoCode
    );
}

/// The code's row as the database has it: wrong guesses counted, and whether it has ended.
async fn code_row(env: &TestEnv, account_id: i64) -> (i64, bool) {
    let (attempts, ended): (i64, bool) = on_db!(env.router.landlord().db(), pool => sqlx::query_as(
        "select attempts, consumed_at is not null from one_time_tokens
         where account_id = $1 and purpose = 'email_verification' order by id desc limit 1",
    )
    .bind(account_id)
    .fetch_one(pool)
    .await)
    .unwrap();
    (attempts, ended)
}

fn wrong_for(code: &SecretString) -> SecretString {
    secret(if code.expose_secret() == "000000" {
        "111111"
    } else {
        "000000"
    })
}

async fn twenty_concurrent_wrong_guesses_count_five_and_the_code_stays_void(env: TestEnv) {
    let now = Utc::now();
    let id = account(&env, "ada@example.com").await;
    let code = tokens::issue_code(env.router.landlord(), Purpose::EmailVerification, id, now)
        .await
        .unwrap();
    let wrong = wrong_for(&code);
    let guesses: Vec<_> = (0..20)
        .map(|_| {
            let router = env.router.clone();
            let wrong = wrong.clone();
            tokio::spawn(async move {
                tokens::check_code(router.landlord(), Purpose::EmailVerification, id, &wrong, now).await
            })
        })
        .collect();
    let mut remaining = Vec::new();
    for guess in guesses {
        match guess.await.unwrap().unwrap() {
            CodeCheck::Wrong { remaining: left } => remaining.push(left),
            CodeCheck::NoCode => {}
            CodeCheck::Accepted => panic!("a wrong code was accepted"),
        }
    }
    remaining.sort_unstable();
    assert_eq!(remaining, [0, 1, 2, 3, 4], "exactly five guesses counted, one each");
    assert_eq!(code_row(&env, id).await, (5, true), "void after exactly five");
    for _ in 0..3 {
        assert_eq!(
            tokens::check_code(env.router.landlord(), Purpose::EmailVerification, id, &wrong, now)
                .await
                .unwrap(),
            CodeCheck::NoCode
        );
    }
    assert_eq!(
        tokens::check_code(env.router.landlord(), Purpose::EmailVerification, id, &code, now)
            .await
            .unwrap(),
        CodeCheck::NoCode,
        "the right code stays void"
    );
    assert_eq!(
        code_row(&env, id).await,
        (5, true),
        "stays void, and later guesses count nothing"
    );
}

async fn a_right_guess_racing_wrong_ones_never_revives_a_used_code(env: TestEnv) {
    let id = account(&env, "ada@example.com").await;
    for round in 0..10 {
        let now = Utc::now();
        let code = tokens::issue_code(env.router.landlord(), Purpose::EmailVerification, id, now)
            .await
            .unwrap();
        let wrong = wrong_for(&code);
        let guesses: Vec<_> = (0..8)
            .map(|n| {
                let router = env.router.clone();
                let guess = if n == 3 { code.clone() } else { wrong.clone() };
                tokio::spawn(async move {
                    tokens::check_code(router.landlord(), Purpose::EmailVerification, id, &guess, now).await
                })
            })
            .collect();
        let mut accepted = 0;
        for guess in guesses {
            if guess.await.unwrap().unwrap() == CodeCheck::Accepted {
                accepted += 1;
            }
        }
        assert!(accepted <= 1, "round {round}: used more than once");
        let (attempts, ended) = code_row(&env, id).await;
        assert!(
            ended,
            "round {round}: seven wrong guesses and a right one leave the code ended (attempts {attempts})"
        );
        assert_eq!(
            tokens::check_code(env.router.landlord(), Purpose::EmailVerification, id, &code, now)
                .await
                .unwrap(),
            CodeCheck::NoCode,
            "round {round}: a used or void code never works again"
        );
    }
}

async fn accounts_authenticate_without_telling_unknown_emails_from_wrong_passwords(env: TestEnv) {
    let landlord = env.router.landlord();
    let created = accounts::create(landlord, "  Ada@Example.COM ", "Ada Lovelace", &secret(PASSWORD))
        .await
        .unwrap();
    assert_eq!(created.email, "ada@example.com");
    let again = accounts::create(landlord, "ada@example.com", "Ada", &secret(PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(again, accounts::NewAccountError::Other(Error::Conflict(_))));
    let weak = accounts::create(landlord, "bob@example.com", "Bob", &secret("password123"))
        .await
        .unwrap_err();
    assert!(matches!(
        weak,
        accounts::NewAccountError::Password(PasswordError::TooCommon)
    ));

    let signed_in = accounts::authenticate(landlord, "ADA@example.com", &secret(PASSWORD))
        .await
        .unwrap();
    assert_eq!(signed_in.id, created.id);
    let wrong = accounts::authenticate(landlord, "ada@example.com", &secret("plum orchard at noon"))
        .await
        .unwrap_err();
    let unknown = accounts::authenticate(landlord, "nobody@example.com", &secret(PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(wrong, AuthError::InvalidCredentials));
    assert!(matches!(unknown, AuthError::InvalidCredentials));
    assert_eq!(wrong.to_string(), unknown.to_string(), "one message for both");

    // A weaker hash from an older build is upgraded on sign-in.
    let weak_hash = {
        use argon2::{
            Algorithm, Argon2, Params, Version,
            password_hash::{PasswordHasher, SaltString, rand_core::OsRng},
        };
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        )
        .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string()
    };
    on_db!(landlord.db(), pool => sqlx::query("update accounts set password_hash = $2 where id = $1")
        .bind(created.id)
        .bind(&weak_hash)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
    .unwrap();
    accounts::authenticate(landlord, "ada@example.com", &secret(PASSWORD))
        .await
        .unwrap();
    let stored: String =
        on_db!(landlord.db(), pool => sqlx::query_scalar("select password_hash from accounts where id = $1")
        .bind(created.id)
        .fetch_one(pool)
        .await)
        .unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
}

async fn memberships_give_a_role_per_workspace(env: TestEnv) {
    let landlord = env.router.landlord();
    let id = account(&env, "ada@example.com").await;
    let acme = env.router.create_workspace("acme", "Acme").await.unwrap();
    let globex = env.router.create_workspace("globex", "Globex").await.unwrap();
    accounts::set_membership(landlord, id, acme.id, Role::Owner)
        .await
        .unwrap();
    accounts::set_membership(landlord, id, globex.id, Role::Agent)
        .await
        .unwrap();
    assert_eq!(
        accounts::role_in(landlord, id, acme.id).await.unwrap(),
        Some(Role::Owner)
    );
    assert_eq!(
        accounts::role_in(landlord, id, globex.id).await.unwrap(),
        Some(Role::Agent)
    );
    accounts::set_membership(landlord, id, globex.id, Role::Admin)
        .await
        .unwrap();
    assert_eq!(
        accounts::role_in(landlord, id, globex.id).await.unwrap(),
        Some(Role::Admin)
    );
    let other = account(&env, "bob@example.com").await;
    assert_eq!(accounts::role_in(landlord, other, acme.id).await.unwrap(), None);
}

/// Every text column of the tables that see links and codes pass by, as a dump would show them.
async fn full_dump(env: &TestEnv) -> String {
    let mut dump = String::new();
    for sql in [
        "select purpose || ' ' || token_hash || ' ' || coalesce(email, '') || ' ' || coalesce(payload, '') from one_time_tokens",
        "select kind || ' ' || payload || ' ' || coalesce(last_error, '') from jobs",
        "select email || ' ' || name || ' ' || coalesce(password_hash, '') from accounts",
    ] {
        let rows: Vec<String> =
            on_db!(env.router.landlord().db(), pool => sqlx::query_scalar(sql).fetch_all(pool).await).unwrap();
        dump.push_str(&rows.join("\n"));
    }
    dump
}

async fn mailed_links_and_codes_are_not_readable_from_a_database_dump(env: TestEnv) {
    use domain::auth::recovery;
    let landlord = env.router.landlord();
    account(&env, "ada@example.com").await;
    let ada = accounts::by_email(landlord, "ada@example.com").await.unwrap();
    recovery::request_magic_link(landlord, "ada@example.com", "https://help.example.test", Utc::now())
        .await
        .unwrap();
    recovery::send_sign_in_code(landlord, &ada, Utc::now()).await.unwrap();
    let mails = queued_emails(&env).await;
    let link = mails[0]
        .text
        .split_whitespace()
        .find(|w| w.contains("/signin/link/"))
        .unwrap();
    let token = link.rsplit('/').next().unwrap().to_owned();
    let code: String = mails[1].subject.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6);
    let dump = full_dump(&env).await;
    assert!(!dump.contains(&token), "the link is not in the database");
    assert!(!dump.contains(&code), "the code is not in the database");
    assert!(!dump.contains("Sign in to Ferrodesk"), "queued messages are sealed");
}
