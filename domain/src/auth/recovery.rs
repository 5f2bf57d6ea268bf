//! Signing in by emailed link, and resetting a forgotten password.
//!
//! Asking for a link or a reset answers the same whether or not the address has an account: the caller
//! shows one message ("check your email"). An unknown address gets a notice instead of a link ("there is
//! no active account for this address; sign up here"), which only its owner reads. Both cases write the
//! same rows (a token whose hash nobody knows, and one message), so they cost the same and time cannot
//! tell them apart. Links are built from the configured base URL, never from the request's Host header.

use super::{
    accounts::{self, Account},
    password::PasswordError,
    registration::escape_html,
    tokens::{self, Purpose, Subject},
};
use crate::{Error, Landlord, Result, mail};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

/// Mails a sign-in link if `email` has an active account, otherwise a "no active account" notice; the
/// same rows are written either way.
pub async fn request_magic_link(landlord: &Landlord, email: &str, base_url: &str, now: DateTime<Utc>) -> Result<()> {
    request(landlord, email, Purpose::MagicLink, base_url, "signin/link", now, |link, account| mail::Email::new(
account.email.clone(),
"Your Ferrodesk sign-in link",
format!("Sign in to Ferrodesk within 10 minutes: {link}\n\nIf you did not ask for this, ignore this message.\n"),
format!(
            "<p><a href=\"{}\">Sign in to Ferrodesk</a> within 10 minutes.</p><p>If you did not ask for this, ignore this message.</p>",
            escape_html(link)
        ),
))
    .await
}

/// Mails a password-reset link if `email` has an active account, otherwise a "no active account" notice;
/// the same rows are written either way.
pub async fn request_password_reset(
    landlord: &Landlord,
    email: &str,
    base_url: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    request(landlord, email, Purpose::PasswordReset, base_url, "password/reset", now, |link, account| mail::Email::new(
account.email.clone(),
"Reset your Ferrodesk password",
format!("Choose a new password within 10 minutes: {link}\n\nIf you did not ask for this, ignore this message; your password is unchanged.\n"),
format!(
            "<p><a href=\"{}\">Choose a new password</a> within 10 minutes.</p><p>If you did not ask for this, ignore this message; your password is unchanged.</p>",
            escape_html(link)
        ),
))
    .await
}

async fn request(
    landlord: &Landlord,
    email: &str,
    purpose: Purpose,
    base_url: &str,
    path: &str,
    now: DateTime<Utc>,
    message: impl FnOnce(&str, &Account) -> mail::Email,
) -> Result<()> {
    let email = accounts::normalize_email(email)?;
    let account = accounts::by_email(landlord, &email)
        .await
        .ok()
        .filter(|a| a.disabled_at.is_none());
    let base_url = base_url.trim_end_matches('/');
    let mut tx = landlord.db().begin().await?;
    let subject = Subject {
        account_id: account.as_ref().map(|a| a.id),
        ..Default::default()
    };
    let token = tokens::issue_link_in(&mut tx, purpose, subject, now).await?;
    let mail = match &account {
        Some(account) => message(&format!("{base_url}/{path}/{}", token.expose_secret()), account),
        None => no_account_notice(&email, base_url),
    };
    mail::queue(landlord, &mut tx, &mail, None, now).await?;
    tx.commit().await?;
    Ok(())
}

fn no_account_notice(email: &str, base_url: &str) -> mail::Email {
    let signup = format!("{base_url}/signup");
    mail::Email::new(
        email.to_owned(),
        "About your Ferrodesk request",
        format!(
            "Someone asked Ferrodesk for a sign-in or password link for this address, but no active account uses it.\n\nIf it was you, you can sign up at {signup}. Otherwise, ignore this message.\n"
        ),
        format!(
            "<p>Someone asked Ferrodesk for a sign-in or password link for this address, but no active account uses it.</p><p>If it was you, you can <a href=\"{}\">sign up</a>. Otherwise, ignore this message.</p>",
            escape_html(&signup)
        ),
    )
}

/// Redeems a sign-in link: the account it was for, if the link is live and the account active.
pub async fn redeem_magic_link(landlord: &Landlord, token: &str, now: DateTime<Utc>) -> Result<Account> {
    let redeemed = tokens::redeem_link(landlord, Purpose::MagicLink, token, now).await?;
    let account = accounts::by_id(landlord, redeemed.account_id.ok_or(Error::NotFound)?).await?;
    if account.disabled_at.is_some() {
        return Err(Error::NotFound);
    }
    Ok(account)
}

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("This link has expired or was already used. Ask for a new one.")]
    Invalid,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Other(#[from] Error),
}

/// Sets a new password with a reset link. The new password is checked before the link is used up, so a
/// refused password can be corrected with the same link. Returns the account (whose other sessions the
/// caller ends).
pub async fn reset_password(
    landlord: &Landlord,
    token: &str,
    new_password: &SecretString,
    now: DateTime<Utc>,
) -> Result<Account, ResetError> {
    let pending = tokens::peek_link(landlord, Purpose::PasswordReset, token, now)
        .await?
        .ok_or(ResetError::Invalid)?;
    let account = accounts::by_id(landlord, pending.account_id.ok_or(ResetError::Invalid)?).await?;
    let hash = accounts::new_password_hash(&account, new_password)
        .await
        .map_err(|error| match error {
            accounts::NewAccountError::Password(reason) => ResetError::Password(reason),
            accounts::NewAccountError::Other(other) => ResetError::Other(other),
        })?;
    let mut tx = landlord.db().begin().await.map_err(Error::from)?;
    match tokens::redeem_link_in(&mut tx, Purpose::PasswordReset, token, now).await {
        Err(Error::NotFound) => return Err(ResetError::Invalid),
        other => other?,
    };
    accounts::set_password_in(&mut tx, account.id, &hash, now).await?;
    tx.commit().await.map_err(Error::from)?;
    Ok(account)
}

/// Mails a 6-digit code for the second sign-in step; a new code voids the previous one.
pub async fn send_sign_in_code(landlord: &Landlord, account: &Account, now: DateTime<Utc>) -> Result<()> {
    let mut tx = landlord.db().begin().await?;
    let code = tokens::issue_code_in(landlord, &mut tx, Purpose::SignInCode, account.id, now).await?;
    let code = code.expose_secret();
    let message = mail::Email::new(
        account.email.clone(),
        format!("Your Ferrodesk sign-in code: {code}"),
        format!(
            "Your sign-in code is {code}. It works once, for 10 minutes.\n\nIf you did not try to sign in, change your password.\n"
        ),
        format!(
            "<p>Your sign-in code is <strong>{code}</strong>. It works once, for 10 minutes.</p><p>If you did not try to sign in, change your password.</p>"
        ),
    );
    mail::queue(landlord, &mut tx, &message, None, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a sign-in code for the account.
pub async fn check_sign_in_code(
    landlord: &Landlord,
    account_id: i64,
    code: &SecretString,
    now: DateTime<Utc>,
) -> Result<tokens::CodeCheck> {
    tokens::check_code(landlord, Purpose::SignInCode, account_id, code, now).await
}
