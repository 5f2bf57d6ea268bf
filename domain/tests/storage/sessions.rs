//! Sign-ins with an injected clock: the idle timeout and the absolute lifetime are enforced by the server,
//! and ending a sign-in (one, all, or by suspending the account) takes effect on the next check.

use crate::helpers::TestEnv;
use chrono::{Duration, Utc};
use domain::auth::{
    accounts,
    sign_ins::{self, Device, SessionPolicy},
};
use domain::on_db;
use secrecy::SecretString;
use tower_sessions_core::{
    SessionStore as _,
    session::{Id, Record},
};

testkit::both_backends!(setup = crate::helpers::env; session_rows_hold_a_hash_of_the_cookie_id_never_the_id, a_sign_in_is_found_by_its_live_cookie_session, the_check_brings_the_active_memberships, an_idle_sign_in_ends_after_the_idle_timeout, a_busy_sign_in_ends_at_the_absolute_lifetime, ending_sign_ins_one_all_or_by_suspension);

const POLICY: SessionPolicy = SessionPolicy {
    idle: Duration::minutes(30),
    absolute: Duration::hours(12),
};

async fn account(env: &TestEnv, email: &str) -> i64 {
    let password = SecretString::from("violet tractor umbrella 93".to_owned());
    accounts::create(env.router.landlord(), email, "Ada", &password)
        .await
        .unwrap()
        .id
}

