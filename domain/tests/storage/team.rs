use crate::helpers::{TestEnv, queued_emails};
use chrono::Utc;
use domain::{
    Error, Workspace,
    auth::{
        accounts::{self, Account, Role},
        credentials,
        team::{self, AcceptError, Acceptor},
    },
};
use secrecy::SecretString;

testkit::both_backends!(setup = crate::helpers::env; an_invitee_accepts_with_a_new_account_and_joins_with_the_invited_role, a_refused_acceptance_does_not_use_up_the_invitation, roles_limit_who_may_invite_and_manage, the_last_owner_can_be_neither_demoted_nor_removed, two_owners_demoting_each_other_at_once_leave_one_owner, the_team_held_in_memory_follows_every_change_to_it);

const PASSWORD: &str = "copper kettle on the stove";

async fn owner(env: &TestEnv, verified: bool) -> (Account, Workspace) {
    let landlord = env.router.landlord();
    let account = accounts::create(
        landlord,
        "owner@example.com",
        "Olive Owner",
        &SecretString::from(PASSWORD),
    )
    .await
    .unwrap();
    if verified {
        accounts::mark_email_verified(landlord, account.id, Utc::now())
            .await
            .unwrap();
    }
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    accounts::set_membership(landlord, account.id, workspace.id, Role::Owner)
        .await
        .unwrap();
    (accounts::by_id(landlord, account.id).await.unwrap(), workspace)
}

/// The token in the newest invitation mailed to `to`.
async fn invitation_token(env: &TestEnv, to: &str) -> String {
    let email = queued_emails(env)
        .await
        .into_iter()
        .rev()
        .find(|e| e.to == to)
        .expect("an invitation");
    let start = email.text.find("/invitations/").unwrap() + "/invitations/".len();
    email.text[start..].split_whitespace().next().unwrap().to_owned()
}

async fn an_invitee_accepts_with_a_new_account_and_joins_with_the_invited_role(env: TestEnv) {
    let landlord = env.router.landlord();
    let (owner, workspace) = owner(&env, true).await;
    team::invite(
        landlord,
        &owner,
        &workspace,
        "New.Agent@Example.com",
        Role::Agent,
        "https://help.example.com",
        Utc::now(),
    )
    .await
    .unwrap();
    let token = invitation_token(&env, "new.agent@example.com").await;
    let password = SecretString::from("marmalade on thursdays");
    let (joined, account) = team::accept(
        landlord,
        &token,
        Acceptor::New {
            name: "Nia Agent",
            password: &password,
        },
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(joined, workspace.id);
    assert_eq!(account.email, "new.agent@example.com");
    assert!(account.email_verified_at.is_some(), "the link proved the address");
    assert_eq!(
        accounts::role_in(landlord, account.id, workspace.id).await.unwrap(),
        Some(Role::Agent)
    );
    let listed: Vec<(String, Role)> = team::members(landlord, workspace.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.email, m.role))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("new.agent@example.com".into(), Role::Agent),
            ("owner@example.com".into(), Role::Owner)
        ]
    );
    let again = team::accept(
        landlord,
        &token,
        Acceptor::New {
            name: "Someone",
            password: &password,
        },
        Utc::now(),
    )
    .await;
    assert!(matches!(again, Err(AcceptError::Invalid)), "a link works once");
    let twice = team::invite(
        landlord,
        &owner,
        &workspace,
        "new.agent@example.com",
        Role::Admin,
        "http://x",
        Utc::now(),
    )
    .await;
    assert!(matches!(twice, Err(Error::Field { field: "email", .. })));
}

async fn a_refused_acceptance_does_not_use_up_the_invitation(env: TestEnv) {
    let landlord = env.router.landlord();
    let (owner, workspace) = owner(&env, true).await;
    team::invite(
        landlord,
        &owner,
        &workspace,
        "bea@example.com",
        Role::Admin,
        "http://x",
        Utc::now(),
    )
    .await
    .unwrap();
    let token = invitation_token(&env, "bea@example.com").await;
    let weak = SecretString::from("password123");
    let refused = team::accept(
        landlord,
        &token,
        Acceptor::New {
            name: "Bea",
            password: &weak,
        },
        Utc::now(),
    )
    .await;
    assert!(matches!(refused, Err(AcceptError::NewAccount(_))), "{refused:?}");

    let stranger = accounts::create(
        landlord,
        "someone.else@example.com",
        "Sam",
        &SecretString::from(PASSWORD),
    )
    .await
    .unwrap();
    let wrong_address = team::accept(landlord, &token, Acceptor::Existing(&stranger), Utc::now()).await;
    assert!(matches!(wrong_address, Err(AcceptError::OtherAddress)));

    let bea = accounts::create(landlord, "bea@example.com", "Bea", &SecretString::from(PASSWORD))
        .await
        .unwrap();
    let (_, account) = team::accept(landlord, &token, Acceptor::Existing(&bea), Utc::now())
        .await
        .unwrap();
    assert_eq!(
        accounts::role_in(landlord, account.id, workspace.id).await.unwrap(),
        Some(Role::Admin)
    );
}

