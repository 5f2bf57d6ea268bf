//! The frame around every page: skip link; a header with the workspace switcher, the account menu and the
//! theme switch; on a workspace's pages its navigation (a side bar on a wide screen, a tab bar at the
//! bottom of a phone's); footer.
//!
//! Who is signed in is asked again on every navigation, so the header follows a sign-in, a sign-up, a
//! sign-out or a session that ended elsewhere without a reload; pages whose actions change the navigation's
//! counts or saved views say so through [`refresh_shell`]. The menus and the navigation come from the server
//! as HTML ([`api::shell_state`]).

pub mod api;
#[cfg(feature = "ssr")]
mod nav;

/// The built-in views of the ticket list: name and query string.
pub const VIEWS: [(&str, &str); 4] = [
    ("My open", "status=unsolved&assignee=me"),
    ("Unassigned", "status=unsolved&assignee=none"),
    ("All open", "status=unsolved"),
    ("Recently solved", "status=solved&sort=updated"),
];

use crate::theme::ThemeSwitch;
use api::{ShellView, shell_state};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// Bumped to make the frame ask the server again (see [`refresh_shell`]).
#[derive(Clone, Copy)]
struct ShellVersion(RwSignal<u32>);

/// Asks the frame to read its state again: after an action that changes the view counts or the saved
/// views without leaving the page.
pub fn refresh_shell() {
    if let Some(ShellVersion(version)) = use_context::<ShellVersion>() {
        version.update(|v| *v = v.wrapping_add(1));
    }
}

/// The workspace in a path `/w/<slug>/…`, if it is one.
#[cfg(feature = "ssr")]
fn workspace_slug(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/w/")?;
    let slug = rest.split('/').next().unwrap_or_default();
    (!slug.is_empty()).then(|| slug.to_owned())
}

#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let version = RwSignal::new(0u32);
    provide_context(ShellVersion(version));
    let location = use_location();
    let (path, search) = (location.pathname, location.search);
    // Boxed, as the ticket pages' resources: moved by value, the server function's future would be copied
    // through the resource's wrappers on every page.
    let state = Resource::new(
        move || (path.get(), search.get(), version.get()),
        |(path, search, _)| Box::pin(shell_state(path, search)),
    );
    // The customer side (portal, enquiry form) has no staff navigation; an embedded form has no frame at all.
    let embedded = move || path.with(|p| p.starts_with("/embed/"));
    let public = move || path.with(|p| p.starts_with("/p/") || p.starts_with("/embed/"));
    let read = move || async move { state.await.unwrap_or_default() };
    // One boundary for the header and the navigation: both wait for the same answer, and every boundary
    // is code in the bundle every page loads. While a new answer is on its way the old frame stays.
    view! {
        <Show when=move || !embedded()>
            <a class="skip-link" href="#main">"Skip to content"</a>
        </Show>
        <div class="frame">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let ShellView { signed_in, menus, nav } = read().await;
                    (!embedded()).then(|| view! {
                        <header class="site-header">
                            <div class="bar">
                                <a href="/" class="brand">
                                    <img src="/favicon.svg" alt="" width="28" height="28"/>
                                    <span>"Ferrodesk"</span>
                                </a>
                                {(!public()).then(|| if signed_in {
                                    view! { <div class="slot" inner_html=menus></div> }.into_any()
                                } else {
                                    view! {
                                        <nav aria-label="Main" class="public-nav">
                                            <ul>
                                                <li><a href="/#features">"Features"</a></li>
                                                <li><a href="/signin">"Sign in"</a></li>
                                                <li><a href="/signup">"Sign up"</a></li>
                                            </ul>
                                        </nav>
                                    }.into_any()
                                })}
                                <ThemeSwitch/>
                            </div>
                        </header>
                        <div class="slot" inner_html=nav></div>
                    })
                })}
            </Transition>
            <main id="main" tabindex="-1">{children()}</main>
        </div>
        <Show when=move || !embedded()>
            <footer class="site-footer">
                <p>"Ferrodesk — a help desk where every organization has its own database."</p>
            </footer>
        </Show>
    }
}
