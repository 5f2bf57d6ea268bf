//! Files sent with replies and notes.
//!
//! A file's type comes from its content (magic numbers), never from its name or the browser's claim:
//! markup (HTML, SVG, XML) is refused, other text is kept as `text/plain`, known binary types keep their
//! type, anything else is `application/octet-stream`. Names are reduced to a safe base name. The bytes live
//! behind [`BlobStore`] (files under the data directory now; an S3-compatible store can implement it later),
//! under a random key that says nothing of the name.

use super::tickets::{self, Actor, Kind, Status};
use crate::{Error, Result, WorkspaceDb, crypto, db::Tx, on_db, on_tx};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::PathBuf;

/// Where attachment bytes are kept.
#[async_trait]
pub trait BlobStore: Send + Sync {
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;
    async fn get(&self, key: &str) -> Result<Vec<u8>>;
    async fn delete(&self, key: &str) -> Result<()>;
}

/// Files under `<data_dir>/files/<workspace id>/`, which deleting a workspace removes with it.
#[derive(Clone, Debug)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    pub fn new(data_dir: &std::path::Path) -> FileStore {
        FileStore {
            root: data_dir.join("files"),
        }
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        // Keys are made here ("<workspace id>/<64 hex digits>"); anything else is refused before it
        // reaches the file system.
        let valid = key.split_once('/').is_some_and(|(ws, name)| {
            !ws.is_empty()
                && ws.bytes().all(|b| b.is_ascii_digit())
                && name.len() == 64
                && name.bytes().all(|b| b.is_ascii_hexdigit())
        });
        if !valid {
            return Err(Error::NotFound);
        }
        Ok(self.root.join(key))
    }
}

#[async_trait]
impl BlobStore for FileStore {
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(key)?;
        let dir = path.parent().expect("keys have a directory").to_owned();
        let bytes = bytes.to_vec();
        tokio::task::spawn_blocking(move || -> Result<()> {
            crypto::create_private_dir(&dir)?;
            crypto::write_private(&path, &bytes)?;
            Ok(())
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))?
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>> {
        match tokio::fs::read(self.path(key)?).await {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// Size limits, from the settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub per_file: usize,
    pub per_message: usize,
    pub files_per_message: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_file: 10 * 1024 * 1024,
            per_message: 25 * 1024 * 1024,
            files_per_message: 10,
        }
    }
}

/// A file as uploaded.
#[derive(Clone, Debug)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Attachment {
    pub id: i64,
    pub ticket_id: i64,
    pub message_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    #[serde(skip)]
    pub storage_key: String,
    pub created_at: DateTime<Utc>,
}

impl Attachment {
    /// Whether the file is an image a page may show inline (never SVG: it can carry script).
    pub fn is_image(&self) -> bool {
        matches!(
            self.content_type.as_str(),
            "image/png" | "image/jpeg" | "image/gif" | "image/webp"
        )
    }
}

const COLUMNS: &str = "id, ticket_id, message_id, file_name, content_type, size, storage_key, created_at";

fn mib(bytes: usize) -> String {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    if mib.fract() == 0.0 {
        format!("{mib:.0} MB")
    } else {
        format!("{mib:.1} MB")
    }
}

/// Checks the uploads against the limits: a refusal names the file and the limit.
pub fn check_sizes(files: &[Upload], limits: Limits) -> Result<()> {
    if files.len() > limits.files_per_message {
        return Err(Error::TooLarge(format!(
            "Attach at most {} files to one message.",
            limits.files_per_message
        )));
    }
    for file in files {
        if file.bytes.len() > limits.per_file {
            return Err(Error::TooLarge(format!(
                "{} is {}; a file can be at most {}.",
                safe_name(&file.file_name),
                mib(file.bytes.len()),
                mib(limits.per_file)
            )));
        }
    }
    let total: usize = files.iter().map(|f| f.bytes.len()).sum();
    if total > limits.per_message {
        return Err(Error::TooLarge(format!(
            "These files come to {}; one message can carry at most {}.",
            mib(total),
            mib(limits.per_message)
        )));
    }
    Ok(())
}

/// A name safe to store, show and send in a header: the base name only, no control characters, quotes,
/// slashes or leading dots, at most 100 characters.
pub fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(
                    c,
                    '"' | '\'' | ';' | ':' | '<' | '>' | '|' | '*' | '?' | '\u{202E}' | '\u{202D}'
                )
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    let cleaned: String = cleaned.chars().take(100).collect();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

