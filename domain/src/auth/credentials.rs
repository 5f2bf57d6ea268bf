//! Changing a signed-in person's password or email address. Both need the current password (a stolen
//! session alone cannot take the account over), and both tell the person by email, in the same transaction
//! as the change. A new address must be verified again; the old one is told where the account went.

use super::{
    accounts::{self, Account, AuthError},
    password::PasswordError,
    registration::escape_html,
    tokens::{self, Purpose},
};
use crate::{Error, Landlord, mail, on_tx};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("Your current password is not right.")]
    WrongPassword,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Other(#[from] Error),
}

async fn confirm(landlord: &Landlord, account: &Account, current: &SecretString) -> Result<(), ChangeError> {
    match accounts::authenticate(landlord, &account.email, current).await {
        Ok(confirmed) if confirmed.id == account.id => Ok(()),
        Ok(_) | Err(AuthError::InvalidCredentials) => Err(ChangeError::WrongPassword),
        Err(AuthError::Other(other)) => Err(other.into()),
    }
}

/// Sets a new password after checking the current one, and mails a notice.
pub async fn change_password(
    landlord: &Landlord,
    account: &Account,
    current: &SecretString,
    new: &SecretString,
    now: DateTime<Utc>,
) -> Result<(), ChangeError> {
    confirm(landlord, account, current).await?;
    let hash = accounts::new_password_hash(account, new)
        .await
        .map_err(|error| match error {
            accounts::NewAccountError::Password(reason) => ChangeError::Password(reason),
            accounts::NewAccountError::Other(other) => ChangeError::Other(other),
        })?;
    let mut tx = landlord.db().begin().await.map_err(Error::from)?;
    accounts::set_password_in(&mut tx, account.id, &hash, now).await?;
    let notice = mail::Email::new(
        account.email.clone(),
        "Your Ferrodesk password was changed",
        "The password of your Ferrodesk account was just changed, and your other sessions were signed out.\n\nIf this was not you, reset your password at once with \"Forgot your password?\" on the sign-in page.\n".to_owned(),
        "<p>The password of your Ferrodesk account was just changed, and your other sessions were signed out.</p><p>If this was not you, reset your password at once with “Forgot your password?” on the sign-in page.</p>".to_owned(),
    );
    mail::queue(landlord, &mut tx, &notice, None, now).await?;
    tx.commit().await.map_err(Error::from)?;
    Ok(())
}

/// Moves the account to a new address after checking the password: the new address must be verified with
/// a code sent there, and the old address is told.
pub async fn change_email(
    landlord: &Landlord,
    account: &Account,
    current: &SecretString,
    new_email: &str,
    now: DateTime<Utc>,
) -> Result<Account, ChangeError> {
    let new_email = accounts::normalize_email(new_email)?;
    if new_email == account.email {
        return Err(Error::Invalid("That is your address already.".into()).into());
    }
    confirm(landlord, account, current).await?;
    let mut tx = landlord.db().begin().await.map_err(Error::from)?;
    on_tx!(&mut tx, conn => sqlx::query(
        "update accounts set email = $2, email_verified_at = null, updated_at = $3 where id = $1",
    )
    .bind(account.id)
    .bind(&new_email)
    .bind(now)
    .execute(conn)
    .await
    .map(|done| done.rows_affected()))
    .map_err(|e| Error::unique_or(e, || "Another account uses this address.".into()))?;
    let code = tokens::issue_code_in(landlord, &mut tx, Purpose::EmailVerification, account.id, now).await?;
    let verify = super::registration::verification(&new_email, code.expose_secret());
    let notice = mail::Email::new(
        account.email.clone(),
        "The email address of your Ferrodesk account was changed",
        format!(
            "The email address of your Ferrodesk account was changed to {new_email}.\n\nIf this was not you, write to your workspace's owner at once.\n"
        ),
        format!(
            "<p>The email address of your Ferrodesk account was changed to {}.</p><p>If this was not you, write to your workspace's owner at once.</p>",
            escape_html(&new_email)
        ),
    );
    mail::queue(landlord, &mut tx, &verify, None, now).await?;
    mail::queue(landlord, &mut tx, &notice, None, now).await?;
    tx.commit().await.map_err(Error::from)?;
    Ok(accounts::by_id(landlord, account.id).await?)
}
