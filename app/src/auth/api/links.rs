//! Emailed links: a sign-in link and a password-reset link, asked for and redeemed.

#[cfg(feature = "ssr")]
use super::back_with_error;
use crate::error::AppError;
use leptos::prelude::*;

/// Emails a sign-in link. The answer is the same whether or not the address has an account.
#[server(endpoint = "signin/link")]
pub async fn request_magic_link(email: String, turnstile: Option<String>) -> Result<(), AppError> {
    request_link(LinkKind::SignIn, &email, turnstile.as_deref()).await
}

#[cfg(feature = "ssr")]
enum LinkKind {
    SignIn,
    PasswordReset,
}

/// A request for a sign-in or reset link: limits, Turnstile, the address checked, the message queued, and
/// the same answer whether or not the address has an account.
#[cfg(feature = "ssr")]
async fn request_link(kind: LinkKind, email: &str, turnstile: Option<&str>) -> Result<(), AppError> {
    use crate::context::{fail, limit_ip, limit_mail, now, redirect, services};
    use domain::auth::recovery;
    let services = services()?;
    let keep = |error: AppError| error.keeping(&[("email", email)]);
    let (endpoint, back) = match kind {
        LinkKind::SignIn => ("magic_link", "/signin/link?sent=1"),
        LinkKind::PasswordReset => ("password_reset", "/password/forgot?sent=1"),
    };
    limit_ip(&services, endpoint)?;
    crate::context::turnstile(&services, turnstile).await.map_err(keep)?;
    if let Err(error) = domain::auth::accounts::normalize_email(email) {
        return fail(keep(AppError::field("email", error.to_string())));
    }
    limit_mail(&services, email).map_err(keep)?;
    let (landlord, base_url) = (services.landlord(), services.base_url.as_str());
    match kind {
        LinkKind::SignIn => recovery::request_magic_link(landlord, email, base_url, now()).await,
        LinkKind::PasswordReset => recovery::request_password_reset(landlord, email, base_url, now()).await,
    }?;
    tracing::info!(event = "link_requested", kind = endpoint, typed = %crate::context::typed_hash(&services, email), "link requested");
    redirect(back);
    Ok(())
}

/// Uses a sign-in link: only this POST, from the confirm page, redeems it (mail scanners only GET).
#[server(endpoint = "signin/link/redeem")]
pub async fn redeem_magic_link(token: String) -> Result<(), AppError> {
    use crate::context::{begin, fail, landing, limit_ip, now, redirect, services};
    let services = services()?;
    limit_ip(&services, "magic_link_redeem")?;
    match domain::auth::recovery::redeem_magic_link(services.landlord(), token.trim(), now()).await {
        Ok(account) => {
            begin(&account, "magic_link").await?;
            redirect(&landing(&account, None).await?);
            Ok(())
        }
        Err(domain::Error::NotFound) => {
            tracing::warn!(event = "magic_link_failed", "expired, used or unknown sign-in link");
            redirect("/signin/link?expired=1");
            fail(AppError::form(
                "This sign-in link has expired or was already used. Ask for a new one.",
            ))
        }
        Err(other) => fail(AppError::from(other)),
    }
}

/// Emails a password-reset link. The answer is the same whether or not the address has an account.
#[server(endpoint = "password/forgot")]
pub async fn request_password_reset(email: String, turnstile: Option<String>) -> Result<(), AppError> {
    request_link(LinkKind::PasswordReset, &email, turnstile.as_deref()).await
}

/// Sets a new password with a reset link, ends every other session of the account, and signs in here.
#[server(endpoint = "password/reset")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    use crate::context::{begin, fail, landing, limit_ip, now, redirect, services};
    use domain::auth::{recovery::ResetError, sign_ins};
    let services = services()?;
    limit_ip(&services, "password_reset_redeem")?;
    let token = token.trim().to_owned();
    let password = secrecy::SecretString::from(password);
    match domain::auth::recovery::reset_password(services.landlord(), &token, &password, now()).await {
        Ok(account) => {
            let ended = sign_ins::end_all(services.landlord(), account.id, None).await?;
            tracing::info!(
                event = "password_reset",
                account = account.id,
                sessions_ended = ended,
                "password reset by link"
            );
            begin(&account, "password_reset").await?;
            redirect(&landing(&account, None).await?);
            Ok(())
        }
        Err(ResetError::Password(reason)) => back_with_error::<ResetPassword>(
            &format!("/password/reset/{token}"),
            AppError::field("password", reason.to_string()),
        ),
        Err(ResetError::Invalid) => back_with_error::<ResetPassword>(
            &format!("/password/reset/{token}"),
            AppError::form(ResetError::Invalid.to_string()),
        ),
        Err(ResetError::Other(other)) => fail(AppError::from(other)),
    }
}
