//! The customer side's pages: the portal (sign-in by link, the customer's requests, a new request, one
//! request's thread with answer and close, feedback), the public enquiry form (also embeddable), and the
//! rating page. Every form works without JavaScript; the ones that carry files are plain multipart posts to
//! the server's handlers, which bring a refused form back with what was typed.

use super::api::*;
use crate::{
    auth::pages::{LoadError, no_referrer},
    error::AppError,
    forms::{Field, FormError, TurnstileWidget, error_of, textarea_text},
    tickets::pages::AttachmentList,
};
use leptos::prelude::*;
use leptos_meta::{Link, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

fn param(name: &'static str) -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get(name).unwrap_or_default()))
}

fn query(name: &'static str) -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get(name)))
}

/// The workspace's banner on every portal page, in its colour (from its brand stylesheet).
#[component]
fn BrandBar(brand: Brand, #[prop(optional)] signed_in: Option<String>) -> impl IntoView {
    let slug = brand.slug.clone();
    let sign_out = ServerAction::<PortalSignOut>::new();
    view! {
        <Link rel="stylesheet" href=format!("/p/{}/brand.css", brand.slug)/>
        <div class="brand-bar">
            <a class="brand-name" href=format!("/p/{}", brand.slug)>{brand.name.clone()} " support"</a>
            {signed_in.map(|who| view! {
                <span class="who">
                    {who} " · "
                    <ActionForm action=sign_out attr:class="inline">
                        <input type="hidden" name="slug" value=slug.clone()/>
                        <button type="submit" class="link">"Sign out"</button>
                    </ActionForm>
                </span>
            })}
        </div>
    }
}

/// A text area with its label and its error (from a kept draft or an action's error).
#[component]
fn TextArea(
    label: &'static str,
    name: &'static str,
    #[prop(into)] value: String,
    #[prop(into)] error: Option<String>,
    #[prop(default = 6)] rows: u32,
    #[prop(default = "portal")] prefix: &'static str,
    #[prop(default = true)] required: bool,
) -> impl IntoView {
    let id = format!("{prefix}-{name}");
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <textarea id=id name=name rows=rows required=required
                aria-invalid=error.is_some().then_some("true")
                aria-describedby=error.is_some().then(|| error_id.clone())>{textarea_text(value)}</textarea>
            {error.map(|m| view! { <p class="field-error" id=error_id>{m}</p> })}
        </div>
    }
}

/// A single-line input filled from a kept draft.
#[component]
fn DraftInput(
    label: &'static str,
    name: &'static str,
    draft: PortalDraft,
    #[prop(default = true)] required: bool,
    #[prop(default = "portal")] prefix: &'static str,
) -> impl IntoView {
    let id = format!("{prefix}-{name}");
    let error_id = format!("{id}-error");
    let error = draft.error_for(Some(name));
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id name=name type="text" required=required value=draft.value(name)
                aria-invalid=error.is_some().then_some("true")
                aria-describedby=error.is_some().then(|| error_id.clone())/>
            {error.map(|m| view! { <p class="field-error" id=error_id>{m}</p> })}
        </div>
    }
}

