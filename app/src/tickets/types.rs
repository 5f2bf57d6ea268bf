//! What the ticket pages and their server functions exchange, the same in the browser and on the server.

use serde::{Deserialize, Serialize};
pub use vocab::{MessageKind, Priority, Score, Sort, Status};

/// A choice in a select: value and label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// A row of the ticket list. It travels as an array of its fields in this order, not as an object: the
/// list's rows are most of its page's hydration data, which is escaped character by character into a
/// script, and the field names were 45 % of their bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketRow {
    pub number: i64,
    /// The row id, which bulk actions name.
    pub id: i64,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub requester: String,
    pub assignee: Option<String>,
    /// When it was last updated: RFC 3339 in UTC to the second (`2026-12-04T03:22:51Z`), for
    /// `<time datetime>`; [`TicketRow::updated_label`] shows it.
    pub updated: String,
    /// For search results: escaped text with `<mark>` around the matching words.
    pub snippet: Option<String>,
}

impl Serialize for TicketRow {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let TicketRow {
            number,
            id,
            subject,
            status,
            priority,
            requester,
            assignee,
            updated,
            snippet,
        } = self;
        (
            number, id, subject, status, priority, requester, assignee, updated, snippet,
        )
            .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for TicketRow {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (number, id, subject, status, priority, requester, assignee, updated, snippet) =
            Deserialize::deserialize(deserializer)?;
        Ok(TicketRow {
            number,
            id,
            subject,
            status,
            priority,
            requester,
            assignee,
            updated,
            snippet,
        })
    }
}

impl TicketRow {
    /// `YYYY-MM-DD HH:MM` of [`TicketRow::updated`], cut from it rather than sent twice to the browser.
    pub fn updated_label(&self) -> String {
        minute_label(&self.updated)
    }
}

impl MessageView {
    /// `YYYY-MM-DD HH:MM` of [`MessageView::at_iso`], cut from it rather than sent twice to the browser.
    pub fn at_label(&self) -> String {
        minute_label(&self.at_iso)
    }
}

