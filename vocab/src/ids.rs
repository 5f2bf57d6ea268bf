//! Ids that must not be mixed up: a ticket's number (what people see, `#42`) is not its row id, and an
//! account's id is not a customer's. Each travels as a plain integer in JSON and forms.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                $name(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map($name)
            }
        }
    };
}

id! {
    /// A ticket's number in its workspace (`#42`): gap-free, what people and URLs use.
    TicketNumber
}
id! {
    /// A ticket's row id, which bulk actions and attachments name.
    TicketId
}
id! {
    /// A staff account (global: one person, many workspaces).
    AccountId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_travel_as_plain_integers() {
        assert_eq!(serde_json::to_string(&TicketNumber(42)).unwrap(), "42");
        assert_eq!(serde_json::from_str::<AccountId>("7").unwrap(), AccountId(7));
        assert_eq!(TicketNumber(42).to_string(), "42");
        assert_eq!("42".parse::<TicketNumber>().unwrap(), TicketNumber(42));
        assert!("#42".parse::<TicketNumber>().is_err());
    }
}
