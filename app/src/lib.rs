//! The Ferrodesk web app: components, routes and server functions shared by the server (`ssr`) and the
//! browser (`hydrate`).
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod auth;
#[cfg(feature = "ssr")]
pub mod context;
pub mod error;
mod forms;
pub mod insights;
pub mod layout;
mod pages;
pub mod portal;
#[cfg(feature = "ssr")]
pub mod shell;
pub mod theme;
pub mod tickets;
pub mod workspace;

use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::{
    Lazy, LazyRoute, OptionalParamSegment, ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
    lazy_route,
};

/// A route whose code the browser loads only when it is visited: the page component moves into a chunk of
/// its own (with `cargo leptos build --split`), and the initial wasm stays small as pages are added.
macro_rules! lazy_page {
    ($($route:ident => $page:path),* $(,)?) => {
        $(
            pub struct $route;

            #[lazy_route]
            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                fn view(_this: Self) -> AnyView {
                    $page().into_any()
                }
            }
        )*
    };
}

lazy_page! {
    SignUpRoute => auth::pages::SignUp,
    SignInRoute => auth::pages::SignIn,
    SignInCodeRoute => auth::pages::SignInCode,
    MagicLinkRoute => auth::pages::MagicLink,
    MagicLinkConfirmRoute => auth::pages::MagicLinkConfirm,
    ForgotPasswordRoute => auth::pages::ForgotPassword,
    ResetPasswordRoute => auth::pages::ResetPassword,
    AccountRoute => auth::pages::Account,
    InvitationRoute => workspace::pages::AcceptInvitationPage,
    WorkspaceRoute => workspace::home::WorkspaceHome,
    TeamRoute => workspace::pages::TeamPage,
    SettingsRoute => workspace::settings::Settings,
    TicketsRoute => tickets::pages::TicketList,
    TicketRoute => tickets::pages::TicketPage,
    NewTicketRoute => tickets::pages::NewTicket,
    PortalHomeRoute => portal::pages::PortalHomePage,
    PortalSignInRoute => portal::pages::PortalSignInPage,
    PortalTicketRoute => portal::pages::PortalTicketPage,
    ContactRoute => portal::pages::ContactPage,
    EmbedContactRoute => portal::pages::EmbedContactPage,
    RateRoute => portal::pages::RatePage,
    ReportsRoute => insights::pages::Reports,
    FeedbackRoute => insights::pages::FeedbackInbox,
}

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

    view! {
        <Title formatter=|text: String| {
            // leptos_meta writes the title into the server's HTML without escaping it, and titles carry
            // what people typed (subjects, workspace names): a `<` could close the element. `‹` looks alike.
            let text = text.replace('<', "‹");
            if text.is_empty() { "Ferrodesk".to_owned() } else { format!("{text} · Ferrodesk") }
        }/>
        <Router>
            <layout::Shell>
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=StaticSegment("") view=pages::Home ssr=SsrMode::Async/>
                    <Route path=StaticSegment("offline") view=pages::Offline/>
                    <Route path=StaticSegment("signup") view={Lazy::<SignUpRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("signin") view={Lazy::<SignInRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("signin"), StaticSegment("code")) view={Lazy::<SignInCodeRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("signin"), StaticSegment("link")) view={Lazy::<MagicLinkRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("signin"), StaticSegment("link"), ParamSegment("token")) view={Lazy::<MagicLinkConfirmRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("password"), StaticSegment("forgot")) view={Lazy::<ForgotPasswordRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("password"), StaticSegment("reset"), ParamSegment("token")) view={Lazy::<ResetPasswordRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("account") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("invitations"), ParamSegment("token")) view={Lazy::<InvitationRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("w"), ParamSegment("slug")) view={Lazy::<WorkspaceRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("w"), ParamSegment("slug"), StaticSegment("team")) view={Lazy::<TeamRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("w"), ParamSegment("slug"), StaticSegment("settings"), OptionalParamSegment("topic")) view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("w"), ParamSegment("slug"), StaticSegment("tickets")) view={Lazy::<TicketsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("w"), ParamSegment("slug"), StaticSegment("tickets"), StaticSegment("new")) view={Lazy::<NewTicketRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("w"), ParamSegment("slug"), StaticSegment("tickets"), ParamSegment("number")) view={Lazy::<TicketRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("w"), ParamSegment("slug"), StaticSegment("reports")) view={Lazy::<ReportsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("w"), ParamSegment("slug"), StaticSegment("feedback")) view={Lazy::<FeedbackRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("p"), ParamSegment("slug")) view={Lazy::<PortalHomeRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("p"), ParamSegment("slug"), StaticSegment("signin"), ParamSegment("token")) view={Lazy::<PortalSignInRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("p"), ParamSegment("slug"), StaticSegment("tickets"), ParamSegment("number")) view={Lazy::<PortalTicketRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("p"), ParamSegment("slug"), StaticSegment("contact")) view={Lazy::<ContactRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("p"), ParamSegment("slug"), StaticSegment("rate"), ParamSegment("token")) view={Lazy::<RateRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("embed"), ParamSegment("slug"), StaticSegment("contact")) view={Lazy::<EmbedContactRoute>::new()} ssr=SsrMode::Async/>
                </Routes>
            </layout::Shell>
        </Router>
    }
}