/// The type of a file, from its content. Markup is refused: a browser would run the script in it.
pub fn content_type(bytes: &[u8]) -> Result<&'static str> {
    const ALLOWED: [&str; 12] = [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "audio/mpeg",
        "video/mp4",
    ];
    if let Some(kind) = infer::get(bytes) {
        if let Some(allowed) = ALLOWED.iter().find(|t| **t == kind.mime_type()) {
            return Ok(allowed);
        }
        if kind.mime_type().contains("html") || kind.mime_type().contains("xml") || kind.mime_type().contains("svg") {
            return Err(markup());
        }
        return Ok("application/octet-stream");
    }
    let head = &bytes[..bytes.len().min(4096)];
    if let Ok(text) = std::str::from_utf8(head).or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()])) {
        let lower = text.trim_start_matches('\u{feff}').trim_start().to_lowercase();
        let markup_signs = [
            "<!doctype",
            "<html",
            "<svg",
            "<?xml",
            "<script",
            "<body",
            "<head",
            "<iframe",
            "<object",
            "<embed",
        ];
        if lower.starts_with('<') || markup_signs.iter().any(|sign| lower.contains(sign)) {
            return Err(markup());
        }
        if !text.contains('\0') && std::str::from_utf8(bytes).is_ok() {
            return Ok("text/plain");
        }
    }
    Ok("application/octet-stream")
}

fn markup() -> Error {
    Error::Invalid("HTML, SVG and XML files cannot be attached; put them in a .zip file.".into())
}

/// A reply or note with files: the bytes are stored first, then the message and the attachment rows commit
/// together; if that fails, the stored bytes are removed again.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip_all, fields(workspace = %ws.id(), ticket = ticket_id, files = files.len()))]
pub async fn add_message_with_files(
    ws: &WorkspaceDb,
    store: &dyn BlobStore,
    actor: &Actor,
    ticket_id: i64,
    kind: Kind,
    body: &str,
    status: Option<Status>,
    files: &[Upload],
    limits: Limits,
    now: DateTime<Utc>,
) -> Result<i64> {
    let body = tickets::Body::new(body).map_err(|e| e.on_field("body"))?;
    let stored = store_files(ws, store, files, limits).await?;
    let result = async {
        let mut tx = tickets::begin(ws).await?;
        let message = tickets::add_message_in(&mut tx, actor, ticket_id, kind, &body, status, now).await?;
        record_files(&mut tx, ticket_id, message, &stored, now).await?;
        tx.commit().await?;
        Ok(message)
    }
    .await;
    if result.is_err() {
        remove_all(store, &stored).await;
    }
    result
}

/// Opens a ticket with files on its first message (the portal's "new request"): files are checked and
/// stored first, then the ticket and their records are written in one transaction; if that fails, the
/// stored bytes are removed again.
#[tracing::instrument(skip_all, fields(workspace = %ws.id(), files = files.len()))]
pub async fn create_with_files(
    ws: &WorkspaceDb,
    store: &dyn BlobStore,
    actor: &Actor,
    new: &tickets::NewTicket,
    files: &[Upload],
    limits: Limits,
    now: DateTime<Utc>,
) -> Result<tickets::Ticket> {
    tickets::check_new(new)?;
    let body = tickets::Body::new(&new.body).map_err(|e| e.on_field("body"))?;
    let stored = store_files(ws, store, files, limits).await?;
    let result = async {
        let mut tx = tickets::begin(ws).await?;
        let (ticket, message) = tickets::create_in(&mut tx, actor, new, &body, now).await?;
        record_files(&mut tx, ticket.id, message, &stored, now).await?;
        tx.commit().await?;
        Ok(ticket)
    }
    .await;
    if result.is_err() {
        remove_all(store, &stored).await;
    }
    result
}

/// A file checked and stored, waiting for its record.
struct Stored {
    name: String,
    content_type: &'static str,
    size: usize,
    key: String,
}

/// Checks sizes and types of all files, then stores their bytes under random keys. On any failure nothing
/// stays stored.
async fn store_files(ws: &WorkspaceDb, store: &dyn BlobStore, files: &[Upload], limits: Limits) -> Result<Vec<Stored>> {
    check_sizes(files, limits)?;
    let mut typed = Vec::with_capacity(files.len());
    for file in files {
        let name = safe_name(&file.file_name);
        let content_type = content_type(&file.bytes).map_err(|e| match e {
            Error::Invalid(message) => Error::Invalid(format!("{name}: {message}")),
            other => other,
        })?;
        typed.push((name, content_type, file));
    }
    let mut stored: Vec<Stored> = Vec::new();
    for (name, content_type, file) in typed {
        let key = format!("{}/{}", ws.id(), hex::encode(*crypto::random_bytes::<32>()));
        if let Err(error) = store.put(&key, &file.bytes).await {
            remove_all(store, &stored).await;
            return Err(error);
        }
        stored.push(Stored {
            name,
            content_type,
            size: file.bytes.len(),
            key,
        });
    }
    Ok(stored)
}

