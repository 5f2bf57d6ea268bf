//! The Settings area of a workspace (owners and admins change things; agents may look): an overview, and a
//! page per topic with the topics' list beside it. Each topic the product gains gets its page here.

use super::api::*;
use crate::{
    auth::pages::LoadError,
    forms::{CopyButton, CopyField, Field, FormError, error_of, textarea_text},
    insights::api::{SavePortalSettings, portal_settings},
    tickets::api::{CreateCategory, DeleteCategory, categories},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// The topics: path under `settings/`, title, and what is set there.
const TOPICS: [(&str, &str, &str); 4] = [
    (
        "portal",
        "Portal and contact form",
        "The portal's colour, the organizations that share tickets, the addresses to share and the form for your own site.",
    ),
    ("categories", "Categories", "What tickets can be filed under."),
    (
        "sign-in",
        "Sign-in security",
        "Whether staff enter a code sent to their email after their password.",
    ),
    (
        "team",
        "Team and invitations",
        "Invite people, change their roles, remove members.",
    ),
];

fn slug() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("slug").unwrap_or_default()))
}

/// A settings page: the topics beside `children`, the topic `current` marked.
#[component]
fn SettingsPage(current: &'static str, title: &'static str, children: Children) -> impl IntoView {
    let slug = slug().get_untracked();
    let base = format!("/w/{slug}/settings");
    view! {
        <Title text=title/>
        <div class="settings-layout">
            <nav class="settings-nav" aria-label="Settings">
                <ul>
                    <li><a href=base.clone() aria-current=current.is_empty().then_some("page")>"Overview"</a></li>
                    {TOPICS.iter().map(|(key, label, _)| view! {
                        <li><a href=format!("{base}/{key}") aria-current=(current == *key).then_some("page")>{*label}</a></li>
                    }).collect_view()}
                </ul>
            </nav>
            <div class="settings-main">
                <h1>{title}</h1>
                {children()}
            </div>
        </div>
    }
}

/// The Settings area's one route: the overview, or the topic in the address.
#[component]
pub fn Settings() -> impl IntoView {
    let params = use_params_map();
    let topic = Memo::new(move |_| params.with(|p| p.get("topic").unwrap_or_default()));
    move || match topic.get().as_str() {
        "" => view! { <Overview/> }.into_any(),
        "portal" => view! { <PortalSettings/> }.into_any(),
        "categories" => view! { <Categories/> }.into_any(),
        "sign-in" => view! { <SignInSecurity/> }.into_any(),
        "team" => view! { <TeamSettings/> }.into_any(),
        _ => view! { <crate::pages::NotFound/> }.into_any(),
    }
}

