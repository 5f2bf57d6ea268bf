//! Sign-up, sign-in (password, emailed code, magic link), password reset and the account page. Every form
//! is an `ActionForm`: hydrated it calls its server function in place, without JavaScript it is a plain
//! POST that the server answers with a redirect (back to the form with the error, or onward).

use super::api::*;
use crate::{
    error::AppError,
    forms::{Field, FormError, TurnstileWidget, error_of},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{A, Redirect},
    hooks::{use_params_map, use_query_map},
};

/// Sets `Referrer-Policy: no-referrer` on a page whose address holds a token, so the token never leaves
/// in a Referer header.
pub(crate) fn no_referrer() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            http::header::REFERRER_POLICY,
            http::HeaderValue::from_static("no-referrer"),
        );
    }
}

fn query(name: &'static str) -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get(name)))
}

#[component]
pub fn SignUp() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = error_of(action.value());
    view! {
        <Title text="Sign up"/>
        <section class="auth-card" aria-labelledby="signup-title">
            <h1 id="signup-title">"Create your help desk"</h1>
            <p class="lead">"Your organization gets a workspace with a database of its own."</p>
            <ActionForm action>
                <FormError error/>
                <Field label="Your name" name="name" autocomplete="name" error/>
                <Field label="Work email" name="email" kind="email" autocomplete="email" error/>
                <Field label="Organization" name="organization" autocomplete="organization" error/>
                <Field
                    label="Workspace address (optional)"
                    name="slug"
                    required=false
                    hint="Lowercase letters, digits and hyphens, as in /w/acme. Left empty, it is made from the organization's name."
                    error
                />
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters. A few unrelated words make a strong password."
                    error
                />
                <TurnstileWidget/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Create workspace"</button>
            </ActionForm>
            <p>"Already have an account? " <A href="/signin">"Sign in"</A></p>
        </section>
    }
}

#[component]
pub fn SignIn() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = error_of(action.value());
    let next = query("next");
    let signed_out = query("signed_out");
    view! {
        <Title text="Sign in"/>
        <section class="auth-card" aria-labelledby="signin-title">
            <h1 id="signin-title">"Sign in"</h1>
            {move || signed_out.get().map(|_| view! { <p class="notice-ok" role="status">"You are signed out."</p> })}
            <ActionForm action>
                <FormError error/>
                <Field label="Email" name="email" kind="email" autocomplete="username" error/>
                <Field label="Password" name="password" kind="password" autocomplete="current-password" error/>
                {move || next.get().map(|next| view! { <input type="hidden" name="next" value=next/> })}
                <TurnstileWidget/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Sign in"</button>
            </ActionForm>
            <ul class="auth-links">
                <li><A href="/signin/link">"Email me a sign-in link instead"</A></li>
                <li><A href="/password/forgot">"Forgot your password?"</A></li>
                <li>"New here? " <A href="/signup">"Create a help desk"</A></li>
            </ul>
        </section>
    }
}

#[component]
pub fn SignInCode() -> impl IntoView {
    let action = ServerAction::<VerifySignInCode>::new();
    let error = error_of(action.value());
    view! {
        <Title text="Enter your code"/>
        <section class="auth-card" aria-labelledby="code-title">
            <h1 id="code-title">"Check your email"</h1>
            <p>"We sent a 6-digit code to your address. It works once, for 10 minutes."</p>
            <ActionForm action>
                <FormError error/>
                <Field label="Code" name="code" autocomplete="one-time-code" inputmode="numeric" error/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Sign in"</button>
            </ActionForm>
            <p><A href="/signin">"Start again"</A></p>
        </section>
    }
}

#[component]
pub fn MagicLink() -> impl IntoView {
    let action = ServerAction::<RequestMagicLink>::new();
    let error = error_of(action.value());
    let sent = query("sent");
    let expired = query("expired");
    let done = move || sent.get().is_some() || matches!(action.value().get(), Some(Ok(())));
    view! {
        <Title text="Sign in by email"/>
        <section class="auth-card" aria-labelledby="link-title">
            <h1 id="link-title">"Sign in with a link"</h1>
            {move || expired.get().map(|_| view! {
                <p class="form-error" role="alert">"That sign-in link has expired or was already used. Ask for a new one below."</p>
            })}
            <Show
                when=done
                fallback=move || view! {
                    <p>"We email you a link that signs you in. It works once, for 10 minutes."</p>
                    <ActionForm action>
                        <FormError error/>
                        <Field label="Email" name="email" kind="email" autocomplete="email" error/>
                        <TurnstileWidget/>
                        <button type="submit" class="primary" disabled=move || action.pending().get()>"Email me a link"</button>
                    </ActionForm>
                }
            >
                <p class="notice-ok" role="status">
                    "If that address has an account, a sign-in link is on its way. Open it on this device within 10 minutes."
                </p>
            </Show>
            <p><A href="/signin">"Sign in with a password"</A></p>
        </section>
    }
}

