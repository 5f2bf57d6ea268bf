//! The Ferrodesk web app: components, routes and server functions shared by the server (`ssr`) and the
//! browser (`hydrate`).
#![forbid(unsafe_code)]

pub mod auth;
pub mod error;
mod forms;
mod layout;
mod pages;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod shell;
pub mod theme;
pub mod workspace;

use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

/// Paths the service worker and the server agree on.
pub mod paths {
    /// The page the service worker shows when the network is gone.
    pub const OFFLINE: &str = "/offline";
}

/// The root component, rendered inside `<body>` on the server and hydrated in the browser.
///
/// Every route renders completely on the server before the first byte is sent (`SsrMode::Async`), so
/// pages with data work without JavaScript.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    use auth::pages as a;
    use workspace::pages as w;

    view! {
        <Title formatter=|text: String| {
            if text.is_empty() { "Ferrodesk".to_owned() } else { format!("{text} · Ferrodesk") }
        }/>
        <Router>
            <layout::Shell>
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=StaticSegment("") view=pages::Home ssr=SsrMode::Async/>
                    <Route path=StaticSegment("offline") view=pages::Offline/>
                    <Route path=StaticSegment("signup") view=a::SignUp ssr=SsrMode::Async/>
                    <Route path=StaticSegment("signin") view=a::SignIn ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("signin"), StaticSegment("code")) view=a::SignInCode ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("signin"), StaticSegment("link")) view=a::MagicLink ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("signin"), StaticSegment("link"), ParamSegment("token")) view=a::MagicLinkConfirm ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("password"), StaticSegment("forgot")) view=a::ForgotPassword ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("password"), StaticSegment("reset"), ParamSegment("token")) view=a::ResetPassword ssr=SsrMode::Async/>
                    <Route path=StaticSegment("account") view=a::Account ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("invitations"), ParamSegment("token")) view=w::AcceptInvitationPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("w"), ParamSegment("slug")) view=w::WorkspaceHome ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("w"), ParamSegment("slug"), StaticSegment("team")) view=w::Team ssr=SsrMode::Async/>
                </Routes>
            </layout::Shell>
        </Router>
    }
}
