//! A workspace's team page (and the Settings area's, which manages it), and the page an invitation link opens.

use super::api::*;
use crate::{
    auth::pages::LoadError,
    error::AppError,
    forms::{Field, FormError, error_of},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

fn slug() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("slug").unwrap_or_default()))
}

const ROLES: [(&str, &str); 3] = [("agent", "Agent"), ("admin", "Admin"), ("owner", "Owner")];

/// The team page of the navigation.
#[component]
pub fn TeamPage() -> impl IntoView {
    view! { <Team/> }
}

/// The team: everyone's name, address and role. With `manage` (the Settings area's page), owners and admins
/// also invite people, change roles and remove members; anyone may leave.
#[component]
pub fn Team(#[prop(optional)] manage: bool) -> impl IntoView {
    let slug = slug();
    let invite = ServerAction::<Invite>::new();
    let change = ServerAction::<ChangeRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let invite_error = error_of(invite.value());
    let member_error = Signal::derive(move || {
        error_of(change.value())
            .get()
            .or_else(|| error_of(remove.value()).get())
    });
    let team = Resource::new(
        move || {
            (
                slug.get(),
                invite.version().get() + change.version().get() + remove.version().get(),
            )
        },
        |(slug, _)| team(slug),
    );
    let query = leptos_router::hooks::use_query_map();
    let invited = move || matches!(invite.value().get(), Some(Ok(()))) || query.with(|q| q.get("invited").is_some());
    view! {
        {(!manage).then(|| view! { <Title text="Team"/> })}
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match team.await {
                    Ok(view) => {
                        let TeamView { workspace, can_manage: manager, members } = view;
                        let can_manage = manager && manage;
                        let ws_slug = workspace.slug.clone();
                        view! {
                            <section class="panel" aria-labelledby="team-title">
                                {if manage {
                                    view! { <h2 id="team-title">"Members"</h2> }.into_any()
                                } else {
                                    view! { <h1 id="team-title">"Team"</h1> }.into_any()
                                }}
                                {(manager && !manage).then(|| view! {
                                    <p><a href=format!("/w/{ws_slug}/settings/team")>"Invite people and change roles in Settings"</a></p>
                                })}
                                {(manage && !manager).then(|| view! {
                                    <p class="hint">"Only owners and admins with a verified address can invite people and change roles."</p>
                                })}
                                <FormError error=member_error/>
                                <table class="members">
                                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                    <tbody>
                                        {members.into_iter().map(|m| {
                                            let slug_for_role = ws_slug.clone();
                                            let slug_for_remove = ws_slug.clone();
                                            view! {
                                                <tr>
                                                    <td>{m.name.clone()} {m.is_me.then_some(" (you)")}</td>
                                                    <td>{m.email.clone()}</td>
                                                    <td>
                                                        {if can_manage {
                                                            let current = m.role.clone();
                                                            view! {
                                                                <ActionForm action=change attr:class="inline">
                                                                    <input type="hidden" name="slug" value=slug_for_role.clone()/>
                                                                    <input type="hidden" name="account_id" value=m.account_id/>
                                                                    <label class="visually-hidden" for=format!("role-{}", m.account_id)>{format!("Role of {}", m.name)}</label>
                                                                    <select name="role" id=format!("role-{}", m.account_id)>
                                                                        {ROLES.iter().map(|(value, label)| view! {
                                                                            <option value=*value selected=current == *value>{*label}</option>
                                                                        }).collect_view()}
                                                                    </select>
                                                                    <button type="submit">"Change"</button>
                                                                </ActionForm>
                                                            }.into_any()
                                                        } else {
                                                            m.role.clone().into_any()
                                                        }}
                                                    </td>
                                                    <td>
                                                        {(can_manage || m.is_me).then(|| view! {
                                                            <ActionForm action=remove attr:class="inline">
                                                                <input type="hidden" name="slug" value=slug_for_remove.clone()/>
                                                                <input type="hidden" name="account_id" value=m.account_id/>
                                                                <button type="submit" class="danger">{if m.is_me { "Leave" } else { "Remove" }}</button>
                                                            </ActionForm>
                                                        })}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </section>
                            {if can_manage {
                                let slug_for_invite = ws_slug.clone();
                                view! {
                                    <section class="panel" aria-labelledby="invite-title">
                                        <h2 id="invite-title">"Invite a teammate"</h2>
                                        {move || invited().then(|| view! { <p class="notice-ok" role="status">"Invitation sent. The link works for 10 minutes."</p> })}
                                        <ActionForm action=invite>
                                            <FormError error=invite_error/>
                                            <input type="hidden" name="slug" value=slug_for_invite.clone()/>
                                            <Field label="Email" name="email" kind="email" autocomplete="off" error=invite_error/>
                                            <div class="field">
                                                <label for="field-role">"Role"</label>
                                                <select name="role" id="field-role">
                                                    {ROLES.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                                                </select>
                                            </div>
                                            <button type="submit" class="primary">"Send invitation"</button>
                                        </ActionForm>
                                    </section>
                                }.into_any()
                            } else {
                                ().into_any()
                            }}
                        }.into_any()
                    }
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The page an invitation link opens. Showing it never uses the link up; accepting is a POST.
#[component]
pub fn AcceptInvitationPage() -> impl IntoView {
    crate::auth::pages::no_referrer();
    let params = use_params_map();
    let token = Memo::new(move |_| params.with(|p| p.get("token").unwrap_or_default()));
    let accept = ServerAction::<AcceptInvitation>::new();
    let error = error_of(accept.value());
    let details = Resource::new(move || token.get(), invitation);
    view! {
        <Title text="Invitation"/>
        <section class="auth-card" aria-labelledby="invite-title">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match details.await {
                        Ok(invitation) => {
                            let InvitationView { workspace, email, role, signed_in_as, account_exists } = invitation;
                            let title = format!("Join {workspace}");
                            let form = match (&signed_in_as, account_exists) {
                                (Some(me), _) if *me != email => view! {
                                    <p class="form-error" role="alert">
                                        "You are signed in as " {me.clone()} ", but this invitation is for " {email.clone()}
                                        ". Sign out, then open the link again."
                                    </p>
                                }.into_any(),
                                (Some(_), _) => view! {
                                    <ActionForm action=accept>
                                        <FormError error/>
                                        <input type="hidden" name="token" value=token.get_untracked()/>
                                        <button type="submit" class="primary">"Join " {workspace.clone()}</button>
                                    </ActionForm>
                                }.into_any(),
                                (None, true) => view! {
                                    <p>"You have an account already. Sign in, then open the invitation link again."</p>
                                    <p><a class="button primary" href=format!("/signin?next=/invitations/{}", token.get_untracked())>"Sign in"</a></p>
                                }.into_any(),
                                (None, false) => view! {
                                    <ActionForm action=accept>
                                        <FormError error/>
                                        <input type="hidden" name="token" value=token.get_untracked()/>
                                        <p>"Create your account for " <strong>{email.clone()}</strong> "."</p>
                                        <Field label="Your name" name="name" autocomplete="name" error/>
                                        <Field label="Password" name="password" kind="password" autocomplete="new-password" hint="At least 8 characters. A few unrelated words make a strong password." error/>
                                        <button type="submit" class="primary">"Join " {workspace.clone()}</button>
                                    </ActionForm>
                                }.into_any(),
                            };
                            view! {
                                <h1 id="invite-title">{title}</h1>
                                <p>"You are invited as " <strong>{role}</strong> "."</p>
                                {form}
                            }.into_any()
                        }
                        Err(AppError::NotFound) => view! {
                            <h1 id="invite-title">"Invitation not valid"</h1>
                            <p>"This invitation has expired or was already used. Ask the person who invited you for a new one."</p>
                            <FormError error/>
                        }.into_any(),
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