async fn an_idle_sign_in_ends_after_the_idle_timeout(env: TestEnv) {
    let landlord = env.router.landlord();
    let id = account(&env, "ada@example.com").await;
    let start = Utc::now();
    let sign_in = sign_ins::start(landlord, id, Device::default(), start).await.unwrap();
    let just_before = start + POLICY.idle - Duration::seconds(1);
    assert!(
        sign_ins::check(landlord, &sign_in, POLICY, just_before)
            .await
            .unwrap()
            .is_some()
    );
    // That check counted as activity: the idle clock restarts from it.
    let after_activity = just_before + POLICY.idle - Duration::seconds(1);
    assert!(
        sign_ins::check(landlord, &sign_in, POLICY, after_activity)
            .await
            .unwrap()
            .is_some()
    );
    let idle_too_long = after_activity + POLICY.idle + Duration::seconds(1);
    assert!(
        sign_ins::check(landlord, &sign_in, POLICY, idle_too_long)
            .await
            .unwrap()
            .is_none()
    );
    // Ended for good: even an earlier clock does not bring it back.
    assert!(
        sign_ins::check(landlord, &sign_in, POLICY, start)
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_busy_sign_in_ends_at_the_absolute_lifetime(env: TestEnv) {
    let landlord = env.router.landlord();
    let id = account(&env, "ada@example.com").await;
    let start = Utc::now();
    let sign_in = sign_ins::start(landlord, id, Device::default(), start).await.unwrap();
    // Active every 10 minutes, never idle.
    let mut now = start;
    while now + Duration::minutes(10) < start + POLICY.absolute {
        now += Duration::minutes(10);
        assert!(
            sign_ins::check(landlord, &sign_in, POLICY, now)
                .await
                .unwrap()
                .is_some(),
            "at {now}"
        );
    }
    let past = start + POLICY.absolute + Duration::seconds(1);
    assert!(
        sign_ins::check(landlord, &sign_in, POLICY, past)
            .await
            .unwrap()
            .is_none()
    );
}

async fn ending_sign_ins_one_all_or_by_suspension(env: TestEnv) {
    let landlord = env.router.landlord();
    let ada = account(&env, "ada@example.com").await;
    let bob = account(&env, "bob@example.com").await;
    let now = Utc::now();
    let device = || Device {
        ip: Some("203.0.113.9"),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)\r\nInjected: header"),
    };
    let a1 = sign_ins::start(landlord, ada, device(), now).await.unwrap();
    let a2 = sign_ins::start(landlord, ada, device(), now).await.unwrap();
    let a3 = sign_ins::start(landlord, ada, device(), now).await.unwrap();
    let b1 = sign_ins::start(landlord, bob, device(), now).await.unwrap();
    assert_eq!(a1.len(), 32, "128 random bits, hex");
    let listed = sign_ins::list(landlord, ada).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(
        !listed[0].user_agent.as_ref().unwrap().contains('\n'),
        "control characters are dropped"
    );

    // Bob cannot end Ada's sign-in.
    assert!(matches!(
        sign_ins::end_own(landlord, bob, &a1).await,
        Err(domain::Error::NotFound)
    ));
    sign_ins::end_own(landlord, ada, &a1).await.unwrap();
    assert!(sign_ins::check(landlord, &a1, POLICY, now).await.unwrap().is_none());
    assert_eq!(sign_ins::end_all(landlord, ada, Some(&a2)).await.unwrap(), 1);
    assert!(sign_ins::check(landlord, &a3, POLICY, now).await.unwrap().is_none());
    assert!(sign_ins::check(landlord, &a2, POLICY, now).await.unwrap().is_some());

    sign_ins::disable_account(landlord, ada, now).await.unwrap();
    assert!(sign_ins::check(landlord, &a2, POLICY, now).await.unwrap().is_none());
    assert!(sign_ins::list(landlord, ada).await.unwrap().is_empty());
    assert!(
        sign_ins::check(landlord, &b1, POLICY, now).await.unwrap().is_some(),
        "Bob is untouched"
    );

    // Housekeeping removes what has expired and keeps the rest.
    let later = now + POLICY.idle + Duration::seconds(1);
    assert_eq!(sign_ins::purge_expired(landlord, POLICY, later).await.unwrap(), 1);
    assert!(sign_ins::list(landlord, bob).await.unwrap().is_empty());
}

/// The check that every signed-in request runs reads the memberships with the sign-in: the same list, in the
/// same order, as `accounts::memberships`, without suspended workspaces; none for an account without any.
async fn the_check_brings_the_active_memberships(env: TestEnv) {
    let landlord = env.router.landlord();
    let ada = account(&env, "ada@example.com").await;
    let bob = account(&env, "bob@example.com").await;
    let now = Utc::now();
    let mut workspaces = Vec::new();
    for (slug, name, role) in [
        ("zeta", "Zeta", accounts::Role::Owner),
        ("alpha", "Alpha", accounts::Role::Agent),
        ("beta", "Beta", accounts::Role::Admin),
    ] {
        let workspace = env.router.create_workspace(slug, name).await.unwrap();
        accounts::set_membership(landlord, ada, workspace.id, role)
            .await
            .unwrap();
        workspaces.push(workspace);
    }
    env.router.suspend(workspaces[2].id).await.unwrap();
    let signed_in = |account: i64| async move {
        let mut record = Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        landlord.session_store().create(&mut record).await.unwrap();
        let sign_in = sign_ins::start(landlord, account, Device::default(), now)
            .await
            .unwrap();
        sign_ins::attach_session(landlord, &sign_in, &record.id.to_string())
            .await
            .unwrap();
        record.id.to_string()
    };
    let session = signed_in(ada).await;
    let checked = sign_ins::check_session(landlord, &session, POLICY, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(checked.account.id, ada);
    assert_eq!(checked.memberships, accounts::memberships(landlord, ada).await.unwrap());
    let listed: Vec<(&str, accounts::Role)> = checked.memberships.iter().map(|m| (m.slug.as_str(), m.role)).collect();
    assert_eq!(
        listed,
        vec![("alpha", accounts::Role::Agent), ("zeta", accounts::Role::Owner)]
    );

    let lonely = signed_in(bob).await;
    let checked = sign_ins::check_session(landlord, &lonely, POLICY, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((checked.account.id, checked.memberships.len()), (bob, 0));
    assert!(
        sign_ins::check_session(landlord, "no such session", POLICY, now)
            .await
            .unwrap()
            .is_none()
    );
}

/// A request finds its sign-in by the cookie session's id: only a live session record that the sign-in
/// was attached to leads to it.
async fn a_sign_in_is_found_by_its_live_cookie_session(env: TestEnv) {
    let landlord = env.router.landlord();
    let store = landlord.session_store();
    let ada = account(&env, "ada@example.com").await;
    let now = Utc::now();
    let record = |minutes: i64| Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::minutes(minutes),
    };
    let mut live = record(60);
    store.create(&mut live).await.unwrap();
    let mut expired = record(-1);
    store.create(&mut expired).await.unwrap();
    let mut other = record(60);
    store.create(&mut other).await.unwrap();

    let sign_in = sign_ins::start(landlord, ada, Device::default(), now).await.unwrap();
    assert!(
        sign_ins::check_session(landlord, &live.id.to_string(), POLICY, now)
            .await
            .unwrap()
            .is_none(),
        "not attached yet"
    );
    sign_ins::attach_session(landlord, &sign_in, &live.id.to_string())
        .await
        .unwrap();
    let found = sign_ins::check_session(landlord, &live.id.to_string(), POLICY, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.sign_in.id.as_str(), found.account.id), (sign_in.as_str(), ada));
    assert!(
        sign_ins::check_session(landlord, &other.id.to_string(), POLICY, now)
            .await
            .unwrap()
            .is_none(),
        "another session carries no sign-in"
    );

    // An expired session record leads nowhere, even to a sign-in that is still good.
    let second = sign_ins::start(landlord, ada, Device::default(), now).await.unwrap();
    sign_ins::attach_session(landlord, &second, &expired.id.to_string())
        .await
        .unwrap();
    assert!(
        sign_ins::check_session(landlord, &expired.id.to_string(), POLICY, now)
            .await
            .unwrap()
            .is_none()
    );
    // Ending the sign-in deletes its session: the cookie leads nowhere after that.
    sign_ins::end(landlord, &sign_in).await.unwrap();
    assert!(store.load(&live.id).await.unwrap().is_none());
    assert!(
        sign_ins::check_session(landlord, &live.id.to_string(), POLICY, now)
            .await
            .unwrap()
            .is_none()
    );
}

/// A copy of the landlord (or a log of its statements) names no usable session: the session rows and the
/// sign-ins hold a hash of the cookie's id, never the id.
async fn session_rows_hold_a_hash_of_the_cookie_id_never_the_id(env: TestEnv) {
    let landlord = env.router.landlord();
    let store = landlord.session_store();
    let ada = account(&env, "ada@example.com").await;
    let now = Utc::now();
    let mut record = Record {
        id: Id::default(),
        data: [("k".to_owned(), serde_json::json!("v"))].into_iter().collect(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    store.create(&mut record).await.unwrap();
    let cookie = record.id.to_string();
    let sign_in = sign_ins::start(landlord, ada, Device::default(), now).await.unwrap();
    sign_ins::attach_session(landlord, &sign_in, &cookie).await.unwrap();

    let sessions = match landlord.db().backend() {
        domain::db::Backend::Sqlite => "tower_sessions",
        domain::db::Backend::Postgres => "tower_sessions.session",
    };
    let stored: Vec<String> = on_db!(landlord.db(), pool => sqlx::query_scalar(&format!("select id from {sessions}"))
        .fetch_all(pool)
        .await)
    .unwrap();
    let attached: Vec<Option<String>> =
        on_db!(landlord.db(), pool => sqlx::query_scalar("select session_id from sign_ins")
        .fetch_all(pool)
        .await)
        .unwrap();
    let hashed = domain::landlord::stored_session_id(&record.id).to_string();
    assert_eq!(stored, vec![hashed.clone()]);
    assert_eq!(attached, vec![Some(hashed)]);
    assert!(!stored.contains(&cookie));

    // Through the store and the check, the cookie's id still finds its session and its sign-in.
    let loaded = store
        .load(&record.id)
        .await
        .unwrap()
        .expect("the session loads by its cookie id");
    assert_eq!(
        (loaded.id, loaded.data.get("k")),
        (record.id, Some(&serde_json::json!("v")))
    );
    let found = sign_ins::check_session(landlord, &cookie, POLICY, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.sign_in.id, sign_in);
    // The stored form is no cookie: presented as one, it finds nothing.
    assert!(store.load(&stored_id(&stored[0])).await.unwrap().is_none());
    assert!(
        sign_ins::check_session(landlord, &stored[0], POLICY, now)
            .await
            .unwrap()
            .is_none()
    );
    sign_ins::end(landlord, &sign_in).await.unwrap();
    assert!(
        store.load(&record.id).await.unwrap().is_none(),
        "ending the sign-in deletes its session"
    );
}

fn stored_id(text: &str) -> Id {
    text.parse().unwrap()
}
