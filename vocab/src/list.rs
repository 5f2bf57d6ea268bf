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

/// Percent-encodes a query value.
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
}
