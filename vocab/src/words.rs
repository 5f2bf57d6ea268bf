//! Closed sets of values, each with its wire name (stored in the database, sent in forms and JSON) and the
//! label people read.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A wire name that is not one of a set's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    /// What the set is (`status`, `role`, …).
    pub set: &'static str,
    pub value: String,
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a {}", self.value, self.set)
    }
}

impl std::error::Error for Unknown {}

/// An enum with `ALL`, `as_str` (the wire name), `label`, `parse`, `Display` (the wire name), `FromStr`, and
/// serde as its wire name. The serde impls go through `&str`/`String` rather than serde's derive, which
/// would add a visitor per enum to the wasm bundle.
macro_rules! words {
    (
        $(#[$meta:meta])*
        $name:ident ($set:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $wire:literal, $label:literal;)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in the order they are offered.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name: what the database stores and forms and JSON carry.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }

            /// What people read.
            pub const fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }

            /// The value of a wire name; `None` for anything else (case and spaces matter).
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// `(wire name, label)` of every value, for a select's options.
            pub fn choices() -> impl Iterator<Item = (&'static str, &'static str)> {
                Self::ALL.iter().map(|v| (v.as_str(), v.label()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Compares with a wire name, so `ticket.status == "open"` reads as it would with a string.
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl std::str::FromStr for $name {
            type Err = Unknown;
            fn from_str(text: &str) -> Result<Self, Unknown> {
                $name::parse(text).ok_or_else(|| Unknown { set: $set, value: text.to_owned() })
            }
        }

        impl TryFrom<String> for $name {
            type Error = Unknown;
            fn try_from(text: String) -> Result<Self, Unknown> {
                text.parse()
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

words! {
    /// Where a ticket stands.
    Status("status") {
        New = "new", "New";
        Open = "open", "Open";
        /// Waiting for the requester.
        Pending = "pending", "Pending";
        /// Waiting for someone other than the requester.
        OnHold = "on_hold", "On hold";
        Solved = "solved", "Solved";
        Closed = "closed", "Closed";
    }
}

impl Status {
    /// The statuses of tickets still being worked.
    pub const UNSOLVED: [Status; 4] = [Status::New, Status::Open, Status::Pending, Status::OnHold];

    pub fn is_solved(self) -> bool {
        matches!(self, Status::Solved | Status::Closed)
    }

    /// How the portal names a status to the customer who asked.
    pub const fn customer_label(self) -> &'static str {
        match self {
            Status::New => "Received",
            Status::Open => "In progress",
            Status::Pending => "Waiting for you",
            Status::OnHold => "On hold",
            Status::Solved => "Solved",
            Status::Closed => "Closed",
        }
    }
}

words! {
    /// How urgent a ticket is.
    #[derive(Default)]
    Priority("priority") {
        Low = "low", "Low";
        #[default]
        Normal = "normal", "Normal";
        High = "high", "High";
        Urgent = "urgent", "Urgent";
    }
}

words! {
    /// A member's role in a workspace, from most to least powerful.
    Role("role") {
        Owner = "owner", "Owner";
        Admin = "admin", "Admin";
        Agent = "agent", "Agent";
    }
}

impl Role {
    /// Whether this role may do what `needed` may.
    pub fn at_least(self, needed: Role) -> bool {
        self.rank() >= needed.rank()
    }

    const fn rank(self) -> u8 {
        match self {
            Role::Owner => 3,
            Role::Admin => 2,
            Role::Agent => 1,
        }
    }
}

words! {
    /// The ticket list's order.
    #[derive(Default)]
    Sort("sort order") {
        /// Most recently updated first.
        #[default]
        Updated = "updated", "Recently updated";
        /// Least recently updated first (what waits longest).
        Oldest = "oldest", "Waiting longest";
        /// Newest tickets first.
        Newest = "newest", "Newest";
    }
}

words! {
    /// What an entry of a ticket's thread is.
    MessageKind("message kind") {
        /// A public reply: the requester sees it and gets it by mail.
        Reply = "reply", "Public reply";
        /// An internal note: agents only, never shown or mailed to a customer.
        Note = "note", "Internal note";
        /// A change of the ticket's fields, written by the system.
        Event = "event", "Change";
    }
}

words! {
    /// A requester's rating of the help they got.
    Score("rating") {
        Good = "good", "👍 Good";
        Bad = "bad", "👎 Bad";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_wire_name_and_json() {
        fn check<T>(all: &[T])
        where
            T: Copy + PartialEq + fmt::Debug + fmt::Display + Serialize + for<'de> Deserialize<'de>,
            T: std::str::FromStr,
        {
            for &value in all {
                let wire = value.to_string();
                assert!(matches!(wire.parse::<T>(), Ok(v) if v == value), "{wire}");
                let json = serde_json::to_string(&value).unwrap();
                assert_eq!(json, format!("\"{wire}\""));
                assert_eq!(serde_json::from_str::<T>(&json).unwrap(), value);
            }
        }
        check(Status::ALL);
        check(Priority::ALL);
        check(Role::ALL);
        check(Sort::ALL);
        check(MessageKind::ALL);
        check(Score::ALL);
    }

    #[test]
    fn the_stored_names_are_the_ones_the_database_holds() {
        // These strings are in every database already written: changing one is a migration.
        let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["new", "open", "pending", "on_hold", "solved", "closed"]);
        let names: Vec<&str> = Priority::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(names, ["low", "normal", "high", "urgent"]);
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names, ["owner", "admin", "agent"]);
        let names: Vec<&str> = MessageKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, ["reply", "note", "event"]);
        let names: Vec<&str> = Score::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["good", "bad"]);
    }

    #[test]
    fn anything_else_is_refused_by_name() {
        assert_eq!(Status::parse("Open"), None);
        assert_eq!(Status::parse(" open"), None);
        let error = "urgentest".parse::<Priority>().unwrap_err();
        assert_eq!(error.to_string(), "\"urgentest\" is not a priority");
        assert!(serde_json::from_str::<Role>("\"root\"").is_err());
        assert!(serde_json::from_str::<Role>("3").is_err());
    }

    #[test]
    fn a_value_equals_its_wire_name() {
        assert_eq!(Status::OnHold, "on_hold");
        assert!(MessageKind::Note == "note");
        assert!(Priority::High != "urgent");
    }

    #[test]
    fn roles_are_ranked() {
        assert!(Role::Owner.at_least(Role::Admin));
        assert!(Role::Admin.at_least(Role::Admin));
        assert!(!Role::Agent.at_least(Role::Admin));
        assert!(Role::Agent.at_least(Role::Agent));
    }

    #[test]
    fn solved_and_unsolved_cover_every_status_once() {
        for status in Status::ALL {
            assert_ne!(status.is_solved(), Status::UNSOLVED.contains(status));
        }
    }
}
