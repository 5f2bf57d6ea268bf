//! The wasm entry point: hydrates the server-rendered page.
#![forbid(unsafe_code)]
// The app's view types nest deeply; computing the hydrate future's layout needs more than the default 128.
#![recursion_limit = "256"]

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Routes load their code on demand (see `app::lazy_page!`), so hydration is asynchronous: it waits for
    // the current route's chunk.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let owner =
            leptos::mount::hydrate_from_async(leptos::prelude::document().body().expect("a <body>"), app::App).await;
        owner.forget();
        let Some(window) = web_sys::window() else {
            return;
        };
        // Lets the browser tests (and curious people) tell a hydrated page from a server-rendered one.
        if let Some(html) = window.document().and_then(|d| d.document_element()) {
            let _ = html.set_attribute("data-hydrated", "");
        }
        register_service_worker(&window);
    });
}

/// Service workers exist only in secure contexts (https or localhost); elsewhere the page simply works online.
fn register_service_worker(window: &web_sys::Window) {
    let navigator = window.navigator();
    let supported = js_sys::Reflect::has(&navigator, &JsValue::from_str("serviceWorker")).unwrap_or(false);
    if supported {
        // The promise settles in the background; a failure is reported in the console by the browser.
        let _ = navigator.service_worker().register("/sw.js");
    }
}
