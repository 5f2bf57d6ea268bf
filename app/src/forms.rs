//! Form parts shared by every page: a labelled input with its error beside it, the form-wide error, and the
//! Turnstile widget. They read the error of the page's action, which exists with and without JavaScript
//! (without it, Leptos brings a failed post's error back in the URL).

use crate::error::AppError;
use leptos::prelude::*;

/// The last error of an action, if its last result was one.
pub fn error_of<T, S>(value: S) -> Signal<Option<AppError>>
where
    T: Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(Result::err))
}

/// A labelled input. Its error (if the last submission had one for it) is shown under it and announced to
/// screen readers; what was typed comes back after a failed plain post, except for secrets.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    error: Signal<Option<AppError>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(default = true)] required: bool,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(optional)] inputmode: Option<&'static str>,
    /// The element id, when one page has two inputs of the same name.
    #[prop(optional)]
    id: Option<&'static str>,
    /// Checked in the browser when the person leaves the input, by the rule and in the words the server
    /// uses (a `vocab` check such as `EmailAddress::check`), so the error shows before the form is sent.
    #[prop(optional)]
    check: Option<fn(&str) -> Option<&'static str>>,
) -> impl IntoView {
    let id = id.map(str::to_owned).unwrap_or_else(|| format!("field-{name}"));
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let secret = matches!(kind, "password") || name == "code";
    let checked = RwSignal::new(None::<&'static str>);
    let message = move || {
        checked
            .get()
            .map(str::to_owned)
            .or_else(|| error.get().and_then(|e| e.for_field(name)))
    };
    let kept = move || {
        if secret {
            None
        } else {
            error.get().and_then(|e| e.value(name)).or_else(|| value.clone())
        }
    };
    let described = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if message().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {hint.map(|hint| view! { <p class="hint" id=hint_id.clone()>{hint}</p> })}
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                inputmode=inputmode
                required=required
                value=kept
                aria-invalid=move || message().is_some().then_some("true")
                aria-describedby=described
                on:change=move |ev| {
                    if let Some(check) = check {
                        checked.set(check(&event_target_value(&ev)));
                    }
                }
            />
            {move || message().map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}

/// The error that is about the form as a whole (wrong password, too many attempts, …).
#[component]
pub fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|error| {
            // Turnstile's message has no input of its own to sit beside.
            let message = error.for_form().or_else(|| error.for_field("turnstile"));
            message.map(|m| view! { <p class="form-error" role="alert">{m}</p> })
        })
    }
}

/// Turnstile's site key: from the server's settings while rendering, from the page's `<meta>` in the browser.
pub fn turnstile_site_key() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        use_context::<crate::shell::SiteContext>().and_then(|site| site.turnstile_site_key)
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .query_selector("meta[name=turnstile-site-key]")
            .ok()
            .flatten()
            .and_then(|meta| meta.get_attribute("content"))
    }
}

/// Cloudflare's widget; its script (loaded by the page head when a site key is set) puts the token into the
/// form as `turnstile`. Nothing when Turnstile is off.
///
/// The script renders the widgets present when it loads. A form that appears later (a page reached by
/// client-side navigation) asks it to render its widget explicitly.
#[component]
pub fn TurnstileWidget() -> impl IntoView {
    let node = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(element) = node.get() {
            render_turnstile(&element);
        }
    });
    turnstile_site_key().map(|key| {
        view! { <div class="cf-turnstile" node_ref=node data-sitekey=key data-response-field-name="turnstile"></div> }
    })
}

/// Renders the widget in `element` if Turnstile's script has loaded (and so has scanned the page already)
/// and the element is still empty; otherwise the script's own scan will find it.
#[cfg(feature = "hydrate")]
fn render_turnstile(element: &leptos::web_sys::HtmlDivElement) {
    use leptos::wasm_bindgen::JsCast;
    if element.child_element_count() > 0 {
        return;
    }
    let Ok(turnstile) = js_sys::Reflect::get(&window(), &"turnstile".into()) else {
        return;
    };
    if turnstile.is_undefined() {
        return;
    }
    if let Ok(render) = js_sys::Reflect::get(&turnstile, &"render".into())
        && let Some(render) = render.dyn_ref::<js_sys::Function>()
    {
        let _ = render.call1(&turnstile, element);
    }
}

/// The text of a `<textarea>`. Leptos writes a textarea's children into the server's HTML unescaped (and
/// leaves them alone when hydrating), so on the server the text is escaped here; in the browser it becomes
/// a text node, which needs no escaping.
pub fn textarea_text(text: String) -> String {
    #[cfg(feature = "ssr")]
    {
        text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    }
    #[cfg(not(feature = "ssr"))]
    {
        text
    }
}

/// A button that copies `text` to the clipboard; `what` (" the portal address") completes its name for screen
/// readers. It appears once the page
/// has come alive in the browser: without JavaScript it could do nothing, and the text beside it can be
/// selected and copied by hand.
#[component]
pub fn CopyButton(text: String, what: &'static str) -> impl IntoView {
    let alive = RwSignal::new(false);
    let copied = RwSignal::new(false);
    Effect::new(move || alive.set(true));
    view! {
        <Show when=move || alive.get()>
            <button type="button" class="copy" on:click={
                let text = text.clone();
                move |_| {
                    copy(&text);
                    copied.set(true);
                }
            }>
                <span aria-live="polite">{move || if copied.get() { "Copied" } else { "Copy" }}</span>
                <span class="visually-hidden">{what}</span>
            </button>
        </Show>
    }
}

#[cfg(feature = "hydrate")]
fn copy(text: &str) {
    // The promise settles on its own; a refusal leaves the text to be copied by hand.
    let _ = window().navigator().clipboard().write_text(text);
}

#[cfg(not(feature = "hydrate"))]
fn copy(_text: &str) {}

/// A labelled read-only text (an address to share) with its copy button beside it.
#[component]
pub fn CopyField(label: &'static str, id: &'static str, text: String, what: &'static str) -> impl IntoView {
    view! {
        <div class="field copyable">
            <label for=id>{label}</label>
            <div class="copy-row">
                <input id=id type="url" readonly value=text.clone()/>
                <CopyButton text what/>
            </div>
        </div>
    }
}
