use crate::helpers::TestEnv;
use chrono::{Duration, Utc};
use domain::{
    jobs,
    mail::{self, Email, Mailer},
};
use testkit::smtp_sink::{self, SmtpSink};

testkit::both_backends!(setup = crate::helpers::env; a_queued_message_commits_or_rolls_back_with_its_transaction, messages_reach_a_real_smtp_server_with_text_and_html_parts, an_smtp_outage_loses_nothing_and_duplicates_nothing, without_an_smtp_server_messages_are_written_as_eml_files, two_workers_at_once_send_each_message_once);

fn email(n: usize) -> Email {
    Email {
        to: format!("person{n}@example.com"),
        subject: format!("Ticket #{n} received"),
        text: format!("We got your request number {n}."),
        html: Some(format!("<p>We got your request number <b>{n}</b>.</p>")),
        message_id: Some(format!("<ticket-{n}@ferrodesk.test>")),
        in_reply_to: None,
    }
}

async fn queue(env: &TestEnv, emails: impl IntoIterator<Item = Email>) {
    let landlord = env.router.landlord();
    let mut tx = landlord.db().begin().await.unwrap();
    for email in emails {
        mail::queue(landlord, &mut tx, &email, None, Utc::now()).await.unwrap();
    }
    tx.commit().await.unwrap();
}

fn subjects(inbox: &smtp_sink::Inbox) -> Vec<String> {
    let mut subjects: Vec<String> = inbox
        .lock()
        .unwrap()
        .iter()
        .filter_map(|message| {
            message
                .lines()
                .find_map(|l| l.strip_prefix("Subject: ").map(str::to_owned))
        })
        .collect();
    subjects.sort();
    subjects
}

async fn a_queued_message_commits_or_rolls_back_with_its_transaction(env: TestEnv) {
    let landlord = env.router.landlord();
    let mut tx = landlord.db().begin().await.unwrap();
    mail::queue(landlord, &mut tx, &email(1), None, Utc::now())
        .await
        .unwrap();
    drop(tx);
    assert_eq!(
        jobs::pending(landlord, mail::JOB_KIND).await.unwrap(),
        0,
        "rolled back with its transaction"
    );
    queue(&env, [email(2)]).await;
    assert_eq!(jobs::pending(landlord, mail::JOB_KIND).await.unwrap(), 1);
}

async fn messages_reach_a_real_smtp_server_with_text_and_html_parts(env: TestEnv) {
    let sink = SmtpSink::start(0, Default::default()).await;
    let mailer = Mailer::new(
        Some(&sink.url()),
        "Ferrodesk <help@ferrodesk.test>",
        &env.config.data_dir,
    )
    .unwrap();
    queue(&env, [email(1)]).await;
    let delivered = mail::deliver_due(env.router.landlord(), &mailer, Utc::now())
        .await
        .unwrap();
    assert_eq!(delivered, 1);
    let message = sink.inbox.lock().unwrap()[0].clone();
    for expected in [
        "Subject: Ticket #1 received",
        "From: Ferrodesk <help@ferrodesk.test>",
        "To: person1@example.com",
        "Message-ID: <ticket-1@ferrodesk.test>",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "We got your request number 1.",
    ] {
        assert!(message.contains(expected), "{expected} in {message}");
    }
    assert_eq!(jobs::pending(env.router.landlord(), mail::JOB_KIND).await.unwrap(), 0);
}

async fn an_smtp_outage_loses_nothing_and_duplicates_nothing(env: TestEnv) {
    let landlord = env.router.landlord();
    let sink = SmtpSink::start(0, Default::default()).await;
    let mailer = Mailer::new(Some(&sink.url()), "help@ferrodesk.test", &env.config.data_dir).unwrap();
    let start = Utc::now();

    let (port, inbox) = sink.stop().await;
    queue(&env, (1..=5).map(email)).await;
    assert_eq!(
        mail::deliver_due(landlord, &mailer, start).await.unwrap(),
        0,
        "the server is down"
    );
    assert_eq!(
        jobs::pending(landlord, mail::JOB_KIND).await.unwrap(),
        5,
        "nothing lost"
    );
    assert_eq!(
        mail::deliver_due(landlord, &mailer, start + Duration::seconds(5))
            .await
            .unwrap(),
        0,
        "backing off"
    );

    let sink = SmtpSink::start(port, inbox).await;
    let mut now = start;
    for _ in 0..10 {
        now += Duration::minutes(1);
        mail::deliver_due(landlord, &mailer, now).await.unwrap();
        if jobs::pending(landlord, mail::JOB_KIND).await.unwrap() == 0 {
            break;
        }
    }
    assert_eq!(
        jobs::pending(landlord, mail::JOB_KIND).await.unwrap(),
        0,
        "everything went once the server was back"
    );
    let expected: Vec<String> = (1..=5).map(|n| format!("Ticket #{n} received")).collect();
    assert_eq!(subjects(&sink.inbox), expected, "each message exactly once");
}

async fn without_an_smtp_server_messages_are_written_as_eml_files(env: TestEnv) {
    let mailer = Mailer::new(None, "help@ferrodesk.test", &env.config.data_dir).unwrap();
    queue(&env, [email(7)]).await;
    assert_eq!(
        mail::deliver_due(env.router.landlord(), &mailer, Utc::now())
            .await
            .unwrap(),
        1
    );
    let dir = env.config.data_dir.join("mail");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].extension().unwrap(), "eml");
    let message = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        message.contains("Subject: Ticket #7 received") && message.contains("text/html"),
        "{message}"
    );
}

async fn two_workers_at_once_send_each_message_once(env: TestEnv) {
    let sink = SmtpSink::start(0, Default::default()).await;
    let mailer = Mailer::new(Some(&sink.url()), "help@ferrodesk.test", &env.config.data_dir).unwrap();
    queue(&env, (1..=20).map(email)).await;
    let now = Utc::now();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (router, mailer) = (env.router.clone(), mailer.clone());
            tokio::spawn(async move { mail::deliver_due(router.landlord(), &mailer, now).await.unwrap() })
        })
        .collect();
    let mut delivered = 0;
    for worker in workers {
        delivered += worker.await.unwrap();
    }
    assert_eq!(delivered, 20);
    let mut expected: Vec<String> = (1..=20).map(|n| format!("Ticket #{n} received")).collect();
    expected.sort();
    assert_eq!(subjects(&sink.inbox), expected);
}
