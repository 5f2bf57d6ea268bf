//! Keyboard shortcuts: the list of a page's keys (`?` shows it), and in the browser the handler that
//! follows them.

use leptos::prelude::*;

/// The keyboard shortcuts of a page, listed in a disclosure that `?` opens (and that works as a plain
/// disclosure without JavaScript). A key clicks or focuses the element marked `data-key="<key>"`; on the
/// list, `j`/`k` move between tickets and `x` selects the focused one.
#[component]
pub(super) fn Shortcuts(keys: &'static [(&'static str, &'static str)]) -> impl IntoView {
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
