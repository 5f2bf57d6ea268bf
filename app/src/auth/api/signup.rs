//! Signing up an organization, and verifying the new account's address.

#[cfg(feature = "ssr")]
use super::code_refused;
use crate::error::AppError;
use leptos::prelude::*;

/// Signs up an organization: an account, a workspace with its own database, the owner membership, a welcome
/// email and a verification code. Signs the new owner in.
#[server(endpoint = "signup")]
pub async fn sign_up(
    name: String,
    email: String,
    organization: String,
    slug: String,
    password: String,
    turnstile: Option<String>,
) -> Result<(), AppError> {
    use crate::context::{begin, fail, internal, limit_ip, now, redirect, services};
    use domain::{
        auth::registration::{self, Registration, RegistrationError},
        slug::Slug,
    };
    let services = services()?;
    let slug = match slug.trim() {
        "" => Slug::suggest(&organization),
        typed => typed.to_owned(),
    };
    let keep = |error: AppError| {
        error.keeping(&[
            ("name", name.as_str()),
            ("email", email.as_str()),
            ("organization", organization.as_str()),
            ("slug", slug.as_str()),
        ])
    };
    limit_ip(&services, "signup")?;
    crate::context::turnstile(&services, turnstile.as_deref())
        .await
        .map_err(keep)?;
    let password = secrecy::SecretString::from(password);
    let registered = registration::register(
        &services.tenants,
        Registration {
            name: &name,
            email: &email,
            organization: &organization,
            slug: &slug,
            password: &password,
        },
        &services.base_url,
        now(),
    )
    .await;
    match registered {
        Ok(registered) => {
            tracing::info!(event = "signed_up", account = registered.account.id, workspace = %registered.workspace.id, "new organization");
            begin(&registered.account, "signup").await?;
            redirect(&format!("/w/{}", registered.workspace.slug));
            Ok(())
        }
        Err(RegistrationError::Field { field, message }) => fail(keep(AppError::field(field, message))),
        Err(RegistrationError::Other(other)) => fail(internal(other)),
    }
}

/// Checks the emailed code that verifies the account's address.
#[server(endpoint = "account/verify")]
pub async fn verify_email(code: String) -> Result<(), AppError> {
    use crate::context::{fail, limit_ip, now, require, reserve_failure, services};
    use domain::auth::tokens::CodeCheck;
    let services = services()?;
    limit_ip(&services, "verify_email")?;
    let current = require().await?;
    let slot = reserve_failure(&services, &format!("account-id:{}", current.account.id))?;
    let code = secrecy::SecretString::from(code);
    match domain::auth::registration::verify_email(services.landlord(), current.account.id, &code, now()).await? {
        CodeCheck::Accepted => {
            slot.succeeded(&services);
            tracing::info!(
                event = "email_verified",
                account = current.account.id,
                "address verified"
            );
            Ok(())
        }
        CodeCheck::Wrong { remaining } => {
            tracing::warn!(
                event = "verification_code_failed",
                account = current.account.id,
                remaining,
                "wrong verification code"
            );
            fail(code_refused(Some(remaining), "Ask"))
        }
        CodeCheck::NoCode => {
            slot.succeeded(&services);
            fail(code_refused(None, "Ask"))
        }
    }
}

/// Mails a new verification code.
#[server(endpoint = "account/verify/resend")]
pub async fn resend_verification() -> Result<(), AppError> {
    use crate::context::{fail, limit_ip, limit_mail, now, require, services};
    let services = services()?;
    limit_ip(&services, "verify_resend")?;
    let current = require().await?;
    if current.account.email_verified_at.is_some() {
        return fail(AppError::form("Your address is verified already."));
    }
    limit_mail(&services, &current.account.email)?;
    domain::auth::registration::resend_verification(services.landlord(), &current.account, now()).await?;
    crate::context::redirect("/account?resent=1");
    Ok(())
}
