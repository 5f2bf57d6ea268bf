//! ASVS 6.3.8: the answer to a sign-in with an unknown email matches a wrong password, in content and in
//! timing; so does asking for a sign-in link. A binary of its own, because cargo runs test binaries one at a
//! time: no other test competes for the two cores while it measures. Medians must be within 10 %.

#[path = "storage/helpers.rs"]
mod helpers;

use domain::auth::{accounts, recovery};
use secrecy::SecretString;
use std::time::{Duration, Instant};

const KNOWN: &str = "ada@example.com";
const UNKNOWN: &str = "nobody@example.com";

/// Runs `attempt` for the known and the unknown address `rounds` times, interleaved, and fails when the
/// answers of a pair differ or the medians are more than 10 % apart.
///
/// Which goes first alternates: the allocator serves argon2's 19 MiB differently to the first and second call
/// of a pair, and that must not be mistaken for (or hide) a difference between the two paths.
async fn assert_alike(what: &str, env: &helpers::TestEnv, rounds: usize, mut attempt: impl AsyncFnMut(&str) -> String) {
    let (mut known, mut unknown): (Vec<Duration>, Vec<Duration>) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [KNOWN, UNKNOWN]
        } else {
            [UNKNOWN, KNOWN]
        };
        let mut answers = Vec::new();
        for email in order {
            let started = Instant::now();
            answers.push(attempt(email).await);
            let elapsed = started.elapsed();
            if email == KNOWN {
                known.push(elapsed)
            } else {
                unknown.push(elapsed)
            }
        }
        assert_eq!(answers[0], answers[1], "{what}: one answer for both");
    }
    known.sort();
    unknown.sort();
    let (k, u) = (known[rounds / 2].as_secs_f64(), unknown[rounds / 2].as_secs_f64());
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

async fn with_ada(env: &helpers::TestEnv) {
    let password = SecretString::from("plum orchard at midnight");
    accounts::create(env.router.landlord(), KNOWN, "Ada", &password)
        .await
        .unwrap();
}

async fn sign_in_alike(env: helpers::TestEnv) {
    with_ada(&env).await;
    let wrong = SecretString::from("plum orchard at noon");
    let landlord = env.router.landlord();
    assert_alike("sign-in", &env, 200, async |email| {
        accounts::authenticate(landlord, email, &wrong)
            .await
            .unwrap_err()
            .to_string()
    })
    .await;
}

async fn link_requests_alike(env: helpers::TestEnv) {
    with_ada(&env).await;
    let landlord = env.router.landlord();
    // Sub-millisecond work is noisy: more rounds than for sign-in.
    assert_alike("sign-in link request", &env, 1000, async |email| {
        format!(
            "{:?}",
            recovery::request_magic_link(landlord, email, "http://localhost", chrono::Utc::now()).await
        )
    })
    .await;
}

/// The two measurements take turns: argon2 hashing beside the sub-millisecond link requests would be noise
/// in their medians.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_emails_and_wrong_passwords_take_the_same_time() {
    let _turn = ONE_AT_A_TIME.lock().await;
    sign_in_alike(helpers::sqlite_env(Default::default()).await).await;
    if let Some(env) = helpers::postgres_env(Default::default()).await {
        sign_in_alike(env).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_a_sign_in_link_takes_the_same_time_for_unknown_addresses() {
    let _turn = ONE_AT_A_TIME.lock().await;
    link_requests_alike(helpers::sqlite_env(Default::default()).await).await;
    if let Some(env) = helpers::postgres_env(Default::default()).await {
        link_requests_alike(env).await;
    }
}