/// How a time is shown on the ticket pages, `YYYY-MM-DD HH:MM`, cut from its RFC 3339 form in UTC; a value
/// too short to cut is shown as it is.
pub fn minute_label(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => [day, " ", time].concat(),
        _ => rfc3339.to_owned(),
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewCounts {
    pub my_open: i64,
    pub unassigned: i64,
    pub all_open: i64,
    pub recently_solved: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedViewItem {
    pub id: i64,
    pub name: String,
    pub query: String,
}

pub use vocab::{ListQuery, encode};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListView {
    pub slug: String,
    pub workspace: String,
    pub rows: Vec<TicketRow>,
    /// The next page's cursor.
    pub next: Option<String>,
    /// Whether these are search results (ranked, one page).
    pub searching: bool,
    pub agents: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub tags: Vec<String>,
    pub me: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentView {
    pub id: i64,
    pub name: String,
    pub size: String,
    pub is_image: bool,
    pub url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: i64,
    pub kind: MessageKind,
    pub author: String,
    /// Sanitized HTML (rendered and cleaned when the message was written).
    pub html: String,
    /// When it was written, RFC 3339 in UTC; [`MessageView::at_label`] is how it is shown.
    pub at_iso: String,
    pub edited: bool,
    /// The Markdown, for the author while the edit window is open.
    pub editable_body: Option<String>,
    pub attachments: Vec<AttachmentView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketView {
    pub slug: String,
    pub workspace: String,
    pub id: i64,
    pub number: i64,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    pub requester_name: String,
    pub requester_email: String,
    pub assignee_id: Option<i64>,
    pub category_id: Option<i64>,
    pub tags: Vec<String>,
    pub created: String,
    pub thread: Vec<MessageView>,
    pub agents: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub me: i64,
    /// What the composer held when a post of it was refused (kept in the session), and why.
    pub draft: Option<Draft>,
    /// The largest attachment and the most per message, in words.
    pub limits: String,
    /// The requester's rating, once given.
    pub rating: Option<RatingInfo>,
}

/// A requester's rating of the help on a ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingInfo {
    pub score: Score,
    pub comment: String,
    pub at: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub body: String,
    pub kind: String,
    pub error: String,
}

/// The session key of a refused reply's draft, per workspace and ticket.
pub fn draft_key(slug: &str, number: i64) -> String {
    format!("draft:{slug}:{number}")
}

#[cfg(test)]
mod tests {
    use super::{Priority, Status, TicketRow};

    fn row_updated(updated: &str) -> TicketRow {
        TicketRow {
            number: 1,
            id: 1,
            subject: "Printer".into(),
            status: Status::Open,
            priority: Priority::Normal,
            requester: "Ada".into(),
            assignee: None,
            updated: updated.into(),
            snippet: None,
        }
    }

    #[test]
    fn a_row_travels_as_an_array_of_its_fields() {
        let row = TicketRow {
            assignee: Some("Grace".into()),
            snippet: Some("<mark>printer</mark>".into()),
            ..row_updated("2026-12-04T03:22:51Z")
        };
        let json = serde_json::to_string(&row).unwrap();
        assert_eq!(
            json,
            r#"[1,1,"Printer","open","normal","Ada","Grace","2026-12-04T03:22:51Z","<mark>printer</mark>"]"#
        );
        assert_eq!(serde_json::from_str::<TicketRow>(&json).unwrap(), row);
        let unassigned = row_updated("2026-12-04T03:22:51Z");
        let json = serde_json::to_string(&unassigned).unwrap();
        assert_eq!(serde_json::from_str::<TicketRow>(&json).unwrap(), unassigned);
        // Anything else is refused, not read into the wrong fields.
        assert!(serde_json::from_str::<TicketRow>(r#"[1,1,"Printer"]"#).is_err());
        assert!(serde_json::from_str::<TicketRow>(r#"{"number":1}"#).is_err());
    }

    #[test]
    fn the_updated_label_is_the_minute_of_the_timestamp() {
        assert_eq!(row_updated("2026-12-04T03:22:51Z").updated_label(), "2026-12-04 03:22");
        // A timestamp too short to cut is shown as it is, not dropped.
        assert_eq!(row_updated("2026-12").updated_label(), "2026-12");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_row_carries_its_update_time_in_utc_to_the_second_and_names_the_requester() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-04T04:22:51.987+01:00")
            .unwrap()
            .to_utc();
        let ticket = |name: &str| domain::workspace::tickets::Ticket {
            id: 7,
            number: 3,
            subject: "Printer".into(),
            status: Status::Open,
            priority: Priority::High,
            requester_id: 1,
            requester_name: name.into(),
            requester_email: "ada@example.com".into(),
            assignee_account_id: None,
            assignee_name: None,
            assignee_email: None,
            category_id: None,
            created_at: at,
            updated_at: at,
            solved_at: None,
        };
        let named = crate::tickets::support::row(ticket("Ada"), None);
        assert_eq!(named.updated, "2026-12-04T03:22:51Z");
        assert_eq!(named.updated_label(), "2026-12-04 03:22");
        assert_eq!(named.requester, "Ada");
        assert_eq!(
            crate::tickets::support::row(ticket(""), None).requester,
            "ada@example.com"
        );
        // The thread's times are labelled the same way.
        assert_eq!(crate::tickets::support::when(at), "2026-12-04 03:22");
        let message = super::MessageView {
            id: 1,
            kind: super::MessageKind::Reply,
            author: "Ada".into(),
            html: String::new(),
            at_iso: at.to_rfc3339(),
            edited: false,
            editable_body: None,
            attachments: Vec::new(),
        };
        assert_eq!(message.at_iso, "2026-12-04T03:22:51.987+00:00");
        assert_eq!(message.at_label(), "2026-12-04 03:22");
    }
}