async fn record_files(tx: &mut Tx, ticket_id: i64, message: i64, stored: &[Stored], now: DateTime<Utc>) -> Result<()> {
    for file in stored {
        on_tx!(&mut *tx, conn => sqlx::query(
            "insert into attachments (ticket_id, message_id, file_name, content_type, size, storage_key, created_at)
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(ticket_id)
        .bind(message)
        .bind(&file.name)
        .bind(file.content_type)
        .bind(file.size as i64)
        .bind(&file.key)
        .bind(now)
        .execute(conn)
        .await
        .map(|d| d.rows_affected()))?;
    }
    Ok(())
}

async fn remove_all(store: &dyn BlobStore, stored: &[Stored]) {
    for file in stored {
        if let Err(error) = store.delete(&file.key).await {
            tracing::warn!(%error, "could not remove an attachment's bytes after a failed message");
        }
    }
}

/// The attachments of a ticket's messages. `public_only` leaves out those of internal notes.
pub async fn of_ticket(ws: &WorkspaceDb, ticket_id: i64, public_only: bool) -> Result<Vec<Attachment>> {
    let sql = if public_only {
        format!(
            "select {COLUMNS} from attachments where ticket_id = $1
             and message_id in (select id from messages where ticket_id = $1 and kind <> 'note') order by id"
        )
    } else {
        format!("select {COLUMNS} from attachments where ticket_id = $1 order by id")
    };
    Ok(on_db!(ws.db(), pool => sqlx::query_as(&sql).bind(ticket_id).fetch_all(pool).await)?)
}

/// The attachment `id` of the ticket with row id `ticket_id` (both must match), with its bytes.
pub async fn open(ws: &WorkspaceDb, store: &dyn BlobStore, ticket_id: i64, id: i64) -> Result<(Attachment, Vec<u8>)> {
    let sql = format!("select {COLUMNS} from attachments where id = $1 and ticket_id = $2");
    let found: Option<Attachment> = on_db!(ws.db(), pool => sqlx::query_as(&sql)
        .bind(id)
        .bind(ticket_id)
        .fetch_optional(pool)
        .await)?;
    let attachment = found.ok_or(Error::NotFound)?;
    let bytes = store.get(&attachment.storage_key).await?;
    Ok((attachment, bytes))
}

/// `Content-Disposition` for a download: always `attachment`, an ASCII fallback name and the UTF-8 name.
pub fn content_disposition(name: &str, inline: bool) -> String {
    let name = safe_name(name);
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' })
        .collect();
    let encoded = vocab::encode(&name);
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_control_characters_and_quotes() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(safe_name("a\r\nContent-Type: text/html.txt"), "html.txt");
        assert_eq!(safe_name("a\r\nb.txt"), "ab.txt");
        assert_eq!(safe_name("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(safe_name("\"quoted\".pdf"), "quoted.pdf");
        assert_eq!(safe_name(".htaccess"), "htaccess");
        assert_eq!(safe_name("///"), "attachment");
        assert_eq!(safe_name(&"é".repeat(300)).chars().count(), 100);
    }

    #[test]
    fn types_come_from_content() {
        let png = [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
        ];
        assert_eq!(content_type(&png).unwrap(), "image/png");
        assert_eq!(content_type(b"%PDF-1.7\n").unwrap(), "application/pdf");
        assert_eq!(content_type("plain words, ünïcode".as_bytes()).unwrap(), "text/plain");
        for markup in [
            &b"<html><script>alert(1)</script></html>"[..],
            b"  <svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
            b"<?xml version=\"1.0\"?><svg/>",
            b"\xef\xbb\xbf<!DOCTYPE html><p>",
            b"hello\n<script>alert(1)</script>",
        ] {
            assert!(content_type(markup).is_err(), "{:?}", String::from_utf8_lossy(markup));
        }
        assert_eq!(
            content_type(&[0u8, 1, 2, 3, 255, 254]).unwrap(),
            "application/octet-stream"
        );
    }

    #[test]
    fn sizes_are_limited_per_file_and_per_message() {
        let limits = Limits {
            per_file: 10,
            per_message: 15,
            files_per_message: 2,
        };
        let file = |n: usize| Upload {
            file_name: "a.txt".into(),
            bytes: vec![b'a'; n],
        };
        assert!(check_sizes(&[file(10)], limits).is_ok());
        assert!(matches!(check_sizes(&[file(11)], limits), Err(Error::TooLarge(_))));
        assert!(matches!(
            check_sizes(&[file(8), file(8)], limits),
            Err(Error::TooLarge(_))
        ));
        assert!(matches!(
            check_sizes(&[file(1), file(1), file(1)], limits),
            Err(Error::TooLarge(_))
        ));
    }

    #[test]
    fn the_disposition_header_is_always_safe() {
        assert_eq!(
            content_disposition("résumé \"x\".pdf", false),
            "attachment; filename=\"r_sum_ x.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20x.pdf"
        );
        assert!(!content_disposition("a\r\nSet-Cookie: x", false).contains('\n'));
    }
}
