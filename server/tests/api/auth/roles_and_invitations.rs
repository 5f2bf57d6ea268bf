//! The team: role checks on every team function, the last owner, and invitations.

use super::*;
use crate::helpers::Backend;
use app::workspace::api::{
    self as workspace, AcceptInvitation, ChangeRole, Invitation, Invite, RemoveMember, SetSignInCode, WorkspaceHome,
};
use serde_json::Value;

async fn every_team_function_checks_the_callers_role(backend: Backend) {
    let app = app_on(backend).await;
    let Team { owner, agent, stranger } = team(&app).await;
    let members: Value = serde_json::from_str(
        &expect(
            app.call_fn(&workspace::Team { slug: "alpha".into() }, Some(&agent))
                .await,
            200,
        )
        .await,
    )
    .unwrap();
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
    expect(app.call_fn(&workspace::Team { slug: "alpha".into() }, None).await, 401).await;
    expect(
        app.call_fn(&WorkspaceHome { slug: "alpha".into() }, Some(&stranger))
            .await,
        404,
    )
    .await;
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
    expect(
        app.call_fn(
            &SetSignInCode {
                slug: "alpha".into(),
                required: true,
            },
            Some(&owner),
        )
        .await,
        200,
    )
    .await;
}

async fn the_last_owner_can_be_neither_demoted_nor_removed(backend: Backend) {
    let app = app_on(backend).await;
    let Team { owner, .. } = team(&app).await;
    let team: Value = serde_json::from_str(
        &expect(
            app.call_fn(&workspace::Team { slug: "alpha".into() }, Some(&owner))
                .await,
            200,
        )
        .await,
    )
    .unwrap();
    let me = team["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["is_me"] == true)
        .unwrap()["account_id"]
        .to_string();
    let demote = app
        .call_fn(
            &ChangeRole {
                slug: "alpha".into(),
                account_id: me.parse().unwrap(),
                role: "agent".into(),
            },
            Some(&owner),
        )
        .await;
    assert!(expect(demote, 422).await.contains("owner"));
    expect(
        app.call_fn(
            &RemoveMember {
                slug: "alpha".into(),
                account_id: me.parse().unwrap(),
            },
            Some(&owner),
        )
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
        app.call_fn(
            &Invite {
                slug: "alpha".into(),
                email: "stranger@example.com".into(),
                role: "admin".into(),
            },
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
        serde_json::from_str(&expect(app.call_fn(&Invitation { token: token.clone() }, None).await, 200).await)
            .unwrap();
    assert_eq!(shown["account_exists"], true);
    let accept = AcceptInvitation {
        token: token.clone(),
        name: None,
        password: None,
    };
    expect(app.call_fn(&accept, Some(&agent)).await, 422).await;
    expect(app.call_fn(&accept, Some(&stranger)).await, 200).await;
    let person = me(&app, &stranger).await;
    let slugs: Vec<&str> = person["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs.len(), 2, "{person}");
    assert!(slugs.contains(&"alpha") && slugs.contains(&"beta"));
    expect(app.call_fn(&accept, Some(&stranger)).await, 422).await;
}

testkit::both_backends!(
    every_team_function_checks_the_callers_role,
    the_last_owner_can_be_neither_demoted_nor_removed,
    invitations_are_accepted_with_a_new_or_an_existing_account,
);
