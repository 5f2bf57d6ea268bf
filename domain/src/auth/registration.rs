//! Signing up an organization: a staff account, a workspace with its own database, the account as its
//! owner, a welcome email and a 6-digit code to verify the address.
//!
//! The workspace is created first (its database cannot join a landlord transaction); the account, the
//! membership, the code and both emails then commit in one landlord transaction. If that fails, the new
//! workspace is deleted again, so a failed sign-up leaves nothing behind.

use super::{
    accounts::{self, Account, NewAccountError, Role},
    tokens::{self, CodeCheck, Purpose},
};
use crate::{
    Error, Landlord, TenantRouter, Workspace,
    mail::{self, Email},
    slug::Slug,
};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

pub struct Registration<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub organization: &'a str,
    pub slug: &'a str,
    pub password: &'a SecretString,
}

#[derive(Debug)]
pub struct Registered {
    pub account: Account,
    pub workspace: Workspace,
}

/// A message for one field of the sign-up form, or a failure that is nobody's input.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error("{field}: {message}")]
    Field { field: &'static str, message: String },
    #[error(transparent)]
    Other(Error),
}

fn field(field: &'static str) -> impl FnOnce(Error) -> RegistrationError {
    move |error| match error {
        Error::Invalid(message) | Error::Conflict(message) => RegistrationError::Field { field, message },
        other => RegistrationError::Other(other),
    }
}

pub async fn register(
    router: &TenantRouter,
    input: Registration<'_>,
    base_url: &str,
    now: DateTime<Utc>,
) -> Result<Registered, RegistrationError> {
    let landlord = router.landlord();
    let slug = Slug::parse(input.slug).map_err(|message| RegistrationError::Field { field: "slug", message })?;
    let organization = crate::landlord::workspace_name(input.organization).map_err(field("organization"))?;
    let new = accounts::prepare(input.email, input.name, input.password, &[&organization, slug.as_str()])
        .await
        .map_err(|error| match error {
            NewAccountError::Password(reason) => RegistrationError::Field {
                field: "password",
                message: reason.to_string(),
            },
            NewAccountError::Other(Error::Invalid(message)) if message.contains("email") => RegistrationError::Field {
                field: "email",
                message,
            },
            NewAccountError::Other(other) => field("name")(other),
        })?;
    if accounts::by_email(landlord, &new.email).await.is_ok() {
        return Err(RegistrationError::Field {
            field: "email",
            message: "An account with this email exists already. Sign in to add a workspace.".into(),
        });
    }

    let workspace = router
        .create_workspace(slug.as_str(), &organization)
        .await
        .map_err(field("slug"))?;
    match finish(landlord, &new, &workspace, base_url, now).await {
        Ok(account) => Ok(Registered { account, workspace }),
        Err(error) => {
            if let Err(cleanup) = router.delete_workspace(workspace.id).await {
                tracing::error!(%cleanup, workspace = %workspace.id, "could not remove the workspace of a failed sign-up");
            }
            Err(field("email")(error))
        }
    }
}

async fn finish(
    landlord: &Landlord,
    new: &accounts::NewAccount,
    workspace: &Workspace,
    base_url: &str,
    now: DateTime<Utc>,
) -> Result<Account, Error> {
    let mut tx = landlord.db().begin().await?;
    let account = accounts::insert_in(&mut tx, new, now).await?;
    accounts::set_membership_in(&mut tx, account.id, workspace.id, Role::Owner).await?;
    let code = tokens::issue_code_in(landlord, &mut tx, Purpose::EmailVerification, account.id, now).await?;
    let url = format!("{}/w/{}", base_url.trim_end_matches('/'), workspace.slug);
    mail::queue(landlord, &mut tx, &welcome(&account, workspace, &url), None, now).await?;
    mail::queue(
        landlord,
        &mut tx,
        &verification(&account.email, code.expose_secret()),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(account)
}

/// Mails a new verification code (the previous one stops working).
pub async fn resend_verification(landlord: &Landlord, account: &Account, now: DateTime<Utc>) -> crate::Result<()> {
    let mut tx = landlord.db().begin().await?;
    let code = tokens::issue_code_in(landlord, &mut tx, Purpose::EmailVerification, account.id, now).await?;
    mail::queue(
        landlord,
        &mut tx,
        &verification(&account.email, code.expose_secret()),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Marks the address verified when the code is right.
pub async fn verify_email(
    landlord: &Landlord,
    account_id: i64,
    code: &SecretString,
    now: DateTime<Utc>,
) -> crate::Result<CodeCheck> {
    let check = tokens::check_code(landlord, Purpose::EmailVerification, account_id, code, now).await?;
    if check == CodeCheck::Accepted {
        accounts::mark_email_verified(landlord, account_id, now).await?;
    }
    Ok(check)
}

fn welcome(account: &Account, workspace: &Workspace, url: &str) -> Email {
    Email::new(
        account.email.clone(),
        format!("Welcome to Ferrodesk, {}", account.name),
        format!(
            "Hello {},\n\nyour workspace {} is ready at {url}\n\nEach organization on Ferrodesk has a database of its own.\n",
            account.name, workspace.name
        ),
        format!(
            "<p>Hello {},</p><p>your workspace <strong>{}</strong> is ready at <a href=\"{url}\">{url}</a>.</p>",
            escape_html(&account.name),
            escape_html(&workspace.name),
            url = escape_html(url)
        ),
    )
}

/// The message carrying an address-verification code.
pub(crate) fn verification(to: &str, code: &str) -> Email {
    Email::new(
        to.to_owned(),
        "Your Ferrodesk verification code",
        format!("Your code is {code}. It works once, for 10 minutes.\n"),
        format!("<p>Your code is <strong>{code}</strong>. It works once, for 10 minutes.</p>"),
    )
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    crate::workspace::markdown::escape(text)
}
