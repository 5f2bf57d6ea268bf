//! The HTML document around the app, rendered only on the server.

use crate::App;
use http::{
    HeaderValue,
    header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY},
};
use leptos::{nonce::use_nonce, prelude::*};
use leptos_axum::ResponseOptions;
use leptos_meta::MetaTags;

/// What the server tells the pages about the site it serves.
#[derive(Clone, Debug)]
pub struct SiteContext {
    /// `true` when the public URL is https: cookies then carry `Secure`.
    pub secure_cookies: bool,
    /// The URL of the stylesheet, with the build's hash in its name when files are hashed.
    pub stylesheet: String,
    /// Turnstile's site key; `None` when Turnstile is off.
    pub turnstile_site_key: Option<String>,
}

/// Where Cloudflare serves the Turnstile widget from.
const TURNSTILE_ORIGIN: &str = "https://challenges.cloudflare.com";

/// The Content-Security-Policy of every rendered page. The only inline script is Leptos' hydration loader,
/// allowed by this response's nonce; the wasm module needs `'wasm-unsafe-eval'` to be compiled. With
/// Turnstile on, its script and frame may come from Cloudflare, and nothing else may.
pub fn page_csp(nonce: &str, turnstile: bool) -> String {
    let (script, frame) = if turnstile {
        (
            format!(" {TURNSTILE_ORIGIN}"),
            format!("frame-src {TURNSTILE_ORIGIN}; "),
        )
    } else {
        (String::new(), String::new())
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'{script}; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; {frame}\
         manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The document. Expects a [`SiteContext`] in context, as the server provides it to every render.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let site = use_context::<SiteContext>();
    let stylesheet = site.as_ref().map(|site| site.stylesheet.clone()).unwrap_or_default();
    let site_key = site.and_then(|site| site.turnstile_site_key);
    if let Some(response) = use_context::<ResponseOptions>() {
        if let Some(nonce) = use_nonce()
            && let Ok(csp) = HeaderValue::from_str(&page_csp(&nonce, site_key.is_some()))
        {
            response.insert_header(CONTENT_SECURITY_POLICY, csp);
        }
        // Pages reflect who is signed in and their choices; no shared cache may keep one.
        response.insert_header(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let theme = crate::theme::from_request();

    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme.attribute()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <meta name="theme-color" content="#1e40af"/>
                <meta name="description" content="Ferrodesk is a self-hostable help desk and issue tracker: every organization gets its own database."/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="apple-touch-icon" href="/icons/icon-192.png"/>
                <link rel="stylesheet" href=stylesheet/>
                {site_key.map(|key| view! {
                    <meta name="turnstile-site-key" content=key/>
                    <script src=format!("{TURNSTILE_ORIGIN}/turnstile/v0/api.js") async defer></script>
                })}
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}
