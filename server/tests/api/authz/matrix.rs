//! The authorization matrix: every function, route and page as every principal; B's own lists and searches.

use super::registries::{check_function_table, check_page_table, check_route_table};
use super::tables::{FUNCTIONS, PAGE_ROWS, Page, ROUTE_ROWS};
use super::*;
use crate::{helpers::Backend, interleaved::excerpt};
use serde_json::Value;

impl World {
    /// Every server function as every principal. Returns the number of calls.
    async fn server_functions(&mut self) -> usize {
        let mut calls = 0;
        for row in FUNCTIONS {
            let mut principals = PRINCIPALS.to_vec();
            if matches!(row.rule, Rule::Staff(Need::Admin, _)) {
                principals.push(Who::OwnerA);
            }
            for who in principals {
                let cookie = match row.ends {
                    Ends::ThisSession => self.fresh_session(who).await,
                    Ends::Nothing | Ends::EverySession => self.cookie(who),
                };
                let form = self.fill_form(row.form, who.label());
                let (status, body) = self.call(row.path, &form, cookie.as_deref()).await;
                let label = format!("{} as {}", row.path, who.label());
                self.check(&label, who, row.rule.brand(), row.rule.expected(who), status, &body);
                calls += 1;
            }
            if row.ends == Ends::EverySession {
                self.sign_staff_in_again().await;
            }
        }
        calls
    }

    /// Every hand-written route as every principal. Returns the number of calls.
    async fn routes(&mut self) -> usize {
        // What the router answers for a path no route has: the app's 404 page. No route's answer may be
        // that (a route that stopped matching would look like a refusal otherwise).
        let (status, body) = self.get("/w/alpha/tickets/1/nowhere", None, false).await;
        assert_eq!(status, 404);
        assert!(body.contains("Page not found"), "{}", excerpt(&body));
        let mut calls = 0;
        for route in ROUTE_ROWS {
            for who in PRINCIPALS {
                let cookie = self.cookie(who);
                let path = self.fill(route.path, who.label());
                let (status, body) = if route.method == "GET" {
                    self.get(&path, cookie.as_deref(), false).await
                } else {
                    let fields = self.fill_form(route.fields, who.label());
                    self.post_multipart(&path, &fields, None, cookie.as_deref()).await
                };
                let label = format!("{} {} as {}", route.method, route.pattern, who.label());
                if body.contains("Page not found") {
                    self.problems
                        .push(format!("{label}: answered by the router's fallback, not the route"));
                }
                self.check(&label, who, route.rule.brand(), route.rule.expected(who), status, &body);
                calls += 1;
            }
        }
        calls
    }

    /// Every page as every principal. Returns the number of calls.
    async fn pages(&mut self) -> usize {
        let mut calls = 0;
        for (pattern, page, path) in PAGE_ROWS {
            for who in PRINCIPALS {
                let cookie = self.cookie(who);
                let path = self.fill(path, who.label());
                let (status, body) = self.get(&path, cookie.as_deref(), true).await;
                let label = format!("page {pattern} as {}", who.label());
                self.check(&label, who, *page == Page::Brand, page.expected(who), status, &body);
                calls += 1;
            }
        }
        calls
    }

    /// B's people in their own workspace: its lists, searches (A's word among them), team and pages hold
    /// nothing of A's.
    async fn b_lists_and_searches(&mut self) {
        for who in [Who::AgentB, Who::AdminB, Who::OwnerB] {
            let cookie = self.cookie(who);
            let customer = self.alpha.customer_email.clone();
            for (function, query) in [
                ("w/tickets", vec![]),
                ("w/tickets", vec![("query[q]", "alphacanary")]),
                ("w/tickets", vec![("query[q]", "canary")]),
                ("w/tickets", vec![("query[requester]", customer.as_str())]),
                ("w/tickets/counts", vec![]),
                ("w/team", vec![]),
                ("w/home", vec![]),
                ("shell", vec![("path", "/w/beta/tickets")]),
                ("w/feedback", vec![]),
                ("w/tickets/new", vec![]),
                ("w/settings/portal/show", vec![]),
                ("w/reports/satisfaction", vec![]),
            ] {
                let mut form = vec![("slug", "beta")];
                form.extend(query.iter().copied());
                let (status, body) = self.call(function, &pairs(&form), cookie.as_deref()).await;
                let label = format!("{function} {query:?} in B as {}", who.label());
                self.check(&label, who, false, 200, status, &body);
                let searched_a = query
                    .iter()
                    .any(|(name, value)| *value == "alphacanary" || name.starts_with("query[requester]"));
                if searched_a && status == 200 {
                    let rows = serde_json::from_str::<Value>(&body).unwrap_or(Value::Null)["rows"]
                        .as_array()
                        .map_or(usize::MAX, Vec::len);
                    if rows != 0 {
                        self.problems
                            .push(format!("{label}: LEAK: found {rows} rows for what only A holds"));
                    }
                }
            }
            // (Not a search page for A's word: its search box shows the word it was given.)
            for path in ["/w/beta/tickets", "/w/beta", "/account"] {
                let (status, body) = self.get(path, cookie.as_deref(), true).await;
                let label = format!("page {path} as {}", who.label());
                self.check(&label, who, false, 200, status, &body);
            }
        }
    }
}

async fn every_principal_gets_what_its_role_allows_and_nothing_of_another_workspace(backend: Backend) {
    check_function_table();
    check_route_table();
    check_page_table();
    let mut world = World::build(backend).await;
    let functions = world.server_functions().await;
    let routes = world.routes().await;
    let pages = world.pages().await;
    world.b_lists_and_searches().await;
    world.roles_are_unchanged().await;
    println!(
        "authorization matrix: {} server functions × {} principals ({functions} calls, A's owner included \
         where only an admin may), {} routes × {} ({routes} calls), {} pages × {} ({pages} calls)",
        FUNCTIONS.len(),
        PRINCIPALS.len(),
        ROUTE_ROWS.len(),
        PRINCIPALS.len(),
        PAGE_ROWS.len(),
        PRINCIPALS.len()
    );
    world.finish("authorization matrix", backend);
}

testkit::both_backends!(every_principal_gets_what_its_role_allows_and_nothing_of_another_workspace);