/// The topics. Read through the team, so that only the workspace's members see even this page.
#[component]
fn Overview() -> impl IntoView {
    let slug = slug();
    let base = format!("/w/{}/settings", slug.get_untracked());
    let team = Resource::new(move || slug.get(), team);
    view! {
        <SettingsPage current="" title="Settings">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let base = base.clone();
                    Suspend::new(async move {
                        match team.await {
                            Ok(team) => view! {
                                {(!team.can_manage).then(|| view! { <OnlyManagers/> })}
                                <ul class="topic-list">
                                    {TOPICS.iter().map(|(key, label, what)| view! {
                                        <li><a href=format!("{base}/{key}")>{*label}</a><p class="hint">{*what}</p></li>
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(error) => view! { <LoadError error/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </SettingsPage>
    }
}

#[component]
fn PortalSettings() -> impl IntoView {
    let slug = slug();
    let save = ServerAction::<SavePortalSettings>::new();
    let error = error_of(save.value());
    let settings = Resource::new(
        move || (slug.get(), save.version().get()),
        |(slug, _)| portal_settings(slug),
    );
    view! {
        <SettingsPage current="portal" title="Portal and contact form">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(s) => {
                            // Each part erased on its own: as one type the page is too deep for the compiler.
                            let addresses = view! {
                                <section class="panel" aria-labelledby="addresses-title">
                                    <h2 id="addresses-title">"Addresses to share"</h2>
                                    <CopyField label="Customer portal" id="portal-url" text=s.portal_url.clone() what=" the portal address"/>
                                    <CopyField label="Contact form" id="contact-url" text=s.contact_url.clone() what=" the contact form address"/>
                                </section>
                            }.into_any();
                            let embed = view! {
                                <section class="panel" aria-labelledby="embed-title" id="embed">
                                    <h2 id="embed-title">"The contact form on your own site"</h2>
                                    <div class="field copyable">
                                        <label for="embed-snippet">"Paste this into a page of your site"</label>
                                        <textarea id="embed-snippet" readonly rows="4">{textarea_text(s.embed_snippet.clone())}</textarea>
                                        <div><CopyButton text=s.embed_snippet.clone() what=" the snippet"/></div>
                                    </div>
                                </section>
                            }.into_any();
                            let branding = if s.is_admin {
                                view! {
                                    <section class="panel" aria-labelledby="branding-title">
                                        <h2 id="branding-title">"Branding and organizations"</h2>
                                        <ActionForm action=save>
                                            <FormError error/>
                                            {move || save.value().get().and_then(Result::ok).map(|_| view! { <p class="notice-ok" role="status">"Saved."</p> })}
                                            <input type="hidden" name="slug" value=s.slug.clone()/>
                                            <Field label="Portal colour" name="brand_color" required=false hint="#rrggbb, for example #0b6bcb" value=s.brand_color.clone() error/>
                                            <Field label="Organizations: email domains whose customers see each other's requests" name="shared_domains" required=false hint="Separated by commas, for example acme.com, acme.co.uk" value=s.shared_domains.clone() error/>
                                            <button type="submit" class="primary">"Save portal settings"</button>
                                        </ActionForm>
                                    </section>
                                }.into_any()
                            } else {
                                view! { <OnlyManagers/> }.into_any()
                            };
                            view! { {branding} {addresses} {embed} }.into_any()
                        }
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Suspense>
        </SettingsPage>
    }
}

#[component]
fn OnlyManagers() -> impl IntoView {
    view! { <p class="hint">"Only owners and admins can change these settings."</p> }
}

#[component]
fn Categories() -> impl IntoView {
    let slug = slug();
    let add = ServerAction::<CreateCategory>::new();
    let remove = ServerAction::<DeleteCategory>::new();
    let add_error = error_of(add.value());
    let remove_error = error_of(remove.value());
    let list = Resource::new(
        move || (slug.get(), add.version().get() + remove.version().get()),
        |(slug, _)| categories(slug),
    );
    view! {
        <SettingsPage current="categories" title="Categories">
            <p class="hint">"Agents file tickets under a category and filter the list by it. Deleting one leaves its tickets without a category."</p>
            <FormError error=remove_error/>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) if list.is_empty() => view! { <p class="empty">"No categories yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="category-list">
                                {list.into_iter().map(|c| view! {
                                    <li>
                                        <span>{c.label.clone()}</span>
                                        <ActionForm action=remove attr:class="inline">
                                            <input type="hidden" name="slug" value=slug.get_untracked()/>
                                            <input type="hidden" name="id" value=c.value.clone()/>
                                            <button type="submit" class="danger">"Delete" <span class="visually-hidden">" the category " {c.label.clone()}</span></button>
                                        </ActionForm>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Suspense>
            <ActionForm action=add>
                <input type="hidden" name="slug" value=move || slug.get()/>
                <Field label="New category" name="category_name" error=add_error/>
                <button type="submit" class="primary">"Add category"</button>
            </ActionForm>
        </SettingsPage>
    }
}

#[component]
fn SignInSecurity() -> impl IntoView {
    let slug = slug();
    let code = ServerAction::<SetSignInCode>::new();
    let error = error_of(code.value());
    let team = Resource::new(move || (slug.get(), code.version().get()), |(slug, _)| team(slug));
    view! {
        <SettingsPage current="sign-in" title="Sign-in security">
            <FormError error/>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match team.await {
                        Ok(TeamView { workspace, can_manage, .. }) => {
                            let required = workspace.require_sign_in_code;
                            view! {
                                <p>
                                    {if required {
                                        "Staff enter a code sent to their email after their password."
                                    } else {
                                        "Staff sign in with their password alone."
                                    }}
                                </p>
                                {if can_manage {
                                    view! {
                                        <ActionForm action=code>
                                            <input type="hidden" name="slug" value=workspace.slug.clone()/>
                                            <input type="hidden" name="required" value=(!required).to_string()/>
                                            <button type="submit" class="primary">
                                                {if required { "Stop asking for an emailed code" } else { "Ask staff for an emailed code at sign-in" }}
                                            </button>
                                        </ActionForm>
                                    }.into_any()
                                } else {
                                    view! { <OnlyManagers/> }.into_any()
                                }}
                            }.into_any()
                        }
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Suspense>
        </SettingsPage>
    }
}

#[component]
fn TeamSettings() -> impl IntoView {
    view! {
        <SettingsPage current="team" title="Team and invitations">
            <super::pages::Team manage=true/>
        </SettingsPage>
    }
}
