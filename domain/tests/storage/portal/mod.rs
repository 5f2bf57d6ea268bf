//! The customer side in storage, on SQLite and PostgreSQL: what a portal session reaches, portal sign-in
//! links, enquiries, ratings and feedback.

mod access;
mod enquiries;
mod feedback;
mod ratings;
mod sign_in_links;

use crate::helpers::agent;
use domain::workspace::{
    customers,
    tickets::{Actor, Author},
};

fn customer_actor(customer: &customers::Customer, slug: &str) -> Actor {
    Actor {
        author: Author::Customer {
            customer_id: customer.id,
            name: customer.name.clone(),
        },
        ..agent(0, "", slug)
    }
}

fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0u8; 32]);
    bytes
}

/// The token at the end of the first link in `text` that starts with `prefix`.
fn token_after(text: &str, prefix: &str) -> String {
    let start = text.find(prefix).unwrap_or_else(|| panic!("{prefix} in {text}")) + prefix.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}
