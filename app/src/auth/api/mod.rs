//! The server functions of accounts and sign-in. Each one that a stranger can call counts against the
//! client address's limit; the ones behind public forms check Turnstile; every failure is logged as an
//! event without the secret that was offered.

mod account;
mod links;
mod signin;
mod signup;

pub use account::*;
pub use links::*;
pub use signin::*;
pub use signup::*;

#[cfg(feature = "ssr")]
use crate::error::AppError;

/// The error for a refused code: wrong with `remaining` tries left, or no live code; `renew` says how to get
/// a new one ("Sign in again", "Ask").
#[cfg(feature = "ssr")]
fn code_refused(remaining: Option<i64>, renew: &str) -> AppError {
    let message = match remaining {
        Some(0) => format!("That code is not right, and it has now stopped working. {renew} for a new one."),
        Some(remaining) => format!("That code is not right. {remaining} tries left."),
        None => format!("This code has expired or was replaced. {renew} for a new one."),
    };
    AppError::field("code", message)
}

/// Pages whose address holds a token send no Referer, so a plain form post from them cannot be sent back
/// by Leptos: send it back to `path` with the error in the URL, as Leptos would.
#[cfg(feature = "ssr")]
pub(crate) fn back_with_error<S: leptos::server_fn::ServerFn>(path: &str, error: AppError) -> Result<(), AppError> {
    use leptos::server_fn::error::ServerFnUrlError;
    if crate::context::wants_html()
        && let Ok(url) = ServerFnUrlError::new(S::PATH, error.clone()).to_url(&format!("http://local{path}"))
    {
        let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
        crate::context::redirect(&format!("{}{query}", url.path()));
    }
    crate::context::fail(error)
}
