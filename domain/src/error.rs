use crate::crypto::CryptoError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Invalid(String),
    #[error("not found")]
    NotFound,
    /// The actor's role does not allow this (HTTP 403).
    #[error("Your role in this workspace does not allow that.")]
    Forbidden,
    #[error("{0}")]
    Conflict(String),
    /// An upload over a size limit (HTTP 413).
    #[error("{0}")]
    TooLarge(String),
    /// Input to correct, about one named field of a form.
    #[error("{message}")]
    Field { field: &'static str, message: String },
    /// A cap is reached; try again after this many seconds (HTTP 429).
    #[error("limit reached; retry in {retry_after_secs} s")]
    Limited { retry_after_secs: u64 },
    #[error("the workspace is {0}")]
    Unavailable(&'static str),
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// This error as being about the input named `field` (bad input or a conflict becomes [`Error::Field`];
    /// anything else is unchanged), so a form can show it beside that input.
    pub fn on_field(self, field: &'static str) -> Error {
        match self {
            Error::Invalid(message) | Error::Conflict(message) => Error::Field { field, message },
            other => other,
        }
    }

    /// Maps a unique violation to a conflict with a message a person can act on.
    pub(crate) fn unique_or(error: sqlx::Error, message: impl FnOnce() -> String) -> Error {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict(message()),
            _ => Error::Database(error),
        }
    }
}
