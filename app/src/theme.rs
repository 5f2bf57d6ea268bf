//! Light, dark, or whatever the system says.
//!
//! The choice lives in a cookie that the server reads before it renders, so the first byte of HTML already
//! carries `data-theme` and the page never paints in the wrong colours, with or without JavaScript. "System"
//! is the absence of the cookie: CSS then follows `prefers-color-scheme`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The cookie that remembers an explicit choice.
pub const THEME_COOKIE: &str = "ferrodesk-theme";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "System",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }

    /// The value of `<html data-theme>`; none for "System", so the media query decides.
    pub fn attribute(self) -> Option<&'static str> {
        match self {
            Theme::System => None,
            other => Some(other.as_str()),
        }
    }

    /// A cookie or attribute value; anything unknown counts as "System".
    pub fn parse(value: &str) -> Theme {
        match value {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::System,
        }
    }

    /// Reads the theme from a `Cookie` header value.
    pub fn from_cookie_header(header: &str) -> Theme {
        header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == THEME_COOKIE)
            .map(|(_, value)| Theme::parse(value))
            .unwrap_or_default()
    }
}

/// Remembers the visitor's theme. Answers with a `Set-Cookie`; a plain form post is redirected back to the
/// page it came from, so the switch works without JavaScript.
#[server(endpoint = "theme")]
pub async fn set_theme(theme: Theme) -> Result<Theme, ServerFnError> {
    use crate::shell::SiteContext;
    use http::{HeaderValue, header::SET_COOKIE};

    let site = expect_context::<SiteContext>();
    let secure = if site.secure_cookies { "; Secure" } else { "" };
    let cookie = match theme.attribute() {
        Some(value) => {
            format!("{THEME_COOKIE}={value}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{secure}")
        }
        None => format!("{THEME_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly{secure}"),
    };
    let cookie = HeaderValue::from_str(&cookie).map_err(ServerFnError::new)?;
    expect_context::<leptos_axum::ResponseOptions>().append_header(SET_COOKIE, cookie);
    Ok(theme)
}

/// The theme asked for by the request being rendered.
#[cfg(feature = "ssr")]
pub fn from_request() -> Theme {
    use_context::<http::request::Parts>()
        .and_then(|parts| {
            let header = parts.headers.get(http::header::COOKIE)?;
            Some(Theme::from_cookie_header(header.to_str().ok()?))
        })
        .unwrap_or_default()
}

/// The theme the page was rendered with: from the request on the server, from `<html>` in the browser.
fn rendered_theme() -> Theme {
    #[cfg(feature = "ssr")]
    {
        from_request()
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .document_element()
            .and_then(|html| html.get_attribute("data-theme"))
            .map(|value| Theme::parse(&value))
            .unwrap_or_default()
    }
}

/// Shows the choice at once, before the server has answered.
#[cfg(not(feature = "ssr"))]
fn apply(theme: Theme) {
    if let Some(html) = document().document_element() {
        let _ = match theme.attribute() {
            Some(value) => html.set_attribute("data-theme", value),
            None => html.remove_attribute("data-theme"),
        };
    }
}

/// Three buttons in one form. Hydrated, the click applies the theme immediately and the server function
/// stores it; without JavaScript the same form posts and the page comes back in the new theme.
#[component]
pub fn ThemeSwitch() -> impl IntoView {
    let action = ServerAction::<SetTheme>::new();
    let current = RwSignal::new(rendered_theme());

    Effect::new(move |_| {
        if let Some(SetTheme { theme }) = action.input().get() {
            #[cfg(not(feature = "ssr"))]
            apply(theme);
            current.set(theme);
        }
    });

    view! {
        <ActionForm action attr:class="theme-switch">
            <fieldset>
                <legend class="visually-hidden">"Colour theme"</legend>
                {Theme::ALL
                    .into_iter()
                    .map(|theme| {
                        view! {
                            <button
                                type="submit"
                                name="theme"
                                value=theme.as_str()
                                aria-pressed=move || (current.get() == theme).to_string()
                            >
                                {theme.label()}
                            </button>
                        }
                    })
                    .collect_view()}
            </fieldset>
        </ActionForm>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_choice_is_read_back_from_the_cookie_header() {
        assert_eq!(Theme::from_cookie_header("a=1; ferrodesk-theme=dark; b=2"), Theme::Dark);
        assert_eq!(Theme::from_cookie_header("ferrodesk-theme=light"), Theme::Light);
    }

    #[test]
    fn a_missing_or_unknown_cookie_means_system() {
        assert_eq!(Theme::from_cookie_header(""), Theme::System);
        assert_eq!(Theme::from_cookie_header("ferrodesk-theme=purple"), Theme::System);
        assert_eq!(Theme::from_cookie_header("other-ferrodesk-theme=dark"), Theme::System);
    }

    #[test]
    fn system_sets_no_attribute_so_the_media_query_decides() {
        assert_eq!(Theme::System.attribute(), None);
        assert_eq!(Theme::Dark.attribute(), Some("dark"));
    }
}