#[component]
pub fn PortalHomePage() -> impl IntoView {
    let slug = param("slug");
    let sent = query("sent");
    let request = ServerAction::<PortalRequestLink>::new();
    let error = error_of(request.value());
    let home = Resource::new(move || slug.get(), portal_home);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(home) => {
                        let brand = home.brand.clone();
                        match home.customer.clone() {
                            None => view! {
                                <Title text=format!("{} support", brand.name)/>
                                <BrandBar brand=brand.clone()/>
                                <section class="auth-card" aria-labelledby="portal-title">
                                    <h1 id="portal-title">"Your requests at " {brand.name.clone()}</h1>
                                    <Show
                                        when=move || sent.get().is_some()
                                        fallback=move || view! {
                                            <p>"Enter your email address. We send you a link that signs you in for 10 minutes, once."</p>
                                            <ActionForm action=request>
                                                <FormError error/>
                                                <input type="hidden" name="slug" value=slug.get_untracked()/>
                                                <Field label="Email" name="email" kind="email" autocomplete="email" error/>
                                                <TurnstileWidget/>
                                                <button type="submit" class="primary" disabled=move || request.pending().get()>"Email me a link"</button>
                                            </ActionForm>
                                        }
                                    >
                                        <p class="notice-ok" role="status">"A sign-in link is on its way. Open it on this device within 10 minutes."</p>
                                    </Show>
                                    <p>"No request yet? " <a href=format!("/p/{}/contact", brand.slug)>"Contact us"</a></p>
                                </section>
                            }.into_any(),
                            Some((name, email)) => view! { <SignedInHome home name email/> }.into_any(),
                        }
                    }
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignedInHome(home: PortalHomeView, name: String, email: String) -> impl IntoView {
    let PortalHomeView {
        brand,
        tickets,
        feedback,
        draft,
        limits,
        ..
    } = home;
    let slug = brand.slug.clone();
    let new_draft = draft.clone().filter(|d| d.form == "new").unwrap_or_default();
    let feedback_draft = draft.filter(|d| d.form == "feedback").unwrap_or_default();
    let kind = feedback_draft.value("kind");
    view! {
        <Title text=format!("{} support", brand.name)/>
        <BrandBar brand=brand.clone() signed_in=format!("{name} <{email}>")/>
        <section class="panel" aria-labelledby="requests-title">
            <h1 id="requests-title">"Your requests"</h1>
            {if tickets.is_empty() {
                view! { <p>"You have no requests yet."</p> }.into_any()
            } else {
                view! {
                    <table class="tickets">
                        <thead><tr><th scope="col">"#"</th><th scope="col">"Subject"</th><th scope="col">"Status"</th><th scope="col">"Updated"</th></tr></thead>
                        <tbody>
                            {tickets.into_iter().map(|t| view! {
                                <tr>
                                    <td>{t.number}</td>
                                    <td>
                                        <a href=format!("/p/{}/tickets/{}", slug, t.number)>{t.subject}</a>
                                        {t.requester.map(|r| view! { <span class="hint">" · from " {r}</span> })}
                                    </td>
                                    <td><span class=format!("badge status-{}", t.status)>{t.status.customer_label()}</span></td>
                                    <td>{t.updated}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section class="panel" aria-labelledby="new-title" id="new">
            <h2 id="new-title">"New request"</h2>
            <form method="post" enctype="multipart/form-data" action=format!("/p/{}/tickets", brand.slug)>
                {new_draft.error_for(None).map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                <DraftInput label="Subject" name="subject" draft=new_draft.clone()/>
                <TextArea label="Message" name="body" value=new_draft.value("body") error=new_draft.error_for(Some("body"))/>
                <div class="field">
                    <label for="portal-files">"Attachments"</label>
                    <p class="hint">{limits}</p>
                    <input id="portal-files" name="files" type="file" multiple/>
                </div>
                <button type="submit" class="primary">"Send request"</button>
            </form>
        </section>
        <section class="panel" aria-labelledby="feedback-title" id="feedback">
            <h2 id="feedback-title">"Report a bug or suggest a feature"</h2>
            <form method="post" enctype="multipart/form-data" action=format!("/p/{}/feedback", brand.slug)>
                {feedback_draft.error_for(None).map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                <FeedbackFields draft=feedback_draft.clone() kind prefix="portal-fb"/>
                <button type="submit">"Send feedback"</button>
            </form>
            {(!feedback.is_empty()).then(|| view! {
                <h3>"What you sent"</h3>
                <ul class="feedback-list">
                    {feedback.into_iter().map(|f| view! {
                        <li>
                            <span class="badge">{if f.kind == "bug" { "Bug" } else { "Feature" }}</span> " "
                            <strong>{f.title}</strong> " · " <span class=format!("badge feedback-{}", f.status)>{f.status.clone()}</span>
                            " · " {f.created}
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

/// The fields of a bug report or feature request, shared by the portal and the team's inbox.
#[component]
pub fn FeedbackFields(draft: PortalDraft, kind: String, prefix: &'static str) -> impl IntoView {
    let feature = kind == "feature";
    view! {
        <fieldset class="kind">
            <legend>"This is"</legend>
            <label><input type="radio" name="kind" value="bug" checked=!feature/> "a bug report"</label>
            <label><input type="radio" name="kind" value="feature" checked=feature/> "a feature request"</label>
        </fieldset>
        <DraftInput label="Title" name="title" draft=draft.clone() prefix/>
        <TextArea label="Description" name="description" value=draft.value("description") error=draft.error_for(Some("description")) prefix/>
        <div class="field">
            <label for=format!("{prefix}-screenshot")>"Screenshot (optional)"</label>
            <p class="hint">"PNG, JPEG, GIF or WebP, up to 5 MB."</p>
            <input id=format!("{prefix}-screenshot") name="screenshot" type="file" accept="image/png,image/jpeg,image/gif,image/webp"/>
            {draft.error_for(Some("screenshot")).map(|m| view! { <p class="field-error">{m}</p> })}
        </div>
    }
}

/// The confirm page of an emailed portal link: a GET shows it (mail scanners only GET), its button redeems.
#[component]
pub fn PortalSignInPage() -> impl IntoView {
    no_referrer();
    let slug = param("slug");
    let token = param("token");
    let redeem = ServerAction::<PortalRedeemLink>::new();
    let error = error_of(redeem.value());
    let check = Resource::new(
        move || (slug.get(), token.get()),
        |(slug, token)| portal_check_link(slug, token),
    );
    view! {
        <Title text="Sign in"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match check.await {
                    Ok(brand) => view! {
                        <BrandBar brand=brand.clone()/>
                        <section class="auth-card" aria-labelledby="confirm-title">
                            <h1 id="confirm-title">"Sign in to " {brand.name.clone()} " support"</h1>
                            <p>"Press the button to see your requests on this device."</p>
                            <ActionForm action=redeem>
                                <FormError error/>
                                <input type="hidden" name="slug" value=brand.slug.clone()/>
                                <input type="hidden" name="token" value=token.get_untracked()/>
                                <button type="submit" class="primary" disabled=move || redeem.pending().get()>"Sign in"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Err(AppError::NotFound) => view! { <crate::pages::NotFound/> }.into_any(),
                    Err(error) => view! {
                        <section class="auth-card">
                            <h1>"This link does not work any more"</h1>
                            <p class="form-error" role="alert">{error.to_string()}</p>
                            <p><a href=format!("/p/{}", slug.get_untracked())>"Ask for a new link"</a></p>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn PortalTicketPage() -> impl IntoView {
    let slug = param("slug");
    let number = param("number");
    let close = ServerAction::<PortalClose>::new();
    let close_error = error_of(close.value());
    let ticket = Resource::new(
        move || (slug.get(), number.get(), close.version().get()),
        |(slug, number, _)| async move {
            match number.parse::<i64>() {
                Ok(number) => portal_ticket(slug, number).await,
                Err(_) => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match ticket.await {
                    Ok(t) => view! { <PortalThread t close close_error/> }.into_any(),
                    Err(AppError::Unauthorized) => view! {
                        <section class="auth-card">
                            <h1>"Please sign in"</h1>
                            <p><a href=format!("/p/{}", slug.get_untracked())>"Sign in with your email address"</a> " to see this request."</p>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PortalThread(
    t: PortalTicketView,
    close: ServerAction<PortalClose>,
    close_error: Signal<Option<AppError>>,
) -> impl IntoView {
    let PortalTicketView {
        brand,
        number,
        subject,
        status,
        requester,
        messages,
        rating,
        draft,
        limits,
    } = t;
    let draft = draft.unwrap_or_default();
    let slug = brand.slug.clone();
    view! {
        <Title text=format!("#{number} {subject}")/>
        <BrandBar brand=brand.clone()/>
        <section class="panel" aria-labelledby="ticket-title">
            <p><a href=format!("/p/{slug}")>"← Your requests"</a></p>
            <h1 id="ticket-title">"#" {number} " " {subject.clone()}</h1>
            <p class="ticket-meta">
                <span class=format!("badge status-{status}")>{status.customer_label()}</span>
                " · from " {requester}
                {rating.map(|r| view! { " · you rated the help " <strong>{r}</strong> })}
            </p>
            <ol class="thread">
                {messages.into_iter().map(|m| {
                    if m.kind == vocab::MessageKind::Event {
                        return view! { <li class="event"><span inner_html=m.html.clone()></span> " · " {m.at.clone()}</li> }.into_any();
                    }
                    view! {
                        <li class="message reply" id=format!("m{}", m.id)>
                            <header><strong>{m.author.clone()}</strong> " · " {m.at.clone()}</header>
                            <div class="body" inner_html=m.html.clone()></div>
                            <AttachmentList files=m.attachments.clone()/>
                        </li>
                    }.into_any()
                }).collect_view()}
            </ol>
            <form class="composer" method="post" enctype="multipart/form-data" action=format!("/p/{slug}/tickets/{number}/reply") id="reply">
                <h2>"Answer"</h2>
                {draft.error_for(None).map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
                <TextArea label="Your message" name="body" value=draft.value("body") error=draft.error_for(Some("body"))/>
                <div class="field">
                    <label for="portal-reply-files">"Attachments"</label>
                    <p class="hint">{limits}</p>
                    <input id="portal-reply-files" name="files" type="file" multiple/>
                </div>
                <button type="submit" class="primary">"Send"</button>
            </form>
            {(status != vocab::Status::Closed).then(|| view! {
                <ActionForm action=close attr:class="close-form">
                    <FormError error=close_error/>
                    <input type="hidden" name="slug" value=slug.clone()/>
                    <input type="hidden" name="number" value=number/>
                    <button type="submit">"Close this request"</button>
                </ActionForm>
            })}
        </section>
    }
}

/// The public enquiry form of the portal.
#[component]
pub fn ContactPage() -> impl IntoView {
    view! { <Contact embed=false/> }
}

/// The enquiry form alone, for an iframe on the workspace's own site.
#[component]
pub fn EmbedContactPage() -> impl IntoView {
    view! { <Contact embed=true/> }
}

#[component]
fn Contact(embed: bool) -> impl IntoView {
    let slug = param("slug");
    let sent = query("sent");
    let action = ServerAction::<SubmitEnquiry>::new();
    let error = error_of(action.value());
    let brand = Resource::new(move || slug.get(), portal_brand);
    let kept = move |name: &'static str| error.get().and_then(|e| e.value(name)).unwrap_or_default();
    let message_error = move || error.get().and_then(|e| e.for_field("message"));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match brand.await {
                    Ok(brand) => view! {
                        <Title text=format!("Contact {}", brand.name)/>
                        {(!embed).then(|| view! { <BrandBar brand=brand.clone()/> })}
                        {embed.then(|| view! { <Link rel="stylesheet" href=format!("/p/{}/brand.css", brand.slug)/> })}
                        <section class=if embed { "auth-card embedded" } else { "auth-card" } aria-labelledby="contact-title">
                            <h1 id="contact-title">"Contact " {brand.name.clone()}</h1>
                            <Show
                                when=move || sent.get().is_some() || matches!(action.value().get(), Some(Ok(())))
                                fallback=move || view! {
                                    <p>"We answer by email. Fields marked * are required."</p>
                                    <ActionForm action>
                                        <FormError error/>
                                        <input type="hidden" name="slug" value=slug.get_untracked()/>
                                        {embed.then(|| view! { <input type="hidden" name="embed" value="1"/> })}
                                        <Field label="Name *" name="name" autocomplete="name" error/>
                                        <Field label="Email *" name="email" kind="email" autocomplete="email" error/>
                                        <Field label="Company" name="company" autocomplete="organization" required=false error/>
                                        <Field label="Phone" name="phone" kind="tel" autocomplete="tel" required=false error/>
                                        <div class="field">
                                            <label for="field-message">"Message *"</label>
                                            <textarea id="field-message" name="message" rows="8" required
                                                aria-invalid=move || message_error().is_some().then_some("true")
                                                aria-describedby=move || message_error().is_some().then_some("field-message-error")>{move || textarea_text(kept("message"))}</textarea>
                                            {move || message_error().map(|m| view! { <p class="field-error" id="field-message-error">{m}</p> })}
                                        </div>
                                        <TurnstileWidget/>
                                        <button type="submit" class="primary" disabled=move || action.pending().get()>"Send"</button>
                                    </ActionForm>
                                }
                            >
                                <p class="notice-ok" role="status">"Thank you. Your message is with us, and a confirmation is on its way to your inbox."</p>
                            </Show>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The page a rating link opens: good or bad, and a comment. Using it gives a new link (this page again)
/// that can change the rating until seven days after the request was solved.
#[component]
pub fn RatePage() -> impl IntoView {
    no_referrer();
    let slug = param("slug");
    let token = param("token");
    let chosen = query("r");
    let thanks = query("thanks");
    let action = ServerAction::<Rate>::new();
    let error = error_of(action.value());
    let page = Resource::new(
        move || (slug.get(), token.get()),
        |(slug, token)| rating_page(slug, token),
    );
    view! {
        <Title text="Rate our help"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => {
                        let current = chosen.get_untracked().or(page.rating.clone()).unwrap_or_default();
                        let comment = page.comment.clone();
                        view! {
                            <BrandBar brand=page.brand.clone()/>
                            <section class="auth-card" aria-labelledby="rate-title">
                                <h1 id="rate-title">"How did we do?"</h1>
                                {move || thanks.get().map(|_| view! {
                                    <p class="notice-ok" role="status">"Thank you for your rating. You can change it here until " {page.until.clone()} "."</p>
                                })}
                                <p>"Request #" {page.number} ": " {page.subject.clone()}</p>
                                <ActionForm action>
                                    <FormError error/>
                                    <input type="hidden" name="slug" value=page.brand.slug.clone()/>
                                    <input type="hidden" name="token" value=token.get_untracked()/>
                                    <fieldset class="rating-choice">
                                        <legend>"Your rating"</legend>
                                        <label><input type="radio" name="rating" value="good" required checked=current == "good"/> "👍 Good"</label>
                                        <label><input type="radio" name="rating" value="bad" checked=current == "bad"/> "👎 Bad"</label>
                                    </fieldset>
                                    {move || error.get().and_then(|e| e.for_field("rating")).map(|m| view! { <p class="field-error">{m}</p> })}
                                    <div class="field">
                                        <label for="rate-comment">"Comment (optional)"</label>
                                        <textarea id="rate-comment" name="comment" rows="4">{textarea_text(comment.clone())}</textarea>
                                        {move || error.get().and_then(|e| e.for_field("comment")).map(|m| view! { <p class="field-error">{m}</p> })}
                                    </div>
                                    <button type="submit" class="primary" disabled=move || action.pending().get()>"Save rating"</button>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                    Err(AppError::NotFound) => view! { <crate::pages::NotFound/> }.into_any(),
                    Err(error) => view! {
                        <section class="auth-card">
                            <h1>"This link does not work any more"</h1>
                            <p class="form-error" role="alert">{error.to_string()}</p>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
