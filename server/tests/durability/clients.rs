//! The writing clients: what each writes, the API it writes through, and the schedule's generator.

use crate::{OWNER, PASSWORD, SLUG, helpers::session_cookie};
use serde_json::Value;
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

/// One acknowledged write, as sent.
pub(crate) struct Write {
    pub(crate) number: i64,
    /// The reply's message id; `None` for a new ticket (its first message is looked up).
    pub(crate) message_id: Option<i64>,
    /// A new ticket's subject (empty for a reply).
    pub(crate) subject: String,
    /// A word found nowhere else: in the body (and a new ticket's subject), searched for.
    pub(crate) marker: String,
    pub(crate) body: String,
}

/// The schedule of kills and what each client writes come from the seeder's generator.
pub(crate) use domain::workspace::seed::Rng;

/// The `n`th marker: `zq` and eight letters. Letters only, so SQLite's FTS5 and PostgreSQL's parser each
/// see one word.
fn marker(n: u64) -> String {
    let mut letters = [b'a'; 8];
    let mut rest = n;
    for letter in letters.iter_mut().rev() {
        *letter = b'a' + (rest % 26) as u8;
        rest /= 26;
    }
    format!("zq{}", String::from_utf8_lossy(&letters))
}

const WORDS: [&str; 12] = [
    "printer", "invoice", "lantern", "orchard", "copper", "violet", "tractor", "harbour", "meadow", "signal", "parcel",
    "ledger",
];

/// A message of one to eleven paragraphs (about 0.1 to 1.2 KB), starting with its marker.
fn body_text(marker: &str, rng: &mut Rng) -> String {
    let mut body = format!("{marker}: a message the durability harness wrote and expects back whole.");
    for line in 1..=rng.below(11) {
        body.push_str(&format!("\n\nLine {line}:"));
        for _ in 0..rng.between(4, 14) {
            body.push(' ');
            body.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
        }
        body.push('.');
    }
    body
}

/// What a client keeps from round to round.
pub(crate) struct ClientState {
    pub(crate) index: usize,
    pub(crate) rng: Rng,
    /// Its tickets' numbers (acknowledged ones only), which it replies to.
    pub(crate) tickets: Vec<i64>,
}

#[derive(Default)]
pub(crate) struct ClientRun {
    pub(crate) writes: Vec<Write>,
    pub(crate) refused: Vec<String>,
    /// Requests that got no whole answer (the server died under them).
    pub(crate) unanswered: usize,
}

enum Outcome<T> {
    Acknowledged(T),
    Refused(String),
    Unanswered,
}

