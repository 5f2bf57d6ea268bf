//! The outbox relay: mail keeps its order across batches and is relayed when it commits out of id order.

use crate::helpers::{TestEnv, agent, new_ticket, queued_emails};
use chrono::Utc;
use domain::workspace::{outbox, tickets};

testkit::both_backends!(setup = crate::helpers::env; relayed_mail_keeps_its_order_across_batches, mail_that_commits_out_of_id_order_is_still_relayed);

async fn relayed_mail_keeps_its_order_across_batches(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let me = agent(1, "Ada Agent", "acme");
    let now = Utc::now();
    // 450 confirmations: three batches of at most 200.
    for n in 0..450 {
        let ticket = new_ticket(&format!("c{n}@example.com"), &format!("Question {n}"), "Body");
        tickets::create(&ws, &me, &ticket, now).await.unwrap();
    }
    assert_eq!(outbox::waiting(&ws).await.unwrap(), 450);
    assert_eq!(outbox::relay(env.router.landlord(), &ws, now).await.unwrap(), 450);
    let mails: Vec<(String, String)> = queued_emails(&env)
        .await
        .into_iter()
        .map(|m| (m.to, m.subject))
        .collect();
    let expected: Vec<(String, String)> = (0..450)
        .map(|n| (format!("c{n}@example.com"), format!("[#{}] Question {n}", n + 1)))
        .collect();
    assert_eq!(mails, expected, "one job per message, in the outbox's order");
    assert_eq!(outbox::waiting(&ws).await.unwrap(), 0);
    assert_eq!(outbox::relay(env.router.landlord(), &ws, now).await.unwrap(), 0);
}

/// On PostgreSQL a transaction takes its outbox id when it inserts and may commit after a later id; the
/// relay, running meanwhile, must not treat the highest id it read as a watermark (a row with a lower id
/// committing between its read and its delete was dropped unsent). Eight writers hold their transactions
/// open for a moment while the relay runs in a loop: every row reaches the queue, once.
async fn mail_that_commits_out_of_id_order_is_still_relayed(env: TestEnv) {
    const WRITERS: usize = 8;
    const EACH: usize = 60;
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let now = Utc::now();
    let insert = "insert into outbox (payload, created_at) values ($1, $2)";
    let writing = std::sync::atomic::AtomicBool::new(true);
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let ws = ws.clone();
            tokio::spawn(async move {
                for n in 0..EACH {
                    let mail = serde_json::to_string(&domain::mail::Email::new(
                        format!("w{w}n{n}@example.com"),
                        "Hello",
                        "text".into(),
                        "<p>text</p>".into(),
                    ))
                    .unwrap();
                    match ws.db() {
                        domain::db::Db::Postgres(pg) => {
                            let mut tx = pg.pool.begin().await.unwrap();
                            sqlx::query(insert)
                                .bind(&mail)
                                .bind(now)
                                .execute(&mut *tx)
                                .await
                                .unwrap();
                            // Held open a moment, so later ids commit first.
                            tokio::time::sleep(std::time::Duration::from_micros(((w * 7 + n * 13) % 5) as u64 * 300))
                                .await;
                            tx.commit().await.unwrap();
                        }
                        db => {
                            domain::on_write!(db, conn => sqlx::query(insert)
                            .bind(&mail)
                            .bind(now)
                            .execute(conn)
                            .await
                            .map(|done| done.rows_affected()))
                            .unwrap();
                        }
                    }
                }
            })
        })
        .collect();
    let relaying = async {
        let mut relayed = 0;
        while writing.load(std::sync::atomic::Ordering::Relaxed) {
            relayed += outbox::relay(env.router.landlord(), &ws, now).await.unwrap();
            tokio::task::yield_now().await;
        }
        relayed
    };
    let (_, relayed) = tokio::join!(
        async {
            for writer in writers {
                writer.await.unwrap();
            }
            writing.store(false, std::sync::atomic::Ordering::Relaxed);
        },
        relaying
    );
    let relayed = relayed + outbox::relay(env.router.landlord(), &ws, now).await.unwrap();
    assert_eq!(relayed, WRITERS * EACH);
    let mut to: Vec<String> = queued_emails(&env).await.into_iter().map(|mail| mail.to).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), WRITERS * EACH, "every mail queued once");
    assert_eq!(outbox::waiting(&ws).await.unwrap(), 0);
}