async fn roles_limit_who_may_invite_and_manage(env: TestEnv) {
    let landlord = env.router.landlord();
    let (unverified_owner, workspace) = owner(&env, false).await;
    let refused = team::invite(
        landlord,
        &unverified_owner,
        &workspace,
        "x@example.com",
        Role::Agent,
        "http://x",
        Utc::now(),
    )
    .await;
    assert!(
        matches!(refused, Err(Error::Field { field: "email", ref message }) if message.contains("Verify")),
        "{refused:?}"
    );

    let make = |email: &'static str, role: Role| {
        let router = env.router.clone();
        let workspace = workspace.clone();
        async move {
            let landlord = router.landlord();
            let account = accounts::create(landlord, email, "Member", &SecretString::from(PASSWORD))
                .await
                .unwrap();
            accounts::mark_email_verified(landlord, account.id, Utc::now())
                .await
                .unwrap();
            accounts::set_membership(landlord, account.id, workspace.id, role)
                .await
                .unwrap();
            accounts::by_id(landlord, account.id).await.unwrap()
        }
    };
    let admin = make("admin@example.com", Role::Admin).await;
    let agent = make("agent@example.com", Role::Agent).await;
    let now = Utc::now();
    assert!(
        team::invite(
            landlord,
            &agent,
            &workspace,
            "y@example.com",
            Role::Agent,
            "http://x",
            now
        )
        .await
        .is_err()
    );
    assert!(
        team::invite(
            landlord,
            &admin,
            &workspace,
            "y@example.com",
            Role::Owner,
            "http://x",
            now
        )
        .await
        .is_err()
    );
    team::invite(
        landlord,
        &admin,
        &workspace,
        "y@example.com",
        Role::Agent,
        "http://x",
        now,
    )
    .await
    .unwrap();
    assert!(
        team::change_role(landlord, admin.id, workspace.id, unverified_owner.id, Role::Agent)
            .await
            .is_err()
    );
    assert!(
        team::remove(landlord, admin.id, workspace.id, unverified_owner.id)
            .await
            .is_err()
    );
    assert!(team::remove(landlord, agent.id, workspace.id, admin.id).await.is_err());
    team::change_role(landlord, admin.id, workspace.id, agent.id, Role::Admin)
        .await
        .unwrap();
    team::remove(landlord, agent.id, workspace.id, agent.id)
        .await
        .expect("anyone may leave");
    // Someone outside the workspace cannot even see it.
    let outsider = make("out@example.com", Role::Agent).await;
    let other = env.router.create_workspace("globex", "Globex").await.unwrap();
    assert!(matches!(
        team::remove(landlord, outsider.id, other.id, outsider.id).await,
        Err(Error::NotFound)
    ));
}

async fn the_last_owner_can_be_neither_demoted_nor_removed(env: TestEnv) {
    let landlord = env.router.landlord();
    let (owner, workspace) = owner(&env, true).await;
    assert!(matches!(
        team::change_role(landlord, owner.id, workspace.id, owner.id, Role::Admin).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        team::remove(landlord, owner.id, workspace.id, owner.id).await,
        Err(Error::Invalid(_))
    ));
    let second = accounts::create(landlord, "second@example.com", "Sol", &SecretString::from(PASSWORD))
        .await
        .unwrap();
    accounts::set_membership(landlord, second.id, workspace.id, Role::Owner)
        .await
        .unwrap();
    team::change_role(landlord, owner.id, workspace.id, owner.id, Role::Admin)
        .await
        .unwrap();
    assert!(
        team::remove(landlord, second.id, workspace.id, second.id)
            .await
            .is_err(),
        "now Sol is the last owner"
    );
}

