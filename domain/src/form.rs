//! Reading the values of the ticket forms and the list's URL: each refusal is an [`Error::Field`] naming the
//! input to correct, with the words the form shows beside it.

use crate::{
    Error, Result,
    auth::team,
    workspace::tickets::{self, Assignee, Priority, Status},
};
use vocab::AccountId;

fn field(field: &'static str, message: &str) -> Error {
    Error::Field {
        field,
        message: message.to_owned(),
    }
}

pub fn status(value: &str, name: &'static str) -> Result<Status> {
    Status::parse(value).ok_or_else(|| field(name, "Choose a status."))
}

pub fn priority(value: &str, name: &'static str) -> Result<Priority> {
    Priority::parse(value).ok_or_else(|| field(name, "Choose a priority."))
}

/// A category choice: empty or `none` is no category, anything else a category's id.
pub fn category(value: &str) -> Result<Option<i64>> {
    match value {
        "" | "none" => Ok(None),
        id => id
            .parse()
            .map(Some)
            .map_err(|_| field("category", "Choose a category.")),
    }
}

/// A comma-separated list of tags.
pub fn tags(value: &str, name: &'static str) -> Result<Vec<String>> {
    tickets::parse_tags(value).map_err(|e| e.on_field(name))
}

/// An assignee choice: empty or `none` unassigns, `me` is the account `me`, a number must be one of
/// `members`.
pub fn assignee(value: &str, me: AccountId, members: &[team::Member], name: &'static str) -> Result<Option<Assignee>> {
    let id = match value {
        "" | "none" => return Ok(None),
        "me" => me.get(),
        other => other.parse().map_err(|_| field(name, "Choose a member of the team."))?,
    };
    members
        .iter()
        .find(|m| m.account_id == id)
        .map(|m| {
            Some(Assignee {
                account_id: m.account_id,
                name: m.name.clone(),
                email: m.email.clone(),
            })
        })
        .ok_or_else(|| field(name, "Choose a member of the team."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vocab::Role;

    fn refused_on<T: std::fmt::Debug>(result: Result<T>) -> (&'static str, String) {
        match result {
            Err(Error::Field { field, message }) => (field, message),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn each_refusal_names_its_input() {
        assert_eq!(status("open", "status").unwrap(), Status::Open);
        assert_eq!(
            refused_on(status("opened", "bulk_status")),
            ("bulk_status", "Choose a status.".into())
        );
        assert_eq!(
            refused_on(priority("asap", "priority")),
            ("priority", "Choose a priority.".into())
        );
        assert_eq!(category("none").unwrap(), None);
        assert_eq!(category("12").unwrap(), Some(12));
        assert_eq!(refused_on(category("x")), ("category", "Choose a category.".into()));
        assert_eq!(tags("Billing, vip,billing", "tags").unwrap(), ["billing", "vip"]);
        let too_many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(refused_on(tags(&too_many.join(","), "add_tag")).0, "add_tag");
    }

    #[test]
    fn an_assignee_must_be_on_the_team() {
        let team = [team::Member {
            account_id: 7,
            name: "Grace".into(),
            email: "grace@example.com".into(),
            role: Role::Agent,
        }];
        assert_eq!(assignee("none", AccountId(3), &team, "assignee").unwrap(), None);
        assert_eq!(
            assignee("7", AccountId(3), &team, "assignee").unwrap().unwrap().name,
            "Grace"
        );
        // "me" is whoever asks, and must be on the team too.
        assert_eq!(
            refused_on(assignee("me", AccountId(3), &team, "assignee")),
            ("assignee", "Choose a member of the team.".into())
        );
        assert_eq!(
            assignee("me", AccountId(7), &team, "assignee")
                .unwrap()
                .unwrap()
                .account_id,
            7
        );
        assert_eq!(
            refused_on(assignee("8", AccountId(3), &team, "bulk_assignee")).0,
            "bulk_assignee"
        );
        assert_eq!(
            refused_on(assignee("seven", AccountId(3), &team, "assignee")).0,
            "assignee"
        );
    }
}
