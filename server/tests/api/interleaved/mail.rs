//! The mail directory as the test reads it: each message's recipient, subject and decoded text.

use std::{collections::BTreeSet, path::Path};

/// A message as the mail directory holds it: recipient and subject, and every part decoded, lowercased.
pub(super) struct Mail {
    pub(super) file: String,
    pub(super) to: String,
    pub(super) subject: String,
    pub(super) content: String,
}

pub(super) fn read_mails(dir: &Path) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|entry| entry.path().extension().and_then(|e| e.to_str()) == Some("eml"))
        .filter_map(|entry| {
            let raw = std::fs::read_to_string(entry.path()).ok()?;
            let header = |name: &str| {
                raw.lines()
                    .find_map(|line| line.strip_prefix(name))
                    .unwrap_or_default()
                    .trim()
                    .to_lowercase()
            };
            Some(Mail {
                file: entry.file_name().to_string_lossy().into_owned(),
                to: header("To:"),
                subject: header("Subject:"),
                content: decoded(&raw).to_lowercase(),
            })
        })
        .collect()
}

/// The message with quoted-printable undone, followed by its base64 parts decoded (the mailer picks the
/// shorter encoding per part, so either may be there).
fn decoded(raw: &str) -> String {
    let mut text = crate::helpers::decode_quoted_printable(raw);
    text.push('\n');
    text.push_str(&base64_parts(raw));
    text
}

/// The decoded text of every part sent as base64.
fn base64_parts(raw: &str) -> String {
    use base64::Engine;
    let lines: Vec<&str> = raw.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].to_ascii_lowercase();
        if !(line.starts_with("content-transfer-encoding:") && line.contains("base64")) {
            i += 1;
            continue;
        }
        // The rest of the part's headers, then its body up to the next boundary.
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
        i += 1;
        let mut data = String::new();
        while i < lines.len() && !lines[i].starts_with("--") && !lines[i].trim().is_empty() {
            data.push_str(lines[i].trim());
            i += 1;
        }
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data.as_bytes()) {
            out.push_str(&String::from_utf8_lossy(&bytes));
            out.push('\n');
        }
    }
    out
}

/// The indexes of the replies whose text is in `content` (`canary-alpha-r00042` → 42).
pub(super) fn reply_ids(content: &str, slug: &str) -> BTreeSet<usize> {
    let prefix = format!("canary-{slug}-r");
    content
        .match_indices(prefix.as_str())
        .filter_map(|(at, _)| {
            content
                .get(at + prefix.len()..at + prefix.len() + 5)?
                .parse::<usize>()
                .ok()
        })
        .collect()
}