/// The page a sign-in link opens. A GET (which mail scanners make) only shows this; the button posts.
#[component]
pub fn MagicLinkConfirm() -> impl IntoView {
    no_referrer();
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let action = ServerAction::<RedeemMagicLink>::new();
    let error = error_of(action.value());
    view! {
        <Title text="Sign in"/>
        <section class="auth-card" aria-labelledby="confirm-title">
            <h1 id="confirm-title">"Sign in to Ferrodesk"</h1>
            <p>"Press the button to finish signing in on this device."</p>
            <ActionForm action>
                <FormError error/>
                <input type="hidden" name="token" value=token/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Sign in"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn ForgotPassword() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let error = error_of(action.value());
    let sent = query("sent");
    let done = move || sent.get().is_some() || matches!(action.value().get(), Some(Ok(())));
    view! {
        <Title text="Forgot password"/>
        <section class="auth-card" aria-labelledby="forgot-title">
            <h1 id="forgot-title">"Reset your password"</h1>
            <Show
                when=done
                fallback=move || view! {
                    <p>"We email you a link to choose a new password. It works once, for 10 minutes."</p>
                    <ActionForm action>
                        <FormError error/>
                        <Field label="Email" name="email" kind="email" autocomplete="email" error/>
                        <TurnstileWidget/>
                        <button type="submit" class="primary" disabled=move || action.pending().get()>"Email me a link"</button>
                    </ActionForm>
                }
            >
                <p class="notice-ok" role="status">"If that address has an account, a link to reset the password is on its way."</p>
            </Show>
            <p><A href="/signin">"Back to sign in"</A></p>
        </section>
    }
}

#[component]
pub fn ResetPassword() -> impl IntoView {
    no_referrer();
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let action = ServerAction::<ResetPassword>::new();
    let error = error_of(action.value());
    view! {
        <Title text="Choose a new password"/>
        <section class="auth-card" aria-labelledby="reset-title">
            <h1 id="reset-title">"Choose a new password"</h1>
            <p>"Saving it signs you out everywhere else."</p>
            <ActionForm action>
                <FormError error/>
                <input type="hidden" name="token" value=token/>
                <Field
                    label="New password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters. A few unrelated words make a strong password."
                    error
                />
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Save and sign in"</button>
            </ActionForm>
            <p><A href="/password/forgot">"Ask for a new link"</A></p>
        </section>
    }
}

/// Shown where a page needs a signed-in person and has none: off to the sign-in page, then back.
#[component]
pub fn SignInFirst() -> impl IntoView {
    let path = leptos_router::hooks::use_location().pathname.get_untracked();
    let next: String = path
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    view! { <Redirect path=format!("/signin?next={next}")/> }
}

/// Shows an error from loading a page's data; "not signed in" goes to the sign-in page.
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    match error {
        AppError::Unauthorized => view! { <SignInFirst/> }.into_any(),
        AppError::NotFound => view! { <crate::pages::NotFound/> }.into_any(),
        other => view! { <p class="form-error" role="alert">{other.to_string()}</p> }.into_any(),
    }
}