/// Opens tickets and replies to its own until told to stop; a write counts only once its answer is in.
pub(crate) async fn client(
    api: Api,
    mut state: ClientState,
    markers: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> (ClientState, ClientRun) {
    let mut run = ClientRun::default();
    let requester = format!("customer{}@durable.example", state.index);
    while !stop.load(Ordering::SeqCst) {
        let marker = marker(markers.fetch_add(1, Ordering::Relaxed));
        let body = body_text(&marker, &mut state.rng);
        let reply_to = if !state.tickets.is_empty() && state.rng.below(100) < 60 {
            let pick = state.rng.below(state.tickets.len() as u64) as usize;
            Some(state.tickets[pick])
        } else {
            None
        };
        let outcome = match reply_to {
            Some(number) => {
                let answer = api.reply(number, &body).await;
                match answer {
                    Outcome::Acknowledged(message_id) => Outcome::Acknowledged(Write {
                        number,
                        message_id: Some(message_id),
                        subject: String::new(),
                        marker,
                        body,
                    }),
                    Outcome::Refused(why) => Outcome::Refused(why),
                    Outcome::Unanswered => Outcome::Unanswered,
                }
            }
            None => {
                let subject = format!("Durability {marker}");
                let answer = api.create(&subject, &body, &requester).await;
                match answer {
                    Outcome::Acknowledged(number) => {
                        state.tickets.push(number);
                        Outcome::Acknowledged(Write {
                            number,
                            message_id: None,
                            subject,
                            marker,
                            body,
                        })
                    }
                    Outcome::Refused(why) => Outcome::Refused(why),
                    Outcome::Unanswered => Outcome::Unanswered,
                }
            }
        };
        match outcome {
            Outcome::Acknowledged(write) => run.writes.push(write),
            Outcome::Refused(why) => run.refused.push(why),
            Outcome::Unanswered => {
                run.unanswered += 1;
                // The server is gone (or going); do not spin on refused connections until told to stop.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(state.rng.below(15))).await;
    }
    (state, run)
}

/// A fresh HTTP client: the connections of a killed server are of no use to the next one.
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// The server's API as the signed-in owner calls it: same-origin posts, as the app makes them.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) cookie: String,
}

impl Api {
    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .header("cookie", &self.cookie)
    }

    async fn call(&self, function: &str, form: &[(&str, &str)]) -> Result<reqwest::Response, reqwest::Error> {
        self.post(&format!("/api/{function}")).form(form).send().await
    }

    /// Opens a ticket; acknowledged is a 200 whose `Location` names the new ticket.
    async fn create(&self, subject: &str, body: &str, requester: &str) -> Outcome<i64> {
        let form = [
            ("slug", SLUG),
            ("requester_email", requester),
            ("requester_name", "Durable Customer"),
            ("subject", subject),
            ("body", body),
        ];
        let Ok(response) = self.call("w/tickets/create", &form).await else {
            return Outcome::Unanswered;
        };
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.unwrap_or_default();
        if status != 200 {
            return Outcome::Refused(format!("opening a ticket: {status} {text}"));
        }
        match location
            .strip_prefix(&format!("/w/{SLUG}/tickets/"))
            .and_then(|number| number.parse().ok())
        {
            Some(number) => Outcome::Acknowledged(number),
            None => Outcome::Refused(format!("opening a ticket: 200, but the location is {location:?}")),
        }
    }

    /// Replies through the composer; acknowledged is a 201 with the message's id.
    async fn reply(&self, number: i64, body: &str) -> Outcome<i64> {
        let form = reqwest::multipart::Form::new()
            .text("kind", "reply")
            .text("body", body.to_owned());
        let Ok(response) = self
            .post(&format!("/w/{SLUG}/tickets/{number}/reply"))
            .multipart(form)
            .send()
            .await
        else {
            return Outcome::Unanswered;
        };
        let status = response.status().as_u16();
        if status != 201 {
            let text = response.text().await.unwrap_or_default();
            return Outcome::Refused(format!("replying to #{number}: {status} {text}"));
        }
        match response.json::<Value>().await {
            Ok(answer) => match answer["message_id"].as_i64() {
                Some(id) => Outcome::Acknowledged(id),
                None => Outcome::Refused(format!("replying to #{number}: 201 without a message id: {answer}")),
            },
            // The status came but not the id: the client cannot tell which message is its own.
            Err(_) => Outcome::Unanswered,
        }
    }

    /// Whether the cookie still signs the owner in.
    pub(crate) async fn signed_in(&self) -> bool {
        match self.call("me", &[]).await {
            Ok(response) if response.status() == 200 => response.json::<Value>().await.is_ok_and(|me| !me.is_null()),
            _ => false,
        }
    }

    /// The agents' ticket page (its JSON): the status and the text.
    pub(crate) async fn ticket_page(&self, number: i64) -> (u16, String) {
        let number = number.to_string();
        match self.call("w/ticket", &[("slug", SLUG), ("number", &number)]).await {
            Ok(response) => {
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            }
            Err(error) => (0, error.to_string()),
        }
    }
}

/// Signs up the owner, which makes the workspace; returns the session cookie.
pub(crate) async fn sign_up(http: &reqwest::Client, base: &str) -> String {
    let response = http
        .post(format!("{base}/api/signup"))
        .header("origin", base)
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("name", "Olive Owner"),
            ("email", OWNER),
            ("organization", "Durable Goods"),
            ("slug", SLUG),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("the sign-up is answered");
    let status = response.status().as_u16();
    let cookie = session_cookie(&response).map(|(name, value, _)| format!("{name}={value}"));
    let text = response.text().await.unwrap_or_default();
    assert_eq!(status, 200, "signing up: {text}");
    cookie.expect("signing up signs in")
}
