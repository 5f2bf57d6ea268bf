//! The agents' ticket pages: the list (views, filters, search, bulk changes), one ticket (thread, reply and
//! note composer with attachments, side panel), and the new-ticket form. Every form works without
//! JavaScript; with it, keyboard shortcuts work and changes show before the server has answered.

use super::api::*;
use crate::{
    auth::pages::LoadError,
    forms::{Field, FormError, error_of, textarea_text},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

fn param(name: &'static str) -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get(name).unwrap_or_default()))
}

fn options(choices: &[(&'static str, &'static str)], current: &str) -> impl IntoView + use<> {
    choices
        .iter()
        .map(|(value, label)| view! { <option value=*value selected=current == *value>{*label}</option> })
        .collect_view()
}

fn choice_options(choices: &[Choice], current: &str) -> impl IntoView + use<> {
    choices
        .iter()
        .map(|c| view! { <option value=c.value.clone() selected=current == c.value>{c.label.clone()}</option> })
        .collect_view()
}

/// The keyboard shortcuts of a page, listed in a disclosure that `?` opens (and that works as a plain
/// disclosure without JavaScript). A key clicks or focuses the element marked `data-key="<key>"`; on the
/// list, `j`/`k` move between tickets and `x` selects the focused one.
#[component]
fn Shortcuts(keys: &'static [(&'static str, &'static str)]) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, on_key);
        on_cleanup(move || handle.remove());
    }
    view! {
        <details class="shortcuts" id="shortcuts">
            <summary>"Keyboard shortcuts " <kbd>"?"</kbd></summary>
            <dl>
                {keys.iter().map(|(key, what)| view! { <dt><kbd>{*key}</kbd></dt><dd>{*what}</dd> }).collect_view()}
                <dt><kbd>"?"</kbd></dt><dd>"Show or hide this list"</dd>
            </dl>
        </details>
    }
}

#[cfg(feature = "hydrate")]
fn on_key(event: leptos::ev::KeyboardEvent) {
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys::{HtmlElement, HtmlInputElement};
    if event.ctrl_key() || event.meta_key() || event.alt_key() || event.default_prevented() {
        return;
    }
    let document = document();
    if let Some(active) = document.active_element() {
        let tag = active.tag_name().to_lowercase();
        if matches!(tag.as_str(), "input" | "textarea" | "select") || active.has_attribute("contenteditable") {
            if event.key() == "Escape"
                && let Ok(active) = active.dyn_into::<HtmlElement>()
            {
                let _ = active.blur();
            }
            return;
        }
    }
    let key = event.key();
    if key == "?" {
        if let Some(details) = document.get_element_by_id("shortcuts") {
            let _ = details.toggle_attribute("open");
        }
        event.prevent_default();
        return;
    }
    let rows: Vec<HtmlElement> = document
        .query_selector_all("a.ticket-link")
        .ok()
        .map(|list| {
            (0..list.length())
                .filter_map(|i| list.item(i)?.dyn_into::<HtmlElement>().ok())
                .collect()
        })
        .unwrap_or_default();
    if !rows.is_empty() && (key == "j" || key == "k" || key == "x") {
        let active = document.active_element();
        let current = rows
            .iter()
            .position(|row| active.as_ref().is_some_and(|a| a.is_same_node(Some(row))));
        if key == "x" {
            if let Some(i) = current
                && let Ok(Some(row)) = rows[i].closest("tr")
                && let Ok(Some(checkbox)) = row.query_selector("input[type=checkbox]")
                && let Ok(checkbox) = checkbox.dyn_into::<HtmlInputElement>()
            {
                checkbox.click();
            }
        } else {
            let next = match (current, key.as_str()) {
                (None, _) => 0,
                (Some(i), "j") => (i + 1).min(rows.len() - 1),
                (Some(i), _) => i.saturating_sub(1),
            };
            let _ = rows[next].focus();
        }
        event.prevent_default();
        return;
    }
    let selector = format!("[data-key=\"{}\"]", key.replace(['"', '\\'], ""));
    let Ok(Some(target)) = document.query_selector(&selector) else {
        return;
    };
    let Ok(target) = target.dyn_into::<HtmlElement>() else {
        return;
    };
    event.prevent_default();
    let tag = target.tag_name().to_lowercase();
    if matches!(tag.as_str(), "textarea" | "select")
        || (tag == "input" && target.get_attribute("type").as_deref() != Some("radio"))
    {
        let _ = target.focus();
    } else {
        target.click();
    }
    if let Some(then) = target.get_attribute("data-focus")
        && let Some(element) = document.get_element_by_id(&then)
        && let Ok(element) = element.dyn_into::<HtmlElement>()
    {
        let _ = element.focus();
    }
}

