//! The ticket list: filters and search, saving them as a view, bulk changes to the selected tickets, and the
//! rows. The views themselves are in the workspace's navigation.

use super::{choice_options, keyboard::Shortcuts, options, param};
use crate::{
    auth::pages::LoadError,
    forms::{Field, FormError, error_of},
    tickets::api::*,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const LIST_KEYS: &[(&str, &str)] = &[
    ("j / k", "Next / previous ticket"),
    ("Enter", "Open the focused ticket"),
    ("x", "Select the focused ticket"),
    ("/", "Search"),
    ("c", "New ticket"),
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
    let bulk_error = error_of(bulk.value());
    let save_error = error_of(save.value());
    // The navigation's counts and saved views follow what these change.
    Effect::watch(
        move || bulk.version().get() + save.version().get(),
        |_, _, _| crate::layout::refresh_shell(),
        false,
    );
    let list = Resource::new(
        move || (slug.get(), query.get(), bulk.version().get() + save.version().get()),
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
                        view! { <ListBody view q bulk save bulk_error save_error/> }.into_any()
                    }
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ListBody(
    view: ListView,
    q: ListQuery,
    bulk: ServerAction<BulkUpdate>,
    save: ServerAction<SaveView>,
    bulk_error: Signal<Option<crate::error::AppError>>,
    save_error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    let ListView {
        slug,
        workspace,
        rows,
        next,
        searching,
        agents,
        categories,
        tags,
        me: _,
    } = view;
    let base = format!("/w/{slug}/tickets");
    let current_query = q.to_query_string();
    let here = if current_query.is_empty() {
        base.clone()
    } else {
        format!("{base}?{current_query}")
    };
    let title = crate::layout::VIEWS
        .iter()
        .find(|(_, query)| *query == current_query)
        .map_or("Tickets", |(name, _)| *name);
    // Any filter besides the words searched for opens the filters, unless it is one of the built-in views.
    let filtering = !crate::layout::VIEWS.iter().any(|(_, query)| *query == current_query)
        && (q.status.is_some()
            || q.priority.is_some()
            || q.assignee.is_some()
            || q.category.is_some()
            || q.tag.is_some()
            || q.requester.is_some()
            || q.sort.is_some());
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
    .chain(Status::choices())
    .collect();
    let priority_choices: Vec<(&str, &str)> = [("", "Any priority")].into_iter().chain(Priority::choices()).collect();
    let statuses: Vec<(&str, &str)> = Status::choices().collect();
    let priorities: Vec<(&str, &str)> = Priority::choices().collect();
    let sorts: Vec<(&str, &str)> = Sort::choices().collect();
    let empty = rows.is_empty();
    let save_form = (!current_query.is_empty()).then(|| {
        let (slug, current_query) = (slug.clone(), current_query.clone());
        view! {
            <details class="save-view" open=move || save_error.get().is_some()>
                <summary>"Save these filters as a view"</summary>
                <ActionForm action=save>
                    <FormError error=save_error/>
                    <input type="hidden" name="slug" value=slug/>
                    <input type="hidden" name="query" value=current_query/>
                    <Field label="Name of the view" name="name" error=save_error/>
                    <button type="submit">"Save view"</button>
                </ActionForm>
            </details>
        }
    });
    view! {
        <div class="tickets-layout">
            <section class="tickets-main" aria-labelledby="tickets-title">
                <div class="page-head">
                    <h1 id="tickets-title">{title} <span class="visually-hidden">" — " {workspace}</span></h1>
                    <a class="button primary" href=format!("{base}/new") data-key="c">"New ticket"</a>
                </div>
                <form method="get" action=base.clone() class="filters" role="search">
                    <div class="field search">
                        <label for="search">"Search"</label>
                        <input id="search" name="q" type="search" value=get(&q.q) data-key="/" placeholder="Words in subjects, messages, requesters"/>
                    </div>
                    <button type="submit" class="search-go">"Search"</button>
                    <details class="more-filters" open=filtering>
                        <summary>"Filters"</summary>
                        <div class="filter-fields">
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
                        </div>
                    </details>
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
                                    {options(&statuses, "")}
                                </select>
                                <label for="bulk-priority" class="visually-hidden">"Priority"</label>
                                <select id="bulk-priority" name="priority">
                                    <option value="">"Priority…"</option>
                                    {options(&priorities, "")}
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
                                            row_attributes(&base, i, number, priority.as_str(), status.as_str());
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
                                                <td><span class=badge>{status.label()}</span></td>
                                                <td>{priority.label()}</td>
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
                {save_form}
                <Shortcuts keys=LIST_KEYS/>
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
