//! One ticket's page: the thread (with an agent's corrections and attachments), the reply and note composer,
//! and the side panel of the ticket's fields.

use super::{choice_options, keyboard::Shortcuts, options, param};
use crate::{
    auth::pages::LoadError,
    forms::{Field, FormError, error_of, textarea_text},
    tickets::api::*,
};
use leptos::prelude::*;
use leptos_meta::Title;

const TICKET_KEYS: &[(&str, &str)] = &[
    ("r", "Reply"),
    ("n", "Internal note"),
    ("a", "Assign to me"),
    ("j / k", "Next / previous ticket"),
    ("u", "Back to the list"),
];

#[component]
pub fn TicketPage() -> impl IntoView {
    let slug = param("slug");
    let number = param("number");
    let update = ServerAction::<UpdateTicket>::new();
    let take = ServerAction::<AssignToMe>::new();
    let edit = ServerAction::<EditMessage>::new();
    let update_error = error_of(update.value());
    let edit_error = error_of(edit.value());
    // The navigation's counts follow a change of status or assignee.
    Effect::watch(
        move || update.version().get() + take.version().get(),
        |_, _, _| crate::layout::refresh_shell(),
        false,
    );
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
    let shown_status = Signal::derive(move || {
        update
            .input()
            .with(|i| i.as_ref().and_then(|i| Status::parse(&i.status)))
            .unwrap_or(status)
    });
    let shown_priority = Signal::derive(move || {
        update
            .input()
            .with(|i| i.as_ref().and_then(|i| Priority::parse(&i.priority)))
            .unwrap_or(priority)
    });
    let statuses: Vec<(&str, &str)> = Status::choices().collect();
    let priorities: Vec<(&str, &str)> = Priority::choices().collect();
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
                    <span class=move || format!("badge status-{}", shown_status.get())>{move || shown_status.get().label()}</span>
                    " " <span class="badge">{move || shown_priority.get().label()}</span>
                    " · " {requester_name.clone()} " <" {requester_email.clone()} "> · opened " {created}
                </p>
                <ol class="thread">
                    {thread.into_iter().map(|m| {
                        let slug = slug.clone();
                        if m.kind == MessageKind::Event {
                            return view! {
                                <li class="event"><span inner_html=m.html.clone()></span> " · " {m.author.clone()} " · " <time datetime=m.at_iso.clone()>{m.at_label()}</time></li>
                            }.into_any();
                        }
                        let note = m.kind == MessageKind::Note;
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
                        {options(&statuses, "")}
                    </select>
                    <button type="submit" class="primary">"Send"</button>
                </form>
            </section>
            <aside class="ticket-side" aria-label="Ticket details">
                {rating.map(|r| view! {
                    <section class=format!("rating rating-{}", r.score) aria-label="Requester's rating">
                        <h2>"Rating"</h2>
                        <p><strong>{r.score.label()}</strong> " · " {r.at}</p>
                        {(!r.comment.is_empty()).then(|| view! { <blockquote>{r.comment.clone()}</blockquote> })}
                    </section>
                })}
                // A phone shows the thread first and these folded; a wide screen shows them open beside it.
                <details class="fold">
                <summary>"Status, priority, assignee"</summary>
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
                        <select id="side-status" name="status">{options(&statuses, status.as_str())}</select>
                    </div>
                    <div class="field">
                        <label for="side-priority">"Priority"</label>
                        <select id="side-priority" name="priority">{options(&priorities, priority.as_str())}</select>
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
                </details>
                <Shortcuts keys=TICKET_KEYS/>
            </aside>
        </div>
    }
}
