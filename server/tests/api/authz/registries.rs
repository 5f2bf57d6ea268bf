//! The tables against the registries: every server function, hand-written route and page has a row.

use super::tables::{FUNCTIONS, PAGE_ROWS, ROUTE_ROWS};
use std::collections::BTreeSet;

/// Fails with the difference between what a registry holds and what a table has rows for.
fn assert_same(what: &str, registered: BTreeSet<String>, table: BTreeSet<String>, advice: &str) {
    let missing: Vec<&String> = registered.difference(&table).collect();
    let stale: Vec<&String> = table.difference(&registered).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "the {what} and tests/api/authz/ differ.\n  without a row ({advice}): {missing:?}\n  rows for \
         nothing that exists (remove them): {stale:?}"
    );
}

fn no_duplicates<'a>(what: &str, keys: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for key in keys {
        assert!(seen.insert(key.to_owned()), "{what}: two rows for {key}");
    }
    seen
}

/// The server functions' table against their inventory (every `#[server]` registers itself there).
pub(super) fn check_function_table() {
    let mut registered = BTreeSet::new();
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        // The matrix posts forms; a function answering GET would need calling differently.
        assert_eq!(
            method.as_str(),
            "POST",
            "{path} is not a POST: teach tests/api/authz/ to call it"
        );
        registered.insert(path.trim_start_matches("/api/").to_owned());
    }
    let table = no_duplicates("FUNCTIONS", FUNCTIONS.iter().map(|f| f.path));
    assert_same(
        "registered server functions",
        registered,
        table,
        "add it to FUNCTIONS saying who may call it",
    );
}

/// The routes' table against the list beside the router.
pub(super) fn check_route_table() {
    let listed = server::startup::ROUTES
        .iter()
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    let keys: Vec<String> = ROUTE_ROWS
        .iter()
        .map(|r| format!("{} {}", r.method, r.pattern))
        .collect();
    let table = no_duplicates("ROUTE_ROWS", keys.iter().map(String::as_str));
    assert_same(
        "routes in server::startup::ROUTES",
        listed,
        table,
        "add it to ROUTE_ROWS saying who may call it",
    );
}

/// The pages' table against the Leptos route list the router is built from.
pub(super) fn check_page_table() {
    let generated = server::startup::route_list()
        .into_iter()
        .map(|route| route.path().to_owned())
        .collect();
    let table = no_duplicates("PAGE_ROWS", PAGE_ROWS.iter().map(|(pattern, _, _)| *pattern));
    assert_same(
        "pages of the app's router",
        generated,
        table,
        "add it to PAGE_ROWS saying who may see it",
    );
}

#[test]
fn every_server_function_has_a_row_in_the_authorization_matrix() {
    check_function_table();
}

#[test]
fn every_hand_written_route_has_a_row_in_the_authorization_matrix() {
    check_route_table();
}

#[tokio::test]
async fn every_page_has_a_row_in_the_authorization_matrix() {
    check_page_table();
}
