//! Workspace slugs: the `{slug}` in `/w/{slug}/…` and in the portal's address.

use std::fmt;

/// Words that name, or may one day name, a path of the application itself.
const RESERVED: &[&str] = &[
    "about",
    "account",
    "accounts",
    "admin",
    "api",
    "app",
    "assets",
    "auth",
    "billing",
    "blog",
    "dashboard",
    "docs",
    "ferrodesk",
    "healthz",
    "help",
    "login",
    "logout",
    "mail",
    "new",
    "offline",
    "pkg",
    "portal",
    "pricing",
    "privacy",
    "readyz",
    "register",
    "root",
    "security",
    "settings",
    "signin",
    "signout",
    "signup",
    "static",
    "status",
    "support",
    "system",
    "terms",
    "www",
];

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    pub fn parse(input: &str) -> Result<Slug, String> {
        let slug = input.trim();
        if !(3..=40).contains(&slug.len()) {
            return Err("A workspace address must be 3 to 40 characters long.".into());
        }
        if !slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err("A workspace address may use only lowercase letters, digits and hyphens.".into());
        }
        if slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
            return Err("A workspace address cannot start or end with a hyphen, or have two in a row.".into());
        }
        if RESERVED.contains(&slug) {
            return Err(format!("“{slug}” is reserved; please choose another address."));
        }
        Ok(Slug(slug.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An address made from an organization's name, for when the person signing up leaves it empty:
    /// ASCII letters and digits kept, everything else a single hyphen ("Café Noir, Inc." → "caf-noir-inc").
    pub fn suggest(name: &str) -> String {
        let mut slug = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let mut slug = slug.trim_end_matches('-').to_owned();
        slug.truncate(40);
        slug.trim_end_matches('-').to_owned()
    }
}

#[cfg(test)]
mod suggest_tests {
    use super::Slug;

    #[test]
    fn a_name_becomes_a_valid_address() {
        assert_eq!(Slug::suggest("Café Noir, Inc."), "caf-noir-inc");
        assert_eq!(Slug::suggest("  ACME  "), "acme");
        assert!(Slug::parse(&Slug::suggest(&"Very long name ".repeat(10))).is_ok());
        assert_eq!(Slug::suggest("日本"), "");
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_slugs_are_accepted() {
        for slug in ["acme", "acme-support", "a1b", "x".repeat(40).as_str(), "team-42"] {
            assert_eq!(Slug::parse(slug).unwrap().as_str(), slug);
        }
    }

    #[test]
    fn bad_slugs_are_refused_with_a_reason() {
        for slug in [
            "ab",
            &"x".repeat(41),
            "Acme",
            "acme_support",
            "acme support",
            "-acme",
            "acme-",
            "ac--me",
            "émile",
        ] {
            assert!(Slug::parse(slug).is_err(), "{slug}");
        }
    }

    #[test]
    fn reserved_words_are_refused() {
        for slug in ["admin", "api", "www", "portal", "pkg"] {
            assert!(Slug::parse(slug).unwrap_err().contains("reserved"), "{slug}");
        }
    }
}