async fn two_owners_demoting_each_other_at_once_leave_one_owner(env: TestEnv) {
    let landlord = env.router.landlord();
    let (first, workspace) = owner(&env, true).await;
    let second = accounts::create(landlord, "second@example.com", "Sol", &SecretString::from(PASSWORD))
        .await
        .unwrap();
    accounts::set_membership(landlord, second.id, workspace.id, Role::Owner)
        .await
        .unwrap();
    for _ in 0..10 {
        let attempts: Vec<_> = [first.id, second.id]
            .into_iter()
            .map(|id| {
                let router = env.router.clone();
                let workspace = workspace.id;
                tokio::spawn(async move { team::change_role(router.landlord(), id, workspace, id, Role::Admin).await })
            })
            .collect();
        let mut demoted = 0;
        for attempt in attempts {
            if attempt.await.unwrap().is_ok() {
                demoted += 1;
            }
        }
        assert_eq!(demoted, 1, "exactly one of the two steps down");
        let owners = team::members(landlord, workspace.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.role == Role::Owner)
            .count();
        assert_eq!(owners, 1);
        // Make both owners again for the next round.
        for id in [first.id, second.id] {
            accounts::set_membership(landlord, id, workspace.id, Role::Owner)
                .await
                .unwrap();
        }
    }
}

/// The version the owner's membership of `workspace` reads, and the team as of it.
async fn team_as_seen_by(env: &TestEnv, viewer: i64, workspace: &Workspace) -> (i64, Vec<(String, Role)>) {
    let landlord = env.router.landlord();
    let membership = accounts::memberships(landlord, viewer)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.workspace_id == workspace.id.get())
        .expect("a member");
    let team = team::members_at(landlord, workspace.id, membership.team_version)
        .await
        .unwrap();
    let listed = team.iter().map(|m| (m.email.clone(), m.role)).collect();
    (membership.team_version, listed)
}

async fn the_team_held_in_memory_follows_every_change_to_it(env: TestEnv) {
    let landlord = env.router.landlord();
    let (owner, workspace) = owner(&env, true).await;
    let other = env.router.create_workspace("other", "Other").await.unwrap();
    accounts::set_membership(landlord, owner.id, other.id, Role::Owner)
        .await
        .unwrap();
    let (start, team) = team_as_seen_by(&env, owner.id, &workspace).await;
    assert_eq!(team, vec![("owner@example.com".to_owned(), Role::Owner)]);
    let (other_start, _) = team_as_seen_by(&env, owner.id, &other).await;

    let agent = accounts::create(landlord, "agent@example.com", "Ada", &SecretString::from(PASSWORD))
        .await
        .unwrap();
    accounts::set_membership(landlord, agent.id, workspace.id, Role::Agent)
        .await
        .unwrap();
    let (joined, team) = team_as_seen_by(&env, owner.id, &workspace).await;
    assert!(joined > start, "a new member moves the version on");
    assert_eq!(
        team,
        vec![
            ("agent@example.com".to_owned(), Role::Agent),
            ("owner@example.com".to_owned(), Role::Owner)
        ]
    );
    // Read again at the same version: the same team (now from memory).
    assert_eq!(team_as_seen_by(&env, owner.id, &workspace).await, (joined, team));

    team::change_role(landlord, owner.id, workspace.id, agent.id, Role::Admin)
        .await
        .unwrap();
    let (promoted, team) = team_as_seen_by(&env, owner.id, &workspace).await;
    assert!(promoted > joined, "a new role moves the version on");
    assert_eq!(team[0], ("agent@example.com".to_owned(), Role::Admin));

    let agent = accounts::by_id(landlord, agent.id).await.unwrap();
    credentials::change_email(
        landlord,
        &agent,
        &SecretString::from(PASSWORD),
        "ada@example.com",
        Utc::now(),
    )
    .await
    .unwrap();
    let (moved, team) = team_as_seen_by(&env, owner.id, &workspace).await;
    assert!(moved > promoted, "a new address moves the version on");
    assert_eq!(team[0], ("ada@example.com".to_owned(), Role::Admin));

    team::remove(landlord, owner.id, workspace.id, agent.id).await.unwrap();
    let (removed, team) = team_as_seen_by(&env, owner.id, &workspace).await;
    assert!(removed > moved, "a removal moves the version on");
    assert_eq!(team, vec![("owner@example.com".to_owned(), Role::Owner)]);

    let (other_now, other_team) = team_as_seen_by(&env, owner.id, &other).await;
    assert_eq!(other_now, other_start, "another workspace's team did not change");
    assert_eq!(other_team, vec![("owner@example.com".to_owned(), Role::Owner)]);
}
