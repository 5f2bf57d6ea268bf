//! The checks after a kill: acknowledged writes stored whole and searchable, nothing half-written, mail.

use crate::{
    Ledger, SHOWN_FAILURES, SLUG,
    clients::Write,
    harness::Harness,
    inspect::{
        COMMON_CHECKS, POSTGRES_CHECKS, SQLITE_CHECKS, eml_message_id, mail_key, message_body, open_workspace,
        sqlite_integrity, sqlite_pragmas, synchronous_commit,
    },
};
use domain::{Landlord, db::Db, on_db};
use std::{
    collections::{HashMap, HashSet},
    ffi::OsStr,
};

impl Harness {
    /// Checks the stored data with the server dead (see the module's comment); panics listing what is wrong.
    pub(crate) async fn verify(&mut self, ledger: &Ledger, new: &[Write]) -> Stored {
        let landlord = match Landlord::open(self.config.clone()).await {
            Ok(landlord) => landlord,
            Err(error) => panic!(
                "the landlord does not open after the kill: {error}\n{}",
                self.server.log_tail()
            ),
        };
        let mut failures: Vec<String> = Vec::new();
        let mut postgres_fsync = None;
        match landlord.db() {
            Db::Sqlite(sqlite) => {
                failures.extend(sqlite_integrity("the landlord", sqlite).await);
                failures.extend(sqlite_pragmas("the landlord", sqlite).await);
            }
            Db::Postgres(pg) => {
                failures.extend(synchronous_commit("the landlord", &pg.pool).await);
                postgres_fsync = Some(
                    sqlx::query_scalar::<_, String>("show fsync")
                        .fetch_one(&pg.pool)
                        .await
                        .expect("show fsync"),
                );
            }
        }
        let ws = open_workspace(&landlord, &self.config).await;
        let postgres = match &ws {
            Db::Sqlite(sqlite) => {
                failures.extend(sqlite_integrity("the workspace", sqlite).await);
                failures.extend(sqlite_pragmas("the workspace", sqlite).await);
                false
            }
            Db::Postgres(pg) => {
                failures.extend(synchronous_commit("the workspace", &pg.pool).await);
                true
            }
        };

        // What is stored.
        let tickets: Vec<(i64, i64, String)> = on_db!(&ws, conn => sqlx::query_as(
            "select id, number, subject from tickets",
        )
        .fetch_all(conn)
        .await)
        .expect("the tickets read");
        let messages: Vec<(i64, i64, String)> = on_db!(&ws, conn => sqlx::query_as(
            "select id, ticket_id, kind from messages",
        )
        .fetch_all(conn)
        .await)
        .expect("the messages read");
        let by_number: HashMap<i64, (i64, &str)> = tickets
            .iter()
            .map(|(id, number, subject)| (*number, (*id, subject.as_str())))
            .collect();
        let number_of: HashMap<i64, i64> = tickets.iter().map(|(id, number, _)| (*id, *number)).collect();
        let ticket_of: HashMap<i64, i64> = messages.iter().map(|(id, ticket, _)| (*id, *ticket)).collect();
        let mut first_message: HashMap<i64, i64> = HashMap::new();
        for (id, ticket, _) in &messages {
            first_message
                .entry(*ticket)
                .and_modify(|first| *first = (*first).min(*id))
                .or_insert(*id);
        }

        // Every acknowledged write so far is there.
        let mut found = 0;
        for (number, subject) in &ledger.tickets {
            match by_number.get(number) {
                None => failures.push(format!("acknowledged ticket #{number} ({subject}) is not stored")),
                Some((_, stored)) if stored != subject => {
                    failures.push(format!("ticket #{number} is stored as {stored:?}, not {subject:?}"))
                }
                Some(_) => found += 1,
            }
        }
        for (number, id) in &ledger.replies {
            let ticket = by_number.get(number).map(|(ticket, _)| *ticket);
            match ticket_of.get(id) {
                None => failures.push(format!("acknowledged reply {id} to #{number} is not stored")),
                Some(stored) if Some(*stored) != ticket => {
                    failures.push(format!("reply {id} is stored on ticket id {stored}, not on #{number}"))
                }
                Some(_) => found += 1,
            }
        }

        // This round's writes are whole and searchable.
        let search = if postgres {
            "select count(*) from ticket_search where document @@ to_tsquery('simple', $1) and ticket_id = $2"
        } else {
            "select count(*) from ticket_search where ticket_search match $1 and rowid = $2"
        };
        for write in new {
            let Some((ticket, _)) = by_number.get(&write.number) else {
                continue; // reported above
            };
            let message = match write.message_id {
                Some(id) => id,
                None => match first_message.get(ticket) {
                    Some(first) => *first,
                    None => continue, // a ticket without a message: reported below
                },
            };
            let what = match write.message_id {
                Some(id) => format!("reply {id} to #{}", write.number),
                None => format!("the first message of #{}", write.number),
            };
            match message_body(&ws, message).await {
                None => failures.push(format!("{what} is not stored")),
                Some(body) if body != write.body => failures.push(format!(
                    "{what} is not whole: {} bytes stored, {} sent",
                    body.len(),
                    write.body.len()
                )),
                Some(_) => {}
            }
            let hits: i64 = on_db!(&ws, conn => sqlx::query_scalar(search)
                .bind(write.marker.as_str())
                .bind(*ticket)
                .fetch_one(conn)
                .await)
            .expect("the search row reads");
            if hits != 1 {
                failures.push(format!("the search row of #{} does not find {what}", write.number));
            }
        }

        // Nothing is half-written.
        let checks = if postgres { POSTGRES_CHECKS } else { SQLITE_CHECKS };
        for (what, sql) in COMMON_CHECKS.iter().chain(checks) {
            let wrong: i64 = on_db!(&ws, conn => sqlx::query_scalar(sql).fetch_one(conn).await)
                .unwrap_or_else(|error| panic!("{what}: {error}"));
            if wrong != 0 {
                failures.push(format!("{what}: {wrong}"));
            }
        }

        // Mail: each stored reply's is somewhere, and there is none about a message that is not stored.
        let mail = self.mail_keys(&landlord, &ws, &mut failures).await;
        for (id, ticket, kind) in &messages {
            let Some(number) = number_of.get(ticket) else {
                continue; // a message without a ticket: reported above
            };
            if kind.as_str() == "reply" && !mail.contains(&format!("{SLUG}.{number}.{id}")) {
                failures.push(format!(
                    "message {id} of #{number} is stored, but its mail is in neither the outbox, the queue nor the \
                     mail directory"
                ));
            }
        }
        for key in &mail {
            let Some((number, id)) = key
                .strip_prefix(&format!("{SLUG}."))
                .and_then(|rest| rest.split_once('.'))
            else {
                continue;
            };
            let (Ok(number), Ok(id)) = (number.parse::<i64>(), id.parse::<i64>()) else {
                continue;
            };
            let stored = by_number
                .get(&number)
                .is_some_and(|(ticket, _)| ticket_of.get(&id) == Some(ticket));
            if !stored {
                failures.push(format!(
                    "there is mail about message {id} of #{number}, which is not stored"
                ));
            }
        }

        ws.close().await;
        landlord.db().close().await;
        if !failures.is_empty() {
            panic!(
                "{} problem(s) after the kill:\n  {}\n{}",
                failures.len(),
                failures[..failures.len().min(SHOWN_FAILURES)].join("\n  "),
                self.server.log_tail()
            );
        }
        Stored {
            tickets: tickets.len(),
            messages: messages.len(),
            mails: mail.len(),
            found,
            postgres_fsync,
        }
    }

