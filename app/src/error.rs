//! The one error type of every server function, shared by the server and the browser.
//!
//! A form error names its field, so the page shows it next to that input, and carries the values the person
//! typed (never passwords or codes), so a form posted without JavaScript comes back filled in: Leptos puts a
//! failed plain form post's error in the redirect URL and hands it to the page's action.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Input that needs correcting: `field` is the input's name, or `None` for the form as a whole.
    #[error("{message}")]
    Form {
        field: Option<String>,
        message: String,
        values: Vec<(String, String)>,
    },
    /// Too many attempts; answered with 429 and `Retry-After`.
    #[error("Too many attempts. Please wait {} and try again.", wait_text(*retry_after_secs))]
    Limited { retry_after_secs: u64 },
    #[error("Please sign in to continue.")]
    Unauthorized,
    #[error("Your role in this workspace does not allow that.")]
    Forbidden,
    #[error("There is nothing here, or you have no access to it.")]
    NotFound,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// An upload over a size limit (413), with the limit in words.
    #[error("{0}")]
    TooLarge(String),
    /// The request itself failed (network, bad arguments).
    #[error("{0}")]
    Request(String),
}

impl AppError {
    /// An error for one field.
    pub fn field(field: &str, message: impl Into<String>) -> AppError {
        AppError::Form {
            field: Some(field.to_owned()),
            message: message.into(),
            values: Vec::new(),
        }
    }

    /// An error for the form as a whole.
    pub fn form(message: impl Into<String>) -> AppError {
        AppError::Form {
            field: None,
            message: message.into(),
            values: Vec::new(),
        }
    }

    /// Adds what the person typed, for the form to show again.
    pub fn keeping(mut self, kept: &[(&str, &str)]) -> AppError {
        if let AppError::Form { values, .. } = &mut self {
            values.extend(kept.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        }
        self
    }

    /// The message for `field`, if this error is about it.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Form {
                field: Some(field),
                message,
                ..
            } if field == name => Some(message.clone()),
            _ => None,
        }
    }

    /// The message for the form as a whole: everything that is not about one field.
    pub fn for_form(&self) -> Option<String> {
        match self {
            AppError::Form { field: Some(_), .. } => None,
            other => Some(other.to_string()),
        }
    }

    /// A value the person typed, kept by the error.
    pub fn value(&self, name: &str) -> Option<String> {
        match self {
            AppError::Form { values, .. } => values.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            _ => None,
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The HTTP status a script client gets for this error (one map, for server functions and hand-written
    /// routes alike).
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Form { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Limited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Request(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// A domain error as the person sees it: bad input goes to the form (beside its field when the domain
/// names one), a refusal of the role is 403, what is missing 404, a cap 429; anything else is logged and
/// answered with the generic message. Inside a server function the response's status is set too
/// ([`crate::context::reject`]), so `?` on a domain result is all a server function writes.
#[cfg(feature = "ssr")]
impl From<domain::Error> for AppError {
    fn from(error: domain::Error) -> AppError {
        let error = match error {
            domain::Error::Invalid(message) | domain::Error::Conflict(message) => AppError::form(message),
            domain::Error::Forbidden => AppError::Forbidden,
            domain::Error::NotFound => AppError::NotFound,
            domain::Error::TooLarge(message) => AppError::TooLarge(message),
            domain::Error::Field { field, message } => AppError::field(field, message),
            domain::Error::Limited { retry_after_secs } => AppError::Limited { retry_after_secs },
            other => return crate::context::internal(other),
        };
        crate::context::reject(error)
    }
}

fn wait_text(secs: u64) -> String {
    match secs {
        0..=1 => "a second".into(),
        2..=90 => format!("{secs} seconds"),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::form("Some of the form is missing or malformed. Please fill it in again.")
            }
            ServerFnErrorErr::ServerError(_) | ServerFnErrorErr::MiddlewareError(_) => AppError::Internal,
            other => AppError::Request(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_belong_to_their_field_and_keep_values() {
        let error = AppError::field("email", "Enter a valid email address.").keeping(&[("email", "a@b")]);
        assert_eq!(
            error.for_field("email").as_deref(),
            Some("Enter a valid email address.")
        );
        assert_eq!(error.for_field("password"), None);
        assert_eq!(error.for_form(), None);
        assert_eq!(error.value("email").as_deref(), Some("a@b"));
    }

    #[test]
    fn the_wait_is_said_in_words() {
        assert_eq!(
            AppError::Limited { retry_after_secs: 600 }.to_string(),
            "Too many attempts. Please wait 10 minutes and try again."
        );
        assert_eq!(
            AppError::Limited { retry_after_secs: 30 }.to_string(),
            "Too many attempts. Please wait 30 seconds and try again."
        );
    }

    #[test]
    fn the_error_survives_the_url_round_trip() {
        let error = AppError::field("password", "Too short.").keeping(&[("email", "x@example.com")]);
        assert_eq!(AppError::de(error.ser()), error);
    }
}