#[component]
pub fn Account() -> impl IntoView {
    let verify = ServerAction::<VerifyEmail>::new();
    let resend = ServerAction::<ResendVerification>::new();
    let revoke = ServerAction::<RevokeSession>::new();
    let everywhere = ServerAction::<SignOutEverywhere>::new();
    let verify_error = error_of(verify.value());
    let resend_error = error_of(resend.value());
    let revoke_error = error_of(revoke.value());
    let resent = query("resent");
    let password_changed = query("password_changed");
    let email_changed = query("email_changed");
    let change_password = ServerAction::<ChangePassword>::new();
    let change_email = ServerAction::<ChangeEmail>::new();
    let password_error = error_of(change_password.value());
    let email_error = error_of(change_email.value());
    let me = Resource::new(move || verify.version().get() + change_email.version().get(), |_| me());
    let sessions = Resource::new(move || revoke.version().get(), |_| my_sessions());
    view! {
        <Title text="Your account"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => view! {
                        <section class="panel" aria-labelledby="account-title">
                            <h1 id="account-title">"Your account"</h1>
                            <p>{me.name.clone()} " · " {me.email.clone()}</p>
                            {(!me.verified).then(|| view! {
                                <div class="banner" role="status">
                                    <p>"Verify your email address: enter the 6-digit code we sent you. Until then you cannot invite anyone."</p>
                                    <ActionForm action=verify>
                                        <FormError error=verify_error/>
                                        <Field label="Verification code" name="code" autocomplete="one-time-code" inputmode="numeric" error=verify_error/>
                                        <button type="submit" class="primary">"Verify"</button>
                                    </ActionForm>
                                    <ActionForm action=resend>
                                        <FormError error=resend_error/>
                                        <button type="submit">"Send a new code"</button>
                                    </ActionForm>
                                    {move || (matches!(resend.value().get(), Some(Ok(()))) || resent.get().is_some()).then(|| view! { <p role="status">"A new code is on its way."</p> })}
                                </div>
                            })}
                            {move || matches!(verify.value().get(), Some(Ok(()))).then(|| view! {
                                <p class="notice-ok" role="status">"Your address is verified. You can invite your team now."</p>
                            })}
                            <h2>"Your workspaces"</h2>
                            {if me.workspaces.is_empty() {
                                view! { <p>"You are not a member of any workspace yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="workspace-list">
                                        {me.workspaces.into_iter().map(|w| view! {
                                            <li>
                                                <a href=format!("/w/{}", w.slug)>{w.name.clone()}</a> " · " {w.role} " · "
                                                <a href=format!("/w/{}/tickets?status=unsolved", w.slug)>"Tickets" <span class="visually-hidden">" of " {w.name}</span></a>
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </section>
                    }.into_any(),
                    Ok(None) => view! { <SignInFirst/> }.into_any(),
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Suspense>
        <section class="panel" aria-labelledby="password-title">
            <h2 id="password-title">"Change your password"</h2>
            {move || {
                (password_changed.get().is_some() || matches!(change_password.value().get(), Some(Ok(()))))
                    .then(|| view! { <p class="notice-ok" role="status">"Your password is changed. Your other sessions were signed out."</p> })
            }}
            <ActionForm action=change_password>
                <FormError error=password_error/>
                <Field label="Current password" name="current" kind="password" autocomplete="current-password" error=password_error/>
                <Field label="New password" name="password" kind="password" autocomplete="new-password" hint="At least 8 characters. A few unrelated words make a strong password." error=password_error/>
                <button type="submit">"Change password"</button>
            </ActionForm>
        </section>
        <section class="panel" aria-labelledby="email-title">
            <h2 id="email-title">"Change your email address"</h2>
            {move || {
                (email_changed.get().is_some() || matches!(change_email.value().get(), Some(Ok(()))))
                    .then(|| view! { <p class="notice-ok" role="status">"Your address is changed. Enter the code we sent to it to verify it."</p> })
            }}
            <ActionForm action=change_email>
                <FormError error=email_error/>
                <Field label="New email address" name="email" kind="email" autocomplete="email" error=email_error/>
                <Field label="Current password" name="current" id="field-email-current" kind="password" autocomplete="current-password" error=email_error/>
                <button type="submit">"Change email address"</button>
            </ActionForm>
        </section>
        <section class="panel" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Where you are signed in"</h2>
            <FormError error=revoke_error/>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => view! {
                            <table class="sessions">
                                <thead><tr><th scope="col">"Device"</th><th scope="col">"Address"</th><th scope="col">"Signed in"</th><th scope="col">"Last seen"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|s| view! {
                                        <tr>
                                            <td>{s.device.clone()} {s.current.then(|| view! { <strong>" (this device)"</strong> })}</td>
                                            <td>{s.ip.clone().unwrap_or_else(|| "unknown".into())}</td>
                                            <td>{s.started.clone()}</td>
                                            <td>{s.last_seen.clone()}</td>
                                            <td>
                                                {(!s.current).then(|| view! {
                                                    <ActionForm action=revoke>
                                                        <input type="hidden" name="id" value=s.id.clone()/>
                                                        <button type="submit">"Sign out"</button>
                                                    </ActionForm>
                                                })}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(_) => ().into_any(),
                    }
                })}
            </Suspense>
            <ActionForm action=everywhere>
                <button type="submit">"Sign out everywhere"</button>
            </ActionForm>
        </section>
    }
}
