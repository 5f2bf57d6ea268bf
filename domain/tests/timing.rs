//! ASVS 6.3.8: the answer to a sign-in with an unknown email matches a wrong password, in content and in
//! timing. A binary of its own, because cargo runs test binaries one at a time: no other test competes for
//! the two cores while it measures. Medians of interleaved attempts must be within 10 %.

#[path = "storage/helpers.rs"]
mod helpers;

/// Compares the medians of two samples and fails when they are more than 10 % apart.
fn assert_medians_match(
    what: &str,
    env: &helpers::TestEnv,
    mut known: Vec<std::time::Duration>,
    mut unknown: Vec<std::time::Duration>,
) {
    known.sort();
    unknown.sort();
    let (k, u) = (
        known[known.len() / 2].as_secs_f64(),
        unknown[unknown.len() / 2].as_secs_f64(),
    );
    let gap = (k - u).abs() / k.max(u);
    eprintln!(
        "{:?}: {what}, median for a known address {:.3} ms, unknown {:.3} ms, gap {:.1} %",
        env.backend(),
        k * 1e3,
        u * 1e3,
        gap * 100.0
    );
    assert!(gap <= 0.10, "{what}: medians differ by {:.1} %", gap * 100.0);
}

use domain::auth::accounts;
use secrecy::SecretString;

async fn medians_match(env: helpers::TestEnv) {
    let landlord = env.router.landlord();
    let password = SecretString::from("plum orchard at midnight");
    accounts::create(landlord, "ada@example.com", "Ada", &password)
        .await
        .unwrap();
    let wrong = SecretString::from("plum orchard at noon");
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    // Alternate which goes first: the allocator serves argon2's 19 MiB differently to the first and second
    // call of a pair, and that must not be mistaken for (or hide) a difference between the two paths.
    for round in 0..200 {
        let first_known = round % 2 == 0;
        let mut messages = Vec::new();
        for known_email in [first_known, !first_known] {
            let email = if known_email {
                "ada@example.com"
            } else {
                "nobody@example.com"
            };
            let started = std::time::Instant::now();
            let error = accounts::authenticate(landlord, email, &wrong).await.unwrap_err();
            let elapsed = started.elapsed();
            if known_email {
                known.push(elapsed);
            } else {
                unknown.push(elapsed);
            }
            messages.push(error.to_string());
        }
        assert_eq!(messages[0], messages[1], "one message for both");
    }
    assert_medians_match("sign-in", &env, known, unknown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_emails_and_wrong_passwords_take_the_same_time() {
    medians_match(helpers::sqlite_env(Default::default()).await).await;
    if let Some(env) = helpers::postgres_env(Default::default()).await {
        medians_match(env).await;
    }
}

/// Asking for a sign-in link takes as long for an unknown address as for a known one (medians within 10 %).
async fn magic_link_requests_match(env: helpers::TestEnv) {
    use domain::auth::recovery;
    let landlord = env.router.landlord();
    accounts::create(
        landlord,
        "ada@example.com",
        "Ada",
        &SecretString::from("plum orchard at midnight"),
    )
    .await
    .unwrap();
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for round in 0..1000 {
        let first_known = round % 2 == 0;
        for known_email in [first_known, !first_known] {
            let email = if known_email {
                "ada@example.com"
            } else {
                "nobody@example.com"
            };
            let started = std::time::Instant::now();
            recovery::request_magic_link(landlord, email, "http://localhost", chrono::Utc::now())
                .await
                .unwrap();
            let elapsed = started.elapsed();
            if known_email {
                known.push(elapsed);
            } else {
                unknown.push(elapsed);
            }
        }
    }
    assert_medians_match("sign-in link request", &env, known, unknown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_a_sign_in_link_takes_the_same_time_for_unknown_addresses() {
    magic_link_requests_match(helpers::sqlite_env(Default::default()).await).await;
    if let Some(env) = helpers::postgres_env(Default::default()).await {
        magic_link_requests_match(env).await;
    }
}
