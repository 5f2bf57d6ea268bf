//! The new-ticket form.

use super::{choice_options, options, param};
use crate::{
    auth::pages::LoadError,
    forms::{Field, FormError, error_of, textarea_text},
    tickets::api::*,
};
use leptos::prelude::*;
use leptos_meta::Title;

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
                                <Field label="Requester's email" name="requester_email" kind="email" error check=vocab::EmailAddress::check/>
                                <Field label="Requester's name" name="requester_name" required=false hint="Leave empty for a known requester" error/>
                                <Field label="Subject" name="subject" error check=vocab::Subject::check/>
                                <div class="field">
                                    <label for="field-body">"Description (Markdown)"</label>
                                    <textarea id="field-body" name="body" rows="8" required
                                        aria-invalid=move || error.get().and_then(|e| e.for_field("body")).is_some().then_some("true")>{move || textarea_text(kept("body"))}</textarea>
                                    {move || error.get().and_then(|e| e.for_field("body")).map(|m| view! { <p class="field-error">{m}</p> })}
                                </div>
                                <div class="field">
                                    <label for="field-priority">"Priority"</label>
                                    <select id="field-priority" name="priority">{options(&Priority::choices().collect::<Vec<_>>(), Priority::default().as_str())}</select>
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
