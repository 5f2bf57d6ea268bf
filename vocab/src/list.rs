//! The ticket list's URL: its filters as the browser puts them in the address bar and the server reads them.

use serde::{Deserialize, Serialize};

/// The list page's filters, as they appear in its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub priority: Option<String>,
    pub assignee: Option<String>,
    pub category: Option<String>,
    pub tag: Option<String>,
    pub requester: Option<String>,
    pub sort: Option<String>,
    pub after: Option<String>,
    pub q: Option<String>,
}

impl ListQuery {
    /// The filters a list URL understands, by their names in it (the page cursor `after` is not one).
    pub const FILTERS: [&'static str; 8] = [
        "status",
        "priority",
        "assignee",
        "category",
        "tag",
        "requester",
        "sort",
        "q",
    ];

    /// The filters of a list's query string (with or without its `?`), anything else dropped: what a saved
    /// view keeps.
    pub fn filters_of(query: &str) -> String {
        query
            .trim_start_matches('?')
            .split('&')
            .filter(|pair| ListQuery::FILTERS.contains(&pair.split('=').next().unwrap_or("")))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The query string of these filters (without the page cursor).
    pub fn to_query_string(&self) -> String {
        let pairs = [
            ("status", &self.status),
            ("priority", &self.priority),
            ("assignee", &self.assignee),
            ("category", &self.category),
            ("tag", &self.tag),
            ("requester", &self.requester),
            ("sort", &self.sort),
            ("q", &self.q),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| {
                v.as_deref()
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={}", encode(v)))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes a value (RFC 3986: everything but letters, digits and `-._~`), for a query string or an
/// RFC 5987 file name.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_string_skips_empty_filters_and_the_cursor() {
        let query = ListQuery {
            status: Some("unsolved".into()),
            tag: Some(String::new()),
            q: Some("printer jam&co".into()),
            after: Some("123".into()),
            ..Default::default()
        };
        assert_eq!(query.to_query_string(), "status=unsolved&q=printer%20jam%26co");
        assert_eq!(encode("é~"), "%C3%A9~");
    }

    #[test]
    fn a_saved_view_keeps_only_the_filters() {
        assert_eq!(
            ListQuery::filters_of("?status=open&after=12&evil=1&q=printer&tag=vip"),
            "status=open&q=printer&tag=vip"
        );
        assert_eq!(ListQuery::filters_of(""), "");
        // Every filter the query string writes is one a saved view keeps.
        let all = ListQuery {
            status: Some("a".into()),
            priority: Some("a".into()),
            assignee: Some("a".into()),
            category: Some("a".into()),
            tag: Some("a".into()),
            requester: Some("a".into()),
            sort: Some("a".into()),
            q: Some("a".into()),
            after: Some("a".into()),
        };
        let written = all.to_query_string();
        assert_eq!(ListQuery::filters_of(&written), written);
        assert_eq!(written.split('&').count(), ListQuery::FILTERS.len());
    }
}
