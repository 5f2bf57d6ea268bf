//! Where to go after signing in: a `next` path checked to stay on this site, else the person's start page.

use super::{Services, services};
use crate::error::AppError;
use domain::auth::accounts::{self, Account};
use leptos::prelude::use_context;

/// A local path to go to after signing in: only paths on this site, never another host.
///
/// The value is read as a URL relative to the configured public URL and kept only when the result has
/// that origin; anything with a control character, whitespace or a backslash is refused before that
/// (browsers drop tabs and line breaks and read `\` as `/`, so `/\t/evil.example` would be
/// `//evil.example` to them), and so is anything not starting with a single `/`. What comes back is the
/// parsed URL's path, query and fragment, so it can only ever name a page here.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let base = use_context::<Services>()
        .and_then(|services| url::Url::parse(&services.base_url).ok())
        .unwrap_or_else(|| url::Url::parse("http://127.0.0.1/").expect("a valid URL"));
    safe_next_on(&base, next?)
}

fn safe_next_on(base: &url::Url, next: &str) -> Option<String> {
    let hostile = |c: char| c.is_control() || c.is_whitespace() || c == '\\';
    if next.is_empty() || next.len() > 500 || next.chars().any(hostile) {
        return None;
    }
    if !next.starts_with('/') || next.starts_with("//") {
        return None;
    }
    // Percent-decoded once, the value must pass the same test: `/%2F%2Fevil` or `/%5Cevil` are refused
    // rather than trusted to stay encoded through every hop.
    let decoded = percent_decoded(next)?;
    if decoded.starts_with("//") || decoded.chars().any(hostile) {
        return None;
    }
    let joined = base.join(next).ok()?;
    if joined.origin() != base.origin() || joined.cannot_be_a_base() {
        return None;
    }
    let local = &joined[url::Position::BeforePath..];
    (local.starts_with('/') && !local.starts_with("//")).then(|| local.to_owned())
}

/// `value` with its `%XX` escapes decoded; `None` when they do not make UTF-8.
fn percent_decoded(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(Some(hi)), Some(Some(lo))) =
                (bytes.get(i + 1).map(|b| hex(*b)), bytes.get(i + 2).map(|b| hex(*b)))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Where a signed-in person starts: the path they asked for, their only workspace, or their account page
/// (which lists their workspaces).
pub async fn landing(account: &Account, next: Option<&str>) -> Result<String, AppError> {
    if let Some(next) = safe_next(next) {
        return Ok(next);
    }
    let services = services()?;
    let memberships = accounts::memberships(services.landlord(), account.id).await?;
    Ok(match memberships.as_slice() {
        [only] => format!("/w/{}", only.slug),
        _ => "/account".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        let base = url::Url::parse("https://desk.example.com").unwrap();
        assert_eq!(safe_next_on(&base, "/w/acme/team").as_deref(), Some("/w/acme/team"));
        assert_eq!(
            safe_next_on(&base, "/w/acme/tickets?status=open#top").as_deref(),
            Some("/w/acme/tickets?status=open#top")
        );
        assert_eq!(safe_next_on(&base, "/a/../w/acme").as_deref(), Some("/w/acme"));
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "/\t/evil.example",
            "/%09/evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/\r\nSet-Cookie: a=b",
            "///evil.example",
            "\\\\evil.example",
            "https:evil.example",
            "javascript:alert(1)",
            "/ /evil.example",
            "",
        ] {
            assert_eq!(safe_next_on(&base, hostile), None, "{hostile:?}");
        }
        assert_eq!(safe_next_on(&base, &format!("/{}", "a".repeat(600))), None, "over-long");
    }
}
