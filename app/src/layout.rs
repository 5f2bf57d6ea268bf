//! The frame around every page: skip link, header with navigation and theme switch, footer.

use crate::theme::ThemeSwitch;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Shell(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <div class="bar">
                <A href="/" attr:class="brand">
                    <img src="/favicon.svg" alt="" width="28" height="28"/>
                    <span>"Ferrodesk"</span>
                </A>
                <nav aria-label="Main">
                    <ul>
                        <li><A href="/">"Home"</A></li>
                        <li><a href="/#features">"Features"</a></li>
                        <li><a href="/#self-host">"Self-host"</a></li>
                    </ul>
                </nav>
                <ThemeSwitch/>
            </div>
        </header>
        <main id="main" tabindex="-1">{children()}</main>
        <footer class="site-footer">
            <p>"Ferrodesk — a help desk where every organization has its own database."</p>
        </footer>
    }
}
