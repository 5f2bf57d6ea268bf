//! A workspace's start page: the member's open tickets, the unassigned ones, what others changed since the
//! last visit, the views' counts, the addresses to share, and the owner's getting-started checklist.

use super::api::{ChecklistItem, HomeView, workspace_home};
use crate::{
    auth::pages::LoadError,
    forms::CopyField,
    tickets::api::{TicketRow, ViewCounts},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

#[component]
pub fn WorkspaceHome() -> impl IntoView {
    let params = use_params_map();
    let slug = Memo::new(move |_| params.with(|p| p.get("slug").unwrap_or_default()));
    let home = Resource::new(move || slug.get(), |slug| Box::pin(workspace_home(slug)));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(home) => view! { <HomeBody home/> }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn HomeBody(home: HomeView) -> impl IntoView {
    let HomeView {
        workspace,
        counts,
        my_open,
        unassigned,
        changed,
        more_changed,
        since,
        portal_url,
        contact_url,
        checklist,
    } = home;
    let tickets = format!("/w/{}/tickets", workspace.slug);
    let since_text = match &since {
        Some(at) => format!("Since your last visit, which ended {at}."),
        None => "Changes others make show here from your next visit on.".to_owned(),
    };
    view! {
        <Title text=workspace.name.clone()/>
        <div class="home">
            <div class="page-head">
                <h1 id="ws-title">{workspace.name.clone()}</h1>
                <a class="button primary" href=format!("{tickets}/new")>"New ticket"</a>
            </div>
            {(!workspace.verified).then(|| view! {
                <p class="banner" role="status">
                    "Your email address is not verified yet, so you cannot invite anyone. "
                    <A href="/account">"Enter your code"</A>
                </p>
            })}
            {checklist.map(|items| view! { <Checklist items/> })}
            <Counts counts tickets=tickets.clone()/>
            <div class="home-lists">
                <TicketBox title="Your open tickets" id="mine" rows=my_open tickets=tickets.clone()
                    query="status=unsolved&assignee=me" empty="Nothing is assigned to you."/>
                <TicketBox title="Unassigned" id="unassigned" rows=unassigned tickets=tickets.clone()
                    query="status=unsolved&assignee=none" empty="Every open ticket has someone on it."/>
                <section class="home-box" aria-labelledby="changed-title">
                    <h2 id="changed-title">"What changed"</h2>
                    <p class="hint">{since_text}</p>
                    {if changed.is_empty() {
                        since.is_some().then(|| view! { <p class="empty">"Nothing changed since then."</p> }).into_any()
                    } else {
                        view! { <Rows rows=changed tickets=tickets.clone()/> }.into_any()
                    }}
                    {more_changed.then(|| view! { <p><a href=format!("{tickets}?sort=updated")>"More, by last update"</a></p> })}
                </section>
            </div>
            <section class="home-box share" aria-labelledby="share-title">
                <h2 id="share-title">"Where customers reach you"</h2>
                <CopyField label="Customer portal" id="portal-url" text=portal_url what=" the portal address"/>
                <CopyField label="Contact form" id="contact-url" text=contact_url what=" the contact form address"/>
            </section>
        </div>
    }
}

#[component]
fn Checklist(items: Vec<ChecklistItem>) -> impl IntoView {
    let done = items.iter().filter(|i| i.done).count();
    let total = items.len();
    view! {
        <section class="home-box checklist" aria-labelledby="checklist-title">
            <h2 id="checklist-title">"Getting started"</h2>
            <p class="hint">{format!("{done} of {total} done. This list goes away when every step is.")}</p>
            <ol>
                {items.into_iter().map(|item| view! {
                    <li class:done=item.done>
                        <span class="tick" aria-hidden="true">{if item.done { "✓" } else { "" }}</span>
                        <span>
                            <a href=item.href>{item.label}</a>
                            <span class="visually-hidden">{if item.done { " (done)" } else { " (to do)" }}</span>
                            <br/><span class="hint">{item.hint}</span>
                        </span>
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn Counts(counts: ViewCounts, tickets: String) -> impl IntoView {
    let tiles = [
        ("My open", "status=unsolved&assignee=me", counts.my_open),
        ("Unassigned", "status=unsolved&assignee=none", counts.unassigned),
        ("All open", "status=unsolved", counts.all_open),
        ("Solved in 7 days", "status=solved&sort=updated", counts.recently_solved),
    ];
    view! {
        <ul class="count-tiles" aria-label="Ticket counts">
            {tiles.into_iter().map(|(label, query, n)| view! {
                <li><a href=format!("{tickets}?{query}")><strong>{n}</strong> <span>{label}</span></a></li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn TicketBox(
    title: &'static str,
    id: &'static str,
    rows: Vec<TicketRow>,
    tickets: String,
    query: &'static str,
    empty: &'static str,
) -> impl IntoView {
    let heading = format!("{id}-title");
    let labelled_by = heading.clone();
    let all = format!("{tickets}?{query}");
    view! {
        <section class="home-box" aria-labelledby=labelled_by>
            <h2 id=heading>{title}</h2>
            {if rows.is_empty() {
                view! { <p class="empty">{empty}</p> }.into_any()
            } else {
                view! { <Rows rows tickets/> <p><a href=all>"See all"</a></p> }.into_any()
            }}
        </section>
    }
}

#[component]
fn Rows(rows: Vec<TicketRow>, tickets: String) -> impl IntoView {
    view! {
        <ul class="home-tickets">
            {rows.into_iter().map(|row| {
                let updated = row.updated_label();
                view! {
                    <li>
                        <a href=format!("{tickets}/{}", row.number)>"#" {row.number} " " {row.subject}</a>
                        <span class="hint">
                            <span class=format!("badge status-{}", row.status.as_str())>{row.status.label()}</span>
                            " " {row.requester} " · " <time datetime=row.updated>{updated}</time>
                        </span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
