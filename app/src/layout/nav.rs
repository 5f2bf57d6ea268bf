//! The header's menus (workspace switcher, account) and a workspace's navigation, rendered to HTML on the
//! server. Menus are `<details>` disclosures: they open with a click, Enter or Space, with or without
//! JavaScript, and a navigation renders them closed again. The forms in them (sign out, delete a saved view)
//! are plain posts to their server functions, which answer a plain post by going on (or back) to a page.

use super::{VIEWS, api::NavWorkspace};
use crate::{
    auth::api::{Person, SignOut},
    tickets::api::DeleteView,
};
use leptos::{prelude::*, server_fn::ServerFn, tachys::view::RenderHtml};

const SIGN_OUT: &str = <SignOut as ServerFn>::PATH;
const DELETE_VIEW: &str = <DeleteView as ServerFn>::PATH;

/// Up to two initials of a name, for the account button.
fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// The header's menus for `person`, in the workspace `current`.
pub fn menus(person: Person, current: Option<&str>) -> String {
    let Person {
        name,
        email,
        workspaces,
        ..
    } = person;
    let current_name = current
        .and_then(|slug| workspaces.iter().find(|w| w.slug == slug))
        .map(|w| w.name.clone());
    view! {
        <div class="menus">
            {(!workspaces.is_empty()).then(|| view! {
                <details class="menu switcher">
                    <summary>
                        <span class="visually-hidden">"Workspace: "</span>
                        <span class="menu-label">{current_name.unwrap_or_else(|| "Your workspaces".into())}</span>
                    </summary>
                    <nav class="menu-panel" aria-label="Workspaces">
                        <ul>
                            {workspaces.into_iter().map(|w| {
                                let here = current == Some(w.slug.as_str());
                                view! {
                                    <li>
                                        <a href=format!("/w/{}", w.slug) aria-current=here.then_some("true")>
                                            <span>{w.name}</span> <span class="muted">{w.role}</span>
                                        </a>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </nav>
                </details>
            })}
            <details class="menu account-menu">
                <summary>
                    <span class="avatar" aria-hidden="true">{initials(&name)}</span>
                    <span class="menu-label">{name.clone()}</span>
                    <span class="visually-hidden">" — account menu"</span>
                </summary>
                <div class="menu-panel">
                    <p class="who"><strong>{name}</strong><br/><span class="muted">{email}</span></p>
                    <ul>
                        <li><a href="/account">"Your account"</a></li>
                    </ul>
                    <form method="post" action=SIGN_OUT>
                        <button type="submit">"Sign out"</button>
                    </form>
                </div>
            </details>
        </div>
    }
    .to_html()
}

/// Which part of a workspace a path is in: "" for its home, else the segment after the slug.
fn section(path: &str) -> &str {
    path.splitn(4, '/')
        .nth(3)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
}

/// A workspace's navigation on the page at `path` (with the query string `query`), and on its ticket list
/// the views as tabs (which a phone shows instead of the side bar's list of views).
pub fn workspace_nav(workspace: NavWorkspace, path: &str, query: &str) -> String {
    let NavWorkspace {
        slug,
        manages,
        counts,
        saved,
    } = workspace;
    let query = query.trim_start_matches('?');
    let section = section(path).to_owned();
    let base = format!("/w/{slug}");
    let tickets = format!("{base}/tickets");
    let on_list = path == tickets;
    let numbers = [
        counts.my_open,
        counts.unassigned,
        counts.all_open,
        counts.recently_solved,
    ];
    let view_link = |(name, view_query): (&str, &str), n: i64| {
        let current = on_list && query == view_query;
        view! {
            <li>
                <a href=format!("{tickets}?{view_query}") aria-current=current.then_some("page")>
                    <span>{name.to_owned()}</span> <span class="count">{n}</span>
                </a>
            </li>
        }
    };
    // "page" on the item's own page, "true" anywhere else in its part of the workspace.
    let item = |target: &'static str, label: &'static str| {
        let href = format!("{base}{target}");
        let key = target.trim_start_matches('/');
        let current = if path == href {
            Some("page")
        } else {
            (!key.is_empty() && section == key).then_some("true")
        };
        view! { <li><a href=href aria-current=current>{label}</a></li> }
    };
    view! {
        <nav class="workspace-nav" aria-label="Workspace">
            <ul>
                {item("", "Home")}
                <li class="tickets-item">
                    <a href=format!("{tickets}?status=unsolved") aria-current=(section == "tickets").then_some("true")>
                        <span>"Tickets"</span> <span class="count">{counts.all_open}</span>
                    </a>
                    <ul class="views">
                        {VIEWS.into_iter().zip(numbers).map(|(v, n)| view_link(v, n)).collect_view()}
                        {saved.into_iter().map(|v| {
                            let current = on_list && query == v.query;
                            view! {
                                <li class="saved">
                                    <a href=format!("{tickets}?{}", v.query) aria-current=current.then_some("page")>{v.name.clone()}</a>
                                    <form method="post" action=DELETE_VIEW class="inline">
                                        <input type="hidden" name="slug" value=slug.clone()/>
                                        <input type="hidden" name="id" value=v.id/>
                                        <button type="submit" class="link" aria-label=format!("Delete the view {}", v.name)>"×"</button>
                                    </form>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </li>
                {item("/reports", "Reports")}
                {item("/feedback", "Feedback")}
                {item("/team", "Team")}
                {manages.then(|| item("/settings", "Settings"))}
            </ul>
        </nav>
        {on_list.then(|| view! {
            <nav class="view-tabs" aria-label="Views">
                <ul>{VIEWS.into_iter().zip(numbers).map(|(v, n)| view_link(v, n)).collect_view()}</ul>
            </nav>
        })}
    }
    .to_html()
}
