//! What the frame around every page needs to know: who is signed in, and for a page of one of their
//! workspaces, that workspace's navigation (the views' counts and the person's saved views).

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::tickets::api::{SavedViewItem, ViewCounts};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellView {
    /// Whether someone is signed in.
    pub signed_in: bool,
    /// The header's menus (workspace switcher, account), as HTML rendered on the server.
    pub menus: String,
    /// The navigation of the workspace the page is in, as HTML rendered on the server; empty outside the
    /// person's workspaces.
    pub nav: String,
}

/// A workspace as its navigation shows it.
#[cfg(feature = "ssr")]
pub struct NavWorkspace {
    pub slug: String,
    /// Owners and admins see the Settings area.
    pub manages: bool,
    pub counts: ViewCounts,
    pub saved: Vec<SavedViewItem>,
}

/// The frame's state for the page at `path` (with the query string `query`). A workspace in the path that
/// the person is not a member of gets no navigation; the page itself answers "not found".
///
/// The menus and the navigation come as HTML, rendered here: they are links and disclosures with nothing to
/// hydrate, and the browser's bundle, which every page loads, stays without their code.
#[server(endpoint = "shell")]
pub async fn shell_state(path: String, #[server(default)] query: String) -> Result<ShellView, AppError> {
    use crate::context::{Staff, now};
    use domain::auth::accounts::Role;
    let Some(person) = crate::auth::api::me().await? else {
        return Ok(ShellView::default());
    };
    let slug = super::workspace_slug(&path).filter(|slug| person.workspaces.iter().any(|w| &w.slug == slug));
    let workspace = match slug {
        Some(slug) => {
            let Staff {
                current,
                membership,
                ws,
                ..
            } = Staff::require(&slug, Role::Agent).await?;
            let nav = domain::workspace::views::nav(&ws, current.account.id, now()).await?;
            Some(NavWorkspace {
                slug: membership.slug,
                manages: membership.role.at_least(Role::Admin),
                counts: crate::tickets::support::counts(nav.counts),
                saved: nav
                    .saved
                    .into_iter()
                    .map(|v| SavedViewItem {
                        id: v.id,
                        name: v.name,
                        query: v.query,
                    })
                    .collect(),
            })
        }
        None => None,
    };
    let current = workspace.as_ref().map(|w| w.slug.clone());
    Ok(ShellView {
        signed_in: true,
        menus: super::nav::menus(person, current.as_deref()),
        nav: workspace.map_or_else(String::new, |w| super::nav::workspace_nav(w, &path, &query)),
    })
}