    /// The keys (`slug.number.message`, from the Message-ID) of every message in the workspace's outbox, the
    /// landlord's job queue and the mail directory.
    async fn mail_keys(&mut self, landlord: &Landlord, ws: &Db, failures: &mut Vec<String>) -> HashSet<String> {
        let mut keys = HashSet::new();
        let outbox: Vec<String> = on_db!(ws, conn => sqlx::query_scalar("select payload from outbox")
            .fetch_all(conn)
            .await)
        .expect("the outbox reads");
        for payload in outbox {
            match serde_json::from_str::<domain::mail::Email>(&payload) {
                Ok(email) => keys.extend(email.message_id.as_deref().and_then(mail_key)),
                Err(error) => failures.push(format!("an outbox entry does not parse: {error}")),
            }
        }
        let queued: Vec<String> = on_db!(landlord.db(), conn => sqlx::query_scalar(
            "select payload from jobs where kind = 'email'",
        )
        .fetch_all(conn)
        .await)
        .expect("the job queue reads");
        for payload in queued {
            match domain::mail::open_payload(landlord, &payload) {
                Ok(email) => keys.extend(email.message_id.as_deref().and_then(mail_key)),
                Err(error) => failures.push(format!("a queued email does not open: {error}")),
            }
        }
        let dir = self.config.data_dir.join("mail");
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name();
            if self.mail_files.contains_key(&name) || entry.path().extension() != Some(OsStr::new("eml")) {
                continue;
            }
            let key = eml_message_id(&entry.path()).as_deref().and_then(mail_key);
            self.mail_files.insert(name, key);
        }
        keys.extend(self.mail_files.values().flatten().cloned());
        keys
    }
}

/// What a check found stored.
pub(crate) struct Stored {
    pub(crate) tickets: usize,
    pub(crate) messages: usize,
    pub(crate) mails: usize,
    /// Acknowledged writes found (so far, all of them).
    pub(crate) found: usize,
    pub(crate) postgres_fsync: Option<String>,
}
