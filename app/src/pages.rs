//! Pages that belong to no feature: the landing page, not found, offline.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn Home() -> impl IntoView {
    view! {
        <Title text=""/>
        <section class="hero" aria-labelledby="hero-title">
            <h1 id="hero-title">"The help desk that keeps every customer's data apart."</h1>
            <p class="lead">
                "Ferrodesk is a self-hostable help desk and issue tracker. Each organization that signs up gets "
                "its own dedicated database, so one team's tickets can never show up in another's."
            </p>
        </section>
        <section id="features" class="features" aria-labelledby="features-title">
            <h2 id="features-title">"What you get"</h2>
            <ul class="cards">
                <li>
                    <h3>"A database per workspace"</h3>
                    <p>"SQLite files by default, one PostgreSQL database per organization in production. No shared tables."</p>
                </li>
                <li>
                    <h3>"Fast on small machines"</h3>
                    <p>"Written in Rust. Pages are rendered on the server and work before any script has loaded."</p>
                </li>
                <li>
                    <h3>"Security you can check"</h3>
                    <p>"Argon2id passwords, revocable sessions, rate limits and encrypted tenant credentials, each backed by a test."</p>
                </li>
                <li>
                    <h3>"A portal for your customers"</h3>
                    <p>"Customers sign in with a link by email, follow their requests and rate the help they got."</p>
                </li>
                <li>
                    <h3>"Installs like an app"</h3>
                    <p>"Add Ferrodesk to a phone or desktop home screen; it tells you plainly when you are offline."</p>
                </li>
                <li>
                    <h3>"Delete means deleted"</h3>
                    <p>"Deleting a workspace removes its database, its files and its keys for good."</p>
                </li>
            </ul>
        </section>
        <section id="self-host" class="self-host" aria-labelledby="self-host-title">
            <h2 id="self-host-title">"Run it yourself"</h2>
            <p>"On a Debian machine with Rust and Node, one command builds and serves Ferrodesk with its embedded database:"</p>
            <pre><code>"make run"</code></pre>
            <p>"and one runs every test:"</p>
            <pre><code>"make test"</code></pre>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_status_not_found();
    view! {
        <Title text="Page not found"/>
        <section class="notice" aria-labelledby="not-found-title">
            <h1 id="not-found-title">"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <p><a href="/">"Go to the home page"</a></p>
        </section>
    }
}

#[cfg(feature = "ssr")]
fn set_status_not_found() {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}

#[component]
pub fn Offline() -> impl IntoView {
    view! {
        <Title text="Offline"/>
        <section class="notice" aria-labelledby="offline-title">
            <h1 id="offline-title">"You are offline"</h1>
            <p>
                "Ferrodesk cannot reach its server right now. Nothing you have saved is lost; "
                "check your connection and try again."
            </p>
            <p><a href="/">"Try again"</a></p>
        </section>
    }
}
