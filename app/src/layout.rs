//! The frame around every page: skip link, header with navigation, the signed-in person and the theme
//! switch, footer.

use crate::{
    auth::api::{SignOut, me},
    theme::ThemeSwitch,
};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    // Boxed, as the ticket pages' resources: moved by value, the server function's future would be copied
    // through the resource's wrappers on every page.
    let me = Resource::new(move || sign_out.version().get(), |_| Box::pin(me()));
    // The customer side (portal, enquiry form) has no staff navigation; an embedded form has no frame at all.
    let path = leptos_router::hooks::use_location().pathname;
    let embedded = move || path.with(|p| p.starts_with("/embed/"));
    let public = move || path.with(|p| p.starts_with("/p/") || p.starts_with("/embed/"));
    view! {
        <Show when=move || !embedded()>
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <div class="bar">
                <A href="/" attr:class="brand">
                    <img src="/favicon.svg" alt="" width="28" height="28"/>
                    <span>"Ferrodesk"</span>
                </A>
                <Show when=move || !public()>
                <nav aria-label="Main">
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match me.await {
                                Ok(Some(me)) => view! {
                                    <ul>
                                        {me.workspaces.into_iter().map(|w| view! {
                                            <li><a href=format!("/w/{}", w.slug)>{w.name}</a></li>
                                        }).collect_view()}
                                        <li><A href="/account">"Account"</A></li>
                                        <li>
                                            <ActionForm action=sign_out attr:class="inline">
                                                <button type="submit" class="link">"Sign out"</button>
                                            </ActionForm>
                                        </li>
                                    </ul>
                                }.into_any(),
                                _ => view! {
                                    <ul>
                                        <li><a href="/#features">"Features"</a></li>
                                        <li><A href="/signin">"Sign in"</A></li>
                                        <li><A href="/signup">"Sign up"</A></li>
                                    </ul>
                                }.into_any(),
                            }
                        })}
                    </Suspense>
                </nav>
                </Show>
                <ThemeSwitch/>
            </div>
        </header>
        </Show>
        <main id="main" tabindex="-1">{children()}</main>
        <Show when=move || !embedded()>
        <footer class="site-footer">
            <p>"Ferrodesk — a help desk where every organization has its own database."</p>
        </footer>
        </Show>
    }
}
