//! Outgoing mail: queued as jobs, sent by a worker.
//!
//! With an SMTP URL (`smtp://` plain or STARTTLS with `?tls=required`, `smtps://` TLS) mail goes to that
//! server. The embedded default writes each message as an `.eml` file under `<data_dir>/mail/`, so a fresh
//! checkout works with no mail server. Every message has a plain-text part, and an HTML part when given.
//! A message the server refuses for good (5xx) is dropped and logged; anything else is retried.

use crate::{Landlord, Result, db::Tx, jobs};
use chrono::{DateTime, Utc};
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart, SinglePart, header::ContentType},
};
use serde::{Deserialize, Serialize};
use std::{path::Path, time::Duration};

pub const JOB_KIND: &str = "email";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// `<id@host>`: lets replies and later messages of one ticket thread in mail clients.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
}

impl Email {
    /// A message with a plain-text and an HTML part, outside any thread.
    pub fn new(to: impl Into<String>, subject: impl Into<String>, text: String, html: String) -> Email {
        Email {
            to: to.into(),
            subject: subject.into(),
            text,
            html: Some(html),
            message_id: None,
            in_reply_to: None,
        }
    }
}

/// What a queued message is sealed for: messages carry sign-in links and codes, so the job table holds
/// them encrypted, and a copy of the database does not reveal them.
pub(crate) const PAYLOAD_CONTEXT: &str = "ferrodesk queued email v1";

/// Queues a message in the transaction of the change that causes it, sealed under the master key.
pub async fn queue(
    landlord: &Landlord,
    tx: &mut Tx,
    email: &Email,
    workspace_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    jobs::enqueue(tx, JOB_KIND, &sealed(landlord, email)?, workspace_id, now).await
}

/// Queues many messages of one workspace (or of none) in `tx`, in this order, with one statement.
pub async fn queue_all(
    landlord: &Landlord,
    tx: &mut Tx,
    emails: &[Email],
    workspace_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    let payloads = emails
        .iter()
        .map(|email| sealed(landlord, email))
        .collect::<Result<Vec<_>>>()?;
    jobs::enqueue_all(tx, JOB_KIND, &payloads, workspace_id, now).await
}

/// A message as its job's payload: sealed, as it waits in the queue.
fn sealed(landlord: &Landlord, email: &Email) -> Result<String> {
    let payload = serde_json::to_vec(email).map_err(|e| crate::Error::Invalid(e.to_string()))?;
    Ok(landlord.keys().seal(&payload, PAYLOAD_CONTEXT))
}

/// Opens a queued message's payload.
pub fn open_payload(landlord: &Landlord, payload: &str) -> Result<Email> {
    let plain = landlord.keys().open(payload, PAYLOAD_CONTEXT)?;
    serde_json::from_slice(&plain).map_err(|e| crate::Error::Invalid(e.to_string()))
}

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Files {
        transport: AsyncFileTransport<Tokio1Executor>,
        from: Mailbox,
        dir: std::path::PathBuf,
    },
}

#[derive(Debug)]
pub enum SendError {
    /// Will not work however often it is tried (bad address, a 5xx answer).
    Permanent(String),
    /// May work later (the server is down, a 4xx answer, a timeout).
    Transient(String),
}

impl Mailer {
    /// An SMTP mailer for `url`, or the `.eml` directory under `data_dir` when there is none.
    pub fn new(smtp_url: Option<&str>, from: &str, data_dir: &Path) -> Result<Mailer> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| crate::Error::Config(format!("mail_from: {e}")))?;
        match smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| crate::Error::Config(format!("smtp_url: {e}")))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build();
                Ok(Mailer::Smtp { transport, from })
            }
            None => {
                let dir = data_dir.join("mail");
                crate::crypto::create_private_dir(&dir)?;
                Ok(Mailer::Files {
                    transport: AsyncFileTransport::new(dir.clone()),
                    from,
                    dir,
                })
            }
        }
    }

    pub async fn send(&self, email: &Email) -> std::result::Result<(), SendError> {
        let (Mailer::Smtp { from, .. } | Mailer::Files { from, .. }) = self;
        let message = build(from, email).map_err(SendError::Permanent)?;
        match self {
            Mailer::Smtp { transport, .. } => transport.send(message).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    SendError::Permanent(e.to_string())
                } else {
                    SendError::Transient(e.to_string())
                }
            }),
            Mailer::Files { transport, dir, .. } => {
                let id = transport
                    .send(message)
                    .await
                    .map_err(|e| SendError::Transient(e.to_string()))?;
                // Without a mail server, the log says where each message is, so sign-in links and codes can
                // be read there. The log itself never carries a link or a code.
                tracing::info!(file = %dir.join(format!("{id}.eml")).display(), "mail written to a file (no SMTP server configured)");
                Ok(())
            }
        }
    }
}

fn build(from: &Mailbox, email: &Email) -> std::result::Result<Message, String> {
    let to: Mailbox = email.to.parse().map_err(|e| format!("bad recipient: {e}"))?;
    let mut builder = Message::builder().from(from.clone()).to(to).subject(&email.subject);
    if let Some(id) = &email.message_id {
        builder = builder.message_id(Some(id.clone()));
    }
    if let Some(parent) = &email.in_reply_to {
        builder = builder.in_reply_to(parent.clone()).references(parent.clone());
    }
    let body = match &email.html {
        Some(html) => MultiPart::alternative_plain_html(email.text.clone(), html.clone()),
        None => MultiPart::mixed().singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(email.text.clone()),
        ),
    };
    builder.multipart(body).map_err(|e| e.to_string())
}

/// How many due messages a round claims at once (one landlord write to claim them, one to clear them).
const BATCH: i64 = 50;

/// Sends every due message once; returns how many were delivered. Failures wait for their backoff. A
/// process that stops part-way sends the messages of its unfinished batch again after their lease (twice,
/// never zero times).
pub async fn deliver_due(landlord: &Landlord, mailer: &Mailer, now: DateTime<Utc>) -> Result<usize> {
    let mut delivered = 0;
    loop {
        let batch = jobs::claim(landlord, JOB_KIND, now, BATCH).await?;
        let mut finished = Vec::with_capacity(batch.len());
        for job in &batch {
            let email: Email = match open_payload(landlord, &job.payload) {
                Ok(email) => email,
                Err(error) => {
                    tracing::error!(job = job.id, %error, "dropping an email job that cannot be read");
                    finished.push(job.id);
                    continue;
                }
            };
            match mailer.send(&email).await {
                Ok(()) => {
                    finished.push(job.id);
                    delivered += 1;
                }
                Err(SendError::Permanent(error)) => {
                    tracing::error!(job = job.id, %error, "the mail server refused a message for good; dropped");
                    finished.push(job.id);
                }
                Err(SendError::Transient(error)) => {
                    tracing::warn!(job = job.id, attempts = job.attempts, %error, "mail not sent; will retry");
                    jobs::retry_later(landlord, job, &error, now).await?;
                }
            }
        }
        jobs::complete(landlord, &finished).await?;
        if (batch.len() as i64) < BATCH {
            return Ok(delivered);
        }
    }
}

/// Runs [`deliver_due`] every `every` until the runtime stops.
pub fn spawn_worker(
    landlord: std::sync::Arc<Landlord>,
    mailer: Mailer,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(error) = deliver_due(&landlord, &mailer, Utc::now()).await {
                tracing::error!(%error, "the mail worker failed a round");
            }
        }
    })
}
