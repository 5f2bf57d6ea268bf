use crate::helpers::{TestEnv, agent, all_tickets, new_ticket};
use domain::workspace::{audit, customers, settings, tickets};

testkit::both_backends!(setup = crate::helpers::env; every_read_of_one_workspace_sees_only_its_own_data);

async fn every_read_of_one_workspace_sees_only_its_own_data(env: TestEnv) {
    let a = env.router.create_workspace("acme", "Acme").await.unwrap();
    let b = env.router.create_workspace("globex", "Globex").await.unwrap();
    let canaries = [(a.id, "CANARY-ACME-7f3a"), (b.id, "CANARY-GLOBEX-91c2")];
    for (id, canary) in canaries {
        let ws = env.router.open(id).await.unwrap();
        let customer = customers::create(&ws, &format!("{canary}@example.com"), canary)
            .await
            .unwrap();
        let ticket = new_ticket(&customer.email, canary, &format!("body {canary}"));
        tickets::create(&ws, &agent(1, canary, canary), &ticket, chrono::Utc::now())
            .await
            .unwrap();
        settings::set(&ws, "brand", canary).await.unwrap();
        audit::record(&ws, canary, "ticket.created", Some(canary), Some("192.0.2.1"))
            .await
            .unwrap();
    }

    for (id, own) in canaries {
        let other = canaries.iter().find(|(other, _)| *other != id).unwrap().1;
        let ws = env.router.open(id).await.unwrap();
        let mut seen = String::new();
        for customer in customers::list(&ws).await.unwrap() {
            seen += &format!("{customer:?}");
        }
        for ticket in all_tickets(&ws).await {
            seen += &format!("{ticket:?}");
            seen += &format!("{:?}", tickets::thread(&ws, ticket.id, false).await.unwrap());
        }
        seen += &settings::get(&ws, "brand").await.unwrap().unwrap_or_default();
        for entry in audit::list(&ws).await.unwrap() {
            seen += &format!("{entry:?}");
        }
        assert!(seen.contains(own), "{own} is visible in its own workspace");
        assert!(!seen.contains(other), "{other} leaked into {own}'s workspace: {seen}");
        // Ids are per database: the same id in another workspace is that workspace's own row.
        let first = tickets::get(&ws, tickets::TicketNumber(1)).await.unwrap();
        assert_eq!(first.subject, own);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_role_cannot_connect_to_another_workspaces_database() {
    let Some(env) = crate::helpers::postgres_env(Default::default()).await else {
        return;
    };
    let a = env.router.create_workspace("acme", "Acme").await.unwrap();
    let b = env.router.create_workspace("globex", "Globex").await.unwrap();
    let (role_a, db_a, db_b) = (a.db_name.clone().unwrap(), a.db_name.unwrap(), b.db_name.unwrap());
    let admin = url::Url::parse(&env.pg_admin_url().unwrap()).unwrap();
    let connect = |user: &str, db: &str| {
        let mut url = admin.clone();
        url.set_username(user).unwrap();
        url.set_password(None).unwrap();
        url.set_path(&format!("/{db}"));
        async move { sqlx::PgPool::connect(url.as_str()).await }
    };

    // On its own database a workspace role works (this server trusts local connections, so the check
    // below is the CONNECT privilege, not a password).
    connect(&role_a, &db_a)
        .await
        .expect("A's role connects to A's database")
        .close()
        .await;
    let refused = connect(&role_a, &db_b)
        .await
        .expect_err("A's role must not reach B's database");
    assert!(refused.to_string().contains("permission denied"), "{refused}");

    // Nor can any other role: CONNECT was revoked from PUBLIC.
    let admin_pool = sqlx::PgPool::connect(admin.as_str()).await.unwrap();
    let outsider = format!("{}_outsider", env.config.name_prefix);
    sqlx::raw_sql(&format!("create role {outsider} login"))
        .execute(&admin_pool)
        .await
        .unwrap();
    let refused = connect(&outsider, &db_a).await.expect_err("PUBLIC may not connect");
    assert!(refused.to_string().contains("permission denied"), "{refused}");
}
