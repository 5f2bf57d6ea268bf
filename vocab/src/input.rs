//! Inputs checked the same way in the browser (before a form is sent) and on the server (always): the same
//! rule, the same words.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an input was refused, in words for the person who typed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid(pub &'static str);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Invalid {}

/// An email address as Ferrodesk keeps it: trimmed, lower-cased, at most 254 characters, one `@` with
/// something before it and a dotted domain after it, no spaces, control characters or `<>",` (which would
/// let one address smuggle another into a mail header). Otherwise deliberately loose: whether the address
/// receives mail is what a verification mail finds out.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// What a refused address is told, wherever it was typed.
    pub const INVALID: &'static str = "Enter a valid email address, like you@example.com.";

    pub fn parse(typed: &str) -> Result<EmailAddress, Invalid> {
        let email = typed.trim().to_lowercase();
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && !email
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ','));
        if valid {
            Ok(EmailAddress(email))
        } else {
            Err(Invalid(EmailAddress::INVALID))
        }
    }

    /// Why `typed` is refused, if it is: for a form's input, before it is sent.
    pub fn check(typed: &str) -> Option<&'static str> {
        EmailAddress::parse(typed).err().map(|refused| refused.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        EmailAddress::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The longest ticket subject, in characters.
pub const SUBJECT_MAX: usize = 200;

/// A ticket's subject: trimmed, 1 to [`SUBJECT_MAX`] characters, on one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Subject(String);

impl Subject {
    pub fn parse(typed: &str) -> Result<Subject, Invalid> {
        let subject = typed.trim();
        if subject.is_empty() || subject.chars().count() > SUBJECT_MAX {
            return Err(Invalid("A subject must be 1 to 200 characters long."));
        }
        if subject.chars().any(char::is_control) {
            return Err(Invalid("A subject cannot hold control characters or line breaks."));
        }
        Ok(Subject(subject.to_owned()))
    }

    /// Why `typed` is refused, if it is: for a form's input, before it is sent.
    pub fn check(typed: &str) -> Option<&'static str> {
        Subject::parse(typed).err().map(|refused| refused.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Subject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Subject::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_trimmed_and_lower_cased() {
        let email = EmailAddress::parse("  Ada@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada@example.com");
        assert_eq!(email.domain(), "example.com");
    }

    #[test]
    fn what_cannot_be_an_address_is_refused_in_words() {
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@.example.com",
            "ada@example.com.",
            "ada lovelace@example.com",
            "ada@exa\u{7}mple.com",
            "ada@b@example.com",
            "ada@example.com,eve@example.com",
            "\"ada\"@example.com",
            "<ada@example.com>",
        ] {
            assert_eq!(EmailAddress::parse(bad), Err(Invalid(EmailAddress::INVALID)), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long).is_err());
        assert!(serde_json::from_str::<EmailAddress>("\"nobody\"").is_err());
    }

    #[test]
    fn a_subject_is_one_line_of_1_to_200_characters() {
        assert_eq!(Subject::parse("  Printer jams ").unwrap().as_str(), "Printer jams");
        assert_eq!(
            Subject::parse("   ").unwrap_err().0,
            "A subject must be 1 to 200 characters long."
        );
        assert!(Subject::parse(&"é".repeat(200)).is_ok());
        assert!(Subject::parse(&"é".repeat(201)).is_err());
        assert_eq!(
            Subject::parse("two\nlines").unwrap_err().0,
            "A subject cannot hold control characters or line breaks."
        );
    }
}
