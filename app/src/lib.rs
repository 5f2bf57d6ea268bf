//! The Ferrodesk web app: components, routes and server functions shared by the server (`ssr`) and the
//! browser (`hydrate`).
#![forbid(unsafe_code)]

mod layout;
mod pages;
#[cfg(feature = "ssr")]
pub mod shell;
pub mod theme;

use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};

/// Paths the service worker and the server agree on.
pub mod paths {
    /// The page the service worker shows when the network is gone.
    pub const OFFLINE: &str = "/offline";
}

/// The root component, rendered inside `<body>` on the server and hydrated in the browser.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|text: String| {
            if text.is_empty() { "Ferrodesk".to_owned() } else { format!("{text} · Ferrodesk") }
        }/>
        <Router>
            <layout::Shell>
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=StaticSegment("") view=pages::Home/>
                    <Route path=StaticSegment("offline") view=pages::Offline/>
                </Routes>
            </layout::Shell>
        </Router>
    }
}