const LIST_KEYS: &[(&str, &str)] = &[
    ("j / k", "Next / previous ticket"),
    ("Enter", "Open the focused ticket"),
    ("x", "Select the focused ticket"),
    ("/", "Search"),
    ("c", "New ticket"),
];

const TICKET_KEYS: &[(&str, &str)] = &[
    ("r", "Reply"),
    ("n", "Internal note"),
    ("a", "Assign to me"),
    ("j / k", "Next / previous ticket"),
    ("u", "Back to the list"),
];

fn list_query() -> Memo<ListQuery> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
            ListQuery {
                status: get("status"),
                priority: get("priority"),
                assignee: get("assignee"),
                category: get("category"),
                tag: get("tag"),
                requester: get("requester"),
                sort: get("sort"),
                after: get("after"),
                q: get("q"),
            }
        })
    })
}

#[component]
pub fn TicketList() -> impl IntoView {
    let slug = param("slug");
    let query = list_query();
    let bulk = ServerAction::<BulkUpdate>::new();
    let save = ServerAction::<SaveView>::new();
    let unsave = ServerAction::<DeleteView>::new();
    let add_category = ServerAction::<CreateCategory>::new();
    let remove_category = ServerAction::<DeleteCategory>::new();
    let bulk_error = error_of(bulk.value());
    let save_error = error_of(save.value());
    let category_error = error_of(add_category.value());
    let list = Resource::new(
        move || {
            (
                slug.get(),
                query.get(),
                bulk.version().get()
                    + save.version().get()
                    + unsave.version().get()
                    + add_category.version().get()
                    + remove_category.version().get(),
            )
        },
        // Boxed: on the server this future is the whole server function, which the resource would
        // otherwise move by value through several wrappers on every page.
        |(slug, query, _)| Box::pin(ticket_list(slug, query)),
    );
    view! {
        <Title text="Tickets"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(view) => {
                        let q = query.get_untracked();
                        view! { <ListBody view q bulk save unsave add_category remove_category bulk_error save_error category_error/> }.into_any()
                    }
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
#[allow(clippy::too_many_arguments)]
fn ListBody(
    view: ListView,
    q: ListQuery,
    bulk: ServerAction<BulkUpdate>,
    save: ServerAction<SaveView>,
    unsave: ServerAction<DeleteView>,
    add_category: ServerAction<CreateCategory>,
    remove_category: ServerAction<DeleteCategory>,
    bulk_error: Signal<Option<crate::error::AppError>>,
    save_error: Signal<Option<crate::error::AppError>>,
    category_error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    let ListView {
        slug,
        workspace,
        is_admin,
        counts,
        rows,
        next,
        searching,
        agents,
        categories,
        tags,
        saved,
        me: _,
    } = view;
    let base = format!("/w/{slug}/tickets");
    let current_query = q.to_query_string();
    let here = if current_query.is_empty() {
        base.clone()
    } else {
        format!("{base}?{current_query}")
    };
    let builtin = [
        ("My open", "status=unsolved&assignee=me", counts.my_open),
        ("Unassigned", "status=unsolved&assignee=none", counts.unassigned),
        ("All open", "status=unsolved", counts.all_open),
        ("Recently solved", "status=solved&sort=updated", counts.recently_solved),
    ];
    let get = |v: &Option<String>| v.clone().unwrap_or_default();
    let next_link = next.map(|cursor| {
        let sep = if current_query.is_empty() { "?" } else { "&" };
        format!("{here}{sep}after={}", encode(&cursor))
    });
    let status_choices: Vec<(&str, &str)> = [
        ("", "Any status"),
        ("unsolved", "Unsolved"),
        ("solved", "Solved or closed"),
    ]
    .into_iter()
    .chain(STATUSES)
    .collect();
    let priority_choices: Vec<(&str, &str)> = [("", "Any priority")].into_iter().chain(PRIORITIES).collect();
    let sorts = [
        ("updated", "Recently updated"),
        ("oldest", "Waiting longest"),
        ("newest", "Newest"),
    ];
    let empty = rows.is_empty();
    view! {
        <div class="tickets-layout">
            <aside class="views-panel" aria-label="Views">
                <p><a class="button primary" href=format!("{base}/new") data-key="c">"New ticket"</a></p>
                <h2>"Views"</h2>
                <ul class="view-list">
                    {builtin.into_iter().map(|(name, query, count)| {
                        let active = current_query == query;
                        view! {
                            <li>
                                <a href=format!("{base}?{query}") aria-current=active.then_some("page")>
                                    <span>{name}</span> <span class="count">{count}</span>
                                </a>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                {(!saved.is_empty()).then(|| view! {
                    <h2>"Your views"</h2>
                    <ul class="view-list">
                        {saved.into_iter().map(|v| {
                            let slug = slug.clone();
                            view! {
                                <li>
                                    <a href=format!("{base}?{}", v.query)>{v.name.clone()}</a>
                                    <ActionForm action=unsave attr:class="inline">
                                        <input type="hidden" name="slug" value=slug/>
                                        <input type="hidden" name="id" value=v.id/>
                                        <button type="submit" class="link" aria-label=format!("Delete the view {}", v.name)>"×"</button>
                                    </ActionForm>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                })}
                {(!current_query.is_empty()).then({
                    let slug = slug.clone();
                    let current_query = current_query.clone();
                    move || view! {
                    <ActionForm action=save>
                        <FormError error=save_error/>
                        <input type="hidden" name="slug" value=slug/>
                        <input type="hidden" name="query" value=current_query.clone()/>
                        <Field label="Save these filters as" name="name" error=save_error/>
                        <button type="submit">"Save view"</button>
                    </ActionForm>
                }})}
                {is_admin.then({
                    let slug = slug.clone();
                    let categories = categories.clone();
                    move || {
                    let slug_add = slug.clone();
                    view! {
                        <h2>"Categories"</h2>
                        <ul class="view-list">
                            {categories.into_iter().map(|c| {
                                let slug = slug.clone();
                                view! {
                                    <li>
                                        <span>{c.label.clone()}</span>
                                        <ActionForm action=remove_category attr:class="inline">
                                            <input type="hidden" name="slug" value=slug/>
                                            <input type="hidden" name="id" value=c.value.clone()/>
                                            <button type="submit" class="link" aria-label=format!("Delete the category {}", c.label)>"×"</button>
                                        </ActionForm>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <ActionForm action=add_category>
                            <input type="hidden" name="slug" value=slug_add/>
                            <Field label="New category" name="category_name" error=category_error/>
                            <button type="submit">"Add category"</button>
                        </ActionForm>
                    }
                }})}
                <Shortcuts keys=LIST_KEYS/>
            </aside>
            <section class="tickets-main" aria-labelledby="tickets-title">
                <h1 id="tickets-title">{workspace} " — tickets"</h1>
                <form method="get" action=base.clone() class="filters" role="search">
                    <div class="field search">
                        <label for="search">"Search"</label>
                        <input id="search" name="q" type="search" value=get(&q.q) data-key="/" placeholder="Words in subjects, messages, requesters"/>
                    </div>
                    <div class="field">
                        <label for="filter-status">"Status"</label>
                        <select id="filter-status" name="status">{options(&status_choices, &get(&q.status))}</select>
                    </div>
                    <div class="field">
                        <label for="filter-priority">"Priority"</label>
                        <select id="filter-priority" name="priority">{options(&priority_choices, &get(&q.priority))}</select>
                    </div>
                    <div class="field">
                        <label for="filter-assignee">"Assignee"</label>
                        <select id="filter-assignee" name="assignee">
                            {options(&[("", "Anyone"), ("me", "Me"), ("none", "Unassigned")], &get(&q.assignee))}
                            {choice_options(&agents, &get(&q.assignee))}
                        </select>
                    </div>
                    <div class="field">
                        <label for="filter-category">"Category"</label>
                        <select id="filter-category" name="category">
                            <option value="">"Any category"</option>
                            {choice_options(&categories, &get(&q.category))}
                        </select>
                    </div>
                    <div class="field">
                        <label for="filter-tag">"Tag"</label>
                        <input id="filter-tag" name="tag" list="known-tags" value=get(&q.tag)/>
                        <datalist id="known-tags">{tags.into_iter().map(|t| view! { <option value=t/> }).collect_view()}</datalist>
                    </div>
                    <div class="field">
                        <label for="filter-requester">"Requester email"</label>
                        <input id="filter-requester" name="requester" type="email" value=get(&q.requester)/>
                    </div>
                    <div class="field">
                        <label for="filter-sort">"Order"</label>
                        <select id="filter-sort" name="sort">{options(&sorts, &get(&q.sort))}</select>
                    </div>
                    <button type="submit">"Apply"</button>
                    <a href=base.clone()>"Clear"</a>
                </form>
                <ActionForm action=bulk>
                    <input type="hidden" name="slug" value=slug.clone()/>
                    <input type="hidden" name="back" value=here.clone()/>
                    <FormError error=bulk_error/>
                    {move || bulk_error.get().and_then(|e| e.for_field("ids")).map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                    {move || matches!(bulk.value().get(), Some(Ok(_))).then(|| {
                        let n = bulk.value().get().and_then(Result::ok).unwrap_or(0);
                        view! { <p class="notice-ok" role="status">{format!("{n} tickets changed.")}</p> }
                    })}
                    {if empty {
                        view! { <p class="empty">{if searching { "No ticket matches every word." } else { "No tickets in this view." }}</p> }.into_any()
                    } else {
                        view! {
                            <fieldset class="bulk-bar">
                                <legend>"Change the selected tickets"</legend>
                                <label for="bulk-status" class="visually-hidden">"Status"</label>
                                <select id="bulk-status" name="status">
                                    <option value="">"Status…"</option>
                                    {options(&STATUSES, "")}
                                </select>
                                <label for="bulk-priority" class="visually-hidden">"Priority"</label>
                                <select id="bulk-priority" name="priority">
                                    <option value="">"Priority…"</option>
                                    {options(&PRIORITIES, "")}
                                </select>
                                <label for="bulk-assignee" class="visually-hidden">"Assignee"</label>
                                <select id="bulk-assignee" name="assignee">
                                    <option value="">"Assignee…"</option>
                                    <option value="me">"Me"</option>
                                    <option value="none">"Unassigned"</option>
                                    {choice_options(&agents, "")}
                                </select>
                                <label for="bulk-tag" class="visually-hidden">"Add tag"</label>
                                <input id="bulk-tag" name="add_tag" placeholder="Add tag"/>
                                <button type="submit">"Apply to selected"</button>
                            </fieldset>
                            <table class="ticket-table">
                                <thead>
                                    <tr>
                                        <th scope="col"><span class="visually-hidden">"Select"</span></th>
                                        <th scope="col">"#"</th>
                                        <th scope="col">"Subject"</th>
                                        <th scope="col">"Requester"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Priority"</th>
                                        <th scope="col">"Assignee"</th>
                                        <th scope="col">"Updated"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows.into_iter().enumerate().map(|(i, row)| {
                                        let updated_label = row.updated_label();
                                        let TicketRow { number, id, subject, status, priority, requester, assignee, updated, snippet } = row;
                                        let [href, row_class, check_name, check_id, check_label, badge] =
                                            row_attributes(&base, i, number, &priority, &status);
                                        view! {
                                            <tr class=row_class>
                                                <td>
                                                    <input type="checkbox" name=check_name value=id id=check_id aria-label=check_label/>
                                                </td>
                                                <td>{number}</td>
                                                <td>
                                                    <a class="ticket-link" href=href>{subject}</a>
                                                    {snippet.map(|s| view! { <p class="snippet" inner_html=s></p> })}
                                                </td>
                                                <td>{requester}</td>
                                                <td><span class=badge>{status_label(&status)}</span></td>
                                                <td>{priority_label(&priority)}</td>
                                                <td>{assignee.unwrap_or_else(|| "—".into())}</td>
                                                <td><time datetime=updated>{updated_label}</time></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                </ActionForm>
                {next_link.map(|href| view! { <p class="pager"><a href=href rel="next">"Next page →"</a></p> })}
            </section>
        </div>
    }
}

/// A list row's attribute values: its link, its class, its checkbox's name, id and label, and its status
/// badge's class. The server joins them with `concat`: there `format!`'s machinery cost several times the
/// copying, 4.5 % of the busiest page's instructions. The browser keeps `format!`, which its bundle already
/// carries (with `concat` the main wasm module grew by 21 KB brotli).
fn row_attributes(base: &str, i: usize, number: i64, priority: &str, status: &str) -> [String; 6] {
    #[cfg(feature = "ssr")]
    {
        let n = number.to_string();
        [
            [base, "/", &n].concat(),
            ["priority-", priority].concat(),
            ["ids[", &i.to_string(), "]"].concat(),
            ["select-", &n].concat(),
            ["Select ticket ", &n].concat(),
            ["badge status-", status].concat(),
        ]
    }
    #[cfg(not(feature = "ssr"))]
    {
        [
            format!("{base}/{number}"),
            format!("priority-{priority}"),
            format!("ids[{i}]"),
            format!("select-{number}"),
            format!("Select ticket {number}"),
            format!("badge status-{status}"),
        ]
    }
}

#[component]
pub fn TicketPage() -> impl IntoView {
    let slug = param("slug");
    let number = param("number");
    let update = ServerAction::<UpdateTicket>::new();
    let take = ServerAction::<AssignToMe>::new();
    let edit = ServerAction::<EditMessage>::new();
    let update_error = error_of(update.value());
    let edit_error = error_of(edit.value());
    let ticket = Resource::new(
        move || {
            (
                slug.get(),
                number.get(),
                update.version().get() + take.version().get() + edit.version().get(),
            )
        },
        // Boxed, as the list's.
        |(slug, number, _)| {
            Box::pin(async move {
                match number.parse::<i64>() {
                    Ok(number) => ticket_page(slug, number).await,
                    Err(_) => Err(crate::error::AppError::NotFound),
                }
            })
        },
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match ticket.await {
                    Ok(view) => view! { <TicketBody view update take edit update_error edit_error/> }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A message's files: images as thumbnails, every file as a download link with its size.
#[component]
pub fn AttachmentList(files: Vec<AttachmentView>) -> impl IntoView {
    (!files.is_empty()).then(|| {
        view! {
            <ul class="attachments">
                {files.into_iter().map(|a| view! {
                    <li>
                        {a.is_image.then(|| view! {
                            <a href=a.url.clone()><img class="thumb" src=format!("{}?inline=1", a.url) alt=a.name.clone() loading="lazy"/></a>
                        })}
                        <a href=a.url.clone() download=a.name.clone()>{a.name.clone()}</a> " (" {a.size.clone()} ")"
                    </li>
                }).collect_view()}
            </ul>
        }
    })
}

#[component]
fn TicketBody(
    view: TicketView,
    update: ServerAction<UpdateTicket>,
    take: ServerAction<AssignToMe>,
    edit: ServerAction<EditMessage>,
    update_error: Signal<Option<crate::error::AppError>>,
    edit_error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    let TicketView {
        slug,
        workspace,
        id: _,
        number,
        subject,
        status,
        priority,
        requester_name,
        requester_email,
        assignee_id,
        category_id,
        tags,
        created,
        thread,
        agents,
        categories,
        me,
        draft,
        limits,
        rating,
    } = view;
    let base = format!("/w/{slug}/tickets");
    // Shown at once while the change is on its way (and put right by the answer).
    let shown_status = {
        let status = status.clone();
        Signal::derive(move || update.input().get().map(|i| i.status).unwrap_or_else(|| status.clone()))
    };
    let shown_priority = {
        let priority = priority.clone();
        Signal::derive(move || {
            update
                .input()
                .get()
                .map(|i| i.priority)
                .unwrap_or_else(|| priority.clone())
        })
    };
    let assignee_value = match assignee_id {
        Some(id) => id.to_string(),
        None => "none".into(),
    };
    let mine = assignee_id == Some(me);
    let draft = draft.unwrap_or_default();
    let note_draft = draft.kind == "note";
    view! {
        <Title text=format!("#{number} {subject}")/>
        <div class="ticket-layout">
            <section class="ticket-main" aria-labelledby="ticket-title">
                <nav class="crumbs" aria-label="Breadcrumb">
                    <a href=base.clone() data-key="u">{workspace} " tickets"</a>
                    <span class="pager">
                        <a href=format!("{base}/{}", number + 1) data-key="k" rel="prev">"← #" {number + 1}</a>
                        {(number > 1).then(|| view! { <a href=format!("{base}/{}", number - 1) data-key="j" rel="next">"#" {number - 1} " →"</a> })}
                    </span>
                </nav>
                <h1 id="ticket-title">"#" {number} " " {subject.clone()}</h1>
                <p class="ticket-meta">
                    <span class=move || format!("badge status-{}", shown_status.get())>{move || status_label(&shown_status.get())}</span>
                    " " <span class="badge">{move || priority_label(&shown_priority.get())}</span>
                    " · " {requester_name.clone()} " <" {requester_email.clone()} "> · opened " {created}
                </p>
                <ol class="thread">
                    {thread.into_iter().map(|m| {
                        let slug = slug.clone();
                        if m.kind == "event" {
                            return view! {
                                <li class="event"><span inner_html=m.html.clone()></span> " · " {m.author.clone()} " · " <time datetime=m.at_iso.clone()>{m.at_label()}</time></li>
                            }.into_any();
                        }
                        let note = m.kind == "note";
                        view! {
                            <li class=if note { "message note" } else { "message reply" }>
                                <header>
                                    <strong>{m.author.clone()}</strong>
                                    {note.then(|| view! { <span class="badge note-badge">"Internal note"</span> })}
                                    " · " <time datetime=m.at_iso.clone()>{m.at_label()}</time>
                                    {m.edited.then_some(" · edited")}
                                </header>
                                <div class="body" inner_html=m.html.clone()></div>
                                <AttachmentList files=m.attachments.clone()/>
                                {m.editable_body.clone().map(|body| view! {
                                    <details class="edit">
                                        <summary>"Edit"</summary>
                                        <ActionForm action=edit>
                                            <FormError error=edit_error/>
                                            <input type="hidden" name="slug" value=slug.clone()/>
                                            <input type="hidden" name="number" value=number/>
                                            <input type="hidden" name="message_id" value=m.id/>
                                            <label for=format!("edit-{}", m.id)>"Your message"</label>
                                            <textarea id=format!("edit-{}", m.id) name="body" rows="5" required>{textarea_text(body)}</textarea>
                                            <button type="submit">"Save"</button>
                                        </ActionForm>
                                    </details>
                                })}
                            </li>
                        }.into_any()
                    }).collect_view()}
                </ol>
                <form class="composer" method="post" enctype="multipart/form-data" action=format!("{base}/{number}/reply") id="reply">
                    <fieldset class="kind">
                        <legend>"Write"</legend>
                        <label><input type="radio" name="kind" value="reply" checked=!note_draft data-key="r" data-focus="composer-body"/> "Public reply"</label>
                        <label><input type="radio" name="kind" value="note" checked=note_draft data-key="n" data-focus="composer-body"/> "Internal note (agents only)"</label>
                    </fieldset>
                    {(!draft.error.is_empty()).then(|| view! { <p class="field-error" id="composer-error" role="alert">{draft.error.clone()}</p> })}
                    <label for="composer-body">"Message (Markdown)"</label>
                    <textarea id="composer-body" name="body" rows="6" required
                        aria-invalid=(!draft.error.is_empty()).then_some("true")
                        aria-describedby=(!draft.error.is_empty()).then_some("composer-error")>{textarea_text(draft.body.clone())}</textarea>
                    <label for="composer-files">"Attachments"</label>
                    <p class="hint">{limits}</p>
                    <input id="composer-files" name="files" type="file" multiple/>
                    <label for="composer-status">"Then set the status to"</label>
                    <select id="composer-status" name="status">
                        <option value="">"(leave as it is)"</option>
                        {options(&STATUSES, "")}
                    </select>
                    <button type="submit" class="primary">"Send"</button>
                </form>
            </section>
            <aside class="ticket-side" aria-label="Ticket details">
                {rating.map(|r| view! {
                    <section class=format!("rating rating-{}", r.score) aria-label="Requester's rating">
                        <h2>"Rating"</h2>
                        <p><strong>{if r.score == "good" { "👍 Good" } else { "👎 Bad" }}</strong> " · " {r.at}</p>
                        {(!r.comment.is_empty()).then(|| view! { <blockquote>{r.comment.clone()}</blockquote> })}
                    </section>
                })}
                {(!mine).then(|| {
                    let slug = slug.clone();
                    view! {
                        <ActionForm action=take>
                            <input type="hidden" name="slug" value=slug/>
                            <input type="hidden" name="number" value=number/>
                            <button type="submit" data-key="a">"Assign to me"</button>
                        </ActionForm>
                    }
                })}
                <ActionForm action=update>
                    <FormError error=update_error/>
                    <input type="hidden" name="slug" value=slug.clone()/>
                    <input type="hidden" name="number" value=number/>
                    <div class="field">
                        <label for="side-status">"Status"</label>
                        <select id="side-status" name="status">{options(&STATUSES, &status)}</select>
                    </div>
                    <div class="field">
                        <label for="side-priority">"Priority"</label>
                        <select id="side-priority" name="priority">{options(&PRIORITIES, &priority)}</select>
                    </div>
                    <div class="field">
                        <label for="side-assignee">"Assignee"</label>
                        <select id="side-assignee" name="assignee">
                            <option value="none" selected=assignee_id.is_none()>"Unassigned"</option>
                            {choice_options(&agents, &assignee_value)}
                        </select>
                    </div>
                    <div class="field">
                        <label for="side-category">"Category"</label>
                        <select id="side-category" name="category">
                            <option value="none" selected=category_id.is_none()>"None"</option>
                            {choice_options(&categories, &category_id.map(|c| c.to_string()).unwrap_or_default())}
                        </select>
                    </div>
                    <Field label="Tags" name="tags" required=false hint="Separated by commas" value=tags.join(", ") error=update_error/>
                    <button type="submit" class="primary">"Save changes"</button>
                </ActionForm>
                <Shortcuts keys=TICKET_KEYS/>
            </aside>
        </div>
    }
}

#[component]
pub fn NewTicket() -> impl IntoView {
    let slug = param("slug");
    let create = ServerAction::<CreateTicket>::new();
    let error = error_of(create.value());
    let form = Resource::new(move || slug.get(), new_ticket_form);
    let kept = move |name: &'static str| error.get().and_then(|e| e.value(name)).unwrap_or_default();
    view! {
        <Title text="New ticket"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(NewTicketView { slug, workspace, agents, categories, me: _ }) => view! {
                        <section class="panel" aria-labelledby="new-title">
                            <p><a href=format!("/w/{slug}/tickets")>{workspace} " tickets"</a></p>
                            <h1 id="new-title">"New ticket"</h1>
                            <ActionForm action=create>
                                <FormError error/>
                                <input type="hidden" name="slug" value=slug.clone()/>
                                <Field label="Requester's email" name="requester_email" kind="email" error/>
                                <Field label="Requester's name" name="requester_name" required=false hint="Leave empty for a known requester" error/>
                                <Field label="Subject" name="subject" error/>
                                <div class="field">
                                    <label for="field-body">"Description (Markdown)"</label>
                                    <textarea id="field-body" name="body" rows="8" required
                                        aria-invalid=move || error.get().and_then(|e| e.for_field("body")).is_some().then_some("true")>{move || textarea_text(kept("body"))}</textarea>
                                    {move || error.get().and_then(|e| e.for_field("body")).map(|m| view! { <p class="field-error">{m}</p> })}
                                </div>
                                <div class="field">
                                    <label for="field-priority">"Priority"</label>
                                    <select id="field-priority" name="priority">{options(&PRIORITIES, "normal")}</select>
                                </div>
                                <div class="field">
                                    <label for="field-category">"Category"</label>
                                    <select id="field-category" name="category">
                                        <option value="">"None"</option>
                                        {choice_options(&categories, "")}
                                    </select>
                                </div>
                                <div class="field">
                                    <label for="field-assignee">"Assignee"</label>
                                    <select id="field-assignee" name="assignee">
                                        <option value="">"Unassigned"</option>
                                        <option value="me">"Me"</option>
                                        {choice_options(&agents, "")}
                                    </select>
                                </div>
                                <Field label="Tags" name="tags" required=false hint="Separated by commas" error/>
                                <button type="submit" class="primary">"Open ticket"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
